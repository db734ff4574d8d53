"""``IBBroker``: the Interactive Brokers adapter over ``ib_async`` (the only module importing it).

Safety choices, each explicit:

* ``RaiseRequestErrors = True``: a failed request raises (mapped to ``BrokerError``) instead of
  silently returning an empty list that would look like "no positions";
* every request is wrapped in ``asyncio.wait_for(timeout)`` → :class:`BrokerTimeout`, never hangs;
* startup reconciliation fails closed: ``raiseSyncErrors=True`` on connect, then open orders and
  executions are read and folded into the ledger; only then ``is_ready`` becomes true;
* every message we send takes a token from the shared :class:`PacingLimiter` first (``ib_async``'s
  own 45/s throttle stays on as a second guard);
* ``orderRef`` carries the intent id; a re-sent intent is answered from the ledger, never placed
  twice, and after a reconnect the ledger is reconciled against the broker's open orders and
  executions (``reqExecutions`` after *every* reconnect, 1101 and 1102 included);
* error codes go through :mod:`engine.broker.ib_errors`; a local cancellation caused by a code
  that does not end the order (10349, …) is not trusted: the order stays open in our ledger and
  open orders are re-read from the broker;
* paper vs live from the account prefix (``DU…``) and the port; ``readonly=True`` connections
  refuse every order method before anything is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from ib_async import (
    IB,
    Contract,
    Fill,
    LimitOrder,
    MarketOrder,
    Order,
    RequestError,
    Stock,
    StopLimitOrder,
    StopOrder,
    TagValue,
    Trade,
)
from ib_async import CommissionReport as IBCommissionReport

from contracts.messages import OrderIntent, OrderStatus
from engine.broker.clock import Clock, SystemClock
from engine.broker.ib_errors import classify
from engine.broker.ledger import IntentLedger, ReconcileReport
from engine.broker.pacing import PacingLimiter, PacingViolation
from engine.broker.protocol import BrokerKind
from engine.broker.types import (
    EVENT_BUFFER,
    AccountSummary,
    BrokerDisconnected,
    BrokerError,
    BrokerEvent,
    BrokerNotReady,
    BrokerTimeout,
    BrokerUnreachable,
    CancelResult,
    Execution,
    OpenOrder,
    OrderHandle,
    Position,
    ReadOnlyViolation,
    put_dropping_oldest,
    trading_mode_for,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

UNSET_DOUBLE = 1.7976931348623157e308

# IB order status → contract OrderStatus (PARTIAL_FILL is decided from the filled quantity).
_STATUS_MAP: dict[str, OrderStatus] = {
    "PendingSubmit": "SUBMITTED",
    "ApiPending": "SUBMITTED",
    "PreSubmitted": "ACKNOWLEDGED",
    "Submitted": "ACKNOWLEDGED",
    "PendingCancel": "ACKNOWLEDGED",
    "ApiUpdate": "ACKNOWLEDGED",
    "ValidationError": "ACKNOWLEDGED",
    "Filled": "FILLED",
    "Cancelled": "CANCELED",
    "ApiCancelled": "CANCELED",
    "Inactive": "REJECTED",
}


def map_status(ib_status: str, filled: float, remaining: float) -> OrderStatus:
    """IB's status string → our status; a working order with fills is PARTIAL_FILL."""
    status = _STATUS_MAP.get(ib_status, "SUBMITTED")
    if status in ("SUBMITTED", "ACKNOWLEDGED") and filled > 0 and remaining > 0:
        return "PARTIAL_FILL"
    return status


def build_order(
    intent: OrderIntent, *, account: str | None = None, adaptive_priority: str = "Normal"
) -> Order:
    """The ``ib_async`` order for ``intent``; ``orderRef`` = intent id.

    ADAPTIVE uses IB's Adaptive algo (``algoStrategy="Adaptive"``, ``adaptivePriority`` Urgent /
    Normal / Patient) on a market order, or on a limit order when the intent has a limit price.
    """
    side, qty = intent.direction, float(intent.quantity)
    kind = intent.order_type
    order: Order
    if kind == "MARKET":
        order = MarketOrder(side, qty)
    elif kind == "LIMIT":
        assert intent.limit_price is not None
        order = LimitOrder(side, qty, intent.limit_price)
    elif kind == "STOP":
        assert intent.stop_price is not None
        order = StopOrder(side, qty, intent.stop_price)
    elif kind == "STOP_LIMIT":
        assert intent.limit_price is not None and intent.stop_price is not None
        order = StopLimitOrder(side, qty, intent.limit_price, intent.stop_price)
    else:  # ADAPTIVE
        if adaptive_priority not in ("Urgent", "Normal", "Patient"):
            raise ValueError(
                f"adaptive_priority {adaptive_priority!r}: use Urgent, Normal or Patient"
            )
        if intent.limit_price is not None:
            order = LimitOrder(side, qty, intent.limit_price)
        else:
            order = MarketOrder(side, qty)
        order.algoStrategy = "Adaptive"
        order.algoParams = [TagValue("adaptivePriority", adaptive_priority)]
    order.orderRef = str(intent.intent_id)
    order.tif = intent.time_in_force
    if account:
        order.account = account
    return order


class IBBroker:
    """:class:`~engine.broker.protocol.Broker` over TWS / IB Gateway (or our simulated gateway).

    Parameters
    ----------
    host, port, client_id
        Where to connect and with which API client id.
    account
        Account id (``DU…`` paper); ``None`` = the single managed account.
    readonly
        Read-only API connection; every order method raises ``ReadOnlyViolation`` unsent.
    timeout
        Seconds for the connect and for every request.
    pacer
        The shared pacing limiter (default 45 messages/s).
    reconnect_max_backoff
        Cap of the exponential reconnect backoff (seconds); ``auto_reconnect`` turns it on.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 4002,
        client_id: int = 1,
        account: str | None = None,
        readonly: bool = True,
        timeout: float = 10.0,
        pacer: PacingLimiter | None = None,
        clock: Clock | None = None,
        reconnect_initial_backoff: float = 0.5,
        reconnect_max_backoff: float = 30.0,
        auto_reconnect: bool = True,
        adaptive_priority: str = "Normal",
        ib: IB | None = None,
    ) -> None:
        self.host, self.port, self.client_id = host, port, client_id
        self.account = account
        self.readonly = readonly
        self.timeout = timeout
        self.clock: Clock = clock or SystemClock()
        self.pacer = pacer or PacingLimiter(45.0, clock=self.clock)
        self.reconnect_initial_backoff = reconnect_initial_backoff
        self.reconnect_max_backoff = reconnect_max_backoff
        self.auto_reconnect = auto_reconnect
        self.adaptive_priority = adaptive_priority
        self.ib = ib or IB()
        # Explicit choices (see module doc): raise on request errors; our own timeouts.
        self.ib.RaiseRequestErrors = True
        self.ib.RequestTimeout = timeout
        self.ledger = IntentLedger()
        self.pacing_violations = PacingViolation()
        self.notices: list[tuple[int, str]] = []
        self.last_reconcile: ReconcileReport | None = None
        # Fills that reached us while we were not ready (e.g. IB delivers what filled during an
        # outage right after 1102, before our re-request): the next reconciliation reports them.
        self._fills_while_not_ready: list[str] = []
        self.messages_sent = 0
        self.order_messages_sent = 0
        self.reconnects = 0
        self._ready = False
        self._closing = False
        # Bounded: with nobody reading events() the oldest are dropped (and counted).
        self._queue: asyncio.Queue[BrokerEvent] = asyncio.Queue(maxsize=EVENT_BUFFER)
        self.events_dropped = 0
        self._subscribed: dict[str, Any] = {}
        self._contracts: dict[str, Contract] = {}
        self._cancel_waiters: dict[int, asyncio.Future[tuple[bool, int | None, str]]] = {}
        self._reconnect_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self._commissions: dict[str, IBCommissionReport] = {}
        self.ib.errorEvent += self._on_error
        self.ib.orderStatusEvent += self._on_status
        self.ib.execDetailsEvent += self._on_exec
        self.ib.commissionReportEvent += self._on_commission
        self.ib.disconnectedEvent += self._on_disconnected

    # ------------------------------------------------------------------ connection
    @property
    def kind(self) -> BrokerKind:
        return "ib"

    @property
    def is_ready(self) -> bool:
        return self._ready and self.ib.isConnected()

    async def connect(self) -> None:
        """Connect, sync, reconcile. Raises BrokerUnreachable / BrokerNotReady; fails closed."""
        self._closing = False
        self._ready = False
        try:
            await asyncio.wait_for(
                self.ib.connectAsync(
                    self.host, self.port, clientId=self.client_id, timeout=self.timeout,
                    readonly=self.readonly, account=self.account or "", raiseSyncErrors=True,
                ),
                timeout=self.timeout * 4,
            )  # fmt: skip
        except ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], list):
                # raiseSyncErrors: connected, but a startup request (positions, open orders,
                # executions…) got no complete answer: fail closed.
                raise BrokerNotReady(
                    f"startup synchronisation with {self.host}:{self.port} failed: "
                    f"{'; '.join(map(str, exc.args[0]))}; not ready, nothing will be sent"
                ) from exc
            raise BrokerUnreachable(
                f"cannot reach TWS/IB Gateway at {self.host}:{self.port}: {exc}; is it running "
                "and is the API enabled on that port?"
            ) from exc
        except TimeoutError as exc:
            raise BrokerUnreachable(
                f"no API handshake from {self.host}:{self.port} within {self.timeout}s "
                "(wrong port, client id in use, or gateway not logged in)"
            ) from exc
        except OSError as exc:
            raise BrokerUnreachable(
                f"cannot reach TWS/IB Gateway at {self.host}:{self.port}: {exc}"
            ) from exc
        if not self.account:
            accounts = self.ib.managedAccounts()
            self.account = accounts[0] if accounts else None
        try:
            await self._reconcile()
        except BrokerError:
            self.ib.disconnect()
            raise
        self._ready = True
        self._emit(BrokerEvent("connection", _now(), message="connected and reconciled"))

    async def close(self) -> None:
        self._closing = True
        self._ready = False
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reconnect_task
            self._reconnect_task = None
        for task in list(self._background):
            task.cancel()
        if self.ib.isConnected():
            self.ib.disconnect()

    async def _reconcile(self) -> ReconcileReport:
        """Read open orders and executions from the broker and fold them into the ledger."""
        before = self.ledger.sequence
        orders = await self.open_orders()
        executions = await self.executions()
        report = self.ledger.reconcile(orders, executions, placed_before=before)
        if self._fills_while_not_ready:
            # Already in the ledger (they arrived as live fills), but made during the outage:
            # the reconciliation is where they are accounted for, so it lists them.
            recovered = dict.fromkeys((*self._fills_while_not_ready, *report.recovered_fills))
            report = replace(report, recovered_fills=tuple(recovered))
            self._fills_while_not_ready.clear()
        # Finished orders of earlier sessions (reqCompletedOrders at connect): their intent ids
        # are known too, so re-sending one of them is recognised as a duplicate.
        for t in self.ib.trades():
            ref = t.order.orderRef
            if not ref or ref in self.ledger or not t.isDone():
                continue
            if t.log and t.log[-1].errorCode and not classify(t.log[-1].errorCode).ends_order:
                continue  # a local cancellation ib_async made up; not the broker's word
            st = t.orderStatus
            self.ledger.record(
                ref, str(t.order.orderId), t.contract.symbol, round(t.order.totalQuantity),
                map_status(st.status, st.filled, st.remaining),
            )  # fmt: skip
        self._announce_closed(report)
        self.last_reconcile = report
        return report

    def _announce_closed(self, report: ReconcileReport) -> None:
        """Intents the broker no longer has (never arrived, or cancelled while we were away)
        end as CANCELED for the strategy; re-sending them is refused as a duplicate."""
        for intent_id in report.closed:
            entry = self.ledger.get(intent_id)
            if entry is None:
                continue
            self._emit(
                BrokerEvent(
                    "status", _now(), intent_id=intent_id, order_id=entry.order_id,
                    symbol=entry.symbol, status="CANCELED", quantity=entry.quantity,
                    filled_quantity=entry.filled_quantity,
                    message="not open at the broker after reconnect; reconciled as cancelled",
                )
            )  # fmt: skip

    # ------------------------------------------------------------------ reads
    async def account_summary(self) -> AccountSummary:
        await self._send()
        values = await self._request(self.ib.accountSummaryAsync(self.account or ""))
        by_tag: dict[str, tuple[str, str]] = {}
        account_id = self.account or ""
        for v in values:
            if v.tag not in by_tag or v.currency not in ("", "BASE"):
                by_tag[v.tag] = (v.value, v.currency)
            account_id = account_id or v.account
        if "NetLiquidation" not in by_tag:
            raise BrokerError("account summary has no NetLiquidation: the read failed")
        mode, evidence = trading_mode_for(account_id, self.port)
        permissions = tuple(
            f"{tag}={by_tag[tag][0]}" for tag in ("AccountType",) if tag in by_tag
        ) + (("read-only connection",) if self.readonly else ())
        return AccountSummary(
            account_id=account_id,
            currency=by_tag["NetLiquidation"][1] or "USD",
            net_liquidation=_num(by_tag.get("NetLiquidation")),
            buying_power=_num(by_tag.get("BuyingPower")),
            cash=_num(by_tag.get("TotalCashValue")),
            trading_mode=mode,
            mode_evidence=evidence,
            available_funds=_num(by_tag.get("AvailableFunds")) if "AvailableFunds" in by_tag else None,
            server_version=self.ib.client.serverVersion() or None,
            permissions=permissions,
        )  # fmt: skip

    async def positions(self) -> list[Position]:
        await self._send()
        raw = await self._request(self.ib.reqPositionsAsync())
        marks = {p.contract.conId: p for p in self.ib.portfolio()}
        out = []
        for p in raw:
            if self.account and p.account and p.account != self.account:
                continue
            qty = round(p.position)
            if qty == 0:
                continue
            mark = marks.get(p.contract.conId)
            out.append(
                Position(
                    symbol=p.contract.symbol,
                    quantity=qty,
                    avg_cost=float(p.avgCost),
                    market_price=_finite(mark.marketPrice) if mark else None,
                    market_value=_finite(mark.marketValue) if mark else None,
                    unrealized_pnl=_finite(mark.unrealizedPNL) if mark else None,
                    realized_pnl=_finite(mark.realizedPNL) if mark else None,
                    currency=p.contract.currency or "USD",
                )
            )
        return out

    async def open_orders(self) -> list[OpenOrder]:
        await self._send()
        # Only the broker's answer counts: ib_async's local trades of other clients' orders are
        # never updated after a global cancel, so they must not be merged in.
        trades = await self._request(self.ib.reqAllOpenOrdersAsync())
        seen: set[int] = set()
        out = []
        for t in trades:
            key = t.order.permId or id(t)
            if key in seen or t.isDone():
                continue
            seen.add(key)
            out.append(_open_order(t))
        return out

    async def executions(self) -> list[Execution]:
        await self._send()
        fills: list[Fill] = await self._request(self.ib.reqExecutionsAsync())
        return [self._execution(f) for f in fills]

    async def subscribe_market_data(self, symbols: Sequence[str]) -> None:
        """Qualify each symbol (market data is keyed by conId), then subscribe to quotes."""
        for symbol in symbols:
            contract = await self._qualified(symbol)
            await self._send()
            self._subscribed[symbol] = self.ib.reqMktData(contract)

    def last_quotes(self) -> dict[str, tuple[float, datetime]]:
        """The latest quote of every subscribed symbol: (last trade price or mid, time of the
        last tick). Symbols without a usable price yet are left out."""
        out: dict[str, tuple[float, datetime]] = {}
        for symbol, ticker in self._subscribed.items():
            at = ticker.time
            price = _finite(ticker.last)
            if price is None or price <= 0:
                bid, ask = _finite(ticker.bid), _finite(ticker.ask)
                price = (bid + ask) / 2 if bid and ask and bid > 0 and ask > 0 else None
            if price is not None and at is not None:
                out[symbol] = (price, at)
        return out

    async def _qualified(self, symbol: str) -> Contract:
        known = self._contracts.get(symbol)
        if known is not None:
            return known
        await self._send()
        contract = _stock(symbol)
        result = await self._request(self.ib.qualifyContractsAsync(contract))
        first = result[0] if result else None
        if not isinstance(first, Contract) or not first.conId:
            raise BrokerError(f"IB does not know the symbol {symbol!r} (no contract definition)")
        self._contracts[symbol] = first
        return first

    async def events(self) -> AsyncIterator[BrokerEvent]:
        while True:
            yield await self._queue.get()

    # ------------------------------------------------------------------ orders
    async def place(self, intent: OrderIntent) -> OrderHandle:
        intent_id = str(intent.intent_id)
        known = self.ledger.duplicate(intent_id)
        if known is not None:
            return known
        self._refuse_if_read_only("place")
        if not self.is_ready:
            raise BrokerNotReady("IB broker is not ready: connect() and reconcile first")
        order = build_order(intent, account=self.account, adaptive_priority=self.adaptive_priority)
        await self._send(order=True)
        if not self.ib.isConnected():
            raise BrokerDisconnected("connection lost before the order could be sent")
        trade = self.ib.placeOrder(_stock(intent.symbol), order)
        order_id = str(trade.order.orderId)
        self.ledger.record(intent_id, order_id, intent.symbol, intent.quantity, "SUBMITTED")
        return OrderHandle(intent_id, order_id, "SUBMITTED")

    async def cancel(self, order_id: str) -> CancelResult:
        self._refuse_if_read_only("cancel")
        try:
            numeric = int(order_id)
        except ValueError:
            return CancelResult(order_id, False, 10149, f"invalid order id {order_id!r}")
        trade = next((t for t in self.ib.trades() if t.order.orderId == numeric), None)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[bool, int | None, str]] = loop.create_future()
        self._cancel_waiters[numeric] = waiter
        try:
            await self._send(order=True)
            if trade is not None:
                self.ib.cancelOrder(trade.order)
            else:
                self.ib.client.cancelOrder(numeric, "")
            accepted, code, message = await asyncio.wait_for(waiter, self.timeout)
        except TimeoutError:
            return CancelResult(order_id, False, None, f"no answer within {self.timeout}s")
        finally:
            self._cancel_waiters.pop(numeric, None)
        return CancelResult(order_id, accepted, code, message)

    async def cancel_all(self) -> None:
        self._refuse_if_read_only("cancel_all")
        await self._send(order=True)
        self.ib.reqGlobalCancel()

    # ------------------------------------------------------------------ ib_async callbacks
    def _on_error(self, req_id: int, code: int, message: str, contract: Contract | None) -> None:
        info = classify(code)
        self.notices.append((code, message))
        kind = info.kind
        if kind == "pacing_violation":
            self.pacing_violations.record(self.clock.now(), message)
        if kind in ("connectivity_lost",):
            self._ready = False
            self._emit(BrokerEvent("connection", _now(), code=code, message=message))
            return
        if kind in ("connectivity_restored", "connectivity_restored_data_lost"):
            self._spawn(self._after_restore(data_lost=kind == "connectivity_restored_data_lost"))
            self._emit(BrokerEvent("connection", _now(), code=code, message=message))
            return
        waiter = self._cancel_waiters.get(req_id)
        if waiter is not None and not waiter.done():
            if kind == "order_cancelled":
                waiter.set_result((True, code, message))
            elif kind in ("cancel_not_found", "cancel_not_cancellable", "invalid_order_id"):
                waiter.set_result((False, code, message))
        entry = self.ledger.by_order(str(req_id)) if req_id >= 0 else None
        if entry is None:
            if info.severity in ("error", "critical") or kind == "pacing_violation":
                self._emit(BrokerEvent("error", _now(), code=code, message=message))
            return
        if info.ends_order:
            status: OrderStatus = "CANCELED" if kind == "order_cancelled" else "REJECTED"
            if entry.status == status:
                return  # the orderStatus message already said so (IB sends both)
            self.ledger.update_status(entry.order_id, status)
            if status == "REJECTED":
                entry.reject_reason = f"IB {code}: {message}"
            self._emit(
                BrokerEvent(
                    "status" if status == "CANCELED" else "error", _now(),
                    intent_id=entry.intent_id, order_id=entry.order_id, symbol=entry.symbol,
                    status=status, quantity=entry.quantity, filled_quantity=entry.filled_quantity,
                    code=code, message=entry.reject_reason or message,
                )
            )  # fmt: skip
        else:
            # Not an end of the order (399, 10349, …): ib_async may have cancelled it locally;
            # we do not believe that — re-read open orders from the broker.
            self._emit(
                BrokerEvent("error", _now(), intent_id=entry.intent_id, order_id=entry.order_id,
                            symbol=entry.symbol, code=code, message=message)
            )  # fmt: skip
            if self.is_ready:
                self._spawn(self._quiet_reconcile())

    def _on_status(self, trade: Trade) -> None:
        order_id = str(trade.order.orderId)
        entry = self.ledger.by_order(order_id)
        st = trade.orderStatus
        status = map_status(st.status, st.filled, st.remaining)
        if status == "CANCELED" and trade.log and trade.log[-1].errorCode:
            # ib_async cancelled it locally because of an error code: _on_error decides (a
            # reject, a confirmed cancel, or an informational code that leaves it working).
            return
        if status == "CANCELED":
            waiter = self._cancel_waiters.get(trade.order.orderId)
            if waiter is not None and not waiter.done():
                waiter.set_result((True, 202, "cancelled"))
        if entry is None:
            return
        self.ledger.update_status(order_id, status, int(st.filled))
        self._emit(
            BrokerEvent(
                "status", _now(), intent_id=entry.intent_id, order_id=order_id,
                symbol=trade.contract.symbol, status=status, direction=_side(trade.order.action),
                quantity=entry.quantity, filled_quantity=int(st.filled),
                remaining=int(st.remaining), avg_fill_price=float(st.avgFillPrice or 0.0),
            )
        )  # fmt: skip

    def _on_exec(self, trade: Trade, fill: Fill) -> None:
        ex = self._execution(fill)
        if not self.ledger.add_execution(ex):
            return  # the same execId again (a duplicated fill message)
        if not self._ready:
            self._fills_while_not_ready.append(ex.exec_id)
        entry = self.ledger.by_order(ex.order_id)
        quantity = entry.quantity if entry else int(trade.order.totalQuantity)
        status: OrderStatus = "FILLED" if ex.cum_quantity >= quantity else "PARTIAL_FILL"
        self._emit(
            BrokerEvent(
                "fill", _now(), intent_id=ex.intent_id, order_id=ex.order_id, symbol=ex.symbol,
                status=status, direction=ex.direction, quantity=quantity,
                filled_quantity=ex.cum_quantity, remaining=max(0, quantity - ex.cum_quantity),
                avg_fill_price=ex.avg_price, exec_id=ex.exec_id, last_fill_quantity=ex.quantity,
                last_fill_price=ex.price, commission=ex.commission,
            )
        )  # fmt: skip

    def _on_commission(self, trade: Trade, fill: Fill, report: IBCommissionReport) -> None:
        self._commissions[report.execId] = report

    def _on_disconnected(self) -> None:
        was_ready = self._ready
        self._ready = False
        if self._closing:
            return
        self._emit(BrokerEvent("connection", _now(), code=504, message="disconnected"))
        if self.auto_reconnect and was_ready and self._reconnect_task is None:
            self._reconnect_task = asyncio.ensure_future(self._reconnect_loop())

    # ------------------------------------------------------------------ reconnect
    async def _reconnect_loop(self) -> None:
        """Reconnect with exponential backoff, then resubscribe and reconcile (fails closed)."""
        delay = self.reconnect_initial_backoff
        try:
            while not self._closing:
                await self.clock.sleep(delay)
                try:
                    await self.connect()
                except BrokerError as exc:
                    log.warning("reconnect failed: %s; next try in %.1fs", exc, delay)
                    delay = min(self.reconnect_max_backoff, delay * 2)
                    continue
                self.reconnects += 1
                await self._resubscribe()
                return
        finally:
            self._reconnect_task = None

    async def _after_restore(self, *, data_lost: bool) -> None:
        try:
            if data_lost:
                await self._resubscribe()
        except BrokerError as exc:
            log.error("resubscription after 1101 failed: %s", exc)
        ok = await self._quiet_reconcile()
        self._ready = ok and self.ib.isConnected()

    async def _resubscribe(self) -> None:
        """After 1101 or a reconnect: market data subscriptions are gone at IB; request again."""
        for symbol, ticker in list(self._subscribed.items()):
            await self._send()
            with contextlib.suppress(Exception):
                self.ib.cancelMktData(ticker.contract)
            await self._send()
            self._subscribed[symbol] = self.ib.reqMktData(await self._qualified(symbol))

    async def _quiet_reconcile(self) -> bool:
        try:
            await self._reconcile()
        except BrokerError as exc:
            self._ready = False
            log.error("reconciliation failed, not ready: %s", exc)
            return False
        return True

    # ------------------------------------------------------------------ plumbing
    async def _send(self, *, order: bool = False) -> None:
        await self.pacer.acquire()
        if not self.ib.isConnected():
            raise BrokerDisconnected(f"not connected to {self.host}:{self.port}")
        self.messages_sent += 1
        if order:
            self.order_messages_sent += 1

    async def _request(self, awaitable: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(awaitable, self.timeout)
        except TimeoutError as exc:
            raise BrokerTimeout(f"no answer from IB within {self.timeout}s") from exc
        except RequestError as exc:
            raise BrokerError(f"IB request failed: {exc}") from exc
        except ConnectionError as exc:
            raise BrokerDisconnected(f"connection lost during the request: {exc}") from exc

    def _refuse_if_read_only(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlyViolation(
                f"{what} refused: the IB connection is read-only; nothing was sent"
            )

    def _emit(self, event: BrokerEvent) -> None:
        if put_dropping_oldest(self._queue, event):
            self.events_dropped += 1

    def _spawn(self, coro: Awaitable[object]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _execution(self, fill: Fill) -> Execution:
        e = fill.execution
        report = fill.commissionReport if fill.commissionReport.execId else None
        report = report or self._commissions.get(e.execId)
        commission = _finite(report.commission) if report else None
        realized = _finite(report.realizedPNL) if report else None
        when = fill.time if fill.time.tzinfo else fill.time.replace(tzinfo=UTC)
        return Execution(
            exec_id=e.execId,
            order_id=str(e.orderId),
            intent_id=e.orderRef or None,
            symbol=fill.contract.symbol,
            direction=_side(e.side),
            quantity=round(e.shares),
            price=float(e.price),
            time=when.astimezone(UTC),
            cum_quantity=round(e.cumQty),
            avg_price=float(e.avgPrice),
            commission=commission,
            realized_pnl=realized,
        )


def _stock(symbol: str) -> Contract:
    return Stock(symbol, "SMART", "USD")


def _side(action: str) -> Any:
    return "BUY" if action.upper() in ("BUY", "BOT") else "SELL"


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value) or abs(value) >= UNSET_DOUBLE:
        return None
    return float(value)


def _num(pair: tuple[str, str] | None) -> float:
    if pair is None:
        return 0.0
    try:
        return float(pair[0])
    except ValueError:
        return 0.0


def _now() -> datetime:
    return datetime.now(UTC)


def _open_order(t: Trade) -> OpenOrder:
    o, st = t.order, t.orderStatus
    kind = {"MKT": "MARKET", "LMT": "LIMIT", "STP": "STOP", "STP LMT": "STOP_LIMIT"}.get(
        o.orderType, "MARKET"
    )
    if o.algoStrategy == "Adaptive":
        kind = "ADAPTIVE"
    filled = float(st.filled)
    remaining = float(st.remaining) if st.remaining else max(0.0, o.totalQuantity - filled)
    return OpenOrder(
        order_id=str(o.orderId),
        intent_id=o.orderRef or None,
        symbol=t.contract.symbol,
        direction=_side(o.action),
        quantity=round(o.totalQuantity),
        order_type=kind,  # type: ignore[arg-type]
        status=map_status(st.status, filled, remaining),
        filled_quantity=round(filled),
        remaining=round(remaining),
        limit_price=_finite(float(o.lmtPrice))
        if o.lmtPrice is not None and o.orderType in ("LMT", "STP LMT")
        else None,
        stop_price=_finite(float(o.auxPrice))
        if o.auxPrice is not None and o.orderType in ("STP", "STP LMT")
        else None,
        avg_fill_price=float(st.avgFillPrice or 0.0),
    )
