"""The bus codec's fast path (pydantic-core called directly) decides exactly as the contracts'
``validate_message`` does: same verdict, same model, same type, same errors, on every message
topic — for generated valid messages, the contract fixtures (positive and negative), messages on
the wrong topic and malformed bytes."""

from __future__ import annotations

from pathlib import Path

import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.topics import EVENT_TYPES_BY_TOPIC
from contracts.validation import ValidationResult, validate_message
from engine.bus import codec
from tests.test_contracts.strategies import any_message

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "contracts"
MESSAGE_TOPICS = tuple(EVENT_TYPES_BY_TOPIC)


def reference(topic: str, raw: bytes) -> ValidationResult:
    """What the bus decided before the fast path: ``validate_message`` per the topic's types."""
    allowed = EVENT_TYPES_BY_TOPIC[topic]
    if len(allowed) == 1:
        return validate_message(raw, allowed[0])
    result = validate_message(raw)
    if result.is_valid and result.message_type not in allowed:
        return ValidationResult(False, None, (), result.message_type)
    return result


def assert_same(topic: str, raw: bytes) -> None:
    got, want = codec.validate(topic, raw), reference(topic, raw)
    assert got.is_valid == want.is_valid, (topic, raw)
    assert got.message_type == want.message_type, (topic, raw)
    assert got.validated_data == want.validated_data, (topic, raw)
    if want.errors:  # the wrong-topic report is the codec's own wording
        assert got.errors == want.errors, (topic, raw)
    assert (codec.valid_model(topic, raw) is not None) == want.is_valid


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.json") if not p.name.startswith("_"))


@pytest.mark.property
@settings(max_examples=150, deadline=None)
@given(any_message(), st.sampled_from(MESSAGE_TOPICS))
def test_generated_messages_on_every_topic(message: dict[str, object], topic: str) -> None:
    raw = pydantic_core.to_json(message)
    assert_same(topic, raw)
    # a valid message is accepted on its own topic by the fast path itself
    result = codec.validate(topic, raw)
    if result.is_valid:
        assert codec.valid_model(topic, raw) == result.validated_data


@pytest.mark.unit
@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_contract_fixtures_on_every_topic(path: Path) -> None:
    raw = path.read_bytes()
    for topic in MESSAGE_TOPICS:
        assert_same(topic, raw)


@pytest.mark.unit
@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   ",
        b"{",
        b"[]",
        b"null",
        b"42",
        b'"bar_event"',
        b'{"event_type":"nope"}',
        b"\xff\xfe",
    ],
)
def test_malformed_bytes(raw: bytes) -> None:
    for topic in MESSAGE_TOPICS:
        assert_same(topic, raw)
        assert not codec.validate(topic, raw).is_valid
