"""Golden protocol tests: every frame the gateway builds is decoded by ib_async's own Decoder.

For each builder and server version: the full frame decodes without a Decoder error into the
expected wrapper call and values; the same frame minus its last field must make the Decoder fail
(log an error), except where ib_async provably tolerates it (listed in TOLERATED with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from engine.broker.simgateway import messages as m
from engine.broker.simgateway.framing import encode_payload, split_fields
from engine.broker.simgateway.instruments import InstrumentRegistry
from tests.test_engine.test_simgateway.support import decode, decoder_errors

VERSIONS = (157, 163, 166, 176, 178)
AAPL = InstrumentRegistry(["AAPL"]).by_symbol("AAPL")
assert AAPL is not None
CONTRACT = AAPL.contract()

ORDER = m.OrderView(
    order_id=7,
    client_id=3,
    perm_id=1_000_042,
    contract=CONTRACT,
    action="BUY",
    total_quantity=100.0,
    order_type="LMT",
    lmt_price=187.25,
    aux_price=None,
    tif="DAY",
    account="DU7654321",
    order_ref="intent-123",
    status="Submitted",
    filled=40.0,
    avg_fill_price=187.2,
    last_fill_price=187.2,
)
ALGO_ORDER = replace(
    ORDER,
    order_type="MKT",
    lmt_price=None,
    algo_strategy="Adaptive",
    algo_params=(("adaptivePriority", "Urgent"),),
)
EXECUTION = m.ExecutionView(
    exec_id="0001.0002.01.01",
    order_id=7,
    client_id=3,
    perm_id=1_000_042,
    contract=CONTRACT,
    time="20260102 15:30:00 UTC",
    account="DU7654321",
    exchange="NASDAQ",
    side="BOT",
    shares=40.0,
    price=187.2,
    cum_qty=40.0,
    avg_price=187.2,
    order_ref="intent-123",
)
MARGIN = m.MarginState(init_margin_change="9000.00", commission=1.0, commission_currency="USD")
DETAILS = m.DetailsView(contract=CONTRACT, long_name="Apple Inc.", min_tick=0.01)
BARS = [
    m.Bar("20260102", 1.0, 2.0, 0.5, 1.5, 1000.0, 1.4, 10),
    m.Bar("20260105", 1.5, 2.5, 1.0, 2.0, 2000.0, 1.9, 20),
]


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[int], list[Any]]
    method: str
    check: Callable[[tuple[Any, ...]], None]


def _args(expected: tuple[Any, ...]) -> Callable[[tuple[Any, ...]], None]:
    def check(args: tuple[Any, ...]) -> None:
        assert args == expected

    return check


def _check_open_order(args: tuple[Any, ...]) -> None:
    order_id, contract, order, state = args
    assert (order_id, order.orderId, order.clientId, order.permId) == (7, 7, 3, 1_000_042)
    assert (contract.conId, contract.symbol, contract.secType) == (CONTRACT.con_id, "AAPL", "STK")
    assert (order.action, order.totalQuantity, order.orderType) == ("BUY", 100.0, "LMT")
    assert order.lmtPrice == 187.25 and order.orderRef == "intent-123"
    assert order.account == "DU7654321" and state.status == "Submitted"


def _check_algo_open_order(args: tuple[Any, ...]) -> None:
    _, _, order, _ = args
    assert order.algoStrategy == "Adaptive"
    assert [(p.tag, p.value) for p in order.algoParams] == [("adaptivePriority", "Urgent")]


def _check_what_if(args: tuple[Any, ...]) -> None:
    _, _, order, state = args
    assert order.whatIf is True
    assert state.initMarginChange == "9000.00" and state.commission == 1.0


def _check_completed(args: tuple[Any, ...]) -> None:
    contract, order, state = args
    assert contract.conId == CONTRACT.con_id and order.permId == 1_000_042
    assert state.status == "Filled" and state.completedStatus == "Filled"
    assert order.filledQuantity == 40.0


def _check_exec(args: tuple[Any, ...]) -> None:
    req_id, contract, ex = args
    assert req_id == -1 and contract.conId == CONTRACT.con_id
    assert (ex.execId, ex.orderId, ex.clientId, ex.permId) == ("0001.0002.01.01", 7, 3, 1_000_042)
    assert (ex.side, ex.shares, ex.price, ex.cumQty) == ("BOT", 40.0, 187.2, 40.0)
    assert ex.orderRef == "intent-123" and ex.time.year == 2026


def _check_commission(args: tuple[Any, ...]) -> None:
    (report,) = args
    assert (report.execId, report.commission, report.currency) == ("x1", 1.25, "USD")
    assert report.realizedPNL == 12.5


def _check_position(args: tuple[Any, ...]) -> None:
    account, contract, qty, avg = args
    assert (account, contract.conId, contract.symbol, qty, avg) == (
        "DU7654321", CONTRACT.con_id, "AAPL", 100.0, 187.2,
    )  # fmt: skip


def _check_portfolio(args: tuple[Any, ...]) -> None:
    contract, pos, price, value, avg, unreal, real, acct = args
    assert contract.conId == CONTRACT.con_id and contract.primaryExchange == "NASDAQ"
    assert (pos, price, value, avg, unreal, real, acct) == (
        100.0, 190.0, 19_000.0, 187.2, 280.0, 0.0, "DU7654321",
    )  # fmt: skip


def _check_details(args: tuple[Any, ...]) -> None:
    req_id, cd = args
    assert req_id == 11 and cd.contract.conId == CONTRACT.con_id
    assert cd.contract.symbol == "AAPL" and cd.contract.primaryExchange == "NASDAQ"
    assert cd.longName == "Apple Inc." and cd.minTick == 0.01


def _check_bar(args: tuple[Any, ...]) -> None:
    req_id, bar = args
    assert req_id == 4 and bar.date in ("20260102", "20260105") and bar.barCount in (10, 20)


def _check_error(args: tuple[Any, ...]) -> None:
    assert args[:3] == (7, 201, "Order rejected - reason: test")


CASES = [
    Case("nextValidId", lambda v: m.next_valid_id(17), "nextValidId", _args((17,))),
    Case(
        "managedAccounts",
        lambda v: m.managed_accounts(["DU7654321"]),
        "managedAccounts",
        _args(("DU7654321",)),
    ),
    Case(
        "errMsg",
        lambda v: m.error(7, 201, "Order rejected - reason: test", v),
        "error",
        _check_error,
    ),
    Case(
        "currentTime",
        lambda v: m.current_time(1_767_000_000),
        "currentTime",
        _args((1_767_000_000,)),
    ),
    Case(
        "position",
        lambda v: m.position("DU7654321", CONTRACT, 100.0, 187.2),
        "position",
        _check_position,
    ),
    Case("positionEnd", lambda v: m.position_end(), "positionEnd", _args(())),
    Case(
        "accountValue",
        lambda v: m.account_value("NetLiquidation", "1000.00", "USD", "DU7654321"),
        "updateAccountValue",
        _args(("NetLiquidation", "1000.00", "USD", "DU7654321")),
    ),
    Case(
        "portfolioValue",
        lambda v: m.portfolio_value(
            CONTRACT, 100.0, 190.0, 19_000.0, 187.2, 280.0, 0.0, "DU7654321"
        ),
        "updatePortfolio",
        _check_portfolio,
    ),
    Case(
        "accountUpdateTime",
        lambda v: m.account_update_time("15:30"),
        "updateAccountTime",
        _args(("15:30",)),
    ),
    Case(
        "accountDownloadEnd",
        lambda v: m.account_download_end("DU7654321"),
        "accountDownloadEnd",
        _args(("DU7654321",)),
    ),
    Case(
        "accountUpdateMulti",
        lambda v: m.account_update_multi(5, "DU7654321", "", "CashBalance", "10.00", "USD"),
        "accountUpdateMulti",
        _args((5, "DU7654321", "", "CashBalance", "10.00", "USD")),
    ),
    Case(
        "accountUpdateMultiEnd",
        lambda v: m.account_update_multi_end(5),
        "accountUpdateMultiEnd",
        _args((5,)),
    ),
    Case(
        "accountSummary",
        lambda v: m.account_summary(9, "DU7654321", "NetLiquidation", "1.00", "USD"),
        "accountSummary",
        _args((9, "DU7654321", "NetLiquidation", "1.00", "USD")),
    ),
    Case("accountSummaryEnd", lambda v: m.account_summary_end(9), "accountSummaryEnd", _args((9,))),
    Case("openOrder", lambda v: m.open_order(ORDER, v), "openOrder", _check_open_order),
    Case(
        "openOrder(algo)",
        lambda v: m.open_order(ALGO_ORDER, v),
        "openOrder",
        _check_algo_open_order,
    ),
    Case(
        "openOrder(whatIf)",
        lambda v: m.open_order(replace(ORDER, what_if=True), v, MARGIN),
        "openOrder",
        _check_what_if,
    ),
    Case("openOrderEnd", lambda v: m.open_order_end(), "openOrderEnd", _args(())),
    Case(
        "orderStatus",
        lambda v: m.order_status(ORDER),
        "orderStatus",
        _args((7, "Submitted", 40.0, 60.0, 187.2, 1_000_042, 0, 187.2, 3, "", 0.0)),
    ),
    Case(
        "completedOrder",
        lambda v: m.completed_order(replace(ORDER, status="Filled", completed_status="Filled"), v),
        "completedOrder",
        _check_completed,
    ),
    Case(
        "completedOrder(algo)",
        lambda v: m.completed_order(ALGO_ORDER, v),
        "completedOrder",
        lambda a: None if a[1].algoStrategy == "Adaptive" else pytest.fail("algo lost"),
    ),
    Case("completedOrdersEnd", lambda v: m.completed_orders_end(), "completedOrdersEnd", _args(())),
    Case("execDetails", lambda v: m.exec_details(-1, EXECUTION, v), "execDetails", _check_exec),
    Case("execDetailsEnd", lambda v: m.exec_details_end(3), "execDetailsEnd", _args((3,))),
    Case(
        "commissionReport",
        lambda v: m.commission_report("x1", 1.25, "USD", 12.5),
        "commissionReport",
        _check_commission,
    ),
    Case(
        "contractDetails",
        lambda v: m.contract_details(11, DETAILS, v),
        "contractDetails",
        _check_details,
    ),
    Case(
        "contractDetailsEnd",
        lambda v: m.contract_details_end(11),
        "contractDetailsEnd",
        _args((11,)),
    ),
    Case(
        "tickPrice",
        lambda v: m.tick_price(2, m.TICK_BID, 101.5, 300.0, 0),
        "priceSizeTick",
        _args((2, 1, 101.5, 300.0)),
    ),
    Case(
        "tickSize",
        lambda v: m.tick_size(2, m.TICK_VOLUME, 5000.0),
        "tickSize",
        _args((2, 8, 5000.0)),
    ),
    Case("tickSnapshotEnd", lambda v: m.tick_snapshot_end(2), "tickSnapshotEnd", _args((2,))),
    Case("marketDataType", lambda v: m.market_data_type(2, 1), "marketDataType", _args((2, 1))),
    Case("pnl", lambda v: m.pnl(5, 10.5, 7.25, 3.25), "pnl", _args((5, 10.5, 7.25, 3.25))),
    Case(
        "pnlSingle",
        lambda v: m.pnl_single(6, 100.0, 10.5, 7.25, 3.25, 19_000.0),
        "pnlSingle",
        _args((6, 100.0, 10.5, 7.25, 3.25, 19_000.0)),
    ),
    Case(
        "historicalData",
        lambda v: m.historical_data(4, "20260101 00:00:00", "20260106 00:00:00", BARS),
        "historicalData",
        _check_bar,
    ),
]

# Frames whose last field ib_async's Decoder ignores, so dropping it cannot fail:
TOLERATED = {
    "positionEnd": "the last field is the unused version number (wrap skip=2)",
    "openOrderEnd": "the last field is the unused version number (wrap skip=2)",
    "orderStatus": "Wrapper.orderStatus declares mktCapPrice=0.0 as a default",
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_frame_decodes_with_ib_async(
    case: Case, version: int, caplog: pytest.LogCaptureFixture
) -> None:
    fields = case.build(version)
    with decoder_errors(caplog) as errors:
        rec = decode(fields, version)
    assert errors == [], f"{case.name} v{version}: {[e.getMessage() for e in errors]}"
    calls = [args for name, args in rec.calls if name == case.method]
    assert calls, f"{case.name}: {case.method} not called; calls were {rec.calls}"
    for args in calls:
        case.check(args)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_frame_minus_last_field_fails(
    case: Case, version: int, caplog: pytest.LogCaptureFixture
) -> None:
    fields = case.build(version)[:-1]
    with decoder_errors(caplog) as errors:
        rec = decode(fields, version)
    if case.name in TOLERATED:
        assert errors == []
        assert [n for n, _ in rec.calls] == [case.method]
    else:
        assert errors, f"{case.name} v{version}: truncated frame decoded silently: {rec.calls}"


def test_error_frame_layout_depends_on_version() -> None:
    assert len(m.error(1, 2, "x", 165)) == 5
    assert len(m.error(1, 2, "x", 166)) == 6


def _count(fields: list[Any]) -> int:
    """Wire fields of a message (builders may pre-encode constant runs as one Block)."""
    return len(split_fields(encode_payload(fields)))


def test_field_counts_match_reference() -> None:
    # tws-protocol.md: execDetails has 32 fields at v178 (pendingPriceRevision from v178).
    assert _count(m.exec_details(-1, EXECUTION, 178)) == 32
    assert _count(m.exec_details(-1, EXECUTION, 177)) == 31
    assert _count(m.position("A", CONTRACT, 1, 1)) == 16
    assert _count(m.portfolio_value(CONTRACT, 1, 1, 1, 1, 1, 1, "A")) == 20
    assert _count(m.commission_report("x", 1.0, "USD", None)) == 8
    assert _count(m.tick_price(1, 1, 1.0, 1.0)) == 7
    assert _count(m.order_status(ORDER)) == 12
