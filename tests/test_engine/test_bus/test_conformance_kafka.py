"""The Kafka backend passes the same bus conformance suite as the embedded bus, on a real
Kafka-protocol broker (Tansu on loopback, started by ``tests/support/kafka_broker.py``)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from engine.bus import Bus
from engine.bus.kafka import KafkaBus, KafkaSettings
from tests.support.kafka_broker import TansuBroker, kafka_broker  # noqa: F401 (fixture)
from tests.test_engine.test_bus.conformance import BusConformance, BusHarness

SESSION_TIMEOUT_MS = 1000
"""Tansu holds a group join for about half of session.timeout.ms: keep it short in tests."""


def kafka_settings(broker: TansuBroker, prefix: str, partitions: int = 1) -> KafkaSettings:
    """Settings for a bus on the test broker, isolated by its own topic prefix."""
    return KafkaSettings(
        bootstrap_servers=broker.bootstrap,
        topic_prefix=prefix,
        partitions=partitions,
        client_id="algotrade-test",
        session_timeout_ms=SESSION_TIMEOUT_MS,
        join_timeout_s=20.0,
        replay_idle_s=0.3,
        request_timeout_s=10.0,
    )


class KafkaHarness(BusHarness):
    """A Kafka bus on fresh topics; a restart is a new bus (new clients) on the same topics."""

    def __init__(self, broker: TansuBroker, partitions: int) -> None:
        self.settings = kafka_settings(broker, f"t{uuid.uuid4().hex[:10]}.", partitions)
        self.partitions = partitions
        self.name = f"kafka-p{partitions}"

    async def open(self) -> Bus:
        bus = KafkaBus(self.settings)
        await bus.start()
        return bus

    async def restart(self, bus: Bus) -> Bus:
        await bus.close()
        return await self.open()

    async def inject_raw(self, bus: Bus, topic: str, raw: bytes, key: str | None) -> None:
        assert isinstance(bus, KafkaBus)
        fut: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()
        bus._produce(topic, raw, key, (), fut)  # straight to the broker, no validation
        await fut


@pytest.mark.kafka
@pytest.mark.integration
class TestKafkaBusConformance(BusConformance):
    @pytest.fixture(params=[1, 3], ids=lambda p: f"p{p}")
    def harness(self, request: pytest.FixtureRequest, kafka_broker: TansuBroker) -> BusHarness:  # noqa: F811
        return KafkaHarness(kafka_broker, request.param)
