"""The asyncio TCP server: accepts TWS API clients and runs the market clock.

Usage (tests, tools)::

    async with SimGateway(GatewayConfig(port=0)) as gw:
        ib = IB(); await ib.connectAsync("127.0.0.1", gw.port, clientId=1)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from engine.broker.simgateway.core import GatewayConfig, GatewayCore, GatewayStats
from engine.broker.simgateway.faults import GatewayFaults
from engine.broker.simgateway.messages import TICK_ASK, TICK_BID, TICK_LAST, tick_price
from engine.broker.simgateway.pacing import HistoricalPacer
from engine.broker.simgateway.prices import PriceSource
from engine.broker.simgateway.session import ClientSession

log = logging.getLogger("algotrade.simgateway")


@dataclass(frozen=True)
class ClientStatus:
    client_id: int
    peer: str
    phase: str
    messages_in: int
    messages_out: int
    rate_last_second: int
    peak_rate: float
    market_data_lines: int


@dataclass(frozen=True)
class GatewayStatus:
    """A snapshot for status displays (the CLI renders it)."""

    host: str
    port: int
    account: str
    server_version: int
    uptime: float
    clients: tuple[ClientStatus, ...]
    stats: GatewayStats
    open_orders: int
    positions: int
    net_liquidation: float
    cash: float
    faults: tuple[str, ...]
    offline: bool


class SimGateway:
    """A simulated IB Gateway on ``config.host:config.port`` (port 0 = any free port)."""

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        faults: GatewayFaults | None = None,
        prices: PriceSource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or GatewayConfig()
        self.core = GatewayCore(self.config, clock=clock, prices=prices, faults=faults)
        self.historical_pacer = HistoricalPacer()
        self.sessions: set[ClientSession] = set()
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._port = self.config.port
        self._started = time.monotonic()
        self._wake = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    @property
    def faults(self) -> GatewayFaults:
        """The fault-injection handle (arm faults on it at any time)."""
        return self.core.faults

    @property
    def port(self) -> int:
        return self._port

    @property
    def host(self) -> str:
        return self.config.host

    async def start(self) -> SimGateway:
        loop = asyncio.get_running_loop()

        def later(delay: float, fn: Callable[[], None]) -> None:
            loop.call_later(delay, fn)

        self.core.set_scheduler(later, self._wake.set)
        self._server = await loop.create_server(
            lambda: ClientSession(self), self.config.host, self.config.port, reuse_address=True
        )
        sock = self._server.sockets[0]
        self._port = int(sock.getsockname()[1])
        self._started = time.monotonic()
        self._ticker = asyncio.create_task(self._run_clock(), name="simgateway-clock")
        log.info(
            "simulated IB gateway on %s:%s (account %s, server version %s)",
            self.config.host,
            self._port,
            self.config.account,
            self.config.server_version,
        )
        return self

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for session in list(self.sessions):
            session.close("gateway shutting down")
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> SimGateway:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def serve_forever(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set (or forever)."""
        if self._server is None:
            await self.start()
        await (stop or asyncio.Event()).wait()

    # ------------------------------------------------------------------ clock
    async def _run_clock(self) -> None:
        interval = self.config.tick_interval
        next_blip = (
            time.monotonic() + self.faults.blip_every if self.faults.blip_every > 0 else None
        )
        while True:
            try:
                moved = self.core.tick()
                if moved:
                    self._stream(moved)
                if next_blip is not None and time.monotonic() >= next_blip:
                    task = asyncio.create_task(
                        self.connectivity_blip(
                            self.faults.blip_seconds, self.faults.blip_restore_code
                        )
                    )
                    self._background.add(task)
                    task.add_done_callback(self._background.discard)
                    next_blip = time.monotonic() + self.faults.blip_every
            except Exception:  # a bug in one tick must not kill the gateway
                log.exception("gateway clock tick failed")
            delay = interval
            due = self.core.exchange.next_due()
            if due is not None:
                delay = min(delay, max(0.0, due - self.core.clock()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.001))

    def _stream(self, symbols: set[str]) -> None:
        for session in list(self.sessions):
            for req_id, symbol in list(session.subs.market_data.items()):
                if symbol in symbols:
                    q = self.core.exchange.quote(symbol)
                    session.send(tick_price(req_id, TICK_BID, round(q.bid, 4), 100.0, 0))
                    session.send(tick_price(req_id, TICK_ASK, round(q.ask, 4), 100.0, 0))
                    session.send(tick_price(req_id, TICK_LAST, round(q.mid, 4), 100.0, 0))

    # ------------------------------------------------------------------ handles for tests/tools
    def set_price(self, symbol: str, price: float) -> None:
        """Pin a symbol's mid price; working orders that became marketable fill now."""
        self.core.set_price(symbol, price)
        self._stream({symbol.upper()})

    def unpin(self, symbol: str) -> None:
        self.core.unpin(symbol)

    def release_stalled(self) -> int:
        """Acknowledge and work orders held by the ``stall_acks`` fault."""
        return self.core.release_stalled()

    async def connectivity_blip(self, seconds: float, restore_code: int = 1102) -> None:
        """Send 1100 to every client, wait, then 1101 (data lost) or 1102 (maintained)."""
        if restore_code not in (1101, 1102):
            raise ValueError(f"restore_code must be 1101 or 1102, got {restore_code}")
        self.core.connectivity_lost()
        await asyncio.sleep(seconds)
        self.core.connectivity_restored(restore_code)

    def drop_client(self, client_id: int) -> bool:
        """Close one client's socket as a network failure would; False if not connected."""
        for session in list(self.sessions):
            if session.client_id == client_id and session.phase == "ready":
                session.close("dropped on request")
                return True
        return False

    def status(self) -> GatewayStatus:
        acct = self.core.exchange.account()
        clients = tuple(
            ClientStatus(
                client_id=s.client_id,
                peer=s.peer,
                phase=s.phase,
                messages_in=s.messages_in,
                messages_out=s.messages_out,
                rate_last_second=s.pacer.rate_last_second,
                peak_rate=s.pacer.peak_rate,
                market_data_lines=len(s.subs.market_data),
            )
            for s in sorted(self.sessions, key=lambda s: s.client_id)
        )
        return GatewayStatus(
            host=self.config.host,
            port=self._port,
            account=self.config.account,
            server_version=self.config.server_version,
            uptime=time.monotonic() - self._started,
            clients=clients,
            stats=self.core.stats,
            open_orders=len(self.core.exchange.open_orders()) + len(self.core.book.stalled),
            positions=len(self.core.exchange.positions()),
            net_liquidation=acct.net_liquidation,
            cash=acct.cash,
            faults=tuple(self.faults.active()),
            offline=self.core.offline,
        )
