"""Deflated Sharpe Ratio (Bailey & López de Prado, 2014).

"The Deflated Sharpe Ratio: Correcting for Selection Bias, Backtest Overfitting and
Non-Normality", *Journal of Portfolio Management* 40(5), 94–107.

After ``N`` trials whose (per-period) Sharpe ratios have variance ``V``, the Sharpe ratio the
best of them would reach by luck alone is approximately (eq. 2, the false-strategy theorem)::

    SR₀ = √V · ((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e)))

with γ the Euler–Mascheroni constant. The DSR is the Probabilistic Sharpe Ratio of the selected
strategy against that threshold, ``DSR = PSR(SR₀)`` (:func:`engine.stats.psr.psr_from_moments`):
the probability that its true Sharpe exceeds what selection among ``N`` trials explains.

Conventions: every Sharpe ratio and ``V`` here are **per period** (not annualised), skewness is
the biased sample skewness and kurtosis is **non-excess** (3 for a normal). ``N = 1`` means no
selection: ``SR₀ = 0`` and DSR = PSR(0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from engine.stats.psr import psr_details, psr_from_moments

EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True)
class DSRResult:
    """DSR of one selected strategy and what it was computed from (all per period)."""

    dsr: float
    sr_threshold: float  # SR₀, expected max Sharpe of N trials under no skill
    sharpe: float
    skew: float
    kurtosis: float  # non-excess
    n_obs: int
    n_trials: int
    sr_variance: float


def expected_max_sharpe(n_trials: int, sr_variance: float, sr_mean: float = 0.0) -> float:
    """Expected maximum of ``n_trials`` Sharpe ratios with variance ``sr_variance`` (eq. 2).

    ``sr_mean`` (0 under the null of no skill) shifts the result. ``n_trials = 1`` → ``sr_mean``.
    """
    if n_trials < 1:
        raise ValueError(f"n_trials={n_trials}: at least one trial is needed")
    if sr_variance < 0:
        raise ValueError(f"sr_variance={sr_variance}: a variance cannot be negative")
    if n_trials == 1:
        return sr_mean
    z = (1.0 - EULER_GAMMA) * norm.ppf(1.0 - 1.0 / n_trials) + EULER_GAMMA * norm.ppf(
        1.0 - 1.0 / (n_trials * math.e)
    )
    return sr_mean + math.sqrt(sr_variance) * float(z)


def deflated_sharpe_from_moments(
    sharpe: float,
    n_obs: int,
    skew: float,
    kurtosis: float,
    n_trials: int,
    sr_variance: float,
) -> float:
    """DSR from the selected strategy's per-period moments and the trials' Sharpe variance."""
    threshold = expected_max_sharpe(n_trials, sr_variance)
    return psr_from_moments(sharpe, skew, kurtosis, n_obs, threshold)


def deflated_sharpe_ratio(returns: np.ndarray, n_trials: int, sr_variance: float) -> DSRResult:
    """DSR of per-period ``returns`` (T,) selected among ``n_trials`` with Sharpe variance ``V``."""
    threshold = expected_max_sharpe(n_trials, sr_variance)
    details = psr_details(returns, threshold)
    return DSRResult(
        dsr=details.psr,
        sr_threshold=threshold,
        sharpe=details.sharpe,
        skew=details.skew,
        kurtosis=details.kurtosis,
        n_obs=details.n,
        n_trials=n_trials,
        sr_variance=sr_variance,
    )


def deflated_sharpe_of_best(trial_returns: np.ndarray) -> tuple[int, DSRResult]:
    """Pick the best of ``N`` trials and deflate it by the others.

    Parameters
    ----------
    trial_returns : ndarray (T, N)
        Per-period returns of each configuration tried (one column per trial), same dates.

    Returns
    -------
    (index, DSRResult)
        Column of the highest per-period Sharpe and its DSR with ``N`` = number of columns and
        ``V`` = sample variance (ddof=1) of the columns' per-period Sharpe ratios.
    """
    m = np.asarray(trial_returns, dtype=float)
    if m.ndim != 2 or m.shape[1] < 1:
        raise ValueError(f"trial_returns must be (T, N) with N ≥ 1; got shape {m.shape}")
    sd = np.nanstd(m, axis=0, ddof=1)
    mean = np.nanmean(m, axis=0)
    sharpes = np.divide(mean, sd, out=np.zeros(m.shape[1]), where=np.isfinite(sd) & (sd > 0))
    best = int(np.argmax(sharpes))
    variance = float(np.var(sharpes, ddof=1)) if m.shape[1] > 1 else 0.0
    return best, deflated_sharpe_ratio(m[:, best], m.shape[1], variance)
