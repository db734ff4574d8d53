"""One rebalance decision — shared by the backtest loop and the paper session's strategy plane.

``decide_weights`` is step 4 of the backtest timeline (see :mod:`engine.backtest.loop`): Ledoit–Wolf
Σ over the last ``portfolio.cov_window`` returns, the Grinold mapping of the ensemble score to μ,
the optimiser under the gross/net limits of the day, and symbols that cannot be traded (no valid
bar today, stale data, too little history) frozen at their current weight. The backtest and the
strategy plane call this same function, so a live decision is the backtest's decision on the same
data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.backtest.alpha import expected_returns
from engine.config import PortfolioConfig
from engine.portfolio.base import Allocation, Limits, PortfolioOptimizer
from engine.portfolio.covariance import ledoit_wolf

MIN_COV_ROWS = 20


@dataclass(frozen=True)
class Decision:
    """Target weights of one decision, with what produced them.

    ``allocation`` is ``None`` when there were fewer than ``MIN_COV_ROWS`` returns (no decision);
    ``sigma`` is each asset's per-period volatility from the covariance estimate.
    """

    allocation: Allocation | None
    sigma: np.ndarray
    mu: np.ndarray
    frozen: np.ndarray

    @property
    def weights(self) -> np.ndarray | None:
        if self.allocation is None:
            return None
        return np.asarray(self.allocation.weights, dtype=float)


def decide_weights(
    *,
    score_row: np.ndarray,
    ic: float,
    horizon: int,
    returns: np.ndarray,
    t: int,
    w_now: np.ndarray,
    tradable_row: np.ndarray,
    gross: float,
    net: float,
    pf: PortfolioConfig,
    periods_per_year: int,
    optimizer: PortfolioOptimizer,
) -> Decision:
    """Target weights at row ``t`` from the ensemble score row and returns up to ``t``.

    Parameters
    ----------
    score_row : (N,) ensemble score at the decision (NaN = no view).
    ic : the ensemble's IC estimate at ``t`` (clipped at 0 by the alpha model).
    horizon : IC horizon in bars.
    returns : (T, N) simple returns; rows ``≤ t`` are used.
    w_now : (N,) current weights (fractions of equity).
    tradable_row : (N,) bool; ``False`` freezes the symbol at ``w_now``.
    gross, net : the limits of the day (regime or static).
    """
    n = len(w_now)
    window = returns[max(1, t - pf.cov_window + 1) : t + 1]
    if window.shape[0] < MIN_COV_ROWS:
        return Decision(None, np.full(n, np.nan), np.zeros(n), np.ones(n, dtype=bool))
    has_data = np.isfinite(window).sum(axis=0) >= MIN_COV_ROWS
    cov, _ = ledoit_wolf(window)
    sigma = np.sqrt(np.diag(cov))
    mu = expected_returns(score_row, sigma, float(ic), horizon)
    mu = np.where(has_data, mu, 0.0)
    frozen = ~np.asarray(tradable_row, dtype=bool) | ~has_data
    lower = np.where(frozen, w_now, -pf.box_lim)
    upper = np.where(frozen, w_now, pf.box_lim)
    limits = Limits(
        gross=gross,
        net=net,
        box=pf.box_lim,
        vol_target=pf.vol_target,
        periods_per_year=periods_per_year,
        lower=lower,
        upper=upper,
    )
    alloc = optimizer.allocate(mu, cov, w_now, limits)
    return Decision(alloc, sigma, mu, frozen)
