"""PSR (Bailey & López de Prado 2012) against independent numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from engine.stats.psr import OnlinePSR, probabilistic_sharpe_ratio, psr_details, psr_from_moments


@pytest.mark.unit
def test_dsr_paper_numerical_example() -> None:
    # Bailey & López de Prado (2014), "The Deflated Sharpe Ratio", J. Portfolio Management 40(5),
    # numerical example: annualised SR 2.5 over T = 1250 daily returns (250 days a year),
    # skew −3, kurtosis 10, threshold SR₀ = 0.1132 (per day) → DSR = PSR(SR₀) = 0.9004.
    # SR₀ is published to 4 decimals, hence the 5e-4 tolerance.
    value = psr_from_moments(2.5 / math.sqrt(250), -3.0, 10.0, 1250, 0.1132)
    assert value == pytest.approx(0.9004, abs=5e-4)


@pytest.mark.unit
def test_gaussian_case_by_hand() -> None:
    # SR 0.1, n 101, γ3 0, γ4 3: z = 0.1·10 / √(1 + 0.5·0.01) = 0.997509…; Φ(z) = 0.84074.
    assert psr_from_moments(0.1, 0.0, 3.0, 101) == pytest.approx(0.84074, abs=1e-5)


@pytest.mark.unit
def test_series_against_scipy_moments() -> None:
    rng = np.random.default_rng(11)
    r = rng.standard_t(5, 500) * 0.01 + 0.0008
    sr = r.mean() / r.std(ddof=1)
    g3 = stats.skew(r, bias=True)
    g4 = stats.kurtosis(r, fisher=False, bias=True)
    z = sr * math.sqrt(len(r) - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    expected = stats.norm.cdf(z)
    got = psr_details(r)
    assert got.skew == pytest.approx(g3, rel=1e-10)
    assert got.kurtosis == pytest.approx(g4, rel=1e-10)
    assert got.psr == pytest.approx(expected, rel=1e-10)
    assert probabilistic_sharpe_ratio(r, sr_benchmark=sr) == pytest.approx(0.5)


@pytest.mark.unit
def test_online_matches_batch() -> None:
    rng = np.random.default_rng(3)
    r = rng.normal(0.0003, 0.012, 800) + 0.05  # offset tests the shifted sums
    online = OnlinePSR()
    for i, x in enumerate(r, start=1):
        online.update(float(x))
        if i in (2, 10, 100, 800):
            assert online.value() == pytest.approx(probabilistic_sharpe_ratio(r[:i]), rel=1e-8)


@pytest.mark.unit
def test_degenerate_inputs_are_nan() -> None:
    assert math.isnan(probabilistic_sharpe_ratio(np.array([0.01])))
    assert math.isnan(probabilistic_sharpe_ratio(np.zeros(20)))
