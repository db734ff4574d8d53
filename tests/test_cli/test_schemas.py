"""``algotrade schemas export [--check]`` and ``algotrade schemas check DIR``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.cli import run_cli

DATA = Path(__file__).resolve().parents[1] / "data" / "artifacts"


def test_export_check_passes_on_the_checked_in_tree() -> None:
    result = run_cli("schemas", "export", "--check")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "0 missing" not in result.stdout  # only statuses that occur are listed
    assert "ok" in result.stdout


def test_export_check_json_lists_every_family() -> None:
    result = run_cli("--json", "schemas", "export", "--check")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["check"] is True
    families = {f["family"] for f in payload["files"]}
    assert families == {"contracts", "artifacts", "config", "data"}
    paths = {Path(f["path"]).name for f in payload["files"]}
    assert {"config.schema.json", "ACCOUNT_CONFIG.schema.json", "order_intent.schema.json"} <= paths


@pytest.fixture
def redirected_artifact_schemas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the artifact family at a scratch copy so drift can be simulated safely; the other
    families are left out so that an export here can never rewrite files in the working tree."""
    import algotrade_cli.schemas
    import artifacts.schema_export

    scratch = tmp_path / "schemas"
    shutil.copytree(artifacts.schema_export.SCHEMA_DIR, scratch)
    monkeypatch.setattr(artifacts.schema_export, "SCHEMA_DIR", scratch)
    only_artifacts = tuple(f for f in algotrade_cli.schemas.families() if f.name == "artifacts")
    assert only_artifacts[0].owned_dirs == (scratch,)
    monkeypatch.setattr(algotrade_cli.schemas, "families", lambda: only_artifacts)
    return scratch


def test_export_check_fails_on_drift_and_export_repairs_it(
    redirected_artifact_schemas: Path,
) -> None:
    scratch = redirected_artifact_schemas
    drifted = scratch / "ACCOUNT_CONFIG.schema.json"
    drifted.write_text("{}\n")
    (scratch / "ACCOUNT_CONFIG.schema.json.orig").write_text("not a schema")  # not *.json: kept
    (scratch / "OLD_ARTIFACT.schema.json").write_text("{}\n")
    (scratch / "ROLLBACK_REPORT.schema.json").unlink()

    result = run_cli("--json", "schemas", "export", "--check")
    assert result.exit_code == 1
    statuses = {Path(f["path"]).name: f["status"] for f in json.loads(result.stdout)["files"]}
    assert statuses["ACCOUNT_CONFIG.schema.json"] == "drifted"
    assert statuses["ROLLBACK_REPORT.schema.json"] == "missing"
    assert statuses["OLD_ARTIFACT.schema.json"] == "stale"
    assert drifted.read_text() == "{}\n"  # --check writes nothing

    human = run_cli("schemas", "export", "--check")
    assert human.exit_code == 1
    assert "algotrade schemas export" in human.stderr

    fixed = run_cli("schemas", "export")
    assert fixed.exit_code == 0, fixed.stderr
    assert "written" in fixed.stdout
    assert not (scratch / "OLD_ARTIFACT.schema.json").exists()
    assert (scratch / "ACCOUNT_CONFIG.schema.json.orig").exists()
    assert run_cli("schemas", "export", "--check").exit_code == 0


def test_check_valid_directory(tmp_path: Path) -> None:
    shutil.copytree(DATA / "positive", tmp_path / "prelive")
    (tmp_path / "prelive" / "default" / ".ACCOUNT_CONFIG.json.abc123.tmp").write_text("{torn")
    (tmp_path / "prelive" / "notes.txt").write_text("ignored")
    result = run_cli("schemas", "check", str(tmp_path / "prelive"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "19 of 19 artifacts valid" in result.stdout
    assert "1 temp file(s) left by interrupted writes" in result.stderr


def test_check_json_summary_with_failures(tmp_path: Path) -> None:
    target = tmp_path / "mixed"
    shutil.copytree(DATA / "positive" / "default", target)
    shutil.copy(DATA / "negative" / "golive_maybe" / "GO_LIVE_DECISION_GATE.md", target)
    result = run_cli("--json", "schemas", "check", str(target))
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["passed"] is False
    assert payload["checked"] == 15 and payload["invalid"] == 1
    bad = next(a for a in payload["artifacts"] if not a["valid"])
    assert bad["artifact_type"] == "go_live_decision"
    assert bad["issues"][0]["path"] == "decision"
    assert bad["issues"][0]["value"] == "MAYBE"
    good = next(a for a in payload["artifacts"] if a["valid"])
    assert len(good["sha256"]) == 64


def test_check_human_output_names_file_field_and_value(tmp_path: Path) -> None:
    shutil.copytree(DATA / "negative" / "metrics_negative_drawdown", tmp_path / "d")
    result = run_cli("schemas", "check", str(tmp_path / "d"))
    assert result.exit_code == 1
    assert "PAPER_TRADING_METRICS.csv: line 3.drawdown" in result.stderr
    assert "-0.5" in result.stderr
    assert "0 of 1 artifacts valid" in result.stdout


def test_check_detects_artifacts_by_content_under_other_names(tmp_path: Path) -> None:
    shutil.copy(DATA / "positive" / "default" / "ACCOUNT_CONFIG.json", tmp_path / "probe-1.json")
    result = run_cli("--json", "schemas", "check", str(tmp_path))
    assert result.exit_code == 0
    assert json.loads(result.stdout)["artifacts"][0]["artifact_type"] == "account_config"


def test_check_empty_directory_fails(tmp_path: Path) -> None:
    result = run_cli("schemas", "check", str(tmp_path))
    assert result.exit_code == 1
    assert "no artifacts found" in result.stderr


def test_check_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("schemas", "check", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "is not a directory" in result.stderr


def test_check_without_argument_is_a_usage_error() -> None:
    assert run_cli("schemas", "check").exit_code == 2
