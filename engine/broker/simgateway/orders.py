"""Client → server order messages: ``placeOrder``, ``cancelOrder``.

``parse_place_order`` replays ``ib_async.client.Client.placeOrder`` field by field (including the
conditional blocks: combo legs, delta-neutral, scale, hedge, algo, PEG, conditions and the
version tail) and refuses a message with fields left over or missing, so a layout drift shows
up as a clear error instead of a silently misread order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from engine.broker.simgateway.framing import UNSET_DOUBLE
from engine.broker.simgateway.instruments import CONTRACT_FIELDS, ContractSpec

# Fields per order condition after its condType (ib_async.order: PriceCondition ... PercentChange).
CONDITION_FIELD_COUNTS = {1: 6, 3: 3, 4: 3, 5: 4, 6: 5, 7: 5}
PEG_BENCH = {"PEG BENCH", "PEGBENCH"}
PEG_BEST = {"PEG BEST", "PEGBEST"}
PEG_MID = {"PEG MID", "PEGMID"}


class OrderParseError(ValueError):
    """A client order message does not match the layout of the negotiated server version."""


class FieldReader:
    """Sequential reader over one message's fields that records every field by name."""

    def __init__(
        self,
        fields: Sequence[str],
        start: int = 1,
        message: str = "message",
        *,
        record: bool = True,
    ) -> None:
        self._fields = fields
        self._pos = start
        self._message = message
        self._record = record
        self.named: dict[str, str] = {}

    def take(self, name: str) -> str:
        if self._pos >= len(self._fields):
            raise OrderParseError(
                f"{self._message} ended after {len(self._fields)} fields while reading "
                f"{name!r} (field {self._pos}); the client layout does not match this "
                "server version"
            )
        value = self._fields[self._pos]
        self._pos += 1
        if self._record:
            self.named[name] = value
        return value

    def take_many(self, names: Sequence[str]) -> list[str]:
        end = self._pos + len(names)
        if end > len(self._fields):
            for name in names:  # raises naming the first missing field
                self.take(name)
        values = list(self._fields[self._pos : end])
        if self._record:
            self.named.update(zip(names, values, strict=True))
        self._pos = end
        return values

    def take_slice(self, name: str, count: int) -> list[str]:
        return self.take_many(_slice_names(name, count))

    def finish(self) -> None:
        extra = len(self._fields) - self._pos
        if extra:
            raise OrderParseError(
                f"{self._message} has {extra} unread field(s) after {self._pos}: "
                f"{list(self._fields[self._pos :])[:8]}; the client layout does not match this "
                "server version"
            )


@lru_cache(maxsize=256)
def _slice_names(name: str, count: int) -> tuple[str, ...]:
    return tuple(f"{name}[{i}]" for i in range(count))


def _int(text: str, default: int = 0) -> int:
    return int(text) if text else default


def _float(text: str) -> float | None:
    if not text:
        return None
    if text == "Infinite":
        return float("inf")
    value = float(text)
    return None if value == UNSET_DOUBLE else value


def _bool(text: str) -> bool:
    return bool(int(text)) if text else False


@dataclass(frozen=True)
class ParsedOrder:
    """The parts of a placeOrder the gateway acts on; ``fields`` keeps every named wire field."""

    order_id: int
    contract: ContractSpec
    action: str
    total_quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    account: str
    order_ref: str
    transmit: bool
    parent_id: int
    outside_rth: bool
    what_if: bool
    algo_strategy: str
    algo_params: tuple[tuple[str, str], ...]
    cash_qty: float | None
    conditions: int
    fields: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


ORDER_HEAD = (
    "secIdType", "secId", "action", "totalQuantity", "orderType", "lmtPrice", "auxPrice",
    "tif", "ocaGroup", "account", "openClose", "origin", "orderRef", "transmit", "parentId",
    "blockOrder", "sweepToFill", "displaySize", "triggerMethod", "outsideRth", "hidden",
)  # fmt: skip
ORDER_FA = (
    "sharesAllocation", "discretionaryAmt", "goodAfterTime", "goodTillDate", "faGroup",
    "faMethod", "faPercentage",
)  # fmt: skip
ORDER_MID = (
    "modelCode", "shortSaleSlot", "designatedLocation", "exemptCode", "ocaType", "rule80A",
    "settlingFirm", "allOrNone", "minQty", "percentOffset", "eTradeOnly", "firmQuoteOnly",
    "nbboPriceCap", "auctionStrategy", "startingPrice", "stockRefPrice", "delta",
    "stockRangeLower", "stockRangeUpper", "overridePercentageConstraints", "volatility",
    "volatilityType", "deltaNeutralOrderType", "deltaNeutralAuxPrice",
)  # fmt: skip
ORDER_DELTA_NEUTRAL = (
    "deltaNeutralConId", "deltaNeutralSettlingFirm", "deltaNeutralClearingAccount",
    "deltaNeutralClearingIntent", "deltaNeutralOpenClose", "deltaNeutralShortSale",
    "deltaNeutralShortSaleSlot", "deltaNeutralDesignatedLocation",
)  # fmt: skip
ORDER_SCALE_HEAD = (
    "continuousUpdate", "referencePriceType", "trailStopPrice", "trailingPercent",
    "scaleInitLevelSize", "scaleSubsLevelSize", "scalePriceIncrement",
)  # fmt: skip
ORDER_SCALE_BODY = (
    "scalePriceAdjustValue", "scalePriceAdjustInterval", "scaleProfitOffset", "scaleAutoReset",
    "scaleInitPosition", "scaleInitFillQty", "scaleRandomPercent",
)  # fmt: skip
ORDER_MISC = (
    "algoId",
    "whatIf",
    "orderMiscOptions",
    "solicited",
    "randomizeSize",
    "randomizePrice",
)
ORDER_PEG_BENCH = (
    "referenceContractId", "isPeggedChangeAmountDecrease", "peggedChangeAmount",
    "referenceChangeAmount", "referenceExchangeId",
)  # fmt: skip
ORDER_TAIL = (
    "adjustedOrderType", "triggerPrice", "lmtPriceOffset", "adjustedStopPrice",
    "adjustedStopLimitPrice", "adjustedTrailingAmount", "adjustableTrailingUnit", "extOperator",
    "softDollarTierName", "softDollarTierVal", "cashQty", "mifid2DecisionMaker",
    "mifid2DecisionAlgo", "mifid2ExecutionTrader", "mifid2ExecutionAlgo",
    "dontUseAutoPriceForHedge", "isOmsContainer", "discretionaryUpToLimitPrice",
    "usePriceMgmtAlgo",
)  # fmt: skip


_HEAD = {name: i for i, name in enumerate(ORDER_HEAD)}
_MID = {name: i for i, name in enumerate(ORDER_MID)}
_SCALE = {name: i for i, name in enumerate(ORDER_SCALE_HEAD)}
_MISC = {name: i for i, name in enumerate(ORDER_MISC)}
_TAIL = {name: i for i, name in enumerate(ORDER_TAIL)}


def parse_place_order(
    fields: Sequence[str], server_version: int, *, keep_fields: bool = True
) -> ParsedOrder:
    """Parse a placeOrder (msg 3) exactly as ``Client.placeOrder`` lays it out.

    Parameters
    ----------
    fields : the message's fields, ``fields[0] == "3"``.
    server_version : the negotiated version (decides the version-dependent tail).
    keep_fields : record every field by name in ``ParsedOrder.fields`` (off on the hot path).
    """
    if not fields or fields[0] != "3":
        raise OrderParseError(f"not a placeOrder message: {list(fields[:2])}")
    r = FieldReader(fields, 1, "placeOrder", record=keep_fields)
    order_id = _int(r.take("orderId"))
    contract = ContractSpec.from_fields(r.take_slice("contract", CONTRACT_FIELDS))
    head = r.take_many(ORDER_HEAD)
    if contract.sec_type == "BAG":
        for i in range(_int(r.take("comboLegCount"))):
            r.take_slice(f"comboLeg{i}", 8)
        for i in range(_int(r.take("orderComboLegCount"))):
            r.take(f"orderComboLeg{i}.price")
        for i in range(_int(r.take("smartComboRoutingParamCount"))):
            r.take_slice(f"smartComboRoutingParam{i}", 2)
    r.take_many(ORDER_FA)
    if server_version < 177:
        r.take("faProfile")
    mid = r.take_many(ORDER_MID)
    if mid[_MID["deltaNeutralOrderType"]]:
        r.take_many(ORDER_DELTA_NEUTRAL)
    scale = r.take_many(ORDER_SCALE_HEAD)
    increment = _float(scale[_SCALE["scalePriceIncrement"]])
    if increment is not None and 0 < increment < UNSET_DOUBLE:
        r.take_many(ORDER_SCALE_BODY)
    r.take_many(("scaleTable", "activeStartTime", "activeStopTime"))
    if r.take("hedgeType"):
        r.take("hedgeParam")
    r.take_many(("optOutSmartRouting", "clearingAccount", "clearingIntent", "notHeld"))
    if _bool(r.take("deltaNeutralContractPresent")):
        r.take_many(("dncConId", "dncDelta", "dncPrice"))
    algo_strategy = r.take("algoStrategy")
    algo_params: list[tuple[str, str]] = []
    if algo_strategy:
        for i in range(_int(r.take("algoParamCount"))):
            tag, value = r.take_slice(f"algoParam{i}", 2)
            algo_params.append((tag, value))
    misc = r.take_many(ORDER_MISC)
    order_type = head[_HEAD["orderType"]]
    if order_type in PEG_BENCH:
        r.take_many(ORDER_PEG_BENCH)
    n_conditions = _int(r.take("conditionCount"))
    for i in range(n_conditions):
        cond_type = _int(r.take(f"condition{i}.condType"))
        count = CONDITION_FIELD_COUNTS.get(cond_type)
        if count is None:
            raise OrderParseError(
                f"placeOrder condition {i} has unknown condType {cond_type}; "
                f"known types are {sorted(CONDITION_FIELD_COUNTS)}"
            )
        r.take_slice(f"condition{i}", count)
    if n_conditions:
        r.take_many(("conditionsIgnoreRth", "conditionsCancelOrder"))
    tail = r.take_many(ORDER_TAIL)
    if server_version >= 158:
        r.take("duration")
    if server_version >= 160:
        r.take("postToAts")
    if server_version >= 162:
        r.take("autoCancelParent")
    if server_version >= 166:
        r.take("advancedErrorOverride")
    if server_version >= 169:
        r.take("manualOrderTime")
    if server_version >= 170:
        if contract.exchange == "IBKRATS":
            r.take("minTradeQty")
        if order_type in PEG_BEST:
            _, compete_offset = r.take_many(("minCompeteSize", "competeAgainstBestOffset"))
            if compete_offset == "Infinite":
                r.take_many(("midOffsetAtWhole", "midOffsetAtHalf"))
        elif order_type in PEG_MID:
            r.take_many(("midOffsetAtWhole", "midOffsetAtHalf"))
    r.finish()
    return ParsedOrder(
        order_id=order_id,
        contract=contract,
        action=head[_HEAD["action"]],
        total_quantity=float(head[_HEAD["totalQuantity"]] or 0.0),
        order_type=order_type,
        lmt_price=_float(head[_HEAD["lmtPrice"]]),
        aux_price=_float(head[_HEAD["auxPrice"]]),
        tif=head[_HEAD["tif"]],
        account=head[_HEAD["account"]],
        order_ref=head[_HEAD["orderRef"]],
        transmit=_bool(head[_HEAD["transmit"]]),
        parent_id=_int(head[_HEAD["parentId"]]),
        outside_rth=_bool(head[_HEAD["outsideRth"]]),
        what_if=_bool(misc[_MISC["whatIf"]]),
        algo_strategy=algo_strategy,
        algo_params=tuple(algo_params),
        cash_qty=_float(tail[_TAIL["cashQty"]]),
        conditions=n_conditions,
        fields=r.named,
    )


@dataclass(frozen=True)
class CancelRequest:
    order_id: int
    manual_cancel_time: str


def parse_cancel_order(fields: Sequence[str], server_version: int) -> CancelRequest:
    """Parse cancelOrder ``[4, 1, orderId, manualCancelOrderTime (v>=169)]``."""
    r = FieldReader(fields, 1, "cancelOrder")
    r.take("version")
    order_id = _int(r.take("orderId"))
    manual = r.take("manualCancelOrderTime") if server_version >= 169 else ""
    r.finish()
    return CancelRequest(order_id, manual)
