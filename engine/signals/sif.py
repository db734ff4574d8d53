"""SIF — sentiment and information flow: smoothed news sentiment and analyst revisions.

Components (z-scored across symbols, then combined)::

    sentiment[t] = mean of the finite sentiment values of rows t − w + 1 … t   (w = sif_window)
    revision[t]  = eps_estimate[t] / eps_estimate[t − v] − 1                  (v = sif_revision_window)

A revision spanning an earnings announcement (a new ``eps_actual`` in rows t − v … t) is
left out: the estimate then switched to the next quarter, which is not a revision. Revisions
need both ``eps_estimate`` and ``eps_actual``. Either component alone is enough.
"""

from __future__ import annotations

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals.base import (
    Dropped,
    SignalOutput,
    combine,
    lag,
    rolling_mean,
    rolling_sum,
    zscore,
)
from engine.signals.ern import announcements

NAME = "SIF"


def compute(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    """Sentiment / information-flow score, ``(T, N)``."""
    parts: dict[str, np.ndarray] = {}
    inputs: list[str] = []
    sentiment = panel.get("sentiment")
    if sentiment is not None and panel.has("sentiment"):
        parts["sentiment"] = zscore(rolling_mean(sentiment, cfg.sif_window, min_periods=1))
        inputs.append("sentiment")
    estimate, actual = panel.get("eps_estimate"), panel.get("eps_actual")
    if (
        estimate is not None
        and actual is not None
        and panel.has("eps_estimate")
        and panel.has("eps_actual")
    ):
        v = cfg.sif_revision_window
        # rows t-v … t: the announcement row still shows the old quarter's estimate
        crossed = rolling_sum(announcements(actual).astype(float), v + 1) > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            revision = estimate / lag(estimate, v) - 1.0
        revision = np.where(crossed | ~np.isfinite(revision), np.nan, revision)
        parts["revision"] = zscore(revision)
        inputs += ["eps_estimate", "eps_actual"]
    if not parts:
        return Dropped(
            NAME, "needs sentiment (or eps_estimate with eps_actual); the data has neither"
        )
    return SignalOutput(NAME, combine(list(parts.values())), parts, tuple(inputs))
