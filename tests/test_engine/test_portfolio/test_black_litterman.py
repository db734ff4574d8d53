"""Black–Litterman: He & Litterman's published example, PyPortfolioOpt agreement, properties,
and the constrained QP on the posterior."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.portfolio.base import Limits
from engine.portfolio.black_litterman import (
    BlackLittermanOptimizer,
    black_litterman_posterior,
    confidence_from_ic_tstat,
    equilibrium_returns,
    signal_views,
)
from engine.portfolio.qp import QPOptimizer

# He, G. & Litterman, R. (1999), "The Intuition Behind Black-Litterman Model Portfolios",
# Goldman Sachs Investment Management Research. Inputs from their Tables 1–2: correlations,
# volatilities and market-capitalisation weights of seven equity markets; δ = 2.5, τ = 0.05.
COUNTRIES = ("Australia", "Canada", "France", "Germany", "Japan", "UK", "USA")
CORR = np.array(
    [
        [1.000, 0.488, 0.478, 0.515, 0.439, 0.512, 0.491],
        [0.488, 1.000, 0.664, 0.655, 0.310, 0.608, 0.779],
        [0.478, 0.664, 1.000, 0.861, 0.355, 0.783, 0.668],
        [0.515, 0.655, 0.861, 1.000, 0.354, 0.777, 0.653],
        [0.439, 0.310, 0.355, 0.354, 1.000, 0.405, 0.306],
        [0.512, 0.608, 0.783, 0.777, 0.405, 1.000, 0.652],
        [0.491, 0.779, 0.668, 0.653, 0.306, 0.652, 1.000],
    ]
)
VOL = np.array([0.160, 0.203, 0.248, 0.271, 0.210, 0.200, 0.187])
W_MKT = np.array([0.016, 0.022, 0.052, 0.055, 0.116, 0.124, 0.615])
SIGMA = np.outer(VOL, VOL) * CORR
DELTA, TAU = 2.5, 0.05
# View 1: Germany outperforms the rest of Europe (France, UK, cap-weighted) by 5 %.
# View 2: Canada outperforms the USA by 3 %.
P1 = np.array([0, 0, -0.295, 1.0, 0, -0.705, 0])
P2 = np.array([0, 1.0, 0, 0, 0, 0, -1.0])


def unconstrained_weights(mu: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """He & Litterman's optimal portfolio w* = (δΣ_BL)⁻¹μ_BL (only for the golden check)."""
    return np.linalg.solve(DELTA * cov, mu)


@pytest.mark.unit
def test_he_litterman_equilibrium_returns() -> None:
    # He & Litterman (1999) Table 2, "Equilibrium Expected Returns" (%).
    pi = equilibrium_returns(SIGMA, W_MKT, DELTA)
    np.testing.assert_allclose(pi * 100, [3.9, 6.9, 8.4, 9.0, 4.3, 6.8, 7.6], atol=0.05)


@pytest.mark.unit
def test_he_litterman_table_4_one_view() -> None:
    # He & Litterman (1999) Table 4 (view 1 only): μ_BL (%) and w* (%); ω/τ = 0.021.
    pi = equilibrium_returns(SIGMA, W_MKT, DELTA)
    post = black_litterman_posterior(SIGMA, pi, P1[None, :], np.array([0.05]), tau=TAU)
    np.testing.assert_allclose(post.mu * 100, [4.3, 7.6, 9.3, 11.0, 4.5, 7.0, 8.1], atol=0.05)
    w = unconstrained_weights(post.mu, post.cov)
    np.testing.assert_allclose(w * 100, [1.5, 2.1, -3.9, 35.4, 11.0, -9.5, 58.6], atol=0.05)
    assert post.omega[0, 0] / TAU == pytest.approx(0.021, abs=5e-4)


@pytest.mark.unit
def test_he_litterman_table_5_two_views() -> None:
    # He & Litterman (1999) Table 5 (views 1 and 2): μ_BL (%) and w* (%); ω/τ = 0.021, 0.017.
    # The same numbers are reproduced in Walters (2014), "The Black-Litterman Model in Detail".
    pi = equilibrium_returns(SIGMA, W_MKT, DELTA)
    post = black_litterman_posterior(
        SIGMA, pi, np.vstack([P1, P2]), np.array([0.05, 0.03]), tau=TAU
    )
    np.testing.assert_allclose(post.mu * 100, [4.4, 8.7, 9.5, 11.2, 4.6, 7.0, 7.5], atol=0.05)
    w = unconstrained_weights(post.mu, post.cov)
    np.testing.assert_allclose(w * 100, [1.5, 41.9, -3.4, 33.6, 11.0, -8.2, 18.8], atol=0.05)
    np.testing.assert_allclose(np.diag(post.omega) / TAU, [0.021, 0.017], atol=5e-4)
    # The tilt away from w_mkt/(1+τ) lies in the span of the view portfolios (their Λ weights).
    lam = np.linalg.lstsq(np.vstack([P1, P2]).T, w - W_MKT / (1 + TAU), rcond=None)[0]
    np.testing.assert_allclose(np.vstack([P1, P2]).T @ lam, w - W_MKT / (1 + TAU), atol=1e-12)


@pytest.mark.unit
@pytest.mark.parametrize("confidences", [None, [0.5, 0.8], [1.0, 0.3]])
def test_posterior_matches_pyportfolioopt(confidences: list[float] | None) -> None:
    from pypfopt.black_litterman import BlackLittermanModel

    df = pd.DataFrame(SIGMA, index=COUNTRIES, columns=COUNTRIES)
    pi = equilibrium_returns(SIGMA, W_MKT, DELTA)
    P, Q = np.vstack([P1, P2]), np.array([0.05, 0.03])
    kwargs = {} if confidences is None else {"omega": "idzorek", "view_confidences": confidences}
    ref = BlackLittermanModel(df, pi=pi, P=P, Q=Q, tau=TAU, **kwargs)
    ours = black_litterman_posterior(SIGMA, pi, P, Q, tau=TAU, confidences=confidences)
    np.testing.assert_allclose(ours.mu, ref.bl_returns().to_numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.cov, ref.bl_cov().to_numpy(), atol=1e-12)


@pytest.mark.unit
def test_full_confidence_makes_the_view_hold_and_zero_drops_it() -> None:
    pi = equilibrium_returns(SIGMA, W_MKT, DELTA)
    P, Q = np.vstack([P1, P2]), np.array([0.05, 0.03])
    sure = black_litterman_posterior(SIGMA, pi, P, Q, tau=TAU, confidences=[1.0, 0.0])
    assert P1 @ sure.mu == pytest.approx(0.05, abs=1e-12)
    assert sure.Q.size == 1
    only_first = black_litterman_posterior(
        SIGMA, pi, P1[None], Q[:1], tau=TAU, omega=np.zeros((1, 1))
    )
    np.testing.assert_allclose(sure.mu, only_first.mu, atol=1e-12)


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=1, max_value=25))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    a = rng.normal(size=(n + 3, n)) * 0.01
    cov = a.T @ a / (n + 3) + 1e-6 * np.eye(n)
    return cov, rng.normal(0, 1e-3, n)


@pytest.mark.property
@settings(max_examples=40, deadline=None)
@given(problem=problems(), tau=st.floats(min_value=1e-3, max_value=1.0))
def test_no_views_returns_the_prior(problem: tuple[np.ndarray, np.ndarray], tau: float) -> None:
    cov, pi = problem
    post = black_litterman_posterior(cov, pi, tau=tau)
    np.testing.assert_array_equal(post.mu, pi)
    np.testing.assert_allclose(post.cov, (1 + tau) * cov, rtol=1e-12)
    # A view that says exactly what the prior says changes nothing either.
    P = np.eye(cov.shape[0])[:1]
    same = black_litterman_posterior(cov, pi, P, P @ pi, tau=tau)
    np.testing.assert_allclose(same.mu, pi, atol=1e-15)


@pytest.mark.unit
def test_signal_views_and_confidence_mapping() -> None:
    pi = equilibrium_returns(SIGMA, W_MKT, DELTA)
    z = np.array([1.0, np.nan, -2.0, 0.0, np.nan, 0.5, 1.5])
    views = signal_views(z, pi, SIGMA, ic=0.05, ic_tstat=1.96)
    assert views.P.shape == (5, 7)
    np.testing.assert_allclose(
        views.Q, pi[[0, 2, 3, 5, 6]] + 0.05 * VOL[[0, 2, 3, 5, 6]] * z[[0, 2, 3, 5, 6]]
    )
    assert views.confidences is not None
    assert views.confidences[0] == pytest.approx(0.95, abs=1e-3)
    assert confidence_from_ic_tstat(0.0) == 0.0
    assert confidence_from_ic_tstat(50.0) == 0.99
    assert confidence_from_ic_tstat(float("nan")) == 0.0


def loose_limits(**kw: float) -> Limits:
    values = {"gross": 100.0, "net": 100.0, "box": 100.0, "vol_target": 100.0}
    values.update(kw)
    return Limits(**values)  # type: ignore[arg-type]


@pytest.mark.integration
def test_optimizer_without_views_holds_the_market_portfolio() -> None:
    # With slack limits the QP's optimum is λ·s·Σ_BL⁻¹Π = λ·s·δ/(1+τ)·w_mkt: the market, scaled.
    qp = QPOptimizer(lambda_=1.0, mu_scale=1.0)
    bl = BlackLittermanOptimizer(qp=qp, tau=TAU, delta=DELTA, market_weights=W_MKT)
    alloc = bl.allocate(np.zeros(7), SIGMA, None, loose_limits())
    assert alloc.ok, alloc.message
    np.testing.assert_allclose(alloc.weights, DELTA / (1 + TAU) * W_MKT, atol=1e-6)
    assert bl.last_posterior is not None and bl.last_posterior.Q.size == 0


@pytest.mark.integration
def test_optimizer_respects_every_limit_and_follows_views() -> None:
    rng = np.random.default_rng(11)
    n = 12
    a = rng.normal(size=(200, n)) * 0.01
    cov = a.T @ a / 200
    alpha = np.zeros(n)
    alpha[2], alpha[7] = 0.002, -0.002
    limits = Limits(gross=1.0, net=0.4, box=0.25, vol_target=0.10)
    alloc = BlackLittermanOptimizer(omega="idzorek", confidence=0.8).allocate(
        alpha, cov, None, limits
    )
    assert alloc.ok, alloc.message
    w = alloc.weights
    assert np.abs(w).sum() <= 1.0 + 1e-6
    assert abs(w.sum()) <= 0.4 + 1e-6
    assert np.abs(w).max() <= 0.25 + 1e-6
    assert w @ cov @ w <= 0.10**2 / 252 * (1 + 1e-6)
    assert w[2] > 0 > w[7]
    assert "2 views" in alloc.message
