from __future__ import annotations

import numpy as np
import pytest

from engine.config import SyntheticMarketConfig
from engine.data.panel import OPTIONAL_FIELDS
from engine.data.synthetic import SyntheticMarket


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return SyntheticMarket(SyntheticMarketConfig(seed=42, years=4.0))


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    cfg = SyntheticMarketConfig(seed=7, years=1.0, n_assets=10)
    a = SyntheticMarket(cfg).daily_panel().fingerprint()
    b = SyntheticMarket(cfg).daily_panel().fingerprint()
    c = SyntheticMarket(cfg.model_copy(update={"seed": 8})).daily_panel().fingerprint()
    assert a == b
    assert a != c


def test_every_optional_column_and_valid_ohlc(market: SyntheticMarket) -> None:
    panel = market.daily_panel()
    assert panel.N == 54
    for name in OPTIONAL_FIELDS:
        assert panel.has(name), name
    o, h, lo, c = (panel.get(k) for k in ("open", "high", "low", "close"))
    assert c is not None
    assert o is not None and h is not None and lo is not None
    assert (lo > 0).all()
    assert (h >= np.maximum(o, c)).all() and (lo <= np.minimum(o, c)).all()
    bid, ask, vol = panel.get("bid_volume"), panel.get("ask_volume"), panel.get("volume")
    assert bid is not None and ask is not None and vol is not None
    assert np.array_equal(bid + ask, vol)


def test_universe_beyond_csv_adds_synthetic_symbols() -> None:
    panel = SyntheticMarket(SyntheticMarketConfig(years=0.5, n_assets=60)).daily_panel()
    assert panel.N == 60 and panel.symbols[-1] == "SYN006"


def test_regimes_have_rising_vol_and_correlation(market: SyntheticMarket) -> None:
    panel = market.daily_panel()
    reg = market.regime_path()[1:]
    r = np.log(panel.close[1:] / panel.close[:-1])
    vols, corrs = [], []
    for g in range(3):
        rr = r[reg == g]
        assert len(rr) > 30, f"regime {g} too rare in this sample"
        vols.append(rr.mean(axis=1).std() * np.sqrt(252))
        c = np.corrcoef(rr.T)
        corrs.append((c.sum() - len(c)) / (len(c) ** 2 - len(c)))
    assert vols[0] < vols[1] < vols[2]
    assert corrs[0] < corrs[1] < corrs[2]
    assert 0.06 < vols[0] < 0.15 and 0.25 < vols[2] < 0.5


def test_fingerprint_is_identical_in_a_fresh_process() -> None:
    import subprocess
    import sys

    code = (
        "from engine.config import SyntheticMarketConfig as C;"
        "from engine.data.synthetic import SyntheticMarket as M;"
        "print(M(C(seed=11, years=0.5, n_assets=8)).daily_panel().fingerprint())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    here = SyntheticMarket(SyntheticMarketConfig(seed=11, years=0.5, n_assets=8))
    assert out == here.daily_panel().fingerprint()
