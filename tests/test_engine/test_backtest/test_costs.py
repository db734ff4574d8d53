"""IBKR-like commission, half-spread and square-root impact."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backtest.costs import trade_costs
from engine.config import CostsConfig

CFG = CostsConfig()  # $0.005/share, $1 min, 1 % cap, 2 bp half spread, impact coef 0.1


@pytest.mark.unit
def test_commission_per_share_with_minimum_and_cap() -> None:
    shares = np.array([1000.0, -50.0, 10.0, 0.0])
    price = np.array([50.0, 20.0, 5.0, 10.0])
    c = trade_costs(shares, price, CFG)
    # 1000 × 0.005 = $5; 50 shares → $0.25 → the $1 minimum; 10 × $5 = $50 notional → the 1 %
    # cap ($0.50) beats the $1 minimum; no trade, no cost.
    np.testing.assert_allclose(c.commission, [5.0, 1.0, 0.5, 0.0])


@pytest.mark.unit
def test_half_spread_is_proportional_to_notional() -> None:
    c = trade_costs(np.array([100.0, -100.0]), np.array([50.0, 50.0]), CFG)
    np.testing.assert_allclose(c.spread, [2e-4 * 5000.0] * 2)


@pytest.mark.unit
def test_square_root_impact() -> None:
    shares = np.array([10_000.0, 40_000.0])
    c = trade_costs(
        shares,
        np.array([100.0, 100.0]),
        CFG,
        daily_vol=np.array([0.02, 0.02]),
        adv=np.array([1e6, 1e6]),
    )
    # 0.1 × 0.02 × √(0.01) × $1M = $200; four times the size → twice the rate → $1,600.
    np.testing.assert_allclose(c.impact, [200.0, 1600.0])
    np.testing.assert_allclose(c.total, c.commission + c.spread + c.impact)


@pytest.mark.unit
def test_unknown_volume_means_no_impact() -> None:
    c = trade_costs(
        np.array([100.0]),
        np.array([10.0]),
        CFG,
        daily_vol=np.array([0.02]),
        adv=np.array([np.nan]),
    )
    assert c.impact[0] == 0.0
    assert trade_costs(np.array([100.0]), np.array([10.0]), CFG).impact[0] == 0.0
