"""The optimiser seam: limits in, an :class:`Allocation` out.

Every optimiser (QP, HRP, Black–Litterman) implements :class:`PortfolioOptimizer`. A failed solve
is an :class:`Allocation` with ``ok=False`` — a value that flows through the backtest, never an
exception.

Units: weights are fractions of equity (``w_i = 0.1`` → 10 % of equity long in asset *i*); ``mu``
is the expected return per period (a fraction, e.g. daily ``0.0005`` = 5 bp); ``cov`` is the
covariance of per-period returns; :attr:`Limits.vol_target` is **annualised** and converted with
:attr:`Limits.periods_per_year`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Limits:
    """Portfolio limits of SPEC §2.3.

    Parameters
    ----------
    gross : float
        Max Σ|wᵢ| (fraction of equity).
    net : float
        Max |Σwᵢ|.
    box : float
        Max |wᵢ| per asset.
    vol_target : float
        Annualised volatility cap: ``wᵀΣw ≤ vol_target² / periods_per_year`` with Σ per period.
    periods_per_year : int
        Periods per year of ``cov`` (252 for daily returns).
    lower, upper : ndarray (N,) or None
        Optional per-asset bounds that tighten the box (e.g. ``lower = upper = w_prev`` freezes
        an asset that cannot be traded today). ``None`` = ``±box``.
    """

    gross: float
    net: float
    box: float
    vol_target: float
    periods_per_year: int = 252
    lower: np.ndarray | None = field(default=None, compare=False)
    upper: np.ndarray | None = field(default=None, compare=False)

    @property
    def variance_cap(self) -> float:
        """Per-period variance cap ``vol_target² / periods_per_year``."""
        return self.vol_target**2 / self.periods_per_year

    def bounds(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-asset ``(lower, upper)`` bounds, each (n,), intersected with ``±box``."""
        lo = np.full(n, -self.box) if self.lower is None else np.maximum(self.lower, -self.box)
        hi = np.full(n, self.box) if self.upper is None else np.minimum(self.upper, self.box)
        if self.lower is not None and self.upper is not None:
            frozen = self.lower == self.upper
            lo = np.where(frozen, self.lower, lo)
            hi = np.where(frozen, self.upper, hi)
        return lo, hi


@dataclass(frozen=True)
class Allocation:
    """Target weights from one solve.

    ``weights`` (N,) are fractions of equity. ``ok`` is False for an infeasible/failed solve, in
    which case ``weights`` are the fallback chosen by the caller's policy (previous weights or
    flat) and ``message`` says why. ``residuals`` maps each constraint name to its violation
    (≥ 0; 0 = satisfied) measured on the returned weights.
    """

    weights: np.ndarray
    ok: bool
    status: str
    objective: float | None = None
    residuals: Mapping[str, float] = field(default_factory=dict)
    solve_seconds: float = 0.0
    message: str = ""


@runtime_checkable
class PortfolioOptimizer(Protocol):
    """Anything that turns expected returns and a covariance into target weights."""

    @property
    def name(self) -> str:
        """Short name used in reports (``qp``, ``hrp``, ``bl``)."""
        ...

    def allocate(
        self,
        mu: np.ndarray,
        cov: np.ndarray,
        prev_weights: np.ndarray | None,
        limits: Limits,
    ) -> Allocation:
        """Target weights for expected returns ``mu`` (N,) and per-period covariance ``cov``."""
        ...


def constraint_residuals(w: np.ndarray, cov: np.ndarray, limits: Limits) -> dict[str, float]:
    """Violation of every SPEC §2.3 constraint by ``w`` (0 when satisfied)."""
    lo, hi = limits.bounds(len(w))
    variance = float(w @ cov @ w)
    return {
        "gross": max(0.0, float(np.abs(w).sum()) - limits.gross),
        "net": max(0.0, abs(float(w.sum())) - limits.net),
        "box": max(0.0, float(np.max(np.maximum(w - hi, lo - w), initial=0.0))),
        "variance": max(0.0, variance - limits.variance_cap),
    }


def fallback_weights(prev_weights: np.ndarray | None, n: int, on_failure: str) -> np.ndarray:
    """The weights a failed solve keeps: the previous ones (``keep``) or zeros (``flat``)."""
    if on_failure == "keep" and prev_weights is not None:
        return np.array(prev_weights, dtype=float, copy=True)
    return np.zeros(n)
