"""kill -9 in the middle of a publishing stream: every acknowledged record and commit survives."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.bus import MemoryBus
from engine.bus.journal import JournalKind, open_journal
from tests.test_engine.test_bus.conformance import bar

REPO = Path(__file__).resolve().parents[3]


def _kill_mid_stream(kind: str, directory: Path, min_durable: int) -> tuple[int, int]:
    """Run the writer, SIGKILL it once it acknowledged ``min_durable`` records; return the last
    acknowledged durable record and the last acknowledged committed offset."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.test_engine.test_bus.crash_writer", kind, str(directory)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    durable, committed = -1, 0
    deadline = time.monotonic() + 30
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            what, value = line.split()
            if what == "durable":
                durable = int(value)
            else:
                committed = int(value)
            if durable >= min_durable and committed > 0:
                break
            assert time.monotonic() < deadline, "the writer is too slow"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
    return durable, committed


@pytest.mark.integration
@pytest.mark.parametrize("min_durable", [200, 1500])
@pytest.mark.parametrize("kind", ["segments", "sqlite"])
def test_sigkill_loses_nothing_acknowledged_and_resumes_at_the_commit(
    kind: JournalKind, min_durable: int, tmp_path: Path
) -> None:
    directory = tmp_path / "bus"
    durable, committed = _kill_mid_stream(kind, directory, min_durable)

    async def check() -> None:
        bus = MemoryBus(open_journal(kind, directory))
        await bus.start()
        end = bus.end_offset("market_events")
        # every record acknowledged durable is back, with the same offsets and contents
        assert end > durable
        replayed = [r async for r in bus.replay("market_events", 0)]
        assert [r.offset for r in replayed] == list(range(end))  # no gap, no torn record
        assert [r.value.model_dump(mode="json") for r in replayed] == [
            {**bar("AAPL", i), "bar_size": None} for i in range(end)
        ]
        assert bus.metrics.replay_skipped["market_events"] == 0
        # the group resumes exactly at its committed offset (never before it)
        resumed_at = bus.committed("strategy", "market_events")
        assert committed <= resumed_at <= end
        consumer = bus.subscribe("market_events", "strategy")
        first = await consumer.poll(5, timeout=0.5)
        assert first[0].offset == resumed_at
        # the reopened journal accepts new records after the recovered ones
        res = await bus.publish("market_events", bar("AAPL", end), key="AAPL")
        assert res.offset == end
        await bus.close()
        # replay from offset 0 is the same sequence after a second reopen
        bus = MemoryBus(open_journal(kind, directory))
        await bus.start()
        again = [r async for r in bus.replay("market_events", 0)]
        assert [r.value for r in again[:end]] == [r.value for r in replayed]
        assert len(again) == end + 1
        await bus.close()

    asyncio.run(check())
