"""One client connection: handshake, version negotiation, pacing and request dispatch."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from engine.broker.simgateway import messages as m
from engine.broker.simgateway.config import MAX_SERVER_VERSION, MIN_SERVER_VERSION
from engine.broker.simgateway.core import Subscriptions
from engine.broker.simgateway.framing import (
    API_SIGN,
    FrameDecoder,
    FramingError,
    encode_frame,
    parse_version_offer,
    split_fields,
)
from engine.broker.simgateway.instruments import CONTRACT_FIELDS, ContractSpec, Instrument
from engine.broker.simgateway.orders import OrderParseError, parse_cancel_order
from engine.broker.simgateway.pacing import HistoricalKey, MessagePacer
from engine.broker.simgateway.reports import ExecutionFilter, parse_ib_time

if TYPE_CHECKING:
    from engine.broker.simgateway.server import SimGateway

log = logging.getLogger("algotrade.simgateway")

FARM_STATUS = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
BAR_UNITS = {
    "sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600,
    "day": 86_400, "days": 86_400, "week": 604_800, "weeks": 604_800,
    "month": 2_592_000, "months": 2_592_000,
}  # fmt: skip
DURATION_UNITS = {"S": 1, "D": 86_400, "W": 604_800, "M": 2_592_000, "Y": 31_536_000}
MAX_BARS = 5_000


class ClientSession(asyncio.Protocol):
    """The gateway side of one TWS API socket."""

    def __init__(self, gateway: SimGateway) -> None:
        self.gateway = gateway
        self.core = gateway.core
        self.client_id = -1
        self.server_version = 0
        self.subs = Subscriptions()
        self.phase = "greeting"
        self.peer = "?"
        self.messages_in = 0
        self.messages_out = 0
        self.connected_at = time.time()
        self.pacer = MessagePacer(self.core.config.message_rate_limit, now=time.monotonic())
        self.market_data_type = 1
        self._greeting = bytearray()
        self._frames = FrameDecoder()
        self._transport: asyncio.Transport | None = None
        self._batch: list[bytes] | None = None
        self._handlers: dict[int, Callable[[list[str]], None]] = {
            m.IN_REQ_MKT_DATA: self._req_mkt_data,
            m.IN_CANCEL_MKT_DATA: self._cancel_mkt_data,
            m.IN_PLACE_ORDER: lambda f: self.core.place_order(self, f),
            m.IN_CANCEL_ORDER: self._cancel_order,
            m.IN_REQ_OPEN_ORDERS: self._req_open_orders,
            m.IN_REQ_ALL_OPEN_ORDERS: self._req_all_open_orders,
            m.IN_REQ_ACCOUNT_UPDATES: self._req_account_updates,
            m.IN_REQ_EXECUTIONS: self._req_executions,
            m.IN_REQ_IDS: lambda f: self.send(m.next_valid_id(self.core.next_order_id())),
            m.IN_REQ_CONTRACT_DETAILS: self._req_contract_details,
            m.IN_REQ_MANAGED_ACCTS: lambda f: self.send(
                m.managed_accounts([self.core.config.account])
            ),
            m.IN_REQ_HISTORICAL_DATA: self._req_historical_data,
            m.IN_REQ_CURRENT_TIME: lambda f: self.send(m.current_time(int(self.core.clock()))),
            m.IN_REQ_GLOBAL_CANCEL: lambda f: self.core.global_cancel(self),
            m.IN_REQ_MARKET_DATA_TYPE: self._req_market_data_type,
            m.IN_REQ_POSITIONS: self._req_positions,
            m.IN_REQ_ACCOUNT_SUMMARY: self._req_account_summary,
            m.IN_CANCEL_POSITIONS: self._cancel_positions,
            m.IN_REQ_ACCOUNT_UPDATES_MULTI: self._req_account_updates_multi,
            m.IN_CANCEL_ACCOUNT_UPDATES_MULTI: self._cancel_account_updates_multi,
            m.IN_REQ_COMPLETED_ORDERS: self._req_completed_orders,
            m.IN_REQ_PNL: self._req_pnl,
            m.IN_CANCEL_PNL: lambda f: self.subs.pnl.discard(_int(f[1])),
            m.IN_REQ_PNL_SINGLE: self._req_pnl_single,
            m.IN_CANCEL_PNL_SINGLE: self._cancel_pnl_single,
        }
        self._ignored = {
            m.IN_CANCEL_HISTORICAL_DATA,
            m.IN_CANCEL_ACCOUNT_SUMMARY,
            m.IN_REQ_AUTO_OPEN_ORDERS,
            m.IN_START_API,
            14,  # setServerLogLevel
        }

    # ------------------------------------------------------------------ transport
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        name = transport.get_extra_info("peername")
        self.peer = f"{name[0]}:{name[1]}" if name else "?"
        self.gateway.sessions.add(self)
        log.info("connection from %s", self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        was_ready = self.phase == "ready"
        self.phase = "closed"
        self.gateway.sessions.discard(self)
        if was_ready:
            self.core.detach(self)
        log.info("client %s (%s) disconnected", self.client_id, self.peer)

    def send(self, msg: m.Msg) -> None:
        if self._transport is None or self.phase == "closed":
            return
        self.messages_out += 1
        if self._batch is not None:
            self._batch.append(encode_frame(msg))
        else:
            self._transport.write(encode_frame(msg))

    def _flush(self) -> None:
        batch, self._batch = self._batch, None
        if batch and self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(batch))

    def send_end(self, name: str, msg: m.Msg) -> None:
        if self.core.faults.take_withheld(name):
            log.info("fault: withholding %s from client %s", name, self.client_id)
            return
        self.send(msg)

    def close(self, reason: str) -> None:
        if self.phase == "closed":
            return
        log.info("closing client %s (%s): %s", self.client_id, self.peer, reason)
        was_ready = self.phase == "ready"
        self._flush()  # what was sent before the close still goes out, as TWS would
        self.phase = "closed"
        if was_ready:
            self.core.detach(self)
        if self._transport is not None:
            self._transport.close()

    # ------------------------------------------------------------------ input
    def data_received(self, data: bytes) -> None:
        # Replies to one read go out in one write (one syscall, one TCP segment when small).
        self._batch = []
        try:
            self._receive(data)
        finally:
            self._flush()

    def _receive(self, data: bytes) -> None:
        try:
            if self.phase == "greeting":
                self._greeting += data
                if len(self._greeting) < len(API_SIGN):
                    return
                if not self._greeting.startswith(API_SIGN):
                    self.close(f"not a TWS API client: first bytes {bytes(self._greeting[:8])!r}")
                    return
                data = bytes(self._greeting[len(API_SIGN) :])
                self._greeting.clear()
                self.phase = "version"
            for payload in self._frames.feed(data):
                if self.phase == "closed":
                    return
                if self.phase == "version":
                    self._negotiate(payload.decode(errors="replace"))
                    continue
                self._on_message(split_fields(payload))
        except FramingError as exc:
            self.close(str(exc))

    def _negotiate(self, offer_text: str) -> None:
        try:
            offer = parse_version_offer(offer_text)
        except FramingError as exc:
            self.close(str(exc))
            return
        version = min(self.core.config.server_version, offer.max_version)
        if version < offer.min_version or version < MIN_SERVER_VERSION:
            text = (
                f"The client offered API versions {offer.min_version}..{offer.max_version}; this "
                f"simulated gateway speaks {MIN_SERVER_VERSION}..{MAX_SERVER_VERSION} "
                f"(configured {self.core.config.server_version}). Use ib_async 2.x (pin "
                "'ib_async<3') or start the gateway with a matching --server-version."
            )
            log.warning("refusing %s: %s", self.peer, text)
            self.send([4, 2, -1, 503, text])
            self.close("unsupported client version range")
            return
        self.server_version = version
        self.phase = "await_start"
        conn_time = datetime.fromtimestamp(self.core.clock(), UTC).strftime("%Y%m%d %H:%M:%S")
        self.send(m.server_hello(version, conn_time + " UTC"))

    def _on_message(self, fields: list[str]) -> None:
        self.messages_in += 1
        if not self.pacer.record(time.monotonic()):
            self.core.stats.pacing_errors += 1
            limit = self.core.config.message_rate_limit
            self.send_error(
                -1,
                100,
                f"Max rate of messages per second has been exceeded:max={limit:g} "
                f"rec={self.pacer.rate_last_second} (543)",
            )
            self.close("pacing violation (error 100)")
            return
        try:
            msg_id = int(fields[0])
        except (IndexError, ValueError):
            log.warning("client %s sent an unreadable message %r", self.client_id, fields[:3])
            return
        if self.phase == "await_start":
            if msg_id != m.IN_START_API:
                log.warning("client sent message %s before startApi; ignored", msg_id)
                return
            self._start_api(fields)
            return
        handler = self._handlers.get(msg_id)
        if handler is None:
            if msg_id not in self._ignored:
                log.info("client %s: message %s not simulated; ignored", self.client_id, msg_id)
            return
        try:
            handler(fields)
        except (IndexError, ValueError, OrderParseError) as exc:
            log.warning("client %s: bad message %s: %s", self.client_id, fields[:3], exc)
            req_id = _safe_req_id(fields)
            self.send_error(req_id, 320, f"Error reading request: {exc}")
        except Exception:  # a gateway bug must not take the client's connection down
            log.exception("client %s: message %s failed", self.client_id, fields[:3])
            req_id = _safe_req_id(fields)
            self.send_error(req_id, 321, "Server error when validating an API client request.")

    def _start_api(self, fields: Sequence[str]) -> None:
        self.client_id = _int(fields[2]) if len(fields) > 2 else 0
        if not self.core.attach(self):
            self.send_error(
                -1,
                326,
                "Unable to connect as the client id is already in use. Retry with a "
                "unique client id.",
            )
            self._flush()
            self.phase = "closed"
            if self._transport is not None:
                self._transport.close()
            return
        self.phase = "ready"
        self.send(m.next_valid_id(self.core.next_order_id()))
        self.send(m.managed_accounts([self.core.config.account]))
        if self.core.config.farm_status:
            for code, text in FARM_STATUS:
                self.send_error(-1, code, text)

    # ------------------------------------------------------------------ handlers
    def send_error(self, req_id: int, code: int, text: str) -> None:
        """Send IB error ``code`` (with ``text``) about request ``req_id`` (-1: none)."""
        self.send(m.error(req_id, code, text, self.server_version))

    def _resolve(self, req_id: int, contract: ContractSpec) -> Instrument | None:
        """The instrument of ``contract``; None after telling the client (error 200)."""
        inst = self.core.resolve(contract)
        if inst is None:
            self.send_error(req_id, 200, "No security definition has been found for the request")
        return inst

    def _contract_at(self, fields: Sequence[str], start: int) -> ContractSpec:
        return ContractSpec.from_fields(fields[start : start + CONTRACT_FIELDS])

    def _req_mkt_data(self, f: list[str]) -> None:
        req_id = _int(f[2])
        contract = self._contract_at(f, 3)
        i = 3 + CONTRACT_FIELDS
        if contract.sec_type == "BAG":
            i += 1 + 4 * _int(f[i])
        i += 4 if f[i] == "1" else 1
        snapshot = f[i + 1] == "1"
        inst = self._resolve(req_id, contract)
        if inst is None:
            return
        if not snapshot and len(self.subs.market_data) >= self.core.config.market_data_lines:
            self.send_error(
                req_id,
                101,
                f"Max number of tickers has been reached "
                f"({self.core.config.market_data_lines} lines)",
            )
            return
        self.send(m.market_data_type(req_id, self.market_data_type))
        for msg in self.core.quote_messages(req_id, inst.symbol, first=True):
            self.send(msg)
        if snapshot:
            self.send(m.tick_snapshot_end(req_id))
        else:
            self.subs.market_data[req_id] = inst.symbol

    def _cancel_mkt_data(self, f: list[str]) -> None:
        self.subs.market_data.pop(_int(f[2]), None)

    def _cancel_order(self, f: list[str]) -> None:
        request = parse_cancel_order(f, self.server_version)
        self.core.cancel_order(self, request.order_id)

    def _req_open_orders(self, f: list[str]) -> None:
        scope = None if self.client_id == 0 else self.client_id
        for msg in self.core.book.open_order_messages(scope, self.server_version):
            self.send(msg)
        self.send_end("openOrderEnd", m.open_order_end())

    def _req_all_open_orders(self, f: list[str]) -> None:
        for msg in self.core.book.open_order_messages(None, self.server_version):
            self.send(msg)
        self.send_end("openOrderEnd", m.open_order_end())

    def _req_account_updates(self, f: list[str]) -> None:
        subscribe = f[2] == "1"
        account = self.core.config.account
        if not subscribe:
            self.subs.account_updates = None
            return
        self.subs.account_updates = account
        for msg in self.core.reports.account_update_messages(None):
            self.send(msg)
        self.send_end("accountDownloadEnd", m.account_download_end(account))

    def _req_account_updates_multi(self, f: list[str]) -> None:
        req_id = _int(f[2])
        self.subs.account_multi.add(req_id)
        for msg in self.core.reports.account_multi_messages(req_id):
            self.send(msg)
        self.send_end("accountUpdateMultiEnd", m.account_update_multi_end(req_id))

    def _cancel_account_updates_multi(self, f: list[str]) -> None:
        self.subs.account_multi.discard(_int(f[2]))

    def _req_executions(self, f: list[str]) -> None:
        req_id = _int(f[2])
        flt = ExecutionFilter(
            client_id=_int(f[3]),
            account=f[4],
            time=f[5],
            symbol=f[6],
            sec_type=f[7],
            exchange=f[8],
            side=f[9],
        )
        for msg in self.core.book.execution_messages(req_id, flt, self.server_version):
            self.send(msg)
        self.send_end("execDetailsEnd", m.exec_details_end(req_id))

    def _req_contract_details(self, f: list[str]) -> None:
        req_id = _int(f[2])
        contract = self._contract_at(f, 3)
        inst = self._resolve(req_id, contract)
        if inst is None:
            return
        details = m.DetailsView(
            contract=inst.contract(contract.exchange or "SMART"),
            long_name=inst.long_name,
            min_tick=inst.min_tick,
        )
        self.send(m.contract_details(req_id, details, self.server_version))
        self.send_end("contractDetailsEnd", m.contract_details_end(req_id))

    def _req_market_data_type(self, f: list[str]) -> None:
        self.market_data_type = _int(f[2]) or 1

    def _req_positions(self, f: list[str]) -> None:
        self.subs.positions = True
        for msg in self.core.reports.position_messages():
            self.send(msg)
        self.send_end("positionEnd", m.position_end())

    def _cancel_positions(self, f: list[str]) -> None:
        self.subs.positions = False

    def _req_account_summary(self, f: list[str]) -> None:
        req_id = _int(f[2])
        for msg in self.core.reports.account_summary_messages(req_id, f[4]):
            self.send(msg)
        self.send_end("accountSummaryEnd", m.account_summary_end(req_id))

    def _req_pnl(self, f: list[str]) -> None:
        """reqPnL ``[92, reqId, account, modelCode]``: one update now, then one per fill."""
        req_id = _int(f[1])
        self.subs.pnl.add(req_id)
        for msg in self.core.pnl_messages(Subscriptions(pnl={req_id})):
            self.send(msg)

    def _req_pnl_single(self, f: list[str]) -> None:
        """reqPnLSingle ``[94, reqId, account, modelCode, conId]``."""
        req_id, con_id = _int(f[1]), _int(f[4])
        self.subs.pnl_single[req_id] = con_id
        for msg in self.core.pnl_messages(Subscriptions(pnl_single={req_id: con_id})):
            self.send(msg)

    def _cancel_pnl_single(self, f: list[str]) -> None:
        self.subs.pnl_single.pop(_int(f[1]), None)

    def _req_completed_orders(self, f: list[str]) -> None:
        for msg in self.core.book.completed_order_messages(self.server_version):
            self.send(msg)
        self.send_end("completedOrdersEnd", m.completed_orders_end())

    def _req_historical_data(self, f: list[str]) -> None:
        req_id = _int(f[1])
        contract = self._contract_at(f, 2)
        i = 2 + CONTRACT_FIELDS
        end_text, bar_size, duration, _rth, what, fmt = f[i + 1 : i + 7]
        inst = self._resolve(req_id, contract)
        if inst is None:
            return
        now = self.core.clock()
        key = HistoricalKey(inst.symbol, contract.exchange, what, end_text, bar_size, duration)
        violation = self.gateway.historical_pacer.check(key, now)
        if violation is not None:
            self.core.stats.historical_pacing_errors += 1
            self.send_error(
                req_id,
                162,
                "Historical Market Data Service error message:Historical data request "
                f"pacing violation ({violation})",
            )
            return
        bar_seconds = _seconds(bar_size, BAR_UNITS)
        span = _seconds(duration, DURATION_UNITS)
        if bar_seconds is None or span is None:
            self.send_error(
                req_id,
                321,
                f"Error validating request:-'bar size {bar_size!r} / duration {duration!r}' "
                "not understood (e.g. '1 day' and '30 D')",
            )
            return
        end = parse_ib_time(end_text) or now
        count = min(MAX_BARS, max(1, math.ceil(span / bar_seconds)))
        daily = bar_seconds >= 86_400
        bars = []
        for bar in self.core.history(inst.symbol, end, bar_seconds, count):
            stamp = datetime.fromtimestamp(bar.start, UTC)
            if fmt == "2":
                date = str(int(bar.start))
            elif daily:
                date = stamp.strftime("%Y%m%d")
            else:
                date = stamp.strftime("%Y%m%d %H:%M:%S") + " UTC"
            wap = round((bar.high + bar.low + bar.close) / 3, 4)
            bars.append(m.Bar(date, bar.open, bar.high, bar.low, bar.close, bar.volume, wap, 100))
        start_text = datetime.fromtimestamp(end - span, UTC).strftime("%Y%m%d %H:%M:%S")
        end_out = datetime.fromtimestamp(end, UTC).strftime("%Y%m%d %H:%M:%S")
        self.send(m.historical_data(req_id, start_text, end_out, bars))


def _int(text: str) -> int:
    return int(text) if text else 0


def _safe_req_id(fields: Sequence[str]) -> int:
    try:
        return int(fields[2]) if len(fields) > 2 and fields[2] else -1
    except ValueError:
        return -1


def _seconds(text: str, units: Mapping[str, int]) -> int | None:
    """``"<count> <unit>"`` in seconds, per ``units`` (BAR_UNITS, DURATION_UNITS); None if not
    understood."""
    parts = text.split()
    if len(parts) != 2 or parts[1] not in units:
        return None
    try:
        return int(parts[0]) * units[parts[1]]
    except ValueError:
        return None
