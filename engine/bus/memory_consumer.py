"""The consumer side of the embedded bus: positions, polling, commits past dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING

from engine.bus.dead_offsets import extend_commits, moves_past_dead
from engine.bus.protocol import Record

if TYPE_CHECKING:
    from engine.bus.memory import MemoryBus


class MemoryConsumer:
    """A consumer of one topic for one group on a :class:`MemoryBus`."""

    def __init__(self, bus: MemoryBus, topic: str, group: str) -> None:
        self.bus = bus
        self.topic = topic
        self.group = group
        n = len(bus._logs[topic])
        self._positions = [bus.committed(group, topic, p) for p in range(n)]
        self._delivered = list(self._positions)
        self._dead: list[set[int]] = [set() for _ in range(n)]
        self._next_partition = 0
        self._closed = False

    def position(self, partition: int = 0) -> int:
        """The offset of the next record this consumer will read from ``partition``."""
        return self._positions[partition]

    def committed(self, partition: int = 0) -> int:
        """The group's committed offset of ``partition``."""
        return self.bus.committed(self.group, self.topic, partition)

    def seek(self, partition: int, offset: int) -> None:
        """Move the position of ``partition`` (0 ≤ offset ≤ end)."""
        end = len(self.bus._logs[self.topic][partition])
        if not 0 <= offset <= end:
            raise ValueError(
                f"seek: offset {offset} is outside 0..{end} of {self.topic}[{partition}]"
            )
        self._positions[partition] = offset
        self._delivered[partition] = offset

    def _fetch(self, max_messages: int) -> tuple[list[Record], bool]:
        """Read up to ``max_messages`` valid records; the bool says whether anything was read."""
        logs = self.bus._logs[self.topic]
        n = len(logs)
        out: list[Record] = []
        moved = False
        decode = self.bus._decode
        group = self.group
        for i in range(n):
            if len(out) >= max_messages:
                break
            p = (self._next_partition + i) % n
            log = logs[p]
            pos = self._positions[p]
            end = min(len(log), pos + max_messages - len(out))
            if pos >= end:
                continue
            moved = True
            for rec in log[pos:end]:
                record = decode(rec, group)
                if record is None:
                    self._dead[p].add(rec.offset)
                else:
                    out.append(record)
            self._positions[p] = end
        self._next_partition = (self._next_partition + 1) % n
        self.bus.metrics.consumed[self.topic] += len(out)
        return out, moved

    async def _skip_dead_at_commit_point(self) -> None:
        """Commit past dead-lettered records that sit exactly at the committed offset."""
        moves = moves_past_dead(enumerate(self._dead), self.committed)
        if moves:
            await self.bus._commit(self.group, self.topic, moves)

    async def poll(self, max_messages: int = 500, timeout: float | None = 1.0) -> list[Record]:
        """Up to ``max_messages`` valid records; waits up to ``timeout`` s (None = forever)."""
        out = await self._poll(max_messages, timeout)
        self._delivered = list(self._positions)
        return out

    async def _poll(self, max_messages: int, timeout: float | None) -> list[Record]:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            out, moved = self._fetch(max_messages)
            if moved and any(self._dead):
                await self._skip_dead_at_commit_point()
            if out or self._closed or self.bus.closed:
                return out
            if moved:
                continue
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return out
            await self.bus._wait(self.topic, remaining)

    def __aiter__(self) -> AsyncIterator[Record]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Record]:
        while not (self._closed or self.bus.closed):
            for record in await self._poll(500, None):
                # commit() without arguments covers what was handed out, not the whole batch
                self._delivered[record.partition] = record.offset + 1
                yield record

    async def commit(self, offsets: Mapping[int, int] | None = None) -> None:
        """Commit ``{partition: next offset}`` (default: everything delivered so far — every
        record returned by :meth:`poll`, or yielded by the iterator).

        Dead-lettered records right after a committed offset are committed past as well.
        """
        if offsets is None:
            offsets = dict(enumerate(self._delivered))
        extended = extend_commits(
            offsets, lambda p: self._dead[p] if 0 <= p < len(self._dead) else set()
        )
        await self.bus._commit(self.group, self.topic, extended)

    async def commit_record(self, record: Record) -> None:
        """Commit up to and including ``record``."""
        await self.commit({record.partition: record.next_offset})

    async def close(self) -> None:
        """Stop iterating (nothing is committed)."""
        self._closed = True
        self.bus._wake(self.topic)
