"""The consumer side of the Kafka bus: a consumer-group member with manual commits.

Each consumer owns one librdkafka consumer and one worker thread; every blocking call (consume,
commit, close) runs on that thread, so the event loop never blocks and the client is only ever
used from one thread. Rebalance callbacks run on that thread too; they only queue what they learnt
(assigned partitions and their committed offsets), which the event loop applies after the call.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer as _RawConsumer
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from engine.bus.dead_offsets import extend_commits, moves_past_dead
from engine.bus.protocol import BusUnavailable, Record

if TYPE_CHECKING:
    from engine.bus.kafka import KafkaBus


class KafkaBusError(BusUnavailable):
    """The broker could not be reached, a topic could not be created, or a delivery failed."""


_REBALANCED = frozenset(
    {
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError._ASSIGNMENT_LOST,
    }
)


class KafkaConsumer:
    """A member of ``group`` on one topic of a :class:`~engine.bus.kafka.KafkaBus`."""

    def __init__(self, bus: KafkaBus, topic: str, group: str) -> None:
        self.bus = bus
        self.topic = topic
        self.group = group
        self.name = bus.settings.topic_name(topic)
        self._raw = _RawConsumer(bus.consumer_config(group))
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"kafka-{group}-{topic}")
        self._events: deque[tuple[str, dict[int, int]]] = deque()
        self._joined = False
        self._assigned: set[int] = set()
        self._positions: dict[int, int] = {}
        self._delivered: dict[int, int] = {}
        self._committed: dict[int, int] = {}
        self._dead: dict[int, set[int]] = {}
        self._seeks: dict[int, int] = {}
        self._letters_unflushed = False
        self._closed = False
        self.commit_failures = 0
        """Commits refused because a rebalance moved the partition (its records are redelivered
        to the new owner, at least once, as after a crash)."""
        self._raw.subscribe([self.name], on_assign=self._on_assign, on_revoke=self._on_revoke)

    # -- rebalance callbacks (worker thread) ---------------------------------------------------
    def _on_assign(self, raw: _RawConsumer, partitions: list[TopicPartition]) -> None:
        committed: dict[int, int] = {}
        if partitions:
            for tp in raw.committed(partitions, timeout=self.bus.settings.request_timeout_s):
                committed[tp.partition] = max(0, tp.offset)
        self._events.append(("assign", committed))

    def _on_revoke(self, raw: _RawConsumer, partitions: list[TopicPartition]) -> None:
        self._events.append(("revoke", {tp.partition: 0 for tp in partitions}))

    def _apply_events(self) -> None:
        while self._events:
            kind, parts = self._events.popleft()
            if kind == "assign":
                self._joined = True
                for p, committed in parts.items():
                    self._assigned.add(p)
                    self._committed[p] = committed
                    self._positions[p] = committed
                    self._delivered[p] = committed
            else:
                for p in parts:
                    self._assigned.discard(p)
                    self._dead.pop(p, None)

    # -- worker-thread calls -------------------------------------------------------------------
    def _consume(self, max_messages: int, timeout: float) -> list[Message]:
        if self._seeks:
            seeks, self._seeks = self._seeks, {}
            for p, off in seeks.items():
                try:
                    self._raw.seek(TopicPartition(self.name, p, off))
                except KafkaException:
                    self._seeks.setdefault(p, off)  # not fetching yet: try again next time
        return fetch(self._raw, max_messages, timeout)

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # -- the Consumer interface ----------------------------------------------------------------
    def position(self, partition: int = 0) -> int:
        """The offset of the next record this consumer will read from ``partition``."""
        known = self._positions.get(partition)
        return known if known is not None else self.committed(partition)

    def committed(self, partition: int = 0) -> int:
        """The group's committed offset of ``partition`` (0 if none).

        Known locally once the group assigned the partition to this member (and after each
        commit); before that — right after ``subscribe`` — the broker is asked (a brief blocking
        round trip).
        """
        known = self._committed.get(partition)
        if known is not None:
            return known
        return self.bus.committed(self.group, self.topic, partition)

    def assignment(self) -> frozenset[int]:
        """The partitions the group gave this member."""
        return frozenset(self._assigned)

    def seek(self, partition: int, offset: int) -> None:
        """Move the position of ``partition`` (applied before the next fetch)."""
        if offset < 0:
            raise ValueError(f"seek: offset {offset} of {self.topic}[{partition}] is negative")
        self._seeks[partition] = offset
        self._positions[partition] = offset
        self._delivered[partition] = offset

    async def poll(self, max_messages: int = 500, timeout: float | None = 1.0) -> list[Record]:
        """Up to ``max_messages`` valid records; waits up to ``timeout`` s (None = until some
        arrive) once the group join is done. The first poll also waits for the join (up to the
        bus's ``join_timeout_s``)."""
        out = await self._poll(max_messages, timeout)
        self._delivered = dict(self._positions)
        return out

    async def _poll(self, max_messages: int, timeout: float | None) -> list[Record]:
        if self._closed or self.bus.closed:
            return []
        loop = asyncio.get_running_loop()
        if not self._joined:
            join_deadline = loop.time() + self.bus.settings.join_timeout_s
            while not self._joined:
                if loop.time() > join_deadline:
                    raise TimeoutError(
                        f"consumer group {self.group!r} on {self.name!r} did not join within "
                        f"{self.bus.settings.join_timeout_s:g} s; is Kafka at "
                        f"{self.bus.settings.bootstrap_servers} up?"
                    )
                msgs = await self._call(self._consume, max_messages, 0.1)
                self._apply_events()
                if msgs:
                    out = await self._accept(msgs)
                    if out:
                        return out
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            remaining = 1.0 if deadline is None else max(0.0, deadline - loop.time())
            msgs = await self._call(self._consume, max_messages, remaining)
            self._apply_events()
            out = await self._accept(msgs)
            if out or self._closed or self.bus.closed:
                return out
            if deadline is not None and loop.time() >= deadline:
                return out

    async def _accept(self, msgs: list[Message]) -> list[Record]:
        topic = self.topic
        out, dead_seen = self.bus._decode_batch(
            topic, msgs, self.group, self._positions, self._dead
        )
        self.bus.metrics.consumed[topic] += len(out)
        if dead_seen:
            self._letters_unflushed = True
            await self._skip_dead_at_commit_point()
        return out

    async def _skip_dead_at_commit_point(self) -> None:
        """Commit past dead-lettered records that sit exactly at the committed offset."""
        moves = moves_past_dead(self._dead.items(), lambda p: self._committed.get(p, 0))
        if moves:
            await self._commit(moves)

    def __aiter__(self) -> AsyncIterator[Record]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Record]:
        while not (self._closed or self.bus.closed):
            for record in await self._poll(500, None):
                self._delivered[record.partition] = record.offset + 1
                yield record

    async def commit(self, offsets: Mapping[int, int] | None = None) -> None:
        """Commit ``{partition: next offset}`` synchronously (default: everything delivered so
        far). Dead-lettered records right after a committed offset are committed past too."""
        if offsets is None:
            offsets = dict(self._delivered)
        await self._commit(extend_commits(offsets, lambda p: self._dead.get(p, set())))

    async def _commit(self, offsets: Mapping[int, int]) -> None:
        offsets = {p: o for p, o in offsets.items() if p in self._assigned}
        if not offsets:
            return
        if self._letters_unflushed:  # never commit past a poisoned record whose letter was lost
            await self.bus.flush()
            self._letters_unflushed = False
        tps = [TopicPartition(self.name, p, o) for p, o in offsets.items()]
        try:
            await self._call(lambda: self._raw.commit(offsets=tps, asynchronous=False))
        except KafkaException as exc:
            err = exc.args[0]
            code = err.code() if isinstance(err, KafkaError) else None
            if code == KafkaError._NO_OFFSET:
                return
            if code in _REBALANCED:  # the partition moved away: its new owner gets the records
                self.commit_failures += 1
                return
            raise KafkaBusError(
                f"commit of {self.group!r} on {self.name} {dict(offsets)} failed: {exc}; "
                "the records after the last committed offset will be delivered again"
            ) from exc
        self._committed.update(offsets)

    async def commit_record(self, record: Record) -> None:
        """Commit up to and including ``record``."""
        await self.commit({record.partition: record.next_offset})

    async def close(self) -> None:
        """Leave the group (nothing is committed) and release the client."""
        if self._closed:
            return
        self._closed = True
        self.bus._forget(self)
        try:
            await self._call(self._raw.close)
        finally:
            self._executor.shutdown(wait=False)


def fetch(raw: _RawConsumer, max_messages: int, timeout: float) -> list[Message]:
    """Up to ``max_messages`` messages, returning as soon as there is one (``consume`` alone
    waits for all ``max_messages`` or the whole timeout)."""
    first = raw.poll(timeout)
    if first is None:
        return []
    if max_messages <= 1:
        return [first]
    return [first, *raw.consume(max_messages - 1, 0)]


def check_error(err: KafkaError, what: str) -> None:
    """Raise for a fatal client error; transient ones (EOF, reconnects, retriable) pass."""
    if err.code() in (
        KafkaError._PARTITION_EOF,
        KafkaError._TRANSPORT,
        KafkaError._ALL_BROKERS_DOWN,
    ):
        return
    if err.fatal() or not err.retriable():
        raise KafkaBusError(f"{what}: {err.str()} ({err.name()})")
