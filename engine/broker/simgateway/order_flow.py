"""The gateway's order flow: placeOrder / cancelOrder / reqGlobalCancel from a client, through the
armed faults, into the exchange — and the exchange's events back out as TWS messages
(openOrder, orderStatus, execDetails, commissionReport, errors) to the client that owns the order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.broker.sim_exchange import ExchangeEvent, OrderSpec
from engine.broker.simgateway import messages as m
from engine.broker.simgateway.book import GatewayOrder
from engine.broker.simgateway.config import IB_STATUS, INFO_TEXT, ORDER_TYPES, READ_ONLY_TEXT, TIFS
from engine.broker.simgateway.instruments import Instrument
from engine.broker.simgateway.orders import OrderParseError, ParsedOrder, parse_place_order
from engine.broker.simgateway.peers import Peer
from engine.broker.simgateway.reports import money

if TYPE_CHECKING:
    from engine.broker.simgateway.core import GatewayCore


class OrderFlow:
    """Orders in, order messages out. ``later``/``wake`` come from the server (see
    :meth:`GatewayCore.set_scheduler`)."""

    def __init__(self, core: GatewayCore) -> None:
        self.core = core
        self.exchange = core.exchange
        self.book = core.book
        self.stats = core.stats
        self.peers = core.peers
        self.held_offline: list[tuple[int, ParsedOrder, Instrument]] = []
        self.later: Callable[[float, Callable[[], None]], None] = _run_now
        self.wake: Callable[[], None] = _nothing

    # ------------------------------------------------------------------ orders in
    def place_order(self, peer: Peer, fields: Sequence[str]) -> None:
        """Handle placeOrder (3) from ``peer``: parse, apply faults, route to the exchange."""
        faults = self.core.faults
        try:
            parsed = parse_place_order(fields, peer.server_version, keep_fields=False)
        except OrderParseError as exc:
            order_id = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else -1
            peer.send_error(order_id, 320, f"Error reading request: {exc}")
            return
        if faults.take_drop_before():
            peer.close("fault: connection dropped before the order was processed")
            return
        if self.core.config.read_only_api:
            peer.send_error(parsed.order_id, 321, READ_ONLY_TEXT)
            return
        inst = self.core.resolve(parsed.contract)
        if inst is None:
            peer.send_error(
                parsed.order_id, 200, "No security definition has been found for the request"
            )
            return
        if parsed.what_if:
            self._what_if(peer, parsed, inst)
            return
        key = (peer.client_id, parsed.order_id)
        if key in self.book.orders and self.book.orders[key].status not in (
            "Filled",
            "Cancelled",
            "Inactive",
        ):
            peer.send_error(
                parsed.order_id,
                105,
                "Order being modified does not match original order: the simulated gateway "
                "does not modify orders; cancel and place a new order",
            )
            return
        if key in self.book.orders:
            peer.send_error(parsed.order_id, 103, f"Duplicate order id {parsed.order_id}")
            return
        self.stats.orders += 1
        drop_after = faults.take_drop_after()
        if drop_after:
            peer.close("fault: connection dropped after the order was processed")
        if faults.take_reject():
            self._reject(peer.client_id, parsed, inst, faults.reject_reason)
            return
        if faults.take_stall():
            self.book.orders[key] = GatewayOrder(peer.client_id, parsed, inst)
            self.book.stalled.append((peer.client_id, parsed, inst))
            return
        if self.core.offline:
            self.book.orders[key] = GatewayOrder(peer.client_id, parsed, inst)
            self.held_offline.append((peer.client_id, parsed, inst))
            return
        self.submit(peer.client_id, parsed, inst)

    def release_stalled(self) -> int:
        """Let stalled orders through to the exchange; returns how many were released."""
        stalled, self.book.stalled = self.book.stalled, []
        for client_id, parsed, inst in stalled:
            self.submit(client_id, parsed, inst)
        return len(stalled)

    def submit_held(self) -> None:
        """After 1101/1102: the orders placed while IB was unreachable go to the exchange now."""
        held, self.held_offline = self.held_offline, []
        for client_id, parsed, inst in held:
            self.book.orders.pop((client_id, parsed.order_id), None)
            self.submit(client_id, parsed, inst)

    def _reject(self, client_id: int, parsed: ParsedOrder, inst: Instrument, reason: str) -> None:
        self.stats.rejects += 1
        self.book.orders[(client_id, parsed.order_id)] = GatewayOrder(
            client_id, parsed, inst, status="Inactive"
        )
        self.to_client(
            client_id,
            lambda p: p.send_error(parsed.order_id, 201, f"Order rejected - reason: {reason}"),
        )

    def _spec_for(self, client_id: int, parsed: ParsedOrder, inst: Instrument) -> OrderSpec | str:
        """Map a parsed IB order onto the exchange's order spec, or say why it cannot be."""
        if parsed.action not in ("BUY", "SELL"):
            return f"action {parsed.action!r} is not BUY or SELL"
        qty = parsed.total_quantity
        if qty <= 0 or not float(qty).is_integer():
            return f"quantity {qty:g} must be a whole number of shares ≥ 1"
        tif = TIFS.get(parsed.tif)
        if tif is None:
            return f"time in force {parsed.tif!r} is not supported (use DAY, GTC or IOC)"
        kind = ORDER_TYPES.get(parsed.order_type)
        if kind is None:
            return (
                f"order type {parsed.order_type!r} is not supported by the simulated gateway "
                f"(use {', '.join(ORDER_TYPES)})"
            )
        if parsed.algo_strategy:
            if parsed.algo_strategy != "Adaptive":
                return f"algo {parsed.algo_strategy!r} is not supported (only Adaptive)"
            if kind == "MARKET":
                kind = "ADAPTIVE"
        limit = parsed.lmt_price if kind in ("LIMIT", "STOP_LIMIT") else None
        stop = parsed.aux_price if kind in ("STOP", "STOP_LIMIT") else None
        return OrderSpec(
            symbol=inst.symbol,
            side=parsed.action,  # type: ignore[arg-type]
            quantity=int(qty),
            order_type=kind,
            limit_price=limit,
            stop_price=stop,
            time_in_force=tif,
            order_ref=parsed.order_ref,
            client_id=client_id,
            order_id=parsed.order_id,
        )

    def submit(self, client_id: int, parsed: ParsedOrder, inst: Instrument) -> None:
        spec = self._spec_for(client_id, parsed, inst)
        if isinstance(spec, str):
            self._reject(client_id, parsed, inst, spec)
            return
        record = GatewayOrder(client_id, parsed, inst)
        self.book.orders[(client_id, parsed.order_id)] = record
        self.core.market.update_price(inst.symbol, self.core.clock())
        events = self.exchange.place(spec, self.core.clock())
        self.emit(events)
        if self.core.config.latency_ms > 0:
            self.wake()  # the clock re-plans its sleep around the new order's due time
        codes = self.core.faults.take_inject()
        peer = self.peers.get(client_id)
        if codes and peer is not None and record.status not in ("Inactive", "Cancelled"):
            for code in codes:
                text = INFO_TEXT.get(code, f"Informational message {code}")
                peer.send_error(parsed.order_id, code, text)

    def cancel_order(self, peer: Peer, order_id: int) -> None:
        if self.core.config.read_only_api:
            peer.send_error(order_id, 321, READ_ONLY_TEXT)
            return
        key = (peer.client_id, order_id)
        record = self.book.orders.get(key)
        if record is not None and any(s[1].order_id == order_id for s in self.book.stalled):
            self.book.stalled = [
                s for s in self.book.stalled if s[1].order_id != order_id or s[0] != peer.client_id
            ]
            record.status = "Cancelled"
            peer.send(m.order_status(self.book.view(record, None)))
            peer.send_error(order_id, 202, "Order Canceled - reason:")
            return
        events = self.exchange.cancel(order_id, self.core.clock(), client_id=peer.client_id)
        self.emit(events)

    def global_cancel(self, peer: Peer | None = None) -> None:
        if self.core.config.read_only_api:
            if peer is not None:
                peer.send_error(-1, 321, READ_ONLY_TEXT)
            return
        for client_id, parsed, _ in self.book.stalled:
            rec = self.book.orders[(client_id, parsed.order_id)]
            rec.status = "Cancelled"
            owner = self.peers.get(client_id)
            if owner is not None:
                owner.send(m.order_status(self.book.view(rec, None)))
        self.book.stalled = []
        self.emit(self.exchange.cancel_all(self.core.clock()))

    def _what_if(self, peer: Peer, parsed: ParsedOrder, inst: Instrument) -> None:
        spec = self._spec_for(peer.client_id, parsed, inst)
        if isinstance(spec, str):
            peer.send_error(parsed.order_id, 201, f"Order rejected - reason: {spec}")
            return
        acct = self.exchange.account()
        price = spec.limit_price or self.exchange.last_price(inst.symbol)
        value = spec.quantity * price
        init_before = acct.gross_position_value * 0.5
        maint_before = acct.gross_position_value * 0.25
        schedule = self.exchange.config.commissions
        commission = schedule.order_commission(spec.quantity, value) + schedule.execution_fees(
            spec.side, spec.quantity, value
        )
        margin = m.MarginState(
            init_margin_before=money(init_before),
            maint_margin_before=money(maint_before),
            equity_with_loan_before=money(acct.net_liquidation),
            init_margin_change=money(value * 0.5),
            maint_margin_change=money(value * 0.25),
            equity_with_loan_change=money(-commission),
            init_margin_after=money(init_before + value * 0.5),
            maint_margin_after=money(maint_before + value * 0.25),
            equity_with_loan_after=money(acct.net_liquidation - commission),
            commission=round(commission, 4),
            min_commission=round(commission, 4),
            max_commission=round(commission, 4),
            commission_currency="USD",
        )
        record = GatewayOrder(peer.client_id, parsed, inst, status="PreSubmitted")
        view = replace(self.book.view(record, None), what_if=True)
        peer.send(m.open_order(view, peer.server_version, margin))

    # ------------------------------------------------------------------ events out
    def emit(self, events: Iterable[ExchangeEvent]) -> None:
        """Tell the owners about their orders, then subscribers about positions and account."""
        touched: set[str] = set()
        for ev in events:
            self._emit_one(ev, touched)
        account = self.core.account
        for symbol in touched:
            account.broadcast_position(symbol)
        if touched:
            account.broadcast_account(touched)

    def _emit_one(self, ev: ExchangeEvent, touched: set[str]) -> None:
        record = self.book.orders.get((ev.client_id, ev.order_id))
        if record is None:
            self._emit_foreign(ev)
            return
        record.perm_id = ev.perm_id or record.perm_id
        peer = self.peers.get(ev.client_id)
        if ev.kind == "error":
            if ev.status == "REJECTED" and record.status == "PendingSubmit":
                record.status = "Inactive"
                self.stats.rejects += 1
            if peer is not None:
                code = ev.error_code or 201
                peer.send_error(ev.order_id, code, ev.reason or "")
            return
        record.status = IB_STATUS[ev.status]
        if ev.kind == "fill":
            self.stats.fills += 1
            touched.add(ev.symbol)
            self._send_fill(record, ev)
            return
        if ev.status == "CANCELED":
            self.stats.cancels += 1
        if peer is None:
            self.stats.dropped_messages += 1
            return
        view = self.book.view(record, ev)
        if ev.status == "CANCELED":
            reason = ev.reason or "Order Canceled - reason:"
            peer.send(m.order_status(view))
            peer.send_error(ev.order_id, 202, reason)
        else:
            peer.send(m.open_order(view, peer.server_version))
            peer.send(m.order_status(view))

    def _emit_foreign(self, ev: ExchangeEvent) -> None:
        """An exchange event for an order the gateway did not place (e.g. seeded demo orders)."""
        if ev.kind == "fill":
            self.core.account.broadcast_position(ev.symbol)
            self.core.account.broadcast_account({ev.symbol})
        elif ev.kind == "error":
            self.to_client(
                ev.client_id,
                lambda p: p.send_error(ev.order_id, ev.error_code or 201, ev.reason or ""),
            )

    def _send_fill(self, record: GatewayOrder, ev: ExchangeEvent) -> None:
        faults = self.core.faults
        repeats = 2 if faults.take_duplicate() else 1
        peer = self.peers.get(record.client_id)
        if peer is None:  # the fill stands at the exchange; the client learns via reqExecutions
            self.stats.dropped_messages += 1
            return
        assert ev.exec_id is not None
        view = self.book.view(record, ev)
        version = peer.server_version
        execution = m.exec_details(-1, self.book.execution_view(record, ev), version)
        commission = m.commission_report(
            ev.exec_id, ev.commission, "USD", ev.realized_pnl if ev.realized_pnl else None
        )
        delay = faults.commission_delay
        for _ in range(repeats):
            peer.send(execution)
            peer.send(m.open_order(view, version))
            peer.send(m.order_status(view))
            if delay <= 0:
                peer.send(commission)
        if delay > 0:
            client_id = peer.client_id

            def late() -> None:
                owner = self.peers.get(client_id)
                if owner is not None:
                    for _ in range(repeats):
                        owner.send(commission)

            self.later(delay, late)

    def to_client(self, client_id: int, action: Callable[[Peer], object]) -> None:
        peer = self.peers.get(client_id)
        if peer is None:
            self.stats.dropped_messages += 1
            return
        action(peer)


def _run_now(_delay: float, fn: Callable[[], None]) -> None:
    fn()


def _nothing() -> None:
    return None
