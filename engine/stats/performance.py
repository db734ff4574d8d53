"""Performance statistics of a return series (SPEC §2.5).

All inputs are simple per-period returns (fractions, ``0.01`` = +1 %). Annualisation uses
``periods_per_year`` (252 for daily bars). Conventions: Sharpe and Sortino assume a zero risk-free
rate and use the sample standard deviation (ddof=1); Sortino's downside deviation is
``sqrt(mean(min(r, 0)²))`` over all periods; CAGR is geometric from the compounded equity; the
drawdown is measured on the compounded equity against its running peak (the starting capital
counts as a peak), its duration is the longest run of periods spent below a previous peak.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class PerformanceStats:
    """Summary statistics; ratios are annualised, drawdown is a positive fraction."""

    n_periods: int
    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_drawdown_duration: int
    calmar: float
    hit_rate: float
    turnover: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def drawdown_series(returns: np.ndarray) -> np.ndarray:
    """Drawdown after each period, as a positive fraction of the running peak equity."""
    equity = np.cumprod(1.0 + np.asarray(returns, dtype=float))
    peak = np.maximum.accumulate(np.maximum(equity, 1.0))
    return 1.0 - equity / peak


def max_drawdown_duration(returns: np.ndarray) -> int:
    """Longest run of consecutive periods spent below a previous equity peak."""
    under = drawdown_series(returns) > 1e-12
    longest = current = 0
    for flag in under:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


def annualised_turnover(turnover: np.ndarray | None, periods_per_year: int) -> float:
    """Mean one-way turnover per period (Σ|Δw|/2) × periods per year."""
    if turnover is None or len(turnover) == 0:
        return 0.0
    return float(np.mean(turnover)) * periods_per_year


def performance_summary(
    returns: np.ndarray,
    periods_per_year: int = 252,
    *,
    turnover: np.ndarray | None = None,
) -> PerformanceStats:
    """Statistics of ``returns`` (n,); ``turnover`` (n,) is one-way turnover per period.

    ``hit_rate`` is the share of periods with a strictly positive return among periods with a
    non-zero return (flat periods are neither hits nor misses). Ratios with a zero denominator are
    0.0 (a flat strategy has Sharpe 0, not NaN), so the report stays valid JSON.
    """
    r = np.asarray(returns, dtype=float)
    r = r[np.isfinite(r)]
    n = len(r)
    if n == 0:
        return PerformanceStats(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0)
    growth = float(np.prod(1.0 + r))
    total = growth - 1.0
    years = n / periods_per_year
    cagr = growth ** (1.0 / years) - 1.0 if growth > 0 else -1.0
    sd = float(np.std(r, ddof=1)) if n > 1 else 0.0
    vol = sd * math.sqrt(periods_per_year)
    mean = float(np.mean(r))
    sharpe = mean / sd * math.sqrt(periods_per_year) if sd > 0 else 0.0
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    sortino = mean / downside * math.sqrt(periods_per_year) if downside > 0 else 0.0
    dd = drawdown_series(r)
    mdd = float(dd.max())
    calmar = cagr / mdd if mdd > 0 else 0.0
    moved = r[r != 0.0]
    hit = float(np.mean(moved > 0)) if len(moved) else 0.0
    return PerformanceStats(
        n_periods=n,
        total_return=total,
        cagr=cagr,
        volatility=vol,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=mdd,
        max_drawdown_duration=max_drawdown_duration(r),
        calmar=calmar,
        hit_rate=hit,
        turnover=annualised_turnover(turnover, periods_per_year),
    )
