"""The Kafka benchmark runs end to end on the test broker and reports both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_kafka
from tests.support.kafka_broker import TansuBroker, kafka_broker  # noqa: F401 (fixture)


@pytest.mark.kafka
@pytest.mark.integration
def test_bench_kafka_small_run_writes_both_backends(
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
        "kafka bus",
        "kafka transport (raw, no validation)",
    ]
    assert all(r["messages"] == 3000 and r["msgs_per_s"] > 0 for r in data["throughput"])
    lat = {r["path"]: r for r in data["latency"]}
    assert lat["kafka bus"]["intents"] == 10
    assert 0 < lat["kafka bus"]["p50_ms"] <= lat["kafka bus"]["p99_ms"]
