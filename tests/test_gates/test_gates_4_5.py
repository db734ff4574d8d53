"""Gates 4 and 5 run pytest in a subprocess and read what it did."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from artifacts.io import read_artifact
from artifacts.models.gate_reports import ImplementationTestReport, TestInventory
from engine.data.assets import REPO_ROOT
from gates.g4_implementation import ImplementationGate
from gates.g5_test_inventory import STAGE_FILES, TestInventoryGate
from tests.test_gates.support import QUICK_BROKER_TESTS, context

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_gate4_records_passing_broker_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative --out: pytest itself runs from the repository root
    out = Path("prelive")
    result = ImplementationGate().run(context(out, broker_test_args=QUICK_BROKER_TESTS))
    assert result.verdict == "PASS", result.failed_conditions
    assert (tmp_path / "prelive" / "IMPLEMENTATION_TESTS.junit.xml").is_file()
    report = read_artifact(out / "IMPLEMENTATION_TEST_REPORT.json", ImplementationTestReport)
    assert report.passed > 5 and report.failed == 0 and report.markers == "broker"
    assert report.junit_xml is not None and report.junit_xml.name.endswith(".junit.xml")


def test_gate4_fails_naming_the_failing_test(tmp_path: Path) -> None:
    tests = tmp_path / "t"
    tests.mkdir()
    (tests / "test_broken.py").write_text(
        "import pytest\n\n@pytest.mark.broker\ndef test_good():\n    assert True\n\n"
        "@pytest.mark.broker\ndef test_fill_price():\n    assert 1 + 1 == 3\n"
    )
    out = tmp_path / "out"
    result = ImplementationGate().run(
        context(out, broker_test_args=("-m", "broker", str(tests / "test_broken.py")))
    )
    assert result.verdict == "FAIL"
    [failed] = result.failed_conditions
    assert failed.measured == 1 and "test_fill_price" in (failed.detail or "")
    report = read_artifact(out / "IMPLEMENTATION_TEST_REPORT.json", ImplementationTestReport)
    assert (report.passed, report.failed) == (1, 1)


def test_gate5_collects_the_stage_tests(tmp_path: Path) -> None:
    result = TestInventoryGate().run(context(tmp_path))
    assert result.verdict == "PASS", result.failed_conditions
    inv = read_artifact(tmp_path / "TEST_INVENTORY.json", TestInventory)
    assert [s.stage for s in inv.stages] == [6, 7, 8]
    assert all(s.exists and s.runnable and s.test_ids for s in inv.stages)


def test_gate5_fails_when_a_stage_test_is_missing(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "pyproject.toml", repo / "pyproject.toml")
    for stage, rel in STAGE_FILES.items():
        if stage != 7:
            (repo / rel).write_text(
                f"import pytest\n\n@pytest.mark.stage{stage}\ndef test_stage():\n    pass\n"
            )
    ctx = context(tmp_path / "out")
    ctx.repo_root = repo
    result = TestInventoryGate().run(ctx)
    failed = [e.condition for e in result.failed_conditions]
    assert failed == ["stage 7 tests exist", "stage 7 tests collected"]
    detail = result.failed_conditions[0].detail or ""
    assert "tests/stage7_paper_trading.py" in detail
