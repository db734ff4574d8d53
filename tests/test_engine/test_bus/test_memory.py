"""MemoryBus specifics beyond the conformance suite: group commit, commit ordering, lifecycle."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.bus import MemoryBus, UnknownTopicError, open_bus
from engine.bus.journal import JournalCorruptError, JournalRecord, RecoveryReport, open_journal
from engine.config import BusConfig
from tests.test_engine.test_bus.conformance import bar, run


def _rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.mark.unit
def test_group_commit_writes_within_the_interval(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = MemoryBus(
            open_journal("sqlite", tmp_path), flush_interval=0.01, flush_max_messages=10_000
        )
        await bus.start()
        for i in range(3):
            await bus.publish("market_events", bar("AAPL", i), key="AAPL")
        db = tmp_path / "bus.sqlite3"
        assert _rows(db, "SELECT count(*) FROM records") == [(0,)]  # not yet: still buffered
        await asyncio.sleep(0.1)
        assert _rows(db, "SELECT count(*) FROM records") == [(3,)]
        await bus.close()

    run(scenario())


@pytest.mark.unit
def test_size_trigger_writes_without_waiting(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = MemoryBus(open_journal("sqlite", tmp_path), flush_interval=60, flush_max_messages=4)
        await bus.start()
        for i in range(9):
            await bus.publish("market_events", bar("AAPL", i), key="AAPL")
        assert _rows(tmp_path / "bus.sqlite3", "SELECT count(*) FROM records") == [(8,)]
        await bus.close()

    run(scenario())


@pytest.mark.unit
def test_commit_writes_pending_records_before_the_offset(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = MemoryBus(
            open_journal("sqlite", tmp_path), flush_interval=60, flush_max_messages=10_000
        )
        await bus.start()
        for i in range(5):
            await bus.publish("market_events", bar("AAPL", i), key="AAPL")
        consumer = bus.subscribe("market_events", "g")
        assert len(await consumer.poll(10, 0)) == 5
        await consumer.commit()
        db = tmp_path / "bus.sqlite3"
        assert _rows(db, "SELECT count(*) FROM records") == [(5,)]
        assert _rows(db, "SELECT grp, topic, part, offset FROM offsets") == [
            ("g", "market_events", 0, 5)
        ]
        await bus.close()

    run(scenario())


@pytest.mark.unit
def test_commit_outside_the_log_is_refused_with_the_fix() -> None:
    async def scenario() -> None:
        async with MemoryBus() as bus:
            await bus.publish("market_events", bar("AAPL", 0))
            consumer = bus.subscribe("market_events", "g")
            with pytest.raises(ValueError, match=r"record.offset \+ 1"):
                await consumer.commit({0: 5})
            with pytest.raises(ValueError, match="no partition 3"):
                await consumer.commit({3: 0})

    run(scenario())


@pytest.mark.unit
def test_unknown_topic_is_a_programming_error() -> None:
    async def scenario() -> None:
        async with MemoryBus() as bus:
            with pytest.raises(UnknownTopicError, match="market_events"):
                await bus.publish("market-events", bar("AAPL", 0))
            with pytest.raises(UnknownTopicError):
                bus.subscribe("orders", "g")

    run(scenario())


@pytest.mark.unit
def test_poll_times_out_empty_and_wakes_on_publish() -> None:
    async def scenario() -> None:
        async with MemoryBus() as bus:
            consumer = bus.subscribe("market_events", "g")
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            assert await consumer.poll(10, timeout=0.05) == []
            assert loop.time() - t0 >= 0.04
            waiting = asyncio.create_task(consumer.poll(10, timeout=5))
            await asyncio.sleep(0.01)
            await bus.publish("market_events", bar("AAPL", 0))
            got = await asyncio.wait_for(waiting, 1)
            assert len(got) == 1

    run(scenario())


@pytest.mark.unit
def test_async_iteration_ends_when_the_bus_closes() -> None:
    async def scenario() -> list[int]:
        bus = MemoryBus()
        await bus.start()
        seen: list[int] = []

        async def reader() -> None:
            async for rec in bus.subscribe("market_events", "g"):
                seen.append(rec.offset)

        task = asyncio.create_task(reader())
        for i in range(3):
            await bus.publish("market_events", bar("AAPL", i))
        await asyncio.sleep(0.01)
        await bus.close()
        await asyncio.wait_for(task, 1)
        return seen

    assert run(scenario()) == [0, 1, 2]


@pytest.mark.unit
def test_record_timestamp_comes_from_the_passed_clock() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    async def scenario() -> datetime:
        async with MemoryBus(clock=lambda: when) as bus:
            await bus.publish("market_events", bar("AAPL", 0))
            (rec,) = await bus.subscribe("market_events", "g").poll(1, 0)
            return rec.timestamp

    assert run(scenario()) == when


@pytest.mark.unit
def test_reopening_with_fewer_partitions_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = MemoryBus(open_journal("segments", tmp_path), partitions=4)
        await bus.start()
        for sym in ("AAPL", "MSFT", "XOM", "JPM", "NVDA"):
            await bus.publish("market_events", bar(sym, 0), key=sym)
        await bus.close()
        smaller = MemoryBus(open_journal("segments", tmp_path), partitions=1)
        with pytest.raises(JournalCorruptError, match="configure at least"):
            await smaller.start()

    run(scenario())


@pytest.mark.unit
def test_open_bus_follows_the_config(tmp_path: Path) -> None:
    async def scenario() -> None:
        cfg = BusConfig(journal="segments", partitions=2, flush_interval_ms=1)
        bus = open_bus(cfg, tmp_path)
        await bus.start()
        assert bus.partitions("order_intents") == 2
        await bus.publish("market_events", bar("AAPL", 0), key="AAPL")
        await bus.close()
        assert list((tmp_path / "bus" / "segments").glob("*.seg"))
        with pytest.raises(ValueError, match="kafka"):
            open_bus(BusConfig(backend="kafka"), tmp_path)

    run(scenario())


@pytest.mark.unit
def test_metrics_snapshot_counts_per_topic() -> None:
    async def scenario() -> dict[str, object]:
        async with MemoryBus() as bus:
            await bus.publish("market_events", bar("AAPL", 0))
            await bus.publish("market_events", {"event_type": "nope"})
            await bus.subscribe("market_events", "g").poll(10, 0)
            return bus.metrics.snapshot()

    snap = run(scenario())
    assert snap["published"] == {"market_events": 1, "dlq_market_events": 1}
    assert snap["consumed"] == {"market_events": 1}
    assert snap["dlq"] == {"market_events": 1}
    assert snap["invalid_on_publish"] == {"market_events": 1}


class _FailingJournal:
    """A journal whose disk is full until ``healed``."""

    kind = "segments"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.healed = False
        self.written: list[int] = []

    def recover(self) -> RecoveryReport:
        return RecoveryReport([], {})

    def append(self, records: Sequence[JournalRecord]) -> None:
        if not self.healed:
            raise OSError(28, "No space left on device")
        self.written.extend(r.offset for r in records)

    def commit_offsets(
        self, group: str, topic: str, offsets: Mapping[int, int], records: Sequence[JournalRecord]
    ) -> None:
        self.append(records)

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.unit
def test_a_journal_write_error_never_loses_records_or_breaks_publish(tmp_path: Path) -> None:
    journal = _FailingJournal(tmp_path)

    async def scenario() -> None:
        bus = MemoryBus(journal, flush_interval=0.005, flush_max_messages=2)
        await bus.start()
        for i in range(3):  # the size trigger fails: publish still succeeds
            assert (await bus.publish("market_events", bar("AAPL", i))).ok
        await asyncio.sleep(0.02)
        assert isinstance(bus.journal_error, OSError)
        with pytest.raises(OSError, match="No space"):
            await bus.flush()
        consumer = bus.subscribe("market_events", "g")
        await consumer.poll(10, 0)
        with pytest.raises(OSError):
            await consumer.commit()
        assert consumer.committed(0) == 0  # not committed in memory either
        journal.healed = True
        await bus.flush()
        await consumer.commit()
        assert journal.written == [0, 1, 2] and consumer.committed(0) == 3
        await bus.close()

    run(scenario())


@pytest.mark.unit
def test_a_journaled_bus_must_be_started_and_a_closed_one_refuses(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = MemoryBus(open_journal("segments", tmp_path))
        with pytest.raises(RuntimeError, match="start"):
            await bus.publish("market_events", bar("AAPL", 0))
        with pytest.raises(RuntimeError, match="start"):
            bus.subscribe("market_events", "g")
        await bus.start()
        assert (await bus.publish("market_events", bar("AAPL", 0))).ok
        await bus.close()
        with pytest.raises(RuntimeError, match="closed"):
            await bus.publish("market_events", bar("AAPL", 1))

    run(scenario())


@pytest.mark.unit
def test_commit_while_iterating_covers_only_what_was_handed_out() -> None:
    async def scenario() -> int:
        async with MemoryBus() as bus:
            for i in range(10):
                await bus.publish("market_events", bar("AAPL", i))
            consumer = bus.subscribe("market_events", "g")
            async for record in consumer:
                if record.offset == 3:
                    await consumer.commit()
                    break
            return consumer.committed(0)

    assert run(scenario()) == 4  # not 10: records 4..9 were fetched but never handed out
