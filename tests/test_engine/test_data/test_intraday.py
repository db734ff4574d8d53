from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import timedelta

import numpy as np
import pytest

from engine.config import SyntheticMarketConfig
from engine.data.synthetic import IntradayBar, SyntheticMarket


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return SyntheticMarket(SyntheticMarketConfig(seed=5, years=0.2, n_assets=6))


def test_bars_are_consistent_with_the_daily_bar(market: SyntheticMarket) -> None:
    panel = market.daily_panel()
    day = 10
    bars: dict[str, list[IntradayBar]] = defaultdict(list)
    for bar in market.intraday_bars(day, bar_seconds=300):
        bars[bar.symbol].append(bar)
    assert set(bars) == set(panel.symbols)
    for sym, series in bars.items():
        j = panel.symbol_index(sym)
        f = {k: v[day, j] for k, v in panel.fields.items()}
        assert len(series) == 78  # 6.5 h of 5-minute bars
        assert series[0].open == f["open"] and series[-1].close == f["close"]
        assert max(b.high for b in series) == f["high"]
        assert min(b.low for b in series) == f["low"]
        assert sum(b.volume for b in series) == f["volume"]
        assert sum(b.bid_volume for b in series) == f["bid_volume"]
        for b in series:
            assert b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high
            assert b.bid_volume + b.ask_volume == b.volume and b.bid_volume >= 0
        assert series[0].start.utcoffset() == timedelta(0)
        assert series[0].start.hour in (14, 13)  # 09:30 New York in UTC (EST / EDT)
        assert all(a.end == b.start for a, b in itertools.pairwise(series))


def test_intraday_is_deterministic_and_order_independent(market: SyntheticMarket) -> None:
    all_bars = [b for b in market.intraday_bars(3, 1800) if b.symbol == "MSFT"]
    one = list(market.intraday_bars(3, 1800, symbols=["MSFT"]))
    assert all_bars == one
    again = SyntheticMarket(SyntheticMarketConfig(seed=5, years=0.2, n_assets=6))
    assert list(again.intraday_bars(3, 1800, symbols=["MSFT"])) == one


def test_ticks_carry_bid_ask_volume(market: SyntheticMarket) -> None:
    ticks = list(market.ticks(2, 1800, symbols=["AAPL"]))
    assert [t.tick_type for t in ticks[:3]] == ["BID", "ASK", "TRADE"]
    bid, ask, trade = ticks[:3]
    assert bid.price < trade.price < ask.price
    assert bid.size + ask.size == trade.size


def test_bad_bar_size_and_day(market: SyntheticMarket) -> None:
    with pytest.raises(ValueError, match="must divide"):
        list(market.intraday_bars(0, 7))
    with pytest.raises(IndexError):
        list(market.intraday_bars(10_000, 60))


def test_missing_rate_leaves_holes(market: SyntheticMarket) -> None:
    holed = SyntheticMarket(SyntheticMarketConfig(seed=5, years=1.0, n_assets=6), missing_rate=0.05)
    close = holed.daily_panel().close
    assert 0.02 < np.isnan(close).mean() < 0.08
