"""Run gates in order: resolve the range, run each, log each, stop at the first failure.

An exception inside a gate becomes an ``ERROR`` result carrying the error (never a crash); each
result is appended to ``PRELIVE_VERIFICATION_LOG.json`` as soon as the gate finishes, so a run
cut short still leaves a log of what happened.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from artifacts.models.base import ArtifactRef, Scalar
from gates.base import Gate, GateContext, GateResult, check
from gates.governance import config_hash
from gates.registry import all_gates
from gates.selection import parse_gate_range
from gates.verification_log import append_entry, entry_for, new_run_id

ProgressEvent = Literal["start", "done", "skipped"]
Progress = Callable[[ProgressEvent, Gate, GateResult | None], None]


@dataclass(frozen=True)
class RunReport:
    run_id: str
    selected: tuple[int, ...]
    results: tuple[GateResult, ...]
    skipped: tuple[int, ...]
    log: ArtifactRef | None
    stopped_at: int | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.results) and not self.skipped and all(r.passed for r in self.results)


def resolve(range_text: str) -> list[int]:
    """Gate numbers named by ``range_text`` (raises GateSelectionError with the accepted forms)."""
    return parse_gate_range(range_text, tuple(g.number for g in all_gates()))


def run_one(gate: Gate, ctx: GateContext) -> GateResult:
    """Run one gate; an exception becomes an ERROR result with the error attached."""
    started = ctx.clock()
    try:
        return gate.run(ctx)
    except Exception as exc:  # a bug or a broken environment: recorded, never a crash
        error = f"{type(exc).__name__}: {exc}"
        tail = traceback.format_exception(exc)[-3:]
        return GateResult(
            number=gate.number,
            name=gate.name,
            verdict="ERROR",
            evidence=(
                check(
                    f"gate {gate.number} ran without error",
                    error,
                    "no error",
                    False,
                    "this is a bug or a broken environment; " + "".join(tail).strip()[-400:],
                ),
            ),
            artifacts=(),
            started=started,
            finished=max(started, ctx.clock()),
            thresholds=_safe_thresholds(gate, ctx),
            error=error,
        )


def _safe_thresholds(gate: Gate, ctx: GateContext) -> dict[str, Scalar]:
    try:
        return dict(gate.thresholds(ctx.config))
    except Exception:
        return {}


def run_gates(
    numbers: Sequence[int],
    ctx: GateContext,
    *,
    keep_going: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """Run ``numbers`` in ascending order, appending each result to the verification log."""
    run_id = new_run_id()
    by_number = {g.number: g for g in all_gates()}
    chosen = sorted(set(numbers))
    current_hash = config_hash(ctx.config)
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    results: list[GateResult] = []
    log_ref: ArtifactRef | None = None
    stopped: int | None = None
    for i, number in enumerate(chosen):
        gate = by_number[number]
        if progress:
            progress("start", gate, None)
        result = run_one(gate, ctx)
        ctx.results[number] = result
        results.append(result)
        entry = entry_for(result, run_id=run_id, config_hash=current_hash, out_dir=ctx.out_dir)
        log_ref = append_entry(ctx.out_dir, entry, clock=ctx.clock)
        if progress:
            progress("done", gate, result)
        if not result.passed and not keep_going:
            stopped = number
            rest = chosen[i + 1 :]
            if progress:
                for n in rest:
                    progress("skipped", by_number[n], None)
            return RunReport(run_id, tuple(chosen), tuple(results), tuple(rest), log_ref, stopped)
    return RunReport(run_id, tuple(chosen), tuple(results), (), log_ref, stopped)
