"""POS — positioning: short interest and institutional ownership.

Components (each z-scored across symbols, then combined)::

    − short_interest[t]                               high short interest is bearish
    − (short_interest[t] − short_interest[t − w])      rising short interest is bearish
    + (inst_ownership[t] − inst_ownership[t − w])      institutions buying is bullish

with ``w = pos_window``. Either input alone is enough; both absent → dropped.
"""

from __future__ import annotations

import numpy as np

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals.base import Dropped, SignalOutput, combine, lag, zscore

NAME = "POS"


def compute(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput | Dropped:
    """Positioning score, ``(T, N)``."""
    parts: dict[str, np.ndarray] = {}
    inputs: list[str] = []
    si = panel.get("short_interest")
    if si is not None and panel.has("short_interest"):
        parts["short_interest_level"] = zscore(-si)
        parts["short_interest_change"] = zscore(-(si - lag(si, cfg.pos_window)))
        inputs.append("short_interest")
    io = panel.get("inst_ownership")
    if io is not None and panel.has("inst_ownership"):
        parts["inst_ownership_change"] = zscore(io - lag(io, cfg.pos_window))
        inputs.append("inst_ownership")
    if not parts:
        return Dropped(NAME, "needs short_interest or inst_ownership; the data has neither")
    return SignalOutput(NAME, combine(list(parts.values())), parts, tuple(inputs))
