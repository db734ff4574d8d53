"""Gate 4 — implementation: the broker modules exist and their unit and conformance tests pass.

The tests run in a subprocess (``pytest -m broker`` over the broker test folder by default); the
counts come from pytest's JUnit XML, which is kept next to the report and pinned by hash.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artifacts.models.base import Evidence, Scalar, tool_version
from artifacts.models.gate_reports import ImplementationTestReport, TestFailure
from gates.base import GateContext, GateInput, GateResult, check, header, verdict
from gates.output import pin, write_report
from gates.pytest_run import run_pytest

if TYPE_CHECKING:
    from engine.config import AppConfig

REQUIRED_MODULES = (
    "engine.broker.protocol",
    "engine.broker.simulated",
    "engine.broker.ib",
    "engine.broker.ib_errors",
    "engine.broker.pacing",
    "engine.broker.operations",
    "engine.broker.simgateway",
)
JUNIT_NAME = "IMPLEMENTATION_TESTS.junit.xml"


@dataclass(frozen=True)
class ImplementationGate:
    number: int = 4
    name: str = "Implementation"
    summary: str = "every broker module exists AND the broker unit and conformance tests pass"
    inputs: tuple[GateInput, ...] = (
        GateInput("IBKR_INTERFACE_MAP.md", "the operations the implementation must provide", 3),
        GateInput("broker tests", "tests marked `broker` (unit + conformance suites)"),
    )
    outputs: tuple[str, ...] = (ImplementationTestReport.FILE_NAME, JUNIT_NAME)

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        return {"failed_max": 0, "passed_min": 1}

    def run(self, ctx: GateContext) -> GateResult:
        started = ctx.clock()
        missing = tuple(m for m in REQUIRED_MODULES if importlib.util.find_spec(m) is None)
        junit = (ctx.out_dir / JUNIT_NAME).resolve()  # pytest runs from the repository root
        junit.unlink(missing_ok=True)
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        args = ctx.options.broker_test_args
        result = run_pytest(ctx.repo_root, args, junit, python=ctx.options.python)
        failing = "; ".join(n for n, _ in result.failures[:5])
        rerun = f"run `{' '.join(['pytest', *args])}` to see the failures"
        evidence: list[Evidence] = [
            check("every broker module exists", len(REQUIRED_MODULES) - len(missing),
                  len(REQUIRED_MODULES), not missing, f"missing: {', '.join(missing)}"),
            check("broker tests ran", result.passed + result.failed + result.errors, "≥ 1",
                  result.passed + result.failed + result.errors > 0,
                  "" if result.junit else f"pytest wrote no JUnit report (exit "
                  f"{result.exit_code}): {(result.stderr or result.stdout)[-300:]}"),
            check("broker tests failed", result.failed + result.errors, 0,
                  result.failed + result.errors == 0 and result.exit_code in (0, 5),
                  f"{failing or 'pytest exit ' + str(result.exit_code)}; {rerun}"),
        ]  # fmt: skip
        artifacts = [pin(ctx, junit)] if junit.is_file() else []
        marker = args[args.index("-m") + 1] if "-m" in args[:-1] else None
        report = ImplementationTestReport(
            generated_at=ctx.clock(),
            tool_version=tool_version(),
            gate=header(self, ctx, evidence),
            command=result.command,
            markers=marker,
            exit_code=result.exit_code,
            passed=result.passed,
            failed=result.failed,
            errors=result.errors,
            skipped=result.skipped,
            duration_seconds=round(result.seconds, 3),
            failures=tuple(TestFailure(nodeid=n, message=m) for n, m in result.failures),
            required_modules=REQUIRED_MODULES,
            missing_modules=missing,
            junit_xml=artifacts[0] if artifacts else None,
        )
        artifacts.insert(0, write_report(ctx, report))
        return verdict(self, ctx, started, evidence, artifacts)
