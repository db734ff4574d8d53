"""The control channel of a split session: the planes' coordination records on ``session_control``.

When the three planes run as separate processes (:mod:`engine.planes.services`) nothing is
shared but the bus. Each plane publishes :class:`~contracts.control.SessionControl` records (one
key, so one partition and one total order) and reads everyone's:

* :attr:`ControlChannel.state` — every record of this session seen so far, by kind and bar. It
  is rebuilt from the topic (a replay) when a plane starts, so a restarted plane knows where the
  session is;
* a **handler** — the records a plane must act on (the order plane on ``bar_published``, the
  strategy plane on ``bar_marked``, …) are handed to it one at a time, in log order, through the
  plane's own consumer group ``<plane>-control``, and committed after the handler returns: a
  plane killed while acting gets the record again after a restart (at-least-once), so every
  handler is idempotent;
* :meth:`ControlChannel.wait` — wait until the state satisfies a predicate (e.g. bar ``k`` is
  settled), bounded in wall seconds.

:class:`OffsetCounter` counts records the way the control records do: a producer's ``count`` is
the number of records on its topic so far (the sum of its partitions' end offsets — it is the only
producer there, and offsets are contiguous), and a consumer has caught up with it once the sum of
the offsets it has finished reaches that count.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contracts.control import ControlKind, PlaneName, SessionControl
from contracts.topics import SESSION_CONTROL
from engine.bus.protocol import Bus, Consumer, PublishResult
from engine.planes.jsonlog import PlaneLog

CONTROL_KEY = "control"
Handler = Callable[[SessionControl], Awaitable[None]]


@dataclass
class ControlState:
    """Every control record of the session seen so far."""

    ready: dict[str, SessionControl] = field(default_factory=dict)
    published: dict[int, SessionControl] = field(default_factory=dict)
    marked: dict[int, SessionControl] = field(default_factory=dict)
    completed: dict[int, SessionControl] = field(default_factory=dict)
    settled: dict[int, SessionControl] = field(default_factory=dict)
    halts: list[SessionControl] = field(default_factory=list)
    done: dict[str, SessionControl] = field(default_factory=dict)
    records: int = 0

    def add(self, rec: SessionControl) -> None:
        self.records += 1
        table: dict[int, SessionControl] | None = {
            "bar_published": self.published,
            "bar_marked": self.marked,
            "bar_completed": self.completed,
            "bar_settled": self.settled,
        }.get(rec.kind)
        if table is not None:
            table[rec.bar] = rec
        elif rec.kind == "ready":
            self.ready[rec.plane] = rec
        elif rec.kind == "halt":
            self.halts.append(rec)
        elif rec.kind == "plane_done":
            self.done[rec.plane] = rec

    def last_settled_before(self, bar: int) -> SessionControl | None:
        """The latest ``bar_settled`` of a bar before ``bar``."""
        bars = [b for b in self.settled if b < bar]
        return self.settled[max(bars)] if bars else None


class ControlChannel:
    """One plane's view of ``session_control``; see the module docstring."""

    def __init__(
        self,
        bus: Bus,
        *,
        session_id: str,
        plane: PlaneName,
        log: PlaneLog,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.bus = bus
        self.session_id = session_id
        self.plane = plane
        self.log = log
        self.now = now
        self.state = ControlState()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._consumer: Consumer | None = None
        self._stopping = False
        self.failed: BaseException | None = None

    async def start(self, handler: Handler | None = None) -> None:
        """Rebuild :attr:`state` from the topic, then follow it (and hand records to ``handler``)."""
        async for rec in self.bus.replay(SESSION_CONTROL, 0):
            value = rec.value
            if isinstance(value, SessionControl) and value.session_id == self.session_id:
                self.state.add(value)
        self._consumer = self.bus.subscribe(SESSION_CONTROL, f"{self.plane}-control")
        self._task = asyncio.create_task(self._follow(handler), name=f"{self.plane}-control")

    async def _follow(self, handler: Handler | None) -> None:
        consumer = self._consumer
        assert consumer is not None
        try:
            while not self._stopping:
                records = await consumer.poll(max_messages=100, timeout=0.05)
                if not records and getattr(self.bus, "closed", False):
                    return  # the bus is gone: nothing more will arrive
                for rec in records:
                    value = rec.value
                    if isinstance(value, SessionControl) and value.session_id == self.session_id:
                        self.state.add(value)
                        self._changed.set()
                        if handler is not None and value.plane != self.plane:
                            await handler(value)
                    await consumer.commit({rec.partition: rec.next_offset})
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # surfaced to the waiters: a plane must not hang silently
            self.failed = exc
            self.log.log("control_failed", "error", error=repr(exc))
            self._changed.set()
            raise

    async def send(
        self,
        kind: ControlKind,
        *,
        bar: int = -1,
        count: int = 0,
        at: datetime | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> PublishResult:
        """Publish one control record (and count it in :attr:`state` at once); flushed."""
        rec = SessionControl(
            session_id=self.session_id,
            plane=self.plane,
            kind=kind,
            bar=bar,
            count=count,
            timestamp=at or self.now(),
            detail=dict(detail or {}),
        )
        res = await self.bus.publish(SESSION_CONTROL, rec, key=CONTROL_KEY)
        await self.bus.flush()
        if not res.ok:
            raise RuntimeError(
                f"control record {kind} was refused by the bus: {[e.message for e in res.errors]}"
            )
        self.state.add(rec)
        self._changed.set()
        self.log.log("control_sent", kind=kind, bar=bar, count=count)
        return res

    async def wait(
        self,
        predicate: Callable[[ControlState], bool],
        timeout: float | None,
        *,
        waiting_for: str = "",
        warn_every: float = 30.0,
    ) -> bool:
        """Wait until ``predicate(state)``; ``False`` after ``timeout`` wall seconds (None = no
        limit; a warning is logged every ``warn_every`` seconds while waiting)."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        next_warning = start + warn_every
        while not predicate(self.state):
            if self.failed is not None:
                raise RuntimeError(f"the control channel failed: {self.failed!r}")
            now = loop.time()
            if timeout is not None and now - start >= timeout:
                return False
            if now >= next_warning:
                self.log.log("waiting", "warning", waiting_for=waiting_for,
                             seconds=round(now - start, 1))  # fmt: skip
                next_warning = now + warn_every
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 0.05)
        return True

    async def close(self) -> None:
        """Stop following (a record being handled is left uncommitted: it comes again)."""
        self._stopping = True  # a cancellation can be lost inside a finishing wait_for (3.11)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._consumer is not None:
            await self._consumer.close()


class OffsetCounter:
    """How far a consumer has got on a topic: per partition, the offset after the last record it
    has finished; :attr:`total` is their sum (compare with a producer's ``count``)."""

    def __init__(self, start: Mapping[int, int] | None = None) -> None:
        self.offsets: dict[int, int] = dict(start or {})

    def done(self, partition: int, next_offset: int) -> None:
        self.offsets[partition] = max(self.offsets.get(partition, 0), next_offset)

    @property
    def total(self) -> int:
        return sum(self.offsets.values())


class CountingBus:
    """A bus that counts what one plane publishes: per topic, the sum of the partitions' end
    offsets it has seen acknowledged (its ``count`` in control records). Everything else is the
    wrapped bus."""

    def __init__(self, bus: Any, start: Mapping[str, Mapping[int, int]] | None = None) -> None:
        self._bus = bus
        self.ends: dict[str, dict[int, int]] = {t: dict(v) for t, v in (start or {}).items()}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus, name)

    async def publish(self, topic: str, message: Any, **kw: Any) -> PublishResult:
        res: PublishResult = await self._bus.publish(topic, message, **kw)
        if res.ok and res.topic == topic:
            ends = self.ends.setdefault(topic, {})
            ends[res.partition] = max(ends.get(res.partition, 0), res.offset + 1)
        return res

    def count(self, topic: str) -> int:
        return sum(self.ends.get(topic, {}).values())


async def topic_ends(bus: Bus, topic: str) -> dict[int, int]:
    """Per partition, the offset after the last record of ``topic`` (read by a replay: some
    brokers report log-end offsets wrongly)."""
    ends: dict[int, int] = {}
    async for rec in bus.replay(topic, 0):
        ends[rec.partition] = max(ends.get(rec.partition, 0), rec.next_offset)
    return ends


async def committed_offsets(consumer: Consumer, partitions: int) -> dict[int, int]:
    """The group's committed offsets of every partition (asked once, off the event loop)."""
    return {p: int(await asyncio.to_thread(consumer.committed, p)) for p in range(partitions)}
