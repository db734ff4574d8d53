"""Scaling every price (and EPS and revenue) by a constant leaves the scale-free signals alone."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals import compute_signals
from engine.signals.ensemble import ic_weighted_ensemble

pytestmark = pytest.mark.metamorphic

PRICE_LIKE = ("open", "high", "low", "close")


def _scaled(panel: MarketPanel, price: float, eps: float, volume: float) -> MarketPanel:
    updates = {k: panel.fields[k] * price for k in PRICE_LIKE}
    for k in ("eps_actual", "eps_estimate", "revenue_actual", "revenue_estimate"):
        updates[k] = panel.fields[k] * eps
    for k in ("volume", "bid_volume", "ask_volume"):
        updates[k] = panel.fields[k] * volume
    return panel.with_fields(updates)


@pytest.mark.parametrize(("price", "eps", "volume"), [(3.7, 1.0, 1.0), (0.01, 250.0, 7.0)])
def test_signals_and_ensemble_weights_are_scale_free(
    small_panel: MarketPanel, price: float, eps: float, volume: float
) -> None:
    cfg = SignalsConfig()
    base = compute_signals(small_panel, cfg)
    scaled_panel = _scaled(small_panel, price, eps, volume)
    scaled = compute_signals(scaled_panel, cfg)
    assert base.names == scaled.names
    for name in base.names:
        a, b = base.scores[name], scaled.scores[name]
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        assert np.nanmax(np.abs(a - b)) < 1e-9, name
    ens_a = ic_weighted_ensemble(base.scores, small_panel.returns(), cfg)
    ens_b = ic_weighted_ensemble(scaled.scores, scaled_panel.returns(), cfg)
    assert np.nanmax(np.abs(ens_a.weights - ens_b.weights)) < 1e-9
    assert np.nanmax(np.abs(ens_a.combined - ens_b.combined)) < 1e-9
