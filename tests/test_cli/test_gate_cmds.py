"""``gate list|run|status`` and ``go-live``: exit codes, --json on stdout, progress on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.config import load_config
from tests.support.cli import run_cli
from tests.test_gates.support import coverage_json, sign_all

pytestmark = pytest.mark.integration


def test_gate_list_json_has_every_gate_with_inputs_outputs_thresholds() -> None:
    result = run_cli("--json", "gate", "list")
    assert result.exit_code == 0
    gates = json.loads(result.stdout)["gates"]
    assert [g["number"] for g in gates] == list(range(1, 9))
    assert gates[6]["thresholds"]["min_trades"] == 50
    assert {"name": "ACCOUNT_CONFIG.json", "produced_by": 6} in [
        {k: i[k] for k in ("name", "produced_by")} for i in gates[6]["inputs"]
    ]
    assert "GO_LIVE_DECISION_GATE.md" in gates[7]["outputs"]


def test_gate_list_table() -> None:
    result = run_cli("gate", "list")
    assert result.exit_code == 0
    for number in range(1, 9):  # one row per gate (names wrap in an 80-column table)
        assert f"│ {number} │" in result.stdout
    assert "Account" in result.stdout and "probe" in result.stdout


def test_bad_range_is_a_usage_error() -> None:
    result = run_cli("gate", "run", "0-3")
    assert result.exit_code == 2
    assert "no gate 0" in result.stderr and "1-8" in result.stderr


def test_run_json_and_status(tmp_path: Path) -> None:
    out = tmp_path / "prelive"
    result = run_cli("--json", "gate", "run", "2-3", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["passed"] and [g["verdict"] for g in payload["gates"]] == ["PASS", "PASS"]
    assert "gate 2 Hierarchical breakdown: PASS" in result.stderr
    status = run_cli("--json", "gate", "status", "--out", str(out))
    assert status.exit_code == 1  # gates 1 and 4–8 have not run
    verdicts = [g["verdict"] for g in json.loads(status.stdout)["gates"]]
    assert verdicts == ["MISSING", "PASS", "PASS", "MISSING", "MISSING", "MISSING", "MISSING",
                        "MISSING"]  # fmt: skip


def test_a_failing_gate_says_what_failed_and_what_to_do(tmp_path: Path) -> None:
    out = tmp_path / "prelive"
    cov = coverage_json(tmp_path / "coverage.json", 79.0)
    sign_all(out, load_config(None, {}))
    result = run_cli("gate", "run", "1-2", "--out", str(out), "--coverage-report", str(cov))
    assert result.exit_code == 1
    assert "gate 1 Artifact validation: FAIL" in result.stderr
    assert "test coverage ≥ 80%: measured 0.79, threshold 0.8" in result.stderr
    assert "add tests until it reaches 80%" in result.stderr
    assert "gate 2 Hierarchical breakdown: skipped" in result.stderr


def test_go_live_without_a_log_is_no_go_exit_1(tmp_path: Path) -> None:
    out = tmp_path / "prelive"
    result = run_cli("--json", "go-live", "--out", str(out))
    assert result.exit_code == 1, result.stderr
    decision = json.loads(result.stdout)["decision"]
    assert decision["decision"] == "NO-GO"
    assert decision["rollback_drill"]["ran"] and decision["kill_switch_drill"]["ran"]
    procedure = (out / "ROLLBACK_PROCEDURE.md").read_text()
    assert "Cancel every open order" in procedure or "cancel" in procedure.lower()
