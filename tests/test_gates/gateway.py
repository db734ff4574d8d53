"""Where the stage tests trade: the simulated IB gateway in a background thread on a free loopback
port (default), or a real IB paper Gateway when ``ALGOTRADE_IB_PORT`` is set.

The environment is read when this module is imported (collection time): the suite's autouse
fixture clears ``ALGOTRADE_*`` variables before each test runs.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

REAL_HOST = os.environ.get("ALGOTRADE_IB_HOST", "127.0.0.1")
REAL_PORT = int(os.environ["ALGOTRADE_IB_PORT"]) if os.environ.get("ALGOTRADE_IB_PORT") else None
REAL_CLIENT_ID = int(os.environ.get("ALGOTRADE_IB_CLIENT_ID", "17"))


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    client_id: int
    simulated: bool


@contextmanager
def ib_endpoint(*, seed: int = 3) -> Iterator[Endpoint]:
    """A TWS-protocol endpoint for the test: a real paper gateway if configured, else ours."""
    if REAL_PORT is not None:
        yield Endpoint(REAL_HOST, REAL_PORT, REAL_CLIENT_ID, simulated=False)
        return
    from engine.broker.simgateway import GatewayConfig, SimGateway

    ready = threading.Event()
    loop = asyncio.new_event_loop()
    holder: dict[str, object] = {}

    async def serve() -> None:
        gateway = SimGateway(GatewayConfig(port=0, seed=seed, symbols=("AAPL", "MSFT")))
        await gateway.start()
        holder["gateway"] = gateway
        holder["stop"] = stop = asyncio.Event()
        ready.set()
        try:
            await stop.wait()
        finally:
            await gateway.stop()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the simulated gateway did not start within 10 s")
    gateway = holder["gateway"]
    try:
        yield Endpoint("127.0.0.1", gateway.port, 7, simulated=True)  # type: ignore[attr-defined]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)  # type: ignore[attr-defined]
        thread.join(10)
        loop.close()
