"""Online cost learning: realised slippage against the decision price → the turnover penalty.

Each fill contributes its slippage ``s = side × (fill − decision) / decision`` (positive = paid
more than the price the strategy decided on). The estimate is an exponentially weighted mean
with weight ``alpha`` per fill, started at the configured prior (half spread + a nominal impact),
so a handful of fills cannot swing it. The strategy plane receives it as the QP's turnover
penalty: the objective prices returns as ``λ·10⁴·μ`` (μ in basis points, see
:mod:`engine.portfolio.qp`), so a one-way cost ``c`` (a fraction of the traded notional) is
``κ = λ·10⁴·c`` per unit of turnover in the same units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from engine.portfolio.qp import MU_SCALE_BPS


@dataclass
class CostLearner:
    """EWMA of realised one-way cost (fraction of notional) and the implied turnover penalty."""

    prior: float
    lambda_: float
    alpha: float = 0.05
    estimate: float = field(init=False)
    fills: int = 0
    last_slippage: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1:
            raise ValueError(f"cost learning weight alpha must be in (0, 1], got {self.alpha}")
        self.estimate = max(0.0, float(self.prior))

    def observe(self, side: str, fill_price: float, decision_price: float | None) -> float | None:
        """Add one fill; returns its slippage (fraction), or ``None`` when it cannot be measured."""
        if decision_price is None or decision_price <= 0 or fill_price <= 0:
            return None
        sign = 1.0 if side == "BUY" else -1.0
        slip = sign * (fill_price - decision_price) / decision_price
        if not math.isfinite(slip):
            return None
        self.fills += 1
        self.last_slippage = slip
        self.estimate = (1 - self.alpha) * self.estimate + self.alpha * slip
        return slip

    @property
    def cost_fraction(self) -> float:
        """The one-way cost the strategy should assume (never negative)."""
        return max(0.0, self.estimate)

    @property
    def turnover_penalty(self) -> float:
        """κ for the QP: ``λ · 10⁴ · cost``."""
        return self.lambda_ * MU_SCALE_BPS * self.cost_fraction
