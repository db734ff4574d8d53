"""Small shared state between the planes of one process (the bus carries the contract messages).

* :class:`HaltState` — set by the order plane's kill-switch monitor; the strategy plane stops
  producing intents and the order plane refuses them.
* :class:`CostFeedback` — the order plane's latest cost estimate, read by the strategy plane as
  its turnover penalty before each decision. (On a multi-process deployment this becomes a
  compacted topic; in one process it is a value.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class HaltState:
    reason: str | None = None
    action: str | None = None
    wall_at: datetime | None = None

    def set(self, reason: str, action: str) -> None:
        if self.reason is None:
            self.reason, self.action = reason, action
            self.wall_at = datetime.now(UTC)

    @property
    def halted(self) -> bool:
        return self.reason is not None


@dataclass
class CostFeedback:
    turnover_penalty: float = 0.0
    cost_fraction: float = 0.0
    updates: int = 0

    def publish(self, turnover_penalty: float, cost_fraction: float) -> None:
        self.turnover_penalty = turnover_penalty
        self.cost_fraction = cost_fraction
        self.updates += 1
