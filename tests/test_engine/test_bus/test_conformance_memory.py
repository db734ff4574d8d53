"""The embedded bus passes the conformance suite with every journal (and with none)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bus import Bus, MemoryBus
from engine.bus.journal import JournalKind, open_journal
from tests.test_engine.test_bus.conformance import BusConformance, BusHarness


class MemoryHarness(BusHarness):
    """The embedded bus on a journal directory; ``journal="none"`` keeps one bus across restarts."""

    def __init__(self, directory: Path, journal: JournalKind, partitions: int) -> None:
        self.directory = directory
        self.journal: JournalKind = journal
        self.partitions = partitions
        self.survives_restart = journal != "none"
        self.name = f"memory-{journal}-p{partitions}"

    async def open(self) -> Bus:
        bus = MemoryBus(open_journal(self.journal, self.directory), partitions=self.partitions)
        await bus.start()
        return bus

    async def restart(self, bus: Bus) -> Bus:
        if self.journal == "none":
            return bus  # a new consumer on the same live bus is the only "restart" there is
        await bus.close()
        return await self.open()

    async def inject_raw(self, bus: Bus, topic: str, raw: bytes, key: str | None) -> None:
        assert isinstance(bus, MemoryBus)
        bus._append(topic, raw, key, ())


@pytest.mark.integration
class TestMemoryBusConformance(BusConformance):
    @pytest.fixture(
        params=[("none", 1), ("sqlite", 1), ("segments", 1), ("segments", 3), ("sqlite", 4)],
        ids=lambda p: f"{p[0]}-p{p[1]}",
    )
    def harness(self, request: pytest.FixtureRequest, tmp_path: Path) -> BusHarness:
        journal, partitions = request.param
        return MemoryHarness(tmp_path / "bus", journal, partitions)
