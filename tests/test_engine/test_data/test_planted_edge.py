"""The synthetic market's planted edge is there, is causal, and is absent where documented."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import SignalsConfig, SyntheticMarketConfig
from engine.data.synthetic import PLANTED_EDGE, SyntheticMarket
from engine.signals import compute_signals
from engine.signals.ensemble import rank_ic


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return SyntheticMarket(SyntheticMarketConfig(seed=42, years=10.0, n_assets=100))


def _next_day(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    out[:-1] = x[1:]
    return out


def test_edge_signals_have_positive_ic_noise_signals_none(market: SyntheticMarket) -> None:
    panel = market.daily_panel()
    sigs = compute_signals(panel, SignalsConfig())
    fwd = _next_day(panel.returns())
    for name, spec in PLANTED_EDGE.items():
        ic = rank_ic(sigs.scores[name], fwd)
        ic = ic[np.isfinite(ic)]
        mean, se = ic.mean(), ic.std(ddof=1) / np.sqrt(len(ic))
        if spec["has_edge"]:
            # measured ≈ target; require > 5 standard errors and within a factor of ~2
            assert mean > max(5 * se, 0.5 * spec["target_ic"]), (name, mean, se)
            assert mean < 2.0 * spec["target_ic"], (name, mean)
        else:
            assert abs(mean) < 0.012, (name, mean, se)


def test_edge_enters_only_after_the_information_is_published(market: SyntheticMarket) -> None:
    lat = market.latent()
    x, edge = lat["ofi_state"], lat["edge"]
    innovation = x[1:] - 0.7 * x[:-1]  # the new order flow of each day
    same_day = np.nanmean(rank_ic(innovation, edge[1:]))
    next_day = np.nanmean(rank_ic(innovation[:-1], edge[2:]))
    assert abs(same_day) < 0.02 < next_day
    u = lat["surprise"]  # u on announcement days only
    day_of = np.nanmean(rank_ic(u, edge))
    day_after = np.nanmean(rank_ic(u[:-1], edge[1:]))
    assert abs(day_of) < 0.1 < day_after
    assert np.all(edge[0] == 0.0)


def test_edge_scale_zero_is_a_null_market() -> None:
    cfg = SyntheticMarketConfig(seed=42, years=6.0, n_assets=60)
    null = SyntheticMarket(cfg, edge_scale=0.0)
    assert np.all(null.latent()["edge"] == 0.0)
    panel = null.daily_panel()
    sigs = compute_signals(panel, SignalsConfig())
    fwd = _next_day(panel.returns())
    for name in ("OFI", "ERN", "TSX"):
        # standard error ≈ 0.003 here; the edged market gives ≈ 0.03
        assert abs(np.nanmean(rank_ic(sigs.scores[name], fwd))) < 0.012, name
    # the same seed with the edge differs only through the edge
    edged = SyntheticMarket(cfg).daily_panel()
    assert np.array_equal(edged.fields["sentiment"], panel.fields["sentiment"])


def test_edge_lands_in_the_session_not_the_overnight_gap(market: SyntheticMarket) -> None:
    panel = market.daily_panel()
    score = compute_signals(panel, SignalsConfig(enabled=("OFI",))).scores["OFI"]
    open_, close = panel.fields["open"], panel.close
    gap = np.full(close.shape, np.nan)
    gap[1:] = open_[1:] / close[:-1] - 1.0
    session = close / open_ - 1.0
    assert abs(np.nanmean(rank_ic(score, _next_day(gap)))) < 0.012
    assert np.nanmean(rank_ic(score, _next_day(session))) > 0.03
