"""IBBroker around real ib_async objects: orders, statuses, the error-code table, callbacks."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import pytest
from ib_async import (
    CommissionReport,
    Fill,
    Order,
    OrderStatus,
    Stock,
    Trade,
)
from ib_async import Execution as IBExecution

from engine.broker.ib import IBBroker, build_order, map_status
from engine.broker.ib_errors import IB_ERROR_TABLE, classify, error_table_markdown
from engine.broker.types import BrokerUnreachable, ReadOnlyViolation, trading_mode_for
from tests.test_engine.test_broker.conformance import intent

INTENT = "5f0c3c1e-8f7a-4c1b-9a53-2b8e4f1d6a70"

pytestmark = [pytest.mark.unit, pytest.mark.broker]


@pytest.mark.parametrize(
    ("order_type", "extra", "ib_type", "lmt", "aux"),
    [
        ("MARKET", {}, "MKT", None, None),
        ("LIMIT", {"limit_price": 10.5}, "LMT", 10.5, None),
        ("STOP", {"stop_price": 9.0}, "STP", None, 9.0),
        ("STOP_LIMIT", {"limit_price": 8.9, "stop_price": 9.0}, "STP LMT", 8.9, 9.0),
    ],
)
def test_build_order_types(
    order_type: str, extra: dict[str, float], ib_type: str, lmt: float | None, aux: float | None
) -> None:
    it = intent("AAPL", "BUY", 7, order_type, time_in_force="GTC", **extra)
    order = build_order(it, account="DU1")
    assert order.orderType == ib_type and order.action == "BUY" and order.totalQuantity == 7
    assert order.orderRef == str(it.intent_id) and order.tif == "GTC" and order.account == "DU1"
    if lmt is not None:
        assert order.lmtPrice == lmt
    if aux is not None:
        assert order.auxPrice == aux


def test_build_adaptive_order_uses_the_ib_algo() -> None:
    order = build_order(intent("AAPL", "SELL", 5, "ADAPTIVE"), adaptive_priority="Urgent")
    assert order.orderType == "MKT" and order.algoStrategy == "Adaptive"
    assert [(t.tag, t.value) for t in order.algoParams] == [("adaptivePriority", "Urgent")]
    limited = build_order(intent("AAPL", "SELL", 5, "ADAPTIVE", limit_price=99.0))
    assert limited.orderType == "LMT" and limited.lmtPrice == 99.0
    with pytest.raises(ValueError, match="Urgent, Normal or Patient"):
        build_order(intent("AAPL", "SELL", 5, "ADAPTIVE"), adaptive_priority="Fast")


def test_status_mapping() -> None:
    assert map_status("PreSubmitted", 0, 10) == "ACKNOWLEDGED"
    assert map_status("Submitted", 4, 6) == "PARTIAL_FILL"
    assert map_status("Filled", 10, 0) == "FILLED"
    assert map_status("Cancelled", 0, 10) == "CANCELED"
    assert map_status("Inactive", 0, 10) == "REJECTED"
    assert map_status("PendingSubmit", 0, 10) == "SUBMITTED"


def test_error_table_policies() -> None:
    for code in (
        1100,
        1101,
        1102,
        100,
        201,
        202,
        10147,
        10148,
        10149,
        399,
        2104,
        2106,
        2158,
        10349,
    ):
        assert code in IB_ERROR_TABLE
    for informational in (399, 2104, 2106, 2158, 10349, 10167, 2199):
        assert not classify(informational).ends_order
    assert classify(201).ends_order and classify(202).kind == "order_cancelled"
    assert classify(1101).kind == "connectivity_restored_data_lost"
    assert classify(100).kind == "pacing_violation"
    assert classify(99999).kind == "unknown" and not classify(99999).ends_order
    table = error_table_markdown()
    assert "| 10349 |" in table and "| 1100 |" in table


def test_paper_and_live_detection() -> None:
    assert trading_mode_for("DU1234567", 4002)[0] == "paper"
    assert trading_mode_for("U1234567", 4001)[0] == "live"
    assert trading_mode_for("DU1234567", 4001)[0] == "live"  # conflicting evidence: fail closed
    assert trading_mode_for(None, None)[0] == "live"


def test_explicit_request_error_and_timeout_choices() -> None:
    broker = IBBroker(timeout=3.0)
    assert broker.ib.RaiseRequestErrors is True and broker.ib.RequestTimeout == 3.0


def test_read_only_refuses_orders_before_sending() -> None:
    broker = IBBroker(readonly=True)
    with pytest.raises(ReadOnlyViolation):
        asyncio.run(broker.place(intent("AAPL", "BUY", 1)))
    with pytest.raises(ReadOnlyViolation):
        asyncio.run(broker.cancel_all())
    assert broker.messages_sent == 0


def test_unreachable_port_raises_broker_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connection refused
        broker = IBBroker(port=port, timeout=2.0)
        with pytest.raises(BrokerUnreachable, match="cannot reach"):
            asyncio.run(broker.connect())
    assert not broker.is_ready


def _live_trade(broker: IBBroker, order_id: int = 7) -> Trade:
    order = Order(orderId=order_id, clientId=broker.ib.wrapper.clientId, action="BUY",
                  totalQuantity=10, orderType="LMT", lmtPrice=10.0, orderRef=INTENT)  # fmt: skip
    trade = Trade(
        Stock("AAA", "SMART", "USD"), order, OrderStatus(orderId=order_id, status="Submitted")
    )
    broker.ib.wrapper.trades[(broker.ib.wrapper.clientId, order_id)] = trade
    broker.ledger.record(INTENT, str(order_id), "AAA", 10, "ACKNOWLEDGED")
    return trade


def test_informational_code_does_not_cancel_our_order() -> None:
    broker = IBBroker(readonly=False)
    trade = _live_trade(broker)
    broker.ib.wrapper.error(7, 10349, "Order TIF was set to DAY based on order preset.", "")
    assert trade.orderStatus.status == "Cancelled"  # ib_async's local (wrong) belief …
    assert broker.ledger.get(INTENT).status == "ACKNOWLEDGED"  # type: ignore[union-attr]
    events = [broker._queue.get_nowait() for _ in range(broker._queue.qsize())]
    assert [e.code for e in events] == [10349] and all(e.status != "CANCELED" for e in events)


def test_reject_code_rejects_the_intent() -> None:
    broker = IBBroker(readonly=False)
    _live_trade(broker)
    broker.ib.wrapper.error(7, 201, "Order rejected - reason: insufficient buying power", "")
    entry = broker.ledger.get(INTENT)
    assert entry is not None and entry.status == "REJECTED"
    assert entry.reject_reason and "201" in entry.reject_reason
    events = [broker._queue.get_nowait() for _ in range(broker._queue.qsize())]
    reports = [e.to_execution_report() for e in events if e.status == "REJECTED"]
    assert reports and reports[0] is not None and reports[0].reject_reason


def test_executions_keyed_by_exec_id_with_commission_reports() -> None:
    broker = IBBroker(readonly=False)
    trade = _live_trade(broker)
    ex = IBExecution(execId="0001.01", time=datetime(2026, 1, 2, 15, tzinfo=UTC), side="BOT",
                     shares=10, price=10.0, orderId=7, cumQty=10, avgPrice=10.0,
                     orderRef=INTENT, permId=55)  # fmt: skip
    fill = Fill(trade.contract, ex, CommissionReport(), ex.time)
    broker._on_exec(trade, fill)
    broker._on_exec(trade, fill)  # a duplicated fill message: ignored
    fills = [broker._queue.get_nowait() for _ in range(broker._queue.qsize())]
    assert len(fills) == 1 and fills[0].status == "FILLED" and fills[0].exec_id == "0001.01"
    broker._on_commission(trade, fill, CommissionReport(execId="0001.01", commission=0.35))
    assert broker._execution(fill).commission == pytest.approx(0.35)
    assert broker.ledger.get(INTENT).status == "FILLED"  # type: ignore[union-attr]


def test_a_cancel_confirmed_twice_is_reported_once() -> None:
    broker = IBBroker(readonly=False)
    trade = _live_trade(broker)
    trade.orderStatus.status = "Cancelled"  # IB's orderStatus(Cancelled) …
    broker._on_status(trade)
    broker.ib.wrapper.error(7, 202, "Order Canceled - reason:", "")  # … then error 202
    events = [broker._queue.get_nowait() for _ in range(broker._queue.qsize())]
    assert [e.status for e in events] == ["CANCELED"]
