from __future__ import annotations

import numpy as np
import pytest

from engine.config import SignalsConfig
from engine.data.panel import REQUIRED_FIELDS, MarketPanel
from engine.signals import SIGNALS, compute_signals
from engine.signals.base import Dropped

CFG = SignalsConfig()


def test_every_signal_is_computed_and_standardised(small_panel: MarketPanel) -> None:
    sigs = compute_signals(small_panel, CFG)
    assert sigs.names == ("OFI", "ERN", "VRP", "POS", "TSX", "SIF")
    assert sigs.dropped == {} and sigs.warnings == ()
    for name, score in sigs.scores.items():
        assert score.shape == (small_panel.T, small_panel.N)
        late = score[-100:]
        assert np.isfinite(late).mean() > 0.95, name
        assert np.allclose(np.nanmean(late, axis=1), 0.0, atol=1e-9), name
        assert np.allclose(np.nanstd(late, axis=1), 1.0, atol=1e-9), name


def test_close_only_data_keeps_only_tsx(small_panel: MarketPanel) -> None:
    close = small_panel.close
    close_only = MarketPanel(
        small_panel.dates, small_panel.symbols, {f: close for f in REQUIRED_FIELDS}
    )
    sigs = compute_signals(close_only, CFG)
    assert sigs.names == ("TSX",)
    assert set(sigs.dropped) == {"OFI", "ERN", "VRP", "POS", "SIF"}
    assert "bid_volume and ask_volume" in sigs.dropped["OFI"]
    assert any(w.startswith("signal OFI dropped") for w in sigs.warnings)


def test_disabled_signals_are_not_computed(small_panel: MarketPanel) -> None:
    sigs = compute_signals(small_panel, CFG.model_copy(update={"enabled": ("TSX", "OFI")}))
    assert sigs.names == ("OFI", "TSX")


def test_partial_inputs_degrade_with_a_warning(small_panel: MarketPanel) -> None:
    no_revenue = small_panel.with_fields({}, drop=("revenue_actual", "revenue_estimate"))
    ern = SIGNALS["ERN"](no_revenue, CFG)
    assert not isinstance(ern, Dropped)
    assert set(ern.components) == {"sue"}
    assert ern.warnings and "SUE only" in ern.warnings[0]
    only_io = small_panel.with_fields({}, drop=("short_interest",))
    pos = SIGNALS["POS"](only_io, CFG)
    assert not isinstance(pos, Dropped) and set(pos.components) == {"inst_ownership_change"}


def test_vrp_accepts_percent_implied_vol_with_a_warning(small_panel: MarketPanel) -> None:
    iv = small_panel.fields["implied_vol"]
    pct = SIGNALS["VRP"](small_panel.with_fields({"implied_vol": iv * 100.0}), CFG)
    dec = SIGNALS["VRP"](small_panel, CFG)
    assert not isinstance(pct, Dropped) and not isinstance(dec, Dropped)
    assert "percent" in pct.warnings[0]
    assert np.allclose(pct.score, dec.score, equal_nan=True, atol=1e-9)


def test_ern_decays_to_zero_after_the_window(small_panel: MarketPanel) -> None:
    from engine.signals.ern import decay_forward

    event = np.full((10, 1), np.nan)
    event[2, 0] = 2.0
    out = decay_forward(event, 4)[:, 0]
    assert np.isnan(out[:2]).all()
    assert out[2:8].tolist() == pytest.approx([2.0, 1.5, 1.0, 0.5, 0.0, 0.0])


def test_tsx_components_match_hand_computation(small_panel: MarketPanel) -> None:
    from engine.signals.base import zscore

    out = SIGNALS["TSX"](small_panel, CFG)
    assert not isinstance(out, Dropped)
    c = small_panel.close
    t, s, w = 400, CFG.tsx_momentum_skip, CFG.tsx_momentum_window
    mom = c[t - s] / c[t - s - w] - 1.0
    assert np.allclose(out.components["momentum"][t], zscore(mom[None, :])[0])
    rev = -(c[t] / c[t - CFG.tsx_reversal_window] - 1.0)
    assert np.allclose(out.components["reversal"][t], zscore(rev[None, :])[0])
