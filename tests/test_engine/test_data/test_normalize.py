from __future__ import annotations

import pytest

from contracts.validation import validate_message
from engine.config import SyntheticMarketConfig
from engine.data.normalize import bar_event, bar_size_label, ofi_event, ofi_from_bar, tick_event
from engine.data.synthetic import SyntheticMarket


@pytest.fixture(scope="module")
def market() -> SyntheticMarket:
    return SyntheticMarket(SyntheticMarketConfig(seed=2, years=0.1, n_assets=3))


def test_intraday_bars_and_ticks_become_valid_contract_messages(market: SyntheticMarket) -> None:
    bars = list(market.intraday_bars(1, 300))
    for bar in bars:
        event = bar_event(bar)
        assert event.bar_size == "5 mins"
        result = validate_message(event.model_dump(mode="json"))
        assert result.is_valid and result.message_type == "bar_event"
        ofi = ofi_from_bar(bar)
        assert -1.0 <= ofi.ofi_value <= 1.0
        assert ofi.bid_volume + ofi.ask_volume == bar.volume
    for tick in market.ticks(1, 1800):
        assert validate_message(tick_event(tick).model_dump(mode="json")).is_valid


def test_bar_size_labels_and_empty_ofi(market: SyntheticMarket) -> None:
    assert [bar_size_label(s) for s in (5, 60, 120, 3600, 86400)] == [
        "5 secs",
        "1 min",
        "2 mins",
        "1 hour",
        "1 day",
    ]
    bar = next(market.intraday_bars(0, 60))
    assert ofi_event(bar.symbol, bar.end, 0.0, 0.0).ofi_value == 0.0
