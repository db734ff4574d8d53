"""What a backtest returns: daily series, statistics, signal diagnostics, events, costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.risk.kill_switch import KillSwitchEvent
from engine.stats.performance import PerformanceStats

DAILY_COLUMNS = (
    "equity",
    "return",
    "cash",
    "gross",
    "net",
    "turnover",
    "costs",
    "drawdown",
    "psr",
    "gross_limit",
    "net_limit",
)


@dataclass(frozen=True)
class FailedSolveRecord:
    """A rebalance without a usable allocation and what the loop did instead."""

    date: pd.Timestamp
    status: str
    fallback: str  # "keep_previous" | "flat"
    message: str


@dataclass(frozen=True)
class CostTotals:
    """Cost components summed over the run (account currency) and the traded notional."""

    commission: float
    spread: float
    impact: float
    traded_notional: float

    @property
    def total(self) -> float:
        return self.commission + self.spread + self.impact


@dataclass(frozen=True)
class SignalDiagnostics:
    """Per-signal ICs and ensemble weights.

    ``dates`` are the rebalance dates; ``rolling_ic`` and ``weights`` (R, K) the rolling mean
    rank IC and the ensemble weight used there; ``realised_ic`` (L, K) the realised rank IC of
    every row from the first decision on (the sample behind :meth:`summary`).
    """

    names: tuple[str, ...]
    dates: pd.DatetimeIndex
    rolling_ic: np.ndarray
    weights: np.ndarray
    realised_ic: np.ndarray
    dropped: dict[str, str] = field(default_factory=dict)

    def summary(self) -> list[dict[str, Any]]:
        """Mean realised IC, its t-statistic, mean and final weight and IC count per signal."""
        rows: list[dict[str, Any]] = []
        for k, name in enumerate(self.names):
            ic = self.realised_ic[:, k]
            ic = ic[np.isfinite(ic)]
            w = np.nan_to_num(self.weights[:, k])
            n = len(ic)
            mean = float(ic.mean()) if n else None
            sd = float(ic.std(ddof=1)) if n > 1 else 0.0
            tstat = float(mean / (sd / np.sqrt(n))) if (mean is not None and sd > 0) else None
            rows.append(
                {
                    "name": name,
                    "mean_ic": mean,
                    "ic_tstat": tstat,
                    "mean_weight": float(w.mean()) if len(w) else 0.0,
                    "final_weight": float(w[-1]) if len(w) else 0.0,
                    "observations": n,
                }
            )
        return rows


@dataclass(frozen=True)
class BacktestResult:
    """Everything a run produced.

    ``daily`` is indexed by date with :data:`DAILY_COLUMNS` (equity and cash in account currency,
    gross/net exposure as fractions of equity, turnover as traded notional / equity of the day,
    costs in currency, drawdown a positive fraction, psr NaN until the PSR sample is large enough).
    Statistics cover the returns from the first decision date on (warm-up days excluded).
    """

    daily: pd.DataFrame
    stats: PerformanceStats
    psr: float
    symbols: tuple[str, ...]
    rebalance_dates: pd.DatetimeIndex
    optimizer: str
    signals: SignalDiagnostics
    events: tuple[KillSwitchEvent, ...]
    halted_at: pd.Timestamp | None
    halt_reason: str | None
    failed_solves: tuple[FailedSolveRecord, ...]
    costs: CostTotals
    untradable_symbol_days: int
    skipped_trades: int
    initial_capital: float
    final_weights: np.ndarray
    optimizer_seconds: float
    warnings: tuple[str, ...] = ()
    first_decision: pd.Timestamp | None = None
    regime_states: np.ndarray | None = None  # (T,) 0 calm, 1 normal, 2 storm; None = static
    max_residuals: dict[str, float] = field(default_factory=dict)  # worst per constraint

    def regime_summary(self) -> dict[str, object] | None:
        """Days per regime and transitions from the first decision on (None without regimes)."""
        if self.regime_states is None:
            return None
        names = ("calm", "normal", "storm")
        start = 0
        if self.first_decision is not None:
            start = int(self.daily.index.searchsorted(self.first_decision))
        live = self.regime_states[start:]
        return {
            "states": names,
            "days_in_state": {name: int(np.sum(live == i)) for i, name in enumerate(names)},
            "transitions": int(np.sum(live[1:] != live[:-1])),
        }

    @property
    def strategy_returns(self) -> pd.Series:
        """Daily returns from the first decision date on."""
        r = self.daily["return"]
        if self.first_decision is None:
            return r.iloc[0:0]
        return r.loc[r.index > self.first_decision]
