"""Ledoit–Wolf against scikit-learn's implementation (the convention we document)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.covariance import ledoit_wolf as sk_ledoit_wolf

from engine.portfolio.covariance import ledoit_wolf, psd_factor, upper_factor


@pytest.mark.unit
@pytest.mark.parametrize(("t", "n", "seed"), [(60, 5, 0), (126, 50, 1), (40, 80, 2), (500, 3, 3)])
def test_matches_sklearn(t: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    factors = rng.normal(0, 0.01, (t, 2))
    x = factors @ rng.normal(size=(2, n)) + rng.normal(0, 0.02, (t, n)) + 0.001
    cov, shrink = ledoit_wolf(x)
    ref_cov, ref_shrink = sk_ledoit_wolf(x)
    assert shrink == pytest.approx(ref_shrink, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10, atol=1e-15)


@pytest.mark.unit
def test_nan_rows_are_neutral_and_result_is_positive_definite() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(0, 0.01, (80, 10))
    x[3, 2] = np.nan
    cov, shrink = ledoit_wolf(x)
    assert np.all(np.isfinite(cov))
    assert 0.0 <= shrink <= 1.0
    assert np.linalg.eigvalsh(cov).min() > 0


@pytest.mark.unit
def test_psd_factor_reconstructs() -> None:
    rng = np.random.default_rng(7)
    a = rng.normal(size=(6, 6))
    cov = a @ a.T
    f = psd_factor(cov)
    np.testing.assert_allclose(f @ f.T, cov, atol=1e-10)


@pytest.mark.unit
@pytest.mark.parametrize("rank", [6, 3])
def test_upper_factor_is_triangular_and_reconstructs(rank: int) -> None:
    rng = np.random.default_rng(rank)
    a = rng.normal(size=(6, rank))
    cov = a @ a.T  # rank 3: only positive semi-definite, exercises the QR path
    u = upper_factor(cov)
    np.testing.assert_allclose(np.tril(u, -1), 0.0, atol=1e-12)
    np.testing.assert_allclose(u.T @ u, cov, atol=1e-10)


@pytest.mark.unit
def test_psd_factor_of_a_singular_matrix() -> None:
    a = np.random.default_rng(9).normal(size=(5, 2))
    cov = a @ a.T
    f = psd_factor(cov)
    np.testing.assert_allclose(f @ f.T, cov, atol=1e-10)


@pytest.mark.unit
def test_column_without_data_does_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    x = np.random.default_rng(10).normal(0, 0.01, (60, 4))
    x[:, 3] = np.nan
    cov, _ = ledoit_wolf(x)
    assert np.all(np.isfinite(cov)) and cov[3, 3] > 0
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]
