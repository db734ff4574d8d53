"""Server → client message builders (TWS API, server versions 157–178).

Each builder returns the list of fields of one message, laid out exactly as
``ib_async.decoder.Decoder`` unpacks it for the given server version; ``encode_frame`` turns
it into bytes. Golden tests feed every builder's output to ib_async's own Decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from engine.broker.simgateway.framing import Block, Field, block
from engine.broker.simgateway.instruments import ContractSpec

Msg = list[Field]

# Incoming message ids (client → server)
IN_REQ_MKT_DATA = 1
IN_CANCEL_MKT_DATA = 2
IN_PLACE_ORDER = 3
IN_CANCEL_ORDER = 4
IN_REQ_OPEN_ORDERS = 5
IN_REQ_ACCOUNT_UPDATES = 6
IN_REQ_EXECUTIONS = 7
IN_REQ_IDS = 8
IN_REQ_CONTRACT_DETAILS = 9
IN_REQ_AUTO_OPEN_ORDERS = 15
IN_REQ_ALL_OPEN_ORDERS = 16
IN_REQ_MANAGED_ACCTS = 17
IN_REQ_HISTORICAL_DATA = 20
IN_CANCEL_HISTORICAL_DATA = 25
IN_REQ_CURRENT_TIME = 49
IN_REQ_GLOBAL_CANCEL = 58
IN_REQ_MARKET_DATA_TYPE = 59
IN_REQ_POSITIONS = 61
IN_REQ_ACCOUNT_SUMMARY = 62
IN_CANCEL_ACCOUNT_SUMMARY = 63
IN_CANCEL_POSITIONS = 64
IN_START_API = 71
IN_REQ_ACCOUNT_UPDATES_MULTI = 76
IN_CANCEL_ACCOUNT_UPDATES_MULTI = 77
IN_REQ_PNL = 92
IN_CANCEL_PNL = 93
IN_REQ_PNL_SINGLE = 94
IN_CANCEL_PNL_SINGLE = 95
IN_REQ_COMPLETED_ORDERS = 99


def _contract11(c: ContractSpec) -> Msg:
    """The 11-field contract block (no primaryExchange) of openOrder/execDetails/position."""
    return [_contract11_block(c)]


@lru_cache(maxsize=4096)
def _contract11_block(c: ContractSpec) -> Block:
    return block(
        [
            c.con_id,
            c.symbol,
            c.sec_type,
            c.last_trade_date,
            c.strike,
            c.right,
            c.multiplier,
            c.exchange,
            c.currency,
            c.local_symbol,
            c.trading_class,
        ]
    )


def server_hello(server_version: int, conn_time: str) -> Msg:
    """Handshake reply: exactly two fields, version and connection time."""
    return [server_version, conn_time]


def next_valid_id(order_id: int) -> Msg:
    return [9, 1, order_id]


def managed_accounts(accounts: Sequence[str]) -> Msg:
    return [15, 1, ",".join(accounts)]


def error(req_id: int, code: int, message: str, server_version: int, advanced: str = "") -> Msg:
    """errMsg: reqId -1 when not tied to a request or order."""
    fields: Msg = [4, 2, req_id, code, message]
    if server_version >= 166:
        fields.append(advanced)
    return fields


def current_time(epoch_seconds: int) -> Msg:
    return [49, 1, epoch_seconds]


def position(account: str, c: ContractSpec, quantity: float, avg_cost: float) -> Msg:
    return [61, 3, account, *_contract11(c), quantity, avg_cost]


def position_end() -> Msg:
    return [62, 1]


def account_value(key: str, value: str, currency: str, account: str) -> Msg:
    return [6, 2, key, value, currency, account]


def portfolio_value(
    c: ContractSpec,
    quantity: float,
    market_price: float,
    market_value: float,
    avg_cost: float,
    unrealized_pnl: float,
    realized_pnl: float,
    account: str,
) -> Msg:
    """updatePortfolio: carries primaryExchange where other messages carry exchange."""
    return [
        7, 8, c.con_id, c.symbol, c.sec_type, c.last_trade_date, c.strike, c.right,
        c.multiplier, c.primary_exchange, c.currency, c.local_symbol, c.trading_class,
        quantity, market_price, market_value, avg_cost, unrealized_pnl, realized_pnl, account,
    ]  # fmt: skip


def account_update_time(hh_mm: str) -> Msg:
    return [8, 1, hh_mm]


def account_download_end(account: str) -> Msg:
    return [54, 1, account]


def account_update_multi(
    req_id: int, account: str, model_code: str, key: str, value: str, currency: str
) -> Msg:
    return [73, 1, req_id, account, model_code, key, value, currency]


def account_update_multi_end(req_id: int) -> Msg:
    return [74, 1, req_id]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Msg:
    return [63, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> Msg:
    return [64, 1, req_id]


@dataclass(slots=True)
class OrderView:
    """What openOrder / orderStatus / completedOrder report about one order."""

    order_id: int
    client_id: int
    perm_id: int
    contract: ContractSpec
    action: str
    total_quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    account: str
    order_ref: str
    status: str
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    parent_id: int = 0
    outside_rth: bool = False
    algo_strategy: str = ""
    algo_params: tuple[tuple[str, str], ...] = ()
    what_if: bool = False
    completed_time: str = ""
    completed_status: str = ""
    why_held: str = ""

    @property
    def remaining(self) -> float:
        return max(self.total_quantity - self.filled, 0.0)


@dataclass(frozen=True)
class MarginState:
    """The what-if part of OrderState (strings, as TWS sends them)."""

    init_margin_before: str = ""
    maint_margin_before: str = ""
    equity_with_loan_before: str = ""
    init_margin_change: str = ""
    maint_margin_change: str = ""
    equity_with_loan_change: str = ""
    init_margin_after: str = ""
    maint_margin_after: str = ""
    equity_with_loan_after: str = ""
    commission: float | None = None
    min_commission: float | None = None
    max_commission: float | None = None
    commission_currency: str = ""
    warning_text: str = ""


def _algo(strategy: str, params: tuple[tuple[str, str], ...]) -> Msg:
    fields: Msg = [strategy]
    if strategy:
        fields.append(len(params))
        for tag, value in params:
            fields += [tag, value]
    return fields


def _peg_bench(o: OrderView) -> Msg:
    return [0, False, 0.0, 0.0, ""] if o.order_type in {"PEG BENCH", "PEGBENCH"} else []


# Constant runs of openOrder fields, pre-encoded once (see ``framing.Block``).
_OO_FA = block([False, 0.0, "", "", "", "", ""])  # hidden .. faPercentage
_OO_MID_A = block(
    [
        "",
        "",
        "",
        None,
        "",
        0,
        "",
        -1,
        0,
        None,
        None,
        None,
        None,
        None,
        0,
        False,
        False,
        False,
        None,
        0,
        False,
        False,
        None,
    ]
)  # modelCode .. nbboPriceCap
_OO_MID_B = block(
    [
        0,
        None,
        None,
        "",
        None,  # triggerMethod .. deltaNeutralAuxPrice
        False,
        None,
        None,
        None,
        None,
        None,
        "",  # continuousUpdate .. comboLegsDescrip
        0,
        0,
        0,  # comboLegs, orderComboLegs, smartComboRoutingParams
        None,
        None,
        "",  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement
        "",  # hedgeType
        False,
        "",
        "",
        False,
        0,
    ]
)  # optOutSmartRouting .. deltaNeutralContract present
_OO_TAIL = block(
    ["", None, None, None, None, None, None, 0, "", "", "", None, False, False, False, False]
)  # adjustedOrderType .. usePriceMgmtAlgo
_NO_MARGIN = block(["", "", "", "", "", "", "", "", "", None, None, None, "", ""])


@lru_cache(maxsize=8192)
def _open_order_head(
    order_id: int,
    contract: ContractSpec,
    action: str,
    total_quantity: float,
    order_type: str,
    lmt_price: float | None,
    aux_price: float | None,
    tif: str,
    account: str,
    order_ref: str,
    client_id: int,
    perm_id: int,
    outside_rth: bool,
    parent_id: int,
    algo_strategy: str,
    algo_params: tuple[tuple[str, str], ...],
    server_version: int,
) -> Block:
    """Everything of openOrder before ``solicited``: constant for one order, so cached."""
    fields: Msg = [5, order_id, *_contract11(contract)]
    fields += [
        action, total_quantity, order_type, lmt_price, aux_price, tif,
        "", account, "O", 0, order_ref, client_id, perm_id, outside_rth, _OO_FA,
    ]  # fmt: skip
    if server_version < 177:
        fields.append("")  # faProfile
    fields += [_OO_MID_A, parent_id, _OO_MID_B]
    fields += _algo(algo_strategy, algo_params)
    return block(fields)


def open_order(o: OrderView, server_version: int, margin: MarginState | None = None) -> Msg:
    """openOrder (5), laid out as ``Decoder.openOrder`` reads it."""
    fields: Msg = [
        _open_order_head(
            o.order_id, o.contract, o.action, o.total_quantity, o.order_type, o.lmt_price,
            o.aux_price, o.tif, o.account, o.order_ref, o.client_id, o.perm_id, o.outside_rth,
            o.parent_id, o.algo_strategy, o.algo_params, server_version,
        )
    ]  # fmt: skip
    fields += [False, o.what_if, o.status]
    if margin is None:
        fields.append(_NO_MARGIN)
    else:
        m = margin
        fields += [
            m.init_margin_before, m.maint_margin_before, m.equity_with_loan_before,
            m.init_margin_change, m.maint_margin_change, m.equity_with_loan_change,
            m.init_margin_after, m.maint_margin_after, m.equity_with_loan_after,
            m.commission, m.min_commission, m.max_commission, m.commission_currency,
            m.warning_text,
        ]  # fmt: skip
    fields += [False, False]  # randomizeSize, randomizePrice
    fields += _peg_bench(o)
    fields += _open_order_tail(server_version)
    return fields


@lru_cache(maxsize=64)
def _open_order_tail(server_version: int) -> tuple[Field, ...]:
    """conditions .. the version tail: constant, pre-encoded except the very last field."""
    fields: Msg = [0, _OO_TAIL]  # conditions, adjustedOrderType .. usePriceMgmtAlgo
    if server_version >= 159:
        fields.append(None)  # duration
    if server_version >= 160:
        fields.append(None)  # postToAts
    if server_version >= 162:
        fields.append(False)  # autoCancelParent
    if server_version >= 170:
        fields += [None, None, None, None, None]
    return (block(fields[:-1]), fields[-1])


def open_order_end() -> Msg:
    return [53, 1]


def order_status(o: OrderView, market_cap_price: float = 0.0) -> Msg:
    """orderStatus (3) with no version field (server ≥ 131)."""
    return [
        3, o.order_id, o.status, o.filled, o.remaining, o.avg_fill_price, o.perm_id,
        o.parent_id, o.last_fill_price, o.client_id, o.why_held, market_cap_price,
    ]  # fmt: skip


def completed_order(o: OrderView, server_version: int) -> Msg:
    """completedOrder (101), laid out as ``Decoder.completedOrder`` reads it."""
    fields: Msg = [101, *_contract11(o.contract)]
    fields += [
        o.action, o.total_quantity, o.order_type, o.lmt_price, o.aux_price, o.tif, "",
        o.account, "O", 0, o.order_ref, o.perm_id, o.outside_rth, False, 0.0, "", "", "", "",
    ]  # fmt: skip
    if server_version < 177:
        fields.append("")
    fields += [
        "", "", "", None, "", 0, "", -1, None, None, None, None, None, 0, False, False, None,
        0, 0, None, None, "", None,
    ]  # fmt: skip
    fields += [False, None, None, None, ""]
    fields += [0, 0, 0]
    fields += [None, None, ""]
    fields += [""]  # hedgeType
    fields += ["", "", False, 0]
    fields += _algo(o.algo_strategy, o.algo_params)
    fields += [False, o.status, False, False]
    fields += _peg_bench(o)
    fields += [0]
    fields += [
        None, None, None, False, False, "", o.filled, 0, False, "", False, False, 0,
        o.completed_time, o.completed_status,
    ]  # fmt: skip
    if server_version >= 170:
        fields += [None, None, None, None, None]
    return fields


def completed_orders_end() -> Msg:
    return [102]


@dataclass(slots=True)
class ExecutionView:
    """One fill as execDetails reports it."""

    exec_id: str
    order_id: int
    client_id: int
    perm_id: int
    contract: ContractSpec
    time: str
    account: str
    exchange: str
    side: str  # BOT / SLD
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str


def exec_details(req_id: int, e: ExecutionView, server_version: int) -> Msg:
    """execDetails (11), no version field; reqId -1 for live fills."""
    fields: Msg = [11, req_id, e.order_id, *_contract11(e.contract)]
    fields += [
        e.exec_id, e.time, e.account, e.exchange, e.side, e.shares, e.price, e.perm_id,
        e.client_id, 0, e.cum_qty, e.avg_price, e.order_ref, "", None, "", 1,
    ]  # fmt: skip
    if server_version >= 178:
        fields.append(False)
    return fields


def exec_details_end(req_id: int) -> Msg:
    return [55, 1, req_id]


def commission_report(
    exec_id: str, commission: float, currency: str, realized_pnl: float | None
) -> Msg:
    """commissionReport (59): unset realized P&L / yield go out as IB's UNSET double."""
    unset = "1.7976931348623157E308"
    pnl: Field = unset if realized_pnl is None else realized_pnl
    return [59, 1, exec_id, commission, currency, pnl, unset, 0]


@dataclass(frozen=True)
class DetailsView:
    contract: ContractSpec
    long_name: str
    min_tick: float
    time_zone: str = "US/Eastern"
    trading_hours: str = ""
    liquid_hours: str = ""


def contract_details(req_id: int, d: DetailsView, server_version: int) -> Msg:
    """contractDetails (10); from v164 without version field and mdSizeMultiplier."""
    c = d.contract
    fields: Msg = [10]
    if server_version < 164:
        fields.append(8)
    fields += [
        req_id, c.symbol, c.sec_type, c.last_trade_date, c.strike, c.right, c.exchange,
        c.currency, c.local_symbol, "NMS", c.trading_class, c.con_id, d.min_tick,
    ]  # fmt: skip
    if server_version < 164:
        fields.append(1)  # mdSizeMultiplier
    fields += [
        c.multiplier, "ACTIVETIM,ADJUST,ALERT,ALGO,LMT,MKT,STP,STPLMT,TRAIL",
        "SMART,NASDAQ,NYSE,ARCA,BATS,IEX", 1, 0, d.long_name, c.primary_exchange, "",
        "Technology", "Simulated", "Simulated", d.time_zone, d.trading_hours, d.liquid_hours,
        "", None, 0,
    ]  # fmt: skip
    fields += [1, "", "", "26,26", "", "COMMON"]
    if server_version == 163:
        fields.append(1)
    if server_version >= 164:
        fields += [1, 1, 100]
    return fields


def contract_details_end(req_id: int) -> Msg:
    return [52, 1, req_id]


# Tick types (IB): sizes 0 bid, 3 ask, 5 last, 8 volume; prices 1 bid, 2 ask, 4 last, 6 high,
# 7 low, 9 close.
TICK_BID_SIZE, TICK_BID, TICK_ASK, TICK_ASK_SIZE, TICK_LAST, TICK_LAST_SIZE = 0, 1, 2, 3, 4, 5
TICK_HIGH, TICK_LOW, TICK_VOLUME, TICK_CLOSE = 6, 7, 8, 9


def tick_price(req_id: int, tick_type: int, price: float, size: float, attr_mask: int = 0) -> Msg:
    return [1, 6, req_id, tick_type, price, size, attr_mask]


def tick_size(req_id: int, tick_type: int, size: float) -> Msg:
    return [2, 6, req_id, tick_type, size]


def tick_snapshot_end(req_id: int) -> Msg:
    return [57, 1, req_id]


def market_data_type(req_id: int, data_type: int) -> Msg:
    return [58, 1, req_id, data_type]


@dataclass(frozen=True)
class Bar:
    date: str
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    count: int


def historical_data(req_id: int, start: str, end: str, bars: Sequence[Bar]) -> Msg:
    """historicalData (17), no version field."""
    fields: Msg = [17, req_id, start, end, len(bars)]
    for b in bars:
        fields += [b.date, b.open, b.high, b.low, b.close, b.volume, b.wap, b.count]
    return fields


def pnl(req_id: int, daily: float, unrealized: float, realized: float) -> Msg:
    """pnl (94), no version field: account P&L for a reqPnL subscription."""
    return [94, req_id, daily, unrealized, realized]


def pnl_single(
    req_id: int, position: float, daily: float, unrealized: float, realized: float, value: float
) -> Msg:
    """pnlSingle (95), no version field: one position's P&L for reqPnLSingle."""
    return [95, req_id, position, daily, unrealized, realized, value]
