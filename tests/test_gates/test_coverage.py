"""Coverage figures are read from coverage.py JSON and Cobertura XML; bad files are results."""

from __future__ import annotations

from pathlib import Path

import pytest

from gates.coverage import CoverageProblem, CoverageReading, read_coverage
from tests.test_gates.support import coverage_json

pytestmark = pytest.mark.unit


def test_coverage_py_json_percent_becomes_a_fraction(tmp_path: Path) -> None:
    reading = read_coverage(coverage_json(tmp_path / "c.json", 79.0))
    assert isinstance(reading, CoverageReading)
    assert reading.fraction == pytest.approx(0.79)
    assert reading.kind == "combined" and reading.format == "coverage.py-json"


def test_cobertura_combines_lines_and_branches(tmp_path: Path) -> None:
    path = tmp_path / "coverage.xml"
    path.write_text(
        '<?xml version="1.0" ?><coverage line-rate="0.9" branch-rate="0.5" lines-covered="90" '
        'lines-valid="100" branches-covered="5" branches-valid="10"></coverage>'
    )
    reading = read_coverage(path)
    assert isinstance(reading, CoverageReading)
    assert reading.fraction == pytest.approx(95 / 110)  # (90 + 5) / (100 + 10)


def test_cobertura_line_rate_only(tmp_path: Path) -> None:
    path = tmp_path / "coverage.xml"
    path.write_text('<coverage line-rate="0.81"></coverage>')
    reading = read_coverage(path)
    assert isinstance(reading, CoverageReading) and reading.fraction == pytest.approx(0.81)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"meta": {}}', "totals.percent_covered"),
        ('{"totals": {"percent_covered": 140}}', "not 0–100"),
        ("<report/>", "not a Cobertura report"),
        ("<coverage line-rate=", "does not parse"),
        ("hello", "neither coverage.py JSON nor Cobertura XML"),
    ],
)
def test_bad_reports_are_problems_not_exceptions(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "cov"
    path.write_text(text)
    problem = read_coverage(path)
    assert isinstance(problem, CoverageProblem) and needle in problem.message


def test_missing_file_is_a_problem(tmp_path: Path) -> None:
    problem = read_coverage(tmp_path / "nope.json")
    assert isinstance(problem, CoverageProblem) and "cannot read" in problem.message


@pytest.mark.slow
def test_run_coverage_writes_a_report_gate1_can_read(tmp_path: Path) -> None:
    from engine.data.assets import REPO_ROOT
    from gates.coverage import run_suite_with_coverage

    report = tmp_path / "coverage.json"
    run = run_suite_with_coverage(REPO_ROOT, report, extra=("tests/test_gates/test_selection.py",))
    assert run.exit_code == 0 and "--cov" in run.command
    reading = read_coverage(report)
    assert isinstance(reading, CoverageReading)
    assert 0.0 < reading.fraction < 0.5  # one small test file covers little of the code base
