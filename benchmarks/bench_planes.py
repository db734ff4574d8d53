"""Intent → execution report through the full order plane, with the simulated broker.

``python -m benchmarks.bench_planes`` publishes 10,000 market-order intents (``--quick``: 1,000)
one at a time on the embedded bus; the order plane consumes each, runs the pre-trade checks,
places it with the :class:`~engine.broker.simulated.SimulatedBroker` (zero exchange latency, so
a market order fills inside ``place``), and publishes the ExecutionReports; the clock stops when
a consumer of ``execution_reports`` receives the FILLED report. Pacing is disabled here (45
messages/second would make the run take minutes and measure only the limiter); the session itself
always paces.

Configurations: the bus with the durable segment journal (as a session runs: the order plane
fsyncs before acting on a final report) and with no journal. Baseline in the same run: the
broker alone — ``broker.place`` → FILLED event — without bus or order plane. Prints a plain table
and writes ``benchmarks/results/planes.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from contracts.messages import ExecutionReport, OrderIntent
from contracts.topics import EXECUTION_REPORTS, ORDER_INTENTS
from engine.broker.clock import SystemClock
from engine.broker.pacing import PacingLimiter
from engine.broker.sim_exchange import ExchangeConfig, SimExchange, SymbolSpec
from engine.broker.simulated import SimulatedBroker
from engine.bus import IdempotencyGuard, open_bus
from engine.config import BusConfig, RiskConfig
from engine.planes.costs import CostLearner
from engine.planes.jsonlog import PlaneLog
from engine.planes.order_plane import OrderPlane, percentile
from engine.planes.pretrade import PreTradeChecks
from engine.planes.state import CostFeedback, HaltState

RESULTS = Path(__file__).resolve().parent / "results" / "planes.json"
SCRATCH = Path(__file__).resolve().parent / ".cache"
SYMBOLS = ("AAPL", "MSFT", "GOOGL", "AMZN", "META", "NVDA", "TSLA", "JPM", "XOM", "UNH")


def _intent(i: int) -> OrderIntent:
    return OrderIntent.model_validate({
        "event_type": "order_intent", "intent_id": str(uuid.uuid4()),
        "symbol": SYMBOLS[i % len(SYMBOLS)], "direction": "BUY" if i % 2 == 0 else "SELL",
        "quantity": 10, "order_type": "MARKET", "decision_price": 100.0,
        "timestamp": datetime.now(UTC),
    })  # fmt: skip


def _broker() -> SimulatedBroker:
    clock = SystemClock()
    exchange = SimExchange(
        ExchangeConfig(seed=3, message_limit=None, initial_cash=1e12),
        [SymbolSpec(s, 100.0, touch_size=10**9) for s in SYMBOLS],
        now=clock.now(),
    )
    return SimulatedBroker(exchange, clock=clock, pacer=PacingLimiter(enabled=False, clock=clock))


async def _plane_run(n: int, journal: str, scratch: Path) -> list[float]:
    bus = open_bus(BusConfig(journal=journal), scratch)  # type: ignore[arg-type, unused-ignore]
    await bus.start()
    broker = _broker()
    await broker.connect()
    plane = OrderPlane(
        bus, broker,
        checks=PreTradeChecks(RiskConfig(max_position_notional=1e12), frozenset(SYMBOLS)),
        guard=IdempotencyGuard(scratch / "keys" if journal != "none" else None),
        learner=CostLearner(prior=0.0, lambda_=5e-4), feedback=CostFeedback(), halt=HaltState(),
        log=PlaneLog("order_plane", None), last_prices=lambda _s: 100.0,
    )  # fmt: skip
    stop = asyncio.Event()
    tasks = [asyncio.create_task(plane.run_events()), asyncio.create_task(plane.run_intents(stop))]
    reports = bus.subscribe(EXECUTION_REPORTS, "bench")
    out: list[float] = []
    for i in range(n):
        intent = _intent(i)
        t0 = time.perf_counter()
        await bus.publish(ORDER_INTENTS, intent, key=intent.symbol)
        done = False
        while not done:
            for rec in await reports.poll(max_messages=100, timeout=1.0):
                v = rec.value
                if isinstance(v, ExecutionReport) and v.intent_id == intent.intent_id:
                    done = done or v.status == "FILLED"
        out.append((time.perf_counter() - t0) * 1000.0)
        if i % 500 == 499:
            await reports.commit()
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await broker.close()
    await bus.close()
    return out


async def _broker_run(n: int) -> list[float]:
    broker = _broker()
    await broker.connect()
    events = broker.events().__aiter__()
    out: list[float] = []
    for i in range(n):
        intent = _intent(i)
        t0 = time.perf_counter()
        await broker.place(intent)
        while True:
            ev = await events.__anext__()
            if ev.intent_id == str(intent.intent_id) and ev.status == "FILLED":
                break
        out.append((time.perf_counter() - t0) * 1000.0)
    await broker.close()
    return out


def _figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 50) or 0.0, 4),
        "p99_ms": round(percentile(values, 99) or 0.0, 4),
        "mean_ms": round(statistics.fmean(values), 4),
        "samples": len(values),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="1,000 intents instead of 10,000")
    parser.add_argument("--intents", type=int, default=None)
    args = parser.parse_args(argv)
    n = args.intents or (1_000 if args.quick else 10_000)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, float]] = {}
    gc.disable()
    try:
        rows["broker only (baseline)"] = _figures(asyncio.run(_broker_run(n)))
        for journal in ("none", "segments"):
            scratch = Path(tempfile.mkdtemp(dir=SCRATCH))
            try:
                rows[f"order plane, journal={journal}"] = _figures(
                    asyncio.run(_plane_run(n, journal, scratch))
                )
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    finally:
        gc.enable()
    base = rows["broker only (baseline)"]["p50_ms"]
    print(f"intent -> FILLED execution report, {n} intents, sequential, pacing off")
    print(f"{'configuration':<34}{'p50 ms':>10}{'p99 ms':>10}{'mean ms':>10}{'p50 / baseline':>16}")
    for name, f in rows.items():
        ratio = f["p50_ms"] / base if base > 0 else float("nan")
        f["p50_ratio_vs_baseline"] = round(ratio, 2)
        print(
            f"{name:<34}{f['p50_ms']:>10.3f}{f['p99_ms']:>10.3f}{f['mean_ms']:>10.3f}{ratio:>16.1f}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "planes", "intents": n, "python": sys.version.split()[0],
        "machine": platform.machine(), "measured_at": datetime.now(UTC).isoformat(),
        "results": rows,
    }, indent=2) + "\n")  # fmt: skip
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
