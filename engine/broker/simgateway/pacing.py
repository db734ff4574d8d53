"""IBKR pacing rules as the gateway enforces them.

* Messages: at most 50 client messages per second (error 100, then the gateway drops the
  connection). Enforced as a token bucket of capacity ``limit`` refilled at ``limit`` per second:
  the same sustained rate as a one-second window, but tolerant of arrival jitter, so a client that
  throttles itself to 45/s in bursts (``ib_async``) is never tripped by scheduling noise while a
  burst of 51+ messages is.
* Historical data (error 162): an identical request within 15 s; six or more requests for the same
  contract, exchange and tick type within 2 s; more than 60 requests in any 10 minutes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


class MessagePacer:
    """Token bucket over client messages. ``limit=None`` disables enforcement."""

    def __init__(self, limit: float | None = 50.0, now: float = 0.0) -> None:
        self.limit = limit
        self._tokens = float(limit or 0.0)
        self._last = now
        self.messages = 0
        self.violations = 0
        self.peak_rate = 0.0
        self._recent: deque[float] = deque()

    def record(self, now: float) -> bool:
        """Count one message at ``now`` (seconds); False when it breaks the limit."""
        self.messages += 1
        recent = self._recent
        recent.append(now)
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        self.peak_rate = max(self.peak_rate, float(len(recent)))
        if self.limit is None:
            return True
        elapsed = max(0.0, now - self._last)
        self._last = now
        self._tokens = min(self.limit, self._tokens + elapsed * self.limit)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        self.violations += 1
        return False

    @property
    def rate_last_second(self) -> int:
        return len(self._recent)


@dataclass(frozen=True)
class HistoricalKey:
    contract: str
    exchange: str
    what_to_show: str
    end: str
    bar_size: str
    duration: str


class HistoricalPacer:
    """IBKR's historical-data pacing rules; ``check`` returns a violation message or None."""

    def __init__(
        self,
        identical_window: float = 15.0,
        burst_count: int = 6,
        burst_window: float = 2.0,
        max_requests: int = 60,
        long_window: float = 600.0,
    ) -> None:
        self.identical_window = identical_window
        self.burst_count = burst_count
        self.burst_window = burst_window
        self.max_requests = max_requests
        self.long_window = long_window
        self._history: deque[tuple[float, HistoricalKey]] = deque()
        self.violations = 0

    def check(self, key: HistoricalKey, now: float) -> str | None:
        """Record a request; return why it breaks pacing (→ error 162), else None."""
        hist = self._history
        while hist and hist[0][0] <= now - self.long_window:
            hist.popleft()
        reason: str | None = None
        if any(k == key and now - t < self.identical_window for t, k in hist):
            reason = f"identical request within {self.identical_window:g} seconds"
        else:
            same = sum(
                1
                for t, k in hist
                if now - t < self.burst_window
                and (k.contract, k.exchange, k.what_to_show)
                == (key.contract, key.exchange, key.what_to_show)
            )
            if same + 1 >= self.burst_count:
                reason = (
                    f"{same + 1} requests for the same contract, exchange and tick type within "
                    f"{self.burst_window:g} seconds"
                )
            elif len(hist) + 1 > self.max_requests:
                reason = f"more than {self.max_requests} requests within {self.long_window:g} s"
        hist.append((now, key))
        if reason is not None:
            self.violations += 1
        return reason
