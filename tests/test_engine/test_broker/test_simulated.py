"""SimulatedBroker behaviour beyond the shared conformance suite: IBKR-like pacing enforcement,
read-only connections, reachability and reconciliation of orders placed by an earlier session."""

from __future__ import annotations

import asyncio

import pytest

from engine.broker.clock import VirtualClock
from engine.broker.ledger import IntentLedger
from engine.broker.pacing import PacingLimiter
from engine.broker.protocol import ORDER_METHODS, read_only
from engine.broker.sim_exchange import demo_exchange
from engine.broker.simulated import SimulatedBroker
from engine.broker.types import BrokerDisconnected, BrokerUnreachable, ReadOnlyViolation
from tests.test_engine.test_broker.conformance import intent
from tests.test_engine.test_broker.test_simulated_conformance import sim_market

pytestmark = [pytest.mark.broker, pytest.mark.unit]


def test_an_unpaced_client_gets_error_100_and_is_disconnected() -> None:
    async def main() -> None:
        clock = VirtualClock()
        broker = SimulatedBroker(sim_market(), clock=clock)  # no pacer, time stands still
        await broker.connect()
        broker.drain_events()
        with pytest.raises(BrokerDisconnected, match="error 100"):
            for _ in range(100):
                await broker.place(intent("AAA", "BUY", 1))
        assert broker.pacing_violations.count == 1
        assert not broker.is_ready
        codes = [e.code for e in broker.drain_events() if e.kind in ("error", "connection")]
        assert 100 in codes and 1100 in codes
        await broker.close()

    asyncio.run(main())


def test_paced_burst_of_1000_intents_has_zero_violations() -> None:
    async def main() -> None:
        clock = VirtualClock()
        broker = SimulatedBroker(sim_market(), clock=clock, pacer=PacingLimiter(45.0, clock=clock))
        await broker.connect()
        start = clock.now()
        for k in range(1000):
            await broker.place(intent("AAA", "BUY" if k % 2 else "SELL", 1))
        assert broker.pacing_violations.count == 0 and broker.is_ready
        assert broker.monitor.messages >= 1000
        assert clock.now() - start >= 999 / 45 - 1e-6  # never faster than the bucket allows
        await broker.close()

    asyncio.run(main())


def test_read_only_connection_refuses_orders_before_sending() -> None:
    async def main() -> None:
        broker = SimulatedBroker(sim_market(), clock=VirtualClock(), readonly=True)
        await broker.connect()
        sent = broker.messages_sent
        with pytest.raises(ReadOnlyViolation):
            await broker.place(intent("AAA", "BUY", 1))
        with pytest.raises(ReadOnlyViolation):
            await broker.cancel_all()
        with pytest.raises(ReadOnlyViolation):
            await broker.cancel("1")
        assert broker.messages_sent == sent and broker.order_messages_sent == 0
        assert broker.exchange.orders() == []
        await broker.close()

    asyncio.run(main())


def test_read_only_view_exposes_no_order_attribute_whatever_is_asked() -> None:
    broker = SimulatedBroker(sim_market(), clock=VirtualClock())
    view = read_only(broker)
    for name in (*ORDER_METHODS, "exchange", "ledger", "pacer", "__getattr__"):
        assert not hasattr(view, name), name
    with pytest.raises(AttributeError):
        view.place = lambda *_: None  # type: ignore[attr-defined]


def test_unreachable_broker_raises_on_connect() -> None:
    broker = SimulatedBroker(sim_market(), clock=VirtualClock(), reachable=False)
    with pytest.raises(BrokerUnreachable):
        asyncio.run(broker.connect())
    assert not broker.is_ready


def test_connect_adopts_orders_of_an_earlier_session() -> None:
    async def main() -> None:
        exchange = demo_exchange(positions=3, resting_orders=4)
        broker = SimulatedBroker(exchange, clock=VirtualClock())
        await broker.connect()
        assert broker.last_reconcile is not None
        assert len(broker.last_reconcile.adopted) == 4
        assert {e.intent_id for e in broker.ledger.entries()} == {f"demo-{j:04d}" for j in range(4)}
        await broker.close()

    asyncio.run(main())


def test_ledger_closes_orders_the_broker_no_longer_has() -> None:
    ledger = IntentLedger()
    ledger.record("i-1", "1", "AAA", 10)
    report = ledger.reconcile([], [])
    assert report.closed == ("i-1",)
    assert ledger.get("i-1").status == "CANCELED"  # type: ignore[union-attr]


def test_both_brokers_implement_the_protocols() -> None:
    from engine.broker.ib import IBBroker
    from engine.broker.protocol import Broker, ReadOnlyBroker

    sim = SimulatedBroker(sim_market(), clock=VirtualClock())
    ib = IBBroker()
    for broker in (sim, ib):
        assert isinstance(broker, Broker) and isinstance(broker, ReadOnlyBroker)
    view = read_only(sim)
    assert isinstance(view, ReadOnlyBroker) and not isinstance(view, Broker)


def test_reconciliation_never_closes_an_order_placed_while_it_ran() -> None:
    ledger = IntentLedger()
    ledger.record("old", "1", "AAA", 10)
    before = ledger.sequence  # taken before the broker's state is read
    ledger.record("new", "2", "AAA", 10)  # placed while the read was in flight
    report = ledger.reconcile([], [], placed_before=before)
    assert report.closed == ("old",)
    assert ledger.get("new").status == "SUBMITTED"  # type: ignore[union-attr]


def test_finished_intents_of_an_earlier_session_are_duplicates() -> None:
    async def main() -> None:
        exchange = sim_market()
        clock = VirtualClock()
        first = SimulatedBroker(exchange, clock=clock, client_id=3)
        await first.connect()
        filled = intent("AAA", "BUY", 5)
        cancelled = intent("AAA", "BUY", 5, "LIMIT", limit_price=97.0)
        await first.place(filled)
        handle = await first.place(cancelled)
        assert (await first.cancel(handle.order_id)).accepted
        clock.advance(1.0)  # past the 50 ms latency: the market order fills
        await first.settle()
        await first.close()
        second = SimulatedBroker(exchange, clock=clock, client_id=3)  # a restart, empty ledger
        await second.connect()
        again = [await second.place(filled), await second.place(cancelled)]
        assert [h.duplicate for h in again] == [True, True]
        assert [h.status for h in again] == ["FILLED", "CANCELED"]
        assert second.order_messages_sent == 0
        await second.close()

    asyncio.run(main())


def test_unread_events_are_bounded_and_counted() -> None:
    async def main() -> None:
        broker = SimulatedBroker(sim_market(), clock=VirtualClock())
        broker._queue = asyncio.Queue(maxsize=3)  # a tiny buffer for the test
        await broker.connect()  # 1 connection event
        await broker.place(intent("AAA", "BUY", 1))  # + submitted (the fill is 50 ms later)
        await broker.place(intent("AAA", "BUY", 1))  # + submitted: 3, full
        await broker.place(intent("AAA", "BUY", 1))  # the oldest (connection) is dropped
        assert broker.events_dropped == 1
        kinds = [e.kind for e in broker.drain_events()]
        assert kinds == ["status", "status", "status"]
        await broker.close()

    asyncio.run(main())
