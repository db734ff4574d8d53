"""The gateway's state and behaviour, free of sockets: orders, fills, account, market data.

``GatewayCore`` wraps the shared :class:`~engine.broker.sim_exchange.SimExchange` (the one fill
model) and turns its events into TWS messages for connected peers. Everything here is
synchronous; the asyncio server (``server.py``) feeds it bytes and time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from engine.broker.sim_exchange import (
    ExchangeConfig,
    ExchangeEvent,
    OrderSpec,
    SimExchange,
    SymbolSpec,
)
from engine.broker.simgateway import messages as m
from engine.broker.simgateway.book import GatewayOrder, OrderBook
from engine.broker.simgateway.config import (
    HALF_SPREAD_BPS,
    IB_STATUS,
    INFO_TEXT,
    ORDER_TYPES,
    READ_ONLY_TEXT,
    TIFS,
    GatewayConfig,
)
from engine.broker.simgateway.faults import GatewayFaults
from engine.broker.simgateway.instruments import ContractSpec, Instrument, InstrumentRegistry
from engine.broker.simgateway.orders import OrderParseError, ParsedOrder, parse_place_order
from engine.broker.simgateway.prices import (
    PriceBar,
    PriceSource,
    RandomWalkPriceSource,
    SyntheticPriceSource,
)
from engine.broker.simgateway.reports import AccountReports, money

log = logging.getLogger("algotrade.simgateway")


class Peer(Protocol):
    """What the core needs from a connected client session."""

    client_id: int
    server_version: int
    subs: Subscriptions

    def send(self, msg: m.Msg) -> None: ...

    def send_end(self, name: str, msg: m.Msg) -> None: ...

    def close(self, reason: str) -> None: ...


@dataclass
class Subscriptions:
    """Live subscriptions of one client connection."""

    positions: bool = False
    account_updates: str | None = None
    account_multi: set[int] = field(default_factory=set)
    market_data: dict[int, str] = field(default_factory=dict)
    pnl: set[int] = field(default_factory=set)
    pnl_single: dict[int, int] = field(default_factory=dict)  # reqId -> conId


@dataclass
class GatewayStats:
    connections: int = 0
    orders: int = 0
    fills: int = 0
    rejects: int = 0
    cancels: int = 0
    pacing_errors: int = 0
    historical_pacing_errors: int = 0
    dropped_messages: int = 0


class GatewayCore:
    """State shared by every client connection of one gateway.

    Parameters
    ----------
    config : gateway settings.
    clock : epoch seconds (``time.time`` by default; tests may pass a fake).
    prices : the market; a seeded random walk by default.
    faults : armed faults (``GatewayFaults()`` = none).
    """

    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Callable[[], float] = time.time,
        prices: PriceSource | None = None,
        faults: GatewayFaults | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        start = clock()
        if prices is None:
            if config.price_model == "synthetic":
                prices = SyntheticPriceSource(
                    seed=config.seed, origin=start, annual_vol=config.annual_vol
                )
            else:
                prices = RandomWalkPriceSource(
                    seed=config.seed, origin=start, annual_vol=config.annual_vol
                )
        self.prices: PriceSource = prices
        self.faults = faults or GatewayFaults()
        self.stats = GatewayStats()
        self.registry = InstrumentRegistry(admit_unknown=config.admit_unknown_symbols)
        if config.symbols is not None:
            symbols: tuple[str, ...] = config.symbols
            for sym in symbols:  # configured symbols are listed even when unknown ones are not
                self.registry.add(sym)
        else:
            symbols = _load_default_universe(self.registry)
        self.exchange = SimExchange(
            ExchangeConfig(
                seed=config.seed,
                account_id=config.account,
                initial_cash=config.initial_cash,
                latency=config.latency_ms / 1000.0,
                message_limit=None,
            ),
            now=start,
        )
        self._last_price: dict[str, float] = {}
        for sym in symbols:
            self.instrument_for(sym, start)
        self.reports = AccountReports(self.exchange, self.registry, config.account, clock)
        self.peers: dict[int, Peer] = {}
        self.book = OrderBook(self.exchange, self.registry, config.account)
        self.pinned: dict[str, float] = {}
        self.offline = False
        self._held_offline: list[tuple[int, ParsedOrder, Instrument]] = []
        self._later: Callable[[float, Callable[[], None]], None] = _run_now
        self._wake: Callable[[], None] = _nothing

    # ------------------------------------------------------------------ wiring
    def set_scheduler(
        self,
        later: Callable[[float, Callable[[], None]], None],
        wake: Callable[[], None] | None = None,
    ) -> None:
        """How to run something after a delay (the server passes ``loop.call_later``), and how
        to wake the market clock when an order's fill becomes due before its next tick."""
        self._later = later
        self._wake = wake or _nothing

    def instrument_for(self, symbol: str, now: float | None = None) -> Instrument | None:
        inst = self.registry.resolve(ContractSpec(symbol=symbol, sec_type="STK"))
        if inst is not None:
            self._ensure_listed(inst, self.clock() if now is None else now)
        return inst

    def resolve(self, contract: ContractSpec) -> Instrument | None:
        """The instrument a client contract names (admitted to the exchange), or None."""
        inst = self.registry.resolve(contract)
        if inst is not None:
            self._ensure_listed(inst, self.clock())
        return inst

    def _ensure_listed(self, inst: Instrument, now: float) -> None:
        if not self.exchange.has_symbol(inst.symbol):
            price = self.prices.price(inst.symbol, now)
            self.exchange.add_symbol(
                SymbolSpec(inst.symbol, price, half_spread_bps=HALF_SPREAD_BPS, con_id=inst.con_id)
            )
            self._last_price[inst.symbol] = price

    def attach(self, peer: Peer) -> bool:
        """Register a client; False when its client id is taken (→ error 326)."""
        if peer.client_id in self.peers:
            return False
        self.peers[peer.client_id] = peer
        self.stats.connections += 1
        return True

    def detach(self, peer: Peer) -> None:
        if self.peers.get(peer.client_id) is peer:
            del self.peers[peer.client_id]
            if self.faults.fill_while_disconnected:
                self._fill_working_orders(peer.client_id)

    def next_order_id(self) -> int:
        return self.book.next_order_id()

    # ------------------------------------------------------------------ orders
    def place_order(self, peer: Peer, fields: Sequence[str]) -> None:
        """Handle placeOrder (3) from ``peer``: parse, apply faults, route to the exchange."""
        try:
            parsed = parse_place_order(fields, peer.server_version, keep_fields=False)
        except OrderParseError as exc:
            order_id = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else -1
            peer.send(m.error(order_id, 320, f"Error reading request: {exc}", peer.server_version))
            return
        if self.faults.take_drop_before():
            peer.close("fault: connection dropped before the order was processed")
            return
        if self.config.read_only_api:
            peer.send(m.error(parsed.order_id, 321, READ_ONLY_TEXT, peer.server_version))
            return
        inst = self.resolve(parsed.contract)
        if inst is None:
            peer.send(
                m.error(
                    parsed.order_id,
                    200,
                    "No security definition has been found for the request",
                    peer.server_version,
                )
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
            peer.send(
                m.error(
                    parsed.order_id,
                    105,
                    "Order being modified does not match original order: the simulated gateway "
                    "does not modify orders; cancel and place a new order",
                    peer.server_version,
                )
            )
            return
        if key in self.book.orders:
            peer.send(
                m.error(
                    parsed.order_id,
                    103,
                    f"Duplicate order id {parsed.order_id}",
                    peer.server_version,
                )
            )
            return
        self.stats.orders += 1
        drop_after = self.faults.take_drop_after()
        if drop_after:
            peer.close("fault: connection dropped after the order was processed")
        if self.faults.take_reject():
            self._reject(peer.client_id, parsed, inst, self.faults.reject_reason)
            return
        if self.faults.take_stall():
            self.book.orders[key] = GatewayOrder(peer.client_id, parsed, inst)
            self.book.stalled.append((peer.client_id, parsed, inst))
            return
        if self.offline:
            self.book.orders[key] = GatewayOrder(peer.client_id, parsed, inst)
            self._held_offline.append((peer.client_id, parsed, inst))
            return
        self._submit(peer.client_id, parsed, inst)

    def release_stalled(self) -> int:
        """Let stalled orders through to the exchange; returns how many were released."""
        stalled, self.book.stalled = self.book.stalled, []
        for client_id, parsed, inst in stalled:
            self._submit(client_id, parsed, inst)
        return len(stalled)

    def _reject(self, client_id: int, parsed: ParsedOrder, inst: Instrument, reason: str) -> None:
        self.stats.rejects += 1
        self.book.orders[(client_id, parsed.order_id)] = GatewayOrder(
            client_id, parsed, inst, status="Inactive"
        )
        self._to_client(
            client_id,
            lambda p: p.send(
                m.error(
                    parsed.order_id, 201, f"Order rejected - reason: {reason}", p.server_version
                )
            ),
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

    def _submit(self, client_id: int, parsed: ParsedOrder, inst: Instrument) -> None:
        spec = self._spec_for(client_id, parsed, inst)
        if isinstance(spec, str):
            self._reject(client_id, parsed, inst, spec)
            return
        record = GatewayOrder(client_id, parsed, inst)
        self.book.orders[(client_id, parsed.order_id)] = record
        self._update_price(inst.symbol, self.clock())
        events = self.exchange.place(spec, self.clock())
        self._emit(events)
        if self.config.latency_ms > 0:
            self._wake()  # the clock re-plans its sleep around the new order's due time
        codes = self.faults.take_inject()
        peer = self.peers.get(client_id)
        if codes and peer is not None and record.status not in ("Inactive", "Cancelled"):
            for code in codes:
                text = INFO_TEXT.get(code, f"Informational message {code}")
                peer.send(m.error(parsed.order_id, code, text, peer.server_version))

    def cancel_order(self, peer: Peer, order_id: int) -> None:
        if self.config.read_only_api:
            peer.send(m.error(order_id, 321, READ_ONLY_TEXT, peer.server_version))
            return
        key = (peer.client_id, order_id)
        record = self.book.orders.get(key)
        if record is not None and any(s[1].order_id == order_id for s in self.book.stalled):
            self.book.stalled = [
                s for s in self.book.stalled if s[1].order_id != order_id or s[0] != peer.client_id
            ]
            record.status = "Cancelled"
            peer.send(m.order_status(self.book.view(record, None)))
            peer.send(m.error(order_id, 202, "Order Canceled - reason:", peer.server_version))
            return
        events = self.exchange.cancel(order_id, self.clock(), client_id=peer.client_id)
        self._emit(events)

    def global_cancel(self, peer: Peer | None = None) -> None:
        if self.config.read_only_api:
            if peer is not None:
                peer.send(m.error(-1, 321, READ_ONLY_TEXT, peer.server_version))
            return
        for client_id, parsed, _ in self.book.stalled:
            rec = self.book.orders[(client_id, parsed.order_id)]
            rec.status = "Cancelled"
            owner = self.peers.get(client_id)
            if owner is not None:
                owner.send(m.order_status(self.book.view(rec, None)))
        self.book.stalled = []
        self._emit(self.exchange.cancel_all(self.clock()))

    def _what_if(self, peer: Peer, parsed: ParsedOrder, inst: Instrument) -> None:
        spec = self._spec_for(peer.client_id, parsed, inst)
        if isinstance(spec, str):
            peer.send(
                m.error(
                    parsed.order_id, 201, f"Order rejected - reason: {spec}", peer.server_version
                )
            )
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

    # ------------------------------------------------------------------ events
    def _emit(self, events: Iterable[ExchangeEvent]) -> None:
        touched: set[str] = set()
        for ev in events:
            self._emit_one(ev, touched)
        for symbol in touched:
            self._broadcast_position(symbol)
        if touched:
            self._broadcast_account(touched)

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
                peer.send(m.error(ev.order_id, code, ev.reason or "", peer.server_version))
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
            peer.send(m.error(ev.order_id, 202, reason, peer.server_version))
        else:
            peer.send(m.open_order(view, peer.server_version))
            peer.send(m.order_status(view))

    def _emit_foreign(self, ev: ExchangeEvent) -> None:
        """An exchange event for an order the gateway did not place (e.g. seeded demo orders)."""
        if ev.kind == "fill":
            self._broadcast_position(ev.symbol)
            self._broadcast_account({ev.symbol})
        elif ev.kind == "error":
            self._to_client(
                ev.client_id,
                lambda p: p.send(
                    m.error(ev.order_id, ev.error_code or 201, ev.reason or "", p.server_version)
                ),
            )

    def _send_fill(self, record: GatewayOrder, ev: ExchangeEvent) -> None:
        repeats = 2 if self.faults.take_duplicate() else 1
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
        delay = self.faults.commission_delay
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

            self._later(delay, late)

    def _to_client(self, client_id: int, action: Callable[[Peer], object]) -> None:
        peer = self.peers.get(client_id)
        if peer is None:
            self.stats.dropped_messages += 1
            return
        action(peer)

    # ------------------------------------------------------------------ account and positions
    def _broadcast_position(self, symbol: str) -> None:
        subscribers = [p for p in self.peers.values() if p.subs.positions]
        if not subscribers:
            return
        msg = self.reports.position_message(symbol)
        if msg is None:
            return
        for peer in subscribers:
            peer.send(msg)

    def _broadcast_account(self, symbols: set[str]) -> None:
        for peer in list(self.peers.values()):
            for msg in self.pnl_messages(peer.subs):
                peer.send(msg)
            if peer.subs.account_updates:
                for msg in self.reports.account_update_messages(symbols):
                    peer.send(msg)
            for req_id in peer.subs.account_multi:
                for msg in self.reports.account_multi_messages(req_id):
                    peer.send(msg)

    def pnl_messages(self, subs: Subscriptions) -> list[m.Msg]:
        """pnl / pnlSingle for a peer's subscriptions (daily P&L = since the gateway started)."""
        if not subs.pnl and not subs.pnl_single:
            return []
        out: list[m.Msg] = []
        if subs.pnl:
            a = self.exchange.account()
            daily = a.unrealized_pnl + a.realized_pnl - a.commissions_paid
            for req_id in sorted(subs.pnl):
                out.append(
                    m.pnl(
                        req_id,
                        round(daily, 2),
                        round(a.unrealized_pnl, 2),
                        round(a.realized_pnl, 2),
                    )
                )
        if subs.pnl_single:
            by_con = {p.con_id: p for p in self.exchange.positions()}
            for req_id, con_id in sorted(subs.pnl_single.items()):
                pos = by_con.get(con_id)
                if pos is None:
                    out.append(m.pnl_single(req_id, 0.0, 0.0, 0.0, 0.0, 0.0))
                    continue
                out.append(
                    m.pnl_single(
                        req_id,
                        float(pos.quantity),
                        round(pos.unrealized_pnl + pos.realized_pnl, 2),
                        round(pos.unrealized_pnl, 2),
                        round(pos.realized_pnl, 2),
                        round(pos.market_value, 2),
                    )
                )
        return out

    # ------------------------------------------------------------------ market
    def _update_price(self, symbol: str, now: float) -> list[ExchangeEvent]:
        price = self.pinned.get(symbol)
        if price is None:
            price = self.prices.price(symbol, now)
        if self._last_price.get(symbol) == price:
            return []
        self._last_price[symbol] = price
        return self.exchange.set_price(symbol, price, now)

    def set_price(self, symbol: str, price: float) -> None:
        """Pin ``symbol``'s mid at ``price`` (until ``unpin``) and fill what became marketable."""
        inst = self.instrument_for(symbol)
        if inst is None:
            raise KeyError(f"unknown symbol {symbol!r}")
        self.pinned[inst.symbol] = price
        if not self.offline:  # while IB is unreachable (1100) the market reaches us after 1101/2
            self._emit(self._update_price(inst.symbol, self.clock()))

    def unpin(self, symbol: str) -> None:
        self.pinned.pop(symbol.upper(), None)

    def tick(self) -> set[str]:
        """Move prices to now and fill what is due; returns the symbols whose price moved."""
        now = self.clock()
        moved: set[str] = set()
        events: list[ExchangeEvent] = []
        if self.offline:
            return moved
        for spec in self.exchange.symbols():
            before = self._last_price.get(spec.symbol)
            events += self._update_price(spec.symbol, now)
            if self._last_price.get(spec.symbol) != before:
                moved.add(spec.symbol)
        events += self.exchange.advance(now)
        self._emit(events)
        return moved

    def history(self, symbol: str, end: float, bar_seconds: int, count: int) -> list[PriceBar]:
        """Bars from the price source, rescaled so the last close is the current mid."""
        bars = self.prices.bars(symbol, end, bar_seconds, count)
        if not bars or bars[-1].close <= 0:
            return bars
        k = self.exchange.last_price(symbol) / bars[-1].close
        return [
            PriceBar(
                b.start,
                round(b.open * k, 2),
                round(b.high * k, 2),
                round(b.low * k, 2),
                round(b.close * k, 2),
                b.volume,
            )
            for b in bars
        ]

    def quote_messages(self, req_id: int, symbol: str, first: bool) -> list[m.Msg]:
        q = self.exchange.quote(symbol)
        out = [
            m.tick_price(req_id, m.TICK_BID, round(q.bid, 4), 100.0, 0),
            m.tick_price(req_id, m.TICK_ASK, round(q.ask, 4), 100.0, 0),
            m.tick_price(req_id, m.TICK_LAST, round(q.mid, 4), 100.0, 0),
        ]
        if first:
            out.append(m.tick_price(req_id, m.TICK_CLOSE, round(q.mid, 2), 0.0, 0))
            out.append(m.tick_size(req_id, m.TICK_VOLUME, 1000.0))
        return out

    def _fill_working_orders(self, client_id: int) -> None:
        """Fault: the market moves through a departed client's working orders."""
        now = self.clock()
        h = HALF_SPREAD_BPS / 10_000
        for snap in self.exchange.open_orders(client_id):
            buy = snap.side == "BUY"
            if snap.order_type in ("LIMIT", "STOP_LIMIT") and snap.limit_price is not None:
                target = (
                    snap.limit_price / (1 + h) - 0.01 if buy else snap.limit_price / (1 - h) + 0.01
                )
                if snap.stop_price is not None:
                    target = max(target, snap.stop_price) if buy else min(target, snap.stop_price)
            elif snap.stop_price is not None:
                target = snap.stop_price + 0.01 if buy else snap.stop_price - 0.01
            else:
                continue
            self._last_price[snap.symbol] = target
            self._emit(self.exchange.set_price(snap.symbol, target, now))
        self._emit(self.exchange.advance(now))

    # ------------------------------------------------------------------ connectivity
    def broadcast_error(self, code: int, text: str) -> None:
        for peer in list(self.peers.values()):
            peer.send(m.error(-1, code, text, peer.server_version))

    def connectivity_lost(self) -> None:
        self.offline = True
        self.broadcast_error(1100, "Connectivity between IB and Trader Workstation has been lost.")

    def connectivity_restored(self, code: int = 1102) -> None:
        if code == 1101:
            text = "Connectivity between IB and Trader Workstation has been restored - data lost."
            for peer in self.peers.values():
                peer.subs.market_data.clear()
        else:
            text = (
                "Connectivity between IB and Trader Workstation has been restored - data "
                "maintained. All data farms are connected: usfarm; ushmds; secdefnj."
            )
        self.offline = False
        self.broadcast_error(code, text)
        self.tick()  # what the market did meanwhile (fills of working orders) arrives now
        held, self._held_offline = self._held_offline, []
        for client_id, parsed, inst in held:
            self.book.orders.pop((client_id, parsed.order_id), None)
            self._submit(client_id, parsed, inst)


def _run_now(_delay: float, fn: Callable[[], None]) -> None:
    fn()


def _nothing() -> None:
    return None


def _load_default_universe(registry: InstrumentRegistry) -> tuple[str, ...]:
    """Register the bundled ``data/assets.csv`` stocks (names, primary exchanges, ticks)."""
    from engine.data.assets import load_assets

    symbols = []
    for asset in load_assets():
        registry.add(
            asset.symbol,
            primary_exchange=asset.primary_exchange,
            long_name=asset.name,
            min_tick=asset.min_tick,
        )
        symbols.append(asset.symbol)
    return tuple(symbols)
