"""Ledoit–Wolf shrinkage covariance.

The target is a **scaled identity** ``μ_I·I`` with ``μ_I = trace(S)/N`` and ``S`` the biased
(divide by T) sample covariance of the demeaned returns — the convention of
``sklearn.covariance.ledoit_wolf`` (Ledoit & Wolf 2004, "A well-conditioned estimator for
large-dimensional covariance matrices"), whose shrinkage intensity formula this reproduces.
"""

from __future__ import annotations

import numpy as np


def ledoit_wolf(returns: np.ndarray) -> tuple[np.ndarray, float]:
    """Shrunk covariance of ``returns`` (T, N) and the shrinkage intensity in [0, 1].

    NaNs (missing days) are replaced by the column mean before demeaning, i.e. they contribute
    nothing to the covariance; a column with no data at all keeps only the shrinkage target's
    variance ``δ·trace(S)/N`` (the loop does not trade such a column anyway).

    Returns
    -------
    cov : ndarray (N, N)
        ``(1 − δ)·S + δ·(trace(S)/N)·I``, per-period units of ``returns``.
    shrinkage : float
        δ.
    """
    x = np.asarray(returns, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"returns must be (T ≥ 2, N), got shape {x.shape}")
    t, n = x.shape
    finite = np.isfinite(x)
    counts = finite.sum(axis=0)
    sums = np.where(finite, x, 0.0).sum(axis=0)
    col_mean = np.divide(sums, counts, out=np.zeros(n), where=counts > 0)
    x = np.where(finite, x, col_mean) - col_mean
    emp = x.T @ x / t
    mu = float(np.trace(emp)) / n
    if n == 1:
        return emp, 0.0
    x2 = x * x
    delta_ = float(np.sum(emp * emp))  # = Σ (XᵀX)² / T²
    beta_ = float(np.sum(x2.T @ x2)) / t
    beta = (beta_ - delta_) / (n * t)
    delta = (delta_ - 2.0 * mu * float(np.trace(emp)) + n * mu * mu) / n
    beta = min(beta, delta)
    shrinkage = 0.0 if beta <= 0 or delta <= 0 else beta / delta
    cov = (1.0 - shrinkage) * emp
    cov[np.diag_indices(n)] += shrinkage * mu
    return cov, shrinkage


def psd_factor(cov: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """A square factor ``F`` with ``F @ F.T == cov``.

    The lower Cholesky factor when ``cov`` is positive definite (always the case for a
    Ledoit–Wolf estimate with positive shrinkage; ~100× cheaper than an eigendecomposition at
    N ≈ 50); otherwise the symmetric square root via ``eigh`` with negative eigenvalues from
    round-off clipped at ``floor``.
    """
    sym = 0.5 * (cov + cov.T)
    try:
        return np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(sym)
        return vecs * np.sqrt(np.clip(vals, floor, None))


def upper_factor(cov: np.ndarray) -> np.ndarray:
    """Upper-triangular ``U`` with ``U.T @ U == cov`` (``Lᵀ`` of the Cholesky factor).

    For a matrix that is only positive semi-definite, ``U`` is the ``R`` of a QR decomposition
    of ``(eigen square root)ᵀ``, which is upper triangular with the same property.
    """
    sym = 0.5 * (cov + cov.T)
    try:
        return np.ascontiguousarray(np.linalg.cholesky(sym).T)
    except np.linalg.LinAlgError:
        root = psd_factor(sym)
        r = np.linalg.qr(root.T, mode="r")
        return np.asarray(r)
