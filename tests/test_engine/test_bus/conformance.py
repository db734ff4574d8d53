"""The bus conformance suite: every backend must pass it unchanged.

A backend test module provides a ``harness`` fixture (a :class:`BusHarness`) and subclasses
:class:`BusConformance`::

    class TestMyBackend(BusConformance):
        @pytest.fixture(params=[...])
        def harness(self, request, tmp_path) -> BusHarness: ...

The harness knows how to open the backend on fixed storage, how to restart it (a new process on
the same storage; for a purely in-memory bus, a new consumer on the same bus), and how to slip a raw
record past publish-side validation (a poisoned journal entry, or a raw Kafka produce).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from contracts.dead_letter import DeadLetter
from contracts.messages import BarEvent, ExecutionReport, OrderIntent
from engine.bus import Bus, IdempotencyGuard, Record

T = TypeVar("T")
T0 = datetime(2025, 3, 3, 14, 30, tzinfo=UTC)


def run(coro: Awaitable[T]) -> T:
    """Run one scenario on a fresh event loop."""
    return asyncio.run(_as_coro(coro))


async def _as_coro(aw: Awaitable[T]) -> T:
    return await aw


def bar(symbol: str, i: int, **over: Any) -> dict[str, Any]:
    """A valid bar event, minute ``i``."""
    px = 100.0 + i
    msg: dict[str, Any] = {
        "event_type": "bar_event",
        "symbol": symbol,
        "timestamp": (T0 + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
        "open": px,
        "high": px + 1,
        "low": px - 1,
        "close": px + 0.5,
        "volume": 1000 + i,
    }
    msg.update(over)
    return msg


def intent(i: int) -> OrderIntent:
    """A valid market order intent with a deterministic id."""
    return OrderIntent(
        event_type="order_intent",
        intent_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"intent-{i}")),
        symbol="AAPL",
        direction="BUY",
        quantity=10 + i,
        order_type="MARKET",
        timestamp=T0 + timedelta(seconds=i),
    )


class BusHarness(ABC):
    """How the suite drives one backend."""

    name: str = "bus"
    survives_restart: bool = True
    partitions: int = 1

    @abstractmethod
    async def open(self) -> Bus:
        """Open the backend on this harness's storage (started, ready to use)."""

    @abstractmethod
    async def restart(self, bus: Bus) -> Bus:
        """Stop ``bus`` without committing anything and open it again on the same storage."""

    @abstractmethod
    async def inject_raw(self, bus: Bus, topic: str, raw: bytes, key: str | None) -> None:
        """Append ``raw`` to ``topic`` bypassing publish-side validation."""

    async def close(self, bus: Bus) -> None:
        await bus.close()


async def drain(consumer: Any, expected: int, timeout: float = 2.0) -> list[Record]:
    """Poll until ``expected`` records arrived or ``timeout`` passed."""
    got: list[Record] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(got) < expected and loop.time() < deadline:
        got.extend(await consumer.poll(expected - len(got), timeout=0.2))
    return got


class BusConformance:
    """Behaviour every bus backend must have (SPEC §3; issue 9's conformance suite)."""

    def test_publish_then_consume_delivers_validated_models(self, harness: BusHarness) -> None:
        async def scenario() -> None:
            bus = await harness.open()
            res = await bus.publish("market_events", bar("AAPL", 0), key="AAPL")
            assert res.ok and res.topic == "market_events" and res.offset == 0
            got = await drain(bus.subscribe("market_events", "g"), 1)
            assert len(got) == 1
            rec = got[0]
            assert isinstance(rec.value, BarEvent)
            assert rec.value.close == 100.5
            assert rec.key == "AAPL" and rec.topic == "market_events"
            assert rec.timestamp.tzinfo is not None
            await harness.close(bus)

        run(scenario())

    def test_ordering_per_key(self, harness: BusHarness) -> None:
        symbols = ["AAPL", "MSFT", "NVDA", "TSLA", "JPM"]

        async def scenario() -> None:
            bus = await harness.open()
            partition_of: dict[str, int] = {}
            for i in range(60):
                sym = symbols[(i * 7) % len(symbols)]
                res = await bus.publish("market_events", bar(sym, i), key=sym)
                assert res.ok
                assert partition_of.setdefault(sym, res.partition) == res.partition
            got = await drain(bus.subscribe("market_events", "g"), 60)
            assert len(got) == 60
            for sym in symbols:
                minutes = [r.value.timestamp for r in got if r.key == sym]
                assert minutes == sorted(minutes) and len(minutes) == 12
            await harness.close(bus)

        run(scenario())

    def test_group_resumes_at_committed_offset(self, harness: BusHarness) -> None:
        async def scenario() -> None:
            bus = await harness.open()
            for i in range(10):
                await bus.publish("market_events", bar("AAPL", i), key="AAPL")
            await bus.flush()
            consumer = bus.subscribe("market_events", "strategy")
            first = await drain(consumer, 4)
            assert [r.offset for r in first] == [0, 1, 2, 3]
            await consumer.commit({first[-1].partition: first[-1].next_offset})
            more = await drain(consumer, 3)  # delivered but never committed
            assert [r.offset for r in more] == [4, 5, 6]
            bus = await harness.restart(bus)
            again = await drain(bus.subscribe("market_events", "strategy"), 6)
            # nothing before the committed offset comes back; 4..6 are redelivered (at least once)
            assert [r.offset for r in again] == [4, 5, 6, 7, 8, 9]
            # another group is independent and starts at the beginning
            other = await drain(bus.subscribe("market_events", "audit"), 10)
            assert [r.offset for r in other] == list(range(10))
            await harness.close(bus)

        run(scenario())

    def test_redelivery_after_crash_does_not_double_act(
        self, harness: BusHarness, tmp_path: Path
    ) -> None:
        placed: list[str] = []

        async def act_on(consumer: Any, guard: IdempotencyGuard, n: int) -> int:
            got = await drain(consumer, n)
            for rec in got:
                if guard.first_time(str(rec.value.intent_id)):
                    placed.append(str(rec.value.intent_id))
            return len(got)

        async def scenario() -> None:
            bus = await harness.open()
            for i in range(8):
                assert (await bus.publish("order_intents", intent(i), key="AAPL")).ok
            await bus.flush()
            guard = IdempotencyGuard(tmp_path / "placed.keys")
            assert await act_on(bus.subscribe("order_intents", "orders"), guard, 8) == 8
            guard.close()  # crash before commit
            bus = await harness.restart(bus)
            guard = IdempotencyGuard(tmp_path / "placed.keys")
            consumer = bus.subscribe("order_intents", "orders")
            assert await act_on(consumer, guard, 8) == 8  # all redelivered...
            await consumer.commit()
            guard.close()
            await harness.close(bus)

        run(scenario())
        # ...yet every intent was acted on exactly once
        assert len(placed) == 8 and len(set(placed)) == 8

    def test_invalid_publish_goes_to_dlq_and_never_raises(self, harness: BusHarness) -> None:
        async def scenario() -> None:
            bus = await harness.open()
            bad = bar("AAPL", 0, high=10.0)  # high below open/close
            res = await bus.publish("market_events", bad, key="AAPL")
            assert res.routed_to_dlq and res.topic == "dlq_market_events"
            assert any(e.path == "high" for e in res.errors)
            wrong_topic = await bus.publish("order_intents", bar("AAPL", 1))
            assert wrong_topic.routed_to_dlq and wrong_topic.topic == "dlq_order_intents"
            garbage = await bus.publish("execution_reports", b"{not json")
            assert garbage.routed_to_dlq and garbage.topic == "dlq_execution_reports"
            unserialisable = await bus.publish(
                "market_events", {"event_type": "bar_event", "x": object()}
            )
            assert unserialisable.routed_to_dlq
            ok = await bus.publish("market_events", bar("AAPL", 2), key="AAPL")
            assert ok.ok and ok.offset == 0  # the producer carried on; nothing invalid on the topic
            letters = await drain(bus.subscribe("dlq_market_events", "ops"), 2)
            assert len(letters) == 2
            # with several partitions the two letters may come in either order: pick by key
            letter = next(r.value for r in letters if r.key == "AAPL")
            assert isinstance(letter, DeadLetter)
            assert letter.topic == "market_events"
            assert letter.payload == json.loads(json.dumps(bad))
            assert any(e.path == "high" for e in letter.errors)
            m = bus.metrics
            assert m.dlq["market_events"] == 2 and m.dlq["order_intents"] == 1
            assert m.dlq["execution_reports"] == 1
            assert m.published["market_events"] == 1
            await harness.close(bus)

        run(scenario())

    def test_poisoned_record_on_consume_is_dead_lettered_and_skipped(
        self, harness: BusHarness
    ) -> None:
        async def scenario() -> None:
            bus = await harness.open()
            await bus.publish("execution_reports", report(0), key="AAPL")
            poisoned = json.dumps({**report(1), "status": "EXPLODED"}).encode()
            await harness.inject_raw(bus, "execution_reports", poisoned, "AAPL")
            await bus.publish("execution_reports", report(2), key="AAPL")
            await bus.flush()
            consumer = bus.subscribe("execution_reports", "strategy")
            got = await drain(consumer, 2)
            assert [r.offset for r in got] == [0, 2]
            assert all(isinstance(r.value, ExecutionReport) for r in got)
            await consumer.commit()
            assert consumer.committed(got[-1].partition) == 3
            letters = await drain(bus.subscribe("dlq_execution_reports", "ops"), 1)
            assert len(letters) == 1
            assert letters[0].value.source is not None and "consume" in letters[0].value.source
            assert any(e.path == "status" for e in letters[0].value.errors)
            assert bus.metrics.invalid_on_consume["execution_reports"] == 1
            bus = await harness.restart(bus)
            # committed past the poison: the group does not meet it again
            assert await drain(bus.subscribe("execution_reports", "strategy"), 1, 0.3) == []
            await harness.close(bus)

        run(scenario())

    def test_poison_at_committed_offset_is_committed_past_at_once(
        self, harness: BusHarness
    ) -> None:
        async def scenario() -> None:
            bus = await harness.open()
            await harness.inject_raw(bus, "order_intents", b'{"event_type":"order_intent"}', "AAPL")
            res = await bus.publish("order_intents", intent(1), key="AAPL")
            await bus.flush()
            consumer = bus.subscribe("order_intents", "orders")
            got = await drain(consumer, 1)
            assert [(r.partition, r.offset) for r in got] == [(res.partition, 1)]
            # past the poison even before the application commits anything
            assert consumer.committed(res.partition) == 1
            await harness.close(bus)

        run(scenario())

    def test_replay_reproduces_the_same_sequence(self, harness: BusHarness) -> None:
        async def scenario() -> None:
            bus = await harness.open()
            for i in range(25):
                sym = ("AAPL", "MSFT", "XOM")[i % 3]
                await bus.publish("market_events", bar(sym, i), key=sym)
            await bus.flush()
            consumed = await drain(bus.subscribe("market_events", "g"), 25)
            first = [(r.partition, r.offset, r.value) async for r in bus.replay("market_events", 0)]
            bus = await harness.restart(bus)
            second = [
                (r.partition, r.offset, r.value) async for r in bus.replay("market_events", 0)
            ]
            assert first == second
            assert sorted(first, key=lambda t: (t[0], t[1])) == sorted(
                ((r.partition, r.offset, r.value) for r in consumed), key=lambda t: (t[0], t[1])
            )
            tail = [(r.partition, r.offset) async for r in bus.replay("market_events", 5)]
            assert tail == [(p, o) for p, o, _ in first if o >= 5]
            await harness.close(bus)

        run(scenario())


def report(i: int) -> dict[str, Any]:
    """A valid FILLED execution report for intent ``i``."""
    return {
        "event_type": "execution_report",
        "intent_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"intent-{i}")),
        "order_id": f"ord-{i}",
        "symbol": "AAPL",
        "status": "FILLED",
        "filled_quantity": 10,
        "quantity": 10,
        "avg_fill_price": 101.25,
        "timestamp": (T0 + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
        "exec_id": f"exec-{i}",
    }


HarnessFactory = Callable[[Path], BusHarness]
