"""VRP — volatility risk premium.

``raw[t] = implied_vol[t] − realised_vol[t]`` with ``realised_vol`` the sample sd of daily log
returns over the last ``vrp_realized_window`` days × √252 (both annualised decimals).

Sign convention: the score is the spread itself, so a *high* score = options rich relative to
recent realised volatility. The cross-sectional literature (Bali & Hovakimyan 2009, "Volatility
spreads and expected stock returns") finds that stocks with a high implied-minus-realised spread
tend to *under*-perform; the ensemble learns the sign only in the sense that a negative rolling
IC earns the signal a zero weight (weights are clipped at zero, never flipped).
"""

from __future__ import annotations

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals.base import Dropped, SignalOutput, log_returns, rolling_std, zscore

NAME = "VRP"
INPUTS = ("implied_vol", "close")
PERCENT_THRESHOLD = 3.0
"""A median implied vol above this is read as percent (25 = 25 %) and divided by 100."""


def compute(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    """Implied-minus-realised volatility score, ``(T, N)``."""
    iv = panel.get("implied_vol")
    if iv is None or not panel.has("implied_vol"):
        return Dropped(NAME, "needs implied_vol (annualised, 0.25 = 25 %); the data has none")
    warnings: list[str] = []
    # judged on the first values only, so truncating later history can never flip it
    first = iv[np.isfinite(iv)][:50]
    if first.size and float(np.median(first)) > PERCENT_THRESHOLD:
        iv = iv / 100.0
        warnings.append("VRP: implied_vol looks like percent (median > 3); divided by 100")
    rv = rolling_std(log_returns(panel.close), cfg.vrp_realized_window) * np.sqrt(252.0)
    raw = iv - rv
    z = zscore(raw)
    return SignalOutput(NAME, z, {"spread": z}, INPUTS, tuple(warnings))
