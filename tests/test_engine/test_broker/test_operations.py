"""Emergency operations: which orders cancel-all really cancelled, and by which route — including
IB's case of orders placed by another client id (per-order cancel 10147, then the global cancel)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from engine.broker.clock import SystemClock
from engine.broker.ib import IBBroker
from engine.broker.operations import (
    HaltFlag,
    OrderCancelled,
    cancel_all_orders,
    cancelled_orders,
    rollback,
)
from engine.broker.pacing import PacingLimiter
from engine.broker.simgateway.core import GatewayConfig
from engine.broker.simgateway.server import SimGateway
from engine.broker.types import CancelResult, OpenOrder


def _order(order_id: str) -> OpenOrder:
    return OpenOrder(order_id, None, "AAA", "BUY", 5, "LIMIT", "ACKNOWLEDGED", 0, 5, 98.0)


@pytest.mark.unit
def test_confirmed_cancels_count_as_cancelled_one_by_one() -> None:
    found = [_order("1"), _order("2")]
    results = [CancelResult("1", True, 202), CancelResult("2", True, 202)]
    assert cancelled_orders(found, results, [], used_global_cancel=False) == (
        OrderCancelled("1", "cancel"),
        OrderCancelled("2", "cancel"),
    )


@pytest.mark.unit
def test_orders_refused_one_by_one_and_gone_after_the_global_cancel_count() -> None:
    found = [_order("1"), _order("2"), _order("3"), _order("4")]
    results = [
        CancelResult("1", True, 202),
        CancelResult("2", False, 10147, "Order to cancel not found"),  # another client's
        CancelResult("3", False, 10148, "cannot be cancelled"),  # had filled by itself
        CancelResult("4", False, 10147),
    ]
    remaining = [_order("4")]  # still open at the deadline
    got = cancelled_orders(found, results, remaining, used_global_cancel=True)
    assert got == (OrderCancelled("1", "cancel"), OrderCancelled("2", "global_cancel"))


@pytest.mark.unit
def test_without_a_global_cancel_a_refused_order_is_not_cancelled() -> None:
    found = [_order("1")]
    results = [CancelResult("1", False, 10147)]
    assert cancelled_orders(found, results, [], used_global_cancel=False) == ()


@pytest.mark.unit
def test_global_cancel_only_counts_every_order_that_is_gone() -> None:
    found = [_order("1"), _order("2")]
    got = cancelled_orders(found, [], [_order("2")], used_global_cancel=True)
    assert got == (OrderCancelled("1", "global_cancel"),)


async def _orders_of_another_client(port: int) -> None:
    """Client id 5 leaves two resting limit orders (2 % under the mid) and disconnects."""
    from ib_async import IB, LimitOrder, Stock

    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=5, timeout=5)
    for symbol in ("AAA", "BBB"):
        ib.placeOrder(Stock(symbol, "SMART", "USD"), LimitOrder("BUY", 3, 98.0))
    for _ in range(100):
        if len([t for t in ib.openTrades() if t.orderStatus.status == "Submitted"]) == 2:
            break
        await asyncio.sleep(0.02)
    ib.disconnect()


@pytest.mark.broker
@pytest.mark.integration
@pytest.mark.parametrize("operation", ["cancel_all", "rollback"])
def test_orders_of_another_client_id_are_reported_cancelled_by_the_global_cancel(
    operation: str, tmp_path: object
) -> None:
    async def main() -> None:
        gateway = SimGateway(GatewayConfig(port=0, seed=3, symbols=("AAA", "BBB")))
        await gateway.start()
        gateway.set_price("AAA", 100.0)
        gateway.set_price("BBB", 100.0)
        clock = SystemClock()
        broker = IBBroker(
            port=gateway.port, client_id=9, readonly=False, timeout=4.0,
            pacer=PacingLimiter(45.0, clock=clock), clock=clock, auto_reconnect=False,
        )  # fmt: skip
        try:
            await _orders_of_another_client(gateway.port)
            await broker.connect()
            if operation == "cancel_all":
                out = await cancel_all_orders(broker, clock=clock, poll_interval=0.05)
            else:
                outcome = await rollback(
                    broker, HaltFlag(tmp_path), clock=clock,  # type: ignore[arg-type]
                    now_utc=lambda: datetime.now(UTC), deadline_seconds=20, poll_interval=0.05,
                )  # fmt: skip
                assert outcome.verified_flat
                assert outcome.steps[0].detail == (
                    "2 open orders, 2 cancelled (0 one by one, 2 by the global cancel), 0 left"
                )
                out = outcome.cancel
            assert out.verified and out.used_global_cancel
            assert len(out.found) == 2
            assert {r.code for r in out.results} == {10147}  # IB: not this client's orders
            assert [c.route for c in out.cancelled] == ["global_cancel", "global_cancel"]
            assert all(out.was_cancelled(o.order_id) for o in out.found)
            assert gateway.core.exchange.open_orders() == []
        finally:
            await broker.close()
            await gateway.stop()

    asyncio.run(main())
