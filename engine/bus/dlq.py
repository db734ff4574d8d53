"""Dead-letter records the bus writes when a message fails its topic's contract."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import pydantic_core

from contracts.dead_letter import dead_letter_for
from contracts.validation import ValidationResult

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
