"""The embedded bus: in-process asyncio topics with an optional durable journal.

Durability contract (what is true when a call returns):

``publish``
    the record has its offset and is visible to consumers in this process. It is **not yet
    durable**: it sits in the group-commit buffer.
group commit (automatic)
    every ``flush_interval`` seconds, and as soon as ``flush_max_messages`` records are pending,
    the buffer is written to the journal in one batch (one SQLite transaction / one ``write``).
    From then on the records survive a ``kill -9`` of the process; with ``sync="full"`` the batch
    is also fsync'd and survives a power loss.
``await flush()``
    everything published so far is written **and fsync'd** (power-loss durable) whatever the sync
    mode: the order path calls it before acting on an intent.
``await consumer.commit()``
    the pending records and then the offsets are written in one batch (so a committed offset
    never points past a record that was lost); process-crash durable on return (fsync'd too
    with ``sync="full"``).

After a restart the bus reloads every record that reached the journal, keeps the same offsets,
and each consumer group resumes at its committed offsets (at-least-once: what was delivered but
not committed is delivered again).
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from contracts.topics import dlq_topic
from contracts.validation import ValidationResult
from engine.bus import codec
from engine.bus.dlq import build_letter
from engine.bus.journal import Journal, JournalCorruptError, JournalRecord
from engine.bus.memory_consumer import MemoryConsumer
from engine.bus.metrics import BusMetrics
from engine.bus.protocol import Headers, PublishResult, Record

Clock = Callable[[], datetime]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def system_clock() -> datetime:
    """The wall clock in UTC (the default at the edge; tests pass their own)."""
    return datetime.now(UTC)


def partition_for(key: str | None, partitions: int, counter: int) -> int:
    """CRC32 of the key modulo the partition count (librdkafka's ``consistent`` partitioner);
    records without a key go round-robin by ``counter``."""
    if partitions == 1:
        return 0
    if key is None:
        return counter % partitions
    return zlib.crc32(key.encode()) % partitions


class MemoryBus:
    """In-process bus; see the module docstring for the durability contract.

    Parameters
    ----------
    journal
        A :class:`~engine.bus.journal.Journal`, or ``None`` for a purely in-memory bus.
    partitions
        Partitions per topic: one number for every topic, or a mapping topic → count (default 1).
    clock
        Source of record timestamps (timezone-aware UTC).
    flush_interval
        Seconds between automatic group commits.
    flush_max_messages
        Pending records that trigger a group commit immediately.
    """

    def __init__(
        self,
        journal: Journal | None = None,
        *,
        partitions: int | Mapping[str, int] = 1,
        clock: Clock = system_clock,
        flush_interval: float = 0.005,
        flush_max_messages: int = 1000,
    ) -> None:
        self.journal = journal
        self.clock = clock
        self.flush_interval = flush_interval
        self.flush_max_messages = max(1, flush_max_messages)
        self.metrics = BusMetrics()
        counts = {
            t: (partitions if isinstance(partitions, int) else partitions.get(t, 1))
            for t in codec.ALL_TOPICS
        }
        for topic, n in counts.items():
            if n < 1:
                raise ValueError(f"partitions for topic {topic!r} is {n}; use 1 or more")
        self._logs: dict[str, list[list[JournalRecord]]] = {
            t: [[] for _ in range(n)] for t, n in counts.items()
        }
        self._rr: dict[str, int] = dict.fromkeys(counts, 0)
        self._committed: dict[tuple[str, str, int], int] = {}
        self._pending: list[JournalRecord] = []
        self._waiters: dict[str, list[asyncio.Future[None]]] = {t: [] for t in counts}
        self._flusher: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False
        self.journal_error: OSError | None = None
        """The last error of an automatic group commit (None once a later one succeeded)."""
        self.recovery_notes: tuple[str, ...] = ()
        self.torn_bytes = 0

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Recover the journal (if any) and start the group-commit task."""
        if self._started:
            return
        if self.journal is not None:
            report = self.journal.recover()
            for rec in report.records:
                self._restore(rec)
            self._committed.update(report.offsets)
            self.recovery_notes = report.notes
            self.torn_bytes = report.torn_bytes
            self._flusher = asyncio.create_task(self._flush_loop(), name="bus-group-commit")
        self._started = True

    def _restore(self, rec: JournalRecord) -> None:
        logs = self._logs.get(rec.topic)
        if logs is None:
            raise JournalCorruptError(
                f"bus journal holds a record for unknown topic {rec.topic!r}; it was written by "
                "another version — replay it with that version or move the journal away"
            )
        if rec.partition >= len(logs):
            raise JournalCorruptError(
                f"bus journal has topic {rec.topic!r} partition {rec.partition} but the bus is "
                f"configured with {len(logs)} partition(s); configure at least {rec.partition + 1}"
            )
        log = logs[rec.partition]
        if rec.offset != len(log):
            raise JournalCorruptError(
                f"bus journal: {rec.topic}[{rec.partition}] jumps from offset {len(log)} to "
                f"{rec.offset}; the journal was altered — restore it or move it away"
            )
        log.append(rec)

    async def close(self) -> None:
        """Write and fsync what is pending, wake every consumer, close the journal."""
        if self._closed:
            return
        self._closed = True
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self.journal is not None:
            self._write_pending()
            self.journal.close()
        for topic in self._waiters:
            self._wake(topic)

    def _require_open(self, what: str) -> None:
        if self._closed:
            raise RuntimeError(f"{what}: the bus is closed")
        if self.journal is not None:  # the journal must be recovered before offsets are known
            raise RuntimeError(f"{what}: call `await bus.start()` first (it recovers the journal)")
        self._started = True  # a bus without a journal has nothing to recover

    async def __aenter__(self) -> MemoryBus:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    # -- publishing -----------------------------------------------------------------------------
    async def publish(
        self,
        topic: str,
        message: BaseModel | Mapping[str, Any] | bytes | str,
        *,
        key: str | None = None,
        headers: Headers = (),
    ) -> PublishResult:
        """Validate ``message`` against ``topic``'s contract and append it (see the class doc)."""
        return self.publish_nowait(topic, message, key=key, headers=headers)

    def publish_nowait(
        self,
        topic: str,
        message: BaseModel | Mapping[str, Any] | bytes | str,
        *,
        key: str | None = None,
        headers: Headers = (),
    ) -> PublishResult:
        """:meth:`publish` without the coroutine (the embedded bus never waits to publish)."""
        codec.check_topic(topic)
        if self._closed or not self._started:
            self._require_open(f"publish to {topic!r}")
        raw, result = codec.encode_valid(topic, message)
        if not result.is_valid:
            return self._dead_letter(topic, raw, result, key, None)
        rec = self._append(topic, raw, key, headers)
        self.metrics.published[topic] += 1
        return PublishResult(topic, rec.partition, rec.offset)

    def _append(self, topic: str, raw: bytes, key: str | None, headers: Headers) -> JournalRecord:
        logs = self._logs[topic]
        counter = self._rr[topic]
        self._rr[topic] = counter + 1
        p = partition_for(key, len(logs), counter)
        log = logs[p]
        ts = round(self.clock().timestamp() * 1_000_000)  # exact to the µs before 2100
        rec = JournalRecord(topic, p, len(log), ts, key, raw, headers)
        log.append(rec)
        if self.journal is not None:
            self._pending.append(rec)
            if len(self._pending) >= self.flush_max_messages:
                try:
                    self._write_pending()
                except OSError as exc:  # the record is published; flush() reports the failure
                    self.journal_error = exc
        if self._waiters[topic]:
            self._wake(topic)
        return rec

    def _dead_letter(
        self,
        topic: str,
        raw: bytes,
        result: ValidationResult,
        key: str | None,
        origin: tuple[str, int, int] | None,
    ) -> PublishResult:
        """Route an invalid message of ``topic`` to its DLQ; never raises."""
        built = build_letter(self.metrics, topic, raw, result, origin, self.clock)
        if isinstance(built, PublishResult):
            return built
        letter, hdrs = built
        target = dlq_topic(topic)
        rec = self._append(target, letter, key, hdrs)
        self.metrics.dlq[topic] += 1
        self.metrics.published[target] += 1
        return PublishResult(target, rec.partition, rec.offset, True, result.errors)

    # -- durability -----------------------------------------------------------------------------
    def _write_pending(self) -> None:
        if self.journal is None or not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            self.journal.append(batch)
        except BaseException:
            self._pending = batch + self._pending  # keep them for the next attempt
            raise
        self.metrics.flushes += 1

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            try:
                self._write_pending()
                self.journal_error = None
            except OSError as exc:  # disk full, I/O error: retry next time; flush() reports it
                self.journal_error = exc

    async def flush(self) -> None:
        """Write and fsync everything published so far (power-loss durable on return)."""
        if self.journal is None:
            return
        self._write_pending()
        self.journal.sync()
        self.metrics.syncs += 1

    async def _commit(self, group: str, topic: str, offsets: Mapping[int, int]) -> None:
        logs = self._logs[topic]
        for p, o in offsets.items():
            if not 0 <= p < len(logs):
                raise ValueError(f"commit: {topic!r} has no partition {p} (it has {len(logs)})")
            if not 0 <= o <= len(logs[p]):
                raise ValueError(
                    f"commit: offset {o} for {topic}[{p}] is outside 0..{len(logs[p])} "
                    "(commit the next offset to read, i.e. record.offset + 1)"
                )
        if self.journal is not None:
            batch, self._pending = self._pending, []
            try:
                self.journal.commit_offsets(group, topic, offsets, batch)
            except BaseException:
                self._pending = batch + self._pending
                raise
            self.metrics.flushes += 1
        for p, o in offsets.items():
            self._committed[(group, topic, p)] = o

    # -- consuming ------------------------------------------------------------------------------
    def subscribe(self, topic: str, group: str) -> MemoryConsumer:
        """A consumer of ``topic`` for ``group``, at the group's committed offsets.

        The embedded bus gives every consumer all partitions of the topic (one process, one
        consumer per group and topic); offsets are committed per (group, topic, partition).
        """
        codec.check_topic(topic)
        if not self._started:
            self._require_open(f"subscribe to {topic!r}")
        return MemoryConsumer(self, topic, group)

    def committed(self, group: str, topic: str, partition: int = 0) -> int:
        """The committed offset of ``group`` on ``topic``/``partition`` (0 if none)."""
        return self._committed.get((group, topic, partition), 0)

    def partitions(self, topic: str) -> int:
        """Partition count of ``topic``."""
        codec.check_topic(topic)
        return len(self._logs[topic])

    def end_offset(self, topic: str, partition: int = 0) -> int:
        """The offset the next record of ``topic``/``partition`` will get."""
        codec.check_topic(topic)
        return len(self._logs[topic][partition])

    def _wake(self, topic: str) -> None:
        waiters, self._waiters[topic] = self._waiters[topic], []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def _wait(self, topic: str, timeout: float | None) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters[topic].append(fut)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fut, timeout)

    def _decode(self, rec: JournalRecord, group: str | None) -> Record | None:
        """Validate a stored record; invalid → DLQ (for a consumer group) and None."""
        result = codec.validate(rec.topic, rec.value)
        if not result.is_valid or result.validated_data is None:
            if group is not None:
                self._dead_letter(
                    rec.topic, rec.value, result, rec.key, (group, rec.partition, rec.offset)
                )
            else:
                self.metrics.replay_skipped[rec.topic] += 1
            return None
        return Record(
            rec.topic,
            rec.partition,
            rec.offset,
            rec.key,
            _EPOCH + rec.timestamp_us * _US,
            result.validated_data,
            rec.headers,
        )

    async def replay(
        self, topic: str, from_offset: int = 0, *, partition: int | None = None
    ) -> AsyncIterator[Record]:
        """Every valid record of ``topic`` from ``from_offset`` up to the end as of the call.

        Partitions are read one after the other (order is guaranteed per partition, as on Kafka).
        Invalid records are skipped and counted in ``metrics.replay_skipped`` (they were
        dead-lettered when a consumer group first met them). Commits nothing.
        """
        codec.check_topic(topic)
        parts = range(len(self._logs[topic])) if partition is None else (partition,)
        for p in parts:
            log = self._logs[topic][p]
            end = len(log)
            for i in range(max(0, from_offset), end):
                record = self._decode(log[i], None)
                if record is not None:
                    yield record
