"""Subprocess for the Kafka crash test: an order-plane-like consumer that dies before a commit.

``python -m tests.test_engine.test_bus.kafka_crash_worker BOOTSTRAP PREFIX GUARD CRASH_AFTER``
consumes ``order_intents`` in group ``orders``; for each intent it asks the durable idempotency
guard, "places" a new one (prints ``placed <intent id>``), prints ``seen <offset>`` for every
record, and commits the record. After placing ``CRASH_AFTER`` intents (0 = never) it SIGKILLs
itself *before* committing that record. Without a crash it stops once idle and prints ``done``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from engine.bus import IdempotencyGuard
from engine.bus.kafka import KafkaBus, KafkaSettings


async def main(bootstrap: str, prefix: str, guard_path: Path, crash_after: int) -> None:
    settings = KafkaSettings(
        bootstrap_servers=bootstrap,
        topic_prefix=prefix,
        client_id="crash-worker",
        session_timeout_ms=1000,
        join_timeout_s=20.0,
    )
    guard = IdempotencyGuard(guard_path)
    placed = 0
    async with KafkaBus(settings) as bus:
        consumer = bus.subscribe("order_intents", "orders")
        while True:
            records = await consumer.poll(1, timeout=1.5)
            if not records:
                break
            (rec,) = records
            print(f"seen {rec.offset}", flush=True)
            intent_id = str(getattr(rec.value, "intent_id", ""))
            if guard.first_time(intent_id):
                placed += 1
                print(f"placed {intent_id}", flush=True)
                if placed == crash_after:
                    os.kill(os.getpid(), signal.SIGKILL)  # acted, not committed
            await consumer.commit_record(rec)
        await consumer.close()
    guard.close()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])))
