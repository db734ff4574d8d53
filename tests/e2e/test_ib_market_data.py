"""``--broker ib`` takes its market data from the broker: the data plane's bars are the
simulated gateway's streaming quotes (reqMktData over the TWS protocol) aggregated on the session
clock, not the synthetic market; a symbol the gateway stops quoting goes stale and is not traded."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.topics import MARKET_EVENTS
from engine.broker.factory import make_broker, resolve_target
from engine.config import AppConfig
from engine.planes.session import run_paper_session
from tests.e2e.conftest import small_config, small_params

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


class RecordingPrices:
    """A gateway price source that moves on every tick (a ±0.5 % wave around each symbol's last
    synthetic close) and records every price it quoted; ``frozen`` never moves, so after the
    subscription's first quote the gateway sends no more ticks for it."""

    def __init__(self, starts: dict[str, float], frozen: str) -> None:
        self.starts = starts
        self.frozen = frozen
        self.quoted: dict[str, set[float]] = {s: set() for s in starts}
        self.calls = 0
        self.lock = threading.Lock()

    def price(self, symbol: str, t: float) -> float:
        base = self.starts.get(symbol, 100.0)
        with self.lock:
            self.calls += 1
            if symbol == self.frozen:
                px = round(base, 2)
            else:
                px = round(base * (1 + 0.005 * math.sin(self.calls * 0.37)), 2)
            self.quoted.setdefault(symbol, set()).add(px)
        return px

    def bars(self, symbol: str, end: float, bar_seconds: int, count: int) -> list[Any]:
        return []


def _journal(out: Path, topic: str) -> list[Any]:
    from engine.bus import open_bus
    from engine.config import BusConfig

    async def read() -> list[Any]:
        bus = open_bus(BusConfig(), out / "session")
        await bus.start()
        values = [r.value async for r in bus.replay(topic, 0)]
        await bus.close()
        return values

    return asyncio.run(read())


@pytest.fixture
def cfg(tmp_path: Path) -> AppConfig:
    return small_config(tmp_path, **{"portfolio.gross_lim": 1.0, "portfolio.net_lim": 0.5})


@pytest.fixture
def gateway(cfg: AppConfig) -> Iterator[tuple[int, RecordingPrices]]:
    from engine.broker.simgateway import GatewayConfig, SimGateway
    from engine.data.synthetic import SyntheticMarket

    panel = SyntheticMarket(cfg.market).daily_panel()
    closes = panel.fields["close"][-1]
    starts = {s: float(closes[j]) for j, s in enumerate(panel.symbols)}
    prices = RecordingPrices(starts, frozen=panel.symbols[0])
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        gw = SimGateway(
            GatewayConfig(port=0, seed=cfg.market.seed, tick_interval=0.01), prices=prices
        )
        await gw.start()
        holder["port"], holder["stop"] = gw.port, asyncio.Event()
        ready.set()
        try:
            await holder["stop"].wait()
        finally:
            await gw.stop()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    assert ready.wait(10), "the simulated gateway did not start"
    try:
        yield int(holder["port"]), prices
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
        loop.close()


def test_bars_come_from_the_gateways_quotes(
    cfg: AppConfig, tmp_path: Path, gateway: tuple[int, RecordingPrices]
) -> None:
    port, prices = gateway
    target = resolve_target(cfg.broker, kind="ib", port=port, client_id=12, readonly=False)

    def factory(_prices: Any, _session_dir: Path) -> Any:
        return make_broker(target, cfg.pacing)

    out = tmp_path / "out"
    result = run_paper_session(
        cfg, out_dir=out, broker_factory=factory, broker_kind="ib",
        host="127.0.0.1", port=port, speed=300.0, duration_hours=0.25,
        params=small_params(),
    )  # fmt: skip
    assert result.status == "completed", result.message
    bars = [v for v in _journal(out, MARKET_EVENTS) if v.event_type == "bar_event"]
    assert bars, "no bar was published"
    # every bar's prices are prices the gateway quoted (the synthetic day's bars are not)
    for bar in bars:
        quoted = prices.quoted[bar.symbol]
        for px in (bar.open, bar.high, bar.low, bar.close):
            assert round(px, 2) in quoted, (bar.symbol, px)
    live = {b.symbol for b in bars}
    assert len(live) == len(result.symbols)
    # the frozen symbol was quoted once (the subscription) and then went stale: few bars, no trade
    frozen = prices.frozen
    n_frozen = sum(1 for b in bars if b.symbol == frozen)
    n_other = max(sum(1 for b in bars if b.symbol == s) for s in live)
    assert n_frozen <= 2 < n_other
    assert result.trades > 0
    # the data plane flagged it stale; no order for it was sent after that
    import json
    from datetime import datetime

    log = (out / "logs" / "data_plane.log").read_text(encoding="utf-8").splitlines()
    stale_at = [
        datetime.fromisoformat(e["ts"])
        for e in map(json.loads, log)
        if e["event"] == "stale_symbols" and frozen in e["stale"]
    ]
    assert stale_at, f"{frozen} never went stale"
    late = [
        o for o in result.orders
        if o.intent.symbol == frozen and o.submitted_at is not None
        and o.submitted_at > stale_at[0]
    ]  # fmt: skip
    assert not late
