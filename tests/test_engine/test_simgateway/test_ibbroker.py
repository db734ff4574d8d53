"""Our IBBroker adapter (engine.broker.ib) against the simulated gateway's fault injection.

The adapter's promises, proven through the real socket and the real ib_async client: a fill that
happens while disconnected is recovered and positions reconcile; an informational code does not
make us believe a live order is cancelled; an intent is never placed twice across a reconnect.
(The full broker conformance suite over this gateway lives in tests/test_engine/test_broker.)
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from engine.broker.ib import IBBroker
from engine.broker.simgateway import SimGateway
from tests.support.orders import order_intent as _intent
from tests.test_engine.test_simgateway.support import quiet_config, run, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.integration]
_ids = itertools.count(21)


@asynccontextmanager
async def _setup() -> AsyncIterator[tuple[SimGateway, IBBroker]]:
    async with SimGateway(quiet_config()) as gw:
        gw.set_price("AAPL", 100.0)
        broker = IBBroker(
            port=gw.port,
            client_id=next(_ids),
            readonly=False,
            timeout=3.0,
            reconnect_initial_backoff=0.05,
            reconnect_max_backoff=0.2,
        )
        await broker.connect()
        try:
            yield gw, broker
        finally:
            await broker.close()


def _truth(gw: SimGateway) -> dict[str, int]:
    return {p.symbol: p.quantity for p in gw.core.exchange.positions()}


def test_fill_while_disconnected_is_recovered_and_positions_reconcile() -> None:
    async def scenario() -> None:
        async with _setup() as (gw, broker):
            intent = _intent("AAPL", "BUY", 25, order_type="LIMIT", limit_price=99.0)
            handle = await broker.place(intent)
            await wait_until(lambda: bool(gw.core.exchange.open_orders()))
            gw.faults.fill_while_disconnected = True
            assert gw.drop_client(broker.client_id)
            await wait_until(lambda: bool(gw.core.exchange.executions()))
            await wait_until(lambda: broker.reconnects == 1 and broker.is_ready, timeout=5)
            entry = broker.ledger.get(str(intent.intent_id))
            assert entry is not None and entry.order_id == handle.order_id
            assert entry.status == "FILLED" and entry.filled_quantity == 25
            positions = {p.symbol: p.quantity for p in await broker.positions()}
            assert positions == _truth(gw) == {"AAPL": 25}

    run(scenario())


def test_informational_code_does_not_cancel_a_live_order() -> None:
    async def scenario() -> None:
        async with _setup() as (gw, broker):
            gw.faults.inject_codes, gw.faults.inject_orders = (10349,), 1
            intent = _intent("AAPL", "BUY", 5, order_type="LIMIT", limit_price=98.0)
            handle = await broker.place(intent)
            await wait_until(lambda: any(code == 10349 for code, _ in broker.notices))
            await asyncio.sleep(0.1)  # let the adapter's re-read of open orders finish
            entry = broker.ledger.get(str(intent.intent_id))
            assert entry is not None and entry.status not in ("CANCELED", "REJECTED")
            open_ids = [o.order_id for o in await broker.open_orders()]
            assert open_ids == [handle.order_id]
            assert [o.order_ref for o in gw.core.exchange.open_orders()] == [str(intent.intent_id)]

    run(scenario())


def test_intent_is_never_placed_twice_across_a_reconnect() -> None:
    async def scenario() -> None:
        async with _setup() as (gw, broker):
            gw.faults.drop_after_order = 1
            intent = _intent("AAPL", "BUY", 10)
            first = await broker.place(intent)
            await wait_until(lambda: broker.reconnects == 1 and broker.is_ready, timeout=5)
            again = await broker.place(intent)  # a retry by the caller after the reconnect
            assert again.duplicate and again.order_id == first.order_id
            refs = [o.order_ref for o in gw.core.exchange.orders()]
            assert refs == [str(intent.intent_id)]
            assert _truth(gw) == {"AAPL": 10}
            assert {p.symbol: p.quantity for p in await broker.positions()} == {"AAPL": 10}

    run(scenario())


def test_rejects_and_pacing_seen_by_the_adapter() -> None:
    async def scenario() -> None:
        async with _setup() as (gw, broker):
            gw.faults.reject_orders = 1
            intent = _intent("AAPL", "SELL", 3)
            await broker.place(intent)
            await wait_until(
                lambda: (
                    (e := broker.ledger.get(str(intent.intent_id))) is not None
                    and e.status == "REJECTED"
                )
            )
            for _ in range(60):  # more than 50 reads: the adapter paces itself below the limit
                await broker.account_summary() if _ % 20 == 0 else await broker.open_orders()
            assert gw.core.stats.pacing_errors == 0 and broker.is_ready

    run(scenario())
