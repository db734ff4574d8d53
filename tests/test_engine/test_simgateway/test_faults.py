"""IBKR behaviours reproduced on purpose: pacing, farm status, and every injectable fault.

Each test checks what the real ib_async client sees, and that the gateway's truth (the shared
SimExchange) is what a real account would hold.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from ib_async import IB, LimitOrder, MarketOrder, Stock

from engine.broker.simgateway import SimGateway
from engine.broker.simgateway.faults import FaultSpecError, GatewayFaults, parse_fault_spec
from tests.test_engine.test_simgateway.support import connect, quiet_config, run, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.broker]


def _codes(ib: IB) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    ib.errorEvent += lambda req_id, code, msg, contract: seen.append((req_id, code))
    return seen


async def _aapl(ib: IB) -> Stock:
    [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
    return aapl


def test_message_pacing_error_100_then_disconnect() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            seen = _codes(ib)
            ib.client.MaxRequests = 0  # switch off the client's own 45/s throttle
            for _ in range(80):
                ib.client.reqCurrentTime()
            await wait_until(lambda: not ib.isConnected())
            assert (-1, 100) in seen
            assert gw.core.stats.pacing_errors == 1

    run(scenario())


def test_client_throttled_at_45_per_second_never_trips_pacing() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            seen = _codes(ib)
            for _ in range(60):  # > 50: the client throttles itself to 45 per second
                ib.client.reqCurrentTime()
            await wait_until(lambda: not ib.client._msgQ, timeout=5)
            await asyncio.sleep(0.1)
            assert ib.isConnected() and (-1, 100) not in seen
            assert gw.core.stats.pacing_errors == 0
            ib.disconnect()

    run(scenario())


def test_historical_data_pacing_error_162() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            seen = _codes(ib)
            aapl = await _aapl(ib)
            first = await ib.reqHistoricalDataAsync(aapl, "", "5 D", "1 day", "TRADES", True)
            again = await ib.reqHistoricalDataAsync(aapl, "", "5 D", "1 day", "TRADES", True)
            assert len(first) == 5 and len(again) == 0
            assert [code for _, code in seen if code == 162] == [162]
            assert gw.core.stats.historical_pacing_errors == 1
            ib.disconnect()

    run(scenario())


def test_withheld_end_message_costs_a_sync_timeout(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        faults = GatewayFaults()
        faults.withhold("positionEnd")
        async with SimGateway(quiet_config(), faults=faults) as gw:
            ib = IB()
            with caplog.at_level(logging.ERROR, logger="ib_async.ib"):
                await ib.connectAsync("127.0.0.1", gw.port, clientId=1, timeout=0.5)
            assert ib.isConnected()
            assert any("positions request timed out" in r.getMessage() for r in caplog.records)
            ib.disconnect()
            strict = IB()
            with pytest.raises(ConnectionError, match="positions request timed out"):
                await strict.connectAsync(
                    "127.0.0.1", gw.port, clientId=2, timeout=0.5, raiseSyncErrors=True
                )

    run(scenario())


def test_drop_before_order_processed_leaves_no_order() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            aapl = await _aapl(ib)
            gw.faults.drop_before_order = 1
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 10, orderRef="intent-x"))
            await wait_until(lambda: not ib.isConnected())
            assert trade.orderStatus.status == "PendingSubmit"
            assert gw.core.exchange.orders() == []
            ib2 = await connect(gw.port)
            assert ib2.fills() == [] and ib2.positions() == []
            ib2.disconnect()

    run(scenario())


def test_drop_after_order_processed_fill_recovered_on_reconnect() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            aapl = await _aapl(ib)
            gw.faults.drop_after_order = 1
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 10, orderRef="intent-y"))
            await wait_until(lambda: not ib.isConnected())
            assert trade.fills == []  # the client never heard of the fill
            assert [f.order_ref for f in gw.core.exchange.executions()] == ["intent-y"]
            ib2 = await connect(gw.port)  # the startup sync runs reqExecutions
            assert [f.execution.orderRef for f in ib2.fills()] == ["intent-y"]
            assert ib2.fills()[0].commissionReport.commission > 0
            assert [p.position for p in ib2.positions()] == [10]
            ib2.disconnect()

    run(scenario())


def test_fill_while_disconnected_is_recovered_by_req_executions() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port, client_id=5)
            aapl = await _aapl(ib)
            mid = gw.core.exchange.last_price("AAPL")
            trade = ib.placeOrder(aapl, LimitOrder("BUY", 20, round(mid * 0.97, 2), orderRef="r-1"))
            await wait_until(lambda: trade.orderStatus.status == "Submitted")
            gw.faults.fill_while_disconnected = True
            ib.disconnect()
            await wait_until(lambda: bool(gw.core.exchange.executions()))
            assert gw.core.exchange.open_orders() == []
            ib2 = await connect(gw.port, client_id=5)
            fills = await ib2.reqExecutionsAsync()
            assert [(f.execution.orderRef, f.execution.shares) for f in fills] == [("r-1", 20)]
            assert [p.position for p in ib2.positions()] == [20]
            assert ib2.openTrades() == []
            ib2.disconnect()

    run(scenario())


@pytest.mark.parametrize("restore", [1101, 1102])
def test_connectivity_lost_then_restored(restore: int) -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            seen = _codes(ib)
            aapl = await _aapl(ib)
            ticker = ib.reqMktData(aapl)
            await wait_until(lambda: ticker.last > 0)
            blip = asyncio.create_task(gw.connectivity_blip(0.15, restore))
            await wait_until(lambda: (-1, 1100) in seen)
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 1))  # held while IB is unreachable
            await asyncio.sleep(0.05)
            assert trade.orderStatus.status == "PendingSubmit"
            await blip
            await wait_until(lambda: (-1, restore) in seen and trade.isDone())
            assert [c for _, c in seen if c in (1100, 1101, 1102)] == [1100, restore]
            assert trade.orderStatus.status == "Filled"
            session = next(iter(gw.sessions))
            # 1101 = data lost: the subscription is gone and must be re-requested
            assert bool(session.subs.market_data) is (restore == 1102)
            assert ib.isConnected()
            ib.disconnect()

    run(scenario())


def test_duplicated_fill_reaches_the_client_twice_but_counts_once() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            aapl = await _aapl(ib)
            exec_ids: list[str] = []
            real = ib.wrapper.execDetails

            def spy(req_id: int, contract: object, execution: object) -> None:
                exec_ids.append(execution.execId)  # type: ignore[attr-defined]
                real(req_id, contract, execution)  # type: ignore[arg-type]

            ib.wrapper.execDetails = spy  # type: ignore[method-assign]
            gw.faults.duplicate_fills = 1
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 10))
            await wait_until(lambda: len(exec_ids) == 2 and trade.isDone())
            assert exec_ids[0] == exec_ids[1]
            assert len(trade.fills) == 1 and ib.positions()[0].position == 10
            assert len(gw.core.exchange.executions()) == 1
            ib.disconnect()

    run(scenario())


def test_delayed_commission_report() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            aapl = await _aapl(ib)
            reports: list[float] = []
            ib.commissionReportEvent += lambda trade, fill, report: reports.append(
                report.commission
            )
            gw.faults.commission_delay = 0.3
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 10))
            await wait_until(lambda: trade.orderStatus.status == "Filled")
            assert trade.fills[0].commissionReport.commission == 0.0 and reports == []
            await wait_until(lambda: len(reports) == 1, timeout=2)
            assert trade.fills[0].commissionReport.commission == pytest.approx(0.352)
            ib.disconnect()

    run(scenario())


def test_informational_codes_on_a_live_order() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            seen = _codes(ib)
            aapl = await _aapl(ib)
            gw.faults.inject_codes, gw.faults.inject_orders = (399, 10349), 1
            mid = gw.core.exchange.last_price("AAPL")
            trade = ib.placeOrder(aapl, LimitOrder("BUY", 5, round(mid * 0.98, 2)))
            oid = trade.order.orderId
            await wait_until(lambda: (oid, 10349) in seen)
            assert (oid, 399) in seen
            # ib_async treats 10349 as an error and marks the trade cancelled locally ...
            assert trade.orderStatus.status == "Cancelled"
            # ... while the order is live at the broker, as a fresh reqOpenOrders shows.
            assert [o.order_id for o in gw.core.exchange.open_orders()] == [oid]
            live = await ib.reqOpenOrdersAsync()
            assert [t.order.orderId for t in live] == [oid]
            ib.disconnect()

    run(scenario())


def test_rejected_order_gets_201() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            seen = _codes(ib)
            aapl = await _aapl(ib)
            gw.faults.reject_orders = 1
            gw.faults.reject_reason = "margin check failed"
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 10))
            await wait_until(lambda: trade.orderStatus.status == "Cancelled")
            assert (trade.order.orderId, 201) in seen
            assert trade.log[-1].errorCode == 201 and "margin check failed" in trade.log[-1].message
            assert gw.core.exchange.orders() == [] and ib.positions() == []
            ok = ib.placeOrder(aapl, MarketOrder("BUY", 10))  # the next one goes through
            await wait_until(lambda: ok.orderStatus.status == "Filled")
            ib.disconnect()

    run(scenario())


def test_stalled_ack_keeps_order_pending_submit_until_released() -> None:
    async def scenario() -> None:
        async with SimGateway(quiet_config()) as gw:
            ib = await connect(gw.port)
            aapl = await _aapl(ib)
            gw.faults.stall_acks = 1
            trade = ib.placeOrder(aapl, MarketOrder("BUY", 3))
            await asyncio.sleep(0.2)
            assert trade.orderStatus.status == "PendingSubmit" and trade.fills == []
            assert gw.release_stalled() == 1
            await wait_until(lambda: trade.orderStatus.status == "Filled")
            ib.disconnect()

    run(scenario())


def test_fault_spec_parsing() -> None:
    f = parse_fault_spec(
        ["drop-before=1,drop-after=2,fill-while-disconnected", "withhold=positionEnd+execDetailsEnd",
         "dup-fill=1,delay-commission=2.5,inject=399+10349:3,reject=4,stall=5,blip=30:2:1101"]
    )  # fmt: skip
    assert (f.drop_before_order, f.drop_after_order, f.fill_while_disconnected) == (1, 2, True)
    assert f.withhold_end == {"positionEnd", "execDetailsEnd"}
    assert (f.duplicate_fills, f.commission_delay) == (1, 2.5)
    assert (f.inject_codes, f.inject_orders, f.reject_orders, f.stall_acks) == (
        (399, 10349),
        3,
        4,
        5,
    )
    assert (f.blip_every, f.blip_seconds, f.blip_restore_code) == (30.0, 2.0, 1101)
    for bad in (
        "explode",
        "reject=x",
        "withhold=nope",
        "blip=1",
        "blip=1:1:1100",
        "delay-commission=-1",
    ):
        with pytest.raises(FaultSpecError):
            parse_fault_spec([bad])
