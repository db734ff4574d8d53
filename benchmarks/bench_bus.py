"""Bus throughput: journal-backed publish+consume against the in-memory bus, in one run.

``python -m benchmarks.bench_bus`` publishes 1,000,000 small market events (``--quick``: 100,000)
through the embedded bus — validated on publish and again on consume, as in a session — while a
consumer group polls and commits every batch; the clock stops when the last record is consumed and
the journal has been fsync'd. Baseline: the same with ``journal="none"``. Prints a plain table and
writes ``benchmarks/results/bus.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from engine.bus.journal import JournalKind, SyncMode, open_journal
from engine.bus.memory import MemoryBus

RESULTS = Path(__file__).resolve().parent / "results" / "bus.json"
SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA", "JPM", "XOM", "UNH")
BATCH = 1000
TARGET_RATIO = 3.0


def make_messages(n: int) -> list[tuple[str, bytes]]:
    """``n`` distinct, valid bar events as raw JSON (≈150 bytes each), keyed by symbol."""
    out = []
    for i in range(n):
        sym = SYMBOLS[i % len(SYMBOLS)]
        minute = i // len(SYMBOLS)
        px = 100.0 + (i % 997) * 0.01
        ts = f"2025-01-{2 + (minute // 1440) % 27:02d}T{(minute // 60) % 24:02d}:{minute % 60:02d}:00Z"
        raw = (
            f'{{"event_type":"bar_event","symbol":"{sym}","timestamp":"{ts}",'
            f'"open":{px:.2f},"high":{px + 0.5:.2f},"low":{px - 0.5:.2f},"close":{px + 0.1:.2f},'
            f'"volume":{1000 + i % 5000}}}'
        ).encode()
        out.append((sym, raw))
    return out


async def _run(
    messages: Sequence[tuple[str, bytes]], kind: JournalKind, sync: SyncMode, directory: Path
) -> dict[str, float | int | str]:
    journal = open_journal(kind, directory, sync=sync)
    fixed = datetime(2025, 1, 2, tzinfo=UTC)
    bus = MemoryBus(journal, clock=lambda: fixed, flush_max_messages=BATCH)
    await bus.start()
    consumer = bus.subscribe("market_events", "bench")
    n = len(messages)
    consumed = 0

    async def produce() -> None:
        publish = bus.publish_nowait
        for start in range(0, n, BATCH):
            for key, raw in messages[start : start + BATCH]:
                publish("market_events", raw, key=key)
            await asyncio.sleep(0)

    async def consume() -> None:
        nonlocal consumed
        while consumed < n:
            got = await consumer.poll(BATCH, timeout=1.0)
            consumed += len(got)
            await consumer.commit()

    t0 = time.perf_counter()
    await asyncio.gather(produce(), consume())
    await bus.flush()
    elapsed = time.perf_counter() - t0
    dlq = bus.end_offset("dlq_market_events")
    await bus.close()
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    if consumed != n or dlq:
        raise RuntimeError(f"bench lost messages: consumed {consumed} of {n}, {dlq} in the DLQ")
    return {
        "journal": kind if kind == "none" else f"{kind}/{sync}",
        "messages": n,
        "seconds": round(elapsed, 3),
        "msgs_per_s": round(n / elapsed),
        "journal_bytes": size,
    }


def run(
    n: int, configs: Sequence[tuple[JournalKind, SyncMode]]
) -> list[dict[str, float | int | str]]:
    """Run each configuration on the same ``n`` messages; the first must be the baseline."""
    messages = make_messages(n)
    rows = []
    for kind, sync in configs:
        directory = Path(tempfile.mkdtemp(prefix="bench-bus-", dir=Path.cwd()))
        try:
            gc.collect()
            rows.append(asyncio.run(_run(messages, kind, sync, directory)))
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    base = min(float(r["seconds"]) for r in rows if r["journal"] == "none")
    for row in rows:
        row["cost_vs_memory"] = round(float(row["seconds"]) / base, 2)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_bus", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="100,000 messages instead of 1,000,000"
    )
    parser.add_argument("-n", type=int, default=None, help="number of messages (overrides --quick)")
    args = parser.parse_args(argv)
    n = args.n or (100_000 if args.quick else 1_000_000)
    configs: list[tuple[JournalKind, SyncMode]] = [
        ("none", "normal"),
        ("segments", "normal"),
        ("segments", "full"),
        ("sqlite", "normal"),
        ("sqlite", "full"),
        ("none", "normal"),
    ]
    rows = run(n, configs)
    print(f"bus publish+consume, {n:,} bar events, validated on publish and on consume")
    print(f"{'journal':<18}{'seconds':>10}{'msgs/s':>12}{'x memory':>10}{'MB on disk':>12}")
    for row in rows:
        print(
            f"{row['journal']!s:<18}{row['seconds']:>10}{row['msgs_per_s']:>12,}"
            f"{row['cost_vs_memory']:>10}{int(row['journal_bytes']) / 1e6:>12.1f}"
        )
    worst = max(float(r["cost_vs_memory"]) for r in rows if r["journal"] != "none")
    verdict = "PASS" if worst <= TARGET_RATIO else "FAIL"
    print(f"target: every journal costs <= {TARGET_RATIO}x the in-memory path -> {verdict}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "bus",
                "messages": n,
                "baseline": "none",
                "target_ratio": TARGET_RATIO,
                "verdict": verdict,
                "rows": rows,
                "python": sys.version.split()[0],
                "machine": platform.platform(),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
