"""``ROLLBACK_PROCEDURE.md`` — the emergency procedure, generated from the real commands."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.models.base import ArtifactRef, FrozenModel, MarkdownArtifactModel, NonNegFloat

__all__ = ["ProcedureStep", "RollbackProcedure"]


class ProcedureStep(FrozenModel):
    number: int = Field(ge=1, title="Step", description="1, 2, 3, …")
    name: str = Field(min_length=1, title="Name", description="STOP, DISCONNECT, FLATTEN, …")
    command: str | None = Field(
        None, title="Command", description="The exact algotrade command (None = manual step)."
    )
    purpose: str = Field(min_length=1, title="Purpose", description="What the step achieves.")
    done_when: str = Field(min_length=1, title="Done when", description="How to tell it worked.")
    timeout_seconds: NonNegFloat | None = Field(None, title="Timeout", description="Give up after.")


class RollbackProcedure(MarkdownArtifactModel):
    """The SPEC §7 procedure as commands to run, with the last drill's timing."""

    FILE_NAME: ClassVar[str] = "ROLLBACK_PROCEDURE.md"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["rollback_procedure"] = "rollback_procedure"

    steps: tuple[ProcedureStep, ...] = Field(min_length=1, title="Steps", description="In order.")
    one_command: str = Field(
        min_length=1,
        title="One command",
        description="Runs steps 1–4, e.g. 'algotrade rollback --yes'.",
    )
    target_seconds: float = Field(gt=0, title="Target", description="Flat within (seconds).")
    last_drill_seconds: NonNegFloat | None = Field(
        None, title="Last drill", description="How long the last drill took."
    )
    drill_report: ArtifactRef | None = Field(
        None, title="Drill report", description="ROLLBACK_REPORT.json of the last drill."
    )
    logs_dir: str | None = Field(None, title="Logs", description="Where to investigate.")
    dlq_location: str | None = Field(None, title="DLQ", description="Dead-letter location.")

    @model_validator(mode="after")
    def _numbered(self) -> RollbackProcedure:
        numbers = [s.number for s in self.steps]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"steps must be numbered 1..n in order, got {numbers}")
        return self

    def default_body(self) -> str:
        lines = [
            "\n# Rollback procedure\n",
            f"Target: flat within **{self.target_seconds:g} s**.",
        ]
        if self.last_drill_seconds is not None:
            lines.append(f"Last drill: flat after {self.last_drill_seconds:.1f} s.")
        lines.append(f"\nAll of steps 1–4 in one command:\n\n```\n{self.one_command}\n```\n")
        for step in self.steps:
            lines.append(f"## {step.number}. {step.name}\n\n{step.purpose}\n")
            if step.command:
                lines.append(f"```\n{step.command}\n```\n")
            timeout = f" (give up after {step.timeout_seconds:g} s)" if step.timeout_seconds else ""
            lines.append(f"Done when: {step.done_when}{timeout}\n")
        if self.logs_dir or self.dlq_location:
            lines.append(f"Logs: `{self.logs_dir or '—'}`; DLQ: `{self.dlq_location or '—'}`.\n")
        return "\n".join(lines)
