"""Subprocess for the crash tests: publish and commit forever, report what is acknowledged.

``python -m tests.test_engine.test_bus.crash_writer KIND DIR`` prints ``durable N`` after each
``flush()`` (records 0..N are fsync'd) and ``committed N`` after each consumer commit returns, until
the parent kills it with SIGKILL.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from engine.bus import MemoryBus
from engine.bus.journal import JournalKind, open_journal
from tests.test_engine.test_bus.conformance import bar

FIXED = datetime(2025, 3, 3, tzinfo=UTC)


async def main(kind: JournalKind, directory: Path) -> None:
    bus = MemoryBus(
        open_journal(kind, directory),
        clock=lambda: FIXED,
        flush_interval=0.002,
        flush_max_messages=64,
    )
    await bus.start()
    consumer = bus.subscribe("market_events", "strategy")
    i = 0
    while True:
        await bus.publish("market_events", bar("AAPL", i), key="AAPL")
        if i % 37 == 36:
            await bus.flush()
            print(f"durable {i}", flush=True)
        if i % 101 == 100:
            got = await consumer.poll(60, timeout=0)
            if got:
                await consumer.commit({0: got[-1].next_offset})
                print(f"committed {got[-1].next_offset}", flush=True)
        if i % 10 == 0:
            await asyncio.sleep(0)
        i += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))  # type: ignore[arg-type]
