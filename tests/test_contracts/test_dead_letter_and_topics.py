"""Dead-letter records and topic names."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contracts.dead_letter import DeadLetter, dead_letter_for
from contracts.topics import (
    DLQ_TOPICS,
    EVENT_TYPES_BY_TOPIC,
    EXECUTION_REPORTS,
    MARKET_EVENTS,
    ORDER_INTENTS,
    dlq_topic,
    topic_for_event_type,
)
from contracts.validation import validate_message
from tests.test_contracts.corpus import python_validator, schema_for

pytestmark = pytest.mark.unit

AT = datetime(2025, 11, 17, 9, 30, tzinfo=UTC)


def test_topic_names_match_the_spec() -> None:
    assert (MARKET_EVENTS, ORDER_INTENTS, EXECUTION_REPORTS) == (
        "market_events",
        "order_intents",
        "execution_reports",
    )
    assert DLQ_TOPICS == ("dlq_market_events", "dlq_order_intents", "dlq_execution_reports")
    assert dlq_topic("order_intents") == "dlq_order_intents"
    assert topic_for_event_type("ofi_event") == MARKET_EVENTS
    assert EVENT_TYPES_BY_TOPIC[MARKET_EVENTS] == ("bar_event", "tick_event", "ofi_event")
    with pytest.raises(ValueError, match="unknown event_type 'quote'"):
        topic_for_event_type("quote")


def test_dead_letter_keeps_payload_errors_and_topic() -> None:
    raw = '{"event_type": "order_intent", "quantity": 0}'
    result = validate_message(raw)
    letter = dead_letter_for(raw, result, source="in.ndjson", line=7, received_at=AT)
    assert letter.topic == "order_intents" and letter.dlq_topic == "dlq_order_intents"
    assert letter.payload == {"event_type": "order_intent", "quantity": 0}
    assert letter.raw is None and letter.line == 7 and letter.source == "in.ndjson"
    assert {e.path for e in letter.errors} >= {"quantity", "intent_id", "timestamp"}
    record = json.loads(letter.model_dump_json())
    assert python_validator_for_dead_letter().is_valid(record)
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe garbage", "not json {", '{"open": NaN}', "", b"[" * 10_000],
)
def test_unparseable_input_is_kept_as_raw_text(raw: str | bytes) -> None:
    result = validate_message(raw)
    letter = dead_letter_for(raw, result, received_at=AT)
    assert letter.payload is None and letter.raw is not None
    assert letter.topic is None and letter.errors
    json.loads(letter.model_dump_json())  # always serialisable


def test_dict_payload_with_non_json_values_is_made_json() -> None:
    data = {"event_type": "bar_event", "open": float("nan"), "when": AT}
    letter = dead_letter_for(data, validate_message(data), received_at=AT)
    assert letter.raw is not None  # NaN cannot be represented as JSON, so kept as repr
    assert letter.topic == "market_events"


def python_validator_for_dead_letter():  # type: ignore[no-untyped-def]
    import jsonschema

    return jsonschema.Draft202012Validator(schema_for("dead_letter"))


def test_dead_letter_schema_file_is_loadable() -> None:
    assert python_validator("message").schema["title"] == "Message"
