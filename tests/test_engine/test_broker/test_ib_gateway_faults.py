"""IBBroker against the simulated gateway's faults: automatic reconnect with reconciliation,
1100/1101 with resubscription, informational codes that must not cancel an order locally."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from engine.broker.clock import SystemClock
from engine.broker.ib import IBBroker
from engine.broker.pacing import PacingLimiter
from engine.broker.simgateway.core import GatewayConfig
from engine.broker.simgateway.server import SimGateway
from engine.broker.types import BrokerDisconnected, BrokerNotReady
from tests.test_engine.test_broker.conformance import intent

pytestmark = [pytest.mark.broker, pytest.mark.integration]


@asynccontextmanager
async def gateway_and_broker(**broker_kw: object) -> AsyncIterator[tuple[SimGateway, IBBroker]]:
    gateway = SimGateway(GatewayConfig(port=0, seed=2, symbols=("AAA",), tick_interval=0.05))
    gateway.core.registry.add("AAA")
    await gateway.start()
    gateway.set_price("AAA", 100.0)
    clock = SystemClock()
    broker = IBBroker(
        port=gateway.port, client_id=21, readonly=False, timeout=4.0,
        pacer=PacingLimiter(45.0, clock=clock), clock=clock, **broker_kw,  # type: ignore[arg-type]
    )  # fmt: skip
    await broker.connect()
    try:
        yield gateway, broker
    finally:
        await broker.close()
        await gateway.stop()


async def until(cond: Callable[[], bool | Awaitable[bool]], timeout: float = 8.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while True:
        value = cond()
        if not isinstance(value, bool):
            value = await value
        if value:
            return
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


def test_auto_reconnect_recovers_fills_made_while_disconnected() -> None:
    async def main() -> None:
        async with gateway_and_broker(reconnect_initial_backoff=0.1) as (gw, broker):
            order = intent("AAA", "BUY", 10, "LIMIT", limit_price=98.0)
            handle = await broker.place(order)
            await until(lambda: broker.ledger.get(handle.intent_id).status == "ACKNOWLEDGED")  # type: ignore[union-attr]
            assert gw.drop_client(21)
            await until(lambda: not broker.is_ready)
            gw.set_price("AAA", 97.0)  # the order fills while we are away
            await until(lambda: broker.is_ready)
            assert broker.reconnects == 1
            entry = broker.ledger.get(handle.intent_id)
            assert entry is not None and entry.status == "FILLED" and entry.filled_quantity == 10
            assert broker.last_reconcile is not None
            assert set(broker.last_reconcile.recovered_fills) == entry.exec_ids != set()

    asyncio.run(main())


@pytest.mark.parametrize("restore_code", [1101, 1102])
def test_fills_made_during_a_connectivity_loss_are_listed_by_the_reconciliation(
    restore_code: int,
) -> None:
    # After 1101/1102 the gateway (like TWS) delivers what filled during the outage as live
    # fills, before the broker's own re-request of executions: the report must still list them.
    async def main() -> None:
        async with gateway_and_broker() as (gw, broker):
            order = intent("AAA", "BUY", 10, "LIMIT", limit_price=98.0)
            handle = await broker.place(order)
            await until(lambda: broker.ledger.get(handle.intent_id).status == "ACKNOWLEDGED")  # type: ignore[union-attr]
            assert broker.last_reconcile is not None and not broker.last_reconcile.recovered_fills
            gw.core.connectivity_lost()
            await until(lambda: not broker.is_ready)
            gw.set_price("AAA", 97.0)  # fills at IB while TWS is cut off
            entry = broker.ledger.get(handle.intent_id)
            assert entry is not None and entry.status == "ACKNOWLEDGED"
            gw.core.connectivity_restored(restore_code)
            await until(lambda: broker.is_ready)
            assert entry.status == "FILLED" and entry.filled_quantity == 10
            report = broker.last_reconcile
            assert report is not None
            assert set(report.recovered_fills) == entry.exec_ids != set()
            # the next reconciliation (nothing happened meanwhile) reports nothing again
            assert not (await broker._reconcile()).recovered_fills

    asyncio.run(main())


def test_connectivity_blip_1101_resubscribes_and_reconciles() -> None:
    async def main() -> None:
        async with gateway_and_broker() as (gw, broker):
            await broker.subscribe_market_data(["AAA"])
            first_ticker = broker._subscribed["AAA"]
            sent = broker.messages_sent
            blip = asyncio.ensure_future(gw.connectivity_blip(0.3, restore_code=1101))
            await until(lambda: not broker.is_ready, timeout=3)
            await blip
            await until(lambda: broker.is_ready, timeout=5)
            codes = [c for c, _ in broker.notices]
            assert 1100 in codes and 1101 in codes
            assert broker.messages_sent >= sent + 3  # mkt data again, open orders, executions
            assert "AAA" in broker._subscribed and broker._subscribed["AAA"] is not None
            assert first_ticker is not None

    asyncio.run(main())


def test_informational_code_keeps_the_order_working() -> None:
    async def main() -> None:
        async with gateway_and_broker() as (gw, broker):
            gw.faults.inject_codes = (10349,)
            gw.faults.inject_orders = 1
            order = intent("AAA", "BUY", 5, "LIMIT", limit_price=98.0)
            handle = await broker.place(order)
            await until(lambda: 10349 in [c for c, _ in broker.notices])
            await asyncio.sleep(0.1)
            entry = broker.ledger.get(handle.intent_id)
            assert entry is not None and entry.status not in ("CANCELED", "REJECTED")
            opened = await broker.open_orders()
            assert any(o.intent_id == handle.intent_id for o in opened)

    asyncio.run(main())


def test_an_order_lost_with_the_connection_is_reported_and_never_sent_twice() -> None:
    async def main() -> None:
        async with gateway_and_broker(reconnect_initial_backoff=0.1) as (gw, broker):
            gw.faults.drop_before_order = 1  # the gateway drops us without processing it
            order = intent("AAA", "BUY", 3)
            handle = await broker.place(order)
            await until(lambda: broker.reconnects == 1 and broker.is_ready)
            entry = broker.ledger.get(handle.intent_id)
            assert entry is not None and entry.status == "CANCELED"
            events = [broker._queue.get_nowait() for _ in range(broker._queue.qsize())]
            lost = [e for e in events if e.intent_id == handle.intent_id and e.status == "CANCELED"]
            assert lost and lost[0].to_execution_report() is not None
            sent = broker.order_messages_sent
            again = await broker.place(order)
            assert again.duplicate and broker.order_messages_sent == sent
            assert gw.core.exchange.orders_by_ref(handle.intent_id) == []

    asyncio.run(main())


@pytest.mark.parametrize("end", ["positionEnd", "execDetailsEnd"])
def test_startup_reconciliation_fails_closed_when_the_broker_withholds_an_answer(end: str) -> None:
    async def main() -> None:
        gateway = SimGateway(GatewayConfig(port=0, seed=2, symbols=("AAA",)))
        gateway.core.registry.add("AAA")
        gateway.faults.withhold(end)
        await gateway.start()
        broker = IBBroker(port=gateway.port, client_id=31, readonly=False, timeout=0.5,
                          auto_reconnect=False)  # fmt: skip
        try:
            with pytest.raises(BrokerNotReady):
                await broker.connect()
            assert not broker.is_ready
            with pytest.raises((BrokerNotReady, BrokerDisconnected)):
                await broker.place(intent("AAA", "BUY", 1))
            assert gateway.core.exchange.orders() == []
        finally:
            await broker.close()
            await gateway.stop()

    asyncio.run(main())


def test_duplicated_fill_messages_count_once_and_late_commissions_are_joined() -> None:
    async def main() -> None:
        async with gateway_and_broker() as (gw, broker):
            gw.faults.duplicate_fills = 1
            gw.faults.commission_delay = 0.3
            fills = []

            async def pull() -> None:
                async for ev in broker.events():
                    if ev.kind == "fill":
                        fills.append(ev)

            task = asyncio.ensure_future(pull())
            order = intent("AAA", "BUY", 7)
            await broker.place(order)
            await until(lambda: len(fills) >= 1)
            await asyncio.sleep(0.5)  # the duplicate and the late commission report arrive
            task.cancel()
            assert len(fills) == 1 and fills[0].last_fill_quantity == 7
            executions = [
                e for e in await broker.executions() if e.intent_id == str(order.intent_id)
            ]
            assert len(executions) == 1 and executions[0].commission is not None
            assert executions[0].commission > 0

    asyncio.run(main())


def test_an_unpaced_burst_is_error_100_then_a_reconnect() -> None:
    async def main() -> None:
        async with gateway_and_broker(reconnect_initial_backoff=0.1) as (gw, broker):
            broker.pacer.enabled = False  # misconfigured: no client-side pacing at all
            broker.ib.client.MaxRequests = 0  # and ib_async's own throttle off
            for _ in range(80):
                broker.ib.client.reqCurrentTime()
            await until(lambda: broker.pacing_violations.count == 1, timeout=3)
            assert gw.core.stats.pacing_errors == 1
            await until(lambda: broker.reconnects == 1 and broker.is_ready, timeout=5)

    asyncio.run(main())
