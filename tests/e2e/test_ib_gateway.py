"""The same session with ``--broker ib``: IBBroker (real ib_async, real socket) against the
simulated IB gateway — orders, acknowledgements and fills over the TWS protocol."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.broker.factory import make_broker, resolve_target
from engine.config import AppConfig
from engine.planes.session import run_paper_session
from tests.e2e.conftest import small_config, small_params

pytestmark = [pytest.mark.e2e, pytest.mark.broker]


@pytest.fixture
def cfg(tmp_path: Path) -> AppConfig:
    # the gateway's account is Reg-T (2× buying power): keep the book's gross under it
    return small_config(tmp_path, **{"portfolio.gross_lim": 1.0, "portfolio.net_lim": 0.5})


@pytest.fixture
def gateway_port(cfg: AppConfig) -> Iterator[int]:
    """The simulated gateway pricing from the same synthetic market as the session's data plane
    (its live prices walk from the last daily close: the session day's close)."""
    import time

    from engine.broker.simgateway import GatewayConfig, SimGateway
    from engine.broker.simgateway.prices import SyntheticPriceSource
    from engine.data.synthetic import SyntheticMarket

    ready = threading.Event()
    loop = asyncio.new_event_loop()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        prices = SyntheticPriceSource(
            seed=cfg.market.seed, origin=time.time(), market=SyntheticMarket(cfg.market)
        )
        gateway = SimGateway(GatewayConfig(port=0, seed=cfg.market.seed), prices=prices)
        await gateway.start()
        holder["port"], holder["stop"] = gateway.port, asyncio.Event()
        ready.set()
        try:
            await holder["stop"].wait()
        finally:
            await gateway.stop()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    assert ready.wait(10), "the simulated gateway did not start"
    try:
        yield int(holder["port"])
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(10)
        loop.close()


def test_session_over_the_tws_protocol(cfg: AppConfig, tmp_path: Path, gateway_port: int) -> None:
    target = resolve_target(cfg.broker, kind="ib", port=gateway_port, client_id=11, readonly=False)

    def factory(_prices: Any, _session_dir: Path) -> Any:
        return make_broker(target, cfg.pacing)

    result = run_paper_session(
        cfg, out_dir=tmp_path / "out", broker_factory=factory, broker_kind="ib",
        host="127.0.0.1", port=gateway_port, speed=3000.0, duration_hours=0.25,
        params=small_params(),
    )  # fmt: skip
    assert result.status == "completed", result.message
    assert result.trading_mode == "paper"
    assert result.trades > 0 and result.pacing_violations == 0
    assert result.fill_rate is not None and result.fill_rate > 0.98
    assert all(o.fills for o in result.submitted if o.status == "FILLED")
    lat = result.latency()
    assert lat is not None and lat.p50_ms > 0
