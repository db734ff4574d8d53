"""``PRELIVE_VERIFICATION_LOG.json`` — every gate run: verdict, evidence, thresholds, artifact hashes."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.models.base import (
    ArtifactModel,
    ArtifactRef,
    Evidence,
    FrozenModel,
    GateVerdict,
    NonNegFloat,
    Scalar,
    Sha256,
    UtcDatetime,
)

__all__ = ["GateLogEntry", "PreliveVerificationLog"]


class GateLogEntry(FrozenModel):
    """One gate run, appended by the gate runner."""

    run_id: str = Field(min_length=1, title="Run id", description="Groups the gates of one run.")
    gate: int = Field(ge=1, le=8, title="Gate", description="Gate number 1–8.")
    name: str = Field(min_length=1, title="Name", description="Gate name, e.g. 'Account probe'.")
    verdict: GateVerdict = Field(
        title="Verdict",
        description="PASS, FAIL, ERROR (the check could not run) or SKIPPED (not run).",
    )
    evidence: tuple[Evidence, ...] = Field(
        title="Evidence", description="Each condition checked, measured value and threshold."
    )
    thresholds: dict[str, Scalar] = Field(
        default_factory=dict, title="Thresholds", description="Thresholds used, from the config."
    )
    inputs: tuple[ArtifactRef, ...] = Field(
        (), title="Inputs", description="Artifacts read, pinned by hash."
    )
    artifacts: tuple[ArtifactRef, ...] = Field(
        (), title="Artifacts", description="Artifacts written, with their SHA-256."
    )
    started_at: UtcDatetime = Field(title="Started", description="UTC.")
    finished_at: UtcDatetime = Field(title="Finished", description="UTC.")
    duration_seconds: NonNegFloat = Field(title="Duration", description="Wall seconds.")
    tool_version: str = Field(min_length=1, title="Tool version", description="algotrade version.")
    config_hash: Sha256 = Field(title="Config hash", description="SHA-256 of the effective config.")
    message: str | None = Field(
        None, title="Message", description="Summary; on failure, what failed and what to do next."
    )

    @model_validator(mode="after")
    def _consistent(self) -> GateLogEntry:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        if self.verdict == "PASS" and not all(e.passed for e in self.evidence):
            failed = [e.condition for e in self.evidence if not e.passed]
            raise ValueError(f"verdict PASS but evidence failed: {failed}")
        if self.verdict == "FAIL" and all(e.passed for e in self.evidence):
            raise ValueError("verdict FAIL needs at least one failed evidence item")
        return self


class PreliveVerificationLog(ArtifactModel):
    """The append-only record of gate runs (the runner rewrites the file atomically per entry)."""

    FILE_NAME: ClassVar[str] = "PRELIVE_VERIFICATION_LOG.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["prelive_verification_log"] = "prelive_verification_log"

    config_hash: Sha256 = Field(title="Config hash", description="Config of the latest entry.")
    entries: tuple[GateLogEntry, ...] = Field(
        title="Entries", description="Gate runs in the order they ran (oldest first)."
    )

    def latest(self, gate: int) -> GateLogEntry | None:
        """The most recent entry for ``gate`` (None if it never ran)."""
        for entry in reversed(self.entries):
            if entry.gate == gate:
                return entry
        return None

    def appended(self, entry: GateLogEntry, *, generated_at: UtcDatetime) -> PreliveVerificationLog:
        """A new log with ``entry`` appended (the model is frozen)."""
        return self.model_copy(
            update={
                "entries": (*self.entries, entry),
                "config_hash": entry.config_hash,
                "generated_at": generated_at,
            }
        )
