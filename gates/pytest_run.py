"""Run pytest in a subprocess and read what it did from its JUnit XML (or collect-only output)."""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PytestRun:
    command: tuple[str, ...]
    exit_code: int
    seconds: float
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    failures: tuple[tuple[str, str], ...] = ()  # (node id, message)
    stdout: str = ""
    stderr: str = ""
    junit: Path | None = None
    collected: tuple[str, ...] = field(default_factory=tuple)


def run_pytest(
    repo_root: Path, args: tuple[str, ...], junit: Path, *, python: str | None = None
) -> PytestRun:
    """``python -m pytest ARGS --junitxml JUNIT`` from ``repo_root``; counts come from the XML."""
    command = (
        python or sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        f"--junitxml={junit}", *args,
    )  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if not junit.is_file():
        return PytestRun(command, done.returncode, seconds, stdout=done.stdout, stderr=done.stderr)
    return _from_junit(command, done, seconds, junit)


def _from_junit(
    command: tuple[str, ...], done: subprocess.CompletedProcess[str], seconds: float, junit: Path
) -> PytestRun:
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    passed = failed = errors = skipped = 0
    failures: list[tuple[str, str]] = []
    for suite in suites:
        for case in suite.iter("testcase"):
            node = f"{case.get('classname', '')}::{case.get('name', '')}"
            outcome = next(iter(case), None)
            tag = outcome.tag if outcome is not None else ""
            if tag == "failure":
                failed += 1
                failures.append((node, (outcome.get("message") or "")[:300]))  # type: ignore[union-attr]
            elif tag == "error":
                errors += 1
                failures.append((node, (outcome.get("message") or "")[:300]))  # type: ignore[union-attr]
            elif tag == "skipped":
                skipped += 1
            else:
                passed += 1
        if not list(suite.iter("testcase")):
            errors += int(suite.get("errors", 0) or 0)
    return PytestRun(
        command, done.returncode, seconds, passed, failed, errors, skipped, tuple(failures),
        done.stdout, done.stderr, junit,
    )  # fmt: skip


def collect(repo_root: Path, args: tuple[str, ...], *, python: str | None = None) -> PytestRun:
    """``pytest --collect-only -q ARGS``: the collected node ids (errors show in the exit code)."""
    command = (
        python or sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
        "no:cacheprovider", *args,
    )  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, check=False)
    ids = tuple(
        line.strip() for line in done.stdout.splitlines() if "::" in line and " " not in line
    )
    return PytestRun(
        command, done.returncode, time.perf_counter() - start, stdout=done.stdout,
        stderr=done.stderr, collected=ids,
    )  # fmt: skip
