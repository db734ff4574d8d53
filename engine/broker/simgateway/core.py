"""The gateway's state and behaviour, free of sockets: orders, fills, account, market data.

``GatewayCore`` wraps the shared :class:`~engine.broker.sim_exchange.SimExchange` (the one fill
model) and turns its events into TWS messages for connected peers. Everything here is
synchronous; the asyncio server (``server.py``) feeds it bytes and time. The work is split by
concern, and the core is the one object sessions and the server talk to:

* :mod:`~engine.broker.simgateway.order_flow` — orders in (with the armed faults), order
  messages out;
* :mod:`~engine.broker.simgateway.market` — the market clock (prices, fills falling due, quotes,
  history) and the account feed (positions, account values, P&L);
* here — instruments, clients attaching and leaving, and IB's connectivity events (1100 lost,
  1101/1102 restored).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from engine.broker.sim_exchange import ExchangeConfig, SimExchange
from engine.broker.simgateway import messages as m
from engine.broker.simgateway.book import OrderBook
from engine.broker.simgateway.config import GatewayConfig
from engine.broker.simgateway.faults import GatewayFaults
from engine.broker.simgateway.instruments import ContractSpec, Instrument, InstrumentRegistry
from engine.broker.simgateway.market import AccountFeed, MarketClock
from engine.broker.simgateway.order_flow import OrderFlow
from engine.broker.simgateway.peers import GatewayStats, Peer, Subscriptions
from engine.broker.simgateway.prices import (
    PriceBar,
    PriceSource,
    RandomWalkPriceSource,
    SyntheticPriceSource,
)
from engine.broker.simgateway.reports import AccountReports

__all__ = ["GatewayConfig", "GatewayCore", "GatewayStats", "Peer", "Subscriptions"]

log = logging.getLogger("algotrade.simgateway")


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
        self.market = MarketClock(self)
        self.pinned = self.market.pinned
        for sym in symbols:
            self.instrument_for(sym, start)
        self.reports = AccountReports(self.exchange, self.registry, config.account, clock)
        self.peers: dict[int, Peer] = {}
        self.account = AccountFeed(self.exchange, self.reports, self.peers)
        self.book = OrderBook(self.exchange, self.registry, config.account)
        self.orders = OrderFlow(self)
        self.offline = False

    # ------------------------------------------------------------------ wiring
    def set_scheduler(
        self,
        later: Callable[[float, Callable[[], None]], None],
        wake: Callable[[], None] | None = None,
    ) -> None:
        """How to run something after a delay (the server passes ``loop.call_later``), and how
        to wake the market clock when an order's fill becomes due before its next tick."""
        self.orders.later = later
        self.orders.wake = wake or _nothing

    def instrument_for(self, symbol: str, now: float | None = None) -> Instrument | None:
        inst = self.registry.resolve(ContractSpec(symbol=symbol, sec_type="STK"))
        if inst is not None:
            self.market.ensure_listed(inst, self.clock() if now is None else now)
        return inst

    def resolve(self, contract: ContractSpec) -> Instrument | None:
        """The instrument a client contract names (admitted to the exchange), or None."""
        inst = self.registry.resolve(contract)
        if inst is not None:
            self.market.ensure_listed(inst, self.clock())
        return inst

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
                self.market.fill_working_orders(peer.client_id)

    def next_order_id(self) -> int:
        return self.book.next_order_id()

    # ------------------------------------------------------------------ orders (order_flow.py)
    def place_order(self, peer: Peer, fields: Sequence[str]) -> None:
        """Handle placeOrder (3) from ``peer``: parse, apply faults, route to the exchange."""
        self.orders.place_order(peer, fields)

    def release_stalled(self) -> int:
        """Let stalled orders through to the exchange; returns how many were released."""
        return self.orders.release_stalled()

    def cancel_order(self, peer: Peer, order_id: int) -> None:
        self.orders.cancel_order(peer, order_id)

    def global_cancel(self, peer: Peer | None = None) -> None:
        self.orders.global_cancel(peer)

    # ------------------------------------------------------------------ market (market.py)
    def set_price(self, symbol: str, price: float) -> None:
        """Pin ``symbol``'s mid at ``price`` (until ``unpin``) and fill what became marketable."""
        self.market.set_price(symbol, price)

    def unpin(self, symbol: str) -> None:
        self.market.unpin(symbol)

    def tick(self) -> set[str]:
        """Move prices to now and fill what is due; returns the symbols whose price moved."""
        return self.market.tick()

    def history(self, symbol: str, end: float, bar_seconds: int, count: int) -> list[PriceBar]:
        """Bars from the price source, rescaled so the last close is the current mid."""
        return self.market.history(symbol, end, bar_seconds, count)

    def quote_messages(self, req_id: int, symbol: str, first: bool) -> list[m.Msg]:
        return self.market.quote_messages(req_id, symbol, first)

    def pnl_messages(self, subs: Subscriptions) -> list[m.Msg]:
        """pnl / pnlSingle for a peer's subscriptions (daily P&L = since the gateway started)."""
        return self.account.pnl_messages(subs)

    # ------------------------------------------------------------------ connectivity
    def broadcast_error(self, code: int, text: str) -> None:
        for peer in list(self.peers.values()):
            peer.send_error(-1, code, text)

    def connectivity_lost(self) -> None:
        """1100: the market stops reaching the clients; orders placed now are held."""
        self.offline = True
        self.broadcast_error(1100, "Connectivity between IB and Trader Workstation has been lost.")

    def connectivity_restored(self, code: int = 1102) -> None:
        """1101 (market data subscriptions lost) or 1102; then what happened meanwhile."""
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
        self.orders.submit_held()


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
