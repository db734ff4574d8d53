"""Topic contracts: which messages a topic accepts, and how a message becomes the bytes stored.

Messages are stored as the raw JSON bytes that passed validation, and validated again from those
bytes on the way out (pydantic-core parses and validates in one pass), so neither side re-serialises
a valid message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.control import SessionControl
from contracts.dead_letter import DeadLetter
from contracts.topics import (
    CONTROL_TOPICS,
    DLQ_TOPICS,
    EVENT_TYPES_BY_TOPIC,
    SESSION_CONTROL,
    TOPICS,
    dlq_topic,
)
from contracts.validation import (
    ValidationIssue,
    ValidationResult,
    issues_from_error,
    validate_message,
)

ALL_TOPICS: tuple[str, ...] = TOPICS + DLQ_TOPICS + CONTROL_TOPICS
"""Every topic of the bus: the three message topics, their dead-letter topics and the planes'
``session_control`` topic (with its own dead-letter topic)."""

_DEAD_LETTER = TypeAdapter(DeadLetter)
_CONTROL = TypeAdapter(SessionControl)
_DEAD_LETTER_TOPICS = frozenset((*DLQ_TOPICS, dlq_topic(SESSION_CONTROL)))


class UnknownTopicError(ValueError):
    """A topic name that is not one of :data:`ALL_TOPICS` (a programming error, not bad data)."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"unknown bus topic {topic!r}; expected one of {', '.join(ALL_TOPICS)}")


def check_topic(topic: str) -> None:
    """Raise :class:`UnknownTopicError` unless ``topic`` is a bus topic."""
    if (
        topic not in EVENT_TYPES_BY_TOPIC
        and topic not in CONTROL_TOPICS
        and topic not in DLQ_TOPICS
    ):
        raise UnknownTopicError(topic)


def encode(message: BaseModel | Mapping[str, Any] | bytes | str) -> bytes | ValidationResult:
    """The JSON bytes of ``message``; an invalid result if it cannot be serialised at all."""
    if isinstance(message, bytes):
        return message
    if isinstance(message, str):
        return message.encode("utf-8", errors="surrogateescape")
    try:
        return pydantic_core.to_json(message)
    except Exception as exc:  # never raise into the producer: report it as a validation failure
        return ValidationResult(
            False,
            None,
            (ValidationIssue("", f"message is not JSON-serialisable: {exc}", repr(message)[:200]),),
            None,
        )


def encode_valid(
    topic: str, message: BaseModel | Mapping[str, Any] | bytes | str
) -> tuple[bytes, ValidationResult]:
    """The bytes of ``message`` and their validation against ``topic``; never raises.

    A message that cannot be serialised comes back as its ``repr`` with the invalid result, so
    the dead letter still shows what was sent.
    """
    raw = encode(message)
    if isinstance(raw, ValidationResult):
        return repr(message).encode(), raw
    return raw, validate(topic, raw)


def validate(topic: str, raw: bytes) -> ValidationResult:
    """Validate ``raw`` JSON against the contract of ``topic``; never raises."""
    allowed = EVENT_TYPES_BY_TOPIC.get(topic)
    if allowed is None:  # a dead-letter topic or the control topic
        kind, adapter = (
            ("session_control", _CONTROL)
            if topic == SESSION_CONTROL
            else ("dead_letter", _DEAD_LETTER)
        )
        try:
            return ValidationResult(True, adapter.validate_json(raw), (), kind)
        except ValidationError as exc:
            return ValidationResult(False, None, issues_from_error(exc), kind)
        except Exception as exc:
            return ValidationResult(
                False, None, (ValidationIssue("", f"could not validate: {exc}", None),), None
            )
    if len(allowed) == 1:
        return validate_message(raw, allowed[0])
    result = validate_message(raw)
    if result.is_valid and result.message_type not in allowed:
        return ValidationResult(
            False,
            None,
            (
                ValidationIssue(
                    "event_type",
                    f"{result.message_type} does not belong on topic {topic!r}; "
                    f"it accepts {', '.join(allowed)}",
                    result.message_type,
                ),
            ),
            result.message_type,
        )
    return result
