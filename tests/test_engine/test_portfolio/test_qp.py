"""The SPEC §2.3 QP: DPP, reference solutions, feasibility properties, failure policy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from engine.portfolio import qp as qp_module
from engine.portfolio.base import Limits, constraint_residuals
from engine.portfolio.covariance import ledoit_wolf, upper_factor
from engine.portfolio.qp import QPOptimizer, QPProblem, _DirectClarabel, _NoDirectPath

# Tolerances: Clarabel runs at its default tolerances (tol_gap_abs = tol_gap_rel = tol_feas = 1e-8;
# presolve off, which only drops rows with infinite bounds, of which the QP has none); we
# accept constraint residuals ≤ 1e-6 absolute (gross, net, box) and ≤ 1e-5 × cap (variance: the
# solver's cone residual is on ‖Fᵀw‖, which maps to ≈ 2·√cap·ε on wᵀΣw; for tiny caps the
# floor is Clarabel's absolute 1e-8 in the annualised units the problem is solved in, / 252),
# and compare against SLSQP (ftol 1e-14) at 1e-4 on weights and 1e-5 relative on the objective.
ABS_TOL = 1e-6
VAR_REL_TOL = 1e-5


def _market(n: int, seed: int, t: int = 150) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = rng.normal(0, 0.01, (t, 2))
    r = f @ rng.normal(size=(2, n)) + rng.normal(0, 0.015, (t, n))
    cov, _ = ledoit_wolf(r)
    mu = 0.03 * np.sqrt(np.diag(cov)) * rng.normal(size=n)  # Grinold α = IC·σ·z
    return mu, cov


def _reference(mu_scaled: np.ndarray, cov: np.ndarray, lim: Limits) -> np.ndarray:
    """SLSQP on the smooth split form w = p − q, p, q ≥ 0 (an independent solver)."""
    n = len(mu_scaled)
    lo, hi = lim.bounds(n)

    def w_of(x: np.ndarray) -> np.ndarray:
        return x[:n] - x[n:]

    def obj(x: np.ndarray) -> float:
        w = w_of(x)
        return float(0.5 * w @ cov @ w - mu_scaled @ w)

    def grad(x: np.ndarray) -> np.ndarray:
        g = cov @ w_of(x) - mu_scaled
        return np.concatenate([g, -g])

    cons = [
        {"type": "ineq", "fun": lambda x: lim.gross - x.sum(), "jac": lambda x: -np.ones(2 * n)},
        {
            "type": "ineq",
            "fun": lambda x: lim.net - w_of(x).sum(),
            "jac": lambda x: np.concatenate([-np.ones(n), np.ones(n)]),
        },
        {
            "type": "ineq",
            "fun": lambda x: lim.net + w_of(x).sum(),
            "jac": lambda x: np.concatenate([np.ones(n), -np.ones(n)]),
        },
        {
            "type": "ineq",
            "fun": lambda x: lim.variance_cap - w_of(x) @ cov @ w_of(x),
            "jac": lambda x: np.concatenate([-2 * cov @ w_of(x), 2 * cov @ w_of(x)]),
        },
        {"type": "ineq", "fun": lambda x: hi - w_of(x)},
        {"type": "ineq", "fun": lambda x: w_of(x) - lo},
    ]
    bounds = [(0.0, lim.box)] * (2 * n)
    res = minimize(
        obj,
        np.zeros(2 * n),
        jac=grad,
        bounds=bounds,
        constraints=cons,
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 2000},
    )
    assert res.success, res.message
    return w_of(res.x)


@pytest.mark.unit
def test_problem_is_dpp() -> None:
    assert QPProblem(7).is_dpp()
    assert QPProblem(7, turnover=False).is_dpp()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("n", "seed", "limits"),
    [
        (8, 0, Limits(gross=2.0, net=0.8, box=0.25, vol_target=0.10)),
        (12, 1, Limits(gross=1.0, net=0.1, box=0.15, vol_target=0.05)),
        (10, 2, Limits(gross=2.5, net=1.0, box=0.5, vol_target=0.30)),
        (6, 3, Limits(gross=0.5, net=0.5, box=0.2, vol_target=1.0)),
    ],
)
def test_matches_independent_slsqp_reference(n: int, seed: int, limits: Limits) -> None:
    mu, cov = _market(n, seed)
    opt = QPOptimizer(lambda_=5e-4)
    alloc = opt.allocate(mu, cov, None, limits)
    assert alloc.ok, alloc.message
    scaled = opt.lambda_ * opt.mu_scale * mu
    ref = _reference(scaled, cov, limits)

    def objective(w: np.ndarray) -> float:
        return float(0.5 * w @ cov @ w - scaled @ w)

    np.testing.assert_allclose(alloc.weights, ref, atol=1e-4)
    assert objective(alloc.weights) == pytest.approx(objective(ref), rel=1e-5, abs=1e-10)
    assert objective(alloc.weights) <= objective(ref) + 1e-9


@pytest.mark.unit
def test_seed_lambda_gives_non_trivial_weights() -> None:
    mu, cov = _market(20, 4)
    alloc = QPOptimizer(lambda_=5e-4).allocate(mu, cov, None, Limits(2.0, 0.8, 0.25, 0.10))
    assert alloc.ok
    # Either the vol target or the gross limit binds: the portfolio takes real risk.
    vol = float(np.sqrt(alloc.weights @ cov @ alloc.weights * 252))
    assert vol > 0.05 or np.abs(alloc.weights).sum() > 1.0


@st.composite
def _problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, Limits, np.ndarray | None]:
    n = draw(st.integers(2, 15))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    t = draw(st.integers(n + 5, 200))
    r = rng.normal(0, draw(st.floats(0.002, 0.05)), (t, n))
    cov, _ = ledoit_wolf(r)
    mu = rng.normal(0, draw(st.floats(1e-6, 1e-2)), n)
    limits = Limits(
        gross=draw(st.floats(0.1, 3.0)),
        net=draw(st.floats(0.0, 1.5)),
        box=draw(st.floats(0.01, 1.0)),
        vol_target=draw(st.floats(0.01, 1.0)),
    )
    prev = rng.uniform(-limits.box, limits.box, n) if draw(st.booleans()) else None
    return mu, cov, limits, prev


@pytest.mark.property
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problems(), st.floats(0.0, 1e-3))
def test_random_feasible_inputs_satisfy_every_constraint(
    case: tuple[np.ndarray, np.ndarray, Limits, np.ndarray | None], kappa: float
) -> None:
    mu, cov, limits, prev = case
    opt = QPOptimizer(turnover_penalty=kappa)
    alloc = opt.allocate(mu, cov, prev, limits)
    assert alloc.ok, alloc.message  # w = 0 is always feasible, so the solve must succeed
    res = constraint_residuals(alloc.weights, cov, limits)
    assert res["gross"] <= ABS_TOL
    assert res["net"] <= ABS_TOL
    assert res["box"] <= ABS_TOL
    assert res["variance"] <= max(VAR_REL_TOL * limits.variance_cap, 1e-8 / 252)
    # The objective is no worse than that of the feasible reference w = 0.
    w = alloc.weights
    scaled = opt.lambda_ * opt.mu_scale * mu
    p = np.zeros_like(w) if prev is None else prev
    value = 0.5 * w @ cov @ w - scaled @ w + kappa * np.abs(w - p).sum()
    assert value <= kappa * np.abs(p).sum() + 1e-8


@pytest.mark.unit
def test_infeasible_solve_keeps_previous_weights_or_goes_flat() -> None:
    mu, cov = _market(5, 6)
    prev = np.array([0.2, 0.2, 0.2, 0.2, 0.0])
    # Freezing four assets at +0.2 forces Σw ≥ 0.8 − 0.25 = 0.55 > net 0.3: infeasible.
    frozen = Limits(
        2.0,
        0.3,
        0.25,
        0.5,
        lower=np.array([0.2, 0.2, 0.2, 0.2, -1]),
        upper=np.array([0.2, 0.2, 0.2, 0.2, 1]),
    )
    keep = QPOptimizer(on_failure="keep")
    alloc = keep.allocate(mu, cov, prev, frozen)
    assert not alloc.ok
    assert "infeasible" in alloc.status
    np.testing.assert_array_equal(alloc.weights, prev)
    assert keep.failures == 1
    flat = QPOptimizer(on_failure="flat").allocate(mu, cov, prev, frozen)
    assert not flat.ok
    np.testing.assert_array_equal(flat.weights, np.zeros(5))


@pytest.mark.unit
def test_nan_input_is_a_failed_allocation_not_an_exception() -> None:
    mu, cov = _market(4, 8)
    mu[1] = np.nan
    alloc = QPOptimizer().allocate(mu, cov, None, Limits(1, 1, 1, 1))
    assert not alloc.ok and alloc.status == "invalid_input"


@pytest.mark.unit
def test_frozen_assets_stay_at_their_weight() -> None:
    mu, cov = _market(6, 9)
    lower = np.full(6, -1.0)
    upper = np.full(6, 1.0)
    lower[2] = upper[2] = 0.1
    alloc = QPOptimizer().allocate(
        mu, cov, None, Limits(2, 0.8, 0.25, 0.2, lower=lower, upper=upper)
    )
    assert alloc.ok
    assert alloc.weights[2] == pytest.approx(0.1, abs=1e-7)


@pytest.mark.unit
def test_problem_is_built_once_per_universe_size() -> None:
    opt = QPOptimizer()
    mu, cov = _market(5, 10)
    opt.allocate(mu, cov, None, Limits(1, 1, 1, 1))
    first = opt.problem_for(5)
    opt.allocate(mu * 2, cov, None, Limits(2, 1, 1, 1))
    assert opt.problem_for(5) is first


@pytest.mark.unit
@pytest.mark.parametrize("turnover", [False, True])
def test_direct_clarabel_path_gives_what_cvxpy_solve_gives(turnover: bool) -> None:
    problem = QPProblem(9, turnover=turnover)
    assert problem.direct() is not None, problem.direct_unavailable
    prev = None
    for seed, limits in enumerate(
        [Limits(2.0, 0.8, 0.25, 0.10), Limits(1.0, 0.1, 0.15, 0.05), Limits(0.5, 0.5, 0.2, 1.0)]
    ):
        mu, cov = _market(9, 20 + seed)
        args = (5.0 * mu, upper_factor(cov), limits)
        fast = problem.solve(*args, prev_weights=prev, kappa=2e-4)
        slow = problem.solve(*args, prev_weights=prev, kappa=2e-4, direct=False)
        assert fast[0] == slow[0] == "optimal"
        assert fast[1] is not None and slow[1] is not None
        np.testing.assert_allclose(fast[1], slow[1], atol=1e-9)
        assert fast[2] == pytest.approx(slow[2], rel=1e-9, abs=1e-14)
        prev = fast[1]


@pytest.mark.unit
def test_direct_path_updates_one_clarabel_solver_in_place() -> None:
    problem = QPProblem(6, turnover=False)
    mu, cov = _market(6, 30)
    problem.solve(mu, upper_factor(cov), Limits(2.0, 0.8, 0.25, 0.10))
    direct = problem.direct()
    assert direct is not None
    solver = direct._solver
    status, w, _ = problem.solve(2 * mu, upper_factor(2 * cov), Limits(1.0, 0.5, 0.3, 0.2))
    assert direct._solver is solver and status == "optimal" and w is not None


@pytest.mark.unit
def test_direct_path_refuses_a_cone_it_does_not_map() -> None:
    import cvxpy as cp

    x = cp.Variable(3)
    a = cp.Parameter(3, value=np.ones(3))
    problem = cp.Problem(cp.Minimize(a @ x - cp.sum(cp.log(x))), [x <= 2])  # exponential cones
    with pytest.raises(_NoDirectPath, match="cones"):
        _DirectClarabel(problem, [a], x)


@pytest.mark.unit
def test_without_the_direct_path_the_solve_goes_through_cvxpy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unavailable(*_: object) -> None:
        raise _NoDirectPath("not mapped")

    monkeypatch.setattr(qp_module, "_DirectClarabel", unavailable)
    mu, cov = _market(8, 0)
    limits = Limits(gross=2.0, net=0.8, box=0.25, vol_target=0.10)
    opt = QPOptimizer(lambda_=5e-4)
    alloc = opt.allocate(mu, cov, None, limits)
    assert opt.problem_for(8).direct_unavailable == "not mapped"
    assert alloc.ok, alloc.message
    ref = _reference(opt.lambda_ * opt.mu_scale * mu, cov, limits)
    np.testing.assert_allclose(alloc.weights, ref, atol=1e-4)
