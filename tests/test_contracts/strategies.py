"""Hypothesis strategies that build valid messages of every type."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

_symbols = st.from_regex(r"\A[A-Z][A-Z0-9.]{0,5}\Z", fullmatch=True)
_prices = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
_sizes = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
_timestamps = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
_uuids = st.uuids()


@st.composite
def bar_events(draw: st.DrawFn) -> dict[str, Any]:
    o, c = draw(_prices), draw(_prices)
    high = max(o, c) * (1 + draw(st.floats(0, 0.1)))
    low = min(o, c) * (1 - draw(st.floats(0, 0.5)))
    return {
        "event_type": "bar_event",
        "symbol": draw(_symbols),
        "timestamp": draw(_timestamps),
        "open": o,
        "high": high,
        "low": max(low, 1e-9),
        "close": c,
        "volume": draw(_sizes),
        "bar_size": draw(st.sampled_from([None, "1min", "5 mins", "1d"])),
    }


def tick_events() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "event_type": st.just("tick_event"),
            "symbol": _symbols,
            "timestamp": _timestamps,
            "price": _prices,
            "size": _sizes,
            "tick_type": st.sampled_from(["TRADE", "BID", "ASK", "LAST"]),
        }
    )


def ofi_events() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "event_type": st.just("ofi_event"),
            "symbol": _symbols,
            "timestamp": _timestamps,
            "ofi_value": st.floats(-1, 1),
            "volume_imbalance": st.floats(-1e12, 1e12),
            "bid_volume": _sizes,
            "ask_volume": _sizes,
        }
    )


@st.composite
def order_intents(draw: st.DrawFn) -> dict[str, Any]:
    order_type = draw(st.sampled_from(["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "ADAPTIVE"]))
    limit = (
        draw(_prices)
        if order_type in ("LIMIT", "STOP_LIMIT")
        else (draw(st.none() | _prices) if order_type == "ADAPTIVE" else None)
    )
    stop = draw(_prices) if order_type in ("STOP", "STOP_LIMIT") else None
    return {
        "event_type": "order_intent",
        "intent_id": draw(_uuids),
        "symbol": draw(_symbols),
        "direction": draw(st.sampled_from(["BUY", "SELL"])),
        "quantity": draw(st.integers(1, 10**9)),
        "order_type": order_type,
        "limit_price": limit,
        "stop_price": stop,
        "decision_price": draw(st.none() | _prices),
        "time_in_force": draw(st.sampled_from(["DAY", "GTC", "IOC"])),
        "timestamp": draw(_timestamps),
    }


@st.composite
def execution_reports(draw: st.DrawFn) -> dict[str, Any]:
    status = draw(
        st.sampled_from(
            ["SUBMITTED", "ACKNOWLEDGED", "PARTIAL_FILL", "FILLED", "CANCELED", "REJECTED"]
        )
    )
    quantity = draw(st.integers(1, 10**6))
    if status == "FILLED":
        filled = quantity
    elif status == "PARTIAL_FILL":
        filled = draw(st.integers(1, quantity))
    elif status == "CANCELED":
        filled = draw(st.integers(0, quantity))
    else:
        filled = 0
    return {
        "event_type": "execution_report",
        "intent_id": draw(_uuids),
        "order_id": draw(st.text("0123456789", min_size=1, max_size=10)),
        "symbol": draw(_symbols),
        "status": status,
        "filled_quantity": filled,
        "avg_fill_price": draw(_prices) if filled else 0.0,
        "timestamp": draw(_timestamps),
        "reject_reason": draw(st.text(min_size=1, max_size=30)) if status == "REJECTED" else None,
        "quantity": draw(st.none() | st.just(quantity)),
        "direction": draw(st.none() | st.sampled_from(["BUY", "SELL"])),
        "commission": draw(st.none() | st.floats(-10, 10)),
    }


def any_message() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        bar_events(), tick_events(), ofi_events(), order_intents(), execution_reports()
    )
