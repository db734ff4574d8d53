"""The bus interface shared by every backend (embedded, Kafka): Kafka-shaped on purpose.

- ``publish(topic, message, key=...)`` validates the message against the topic's contract; a valid
  message is appended to one partition of the topic (chosen by ``key``, the symbol, so that one
  symbol's messages stay in order); an invalid one goes to the matching dead-letter topic with the
  validation errors. Publishing never raises for a bad message: the :class:`PublishResult` says what
  happened.
- ``subscribe(topic, group)`` returns a :class:`Consumer` that starts at the group's committed
  offsets (or at the beginning) and validates every record again on the way out; a record that
  fails is dead-lettered, skipped and committed past. Delivery is at-least-once: whatever was
  delivered but not committed before a crash is delivered again after it, so consumers that act
  (place orders, record fills) must be idempotent (see :class:`~engine.bus.idempotency.IdempotencyGuard`).
- ``replay(topic, from_offset)`` reads a topic back without a group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from contracts.validation import ValidationIssue
from engine.bus.metrics import BusMetrics

Headers = tuple[tuple[str, str], ...]


class BusUnavailable(RuntimeError):
    """The bus cannot be used: its broker cannot be reached, a topic cannot be created, a
    delivery failed. The message names what and how to fix it (a deployment problem, not a bug)."""


@dataclass(frozen=True, slots=True)
class PublishResult:
    """Where a published message went.

    ``routed_to_dlq`` is True when the message failed validation: then ``topic``/``partition``/
    ``offset`` locate the dead-letter record and ``errors`` says why. ``offset`` is -1 when nothing
    could be written at all (a dead letter that itself failed validation).
    """

    topic: str
    partition: int
    offset: int
    routed_to_dlq: bool = False
    errors: tuple[ValidationIssue, ...] = ()

    @property
    def ok(self) -> bool:
        """The message was valid and is on its topic."""
        return not self.routed_to_dlq and self.offset >= 0


@dataclass(frozen=True, slots=True)
class Record:
    """One delivered message: ``value`` is the validated contract model (or ``DeadLetter``)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    timestamp: datetime
    value: BaseModel
    headers: Headers = ()

    @property
    def next_offset(self) -> int:
        """The offset to commit once this record has been processed (Kafka convention)."""
        return self.offset + 1


class Consumer(Protocol):
    """One member of a consumer group on one topic; holds its own positions per partition."""

    topic: str
    group: str

    async def poll(self, max_messages: int = 500, timeout: float = 1.0) -> list[Record]:
        """Up to ``max_messages`` records; waits up to ``timeout`` seconds when none is ready."""
        ...

    def __aiter__(self) -> AsyncIterator[Record]:
        """Iterate record by record until the consumer or the bus is closed."""
        ...

    async def commit(self, offsets: Mapping[int, int] | None = None) -> None:
        """Commit ``{partition: next offset}``; ``None`` commits everything delivered so far."""
        ...

    def committed(self, partition: int = 0) -> int:
        """The group's committed offset of ``partition`` (0 if none)."""
        ...

    def seek(self, partition: int, offset: int) -> None:
        """Move this consumer's position (the next poll starts there)."""
        ...

    async def close(self) -> None:
        """Stop; an uncommitted position is not committed."""
        ...


class Bus(Protocol):
    """A message bus with validated topics, consumer groups, committed offsets and replay."""

    metrics: BusMetrics

    async def start(self) -> None:
        """Open the journal/connection; recover state."""
        ...

    async def close(self) -> None:
        """Flush, sync and release everything."""
        ...

    async def publish(
        self,
        topic: str,
        message: BaseModel | Mapping[str, Any] | bytes | str,
        *,
        key: str | None = None,
        headers: Headers = (),
    ) -> PublishResult:
        """Validate then append; invalid → dead-letter topic. Never raises for bad messages."""
        ...

    async def flush(self) -> None:
        """Return once everything published so far is durable (fsync'd / acknowledged)."""
        ...

    def subscribe(self, topic: str, group: str) -> Consumer:
        """A consumer of ``topic`` in ``group``, positioned at the group's committed offsets."""
        ...

    def replay(
        self, topic: str, from_offset: int = 0, *, partition: int | None = None
    ) -> AsyncIterator[Record]:
        """Every valid record of ``topic`` from ``from_offset`` (per partition) to the current end."""
        ...

    def partitions(self, topic: str) -> int:
        """The number of partitions of ``topic``."""
        ...

    def end_offset(self, topic: str, partition: int = 0) -> int:
        """The offset the next record of ``topic``/``partition`` will get."""
        ...

    def committed(self, group: str, topic: str, partition: int = 0) -> int:
        """``group``'s committed offset of ``topic``/``partition`` (0 if none), without joining."""
        ...
