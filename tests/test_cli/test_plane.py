"""``algotrade plane``: usage errors name the fix; an unreachable Kafka is exit 3, not a crash.

The planes running for real (three processes over a Kafka-protocol broker) are tested in
``tests/e2e/test_split_planes.py``."""

from __future__ import annotations

import pytest

from tests.support.cli import run_cli
from tests.support.kafka_broker import free_port

pytestmark = pytest.mark.integration


def test_the_embedded_bus_cannot_span_processes() -> None:
    res = run_cli("plane", "data", "--session-id", "s1")
    assert res.exit_code == 2
    assert "--bus kafka" in res.stderr and "paper-session" in res.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("plane", "risk", "--session-id", "s1", "--bus", "kafka"), "use data, strategy or order"),
        (("plane", "data", "--session-id", "s 1", "--bus", "kafka"), "cannot name Kafka topics"),
        (("plane", "strategy", "--session-id", "s1", "--bus", "kafka", "--broker", "ib"),
         "belong to the order and data planes"),
        (("plane", "data", "--session-id", "s1", "--bus", "kafka", "--record-baseline"),
         "belongs to the order plane"),
        (("plane", "order", "--session-id", "s1", "--bus", "kafka", "--broker", "tws"),
         "is not a broker"),
        (("plane", "data", "--session-id", "s1", "--bus", "nats"), "use memory or kafka"),
        (("paper-session", "--bus", "nats"), "use memory or kafka"),
    ],
)  # fmt: skip
def test_usage_errors_name_the_fix(args: tuple[str, ...], needle: str) -> None:
    res = run_cli(*args)
    assert res.exit_code == 2, res.stderr
    assert needle in res.stderr


def test_the_session_id_is_required() -> None:
    res = run_cli("plane", "data", "--bus", "kafka")
    assert res.exit_code == 2
    assert "--session-id" in res.stderr


@pytest.mark.slow
def test_an_unreachable_kafka_is_exit_3_with_the_setting_to_check(tmp_path: object) -> None:
    port = free_port()  # nothing listens there
    res = run_cli(
        "plane", "data", "--session-id", "s1", "--bus", "kafka", "--kafka-bootstrap",
        f"127.0.0.1:{port}", "--out", str(tmp_path),
    )  # fmt: skip
    assert res.exit_code == 3, res.stderr
    assert f"127.0.0.1:{port}" in res.stderr and "bus.kafka_bootstrap" in res.stderr
