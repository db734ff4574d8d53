"""The gateway's market clock and account feed.

:class:`MarketClock` moves prices (the price source, or a pinned price) into the exchange, fills
what became due, and serves quotes and history; :class:`AccountFeed` tells subscribed clients
about positions, account values and P&L after fills.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.broker.sim_exchange import ExchangeEvent, SimExchange, SymbolSpec
from engine.broker.simgateway import messages as m
from engine.broker.simgateway.config import HALF_SPREAD_BPS
from engine.broker.simgateway.instruments import Instrument
from engine.broker.simgateway.peers import Peer, Subscriptions
from engine.broker.simgateway.prices import PriceBar
from engine.broker.simgateway.reports import AccountReports

if TYPE_CHECKING:
    from engine.broker.simgateway.core import GatewayCore


class MarketClock:
    """Prices into the exchange: the price source by default, a pinned price when set.

    Nothing moves while IB is unreachable (1100): the market reaches the clients after 1101/2.
    """

    def __init__(self, core: GatewayCore) -> None:
        self.core = core
        self.exchange: SimExchange = core.exchange
        self.pinned: dict[str, float] = {}
        self.last_price: dict[str, float] = {}

    def ensure_listed(self, inst: Instrument, now: float) -> None:
        """Admit ``inst`` to the exchange at the price source's price (once)."""
        if not self.exchange.has_symbol(inst.symbol):
            price = self.core.prices.price(inst.symbol, now)
            self.exchange.add_symbol(
                SymbolSpec(inst.symbol, price, half_spread_bps=HALF_SPREAD_BPS, con_id=inst.con_id)
            )
            self.last_price[inst.symbol] = price

    def update_price(self, symbol: str, now: float) -> list[ExchangeEvent]:
        price = self.pinned.get(symbol)
        if price is None:
            price = self.core.prices.price(symbol, now)
        if self.last_price.get(symbol) == price:
            return []
        self.last_price[symbol] = price
        return self.exchange.set_price(symbol, price, now)

    def set_price(self, symbol: str, price: float) -> None:
        """Pin ``symbol``'s mid at ``price`` (until ``unpin``) and fill what became marketable."""
        inst = self.core.instrument_for(symbol)
        if inst is None:
            raise KeyError(f"unknown symbol {symbol!r}")
        self.pinned[inst.symbol] = price
        if (
            not self.core.offline
        ):  # while IB is unreachable (1100) the market reaches us after 1101/2
            self.core.orders.emit(self.update_price(inst.symbol, self.core.clock()))

    def unpin(self, symbol: str) -> None:
        self.pinned.pop(symbol.upper(), None)

    def tick(self) -> set[str]:
        """Move prices to now and fill what is due; returns the symbols whose price moved."""
        now = self.core.clock()
        moved: set[str] = set()
        events: list[ExchangeEvent] = []
        if self.core.offline:
            return moved
        for spec in self.exchange.symbols():
            before = self.last_price.get(spec.symbol)
            events += self.update_price(spec.symbol, now)
            if self.last_price.get(spec.symbol) != before:
                moved.add(spec.symbol)
        events += self.exchange.advance(now)
        self.core.orders.emit(events)
        return moved

    def history(self, symbol: str, end: float, bar_seconds: int, count: int) -> list[PriceBar]:
        """Bars from the price source, rescaled so the last close is the current mid."""
        bars = self.core.prices.bars(symbol, end, bar_seconds, count)
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

    def fill_working_orders(self, client_id: int) -> None:
        """Fault: the market moves through a departed client's working orders."""
        now = self.core.clock()
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
            self.last_price[snap.symbol] = target
            self.core.orders.emit(self.exchange.set_price(snap.symbol, target, now))
        self.core.orders.emit(self.exchange.advance(now))


class AccountFeed:
    """Positions, account values and P&L for the clients that subscribed to them."""

    def __init__(
        self, exchange: SimExchange, reports: AccountReports, peers: dict[int, Peer]
    ) -> None:
        self.exchange = exchange
        self.reports = reports
        self.peers = peers

    def broadcast_position(self, symbol: str) -> None:
        subscribers = [p for p in self.peers.values() if p.subs.positions]
        if not subscribers:
            return
        msg = self.reports.position_message(symbol)
        if msg is None:
            return
        for peer in subscribers:
            peer.send(msg)

    def broadcast_account(self, symbols: set[str]) -> None:
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
