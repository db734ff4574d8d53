"""ERN — earnings: standardised unexpected earnings (SUE) and revenue surprise.

An announcement for a symbol is a row where ``eps_actual`` is finite and differs from the row
before (so both "reported on the day only" and forward-filled columns work). At announcement
row ``a``::

    surprise_a = eps_actual_a − eps_estimate_a          (estimate of row a, else of row a−1)
    SUE_a      = surprise_a / sd(previous SUE_HISTORY surprises)   (≥ SUE_MIN_HISTORY needed)
    REV_a      = (revenue_actual_a − revenue_estimate_a) / |revenue_estimate_a|

and the value on day ``t ≥ a`` (``a`` the latest announcement) decays linearly to zero over
``ern_window`` days: ``SUE_a · max(0, 1 − (t − a) / ern_window)``. Score = combine(z(SUE),
z(REV)). Both parts are scale-free (multiplying EPS or revenue by a constant changes nothing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals.base import Dropped, SignalOutput, combine, zscore

NAME = "ERN"
SUE_HISTORY = 8
SUE_MIN_HISTORY = 3


def announcements(actual: np.ndarray) -> np.ndarray:
    """Boolean ``(T, N)``: rows where a new actual is published."""
    finite = np.isfinite(actual)
    new = finite.copy()
    with np.errstate(invalid="ignore"):
        new[1:] &= ~(np.isfinite(actual[:-1]) & (actual[1:] == actual[:-1]))
    return new


def _estimate_at(estimate: np.ndarray) -> np.ndarray:
    prev = np.full(estimate.shape, np.nan)
    prev[1:] = estimate[:-1]
    return np.where(np.isfinite(estimate), estimate, prev)


def _sue(surprise: np.ndarray, announce: np.ndarray) -> np.ndarray:
    """SUE on announcement rows: surprise / sd of the previous surprises (ddof 1)."""
    out = np.full(surprise.shape, np.nan)
    for j in range(surprise.shape[1]):
        rows = np.flatnonzero(announce[:, j] & np.isfinite(surprise[:, j]))
        if len(rows) <= SUE_MIN_HISTORY:
            continue
        s = pd.Series(surprise[rows, j])
        scale = s.shift(1).rolling(SUE_HISTORY, min_periods=SUE_MIN_HISTORY).std().to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rows, j] = np.where(scale > 0, s.to_numpy() / scale, np.nan)
    return out


def decay_forward(event: np.ndarray, window: int) -> np.ndarray:
    """Carry each event value forward, decaying linearly to 0 after ``window`` rows.

    ``event`` is NaN except on event rows; rows before a symbol's first event stay NaN.
    """
    T = event.shape[0]
    rows = np.where(np.isfinite(event), np.arange(T)[:, None].astype(float), np.nan)
    last_row = pd.DataFrame(rows).ffill().to_numpy()
    last_val = pd.DataFrame(event).ffill().to_numpy()
    age = np.arange(T)[:, None] - last_row
    return last_val * np.clip(1.0 - age / window, 0.0, 1.0)


def compute(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    """Earnings-surprise score, ``(T, N)``."""
    eps_ok = panel.has("eps_actual") and panel.has("eps_estimate")
    rev_ok = panel.has("revenue_actual") and panel.has("revenue_estimate")
    if not (eps_ok or rev_ok):
        return Dropped(
            NAME,
            "needs eps_actual and eps_estimate (or revenue_actual and revenue_estimate); "
            "the data has neither pair",
        )
    parts: dict[str, np.ndarray] = {}
    inputs: list[str] = []
    warnings: list[str] = []
    if eps_ok:
        actual, estimate = panel.get("eps_actual"), panel.get("eps_estimate")
        assert actual is not None and estimate is not None
        ann = announcements(actual)
        surprise = np.where(ann, actual - _estimate_at(estimate), np.nan)
        parts["sue"] = zscore(decay_forward(_sue(surprise, ann), cfg.ern_window))
        inputs += ["eps_actual", "eps_estimate"]
    if rev_ok:
        actual, estimate = panel.get("revenue_actual"), panel.get("revenue_estimate")
        assert actual is not None and estimate is not None
        ann = announcements(actual)
        est = _estimate_at(estimate)
        with np.errstate(divide="ignore", invalid="ignore"):
            rev = np.where(ann & (np.abs(est) > 0), (actual - est) / np.abs(est), np.nan)
        parts["revenue"] = zscore(decay_forward(rev, cfg.ern_window))
        inputs += ["revenue_actual", "revenue_estimate"]
    if not eps_ok:
        warnings.append("ERN: no eps_actual/eps_estimate; using the revenue surprise only")
    elif not rev_ok:
        warnings.append("ERN: no revenue_actual/revenue_estimate; using SUE only")
    return SignalOutput(NAME, combine(list(parts.values())), parts, tuple(inputs), tuple(warnings))
