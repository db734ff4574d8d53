"""The default optimiser: SPEC §2.3 mean–variance QP, parameterised once, re-solved per rebalance.

Problem (per-period units, Σ the covariance of per-period returns)::

    minimise    ½ wᵀΣw − λ·(s·μ)ᵀw + κ‖w − w_prev‖₁
    subject to  Σ|wᵢ| ≤ gross,  |Σwᵢ| ≤ net,  lᵢ ≤ wᵢ ≤ uᵢ (|wᵢ| ≤ box),
                wᵀΣw ≤ vol_target² / periods_per_year

**Unit convention for λ.** ``μ`` arrives as a fraction per period; it is multiplied by ``s`` =
``mu_scale`` (default 10⁴, i.e. *μ in basis points per period*) before λ applies. With daily
expected returns of a few basis points and daily variances of a few 10⁻⁴, the seed's
``λ = 5e-4`` then makes ``λ·s = 5`` — the return term and the risk term are of the same order, so
the seed default gives non-trivial weights (with ``s = 1`` the unconstrained optimum would be
``w ≈ 5e-4·Σ⁻¹μ`` ≈ 10⁻³ per asset, i.e. almost flat). ``κ`` (``turnover_penalty``) is a cost per
unit of one-way turnover in the same units as ``½wᵀΣw``.

DPP: Σ enters through an upper-triangular factor parameter ``U`` (``UᵀU = Σ``, the transposed
Cholesky factor, declared sparse) via ``y = Uw`` — ``½‖y‖²`` in the objective and the cone
``‖y‖ ≤ √cap`` for the variance cap; the scaled μ, the per-asset bounds, gross, net, the variance cap, κ and ``w_prev`` are parameters. The
problem is canonicalised once per N (cvxpy caches the parameter → solver-data map), so each
rebalance only refreshes the numbers and calls the solver. Clarabel is the default solver
(interior point; handles the second-order cone of the variance cap exactly — OSQP cannot, and SCS
is a first-order method with looser accuracy; see ``benchmarks/bench_backtest.py``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from engine.portfolio.base import Allocation, Limits, constraint_residuals, fallback_weights
from engine.portfolio.covariance import upper_factor

DEFAULT_SOLVER = "CLARABEL"
FALLBACK_SOLVER = "SCS"
FALLBACK_OPTS: dict[str, dict[str, Any]] = {"SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9}}
MU_SCALE_BPS = 1e4
_OK_STATUSES = ("optimal", "optimal_inaccurate")
# Residual tolerance on the returned weights: Clarabel's default feasibility tolerance is 1e-8
# (relative); we accept 1e-6 absolute on gross/net/box and 1e-6 relative on the variance cap.
RESIDUAL_TOL = 1e-6


class QPProblem:
    """The cvxpy problem for N assets, built once; :meth:`solve` refreshes parameters.

    Σ enters as an upper-triangular factor parameter ``U`` (``UᵀU = Σ``) declared with its
    triangular sparsity, through one auxiliary vector ``y = U w``: the objective uses ``½‖y‖²``
    and the variance cap is the second-order cone ``‖y‖ ≤ σ_cap``. Declaring the triangle halves
    the solver's matrix compared with a dense N×N parameter (≈ 2–3× faster solves at N = 100).
    """

    def __init__(self, n: int, *, turnover: bool = True) -> None:
        import cvxpy as cp

        self.n = n
        self.turnover = turnover
        self._rows, self._cols = np.triu_indices(n)
        self.w = cp.Variable(n, name="w")
        self.y = cp.Variable(n, name="y")
        self.factor = cp.Parameter((n, n), name="U", sparsity=(self._rows, self._cols))
        self.mu_scaled = cp.Parameter(n, name="lambda_mu")
        self.lower = cp.Parameter(n, name="lower")
        self.upper = cp.Parameter(n, name="upper")
        self.gross = cp.Parameter(nonneg=True, name="gross")
        self.net = cp.Parameter(nonneg=True, name="net")
        self.vol_cap = cp.Parameter(nonneg=True, name="vol_cap")
        objective = 0.5 * cp.sum_squares(self.y) - self.mu_scaled @ self.w
        constraints = [
            self.y == self.factor @ self.w,
            cp.SOC(self.vol_cap, self.y),
            cp.norm1(self.w) <= self.gross,
            cp.abs(cp.sum(self.w)) <= self.net,
            self.w >= self.lower,
            self.w <= self.upper,
        ]
        if turnover:
            self.kappa = cp.Parameter(nonneg=True, name="kappa")
            self.w_prev = cp.Parameter(n, name="w_prev")
            # κ‖w − w_prev‖₁ via an epigraph variable: κ·norm1(w − w_prev) multiplies two
            # parameter expressions and is not DPP; κ·Σtᵢ with tᵢ ≥ |wᵢ − w_prevᵢ| is.
            self.trade = cp.Variable(n, nonneg=True, name="trade")
            objective = objective + self.kappa * cp.sum(self.trade)
            constraints += [self.trade >= self.w - self.w_prev, self.trade >= self.w_prev - self.w]
        self.problem = cp.Problem(cp.Minimize(objective), constraints)

    def is_dpp(self) -> bool:
        return bool(self.problem.is_dpp())

    def solve(
        self,
        mu_scaled: np.ndarray,
        factor: np.ndarray,
        limits: Limits,
        *,
        prev_weights: np.ndarray | None = None,
        kappa: float = 0.0,
        solver: str = DEFAULT_SOLVER,
        solver_opts: dict[str, Any] | None = None,
    ) -> tuple[str, np.ndarray | None, float | None]:
        """Solve with fresh numbers; ``factor`` is upper triangular with ``factorᵀfactor = Σ``.

        Returns (status, weights or None, objective or None).
        """
        import warnings

        import cvxpy as cp
        from scipy import sparse

        lo, hi = limits.bounds(self.n)
        # Solve in annualised units (objective × periods_per_year): daily variances of 1e-4
        # would otherwise sit near the solver's absolute tolerances. Same minimiser.
        k = float(limits.periods_per_year)
        data = factor[self._rows, self._cols] * np.sqrt(k)
        self.factor.value_sparse = sparse.coo_array(
            (data, (self._rows, self._cols)), shape=(self.n, self.n)
        )
        self.mu_scaled.value = mu_scaled * k
        self.lower.value = lo
        self.upper.value = hi
        self.gross.value = float(limits.gross)
        self.net.value = float(limits.net)
        self.vol_cap.value = float(np.sqrt(limits.variance_cap * k))
        if self.turnover:
            self.kappa.value = float(kappa) * k
            self.w_prev.value = np.zeros(self.n) if prev_weights is None else prev_weights
        try:
            with warnings.catch_warnings():
                # cvxpy reads the sparse parameter's dense view internally and warns about it.
                warnings.filterwarnings("ignore", message=".*sparse CVXPY expression.*")
                self.problem.solve(solver=solver, warm_start=True, **(solver_opts or {}))
        except cp.SolverError as exc:
            return f"solver_error: {exc}", None, None
        status = str(self.problem.status)
        if status not in _OK_STATUSES or self.w.value is None:
            return status, None, None
        value = self.problem.value
        return (
            status,
            np.asarray(self.w.value, dtype=float),
            (None if value is None else float(value) / k),
        )


class QPOptimizer:
    """SPEC §2.3 QP behind the :class:`~engine.portfolio.base.PortfolioOptimizer` protocol.

    Parameters
    ----------
    lambda_ : float
        λ, the price of expected return (see the module docstring for its unit).
    mu_scale : float
        Multiplier turning μ (fraction per period) into the unit λ prices (10⁴ = basis points).
    turnover_penalty : float
        κ ≥ 0; the ``κ‖w − w_prev‖₁`` term (0 = off: the problem is built without it).
    on_failure : {"keep", "flat"}
        Fallback weights of a failed solve.
    solver : str
        cvxpy solver name (default Clarabel).
    fallback_solver : str or None
        Tried once when ``solver`` fails (default SCS at eps 1e-9); ``None`` = no retry.
    """

    name = "qp"

    def __init__(
        self,
        *,
        lambda_: float = 5e-4,
        mu_scale: float = MU_SCALE_BPS,
        turnover_penalty: float = 0.0,
        on_failure: str = "keep",
        solver: str | None = None,
        fallback_solver: str | None = FALLBACK_SOLVER,
    ) -> None:
        self.lambda_ = lambda_
        self.mu_scale = mu_scale
        self.turnover_penalty = turnover_penalty
        self.on_failure = on_failure
        self.solver = solver or DEFAULT_SOLVER
        self.fallback_solver = fallback_solver
        self._problems: dict[tuple[int, bool], QPProblem] = {}
        self.solves = 0
        self.failures = 0

    def problem_for(self, n: int) -> QPProblem:
        """The cached problem for ``n`` assets (built on first use).

        The turnover term adds N variables and 2N constraints, so it is left out while κ = 0.
        """
        key = (n, self.turnover_penalty > 0)
        if key not in self._problems:
            self._problems[key] = QPProblem(n, turnover=key[1])
        return self._problems[key]

    def allocate(
        self,
        mu: np.ndarray,
        cov: np.ndarray,
        prev_weights: np.ndarray | None,
        limits: Limits,
    ) -> Allocation:
        n = len(mu)
        started = time.perf_counter()
        self.solves += 1
        mu = np.asarray(mu, dtype=float)
        cov = np.asarray(cov, dtype=float)
        if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(cov))):
            return self._failed(prev_weights, n, "invalid_input", "mu or cov has NaN/inf", started)
        problem = self.problem_for(n)
        args = (self.lambda_ * self.mu_scale * mu, upper_factor(cov), limits)
        status, w, objective = problem.solve(
            *args, prev_weights=prev_weights, kappa=self.turnover_penalty, solver=self.solver
        )
        definitive = status in ("infeasible", "unbounded")
        if w is None and not definitive and self.fallback_solver not in (None, self.solver):
            # Interior-point methods occasionally stall on degenerate data (e.g. a fully shrunk,
            # diagonal Σ); one retry with a different algorithm before declaring a failure.
            first = status
            status, w, objective = problem.solve(
                *args,
                prev_weights=prev_weights,
                kappa=self.turnover_penalty,
                solver=str(self.fallback_solver),
                solver_opts=FALLBACK_OPTS.get(str(self.fallback_solver)),
            )
            status = f"{status} ({self.fallback_solver} after {self.solver}: {first})"
        if w is None:
            return self._failed(prev_weights, n, status, f"solver status {status}", started)
        residuals = constraint_residuals(w, cov, limits)
        tol = {k: RESIDUAL_TOL for k in residuals}
        tol["variance"] = max(RESIDUAL_TOL * limits.variance_cap, 1e-8 / limits.periods_per_year)
        worst = {k: v for k, v in residuals.items() if v > tol[k] * 100}
        if worst:
            return self._failed(
                prev_weights, n, "constraint_violation", f"residuals too large: {worst}", started
            )
        return Allocation(
            weights=w,
            ok=True,
            status=status,
            objective=objective,
            residuals=residuals,
            solve_seconds=time.perf_counter() - started,
            message="",
        )

    def _failed(
        self, prev: np.ndarray | None, n: int, status: str, message: str, started: float
    ) -> Allocation:
        self.failures += 1
        return Allocation(
            weights=fallback_weights(prev, n, self.on_failure),
            ok=False,
            status=status,
            objective=None,
            residuals={},
            solve_seconds=time.perf_counter() - started,
            message=f"{message}; kept {'previous weights' if self.on_failure == 'keep' else 'flat'}",
        )
