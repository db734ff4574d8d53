"""IBKR Pro commissions: golden values computed by hand from the published schedule.

Source of every expected number: interactivebrokers.com/en/pricing/commissions-stocks.php (IBKR
Pro, US stocks, 2024): Tiered 0.0035 USD/share up to 300,000 shares a month, min 0.35, max 1 % of
trade value; clearing 0.0002/share; FINRA TAF 0.000166/share sold (max 8.30); SEC fee 27.80 per
million of sales. Fixed 0.005/share, min 1.00, max 1 %.
"""

from __future__ import annotations

import pytest

from engine.broker.commissions import CommissionModel, CommissionSchedule

pytestmark = [pytest.mark.unit, pytest.mark.broker]


def test_tiered_small_order_pays_the_minimum() -> None:
    # 10 shares × 0.0035 = 0.035 < 0.35 minimum; 1 % of 10 × 100 USD = 10 USD does not bind.
    assert CommissionSchedule().order_commission(10, 1_000.0) == pytest.approx(0.35)


def test_tiered_cap_beats_the_minimum_on_tiny_trades() -> None:
    # 100 shares at 0.25 USD = 25 USD of value; 1 % cap = 0.25 < 0.35 minimum.
    assert CommissionSchedule().order_commission(100, 25.0) == pytest.approx(0.25)


def test_tiered_rate_drops_with_monthly_volume() -> None:
    s = CommissionSchedule()
    assert s.rate(0) == 0.0035
    assert s.rate(300_000) == 0.0020
    assert s.rate(3_000_000) == 0.0015
    assert s.rate(20_000_000) == 0.0010
    assert s.rate(150_000_000) == 0.0005
    # 1,000 shares at 50 USD after 500,000 shares this month: 1,000 × 0.002 = 2.00 USD.
    assert s.order_commission(1_000, 50_000.0, month_volume=500_000) == pytest.approx(2.0)


def test_sell_fees_add_finra_and_sec() -> None:
    s = CommissionSchedule()
    # 1,000 shares sold for 50,000 USD: clearing 0.20, TAF 0.166, SEC 50,000 × 27.8e-6 = 1.39.
    assert s.execution_fees("SELL", 1_000, 50_000.0) == pytest.approx(0.20 + 0.166 + 1.39)
    assert s.execution_fees("BUY", 1_000, 50_000.0) == pytest.approx(0.20)
    # The TAF is capped at 8.30 per trade: 100,000 × 0.000166 = 16.60 → 8.30.
    assert s.execution_fees("SELL", 100_000, 0.0) == pytest.approx(100_000 * 0.0002 + 8.30)


def test_fixed_pricing() -> None:
    s = CommissionSchedule(kind="fixed")
    assert s.order_commission(100, 5_000.0) == pytest.approx(1.0)  # 0.50 → minimum 1.00
    assert s.order_commission(1_000, 50_000.0) == pytest.approx(5.0)
    assert s.execution_fees("BUY", 1_000, 50_000.0) == 0.0


def test_partial_fills_are_charged_incrementally_and_sum_to_the_order_total() -> None:
    model = CommissionModel()
    state = model.open_order()
    first = model.charge(state, "BUY", 50, 100.0)
    second = model.charge(state, "BUY", 150, 100.0)
    # Whole order: 200 × 0.0035 = 0.70 commission + 200 × 0.0002 clearing = 0.74.
    assert first == pytest.approx(0.35 + 50 * 0.0002)  # the minimum is charged up front
    assert first + second == pytest.approx(0.70 + 0.04)
    assert model.month_volume == 200
