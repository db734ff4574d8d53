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

DPP: Σ enters through the upper triangle ``u`` of a factor ``U`` (``UᵀU = Σ``, the transposed
Cholesky factor) as a vector parameter, via ``y = Uw`` — ``½‖y‖²`` in the objective and the cone
``‖y‖ ≤ √cap`` for the variance cap; the scaled μ, the per-asset bounds, gross, net, the variance
cap, κ and ``w_prev`` are parameters. The problem is built and canonicalised once per N; each
rebalance only refreshes the numbers and calls the solver. Clarabel is the default solver
(interior point; handles the second-order cone of the variance cap exactly — OSQP cannot, and
SCS is a first-order method with looser accuracy; see ``benchmarks/bench_backtest.py``).

**Per-solve path (measured, ``benchmarks/bench_backtest.py`` part (a)).** ``problem.solve`` on a
compiled DPP problem still spends ≈ 1.5–2.5 ms per call in cvxpy (validating parameter values,
re-applying the parameter → data map into fresh scipy matrices, setting up a new Clarabel solver
— cvxpy's own solver reuse is disabled while Clarabel's presolve is on — and unpacking through
the reduction chain). At N = 20 that was ≈ 80 % of the time. :class:`_DirectClarabel` reads
cvxpy's parameter → data map once (``get_problem_data``), keeps one Clarabel solver per problem
and per solve does two sparse products plus ``DefaultSolver.update`` — the same data cvxpy
would pass (checked at construction against cvxpy's own data; any mismatch falls back to
``problem.solve``), the same Clarabel settings apart from presolve (which only removes rows with
infinite bounds; there are none), hence the same iterates and answer to round-off. What remains
is Clarabel's interior-point solve itself (≈ 10–15 iterations, > 95 % of the time at N ≥ 60).
Clarabel has no warm start (interior point); the reuse is of its allocated solver.

Measured and **not** adopted:

- *A cone-free QP first* (OSQP or Clarabel without the variance cone, the cone problem only when
  the cap binds): the cap binds in every one of the benchmark's windows and in 270 of the 276
  rebalances of the default backtest (λ·10⁴ = 5 makes the return term want more risk than the
  10 % target), so the extra QP would almost always be wasted. Nor does OSQP pay off on the
  binding case through the cap's multiplier (the cone-free QP with μ scaled by τ, a root search
  on τ for wᵀΣw = cap): at eps 1e-7 with polishing each OSQP solve takes 100–500 ADMM
  iterations (≈ 1.5 ms at N = 100), and the search needs several.
- *Clarabel settings*: tolerances 1e-7 save one iteration of 14 (≈ 3 %), the faer direct solver,
  no equilibration, fewer refinement steps: within noise or slower; the defaults stay.
- *Σ in the quadratic objective* (dense ``P``) with the cone on ``Uw``: ≈ 1.5× slower at
  N = 100 (two dense blocks in the KKT system instead of one triangle); the lower- instead of the
  upper-triangular factor: no difference.
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


class _NoDirectPath(Exception):
    """The canonical data of this problem does not have the shape the direct path relies on."""


class _DirectClarabel:
    """Clarabel on cvxpy's canonical data of one DPP problem, refreshed without cvxpy per solve.

    Built once from ``problem.get_problem_data("CLARABEL")``: cvxpy's parameter → data map of the
    problem (``param_prob``: sparse tensors that give the solver's ``q``, ``A`` and ``b`` from the
    parameter vector) is read once, with the structure of ``A`` fixed (``keep_zeros``). Each solve
    then stacks the parameter values, multiplies by the tensors (two sparse products), updates the
    one Clarabel solver in place (``DefaultSolver.update``: no new symbolic setup — the reason
    presolve is off, which only removes rows with infinite bounds, of which there are none) and
    reads ``w`` out of the solver's ``x``. At construction the map is checked against the data
    cvxpy itself hands Clarabel for random parameter values; any difference (e.g. a cvxpy
    version whose internals differ) raises :class:`_NoDirectPath` and the caller keeps using
    ``problem.solve``.
    """

    def __init__(self, problem: Any, params: list[Any], variable: Any) -> None:
        import clarabel
        import cvxpy as cp
        from cvxpy.reductions.solvers.conic_solvers.clarabel_conif import CLARABEL
        from scipy import sparse

        try:
            data, _, _ = problem.get_problem_data(cp.CLARABEL)
            prog = data["param_prob"]
            dims = data["dims"]
            var_len = int(prog.x.size)
            cols = dict(prog.param_id_to_col)
            sizes = dict(prog.param_id_to_size)
            self.layout = [(int(cols[p.id]), int(sizes[p.id])) for p in params]
            self.constant_col = int(cols[-1])  # cvxpy's CONSTANT_ID: the affine offset column
            self.n_params = int(prog.total_param_size) + 1
            if set(cols) != {p.id for p in params} | {-1}:
                raise _NoDirectPath("parameters were rewritten by cvxpy")
            if getattr(prog, "lb_tensor", None) is not None or getattr(prog, "ub_tensor", None):
                raise _NoDirectPath("variable bounds are passed outside A")
            if dims.exp or dims.psd or dims.p3d or dims.pnd:
                raise _NoDirectPath("cones other than zero/nonneg/SOC")
            self.w_col = int(prog.var_id_to_col[variable.id])
            self.w_len = int(variable.size)
            # A and b: one CSR tensor gives the values of a CSC matrix [A | b]; a marker pass
            # finds where each value lands in A's (sorted) CSC data and in b.
            prog.reduced_A.cache(keep_zeros=True)
            self.tensor_a = sparse.csr_array(prog.reduced_A.reduced_mat)
            indices, indptr, shape = prog.reduced_A.problem_data_index
            marks = np.arange(1, len(indices) + 1, dtype=float)
            stacked = sparse.csc_array((marks, indices, indptr), shape=shape)
            a_marks = sparse.csc_array(stacked[:, :-1])
            a_marks.sort_indices()
            self.a_perm = a_marks.data.astype(np.int64) - 1
            self.a_indices, self.a_indptr = a_marks.indices.copy(), a_marks.indptr.copy()
            self.a_shape = (int(shape[0]), var_len)
            b_marks = sparse.coo_array(stacked[:, [-1]])
            self.b_rows = b_marks.coords[0].astype(np.int64)
            self.b_perm = b_marks.data.astype(np.int64) - 1
            self.tensor_q = sparse.csr_array(prog.q)  # (var_len + 1) rows: q, then the offset
            # P: parameter-free here (½‖y‖²); Clarabel takes its upper triangle.
            prog.reduced_P.cache(keep_zeros=True)
            tensor_p = sparse.csc_array(prog.reduced_P.reduced_mat)
            param_cols = np.delete(np.arange(self.n_params), self.constant_col)
            if tensor_p[:, param_cols].count_nonzero():
                raise _NoDirectPath("the quadratic objective depends on parameters")
            p_indices, p_indptr, p_shape = prog.reduced_P.problem_data_index
            p_values = tensor_p[:, [self.constant_col]].toarray().ravel()
            self.p_upper = sparse.triu(
                sparse.csc_array((p_values, p_indices, p_indptr), shape=p_shape), format="csc"
            )
            self.cones = [clarabel.ZeroConeT(int(dims.zero))] if dims.zero else []
            if dims.nonneg:
                self.cones.append(clarabel.NonnegativeConeT(int(dims.nonneg)))
            self.cones += [clarabel.SecondOrderConeT(int(k)) for k in dims.soc]
            self.status_map = {str(k): str(v) for k, v in CLARABEL.STATUS_MAP.items()}
            self._check(problem, params, sparse)
        except _NoDirectPath:
            raise
        except Exception as exc:  # cvxpy internals of another version: use problem.solve
            raise _NoDirectPath(f"{type(exc).__name__}: {exc}") from exc
        self.settings = clarabel.DefaultSettings()
        self.settings.verbose = False
        self.settings.presolve_enable = False
        self._solver: Any = None

    def _vector(self, values: list[np.ndarray]) -> np.ndarray:
        vec = np.zeros(self.n_params)
        vec[self.constant_col] = 1.0
        for (col, size), value in zip(self.layout, values, strict=True):
            vec[col : col + size] = value
        return vec

    def _data(self, vec: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """(q, A's CSC values, b, objective offset) for a stacked parameter vector."""
        flat = self.tensor_a @ vec
        b = np.zeros(self.a_shape[0])
        b[self.b_rows] = flat[self.b_perm]
        q_full = self.tensor_q @ vec
        # cvxpy's conic form is Ax + b ∈ K; Clarabel's is b − Ax ∈ K (hence −A).
        return q_full[:-1], -flat[self.a_perm], b, float(q_full[-1])

    def _check(self, problem: Any, params: list[Any], sparse: Any) -> None:
        """Compare the map with cvxpy's own solver data at random (positive) parameter values."""
        rng = np.random.default_rng(20260)
        values = [rng.uniform(0.5, 1.5, p.size) for p in params]
        for p, value in zip(params, values, strict=True):
            p.value = value.reshape(p.shape) if p.shape else float(value[0])
        data, _, _ = problem.get_problem_data("CLARABEL")
        q, a_values, b, _ = self._data(self._vector(values))
        a = sparse.csc_array((a_values, self.a_indices, self.a_indptr), shape=self.a_shape)
        same = (
            np.allclose(q, data["c"], rtol=1e-12, atol=1e-12)
            and np.allclose(b, data["b"], rtol=1e-12, atol=1e-12)
            and np.allclose(a.toarray(), data["A"].toarray(), rtol=1e-12, atol=1e-12)
            and np.allclose(
                self.p_upper.toarray(), sparse.triu(data["P"]).toarray(), rtol=1e-12, atol=1e-12
            )
        )
        if not same:
            raise _NoDirectPath("the parameter map disagrees with cvxpy's solver data")

    def solve(self, values: list[np.ndarray]) -> tuple[str, np.ndarray | None, float | None]:
        """(status, w or None, objective or None) with ``values`` in the layout's order."""
        q, a_values, b, offset = self._data(self._vector(values))
        try:
            if self._solver is not None:
                try:
                    self._solver.update(q=q, A=a_values, b=b)
                except Exception:  # pattern or size mismatch: set the solver up afresh
                    self._solver = None
            if self._solver is None:
                import clarabel
                from scipy import sparse

                a = sparse.csc_array((a_values, self.a_indices, self.a_indptr), shape=self.a_shape)
                self._solver = clarabel.DefaultSolver(
                    self.p_upper, q, a, b, self.cones, self.settings
                )
            solution = self._solver.solve()
        except Exception as exc:
            self._solver = None
            return f"solver_error: {exc}", None, None
        status = self.status_map.get(str(solution.status), "solver_error")
        if status not in _OK_STATUSES:
            return status, None, None
        x = np.asarray(solution.x, dtype=float)
        return status, x[self.w_col : self.w_col + self.w_len].copy(), solution.obj_val + offset


class QPProblem:
    """The cvxpy problem for N assets, built once; :meth:`solve` refreshes parameters.

    Σ enters through the N(N+1)/2 entries ``u`` of an upper-triangular factor ``U`` (``UᵀU =
    Σ``, row-major) as a plain vector parameter, ``y = vec_to_upper_tri(u)·w = U w``; the
    objective uses ``½‖y‖²`` and the variance cap is the second-order cone ``‖y‖ ≤ σ_cap``. Only
    the triangle reaches the solver (half the matrix of a dense N×N parameter, ≈ 2–3× faster
    solves at N = 100), and every parameter is a plain vector or scalar, so cvxpy's parameter →
    data map addresses them directly (see :class:`_DirectClarabel`). (A ``sparsity=`` matrix
    parameter is rewritten by cvxpy into a hidden reduced parameter; ``S·(u ∘ G·w)`` with 0/1
    matrices compiles in ≈ 6 s at N = 200 against 0.1 s for ``vec_to_upper_tri``.)
    """

    def __init__(self, n: int, *, turnover: bool = True) -> None:
        import cvxpy as cp

        self.n = n
        self.turnover = turnover
        self._rows, self._cols = np.triu_indices(n)  # row-major, as vec_to_upper_tri reads
        m = len(self._rows)
        self.w = cp.Variable(n, name="w")
        self.y = cp.Variable(n, name="y")
        self.factor = cp.Parameter(m, name="U_triangle")
        self.mu_scaled = cp.Parameter(n, name="lambda_mu")
        self.lower = cp.Parameter(n, name="lower")
        self.upper = cp.Parameter(n, name="upper")
        self.gross = cp.Parameter(nonneg=True, name="gross")
        self.net = cp.Parameter(nonneg=True, name="net")
        self.vol_cap = cp.Parameter(nonneg=True, name="vol_cap")
        objective = 0.5 * cp.sum_squares(self.y) - self.mu_scaled @ self.w
        constraints = [
            self.y == cp.vec_to_upper_tri(self.factor) @ self.w,
            cp.SOC(self.vol_cap, self.y),
            cp.norm1(self.w) <= self.gross,
            cp.abs(cp.sum(self.w)) <= self.net,
            self.w >= self.lower,
            self.w <= self.upper,
        ]
        self._params = [
            self.factor,
            self.mu_scaled,
            self.lower,
            self.upper,
            self.gross,
            self.net,
            self.vol_cap,
        ]
        if turnover:
            self.kappa = cp.Parameter(nonneg=True, name="kappa")
            self.w_prev = cp.Parameter(n, name="w_prev")
            # κ‖w − w_prev‖₁ via an epigraph variable: κ·norm1(w − w_prev) multiplies two
            # parameter expressions and is not DPP; κ·Σtᵢ with tᵢ ≥ |wᵢ − w_prevᵢ| is.
            self.trade = cp.Variable(n, nonneg=True, name="trade")
            objective = objective + self.kappa * cp.sum(self.trade)
            constraints += [self.trade >= self.w - self.w_prev, self.trade >= self.w_prev - self.w]
            self._params += [self.kappa, self.w_prev]
        self.problem = cp.Problem(cp.Minimize(objective), constraints)
        self._direct: _DirectClarabel | None = None
        self.direct_unavailable: str | None = None  # why the direct path is off, if it is

    def is_dpp(self) -> bool:
        return bool(self.problem.is_dpp())

    def _values(
        self,
        mu_scaled: np.ndarray,
        factor: np.ndarray,
        limits: Limits,
        prev_weights: np.ndarray | None,
        kappa: float,
    ) -> list[np.ndarray]:
        """Parameter values in the order of ``self._params``, in annualised units.

        Solved in annualised units (objective × periods_per_year): daily variances of 1e-4
        would otherwise sit near the solver's absolute tolerances. Same minimiser.
        """
        lo, hi = limits.bounds(self.n)
        k = float(limits.periods_per_year)
        values = [
            factor[self._rows, self._cols] * np.sqrt(k),
            np.asarray(mu_scaled, dtype=float) * k,
            lo,
            hi,
            np.array([float(limits.gross)]),
            np.array([float(limits.net)]),
            np.array([float(np.sqrt(limits.variance_cap * k))]),
        ]
        if self.turnover:
            prev = np.zeros(self.n) if prev_weights is None else prev_weights
            values += [np.array([float(kappa) * k]), np.asarray(prev, dtype=float)]
        return values

    def direct(self) -> _DirectClarabel | None:
        """The direct Clarabel path (built on first use), or None if unavailable."""
        if self._direct is None and self.direct_unavailable is None:
            try:
                self._direct = _DirectClarabel(self.problem, self._params, self.w)
            except _NoDirectPath as exc:
                self.direct_unavailable = str(exc)
        return self._direct

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
        direct: bool = True,
    ) -> tuple[str, np.ndarray | None, float | None]:
        """Solve with fresh numbers; ``factor`` is upper triangular with ``factorᵀfactor = Σ``.

        Clarabel at its default settings goes through :class:`_DirectClarabel` (unless
        ``direct=False`` or it is unavailable); any other solver or options through
        ``problem.solve``. Returns (status, weights or None, objective or None).
        """
        import cvxpy as cp

        values = self._values(mu_scaled, factor, limits, prev_weights, kappa)
        k = float(limits.periods_per_year)
        path = self.direct() if direct and solver == "CLARABEL" and not solver_opts else None
        if path is not None:
            status, w, objective = path.solve(values)
            return status, w, (None if objective is None else objective / k)
        for param, array in zip(self._params, values, strict=True):
            param.value = array if param.shape else float(array[0])
        try:
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
