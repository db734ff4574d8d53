"""IBKR-like commissions for US stocks (IBKR Pro, Tiered and Fixed).

Source: Interactive Brokers, "Commissions — Stocks, ETFs and Warrants — North America"
(interactivebrokers.com/en/pricing/commissions-stocks.php), IBKR Pro, as published in 2024:

Tiered, USD per share by month-to-date traded volume (shares):

==========================  ===========
monthly volume              per share
==========================  ===========
≤ 300,000                   0.0035
300,001 – 3,000,000         0.0020
3,000,001 – 20,000,000      0.0015
20,000,001 – 100,000,000    0.0010
> 100,000,000               0.0005
==========================  ===========

Minimum per order USD 0.35, maximum per order 1.0 % of trade value (the maximum wins over the
minimum on tiny orders). On top of the IBKR commission, Tiered passes through third-party fees;
we model the ones that do not depend on the venue:

* clearing (NSCC/DTC): USD 0.00020 per share;
* FINRA Trading Activity Fee on sales: USD 0.000166 per share sold, at most USD 8.30 per trade;
* SEC transaction fee on sales: USD 27.80 per USD 1,000,000 of sale proceeds (fiscal 2024 rate).

Exchange fees depend on the venue and on adding/removing liquidity (for example about USD 0.003
per share removed on NYSE); they are a parameter, off by default.

Fixed: USD 0.005 per share, minimum USD 1.00, maximum 1.0 % of trade value, exchange and clearing
fees included; the SEC and FINRA transaction fees are still passed through.

The per-order minimum and maximum apply to the whole order, so a partially filled order is charged
incrementally: the commission of an execution is ``order_commission(after) − order_commission(before)``
plus the per-share fees of that execution. All amounts are USD, positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Side = Literal["BUY", "SELL"]

#: (upper bound of month-to-date shares, USD per share); the last bound is open-ended.
IBKR_PRO_TIERS: tuple[tuple[float, float], ...] = (
    (300_000, 0.0035),
    (3_000_000, 0.0020),
    (20_000_000, 0.0015),
    (100_000_000, 0.0010),
    (float("inf"), 0.0005),
)


@dataclass(frozen=True)
class CommissionSchedule:
    """Parameters of the commission model; the defaults are IBKR Pro Tiered (see module doc).

    Parameters
    ----------
    kind
        ``"tiered"`` (per-share rate by monthly volume) or ``"fixed"`` (one per-share rate).
    tiers
        ``(upper_bound_shares, usd_per_share)`` in increasing bound order (tiered only).
    fixed_per_share, fixed_min
        Fixed pricing: USD per share and per-order minimum.
    minimum, max_fraction
        Tiered per-order minimum (USD) and, for both kinds, the cap as a fraction of trade value.
    clearing_per_share, exchange_per_share
        Pass-through fees per share (tiered only; fixed pricing includes them).
    finra_taf_per_share, finra_taf_max, sec_fee_rate
        Regulatory fees charged on sales only (both kinds).
    """

    kind: Literal["tiered", "fixed"] = "tiered"
    tiers: tuple[tuple[float, float], ...] = IBKR_PRO_TIERS
    minimum: float = 0.35
    max_fraction: float = 0.01
    fixed_per_share: float = 0.005
    fixed_min: float = 1.0
    clearing_per_share: float = 0.00020
    exchange_per_share: float = 0.0
    finra_taf_per_share: float = 0.000166
    finra_taf_max: float = 8.30
    sec_fee_rate: float = 27.80 / 1_000_000

    def rate(self, month_volume: float) -> float:
        """USD per share for an order placed after ``month_volume`` shares this month."""
        if self.kind == "fixed":
            return self.fixed_per_share
        for bound, rate in self.tiers:
            if month_volume < bound:
                return rate
        return self.tiers[-1][1]

    def order_commission(self, shares: float, value: float, month_volume: float = 0.0) -> float:
        """IBKR commission of a whole order of ``shares`` worth ``value`` USD (fees excluded)."""
        if shares <= 0:
            return 0.0
        base = shares * self.rate(month_volume)
        floor = self.fixed_min if self.kind == "fixed" else self.minimum
        return min(max(base, floor), self.max_fraction * value)

    def execution_fees(self, side: Side, shares: float, value: float) -> float:
        """Pass-through and regulatory fees of one execution of ``shares`` worth ``value``."""
        fees = 0.0
        if self.kind == "tiered":
            fees += shares * (self.clearing_per_share + self.exchange_per_share)
        if side == "SELL":
            fees += min(shares * self.finra_taf_per_share, self.finra_taf_max)
            fees += value * self.sec_fee_rate
        return fees


@dataclass
class CommissionState:
    """Running state of one order's commission, so partial fills are charged incrementally."""

    shares: float = 0.0
    value: float = 0.0
    charged: float = 0.0
    month_volume_at_order: float = 0.0


@dataclass
class CommissionModel:
    """Stateful calculator: month-to-date volume plus per-order running totals."""

    schedule: CommissionSchedule = field(default_factory=CommissionSchedule)
    month_volume: float = 0.0

    def open_order(self) -> CommissionState:
        """Start an order: its tier is fixed by the month-to-date volume at placement."""
        return CommissionState(month_volume_at_order=self.month_volume)

    def charge(self, state: CommissionState, side: Side, shares: float, price: float) -> float:
        """Commission (USD, incl. fees) of one execution of ``shares`` at ``price``."""
        value = shares * price
        before = self.schedule.order_commission(
            state.shares, state.value, state.month_volume_at_order
        )
        state.shares += shares
        state.value += value
        after = self.schedule.order_commission(
            state.shares, state.value, state.month_volume_at_order
        )
        amount = (after - before) + self.schedule.execution_fees(side, shares, value)
        state.charged += amount
        self.month_volume += shares
        return round(amount, 6)
