"""The durable, append-only journal behind the embedded bus.

A journal stores two kinds of entries, in the order they were written:

- **records**: one per published message (topic, partition, offset, key, timestamp in microseconds
  since the epoch, headers and the raw JSON value exactly as validated on publish);
- **offset commits**: ``(group, topic, partition) -> next offset to consume``; the last one wins.

Two backends implement :class:`Journal`: :class:`~engine.bus.journal_sqlite.SqliteJournal` (SQLite in
WAL mode) and :class:`~engine.bus.journal_segments.SegmentJournal` (length + CRC framed records in
append-only segment files). Durability levels are the same for both:

``append`` / ``commit_offsets``
    the entries have reached the operating system (one SQLite transaction or one ``write``):
    they survive a ``kill -9`` of the process. With ``sync="full"`` they are also fsync'd.
``sync()``
    everything appended so far is fsync'd: it survives a power loss or an OS crash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

JournalKind = Literal["sqlite", "segments", "none"]
SyncMode = Literal["normal", "full"]

Headers = tuple[tuple[str, str], ...]


class JournalRecord(NamedTuple):
    """One message as stored: the raw JSON ``value`` is kept byte for byte.

    A named tuple rather than a dataclass: one is built per published message and per record
    recovered, and a tuple is several times cheaper to create.
    """

    topic: str
    partition: int
    offset: int
    timestamp_us: int
    key: str | None
    value: bytes
    headers: Headers = ()


OffsetKey = tuple[str, str, int]
"""``(group, topic, partition)``."""


@dataclass(frozen=True)
class RecoveryReport:
    """What :meth:`Journal.recover` found on disk.

    ``torn_bytes`` counts the bytes of an incomplete or corrupt tail that were cut off (a write that
    a crash interrupted); nothing acknowledged as durable is ever inside them.
    """

    records: Sequence[JournalRecord]
    offsets: Mapping[OffsetKey, int]
    torn_bytes: int = 0
    notes: tuple[str, ...] = field(default=())


class JournalCorruptError(RuntimeError):
    """The journal is damaged somewhere other than its tail (not a torn write): refuse to guess."""


class Journal(Protocol):
    """A durable log of bus records and committed consumer offsets."""

    kind: JournalKind
    path: Path

    def recover(self) -> RecoveryReport:
        """Read everything back (cutting off a torn tail) — call once, before the first append."""
        ...

    def append(self, records: Sequence[JournalRecord]) -> None:
        """Write ``records`` as one batch (process-crash durable on return)."""
        ...

    def commit_offsets(
        self, group: str, topic: str, offsets: Mapping[int, int], records: Sequence[JournalRecord]
    ) -> None:
        """Write pending ``records`` then the commits, in that order, as one batch."""
        ...

    def sync(self) -> None:
        """fsync everything appended so far (power-loss durable on return)."""
        ...

    def close(self) -> None:
        """Sync and release the files."""
        ...


def open_journal(
    kind: JournalKind,
    directory: Path,
    *,
    sync: SyncMode = "normal",
    segment_bytes: int = 64 * 1024 * 1024,
) -> Journal | None:
    """Open (creating if needed) the journal of ``kind`` under ``directory``; ``"none"`` → None.

    SQLite lives in ``directory/bus.sqlite3``, segments in ``directory/segments/``.
    """
    if kind == "none":
        return None
    directory.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        from engine.bus.journal_sqlite import SqliteJournal

        return SqliteJournal(directory / "bus.sqlite3", sync=sync)
    if kind == "segments":
        from engine.bus.journal_segments import SegmentJournal

        return SegmentJournal(directory / "segments", sync=sync, segment_bytes=segment_bytes)
    raise ValueError(f"bus.journal={kind!r} is not a journal; use one of sqlite, segments, none")
