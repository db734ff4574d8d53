"""Normalisation: synthetic or file data → the contract messages of the market-data topic.

Pure functions that build validated :mod:`contracts.messages` models from the data layer's
records; a value the contract rejects raises pydantic's ``ValidationError`` (the data plane
routes it to the dead-letter topic).
"""

from __future__ import annotations

from datetime import datetime

from contracts.messages import BarEvent, OFIEvent, TickEvent
from engine.data.synthetic import IntradayBar, SyntheticTick


def bar_size_label(bar_seconds: int) -> str:
    """IB-style bar size text: 60 → '1 min', 300 → '5 mins', 5 → '5 secs', 86400 → '1 day'."""
    for unit, seconds in (("day", 86400), ("hour", 3600), ("min", 60), ("sec", 1)):
        if bar_seconds % seconds == 0:
            n = bar_seconds // seconds
            return f"{n} {unit}{'s' if n > 1 else ''}"
    raise ValueError(f"bar_seconds must be a positive integer, got {bar_seconds}")


def bar_event(bar: IntradayBar) -> BarEvent:
    """A ``BarEvent`` stamped with the bar's start time and its size."""
    seconds = int((bar.end - bar.start).total_seconds())
    return BarEvent(
        event_type="bar_event",
        symbol=bar.symbol,
        timestamp=bar.start,
        open=bar.open,
        high=bar.high,
        low=bar.low,
        close=bar.close,
        volume=float(bar.volume),
        bar_size=bar_size_label(seconds),
    )


def tick_event(tick: SyntheticTick) -> TickEvent:
    """A ``TickEvent`` (BID, ASK or TRADE) from a synthetic tick."""
    return TickEvent(
        event_type="tick_event",
        symbol=tick.symbol,
        timestamp=tick.timestamp,
        price=tick.price,
        size=float(tick.size),
        tick_type=tick.tick_type,
    )


def ofi_event(symbol: str, timestamp: datetime, bid_volume: float, ask_volume: float) -> OFIEvent:
    """An ``OFIEvent``: ``(bid − ask) / (bid + ask)`` (0 when there is no volume)."""
    total = bid_volume + ask_volume
    value = (bid_volume - ask_volume) / total if total > 0 else 0.0
    return OFIEvent(
        event_type="ofi_event",
        symbol=symbol,
        timestamp=timestamp,
        ofi_value=max(-1.0, min(1.0, value)),
        volume_imbalance=float(bid_volume - ask_volume),
        bid_volume=float(bid_volume),
        ask_volume=float(ask_volume),
    )


def ofi_from_bar(bar: IntradayBar) -> OFIEvent:
    """The order-flow imbalance of one intraday bar, stamped at the bar's end."""
    return ofi_event(bar.symbol, bar.end, float(bar.bid_volume), float(bar.ask_volume))
