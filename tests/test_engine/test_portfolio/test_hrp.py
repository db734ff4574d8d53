"""HRP: against PyPortfolioOpt (library convention), the paper's own snippets (paper convention),
invariants (Hypothesis) and metamorphic relations (permutation, scaling)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.cluster.hierarchy as sch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.portfolio.base import Limits
from engine.portfolio.hrp import HRPOptimizer, hrp_weights


def factor_returns(seed: int, n_assets: int, n_obs: int = 400) -> np.ndarray:
    """Returns (n_obs, n_assets) with a few common factors and heterogeneous idiosyncratic vol."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n_obs, 4))
    loadings = rng.normal(size=(4, n_assets))
    idio = rng.normal(size=(n_obs, n_assets)) * 0.02 * rng.uniform(0.5, 2.0, n_assets)
    return factors @ loadings * 0.01 + idio


def paper_hrp(returns: np.ndarray) -> np.ndarray:
    """López de Prado (2016) Snippets 1–4, transcribed with pandas as published (slow reference).

    ``getQuasiDiag`` and ``getRecBipart`` follow the paper line by line; the linkage is
    ``sch.linkage(dist, 'single')`` on the *square* distance matrix, as in the paper's code.
    """
    df = pd.DataFrame(returns)
    cov, corr = df.cov(), df.corr()
    dist = ((1 - corr) / 2.0) ** 0.5
    link = sch.linkage(dist.to_numpy(), "single")

    link = link.astype(int)
    sort_ix = pd.Series([link[-1, 0], link[-1, 1]])
    num_items = link[-1, 3]
    while sort_ix.max() >= num_items:
        sort_ix.index = range(0, sort_ix.shape[0] * 2, 2)
        df0 = sort_ix[sort_ix >= num_items]
        i = df0.index
        j = df0.values - num_items
        sort_ix[i] = link[j, 0]
        df0 = pd.Series(link[j, 1], index=i + 1)
        sort_ix = pd.concat([sort_ix, df0]).sort_index()
        sort_ix.index = range(sort_ix.shape[0])
    sort_ix_list = sort_ix.tolist()

    def cluster_var(items: list[int]) -> float:
        sub = cov.loc[items, items].to_numpy()
        ivp = 1.0 / np.diag(sub)
        ivp /= ivp.sum()
        return float(ivp @ sub @ ivp)

    w = pd.Series(1.0, index=sort_ix_list)
    c_items = [sort_ix_list]
    while len(c_items) > 0:
        c_items = [
            i[j:k]
            for i in c_items
            for j, k in ((0, len(i) // 2), (len(i) // 2, len(i)))
            if len(i) > 1
        ]
        for i in range(0, len(c_items), 2):
            c0, c1 = c_items[i], c_items[i + 1]
            v0, v1 = cluster_var(c0), cluster_var(c1)
            alpha = 1 - v0 / (v0 + v1)
            w[c0] *= alpha
            w[c1] *= 1 - alpha
    return w.sort_index().to_numpy()


@pytest.mark.unit
@pytest.mark.parametrize(("seed", "n_assets"), [(0, 8), (1, 25), (2, 60)])
def test_library_convention_matches_pyportfolioopt(seed: int, n_assets: int) -> None:
    # Independent reference: PyPortfolioOpt 1.5+ HRPOpt (linkage on the condensed distance).
    from pypfopt import HRPOpt

    returns = factor_returns(seed, n_assets)
    names = [f"A{i:04d}" for i in range(n_assets)]  # HRPOpt sorts by name
    ref = pd.Series(HRPOpt(returns=pd.DataFrame(returns, columns=names)).optimize())[names]
    ours = hrp_weights(np.cov(returns, rowvar=False), linkage="library")
    np.testing.assert_allclose(ours, ref.to_numpy(), atol=1e-8, rtol=0)


@pytest.mark.unit
@pytest.mark.filterwarnings("ignore::scipy.cluster.hierarchy.ClusterWarning")
@pytest.mark.parametrize(("seed", "n_assets"), [(3, 10), (4, 40)])
def test_paper_convention_matches_the_papers_snippets(seed: int, n_assets: int) -> None:
    returns = factor_returns(seed, n_assets)
    ours = hrp_weights(np.cov(returns, rowvar=False), linkage="paper", leaf_order="input")
    np.testing.assert_allclose(ours, paper_hrp(returns), atol=1e-10, rtol=0)


@pytest.mark.unit
def test_the_two_conventions_differ_in_general() -> None:
    cov = np.cov(factor_returns(5, 40), rowvar=False)
    assert np.abs(hrp_weights(cov, "paper") - hrp_weights(cov, "library")).max() > 1e-4


@pytest.mark.unit
def test_two_uncorrelated_assets_get_inverse_variance_weights() -> None:
    cov = np.diag([0.04, 0.01])
    np.testing.assert_allclose(hrp_weights(cov), [0.2, 0.8])


@pytest.mark.unit
def test_bad_covariance_is_named() -> None:
    with pytest.raises(ValueError, match="non-positive variances at columns \\[1\\]"):
        hrp_weights(np.diag([0.04, 0.0]))
    with pytest.raises(ValueError, match="square"):
        hrp_weights(np.ones((2, 3)))


@st.composite
def covariances(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(min_value=2, max_value=30))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n + 5, n)) * rng.uniform(0.1, 3.0, n)
    return np.asarray(a.T @ a / (n + 5) + 1e-6 * np.eye(n))


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(cov=covariances(), linkage=st.sampled_from(["paper", "library"]))
def test_weights_positive_and_sum_to_one(cov: np.ndarray, linkage: str) -> None:
    w = hrp_weights(cov, linkage=linkage)  # type: ignore[arg-type]
    assert np.all(w > 0)
    assert abs(w.sum() - 1.0) < 1e-12


@pytest.mark.metamorphic
@settings(max_examples=30, deadline=None)
@given(cov=covariances(), perm_seed=st.integers(min_value=0, max_value=10_000))
def test_permuting_assets_permutes_weights(cov: np.ndarray, perm_seed: int) -> None:
    perm = np.random.default_rng(perm_seed).permutation(cov.shape[0])
    w = hrp_weights(cov)
    w_perm = hrp_weights(cov[np.ix_(perm, perm)])
    np.testing.assert_allclose(w_perm, w[perm], atol=1e-12)


@pytest.mark.metamorphic
@pytest.mark.parametrize("linkage", ["paper", "library"])
@pytest.mark.parametrize("scale", [1e-4, 3.0, 250.0])
def test_scaling_returns_leaves_weights_unchanged(linkage: str, scale: float) -> None:
    returns = factor_returns(6, 30)
    base = hrp_weights(np.cov(returns, rowvar=False), linkage)  # type: ignore[arg-type]
    scaled = hrp_weights(np.cov(returns * scale, rowvar=False), linkage)  # type: ignore[arg-type]
    np.testing.assert_allclose(scaled, base, atol=1e-12)


def limits(**kw: float) -> Limits:
    values = {"gross": 2.0, "net": 0.8, "box": 0.25, "vol_target": 10.0}
    values.update(kw)
    return Limits(**values)  # type: ignore[arg-type]


@pytest.mark.unit
def test_optimizer_scales_to_the_binding_limit() -> None:
    cov = np.cov(factor_returns(7, 20), rowvar=False)
    raw = hrp_weights(cov)
    alloc = HRPOptimizer().allocate(np.zeros(20), cov, None, limits(net=0.8, gross=2.5))
    assert alloc.ok
    np.testing.assert_allclose(alloc.weights, raw * 0.8, atol=1e-12)  # long-only: net binds
    storm = HRPOptimizer().allocate(np.zeros(20), cov, None, limits(net=1.0, gross=0.4))
    np.testing.assert_allclose(storm.weights.sum(), 0.4)
    assert max(alloc.residuals.values()) <= 1e-12


@pytest.mark.unit
def test_optimizer_respects_box_and_vol_target() -> None:
    cov = np.cov(factor_returns(8, 6), rowvar=False)
    alloc = HRPOptimizer().allocate(np.zeros(6), cov, None, limits(box=0.1, net=1.0))
    assert alloc.ok
    assert alloc.weights.max() == pytest.approx(0.1)
    tight = HRPOptimizer().allocate(np.zeros(6), cov, None, limits(vol_target=0.01, box=1.0))
    assert tight.ok
    assert float(tight.weights @ cov @ tight.weights) * 252 == pytest.approx(0.01**2)


@pytest.mark.unit
def test_frozen_assets_keep_their_weight() -> None:
    cov = np.cov(factor_returns(9, 5), rowvar=False)
    lower = np.array([0.05, -0.25, -0.25, -0.25, -0.25])
    upper = np.array([0.05, 0.25, 0.25, 0.25, 0.25])
    alloc = HRPOptimizer().allocate(
        np.zeros(5),
        cov,
        None,
        Limits(gross=2.0, net=0.8, box=0.25, vol_target=10.0, lower=lower, upper=upper),
    )
    assert alloc.ok
    assert alloc.weights[0] == 0.05
    assert alloc.weights.sum() == pytest.approx(0.8)
    np.testing.assert_allclose(
        alloc.weights[1:] / alloc.weights[1:].sum(), hrp_weights(cov[1:, 1:])
    )


@pytest.mark.unit
def test_infeasible_frozen_book_keeps_previous_weights() -> None:
    cov = np.eye(3) * 1e-4
    prev = np.array([0.9, 0.0, 0.0])
    lim = Limits(
        gross=2.0,
        net=0.5,
        box=1.0,
        vol_target=10.0,
        lower=np.array([0.9, -1, -1]),
        upper=np.array([0.9, 1, 1]),
    )
    alloc = HRPOptimizer().allocate(np.zeros(3), cov, prev, lim)
    assert not alloc.ok
    assert "net" in alloc.message
    np.testing.assert_array_equal(alloc.weights, prev)


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(
    cov=covariances(),
    gross=st.floats(min_value=0.1, max_value=3.0),
    net=st.floats(min_value=0.05, max_value=1.5),
    box=st.floats(min_value=0.01, max_value=1.0),
    vol_target=st.floats(min_value=0.01, max_value=1.0),
)
def test_optimizer_always_satisfies_every_limit(
    cov: np.ndarray, gross: float, net: float, box: float, vol_target: float
) -> None:
    lim = Limits(gross=gross, net=net, box=box, vol_target=vol_target)
    alloc = HRPOptimizer().allocate(np.zeros(cov.shape[0]), cov, None, lim)
    assert alloc.ok, alloc.message
    assert np.all(alloc.weights >= 0)
    assert max(alloc.residuals.values()) <= 1e-9
    # Scaling stops at the first binding limit: one of them is (nearly) tight.
    w = alloc.weights
    slack = [gross - w.sum(), net - w.sum(), box - w.max(), lim.variance_cap - w @ cov @ w]
    assert min(abs(x) for x in [*slack[:3], slack[3] / lim.variance_cap]) < 1e-9


@pytest.mark.unit
def test_assets_without_variance_get_nothing() -> None:
    cov = np.cov(factor_returns(10, 5), rowvar=False)
    cov[2, :] = cov[:, 2] = 0.0
    cov[4, :] = cov[:, 4] = np.nan
    alloc = HRPOptimizer().allocate(np.zeros(5), cov, None, limits(net=1.0, box=1.0))
    assert alloc.ok
    assert alloc.weights[2] == 0.0 and alloc.weights[4] == 0.0
    keep = [0, 1, 3]
    np.testing.assert_allclose(alloc.weights[keep], hrp_weights(cov[np.ix_(keep, keep)]))


@pytest.mark.unit
def test_a_frozen_asset_without_covariances_does_not_block_the_others() -> None:
    cov = np.cov(factor_returns(11, 4), rowvar=False)
    cov[0, :] = cov[:, 0] = np.nan
    lower = np.array([0.0, -1.0, -1.0, -1.0])
    upper = np.array([0.0, 1.0, 1.0, 1.0])
    lim = Limits(gross=2.0, net=1.0, box=1.0, vol_target=10.0, lower=lower, upper=upper)
    alloc = HRPOptimizer().allocate(np.zeros(4), cov, None, lim)
    assert alloc.ok
    np.testing.assert_allclose(alloc.weights[1:], hrp_weights(cov[1:, 1:]))
