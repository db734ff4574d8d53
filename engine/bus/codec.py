"""Topic contracts: which messages a topic accepts, and how a message becomes the bytes stored.

Messages are stored as the raw JSON bytes that passed validation, and validated again from those
bytes on the way out (pydantic-core parses and validates in one pass), so neither side re-serialises
a valid message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pydantic_core
from pydantic import BaseModel, TypeAdapter, ValidationError

from contracts.control import SessionControl
from contracts.dead_letter import DeadLetter
from contracts.messages import MESSAGE_ADAPTER, MESSAGE_MODELS
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


def _fast_validator(allowed: tuple[str, ...]) -> Callable[[bytes], BaseModel]:
    """pydantic-core's ``validate_json`` of the very validator :func:`validate_message` uses for
    a topic accepting ``allowed`` (the message union, or the one model's adapter)."""
    adapter: TypeAdapter[Any] = (
        TypeAdapter(MESSAGE_MODELS[allowed[0]]) if len(allowed) == 1 else MESSAGE_ADAPTER
    )
    return adapter.validator.validate_json


_FAST: dict[str, tuple[Callable[[bytes], BaseModel], frozenset[str]]] = {
    topic: (_fast_validator(allowed), frozenset(allowed))
    for topic, allowed in EVENT_TYPES_BY_TOPIC.items()
}
"""Topic -> (core validator, allowed event types): the fast path of :func:`validate` for valid
messages. It calls the same pydantic-core validator with the same (default) options as
:func:`contracts.validation.validate_message`, without its Python layers; anything it rejects is
validated again by the full path, which builds the error report."""


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


def fast_validator(topic: str) -> tuple[Callable[[bytes], BaseModel], frozenset[str]] | None:
    """The fast path of message topic ``topic`` for loops that inline :func:`valid_model`: the
    core validator (raises on invalid input) and the event types the topic accepts."""
    return _FAST.get(topic)


def valid_model(topic: str, raw: bytes) -> BaseModel | None:
    """The validated message if ``raw`` is valid on message topic ``topic``, else None (then
    :func:`validate` says why). The hot path of the bus: no result object, no Python layers."""
    fast = _FAST.get(topic)
    if fast is None:
        return None
    try:
        model = fast[0](raw)
    except Exception:  # invalid (or unparsable)
        return None
    return model if model.event_type in fast[1] else None  # type: ignore[attr-defined]


def encode_if_valid(
    topic: str, message: BaseModel | Mapping[str, Any] | bytes | str
) -> bytes | None:
    """The bytes of ``message`` if they are valid on message topic ``topic`` (the fast path),
    else None: then :func:`encode_valid` gives the bytes to dead-letter and the reasons."""
    raw = message if type(message) is bytes else encode(message)
    if isinstance(raw, ValidationResult) or valid_model(topic, raw) is None:
        return None
    return raw


def validate(topic: str, raw: bytes) -> ValidationResult:
    """Validate ``raw`` JSON against the contract of ``topic``; never raises."""
    model = valid_model(topic, raw)
    if model is not None:
        return ValidationResult(True, model, (), model.event_type)  # type: ignore[attr-defined]
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
