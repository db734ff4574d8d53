"""Dead-letter records: an invalid message kept with the reasons it was rejected.

The bus publishes them on ``dlq_<topic>``; ``algotrade validate-message --dlq FILE`` appends them as
NDJSON. The original payload is kept as parsed JSON when it parsed, else as raw text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from contracts.topics import TOPIC_BY_EVENT_TYPE, dlq_topic
from contracts.validation import ValidationResult

_MAX_RAW_CHARS = 1_000_000


class DeadLetterError(BaseModel):
    """One validation error of a dead-lettered message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str = Field(title="Field path", description="Field path; empty for the whole message.")
    message: str = Field(title="Message", description="What is wrong and how to fix it.")
    value: JsonValue = Field(default=None, title="Value", description="The offending value.")


class DeadLetter(BaseModel):
    """An invalid message with its validation errors (one NDJSON line / one DLQ record)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    record_type: Literal["dead_letter"] = Field(
        default="dead_letter", title="Record type", description="Always 'dead_letter'."
    )
    schema_version: Literal[1] = Field(
        default=1, title="Schema version", description="Version of the dead-letter record."
    )
    topic: str | None = Field(
        default=None,
        title="Topic",
        description="Topic the message was meant for (e.g. 'order_intents'), when known.",
    )
    dlq_topic: str | None = Field(
        default=None, title="DLQ topic", description="Dead-letter topic, 'dlq_' + topic."
    )
    message_type: str | None = Field(
        default=None, title="Message type", description="event_type validated against, if known."
    )
    payload: JsonValue = Field(
        default=None,
        title="Payload",
        description="The original message as parsed JSON, when it was parseable.",
    )
    raw: str | None = Field(
        default=None,
        title="Raw text",
        description="The original text when it was not parseable JSON (truncated at 1 MB).",
    )
    errors: tuple[DeadLetterError, ...] = Field(
        title="Errors", description="Every validation error found."
    )
    received_at: datetime = Field(title="Received at", description="When the message was seen.")
    source: str | None = Field(
        default=None, title="Source", description="Where it came from (file name, consumer)."
    )
    line: int | None = Field(
        default=None, title="Line", description="1-based line number in the source, if a file."
    )


def _parse_payload(raw: Any) -> tuple[JsonValue, str | None]:
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            return None, bytes(raw)[:_MAX_RAW_CHARS].decode("utf-8", errors="replace")
    if isinstance(raw, str):
        try:
            return json.loads(raw, parse_constant=_reject_constant), None
        except (ValueError, RecursionError):
            return None, raw[:_MAX_RAW_CHARS]
    try:
        # Round-trip so the payload is plain JSON (no NaN, no non-JSON objects).
        return json.loads(json.dumps(raw, allow_nan=False, default=str)), None
    except (ValueError, TypeError, RecursionError):
        return None, repr(raw)[:_MAX_RAW_CHARS]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def dead_letter_for(
    raw: Any,
    result: ValidationResult,
    *,
    topic: str | None = None,
    source: str | None = None,
    line: int | None = None,
    received_at: datetime | None = None,
) -> DeadLetter:
    """Build the dead-letter record for an invalid message.

    ``raw`` is what was received (dict, str or bytes). ``topic`` defaults to the topic of the
    detected message type. ``received_at`` defaults to the current UTC time (the edge's clock).
    """
    if topic is None and result.message_type is not None:
        topic = TOPIC_BY_EVENT_TYPE.get(result.message_type)
    payload, raw_text = _parse_payload(raw)
    return DeadLetter(
        topic=topic,
        dlq_topic=dlq_topic(topic) if topic else None,
        message_type=result.message_type,
        payload=payload,
        raw=raw_text,
        errors=tuple(
            DeadLetterError(path=e.path, message=e.message, value=_json_value(e.value))
            for e in result.errors
        ),
        received_at=received_at if received_at is not None else datetime.now(UTC),
        source=source,
        line=line,
    )


def _json_value(value: Any) -> JsonValue:
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return repr(value)
        return value
    return repr(value)
