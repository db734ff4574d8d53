"""The runner: order, stop at the first failure, keep going, errors recorded, hashes logged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from artifacts.io import read_artifact, sha256_file
from artifacts.models.prelive_verification_log import PreliveVerificationLog
from gates.base import GateContext, GateResult
from gates.g2_integration_flow import IntegrationFlowGate
from gates.runner import resolve, run_gates, run_one
from gates.selection import GateSelectionError
from tests.test_gates.support import context

pytestmark = pytest.mark.unit


def test_resolve_accepts_the_documented_forms() -> None:
    assert resolve("1-8") == list(range(1, 9))
    assert resolve("3-5") == [3, 4, 5] and resolve("all") == list(range(1, 9))
    with pytest.raises(GateSelectionError, match="no gate 9"):
        resolve("7-9")


def test_gates_run_in_order_and_stop_at_the_first_failure(tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    report = run_gates(
        [3, 1, 2], context(tmp_path), progress=lambda ev, g, r: seen.append((ev, g.number))
    )
    # gate 1 fails (no coverage report, no sign-offs): 2 and 3 are skipped
    assert [r.number for r in report.results] == [1]
    assert report.skipped == (2, 3) and report.stopped_at == 1 and not report.passed
    assert seen == [("start", 1), ("done", 1), ("skipped", 2), ("skipped", 3)]


def test_keep_going_runs_the_rest_and_logs_every_artifact_hash(tmp_path: Path) -> None:
    report = run_gates([1, 2, 3], context(tmp_path), keep_going=True)
    assert [r.verdict for r in report.results] == ["FAIL", "PASS", "PASS"]
    log = read_artifact(tmp_path / "PRELIVE_VERIFICATION_LOG.json", PreliveVerificationLog)
    assert [e.gate for e in log.entries] == [1, 2, 3]
    assert len({e.run_id for e in log.entries}) == 1
    for entry in log.entries:
        assert entry.tool_version and len(entry.config_hash) == 64
        for ref in entry.artifacts:
            assert sha256_file(tmp_path / ref.path) == ref.sha256
    assert log.entries[0].message and "test coverage" in log.entries[0].message
    assert any(ref.name == "assets.csv" for ref in log.entries[0].inputs)


@dataclass(frozen=True)
class Exploding(IntegrationFlowGate):
    def run(self, ctx: GateContext) -> GateResult:
        raise RuntimeError("disk on fire")


def test_an_exception_inside_a_gate_is_an_error_result_not_a_crash(tmp_path: Path) -> None:
    result = run_one(Exploding(), context(tmp_path))
    assert result.verdict == "ERROR" and result.error == "RuntimeError: disk on fire"
    [e] = result.evidence
    assert not e.passed and "disk on fire" in str(e.measured)
    assert result.thresholds == {"stages": 8}
