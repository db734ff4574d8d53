"""OFI — order-flow imbalance.

``raw[t] = (Σ bid_volume − Σ ask_volume) / (Σ bid_volume + Σ ask_volume)`` over the last
``ofi_window`` days (rows t−w+1 … t); positive = buying pressure. Score = cross-sectional
z-score. Needs ``bid_volume`` and ``ask_volume``; there is no honest proxy from prices alone
(see docs/signals.md).
"""

from __future__ import annotations

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals.base import Dropped, SignalOutput, rolling_sum, zscore

NAME = "OFI"
INPUTS = ("bid_volume", "ask_volume")


def compute(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    """Order-flow imbalance score, ``(T, N)``."""
    bid, ask = panel.get("bid_volume"), panel.get("ask_volume")
    if bid is None or ask is None or not panel.has("bid_volume") or not panel.has("ask_volume"):
        absent = [n for n in INPUTS if not panel.has(n)]
        return Dropped(NAME, f"needs bid_volume and ask_volume; absent: {', '.join(absent)}")
    b = rolling_sum(bid, cfg.ofi_window)
    a = rolling_sum(ask, cfg.ofi_window)
    total = b + a
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(total > 0, (b - a) / total, np.nan)
    z = zscore(raw)
    return SignalOutput(NAME, z, {"imbalance": z}, INPUTS)
