"""The control channel of a split session on the embedded bus: state, handlers, redelivery,
isolation between sessions, dead letters, and the offset counting the planes agree on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.control import SessionControl
from contracts.topics import MARKET_EVENTS, SESSION_CONTROL, dlq_topic
from engine.bus import MemoryBus
from engine.planes.control import (
    ControlChannel,
    ControlState,
    CountingBus,
    OffsetCounter,
    topic_ends,
)
from engine.planes.jsonlog import PlaneLog

pytestmark = pytest.mark.unit

AT = datetime(2025, 1, 2, 14, 31, tzinfo=UTC)


def _rec(
    kind: str, plane: str = "data", bar: int = -1, count: int = 0, sid: str = "s"
) -> SessionControl:
    return SessionControl(session_id=sid, plane=plane, kind=kind, bar=bar, count=count,  # type: ignore[arg-type]
                          timestamp=AT)  # fmt: skip


def test_state_indexes_records_by_kind_and_bar() -> None:
    st = ControlState()
    for rec in (_rec("ready", "order"), _rec("bar_published", bar=0, count=10),
                _rec("bar_settled", "order", bar=0, count=3),
                _rec("bar_settled", "order", bar=2, count=7), _rec("halt", "order", bar=2),
                _rec("plane_done", "strategy", count=4)):  # fmt: skip
        st.add(rec)
    assert set(st.ready) == {"order"} and st.published[0].count == 10
    assert st.last_settled_before(0) is None
    assert st.last_settled_before(2) is not None and st.last_settled_before(2).count == 3  # type: ignore[union-attr]
    assert st.last_settled_before(5).count == 7  # type: ignore[union-attr]
    assert len(st.halts) == 1 and st.done["strategy"].count == 4 and st.records == 6


def test_counters() -> None:
    c = OffsetCounter({0: 5})
    c.done(1, 3)
    c.done(0, 4)  # never moves back
    assert c.total == 8


def test_channel_rebuilds_state_hands_over_others_records_and_redelivers_unfinished(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with MemoryBus() as bus:
            log = PlaneLog("test", tmp_path)
            data = ControlChannel(bus, session_id="s", plane="data", log=log)
            await data.start()
            await data.send("ready")
            await data.send("bar_published", bar=0, count=108, at=AT)
            # another session's record on the same topic is ignored by everyone
            other = ControlChannel(bus, session_id="other", plane="data", log=log)
            await other.send("bar_published", bar=7, count=1)

            seen: list[tuple[str, int]] = []
            crash = {"on": True}

            async def handler(rec: SessionControl) -> None:
                if crash["on"] and rec.kind == "bar_published":
                    raise RuntimeError("killed while acting")
                seen.append((rec.kind, rec.bar))

            order = ControlChannel(bus, session_id="s", plane="order", log=log)
            await order.start(handler)
            assert order.state.published[0].count == 108  # rebuilt from the topic at start
            with pytest.raises(RuntimeError, match="control channel failed"):
                await order.wait(lambda st: False, 2.0)
            await order.close()
            assert seen == [("ready", -1)]  # handled and committed before the crash
            seen.clear()
            # a restarted plane gets the record it did not finish acting on again, only that one
            crash["on"] = False
            order = ControlChannel(bus, session_id="s", plane="order", log=log)
            await order.start(handler)
            assert await order.wait(lambda st: bool(seen), 2.0)
            await order.send("bar_marked", bar=0)
            assert await data.wait(lambda st: 0 in st.marked, 2.0)
            assert 7 not in data.state.published
            assert not await data.wait(lambda st: 1 in st.settled, 0.1)  # bounded wait
            assert seen == [("bar_published", 0)]  # its own bar_marked never reaches its handler
            await order.close()
            await data.close()
            log.close()

    asyncio.run(main())


def test_an_invalid_control_record_is_dead_lettered(tmp_path: Path) -> None:
    async def main() -> None:
        async with MemoryBus() as bus:
            res = await bus.publish(SESSION_CONTROL, {"session_id": "s", "plane": "risk"})
            assert res.routed_to_dlq and res.topic == dlq_topic(SESSION_CONTROL)
            assert {e.path for e in res.errors} >= {"plane", "kind", "timestamp"}

    asyncio.run(main())


def test_counting_bus_counts_records_on_the_topic(tmp_path: Path) -> None:
    from benchmarks.bench_bus import make_messages

    async def main() -> None:
        async with MemoryBus(partitions=3) as raw:
            bus = CountingBus(raw)
            msgs = make_messages(30)
            for key, payload in msgs:
                await bus.publish(MARKET_EVENTS, payload, key=key)
            await bus.publish(MARKET_EVENTS, b"{not json")  # dead-lettered: not counted
            assert bus.count(MARKET_EVENTS) == 30
            ends = await topic_ends(raw, MARKET_EVENTS)
            assert ends == bus.ends[MARKET_EVENTS] and len(ends) > 1

    asyncio.run(main())
