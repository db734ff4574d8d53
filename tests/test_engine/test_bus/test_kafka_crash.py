"""kill -9 of a consuming process over Kafka: the restart resumes at the committed offset, the
record acted on but not committed comes back, and the idempotency guard keeps it from acting twice."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from engine.bus.kafka import KafkaBus
from tests.support.kafka_broker import TansuBroker, kafka_broker  # noqa: F401 (fixture)
from tests.test_engine.test_bus.conformance import intent, run
from tests.test_engine.test_bus.test_conformance_kafka import kafka_settings

REPO = Path(__file__).resolve().parents[3]


def _worker(broker: TansuBroker, prefix: str, guard: Path, crash_after: int) -> tuple[int, str]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.test_engine.test_bus.kafka_crash_worker",
            broker.bootstrap,
            prefix,
            str(guard),
            str(crash_after),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stdout


@pytest.mark.kafka
@pytest.mark.integration
@pytest.mark.slow
def test_kill_9_before_commit_redelivers_without_acting_twice(
    kafka_broker: TansuBroker,  # noqa: F811
    tmp_path: Path,
) -> None:
    prefix = f"c{uuid.uuid4().hex[:10]}."
    ids = [str(intent(i).intent_id) for i in range(10)]

    async def publish() -> None:
        async with KafkaBus(kafka_settings(kafka_broker, prefix)) as bus:
            for i in range(10):
                assert (await bus.publish("order_intents", intent(i), key="AAPL")).ok

    run(publish())
    guard = tmp_path / "placed.keys"
    code, first = _worker(kafka_broker, prefix, guard, crash_after=4)
    assert code == -9, first  # killed by SIGKILL
    assert [ln.split()[1] for ln in first.splitlines() if ln.startswith("placed")] == ids[:4]
    assert "done" not in first

    code, second = _worker(kafka_broker, prefix, guard, crash_after=0)
    assert code == 0 and second.rstrip().endswith("done"), second
    seen = [int(ln.split()[1]) for ln in second.splitlines() if ln.startswith("seen")]
    # offsets 0..2 were committed; 3 was acted on but not committed: it comes back
    assert seen == list(range(3, 10))
    placed_again = [ln.split()[1] for ln in second.splitlines() if ln.startswith("placed")]
    assert placed_again == ids[4:]  # intent 3 was not placed a second time
    assert guard.read_text().split() == ids
