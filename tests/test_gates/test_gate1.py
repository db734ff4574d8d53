"""Gate 1 fails for the right reason: coverage below 80%, a missing sign-off, a bad fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifacts.io import read_markdown_artifact
from artifacts.models.gate_reports import ArtifactValidationReport
from engine.config import load_config
from gates.g1_artifact_validation import ArtifactValidationGate
from tests.test_gates.support import ROLES, context, coverage_json, sign_all

pytestmark = pytest.mark.integration


def _failed(result: object) -> dict[str, object]:
    return {e.condition: e for e in result.failed_conditions}  # type: ignore[attr-defined]


def test_passes_at_80_percent_with_all_signoffs_and_valid_fixtures(tmp_path: Path) -> None:
    ctx = context(tmp_path, coverage_report=coverage_json(tmp_path / "c.json", 80.0))
    sign_all(tmp_path, ctx.config)
    result = ArtifactValidationGate().run(ctx)
    assert result.verdict == "PASS", result.failed_conditions
    report, body = read_markdown_artifact(
        tmp_path / "IBKR_ARTIFACT_VALIDATION_REPORT.md", ArtifactValidationReport
    )
    assert report.coverage.measured == pytest.approx(0.80)
    assert [f.valid for f in report.fixtures] == [True, True, True]
    assert "assets.csv" in body and "seeds.yaml" in body
    assert {p.name for p in result.inputs} >= {"c.json", "assets.csv", "seeds.yaml"}


def test_coverage_at_79_percent_fails_with_measured_and_threshold(tmp_path: Path) -> None:
    ctx = context(tmp_path, coverage_report=coverage_json(tmp_path / "c.json", 79.0))
    sign_all(tmp_path, ctx.config)
    result = ArtifactValidationGate().run(ctx)
    [failed] = result.failed_conditions
    assert failed.condition == "test coverage ≥ 80%"
    assert failed.measured == pytest.approx(0.79) and failed.threshold == 0.8
    assert "79.00%" in (failed.detail or "")


def test_missing_signature_fails_naming_the_role(tmp_path: Path) -> None:
    ctx = context(tmp_path, coverage_report=coverage_json(tmp_path / "c.json", 90.0))
    sign_all(tmp_path, ctx.config, ROLES[:2])
    result = ArtifactValidationGate().run(ctx)
    [failed] = result.failed_conditions
    assert failed.condition == "governance signed by lead_trader"
    assert "governance sign --role lead_trader" in (failed.detail or "")


def test_no_coverage_report_says_how_to_make_one(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    sign_all(tmp_path, ctx.config)
    failed = _failed(ArtifactValidationGate().run(ctx))["test coverage ≥ 80%"]
    assert "--coverage-report" in (failed.detail or "")  # type: ignore[attr-defined]


def test_invalid_seeds_fixture_fails(tmp_path: Path) -> None:
    bad = tmp_path / "seeds.yaml"
    bad.write_text("schema_version: '1'\nmarket: -4\n")
    config = load_config(None, {}).with_overrides({"paths.seeds": str(bad)})
    ctx = context(tmp_path, config, coverage_report=coverage_json(tmp_path / "c.json", 90.0))
    sign_all(tmp_path, config)
    failed = _failed(ArtifactValidationGate().run(ctx))
    [name] = failed
    assert str(bad) in name and "seeds.schema.json" in name
