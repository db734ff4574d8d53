"""IC-weighted ensemble of the signals.

With ``h = ic_horizon`` rows, the **realised IC** of signal ``k`` at row ``t`` is the
cross-sectional Spearman rank correlation between its score at ``t − h`` and the return from the
close of ``t − h`` to the close of ``t``. It is known at the close of ``t`` — only realised returns
enter. Over the last ``ic_window`` realised ICs (rows ``t − W + 1 … t``)::

    tstat_k[t] = mean(IC) / (sd(IC) / √n)          (sd with ddof 1, n = finite ICs in the window)
    w_k[t]     = max(0, tstat_k[t]) / Σ_j max(0, tstat_j[t])

Rules, in order, per row ``t`` (only signals with a finite score somewhere in row ``t`` count):

1. *mature* signals (``n ≥ ic_min_periods``) get the clipped t-stat weights above; immature
   ones get 0;
2. if no signal is mature yet, all available signals get equal weights (warm-up);
3. if signals are mature but every t-stat is ≤ 0, all weights are 0 and the combined score is 0
   for every symbol: no view, the portfolio goes flat.

``combined[t] = zscore(Σ_k w_k[t] · z_k[t])`` with missing scores counted as 0 (neutral); a
symbol with no finite score at all stays NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.config import SignalsConfig
from engine.signals.base import MIN_CROSS_SECTION, zscore


@dataclass(frozen=True)
class EnsembleResult:
    """Ensemble output; every array has ``T`` rows.

    ``combined`` (T, N) standardised score; ``weights`` (T, K) weights used at row t (rows sum
    to 1, or 0 when flat); ``ics`` (T, K) realised rank IC at row t; ``ic_mean`` and ``ic_tstat``
    (T, K) rolling statistics behind the weights; ``n_obs`` (T, K) ICs in the window; ``names``
    the K signal codes (column order).
    """

    combined: np.ndarray
    weights: np.ndarray
    ics: np.ndarray
    ic_mean: np.ndarray
    ic_tstat: np.ndarray
    n_obs: np.ndarray
    names: tuple[str, ...]

    def weights_frame(self, dates: pd.DatetimeIndex | None = None) -> pd.DataFrame:
        """Weights as a DataFrame (rows = dates, columns = signal codes)."""
        return pd.DataFrame(self.weights, index=dates, columns=list(self.names))

    def ics_frame(self, dates: pd.DatetimeIndex | None = None) -> pd.DataFrame:
        """Realised ICs as a DataFrame (rows = dates, columns = signal codes)."""
        return pd.DataFrame(self.ics, index=dates, columns=list(self.names))


TIE_TOLERANCE = 1e-12
"""Values closer than this (relative) are ties when ranking: rounding noise like
``3.7·a / (3.7·b)`` vs ``a / b`` must not reorder equal returns."""


def row_ranks(x: np.ndarray, tol: float = TIE_TOLERANCE) -> np.ndarray:
    """Average ranks (1-based) of the finite values of each row; NaN stays NaN.

    Neighbours (after sorting) closer than ``tol × (1 + |value|)`` form one tied group, so
    floating-point noise far below any real difference cannot change the ranks.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] == 0:
        return np.full(x.shape, np.nan)
    T, N = x.shape
    clean = np.where(np.isfinite(x), x, np.inf)
    order = np.argsort(clean, axis=1)
    xs = np.take_along_axis(clean, order, axis=1)
    finite = np.isfinite(xs)
    with np.errstate(invalid="ignore"):
        step = np.abs(np.diff(xs, axis=1))
        scale = 1.0 + np.maximum(np.abs(xs[:, :-1]), np.abs(xs[:, 1:]))
        breaks = (step > tol * scale) | (finite[:, 1:] != finite[:, :-1])
    pos = np.broadcast_to(np.arange(N), (T, N))
    starts = np.concatenate([np.ones((T, 1), dtype=bool), breaks], axis=1)
    ends = np.concatenate([breaks, np.ones((T, 1), dtype=bool)], axis=1)
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, pos, N)[:, ::-1], axis=1)[:, ::-1]
    sorted_ranks = np.where(finite, (first + last) / 2.0 + 1.0, np.nan)
    ranks = np.empty((T, N))
    np.put_along_axis(ranks, order, sorted_ranks, axis=1)
    return ranks


def rank_ic(scores: np.ndarray, returns: np.ndarray) -> np.ndarray:
    """Row-wise Spearman correlation of two ``(T, N)`` arrays over their common finite entries.

    Returns ``(T,)``; NaN where fewer than 3 common entries or either side is constant.
    """
    both = np.isfinite(scores) & np.isfinite(returns)
    a = row_ranks(np.where(both, scores, np.nan))
    b = row_ranks(np.where(both, returns, np.nan))
    n = both.sum(axis=1)
    a = np.where(both, a, 0.0)
    b = np.where(both, b, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_rank = np.where(n > 0, (n + 1) / 2.0, np.nan)[:, None]
        da = np.where(both, a - mean_rank, 0.0)
        db = np.where(both, b - mean_rank, 0.0)
        num = (da * db).sum(axis=1)
        den = np.sqrt((da * da).sum(axis=1) * (db * db).sum(axis=1))
        ic = num / den
    ic[(n < MIN_CROSS_SECTION) | ~(den > 0)] = np.nan
    return ic


def horizon_returns(returns: np.ndarray, h: int) -> np.ndarray:
    """Compound return of rows ``t − h + 1 … t`` (close of t−h to close of t), ``(T, N)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        logs = np.log1p(returns)
    growth = pd.DataFrame(logs).rolling(h, min_periods=h).sum().to_numpy()
    return np.expm1(growth)


def realised_ics(scores: Mapping[str, np.ndarray], returns: np.ndarray, horizon: int) -> np.ndarray:
    """``(T, K)`` rank IC at row t of each score at ``t − horizon`` vs the return to ``t``."""
    T = returns.shape[0]
    fwd = horizon_returns(returns, horizon)
    out = np.full((T, len(scores)), np.nan)
    for k, score in enumerate(scores.values()):
        lagged = np.full(score.shape, np.nan)
        if horizon < T:
            lagged[horizon:] = score[:-horizon]
        out[:, k] = rank_ic(lagged, fwd)
    return out


def ic_weighted_ensemble(
    scores: Mapping[str, np.ndarray], returns: np.ndarray, cfg: SignalsConfig
) -> EnsembleResult:
    """Combine standardised signal scores with rolling-IC t-stat weights (module docstring).

    Parameters
    ----------
    scores : mapping of code to ndarray (T, N)
        Standardised scores (e.g. ``SignalSet.scores``).
    returns : ndarray (T, N)
        Simple close-to-close returns, row t = close[t−1] → close[t] (``MarketPanel.returns()``).
    cfg : SignalsConfig
        ``ic_window``, ``ic_min_periods``, ``ic_horizon``.
    """
    names = tuple(scores)
    T, N = returns.shape
    K = len(names)
    if K == 0:
        empty = np.zeros((T, 0))
        return EnsembleResult(np.full((T, N), np.nan), empty, empty, empty, empty, empty, names)
    ics = realised_ics(scores, returns, cfg.ic_horizon)
    frame = pd.DataFrame(ics).rolling(cfg.ic_window, min_periods=1)
    n_obs = frame.count().to_numpy()
    ic_mean = frame.mean().to_numpy()
    ic_sd = frame.std().to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = ic_mean / (np.maximum(ic_sd, 1e-12) / np.sqrt(n_obs))
    tstat = np.where(n_obs >= 2, tstat, np.nan)

    stack = np.stack([scores[k] for k in names], axis=2)  # (T, N, K)
    available = np.isfinite(stack).any(axis=1)  # (T, K)
    mature = available & (n_obs >= cfg.ic_min_periods)
    raw = np.where(mature, np.clip(np.nan_to_num(tstat, nan=0.0), 0.0, None), 0.0)
    any_mature = mature.any(axis=1, keepdims=True)
    equal = np.where(available, 1.0, 0.0)
    raw = np.where(any_mature, raw, equal)
    total = raw.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(total > 0, raw / total, 0.0)

    blended = np.einsum("tnk,tk->tn", np.nan_to_num(stack, nan=0.0), weights)
    has_any = np.isfinite(stack).any(axis=2)
    blended = np.where(has_any, blended, np.nan)
    combined = zscore(blended)
    return EnsembleResult(
        combined=combined,
        weights=weights,
        ics=ics,
        ic_mean=ic_mean,
        ic_tstat=tstat,
        n_obs=n_obs.astype(float),
        names=names,
    )
