"""Read a test-coverage figure from a coverage.py JSON report or a Cobertura XML report.

* coverage.py JSON (``coverage json`` / ``pytest --cov-report=json:PATH``):
  ``totals.percent_covered`` (0–100; line and branch combined when branch coverage is on);
* Cobertura XML (``coverage xml`` / ``--cov-report=xml``): the root ``line-rate`` (0–1), or
  the combined figure from ``lines-covered``/``branches-covered`` when present.

Reading returns a :class:`CoverageReading` or a :class:`CoverageProblem`; it never raises for a
bad file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class CoverageReading:
    fraction: float  # 0–1
    kind: Literal["line", "branch", "combined"]
    source: Path
    format: Literal["coverage.py-json", "cobertura-xml"]


@dataclass(frozen=True)
class CoverageProblem:
    source: Path | None
    message: str


def read_coverage(path: Path) -> CoverageReading | CoverageProblem:
    """The coverage fraction in ``path`` (format detected from the content)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return CoverageProblem(path, f"cannot read coverage report {path}: {exc.strerror or exc}")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _from_json(path, text)
    if stripped.startswith("<"):
        return _from_xml(path, text)
    return CoverageProblem(
        path, f"{path} is neither coverage.py JSON nor Cobertura XML (first byte {stripped[:1]!r})"
    )


def _from_json(path: Path, text: str) -> CoverageReading | CoverageProblem:
    try:
        data = json.loads(text)
        totals = data["totals"]
        percent = float(totals["percent_covered"])
    except (ValueError, KeyError, TypeError) as exc:
        return CoverageProblem(
            path, f"{path}: not a coverage.py JSON report (need totals.percent_covered): {exc}"
        )
    if not 0.0 <= percent <= 100.0:
        return CoverageProblem(path, f"{path}: totals.percent_covered {percent} is not 0–100")
    kind: Literal["line", "combined"] = "combined" if "num_branches" in totals else "line"
    return CoverageReading(percent / 100.0, kind, path, "coverage.py-json")


def _from_xml(path: Path, text: str) -> CoverageReading | CoverageProblem:
    import xml.etree.ElementTree as ET

    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return CoverageProblem(path, f"{path}: XML does not parse: {exc}")
    if root.tag != "coverage" or "line-rate" not in root.attrib:
        return CoverageProblem(path, f"{path}: not a Cobertura report (<coverage line-rate=…>)")
    try:
        line_rate = float(root.attrib["line-rate"])
        covered = int(root.attrib.get("lines-covered", -1))
        valid = int(root.attrib.get("lines-valid", -1))
        b_covered = int(root.attrib.get("branches-covered", -1))
        b_valid = int(root.attrib.get("branches-valid", -1))
    except ValueError as exc:
        return CoverageProblem(path, f"{path}: bad number in the <coverage> attributes: {exc}")
    if not 0.0 <= line_rate <= 1.0:
        return CoverageProblem(path, f"{path}: line-rate {line_rate} is not 0–1")
    if min(covered, valid, b_covered) >= 0 and b_valid > 0 and valid + b_valid > 0:
        combined = (covered + b_covered) / (valid + b_valid)
        return CoverageReading(combined, "combined", path, "cobertura-xml")
    return CoverageReading(line_rate, "line", path, "cobertura-xml")


@dataclass(frozen=True)
class CoverageRun:
    report: Path
    exit_code: int
    command: tuple[str, ...]


def run_suite_with_coverage(
    repo_root: Path, report: Path, *, python: str | None = None, extra: tuple[str, ...] = ()
) -> CoverageRun:
    """Run the whole test suite under coverage (pytest-cov) and write a JSON report to ``report``."""
    command = (
        python or sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov",
        f"--cov-report=json:{report}", *extra,
    )  # fmt: skip
    completed = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, check=False)
    return CoverageRun(report, completed.returncode, command)
