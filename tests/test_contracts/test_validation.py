"""Validators: results not exceptions, readable paths, Python and JSON inputs alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from contracts.messages import BarEvent, ExecutionReport, OrderIntent
from contracts.validation import (
    ValidationIssue,
    format_loc,
    validate_execution_report,
    validate_message,
    validate_order_intent,
)

pytestmark = pytest.mark.unit

INTENT = {
    "event_type": "order_intent",
    "intent_id": "550e8400-e29b-41d4-a716-446655440000",
    "symbol": "GOOGL",
    "direction": "BUY",
    "quantity": 100,
    "order_type": "LIMIT",
    "limit_price": 2850.50,
    "timestamp": "2025-11-17T09:30:15Z",
}


def test_seed_producer_example_validates_and_dumps() -> None:
    # SPEC §4's producer example: intent_id from uuid4, timestamp from datetime.now(UTC).
    data = {
        "event_type": "order_intent",
        "intent_id": str(uuid4()),
        "symbol": "AAPL",
        "direction": "BUY",
        "quantity": 100,
        "order_type": "MARKET",
        "timestamp": datetime(2025, 11, 17, 9, 30, 15, 123456, tzinfo=UTC).isoformat(),
    }
    result = validate_order_intent(data)
    assert result.is_valid and result.message_type == "order_intent"
    assert isinstance(result.validated_data, OrderIntent)
    assert result.validated_data.timestamp.utcoffset() == timedelta(0)
    dumped = result.validated_data.model_dump(mode="json")
    assert dumped["timestamp"] == "2025-11-17T09:30:15.123456Z"


def test_python_objects_are_accepted_when_utc() -> None:
    intent = OrderIntent(
        event_type="order_intent",
        intent_id=UUID(INTENT["intent_id"]),
        symbol="GOOGL",
        direction="SELL",
        quantity=5,
        order_type="MARKET",
        timestamp=datetime(2025, 11, 17, 9, 30, tzinfo=UTC),
    )
    assert intent.limit_price is None and intent.time_in_force == "DAY"


@pytest.mark.parametrize(
    "stamp",
    [
        datetime(2025, 11, 17, 9, 30),  # naive
        datetime(2025, 11, 17, 9, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_python_datetimes_must_be_utc(stamp: datetime) -> None:
    result = validate_order_intent({**INTENT, "timestamp": stamp})
    assert not result.is_valid
    assert [e.path for e in result.errors] == ["timestamp"]
    assert "UTC" in result.errors[0].message


def test_models_are_frozen_and_forbid_extra_fields() -> None:
    model = validate_order_intent(INTENT).validated_data
    assert model is not None
    with pytest.raises(Exception, match="frozen"):
        model.quantity = 5  # type: ignore[misc]
    result = validate_order_intent({**INTENT, "account": "U123"})
    assert [e.path for e in result.errors] == ["account"]
    assert "unknown field" in result.errors[0].message


def test_cross_field_error_names_field_value_and_fix() -> None:
    result = validate_order_intent({**INTENT, "order_type": "MARKET"})
    (issue,) = result.errors
    assert issue == ValidationIssue(
        "limit_price",
        "limit_price must be null or absent for MARKET orders "
        "(use LIMIT or STOP_LIMIT to set a limit)",
        2850.5,
    )


def test_every_error_is_reported_not_only_the_first() -> None:
    bad = {**INTENT, "quantity": -1, "direction": "HOLD", "symbol": "goog"}
    result = validate_message(json.dumps(bad))
    assert {e.path for e in result.errors} == {"quantity", "direction", "symbol"}
    assert result.message_type == "order_intent"


def test_explicit_type_mismatch_is_reported_on_event_type() -> None:
    result = validate_message(INTENT, "bar_event")
    assert not result.is_valid
    assert "event_type" in [e.path for e in result.errors]


def test_unknown_message_type_argument_is_a_result_not_an_exception() -> None:
    result = validate_message(INTENT, "quote_event")
    assert not result.is_valid and result.errors[0].path == "event_type"


def test_execution_report_reject_reason_rule_both_ways() -> None:
    base = {
        "event_type": "execution_report",
        "intent_id": "550e8400-e29b-41d4-a716-446655440000",
        "order_id": "1001",
        "symbol": "AMZN",
        "status": "REJECTED",
        "filled_quantity": 0,
        "avg_fill_price": 0,
        "timestamp": "2025-11-17T09:30:18.456Z",
    }
    assert validate_execution_report(base).errors[0].path == "reject_reason"
    ok = validate_execution_report({**base, "reject_reason": "margin"})
    assert isinstance(ok.validated_data, ExecutionReport)
    canceled = validate_execution_report({**base, "status": "CANCELED", "reject_reason": "x"})
    assert canceled.errors[0].path == "reject_reason"


def test_ohlc_rule_reports_high_and_low() -> None:
    bar = {
        "event_type": "bar_event",
        "symbol": "AAPL",
        "timestamp": "2025-11-17T09:30:00Z",
        "open": 10.0,
        "high": 12.0,
        "low": 9.0,
        "close": 11.0,
        "volume": 1,
    }
    assert isinstance(validate_message(bar).validated_data, BarEvent)
    assert validate_message({**bar, "high": 10.5}).errors[0].path == "high"
    assert validate_message({**bar, "low": 10.5}).errors[0].path == "low"


def test_format_loc() -> None:
    assert format_loc(("a", 0, "b")) == "a[0].b"
    assert format_loc(()) == ""
    assert format_loc((3,)) == "[3]"


def test_error_values_are_json_serialisable() -> None:
    result = validate_message(
        '{"event_type": "bar_event", "open": NaN, "symbol": "' + "A" * 999 + '"}'
    )
    payload = [e.as_dict() for e in result.errors]
    text = json.dumps(payload, allow_nan=False, ensure_ascii=False)
    assert "…" in text


def test_a_bar_with_high_below_low_reports_both_sides() -> None:
    bar = {
        "event_type": "bar_event",
        "symbol": "AAPL",
        "timestamp": "2025-11-17T09:30:00Z",
        "open": 10.0,
        "high": 9.0,
        "low": 11.0,
        "close": 10.0,
        "volume": 1,
    }
    assert [e.path for e in validate_message(bar).errors] == ["high", "low"]
