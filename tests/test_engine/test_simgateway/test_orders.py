"""placeOrder / cancelOrder parsing, round-tripped against bytes from ib_async's Client."""

from __future__ import annotations

import math

import pytest
from ib_async import (
    LimitOrder,
    MarketOrder,
    Order,
    PriceCondition,
    Stock,
    StopLimitOrder,
    StopOrder,
    TagValue,
)

from engine.broker.simgateway.orders import (
    OrderParseError,
    parse_cancel_order,
    parse_place_order,
)
from tests.test_engine.test_simgateway.support import client_frames, place_order_fields

VERSIONS = (157, 158, 163, 166, 169, 170, 176, 177, 178)


def _orders() -> dict[str, Order]:
    return {
        "MARKET": MarketOrder("BUY", 10, orderRef="intent-a"),
        "LIMIT": LimitOrder("SELL", 5, 101.25, tif="GTC", orderRef="intent-b"),
        "STOP": StopOrder("BUY", 3, 99.5),
        "STOP_LIMIT": StopLimitOrder("SELL", 7, 98.0, 98.5, tif="IOC"),
        "ADAPTIVE": Order(
            action="BUY",
            totalQuantity=12,
            orderType="MKT",
            algoStrategy="Adaptive",
            algoParams=[TagValue("adaptivePriority", "Normal")],
        ),
    }


EXPECTED = {
    "MARKET": ("BUY", 10.0, "MKT", None, None, "", "intent-a", ""),
    "LIMIT": ("SELL", 5.0, "LMT", 101.25, None, "GTC", "intent-b", ""),
    "STOP": ("BUY", 3.0, "STP", None, 99.5, "", "", ""),
    "STOP_LIMIT": ("SELL", 7.0, "STP LMT", 98.0, 98.5, "IOC", "", ""),
    "ADAPTIVE": ("BUY", 12.0, "MKT", None, None, "", "", "Adaptive"),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_place_order_round_trip(kind: str, version: int) -> None:
    order = _orders()[kind]
    fields = place_order_fields(version, 42, Stock("AAPL", "SMART", "USD"), order)
    parsed = parse_place_order(fields, version)  # raises if any field is left over or missing
    got = (
        parsed.action,
        parsed.total_quantity,
        parsed.order_type,
        parsed.lmt_price,
        parsed.aux_price,
        parsed.tif,
        parsed.order_ref,
        parsed.algo_strategy,
    )
    assert got == EXPECTED[kind]
    assert parsed.order_id == 42 and parsed.contract.symbol == "AAPL"
    assert parsed.contract.exchange == "SMART" and parsed.transmit is True
    # every wire field (minus the message id) was read exactly once, under a name
    assert len(parsed.fields) == len(fields) - 1
    if kind == "ADAPTIVE":
        assert parsed.algo_params == (("adaptivePriority", "Normal"),)


@pytest.mark.parametrize("version", (157, 170, 178))
def test_place_order_rare_branches_are_consumed(version: int) -> None:
    order = LimitOrder(
        "BUY",
        100,
        50.0,
        hedgeType="D",
        hedgeParam="0.5",
        scalePriceIncrement=0.05,
        scaleInitLevelSize=10,
        scaleSubsLevelSize=5,
        deltaNeutralOrderType="LMT",
        orderMiscOptions=[TagValue("a", "b")],
        conditions=[PriceCondition(price=49.0, conId=265598, exch="SMART")],
        whatIf=True,
    )
    fields = place_order_fields(version, 9, Stock("AAPL", "SMART", "USD"), order)
    parsed = parse_place_order(fields, version)
    assert parsed.what_if is True and parsed.conditions == 1
    assert parsed.fields["hedgeParam"] == "0.5"
    assert parsed.fields["scaleProfitOffset"] == ""
    assert parsed.fields["deltaNeutralDesignatedLocation"] == ""
    assert parsed.fields["orderMiscOptions"] == "a=b;"


@pytest.mark.parametrize("order_type", ["PEG MID", "PEG BEST", "PEG BENCH"])
def test_place_order_peg_tails(order_type: str) -> None:
    order = Order(action="BUY", totalQuantity=1, orderType=order_type, lmtPrice=1.0)
    if order_type == "PEG BEST":
        order.competeAgainstBestOffset = math.inf
    fields = place_order_fields(178, 5, Stock("AAPL", "SMART", "USD"), order)
    parsed = parse_place_order(fields, 178)
    assert parsed.order_type == order_type
    assert len(parsed.fields) == len(fields) - 1


def test_place_order_layout_drift_is_refused() -> None:
    fields = place_order_fields(178, 1, Stock("AAPL", "SMART", "USD"), MarketOrder("BUY", 1))
    with pytest.raises(OrderParseError, match="unread field"):
        parse_place_order([*fields, "extra"], 178)
    with pytest.raises(OrderParseError, match="ended after"):
        parse_place_order(fields[:-1], 178)
    # a v178 message read with the v176 layout leaves fields over
    with pytest.raises(OrderParseError):
        parse_place_order(fields, 176)


@pytest.mark.parametrize("version", (157, 168, 169, 178))
def test_cancel_order_round_trip(version: int) -> None:
    [fields] = client_frames(version, lambda c: c.cancelOrder(77, ""))
    request = parse_cancel_order(fields, version)
    assert request.order_id == 77
