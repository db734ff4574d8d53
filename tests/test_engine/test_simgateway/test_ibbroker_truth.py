"""Fault scenarios from the reference list leave IBBroker's ledger equal to the gateway's truth.

After each scenario the adapter (engine.broker.ib over the real ib_async client) is compared with
the shared exchange core behind the gateway: executions (ids and sizes), positions, open orders,
and every ledger entry's filled quantity and final status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from engine.broker.ib import IBBroker
from engine.broker.simgateway import SimGateway
from engine.broker.types import BrokerNotReady
from tests.test_engine.test_simgateway.support import run, wait_until
from tests.test_engine.test_simgateway.test_ibbroker import _intent, _setup

pytestmark = [pytest.mark.broker, pytest.mark.integration]

FINAL = {"FILLED": "FILLED", "CANCELED": "CANCELED", "REJECTED": "REJECTED"}


async def assert_ledger_is_truth(gw: SimGateway, broker: IBBroker) -> None:
    exchange = gw.core.exchange
    executions = await broker.executions()
    assert sorted((e.exec_id, e.quantity) for e in executions) == sorted(
        (f.exec_id, f.shares) for f in exchange.executions(client_id=broker.client_id)
    )
    assert all(e.commission is not None and e.commission > 0 for e in executions)
    truth = {p.symbol: p.quantity for p in exchange.positions()}
    assert {p.symbol: p.quantity for p in await broker.positions()} == truth
    assert sorted(o.order_id for o in await broker.open_orders()) == sorted(
        str(o.order_id) for o in exchange.open_orders(broker.client_id)
    )
    for entry in broker.ledger.entries():
        snap = exchange.order(int(entry.order_id), broker.client_id)
        if snap is None:  # never reached the exchange
            assert entry.filled_quantity == 0 and entry.status in ("REJECTED", "CANCELED")
            continue
        assert entry.filled_quantity == snap.filled
        if snap.status in FINAL:
            assert entry.status == FINAL[snap.status], (entry, snap)


Scenario = Callable[[SimGateway, IBBroker], Awaitable[None]]


async def duplicated_fill(gw: SimGateway, broker: IBBroker) -> None:
    gw.faults.duplicate_fills = 2
    intent = _intent("AAPL", "BUY", 12)
    await broker.place(intent)
    await wait_until(lambda: len(gw.core.exchange.executions()) == 1)
    await asyncio.sleep(0.1)


async def delayed_commission(gw: SimGateway, broker: IBBroker) -> None:
    gw.faults.commission_delay = 0.2
    await broker.place(_intent("AAPL", "BUY", 7))
    await asyncio.sleep(0.4)


async def partial_fills_across_a_drop(gw: SimGateway, broker: IBBroker) -> None:
    gw.set_price("AAPL", 20.0)
    await broker.place(_intent("AAPL", "BUY", 9000))  # 2,500 a slice every 0.1 s
    await wait_until(lambda: len(gw.core.exchange.executions()) >= 1)
    assert gw.drop_client(broker.client_id)
    await wait_until(lambda: not gw.core.exchange.open_orders(), timeout=5)
    await wait_until(lambda: broker.reconnects == 1 and broker.is_ready, timeout=5)


async def blip_with_a_working_order(gw: SimGateway, broker: IBBroker) -> None:
    await broker.place(_intent("AAPL", "SELL", 4, order_type="LIMIT", limit_price=102.0))
    await wait_until(lambda: bool(gw.core.exchange.open_orders()))
    blip = asyncio.create_task(gw.connectivity_blip(0.2, 1101))
    await wait_until(lambda: gw.core.offline)
    await wait_until(lambda: not broker.is_ready)
    with pytest.raises(BrokerNotReady):  # the adapter does not send into a 1100
        await broker.place(_intent("AAPL", "BUY", 1))
    gw.set_price("AAPL", 103.0)  # the market trades through the limit while IB is away
    assert gw.core.exchange.executions() == []
    await blip
    await wait_until(lambda: len(gw.core.exchange.executions()) == 1)
    await wait_until(lambda: broker.is_ready)


async def stalled_then_released(gw: SimGateway, broker: IBBroker) -> None:
    gw.faults.stall_acks = 1
    await broker.place(_intent("AAPL", "BUY", 3))
    await asyncio.sleep(0.2)
    assert gw.release_stalled() == 1
    await wait_until(lambda: len(gw.core.exchange.executions()) == 1)


async def cancel_and_reject(gw: SimGateway, broker: IBBroker) -> None:
    resting = await broker.place(_intent("AAPL", "BUY", 5, order_type="LIMIT", limit_price=98.0))
    await wait_until(lambda: bool(gw.core.exchange.open_orders()))
    result = await broker.cancel(resting.order_id)
    assert result.accepted
    gw.faults.reject_orders = 1
    await broker.place(_intent("AAPL", "BUY", 5))
    await asyncio.sleep(0.1)


async def dropped_before_processing(gw: SimGateway, broker: IBBroker) -> None:
    gw.faults.drop_before_order = 1
    intent = _intent("AAPL", "BUY", 5)
    await broker.place(intent)
    await wait_until(lambda: broker.reconnects == 1 and broker.is_ready, timeout=5)
    again = await broker.place(intent)  # never placed twice, even though it never arrived
    assert again.duplicate and gw.core.exchange.orders() == []


SCENARIOS: dict[str, Scenario] = {
    "dropped_before_processing": dropped_before_processing,
    "duplicated_fill": duplicated_fill,
    "delayed_commission": delayed_commission,
    "partial_fills_across_a_drop": partial_fills_across_a_drop,
    "blip_1101_with_a_working_order": blip_with_a_working_order,
    "stalled_then_released": stalled_then_released,
    "cancel_and_reject": cancel_and_reject,
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_ledger_equals_gateway_truth_after_fault(name: str) -> None:
    async def scenario() -> None:
        async with _setup() as (gw, broker):
            await SCENARIOS[name](gw, broker)
            await wait_until(lambda: broker.is_ready, timeout=5)
            await assert_ledger_is_truth(gw, broker)

    run(scenario(), timeout=30)
