"""``SimulatedBroker``: the in-process broker over :class:`~engine.broker.sim_exchange.SimExchange`.

It behaves like a connection to IBKR where it matters for safety:

* every request (reads included) is one API message: it takes a token from the client-side
  :class:`~engine.broker.pacing.PacingLimiter` (when given) and is counted by the exchange-side
  :class:`~engine.broker.sim_exchange.MessageRateMonitor`; more than 50 messages in a second
  produce error 100 and a disconnect, exactly as TWS does, so an unpaced client is caught;
* orders carry the intent id as ``order_ref``; a re-sent intent id is answered from the ledger
  and never placed twice; (re)connecting reconciles the ledger against the exchange's orders and
  executions, so fills that happened while disconnected are recovered;
* a read-only connection refuses every order message before anything is sent.

Fills due later (latency, participation slices, resting limits) are produced by a pump task that
sleeps on the broker's clock until the exchange's next due time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

from contracts.messages import OrderIntent, OrderStatus
from engine.broker.clock import Clock, SystemClock
from engine.broker.ledger import IntentLedger, ReconcileReport
from engine.broker.pacing import PacingLimiter, PacingViolation
from engine.broker.protocol import BrokerKind
from engine.broker.sim_exchange import (
    FINAL_STATUSES,
    ExchangeEvent,
    Fill,
    MessageRateMonitor,
    OrderSpec,
    OrderView,
    SimExchange,
)
from engine.broker.types import (
    EVENT_BUFFER,
    AccountSummary,
    BrokerDisconnected,
    BrokerEvent,
    BrokerNotReady,
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

CODE_PACING = 100
CODE_READ_ONLY = 321


class SimulatedBroker:
    """An asynchronous :class:`~engine.broker.protocol.Broker` over a simulated exchange.

    Parameters
    ----------
    exchange
        The simulated exchange and account (shared with other clients when several brokers use it).
    clock
        Time source (seconds); the exchange sees the same clock.
    pacer
        Client-side pacing limiter; ``None`` sends unpaced (then the exchange may disconnect us).
    client_id
        Our client id at the exchange; open orders and idempotency are per client.
    readonly
        Refuse every order message (the probe's connection).
    reachable
        ``False`` simulates a broker that cannot be reached (connect raises BrokerUnreachable).
    """

    def __init__(
        self,
        exchange: SimExchange,
        *,
        clock: Clock | None = None,
        pacer: PacingLimiter | None = None,
        client_id: int = 0,
        readonly: bool = False,
        reachable: bool = True,
        wall_origin: datetime | None = None,
    ) -> None:
        self.exchange = exchange
        self.clock: Clock = clock or SystemClock()
        self.pacer = pacer
        self.client_id = client_id
        self.readonly = readonly
        self.reachable = reachable
        self.monitor = MessageRateMonitor(exchange.config.message_limit)
        self.pacing_violations = PacingViolation()
        self.ledger = IntentLedger()
        self.last_reconcile: ReconcileReport | None = None
        self.messages_sent = 0
        self.order_messages_sent = 0
        self._origin_clock = self.clock.now()
        self._origin_wall = wall_origin or datetime.now(UTC)
        self._connected = False
        self._ready = False
        # Bounded: with nobody reading events() the oldest are dropped (and counted).
        self._queue: asyncio.Queue[BrokerEvent] = asyncio.Queue(maxsize=EVENT_BUFFER)
        self.events_dropped = 0
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- connection
    @property
    def kind(self) -> BrokerKind:
        return "sim"

    @property
    def is_ready(self) -> bool:
        return self._connected and self._ready

    async def connect(self) -> None:
        if not self.reachable:
            raise BrokerUnreachable("simulated broker is configured unreachable")
        self._connected = True
        self._ready = False
        self.monitor.reset_window()
        before = self.ledger.sequence
        orders = await self.open_orders()
        executions = await self.executions()
        self.last_reconcile = self.ledger.reconcile(orders, executions, placed_before=before)
        for intent_id in self.last_reconcile.closed:
            entry = self.ledger.get(intent_id)
            if entry is not None:
                self._emit(
                    BrokerEvent(
                        "status", self._wall(), intent_id=intent_id, order_id=entry.order_id,
                        symbol=entry.symbol, status="CANCELED", quantity=entry.quantity,
                        filled_quantity=entry.filled_quantity,
                        message="not open at the broker after reconnect; reconciled as cancelled",
                    )
                )  # fmt: skip
        for o in self.exchange.orders():  # finished orders of earlier sessions: known intents
            if o.order_ref and o.order_ref not in self.ledger and o.status in FINAL_STATUSES:
                self.ledger.record(o.order_ref, str(o.order_id), o.symbol, o.quantity, o.status)
        self._ready = True
        self._emit(BrokerEvent("connection", self._wall(), code=None, message="connected"))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())

    async def close(self) -> None:
        self._connected = False
        self._ready = False
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None

    def drop_connection(self, reason: str = "connection dropped") -> None:
        """Lose the connection (a fault): events stop, requests fail until :meth:`connect`."""
        if self._connected:
            self._connected = False
            self._ready = False
            self._emit(BrokerEvent("connection", self._wall(), code=1100, message=reason))

    # ----------------------------------------------------------------- reads
    async def account_summary(self) -> AccountSummary:
        await self._message()
        acct = self.exchange.account()
        mode, evidence = trading_mode_for(acct.account_id)
        return AccountSummary(
            account_id=acct.account_id,
            currency=acct.currency,
            net_liquidation=acct.net_liquidation,
            buying_power=acct.buying_power,
            cash=acct.cash,
            trading_mode=mode,
            mode_evidence=(*evidence, "simulated broker"),
            available_funds=acct.buying_power / max(self.exchange.config.leverage, 1e-9),
            realized_pnl=acct.realized_pnl,
            unrealized_pnl=acct.unrealized_pnl,
            permissions=("STK",) if not self.readonly else ("STK", "read-only connection"),
        )

    async def positions(self) -> list[Position]:
        await self._message()
        return [
            Position(
                symbol=p.symbol,
                quantity=p.quantity,
                avg_cost=p.avg_cost,
                market_price=p.market_price,
                market_value=p.market_value,
                unrealized_pnl=p.unrealized_pnl,
                realized_pnl=p.realized_pnl,
                currency=p.currency,
            )
            for p in self.exchange.positions()
        ]

    async def open_orders(self) -> list[OpenOrder]:
        await self._message()
        return [_open_order(o) for o in self.exchange.open_orders()]

    async def executions(self) -> list[Execution]:
        await self._message()
        return [self._execution(f) for f in self.exchange.executions(client_id=self.client_id)]

    async def subscribe_market_data(self, symbols: Sequence[str]) -> None:
        for symbol in symbols:
            await self._message()
            if not self.exchange.has_symbol(symbol):
                self._emit(
                    BrokerEvent(
                        "error",
                        self._wall(),
                        symbol=symbol,
                        code=200,
                        message=f"No security definition has been found for {symbol!r}",
                    )
                )

    async def events(self) -> AsyncIterator[BrokerEvent]:
        while True:
            yield await self._queue.get()

    def drain_events(self) -> list[BrokerEvent]:
        """Every event queued so far, without waiting."""
        out: list[BrokerEvent] = []
        while not self._queue.empty():
            out.append(self._queue.get_nowait())
        return out

    # ----------------------------------------------------------------- orders
    async def place(self, intent: OrderIntent) -> OrderHandle:
        intent_id = str(intent.intent_id)
        known = self.ledger.duplicate(intent_id)
        if known is not None:
            return known
        self._refuse_if_read_only("place")
        if not self.is_ready:
            raise BrokerNotReady("simulated broker is not ready: connect() and reconcile first")
        await self._message(order=True)
        spec = OrderSpec(
            symbol=intent.symbol,
            side=intent.direction,
            quantity=intent.quantity,
            order_type=intent.order_type,
            limit_price=intent.limit_price,
            stop_price=intent.stop_price,
            time_in_force=intent.time_in_force,
            order_ref=intent_id,
            client_id=self.client_id,
        )
        events = self.exchange.place(spec, self.clock.now())
        first = events[0]
        status: OrderStatus = "REJECTED" if first.status == "REJECTED" else "SUBMITTED"
        reason = first.reason if status == "REJECTED" else None
        self.ledger.record(
            intent_id, str(first.order_id), intent.symbol, intent.quantity, status, reason
        )
        self._dispatch(events)
        if self.exchange.next_due() is not None:
            self._wake.set()  # something will be due later: let the pump schedule it
        final = self.ledger.get(intent_id)
        return OrderHandle(
            intent_id, str(first.order_id), final.status if final else status, reason
        )

    async def cancel(self, order_id: str) -> CancelResult:
        self._refuse_if_read_only("cancel")
        await self._message(order=True)
        try:
            numeric = int(order_id)
        except ValueError:
            return CancelResult(order_id, False, 10149, f"invalid order id {order_id!r}")
        events = self.exchange.cancel(numeric, self.clock.now(), self.client_id)
        self._dispatch(events)
        event = events[0]
        accepted = event.error_code == 202
        return CancelResult(order_id, accepted, event.error_code, event.reason)

    async def cancel_all(self) -> None:
        self._refuse_if_read_only("cancel_all")
        await self._message(order=True)
        self._dispatch(self.exchange.cancel_all(self.clock.now()))

    # ----------------------------------------------------------------- simulation controls
    async def set_price(self, symbol: str, price: float) -> None:
        """Move the simulated market (a price path); fills that became due are delivered."""
        self._dispatch(self.exchange.set_price(symbol, price, self.clock.now()))
        self._wake.set()

    async def settle(self) -> None:
        """Deliver every fill due by now (tests and benchmarks call this instead of sleeping)."""
        self._dispatch(self.exchange.advance(self.clock.now()))

    # ----------------------------------------------------------------- internals
    def _refuse_if_read_only(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlyViolation(
                f"{what} refused: this connection is read-only (IB error {CODE_READ_ONLY}); "
                "nothing was sent"
            )

    async def _message(self, *, order: bool = False) -> None:
        """One client → broker message: paced, counted, and fatal when over the limit."""
        if self.pacer is not None:
            await self.pacer.acquire()
        if not self._connected:
            raise BrokerDisconnected("simulated broker: not connected; call connect() first")
        now = self.clock.now()
        self.messages_sent += 1
        if order:
            self.order_messages_sent += 1
        if not self.monitor.record(now):
            detail = "Max rate of messages per second has been exceeded"
            self.pacing_violations.record(now, detail)
            self._emit(BrokerEvent("error", self._wall(), code=CODE_PACING, message=detail))
            self.drop_connection(f"error {CODE_PACING}: {detail}; connection closed")
            raise BrokerDisconnected(f"error {CODE_PACING}: {detail}; the broker disconnected")

    async def _run_pump(self) -> None:
        while True:
            self._wake.clear()
            due = self.exchange.next_due()
            if due is None:
                await self._wake.wait()
                continue
            delay = due - self.clock.now()
            if delay > 0:
                sleeper = asyncio.ensure_future(self.clock.sleep(delay))
                waker = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
                sleeper.cancel()
                waker.cancel()
            self._dispatch(self.exchange.advance(self.clock.now()))

    def _dispatch(self, events: list[ExchangeEvent]) -> None:
        if not self._connected:
            return  # the market moves on; we learn about it when we reconnect
        ledger = self.ledger
        wall_at, wall = math.nan, self._origin_wall
        for ev in events:
            if ev.client_id != self.client_id:
                continue
            order_id = str(ev.order_id)
            status: OrderStatus = ev.status
            ledger.update_status(order_id, status, ev.filled)
            is_fill = ev.kind == "fill"
            if is_fill and ev.exec_id:
                ledger.add_fill(ev.exec_id, order_id, ev.order_ref or None, ev.filled)
            if ev.time != wall_at:
                wall_at, wall = ev.time, self._wall(ev.time)
            self._emit(
                BrokerEvent(
                    "fill" if is_fill else ("error" if ev.kind == "error" else "status"),
                    wall,
                    ev.order_ref or None,
                    order_id,
                    ev.symbol or None,
                    status,
                    ev.side,
                    ev.quantity or None,
                    ev.filled,
                    ev.remaining,
                    ev.avg_fill_price,
                    ev.exec_id,
                    ev.last_fill_quantity,
                    ev.last_fill_price,
                    ev.commission if is_fill else None,
                    ev.error_code,
                    ev.reason,
                )
            )

    def _emit(self, event: BrokerEvent) -> None:
        if put_dropping_oldest(self._queue, event):
            self.events_dropped += 1

    def _wall(self, at: float | None = None) -> datetime:
        t = self.clock.now() if at is None else at
        return self._origin_wall + timedelta(seconds=t - self._origin_clock)

    def _execution(self, f: Fill) -> Execution:
        return Execution(
            exec_id=f.exec_id,
            order_id=str(f.order_id),
            intent_id=f.order_ref or None,
            symbol=f.symbol,
            direction=f.side,
            quantity=f.shares,
            price=f.price,
            time=self._wall(f.time),
            cum_quantity=f.cum_qty,
            avg_price=f.avg_price,
            commission=f.commission,
            realized_pnl=f.realized_pnl,
        )


def _open_order(o: OrderView) -> OpenOrder:
    return OpenOrder(
        order_id=str(o.order_id),
        intent_id=o.order_ref or None,
        symbol=o.symbol,
        direction=o.side,
        quantity=o.quantity,
        order_type=o.order_type,
        status=o.status,
        filled_quantity=o.filled,
        remaining=o.remaining,
        limit_price=o.limit_price,
        stop_price=o.stop_price,
        avg_fill_price=o.avg_fill_price,
    )
