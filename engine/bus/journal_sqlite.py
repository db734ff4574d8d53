"""Journal in one SQLite database in WAL mode, one transaction per batch.

``sync="normal"`` sets ``PRAGMA synchronous=NORMAL``: a committed transaction is in the WAL file (it
survives ``kill -9``) and is fsync'd at the next checkpoint. ``sync="full"`` fsyncs the WAL on every
commit. :meth:`SqliteJournal.sync` fsyncs the WAL and the database file explicitly, whatever the
mode. A transaction interrupted by a crash is rolled back by SQLite on the next open: a torn batch
is never read back.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.bus.journal import JournalKind, JournalRecord, OffsetKey, RecoveryReport, SyncMode

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    topic TEXT NOT NULL,
    part INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    ts_us INTEGER NOT NULL,
    key TEXT,
    headers TEXT,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    part INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, part)
);
"""

_INSERT = (
    "INSERT INTO records (topic, part, offset, ts_us, key, headers, value) VALUES (?,?,?,?,?,?,?)"
)
_UPSERT = (
    "INSERT INTO offsets (grp, topic, part, offset) VALUES (?,?,?,?) "
    "ON CONFLICT (grp, topic, part) DO UPDATE SET offset = excluded.offset"
)


def _row(r: JournalRecord) -> tuple[object, ...]:
    return (
        r.topic,
        r.partition,
        r.offset,
        r.timestamp_us,
        r.key,
        json.dumps(r.headers) if r.headers else None,
        r.value,
    )


class SqliteJournal:
    """SQLite (WAL) journal; see the module docstring for the guarantees."""

    kind: JournalKind = "sqlite"

    def __init__(self, path: Path, *, sync: SyncMode = "normal") -> None:
        self.path = path
        self.sync_mode: SyncMode = sync
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
        self._db.executescript(_SCHEMA)
        found = self._db.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
        if found is None:
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        elif found[0] != SCHEMA_VERSION:
            raise RuntimeError(
                f"bus journal {path} has schema_version={found[0]!r}, this version reads "
                f"{SCHEMA_VERSION!r}; replay it with the version that wrote it or move it away"
            )

    def recover(self) -> RecoveryReport:
        """Read every committed record (in write order) and the committed offsets."""
        records = [
            JournalRecord(
                topic,
                part,
                offset,
                ts,
                key,
                value,
                tuple((str(k), str(v)) for k, v in json.loads(headers)) if headers else (),
            )
            for topic, part, offset, ts, key, headers, value in self._db.execute(
                "SELECT topic, part, offset, ts_us, key, headers, value FROM records ORDER BY rowid"
            )
        ]
        offsets: dict[OffsetKey, int] = {
            (g, t, p): o
            for g, t, p, o in self._db.execute("SELECT grp, topic, part, offset FROM offsets")
        }
        return RecoveryReport(records, offsets)

    def append(self, records: Sequence[JournalRecord]) -> None:
        """One transaction for the whole batch."""
        if not records:
            return
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(_INSERT, map(_row, records))
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def commit_offsets(
        self, group: str, topic: str, offsets: Mapping[int, int], records: Sequence[JournalRecord]
    ) -> None:
        """Pending records and the offsets in one transaction."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(_INSERT, map(_row, records))
            db.executemany(_UPSERT, [(group, topic, p, o) for p, o in sorted(offsets.items())])
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def sync(self) -> None:
        """fsync the WAL and the database file."""
        for path in (self.path.with_name(self.path.name + "-wal"), self.path):
            if path.exists():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def close(self) -> None:
        """Checkpoint, fsync and close."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.sync()
        self._db.close()
