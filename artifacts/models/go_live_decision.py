"""``GO_LIVE_DECISION_GATE.md`` — gate 8's GO / NO-GO with every reason (front matter + body)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.markdown import md_table
from artifacts.models.base import (
    ArtifactRef,
    FrozenModel,
    GateVerdict,
    MarkdownArtifactModel,
    NonNegFloat,
    Sha256,
    UtcDatetime,
)
from artifacts.models.gate_common import GateHeader, evidence_markdown

__all__ = ["CapitalStage", "DrillEvidence", "GateSummary", "GoLiveDecision", "SignoffCheck"]


class GateSummary(FrozenModel):
    """A gate's latest verdict from the verification log, and whether its artifacts are unchanged."""

    number: int = Field(ge=1, le=7, title="Gate", description="Gate 1–7.")
    name: str = Field(min_length=1, title="Name", description="Gate name.")
    verdict: GateVerdict | Literal["MISSING"] = Field(
        title="Verdict", description="Latest verdict in the log (MISSING = never ran)."
    )
    artifacts: tuple[ArtifactRef, ...] = Field(
        (), title="Artifacts", description="Its artifacts with the hashes recorded in the log."
    )
    unchanged: bool = Field(title="Unchanged", description="Every artifact still has that hash.")
    changed_files: tuple[str, ...] = Field(
        (), title="Changed", description="Artifacts whose bytes differ from the log."
    )


class DrillEvidence(FrozenModel):
    """A drill that ran: the rollback drill or the kill-switch drill."""

    kind: Literal["rollback", "kill_switch"] = Field(title="Drill", description="Which drill.")
    ran: bool = Field(title="Ran", description="Whether the drill ran at all.")
    passed: bool = Field(title="Passed", description="Whether it showed what it must.")
    started_at: UtcDatetime | None = Field(None, title="Started", description="UTC.")
    seconds: NonNegFloat | None = Field(None, title="Seconds", description="Duration.")
    target_seconds: NonNegFloat | None = Field(
        None, title="Target", description="Rollback: flat within (120 s)."
    )
    observations: tuple[str, ...] = Field(
        (), title="Observations", description="e.g. 'HALT_AND_FLATTEN latched', 'flat after 3.2 s'."
    )
    report: ArtifactRef | None = Field(
        None, title="Report", description="ROLLBACK_REPORT.json or the drill's session log."
    )

    @model_validator(mode="after")
    def _ran(self) -> DrillEvidence:
        if self.passed and not self.ran:
            raise ValueError(f"the {self.kind} drill cannot pass without running")
        return self


class SignoffCheck(FrozenModel):
    role: str = Field(min_length=1, title="Role", description="Required role.")
    name: str | None = Field(None, title="Name", description="Who signed.")
    signed_at: UtcDatetime | None = Field(None, title="Signed at", description="UTC.")
    valid: bool = Field(title="Valid", description="Signed and still bound to the current hashes.")
    reason: str | None = Field(None, title="Reason", description="Why not valid.")


class CapitalStage(FrozenModel):
    """The scale-up stage of SPEC §8 the order plane enforces."""

    name: str = Field(min_length=1, title="Stage", description="pilot, ramp, full.")
    capital_fraction: float = Field(gt=0, le=1, title="Fraction", description="Of full capital.")
    capital: float = Field(gt=0, title="Capital", description="Capital allowed, currency.")
    max_position: float | None = Field(None, gt=0, title="Max position", description="Currency.")
    weeks: int | None = Field(None, ge=1, title="Weeks", description="Duration of the stage.")


class GoLiveDecision(MarkdownArtifactModel):
    """GO only when gates 1–7 passed with unchanged artifacts, both drills passed and every
    required role signed validly."""

    FILE_NAME: ClassVar[str] = "GO_LIVE_DECISION_GATE.md"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["go_live_decision"] = "go_live_decision"

    decision: Literal["GO", "NO-GO"] = Field(title="Decision", description="GO or NO-GO.")
    reasons: tuple[str, ...] = Field(
        min_length=1, title="Reasons", description="Every reason; for NO-GO, every failure."
    )
    gate: GateHeader = Field(title="Gate", description="Gate 8 header and evidence.")
    gates: tuple[GateSummary, ...] = Field(title="Gates 1–7", description="Verdicts and hashes.")
    rollback_drill: DrillEvidence = Field(title="Rollback drill", description="Evidence.")
    kill_switch_drill: DrillEvidence = Field(title="Kill-switch drill", description="Evidence.")
    signoffs: tuple[SignoffCheck, ...] = Field(title="Sign-offs", description="Required roles.")
    capital_stage: CapitalStage | None = Field(
        None, title="Capital stage", description="Stage and caps (required for GO)."
    )
    config_hash: Sha256 = Field(title="Config hash", description="Config decided on.")
    strategy_hash: Sha256 | None = Field(None, title="Strategy hash", description="Strategy.")
    verification_log: ArtifactRef | None = Field(
        None, title="Log", description="PRELIVE_VERIFICATION_LOG.json the decision read."
    )

    @model_validator(mode="after")
    def _go_requires_everything(self) -> GoLiveDecision:
        if self.decision != "GO":
            if self.gate.verdict == "PASS":
                raise ValueError("decision NO-GO contradicts gate 8 evidence that all passed")
            return self
        problems = [f"gate {g.number} {g.verdict}" for g in self.gates if g.verdict != "PASS"]
        problems += [f"gate {g.number} artifacts changed" for g in self.gates if not g.unchanged]
        if sorted(g.number for g in self.gates) != list(range(1, 8)):
            problems.append("gates 1–7 must all be listed")
        problems += [
            f"{d.kind} drill" for d in (self.rollback_drill, self.kill_switch_drill) if not d.passed
        ]
        problems += [f"sign-off {s.role}" for s in self.signoffs if not s.valid]
        if not self.signoffs:
            problems.append("no sign-offs")
        if self.capital_stage is None:
            problems.append("capital_stage missing")
        if self.gate.verdict != "PASS":
            problems.append("gate 8 evidence failed")
        if problems:
            raise ValueError("decision GO contradicts: " + ", ".join(problems))
        return self

    def default_body(self) -> str:
        gates = md_table(
            ("gate", "name", "verdict", "artifacts unchanged", "artifacts"),
            (
                (
                    g.number,
                    g.name,
                    g.verdict,
                    g.unchanged,
                    ", ".join(f"{a.name} `{a.sha256[:12]}`" for a in g.artifacts),
                )
                for g in self.gates
            ),
        )
        drills = md_table(
            ("drill", "ran", "passed", "seconds", "target", "observations"),
            (
                (d.kind, d.ran, d.passed, d.seconds, d.target_seconds, "; ".join(d.observations))
                for d in (self.rollback_drill, self.kill_switch_drill)
            ),
        )
        signs = md_table(
            ("role", "name", "signed at", "valid", "reason"),
            ((s.role, s.name, s.signed_at, s.valid, s.reason) for s in self.signoffs),
        )
        reasons = "".join(f"- {r}\n" for r in self.reasons)
        stage = "No capital stage: trading live is not allowed.\n"
        if self.capital_stage is not None:
            c = self.capital_stage
            cap = f", max position {c.max_position:,.0f}" if c.max_position else ""
            weeks = f" for {c.weeks} week(s)" if c.weeks else ""
            stage = (
                f"Stage **{c.name}**{weeks}: {c.capital_fraction:.0%} of capital = "
                f"{c.capital:,.0f}{cap}.\n"
            )
        return (
            f"\n# Go-live decision: **{self.decision}**\n\n## Reasons\n\n{reasons}\n"
            + evidence_markdown(self.gate)
            + f"\n## Gates 1–7\n\n{gates}"
            + f"\n## Drills\n\n{drills}"
            + f"\n## Sign-offs\n\n{signs}"
            + f"\n## Capital stage\n\n{stage}"
        )
