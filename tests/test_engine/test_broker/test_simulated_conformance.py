"""SimulatedBroker passes the broker conformance suite (virtual clock: fast and deterministic)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from engine.broker.clock import VirtualClock
from engine.broker.pacing import PacingLimiter
from engine.broker.sim_exchange import ExchangeConfig, SimExchange, SymbolSpec
from engine.broker.simulated import SimulatedBroker
from tests.test_engine.test_broker.conformance import BrokerConformance, BrokerHarness

pytestmark = [pytest.mark.broker, pytest.mark.integration]


def sim_market() -> SimExchange:
    config = ExchangeConfig(seed=11, latency=0.05, participation=0.25, slice_interval=0.1)
    return SimExchange(
        config,
        [
            SymbolSpec("AAA", 100.0, half_spread_bps=2.0, touch_size=10_000),
            SymbolSpec("THIN", 50.0, half_spread_bps=5.0, touch_size=400),  # 100 shares a slice
        ],
    )


class TestSimulatedBrokerConformance(BrokerConformance):
    def harness(self):  # type: ignore[no-untyped-def]
        @asynccontextmanager
        async def make() -> AsyncIterator[BrokerHarness]:
            clock = VirtualClock()
            broker = SimulatedBroker(
                sim_market(), clock=clock, pacer=PacingLimiter(45.0, clock=clock), client_id=7
            )
            await broker.connect()

            async def set_price(symbol: str, price: float) -> None:
                await broker.set_price(symbol, price)

            async def drop() -> None:
                broker.drop_connection("test fault")

            async def settle() -> None:
                clock.advance(0.1)
                await broker.settle()

            try:
                yield BrokerHarness(
                    broker=broker,
                    clock=clock,
                    set_price=set_price,
                    drop_connection=drop,
                    pacing_violations=lambda: broker.pacing_violations.count,
                    settle=settle,
                )
            finally:
                await broker.close()

        return make()
