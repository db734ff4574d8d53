"""IBBroker (real ib_async over a real socket) passes the conformance suite against our simulated
IB gateway: the same exchange core as SimulatedBroker, spoken to through the TWS API protocol."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from engine.broker.clock import SystemClock
from engine.broker.ib import IBBroker
from engine.broker.pacing import PacingLimiter
from engine.broker.simgateway.core import GatewayConfig
from engine.broker.simgateway.server import SimGateway
from tests.test_engine.test_broker.conformance import BrokerConformance, BrokerHarness

pytestmark = [pytest.mark.broker, pytest.mark.integration, pytest.mark.slow]

_client_ids = itertools.count(11)


class TestIBBrokerOnSimGateway(BrokerConformance):
    def harness(self):  # type: ignore[no-untyped-def]
        @asynccontextmanager
        async def make() -> AsyncIterator[BrokerHarness]:
            config = GatewayConfig(
                port=0, seed=5, symbols=("AAA", "THIN"), admit_unknown_symbols=False,
                tick_interval=0.05, farm_status=True,
            )  # fmt: skip
            gateway = SimGateway(config)
            for symbol in ("AAA", "THIN"):  # a closed universe, so NOPE is unknown (error 200)
                gateway.core.registry.add(symbol)
            await gateway.start()
            gateway.set_price("AAA", 100.0)
            gateway.set_price("THIN", 50.0)
            client_id = next(_client_ids)
            clock = SystemClock()
            broker = IBBroker(
                host="127.0.0.1", port=gateway.port, client_id=client_id, readonly=False,
                timeout=5.0, pacer=PacingLimiter(45.0, clock=clock), clock=clock,
                auto_reconnect=False,
            )  # fmt: skip
            await broker.connect()

            async def set_price(symbol: str, price: float) -> None:
                gateway.set_price(symbol, price)
                await asyncio.sleep(0.05)

            async def drop() -> None:
                assert gateway.drop_client(client_id)
                for _ in range(100):
                    if not broker.ib.isConnected():
                        break
                    await asyncio.sleep(0.01)

            async def settle() -> None:
                await asyncio.sleep(0.02)

            try:
                yield BrokerHarness(
                    broker=broker,
                    clock=clock,
                    set_price=set_price,
                    drop_connection=drop,
                    pacing_violations=lambda: (
                        gateway.core.stats.pacing_errors + broker.pacing_violations.count
                    ),
                    settle=settle,
                    thin_order=6_000,  # the gateway shows 10,000 at the touch; 25 % a slice
                    burst=90,  # two seconds of paced traffic in real time
                    timeout=8.0,
                )
            finally:
                await broker.close()
                await gateway.stop()

        return make()
