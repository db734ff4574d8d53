"""Black–Litterman (He & Litterman, 1999) with views from the signal ensemble.

**Prior.** The equilibrium (reverse-optimised) returns ``Π = δ Σ w_mkt``; δ is the market's
risk aversion (2.5 by default, He & Litterman's value) and ``w_mkt`` the market weights (equal
weights when no capitalisations are given — the synthetic market has none).

**Views.** ``P`` (K × N) picks view portfolios, ``Q`` (K,) their expected returns, ``Ω`` (K × K)
their uncertainty:

* ``Ω = diag(P τΣ Pᵀ)`` by default (He & Litterman's choice: each view as uncertain as the prior
  on its portfolio);
* or Idzorek (2005) confidences ``c_k ∈ [0, 1]`` through the closed form given by Walters
  (2014), also PyPortfolioOpt's: ``ω_k = τ · (1 − c_k)/c_k · p_k Σ p_kᵀ`` (``c = 1``: the view
  holds exactly; ``c = 0``: the view is dropped).

**Posterior** (He & Litterman 1999, eqs. in their Appendix)::

    μ_BL = [(τΣ)⁻¹ + PᵀΩ⁻¹P]⁻¹ [(τΣ)⁻¹Π + PᵀΩ⁻¹Q]
    Σ_BL = Σ + M,   M = [(τΣ)⁻¹ + PᵀΩ⁻¹P]⁻¹

computed in the algebraically equal form that inverts only the K × K matrix ``PτΣPᵀ + Ω``
(no inverse of Σ, and ``Ω = 0`` is allowed)::

    μ_BL = Π + τΣPᵀ (PτΣPᵀ + Ω)⁻¹ (Q − PΠ)
    M    = τΣ − τΣPᵀ (PτΣPᵀ + Ω)⁻¹ PτΣ

With no views, ``μ_BL = Π`` and ``Σ_BL = (1 + τ)Σ``.

**How signals become views** (:func:`signal_views`). The ensemble's standardised score ``zᵢ``
becomes one *absolute* view per asset with a finite score, following Grinold's "alpha = IC ×
volatility × score": ``Q_i = Π_i + IC · σ_i · z_i`` with ``σ_i = √Σ_ii`` (per period). The view
confidence comes from the IC's t-statistic: ``c = 2Φ(|t|) − 1`` (the two-sided significance of
the IC), capped at 0.99 — an IC indistinguishable from zero gives views the optimiser barely
hears.

**Optimiser** (:class:`BlackLittermanOptimizer`). The backtest hands every optimiser ``mu``, its
expected return per asset and period built from the ensemble (``IC · σ · z``). Black–Litterman
reads it as the *alpha* of the absolute views, ``Q = Π + mu`` (NaN or exactly 0 = no view on
that asset), and then runs the SPEC §2.3 QP (:class:`engine.portfolio.qp.QPOptimizer`, all
limits included) on ``(μ_BL, Σ_BL)`` — never the unconstrained ``(δΣ_BL)⁻¹μ_BL``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.stats import norm

from engine.portfolio.base import Allocation, Limits
from engine.portfolio.qp import QPOptimizer

OmegaMethod = Literal["default", "idzorek"]

MAX_CONFIDENCE = 0.99


@dataclass(frozen=True)
class BLPosterior:
    """Posterior of :func:`black_litterman_posterior` (units as the inputs: per period)."""

    mu: np.ndarray  # (N,) μ_BL
    cov: np.ndarray  # (N, N) Σ_BL = Σ + M
    m: np.ndarray  # (N, N) posterior uncertainty of the mean
    omega: np.ndarray  # (K, K) view uncertainty used
    P: np.ndarray  # (K, N) views kept
    Q: np.ndarray  # (K,)


@dataclass(frozen=True)
class Views:
    """Absolute or relative views: ``P`` (K, N), ``Q`` (K,), optional confidences (K,)."""

    P: np.ndarray
    Q: np.ndarray
    confidences: np.ndarray | None = None


def equilibrium_returns(cov: np.ndarray, market_weights: np.ndarray, delta: float) -> np.ndarray:
    """Reverse-optimised returns ``Π = δ Σ w_mkt`` (N,), in the units of ``cov``."""
    return float(delta) * np.asarray(cov, dtype=float) @ np.asarray(market_weights, dtype=float)


def idzorek_omega(
    P: np.ndarray, cov: np.ndarray, tau: float, confidences: np.ndarray
) -> np.ndarray:
    """Diagonal Ω (K, K) from confidences in (0, 1] (Walters' closed form of Idzorek 2005)."""
    conf = np.asarray(confidences, dtype=float)
    if np.any((conf <= 0) | (conf > 1)):
        raise ValueError(
            f"confidences must lie in (0, 1]; got {conf.tolist()} (drop views with confidence 0)"
        )
    view_var = np.einsum("kn,nm,km->k", P, cov, P)
    return np.diag(tau * (1.0 - conf) / conf * view_var)


def black_litterman_posterior(
    cov: np.ndarray,
    pi: np.ndarray,
    P: np.ndarray | None = None,
    Q: np.ndarray | None = None,
    *,
    tau: float = 0.05,
    omega: np.ndarray | None = None,
    confidences: np.ndarray | None = None,
) -> BLPosterior:
    """He–Litterman posterior mean and covariance.

    Parameters
    ----------
    cov : ndarray (N, N)
        Covariance Σ of returns (per period).
    pi : ndarray (N,)
        Prior (equilibrium) returns Π, same period.
    P, Q : ndarray (K, N) and (K,), optional
        Views; ``None`` or K = 0 → no views (posterior mean Π).
    tau : float
        Scale of the prior's uncertainty (He & Litterman use 0.05).
    omega : ndarray (K, K), optional
        View uncertainty; default ``diag(P τΣ Pᵀ)``.
    confidences : ndarray (K,), optional
        Idzorek confidences in [0, 1] instead of ``omega``; views with confidence 0 are dropped.
    """
    cov = np.asarray(cov, dtype=float)
    pi = np.asarray(pi, dtype=float)
    n = cov.shape[0]
    if cov.shape != (n, n) or pi.shape != (n,):
        raise ValueError(f"cov must be (N, N) and pi (N,); got {cov.shape} and {pi.shape}")
    if tau <= 0:
        raise ValueError(f"tau={tau}: τ must be positive")
    p = np.zeros((0, n)) if P is None else np.atleast_2d(np.asarray(P, dtype=float))
    q = np.zeros(0) if Q is None else np.asarray(Q, dtype=float).reshape(-1)
    if p.shape != (q.size, n):
        raise ValueError(f"P must be (K, N={n}) and Q (K,); got P {p.shape} and Q {q.shape}")
    if omega is not None and confidences is not None:
        raise ValueError("give omega or confidences, not both")
    if confidences is not None:
        conf = np.asarray(confidences, dtype=float).reshape(-1)
        if conf.shape != q.shape:
            raise ValueError(f"confidences must be (K={q.size},); got {conf.shape}")
        if np.any((conf < 0) | (conf > 1)):
            raise ValueError(f"confidences must lie in [0, 1]; got {conf.tolist()}")
        keep = conf > 0
        p, q, conf = p[keep], q[keep], conf[keep]
        omega_k = idzorek_omega(p, cov, tau, conf)
    elif omega is not None:
        omega_k = np.atleast_2d(np.asarray(omega, dtype=float))
        if omega_k.shape != (q.size, q.size):
            raise ValueError(f"omega must be (K, K) with K={q.size}; got {omega_k.shape}")
    else:
        omega_k = np.diag(np.einsum("kn,nm,km->k", p, tau * cov, p))
    tau_cov = tau * cov
    if q.size == 0:
        m = tau_cov
        mu = pi.copy()
    else:
        tau_cov_pt = tau_cov @ p.T  # (N, K)
        a = p @ tau_cov_pt + omega_k  # (K, K)
        mu = pi + tau_cov_pt @ np.linalg.solve(a, q - p @ pi)
        m = tau_cov - tau_cov_pt @ np.linalg.solve(a, tau_cov_pt.T)
        m = 0.5 * (m + m.T)
    return BLPosterior(mu=mu, cov=cov + m, m=m, omega=omega_k, P=p, Q=q)


def confidence_from_ic_tstat(t_stat: float) -> float:
    """View confidence ``2Φ(|t|) − 1`` of an IC t-statistic, capped at 0.99 (NaN → 0)."""
    if not math.isfinite(t_stat):
        return 0.0
    return float(min(MAX_CONFIDENCE, 2.0 * norm.cdf(abs(t_stat)) - 1.0))


def signal_views(
    scores: np.ndarray,
    pi: np.ndarray,
    cov: np.ndarray,
    ic: float,
    ic_tstat: float | None = None,
) -> Views:
    """One absolute view per asset with a finite score: ``Q_i = Π_i + IC·σ_i·z_i``.

    ``scores`` (N,) are the ensemble's cross-sectional z-scores at the decision date; ``ic`` the
    ensemble's information coefficient (per period of the forecast horizon); ``ic_tstat``, when
    given, sets every view's Idzorek confidence (:func:`confidence_from_ic_tstat`).
    """
    z = np.asarray(scores, dtype=float)
    idx = np.flatnonzero(np.isfinite(z))
    sigma = np.sqrt(np.diag(np.asarray(cov, dtype=float)))
    P = np.zeros((idx.size, z.size))
    P[np.arange(idx.size), idx] = 1.0
    Q = np.asarray(pi, dtype=float)[idx] + ic * sigma[idx] * z[idx]
    conf = None
    if ic_tstat is not None:
        conf = np.full(idx.size, confidence_from_ic_tstat(ic_tstat))
    return Views(P=P, Q=Q, confidences=conf)


@dataclass
class BlackLittermanOptimizer:
    """Black–Litterman posterior, then the SPEC §2.3 QP, behind the optimiser protocol.

    ``mu`` given to :meth:`allocate` is read as per-period alphas: asset ``i`` with a finite,
    non-zero ``mu_i`` gets the absolute view ``Q_i = Π_i + mu_i``.

    Parameters
    ----------
    qp : QPOptimizer
        The constrained QP solved on ``(μ_BL, Σ_BL)``; reuse one instance across rebalances (its
        cvxpy problem is built once per N).
    tau, delta : float
        BL prior scale τ and market risk aversion δ (config ``portfolio.bl_tau``/``bl_delta``).
    omega : {"default", "idzorek"}
        ``diag(PτΣPᵀ)`` or Idzorek confidences (``confidence``, one value for every view —
        e.g. :func:`confidence_from_ic_tstat` of the ensemble's IC t-statistic).
    market_weights : ndarray (N,) or None
        ``w_mkt`` of the prior; ``None`` = equal weights.
    """

    qp: QPOptimizer = field(default_factory=QPOptimizer)
    tau: float = 0.05
    delta: float = 2.5
    omega: OmegaMethod = "default"
    confidence: float = 0.5
    market_weights: np.ndarray | None = None
    name: str = "bl"
    last_posterior: BLPosterior | None = field(default=None, init=False, repr=False)

    def posterior(self, mu: np.ndarray, cov: np.ndarray) -> BLPosterior:
        """BL posterior for the alphas ``mu`` (N,) and per-period covariance ``cov``."""
        cov = np.asarray(cov, dtype=float)
        n = cov.shape[0]
        w_mkt = np.full(n, 1.0 / n) if self.market_weights is None else self.market_weights
        pi = equilibrium_returns(cov, w_mkt, self.delta)
        alpha = np.asarray(mu, dtype=float)
        idx = np.flatnonzero(np.isfinite(alpha) & (alpha != 0))
        P = np.zeros((idx.size, n))
        P[np.arange(idx.size), idx] = 1.0
        Q = pi[idx] + alpha[idx]
        if self.omega == "idzorek":
            conf = np.full(idx.size, self.confidence)
            return black_litterman_posterior(cov, pi, P, Q, tau=self.tau, confidences=conf)
        return black_litterman_posterior(cov, pi, P, Q, tau=self.tau)

    def allocate(
        self,
        mu: np.ndarray,
        cov: np.ndarray,
        prev_weights: np.ndarray | None,
        limits: Limits,
    ) -> Allocation:
        """QP weights (N,) on the BL posterior under ``limits``."""
        cov = np.asarray(cov, dtype=float)
        if not np.all(np.isfinite(cov)):
            return self.qp.allocate(np.full(cov.shape[0], np.nan), cov, prev_weights, limits)
        post = self.posterior(mu, cov)
        self.last_posterior = post
        alloc = self.qp.allocate(post.mu, post.cov, prev_weights, limits)
        note = f"Black–Litterman: {post.Q.size} views, τ={self.tau}, δ={self.delta}"
        message = f"{note}; {alloc.message}" if alloc.message else note
        return Allocation(
            weights=alloc.weights,
            ok=alloc.ok,
            status=alloc.status,
            objective=alloc.objective,
            residuals=alloc.residuals,
            solve_seconds=alloc.solve_seconds,
            message=message,
        )
