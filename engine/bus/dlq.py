"""Dead-letter records the bus writes when a message fails its topic's contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

import pydantic_core

from contracts.dead_letter import dead_letter_for
from contracts.topics import DLQ_PREFIX, dlq_topic
from contracts.validation import ValidationIssue, ValidationResult
from engine.bus.metrics import BusMetrics
from engine.bus.protocol import Headers, PublishResult

Stage = Literal["publish", "consume"]


def dead_letter_bytes(
    topic: str,
    raw: bytes,
    result: ValidationResult,
    *,
    stage: Stage,
    received_at: datetime,
    source: str | None = None,
) -> bytes:
    """The JSON of the ``DeadLetter`` for ``raw`` (meant for ``topic``) with ``result``'s errors.

    ``source`` records where it was caught: ``"publish"`` or ``"consume:<group>@<partition>:<offset>"``.
    """
    letter = dead_letter_for(
        raw, result, topic=topic, source=source or stage, received_at=received_at
    )
    return pydantic_core.to_json(letter)


def dead_letter_headers(
    topic: str, stage: Stage, origin: tuple[str, int, int] | None
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The ``source`` string and the headers of a dead letter for ``topic``, shared by backends.

    ``origin`` is ``(group, partition, offset)`` of the record a consumer rejected (``stage``
    ``"consume"``); it is ignored on publish.
    """
    if stage == "publish" or origin is None:
        return "publish", (("dlq.stage", "publish"), ("dlq.topic", topic))
    group, part, off = origin
    return f"consume:{group}@{topic}[{part}]:{off}", (
        ("dlq.stage", "consume"),
        ("dlq.topic", topic),
        ("dlq.partition", str(part)),
        ("dlq.offset", str(off)),
        ("dlq.group", group),
    )


def build_letter(
    metrics: BusMetrics,
    topic: str,
    raw: bytes,
    result: ValidationResult,
    origin: tuple[str, int, int] | None,
    clock: Callable[[], datetime],
) -> tuple[bytes, Headers] | PublishResult:
    """The dead letter (bytes and headers) for an invalid message of ``topic``, counted in
    ``metrics``; or, when none can be written, the final :class:`PublishResult`, shared by backends.

    ``origin`` is None on publish, ``(group, partition, offset)`` on consume. A bad message on a
    dead-letter topic itself, or a letter that cannot be built, is counted as dropped; never raises.
    """
    if topic.startswith(DLQ_PREFIX):  # a bad dead letter cannot go anywhere else: count and drop
        metrics.dropped[topic] += 1
        return PublishResult(topic, -1, -1, False, result.errors)
    if origin is None:
        metrics.invalid_on_publish[topic] += 1
    else:
        metrics.invalid_on_consume[topic] += 1
    stage: Stage = "publish" if origin is None else "consume"
    source, hdrs = dead_letter_headers(topic, stage, origin)
    try:
        letter = dead_letter_bytes(
            topic, raw, result, stage=stage, received_at=clock(), source=source
        )
    except Exception as exc:  # a broken dead letter must not take the producer down
        metrics.dropped[dlq_topic(topic)] += 1
        issue = ValidationIssue("", f"dead letter could not be built: {exc}", None)
        return PublishResult(dlq_topic(topic), -1, -1, True, (*result.errors, issue))
    return letter, hdrs
