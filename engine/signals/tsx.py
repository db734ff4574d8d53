"""TSX — technical: momentum with skip, short-term reversal, trend.

Components (each z-scored across symbols; the score needs all three)::

    momentum[t] = close[t − s] / close[t − s − L] − 1          L = tsx_momentum_window, s = skip
    reversal[t] = −(close[t] / close[t − R] − 1)               R = tsx_reversal_window
    trend[t]    = MA_fast(close)[t] / MA_slow(close)[t] − 1     simple moving averages

Uses the close only, so it is the one signal a close-only file keeps. All parts are ratios of
prices: multiplying every price by a constant leaves the score unchanged.
"""

from __future__ import annotations

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals.base import SignalOutput, combine, lag, rolling_mean, zscore

NAME = "TSX"


def compute(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput:
    """Technical score, ``(T, N)``."""
    close = panel.close
    with np.errstate(divide="ignore", invalid="ignore"):
        skipped = lag(close, cfg.tsx_momentum_skip)
        momentum = skipped / lag(skipped, cfg.tsx_momentum_window) - 1.0
        reversal = -(close / lag(close, cfg.tsx_reversal_window) - 1.0)
        trend = (
            rolling_mean(close, cfg.tsx_trend_fast) / rolling_mean(close, cfg.tsx_trend_slow) - 1.0
        )
    parts = {"momentum": zscore(momentum), "reversal": zscore(reversal), "trend": zscore(trend)}
    return SignalOutput(NAME, combine(list(parts.values()), require_all=True), parts, ("close",))
