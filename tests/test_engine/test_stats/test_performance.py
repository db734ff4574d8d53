"""Performance statistics on series whose answers are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.stats.performance import drawdown_series, max_drawdown_duration, performance_summary


@pytest.mark.unit
def test_hand_computed_series() -> None:
    r = np.array([0.10, -0.20, 0.05, 0.0, 0.10])
    s = performance_summary(r, periods_per_year=5, turnover=np.array([0.5, 0, 0, 0.5, 0]))
    growth = 1.10 * 0.80 * 1.05 * 1.0 * 1.10  # 1.0164
    assert s.total_return == pytest.approx(growth - 1)
    assert s.cagr == pytest.approx(growth - 1)  # exactly one year of 5 periods
    mean = r.mean()
    sd = math.sqrt(((r - mean) ** 2).sum() / 4)
    assert s.volatility == pytest.approx(sd * math.sqrt(5))
    assert s.sharpe == pytest.approx(mean / sd * math.sqrt(5))
    downside = math.sqrt(0.2**2 / 5)
    assert s.sortino == pytest.approx(mean / downside * math.sqrt(5))
    # Peak 1.10, trough 0.88 → 20 % drawdown; below the peak for the last 4 periods.
    assert s.max_drawdown == pytest.approx(0.20)
    assert s.max_drawdown_duration == 4
    assert s.calmar == pytest.approx((growth - 1) / 0.20)
    assert s.hit_rate == pytest.approx(3 / 4)  # the flat period counts neither way
    assert s.turnover == pytest.approx(0.2 * 5)


@pytest.mark.unit
def test_drawdown_counts_initial_capital_as_peak() -> None:
    dd = drawdown_series(np.array([-0.1, 0.05]))
    assert dd[0] == pytest.approx(0.1)
    assert dd[1] == pytest.approx(1 - 0.9 * 1.05)
    assert max_drawdown_duration(np.array([0.01, 0.02])) == 0


@pytest.mark.unit
def test_flat_and_empty_series_give_zeros_not_nan() -> None:
    flat = performance_summary(np.zeros(10))
    assert flat.sharpe == 0.0 and flat.sortino == 0.0 and flat.calmar == 0.0
    assert performance_summary(np.array([])).n_periods == 0


@pytest.mark.unit
def test_annualised_sharpe_of_a_known_gaussian() -> None:
    rng = np.random.default_rng(0)
    r = rng.normal(0.0004, 0.01, 252 * 40)
    s = performance_summary(r)
    assert s.sharpe == pytest.approx(0.0004 / 0.01 * math.sqrt(252), abs=0.2)
