"""Shared pieces of the signals: result types, cross-sectional normaliser, causal rolling windows.

Every helper here is *causal along axis 0*: the value at row ``t`` depends only on rows ``≤ t``,
so a signal built from them passes the look-ahead check by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

WINSOR_MADS = 4.0
"""Cross-sectional winsorisation bound, in robust standard deviations (1.4826 × MAD)."""
MIN_CROSS_SECTION = 3
"""Fewest finite values a row needs to be standardised; smaller rows are NaN."""


@dataclass(frozen=True)
class SignalOutput:
    """A computed signal.

    ``score`` is ``(T, N)``, cross-sectionally standardised per row (mean 0, sd 1, NaN where not
    computable); ``components`` are the standardised parts it combines; ``inputs`` the panel
    fields it read.
    """

    name: str
    score: np.ndarray
    components: Mapping[str, np.ndarray] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dropped:
    """A signal left out because its inputs are absent; ``reason`` says which and why."""

    name: str
    reason: str


def zscore(x: np.ndarray, *, winsor: float | None = WINSOR_MADS) -> np.ndarray:
    """Cross-sectional z-score per row, winsorised at median ± ``winsor`` robust sds.

    Rows with fewer than :data:`MIN_CROSS_SECTION` finite values are NaN; a row whose finite
    values are all equal carries no cross-sectional information and becomes 0. The robust scale
    is ``1.4826 × MAD``; when the MAD is 0 (over half the values tie) the row is not
    winsorised. Median, MAD, mean and sd are affine-equivariant and clipping beyond
    median ± k·MAD leaves median and MAD unchanged, so the map is invariant to ``a·x + b``
    (``a > 0``) and idempotent: ``zscore(zscore(x)) == zscore(x)``.

    Parameters
    ----------
    x : ndarray, shape (T, N)
    winsor : float or None
        Clip bound in robust sds; ``None`` = no winsorisation.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    if x.ndim == 1:
        return zscore(x[None, :], winsor=winsor)[0]
    finite = np.isfinite(x)
    x[~finite] = np.nan
    count = finite.sum(axis=1)
    ok = count >= MIN_CROSS_SECTION
    out = np.full(x.shape, np.nan)
    if not ok.any():
        return out
    xs = x[ok]
    if winsor is not None:
        med = row_nanmedian(xs)
        mad = 1.4826 * row_nanmedian(np.abs(xs - med))
        # MAD = 0 (over half the values tie): no robust scale, so no winsorisation — a
        # non-robust fallback scale would change under its own clipping and break idempotence
        scale = np.where(mad > 0, mad, np.inf)
        with np.errstate(invalid="ignore"):
            xs = np.clip(xs, med - winsor * scale, med + winsor * scale)
    mean = np.nanmean(xs, axis=1, keepdims=True)
    centred = xs - mean
    sd = np.sqrt(np.nanmean(centred * centred, axis=1, keepdims=True))
    # sd is tiny relative to the values' magnitude: the row is constant up to rounding
    flat = sd <= 1e-13 * np.maximum(np.nanmax(np.abs(xs), axis=1, keepdims=True), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(flat, 0.0, centred / sd)
    z[np.isnan(xs)] = np.nan
    out[ok] = z
    return out


def row_nanmedian(x: np.ndarray) -> np.ndarray:
    """Median of the finite values of each row, ``(T, 1)``; NaN for a row with none.

    A sort with NaN last and two gathers — much faster than ``np.nanmedian`` on wide panels.
    """
    xs = np.sort(x, axis=1)  # NaN sorts last
    n = np.isfinite(x).sum(axis=1)
    lo = np.clip((n - 1) // 2, 0, None)[:, None]
    hi = np.clip(n // 2, 0, None)[:, None]
    med = 0.5 * (np.take_along_axis(xs, lo, axis=1) + np.take_along_axis(xs, hi, axis=1))
    return np.where(n[:, None] > 0, med, np.nan)


def combine(parts: Sequence[np.ndarray], *, require_all: bool = False) -> np.ndarray:
    """Mean of standardised parts, re-standardised; NaN parts are skipped unless ``require_all``."""
    stack = np.stack(parts)
    finite = np.isfinite(stack)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    count = finite.sum(axis=0)
    need = len(parts) if require_all else 1
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count >= need, total / np.maximum(count, 1), np.nan)
    return zscore(mean)


def rolling_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the last ``window`` rows (inclusive); NaN unless all ``window`` are finite."""
    return pd.DataFrame(x).rolling(window, min_periods=window).sum().to_numpy()


def rolling_mean(x: np.ndarray, window: int, min_periods: int | None = None) -> np.ndarray:
    """Mean over the last ``window`` rows; needs ``min_periods`` finite values (default all)."""
    mp = window if min_periods is None else min_periods
    return pd.DataFrame(x).rolling(window, min_periods=mp).mean().to_numpy()


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Sample sd (ddof 1) over the last ``window`` rows; NaN unless all are finite."""
    return pd.DataFrame(x).rolling(window, min_periods=window).std().to_numpy()


def lag(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` shifted down by ``k ≥ 0`` rows (row t holds x[t-k]); the first k rows are NaN."""
    if k == 0:
        return x.copy()
    out = np.full(x.shape, np.nan)
    if k < x.shape[0]:
        out[k:] = x[:-k]
    return out


def log_returns(close: np.ndarray) -> np.ndarray:
    """``log(close[t] / close[t-1])``, row 0 NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(close / lag(close, 1))


def missing_inputs(present: Mapping[str, bool], needed: Sequence[str]) -> list[str]:
    """Names in ``needed`` whose ``present`` flag is false."""
    return [n for n in needed if not present.get(n, False)]
