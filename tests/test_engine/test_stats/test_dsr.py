"""Deflated Sharpe Ratio: the paper's numerical example and the false-strategy theorem."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from engine.stats.dsr import (
    deflated_sharpe_from_moments,
    deflated_sharpe_of_best,
    deflated_sharpe_ratio,
    expected_max_sharpe,
)
from engine.stats.psr import probabilistic_sharpe_ratio


@pytest.mark.unit
def test_papers_numerical_example() -> None:
    # Bailey & López de Prado (2014), JPM 40(5), section "A numerical example": annualised
    # SR = 2.5 over T = 1250 daily observations (5 years of 250 days), N = 100 trials whose
    # annualised Sharpe ratios have variance 1/2, skewness −3, kurtosis 10.
    # The paper reports SR₀ ≈ 0.1132 (per day) and DSR ≈ 0.9004.
    days = 250
    sr0 = expected_max_sharpe(100, 0.5 / days)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe_from_moments(
        sharpe=2.5 / math.sqrt(days),
        n_obs=1250,
        skew=-3.0,
        kurtosis=10.0,
        n_trials=100,
        sr_variance=0.5 / days,
    )
    assert dsr == pytest.approx(0.9004, abs=5e-5)


@pytest.mark.unit
def test_expected_max_matches_simulated_maximum() -> None:
    # The Euler–Mascheroni approximation of E[max of N iid N(0, 1)] is within ~1–3 % for N ≥ 10.
    rng = np.random.default_rng(0)
    for n in (10, 100, 1000):
        simulated = rng.standard_normal((4000, n)).max(axis=1).mean()
        assert expected_max_sharpe(n, 1.0) == pytest.approx(simulated, rel=0.03)
    assert expected_max_sharpe(100, 4.0) == pytest.approx(2 * expected_max_sharpe(100, 1.0))


@pytest.mark.unit
def test_one_trial_is_plain_psr() -> None:
    r = np.random.default_rng(1).normal(0.001, 0.01, 500)
    result = deflated_sharpe_ratio(r, n_trials=1, sr_variance=0.3)
    assert result.sr_threshold == 0.0
    assert result.dsr == pytest.approx(probabilistic_sharpe_ratio(r, 0.0))


@pytest.mark.unit
def test_more_trials_deflate_more() -> None:
    r = np.random.default_rng(2).normal(0.001, 0.01, 750)
    values = [deflated_sharpe_ratio(r, n, 0.002).dsr for n in (2, 10, 100, 1000)]
    assert all(a > b for a, b in itertools.pairwise(values))


@pytest.mark.unit
def test_best_of_trials_is_selected_and_deflated() -> None:
    rng = np.random.default_rng(3)
    m = rng.normal(0.0, 0.01, (1000, 50))
    m[:, 17] += 0.002
    best, result = deflated_sharpe_of_best(m)
    assert best == 17
    assert result.n_trials == 50
    assert result.sr_variance > 0
    assert result.dsr < probabilistic_sharpe_ratio(m[:, 17], 0.0)


@pytest.mark.unit
def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="n_trials=0"):
        expected_max_sharpe(0, 1.0)
    with pytest.raises(ValueError, match="sr_variance=-1"):
        expected_max_sharpe(5, -1.0)
