from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata, spearmanr

from engine.config import SignalsConfig
from engine.data.synthetic import PLANTED_EDGE, SyntheticMarket
from engine.signals import SignalSet
from engine.signals.ensemble import horizon_returns, ic_weighted_ensemble, rank_ic, row_ranks

CFG = SignalsConfig()


def test_row_ranks_match_scipy_with_ties_and_nans() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 5, (50, 20)).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    assert np.allclose(row_ranks(x), rankdata(x, axis=1, nan_policy="omit"), equal_nan=True)


def test_rank_ic_matches_scipy_spearman() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal((30, 25))
    b = 0.3 * a + rng.standard_normal((30, 25))
    a[0, :3] = np.nan
    b[1, 5] = np.nan
    ic = rank_ic(a, b)
    for t in range(30):
        m = np.isfinite(a[t]) & np.isfinite(b[t])
        assert ic[t] == pytest.approx(spearmanr(a[t, m], b[t, m]).statistic, abs=1e-12)
    assert np.isnan(rank_ic(a[:, :2], b[:, :2])).all()  # fewer than 3 names


def test_horizon_returns_compound() -> None:
    r = np.array([[np.nan], [0.1], [0.2], [-0.5]])
    out = horizon_returns(r, 2)
    assert np.isnan(out[:2, 0]).all()
    assert out[2, 0] == pytest.approx(1.1 * 1.2 - 1) and out[3, 0] == pytest.approx(1.2 * 0.5 - 1)


def _toy(T: int = 200, N: int = 30, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    good = rng.standard_normal((T, N))
    noise = rng.standard_normal((T, N))
    returns = np.full((T, N), np.nan)
    returns[1:] = 0.01 * (0.5 * good[:-1] + rng.standard_normal((T - 1, N)))
    return {"GOOD": good, "NOISE": noise, "BAD": -good}, returns


def test_weights_rules_warmup_then_tstat() -> None:
    scores, returns = _toy()
    res = ic_weighted_ensemble(scores, returns, CFG)
    assert res.names == ("GOOD", "NOISE", "BAD")
    # warm-up: fewer than ic_min_periods realised ICs → equal weights
    assert np.allclose(res.weights[5], [1 / 3, 1 / 3, 1 / 3])
    late = res.weights[100:]
    assert np.allclose(late.sum(axis=1), 1.0)
    assert (late[:, 0] > 0.8).all() and (late[:, 2] == 0).all()  # negative IC clipped to 0
    assert np.nanmean(res.ics[100:, 0]) > 0.3 and np.nanmean(res.ics[100:, 2]) < -0.3


def test_weights_at_t_use_only_realised_returns() -> None:
    scores, returns = _toy()
    res = ic_weighted_ensemble(scores, returns, CFG)
    t = 120
    future = returns.copy()
    future[t + 1 :] = np.random.default_rng(9).standard_normal(future[t + 1 :].shape)
    res2 = ic_weighted_ensemble(scores, future, CFG)
    assert np.array_equal(res.weights[: t + 1], res2.weights[: t + 1])
    assert np.array_equal(res.combined[: t + 1], res2.combined[: t + 1], equal_nan=True)
    # the IC at row t pairs the score of t-h with the return realised at t
    h = CFG.ic_horizon
    assert res.ics[t, 0] == pytest.approx(rank_ic(scores["GOOD"][t - h][None], returns[t][None])[0])


def test_all_negative_ic_goes_flat() -> None:
    scores, returns = _toy()
    res = ic_weighted_ensemble({"BAD": scores["BAD"]}, returns, CFG)
    assert (res.weights[100:] == 0).all()
    assert (res.combined[100:] == 0).all()


def test_weights_favour_the_planted_edge(
    big_market: SyntheticMarket, big_signals: SignalSet
) -> None:
    res = ic_weighted_ensemble(big_signals.scores, big_market.daily_panel().returns(), CFG)
    mean_w = dict(zip(res.names, res.weights[300:].mean(axis=0), strict=True))
    edge = [k for k, v in PLANTED_EDGE.items() if v["has_edge"]]
    noise = [k for k, v in PLANTED_EDGE.items() if not v["has_edge"]]
    assert sum(mean_w[k] for k in edge) > 0.7
    assert min(mean_w[k] for k in edge) > max(mean_w[k] for k in noise)
