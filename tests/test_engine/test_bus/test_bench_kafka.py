"""The Kafka benchmark runs end to end on the test broker: every throughput row (the two-process
row with real spawned processes) and the latency of both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_kafka
from tests.support.kafka_broker import TansuBroker, kafka_broker  # noqa: F401 (fixture)


@pytest.mark.kafka
@pytest.mark.integration
def test_bench_kafka_small_run_writes_every_row(
    kafka_broker: TansuBroker,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "kafka.json"
    monkeypatch.setattr(bench_kafka, "RESULTS", out)
    assert (
        bench_kafka.main(["-n", "3000", "--intents", "10", "--bootstrap", kafka_broker.bootstrap])
        == 0
    )
    data = json.loads(out.read_text())
    paths = [r["path"] for r in data["throughput"]]
    assert paths == [
        "embedded (memory, no journal)",
        bench_kafka.ONE_PROCESS,
        bench_kafka.TWO_PROCESSES,
        bench_kafka.TRANSPORT,
    ]
    assert all(r["messages"] == 3000 and r["msgs_per_s"] > 0 for r in data["throughput"])
    two = data["throughput"][2]
    # both processes did work, and the consumer cannot finish before the producer started
    assert two["producer_cpu_seconds"] > 0 and two["consumer_cpu_seconds"] > 0
    assert two["seconds"] > 0
    assert data["target_judged_on"] == bench_kafka.TWO_PROCESSES
    assert data["target_met"] == (two["msgs_per_s"] >= bench_kafka.TARGET_MSGS_PER_S)
    lat = {r["path"]: r for r in data["latency"]}
    assert lat["kafka bus"]["intents"] == 10
    assert 0 < lat["kafka bus"]["p50_ms"] <= lat["kafka bus"]["p99_ms"]
