"""Gate 8 — the go-live decision: GO only when everything below holds, NO-GO naming every reason.

1. gates 1–7 passed (their latest entries in ``PRELIVE_VERIFICATION_LOG.json``), under the current
   config hash, and every file those entries list (artifacts written and inputs read) still has
   the SHA-256 recorded — one changed byte is NO-GO naming the file;
2. a rollback drill that ran and ended flat within the target (``ROLLBACK_REPORT.json``);
3. a kill-switch drill that ran: HALT_AND_FLATTEN observed, flattened, latch persisted;
4. governance signed by every required role, each sign-off still bound to the current hashes.

Writes ``GO_LIVE_DECISION_GATE.md`` (with the capital stage of SPEC §8 and its caps) and
``ROLLBACK_PROCEDURE.md``; the runner appends the final log entry.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artifacts.models.base import ArtifactRef, Evidence, Scalar, tool_version
from artifacts.models.go_live_decision import (
    CapitalStage,
    DrillEvidence,
    GateSummary,
    GoLiveDecision,
    SignoffCheck,
)
from gates.base import GateContext, GateInput, GateResult, check, header, verdict
from gates.drills import DrillOutcome, kill_switch_drill, rollback_drill
from gates.governance import SIGNOFFS_FILE, check_signoffs, config_hash, strategy_hash
from gates.output import pin, write_report
from gates.procedure import rollback_procedure
from gates.verification_log import LOG_FILE, changed_files, load_log

if TYPE_CHECKING:
    from artifacts.models.prelive_verification_log import PreliveVerificationLog
    from engine.config import AppConfig

GATE_NAMES = {
    1: "Artifact validation",
    2: "Hierarchical breakdown",
    3: "Interface mapping",
    4: "Implementation",
    5: "Test infrastructure",
    6: "Account probe",
    7: "Paper trading",
}


def capital_stage(config: AppConfig) -> CapitalStage:
    """The first scale-up stage (SPEC §8: the week-1 pilot) with its caps."""
    stage = config.gates.stages[0]
    return CapitalStage(
        name=stage.name,
        capital_fraction=stage.capital_fraction,
        capital=config.gates.capital * stage.capital_fraction,
        max_position=stage.max_position,
        weeks=stage.weeks,
    )


@dataclass(frozen=True)
class GoLiveGate:
    number: int = 8
    name: str = "Go-live decision"
    summary: str = (
        "gates 1–7 passed with unchanged artifacts AND rollback drill verified AND kill-switch "
        "drill verified AND governance signed by every required role"
    )
    inputs: tuple[GateInput, ...] = (
        GateInput(LOG_FILE, "every gate's verdict and artifact hashes (written by the runner)"),
        GateInput("IBKR_ARTIFACT_VALIDATION_REPORT.md", "gate 1 report", 1),
        GateInput("IBKR_INTEGRATION_FLOW.md", "gate 2 report", 2),
        GateInput("IBKR_INTERFACE_MAP.md", "gate 3 report", 3),
        GateInput("IMPLEMENTATION_TEST_REPORT.json", "gate 4 report", 4),
        GateInput("TEST_INVENTORY.json", "gate 5 report", 5),
        GateInput("ACCOUNT_CONFIG.json", "gate 6 probe", 6),
        GateInput("PAPER_TRADING_LOG.json", "gate 7 session", 7),
        GateInput(SIGNOFFS_FILE, "sign-offs by risk_officer, cto, lead_trader"),
    )
    outputs: tuple[str, ...] = (
        GoLiveDecision.FILE_NAME,
        "ROLLBACK_PROCEDURE.md",
        "ROLLBACK_REPORT.json",
        LOG_FILE,
    )

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        return {
            "rollback_target_seconds": config.gates.rollback_target_seconds,
            "required_roles": ",".join(config.gates.required_roles),
            "stage": config.gates.stages[0].name,
        }

    def run(self, ctx: GateContext) -> GateResult:
        started = ctx.clock()
        current = config_hash(ctx.config)
        log = load_log(ctx.out_dir)
        log_ref = pin(ctx, ctx.out_dir / LOG_FILE) if log is not None else None
        summaries, evidence = _gates_evidence(ctx, log, current)

        t0 = time.perf_counter()
        rb = rollback_drill(ctx)
        t1 = time.perf_counter()
        ks = kill_switch_drill(ctx)
        drill_wall = {"rollback": t1 - t0, "kill_switch": time.perf_counter() - t1}
        evidence += [_drill_evidence(rb), _drill_evidence(ks)]

        states = check_signoffs(ctx.out_dir, ctx.config, config_source=ctx.config_source)
        for s in states:
            evidence.append(
                check(f"signed by {s.role}", s.signoff.name if s.signoff else None,
                      "valid sign-off", s.valid, s.reason or "")
            )  # fmt: skip

        go = all(e.passed for e in evidence)
        stage = capital_stage(ctx.config)
        failed = [e for e in evidence if not e.passed]
        reasons = (
            tuple(_reason(e) for e in failed)
            if failed
            else (
                "gates 1–7 passed and their artifacts are unchanged",
                *(f"{d.kind} drill: {'; '.join(d.observations)}" for d in (rb, ks)),
                "signed by " + ", ".join(f"{s.role} ({s.signoff.name})" for s in states
                                         if s.signoff),
                f"start at stage {stage.name}: {stage.capital:,.0f} capital"
                + (f", max position {stage.max_position:,.0f}" if stage.max_position else ""),
            )
        )  # fmt: skip
        artifacts: list[ArtifactRef] = []
        artifacts += [d.report for d in (rb, ks) if d.report is not None]
        decision = GoLiveDecision(
            generated_at=ctx.clock(),
            tool_version=tool_version(),
            decision="GO" if go else "NO-GO",
            reasons=reasons,
            gate=header(self, ctx, evidence),
            gates=tuple(summaries),
            rollback_drill=_drill_model(rb),
            kill_switch_drill=_drill_model(ks),
            signoffs=tuple(SignoffCheck(**s.fields()) for s in states),
            capital_stage=stage,
            config_hash=current,
            strategy_hash=strategy_hash(ctx.config),
            verification_log=log_ref,
        )
        artifacts.insert(0, write_report(ctx, decision))
        procedure = rollback_procedure(ctx, last_drill_seconds=rb.seconds, drill_report=rb.report)
        artifacts.insert(1, write_report(ctx, procedure))
        inputs = [ctx.out_dir / LOG_FILE, ctx.out_dir / SIGNOFFS_FILE]
        return verdict(
            self, ctx, started, evidence, artifacts, inputs=inputs,
            details={
                "decision": decision.decision,
                "reasons": list(reasons),
                "drill_wall_seconds": drill_wall,
            },
        )  # fmt: skip


def _gates_evidence(
    ctx: GateContext, log: PreliveVerificationLog | None, current: str
) -> tuple[list[GateSummary], list[Evidence]]:
    summaries: list[GateSummary] = []
    evidence: list[Evidence] = []
    for number, name in GATE_NAMES.items():
        entry = log.latest(number) if log is not None else None
        if entry is None:
            summaries.append(GateSummary(number=number, name=name, verdict="MISSING",
                                         unchanged=False))  # fmt: skip
            evidence.append(
                check(f"gate {number} ({name}) passed", "MISSING", "PASS", False,
                      f"gate {number} never ran in {ctx.out_dir / LOG_FILE}; run "
                      f"`algotrade gate run 1-8`")
            )  # fmt: skip
            continue
        # The sign-off file is re-checked below as it stands now: a later sign-off (e.g. one
        # covering the paper-trading artifacts) must not invalidate gate 1's evidence.
        inputs = tuple(i for i in entry.inputs if i.name != SIGNOFFS_FILE)
        changed = changed_files((*entry.artifacts, *inputs), ctx.out_dir)
        summaries.append(
            GateSummary(number=number, name=entry.name, verdict=entry.verdict,
                        artifacts=entry.artifacts, unchanged=not changed,
                        changed_files=tuple(changed))
        )  # fmt: skip
        evidence.append(
            check(f"gate {number} ({entry.name}) passed", entry.verdict, "PASS",
                  entry.verdict == "PASS",
                  "failed: " + ", ".join(e.condition for e in entry.evidence if not e.passed)
                  + f"; fix it and run `algotrade gate run {number}-8`")
        )  # fmt: skip
        evidence.append(
            check(f"gate {number} files unchanged since it ran", ", ".join(changed) or "unchanged",
                  "unchanged", not changed,
                  f"changed after gate {number} passed: {', '.join(changed)}; run `algotrade "
                  f"gate run {number}-8` again")
        )  # fmt: skip
        if entry.config_hash != current:
            evidence.append(
                check(f"gate {number} ran under the current config", entry.config_hash[:12],
                      current[:12], False,
                      f"the config ({ctx.config_source}) changed since gate {number} ran; run "
                      f"`algotrade gate run {number}-8` again")
            )  # fmt: skip
    return summaries, evidence


def _drill_evidence(d: DrillOutcome) -> Evidence:
    label = "rollback drill ran and ended flat within target" if d.kind == "rollback" else (
        "kill-switch drill ran: HALT_AND_FLATTEN, flattened, latch persisted"
    )  # fmt: skip
    measured = f"{d.seconds:.2f} s" if d.seconds is not None and d.ran else "did not run"
    return check(label, measured if d.passed else "; ".join(d.failures) or measured,
                 f"≤ {d.target_seconds:g} s" if d.target_seconds else "passed", d.passed,
                 "; ".join(d.failures) if d.failures else "; ".join(d.observations))  # fmt: skip


def _drill_model(d: DrillOutcome) -> DrillEvidence:
    return DrillEvidence(
        kind=d.kind,
        ran=d.ran,
        passed=d.passed and d.ran,
        started_at=d.started_at,
        seconds=d.seconds,
        target_seconds=d.target_seconds,
        observations=tuple(d.observations + [f"FAILED: {f}" for f in d.failures]),
        report=d.report,
    )


def _reason(e: Evidence) -> str:
    text = f"{e.condition}: measured {e.measured}, required {e.threshold}"
    return text + (f" — {e.detail}" if e.detail else "")
