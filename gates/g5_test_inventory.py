"""Gate 5 — test infrastructure: the stage 6, 7 and 8 tests exist and pytest collects them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from artifacts.models.base import Evidence, Scalar, tool_version
from artifacts.models.gate_reports import StageTests, TestInventory
from gates.base import GateContext, GateInput, GateResult, check, header, verdict
from gates.output import write_report
from gates.pytest_run import collect

if TYPE_CHECKING:
    from engine.config import AppConfig

STAGE_FILES = {
    6: "tests/stage6_account_probe.py",
    7: "tests/stage7_paper_trading.py",
    8: "tests/stage8_go_live_decision.py",
}
MARKER_EXPR = "stage6 or stage7 or stage8"


@dataclass(frozen=True)
class TestInventoryGate:
    __test__ = False  # not a pytest class

    number: int = 5
    name: str = "Test infrastructure"
    summary: str = "stage 6, 7 and 8 tests exist AND pytest collects them without errors"
    inputs: tuple[GateInput, ...] = (
        GateInput("IMPLEMENTATION_TEST_REPORT.json", "the implementation the stages test", 4),
        GateInput("stage tests", ", ".join(STAGE_FILES.values())),
    )
    outputs: tuple[str, ...] = (TestInventory.FILE_NAME,)

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        return {"stages": "6,7,8", "tests_per_stage_min": 1}

    def run(self, ctx: GateContext) -> GateResult:
        started = ctx.clock()
        present = [rel for rel in STAGE_FILES.values() if ctx.repo_path(rel).is_file()]
        targets = ctx.options.stage_test_args or tuple(present)
        args = ("-m", MARKER_EXPR, *targets)
        run = collect(ctx.repo_root, args, python=ctx.options.python)
        stages = []
        evidence: list[Evidence] = []
        inputs: list[Path] = []
        for stage, rel in STAGE_FILES.items():
            path = ctx.repo_path(rel)
            exists = path.is_file()
            if exists:
                inputs.append(path)
            ids = tuple(i for i in run.collected if i.split("::", 1)[0] == rel)
            runnable = exists and bool(ids) and run.exit_code == 0
            stages.append(
                StageTests(stage=stage, marker=f"stage{stage}", files=(rel,) if exists else (),
                           test_ids=ids, exists=exists, runnable=runnable)
            )  # fmt: skip
            evidence.append(
                check(f"stage {stage} tests exist", rel if exists else "missing", rel, exists,
                      f"write {rel} with tests marked @pytest.mark.stage{stage}")
            )  # fmt: skip
            why = (
                f"pytest --collect-only exit {run.exit_code}: {_tail(run)}"
                if run.exit_code != 0
                else f"no test in {rel} is marked stage{stage}"
            )
            evidence.append(
                check(f"stage {stage} tests collected", len(ids), "≥ 1", runnable,
                      "" if runnable else why)
            )  # fmt: skip
        report = TestInventory(
            generated_at=ctx.clock(),
            tool_version=tool_version(),
            gate=header(self, ctx, evidence),
            collect_command=run.command,
            collect_exit_code=run.exit_code,
            stages=tuple(stages),
            total_collected=len(run.collected),
        )
        return verdict(self, ctx, started, evidence, [write_report(ctx, report)], inputs=inputs)


def _tail(run: object) -> str:
    text = (getattr(run, "stdout", "") or "") + (getattr(run, "stderr", "") or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])[-400:]
