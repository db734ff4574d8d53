"""Round trip: any panel written in long format loads back to the same values (NaN stays NaN)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.data.loaders import load_panel, save_panel
from engine.data.panel import MarketPanel

pytestmark = pytest.mark.property


@st.composite
def panels(draw: st.DrawFn) -> MarketPanel:
    T = draw(st.integers(1, 8))
    N = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    close = np.round(rng.uniform(1.0, 500.0, (T, N)), 2)
    holes = rng.random((T, N)) < draw(st.sampled_from([0.0, 0.3]))
    close[holes] = np.nan
    volume = np.where(holes, np.nan, np.round(rng.uniform(0, 1e6, (T, N))))
    sentiment = np.where(rng.random((T, N)) < 0.5, np.nan, np.round(rng.uniform(-1, 1, (T, N)), 3))
    fields = {"open": close, "high": close, "low": close, "close": close, "volume": volume}
    if np.isfinite(sentiment).any():
        fields["sentiment"] = sentiment
    dates = pd.bdate_range("2020-01-01", periods=T)
    return MarketPanel(dates, tuple(f"S{i:02d}" for i in range(N)), fields)


@given(panels(), st.sampled_from([".csv", ".parquet"]))
def test_save_then_load_round_trips(panel: MarketPanel, suffix: str) -> None:
    if not np.isfinite(panel.close).any():
        return  # an all-empty close column is rejected by design (tested elsewhere)
    with tempfile.TemporaryDirectory() as tmp:
        loaded = load_panel(save_panel(panel, Path(tmp) / f"p{suffix}")).panel
    present = np.zeros((panel.T, panel.N), dtype=bool)
    for arr in panel.fields.values():
        present |= np.isfinite(arr)
    kept_rows = np.asarray(present.any(axis=1), dtype=bool)
    kept_cols = np.asarray(present.any(axis=0), dtype=bool)
    assert list(loaded.dates) == list(panel.dates[kept_rows])
    assert loaded.symbols == tuple(
        s for s, k in zip(panel.symbols, kept_cols.tolist(), strict=True) if k
    )
    for name in loaded.fields:
        expected = panel.fields[name][np.ix_(kept_rows, kept_cols)]
        assert np.allclose(loaded.fields[name], expected, equal_nan=True, rtol=1e-12), name
