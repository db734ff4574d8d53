"""Parts shared by the gate reports: the gate header with its verdict and evidence."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from artifacts.markdown import md_table
from artifacts.models.base import Evidence, FrozenModel, Sha256

__all__ = ["GateHeader", "evidence_markdown"]


class GateHeader(FrozenModel):
    """Which gate wrote the report, its verdict and the evidence behind it."""

    number: int = Field(ge=1, le=8, title="Gate", description="Gate number 1–8.")
    name: str = Field(min_length=1, title="Name", description="Gate name.")
    verdict: Literal["PASS", "FAIL"] = Field(title="Verdict", description="PASS or FAIL.")
    evidence: tuple[Evidence, ...] = Field(
        min_length=1, title="Evidence", description="Conditions checked."
    )
    config_hash: Sha256 = Field(title="Config hash", description="SHA-256 of the effective config.")

    @model_validator(mode="after")
    def _verdict_follows_evidence(self) -> GateHeader:
        all_passed = all(e.passed for e in self.evidence)
        if (self.verdict == "PASS") != all_passed:
            raise ValueError(
                f"verdict {self.verdict} contradicts the evidence "
                f"({'all' if all_passed else 'not all'} conditions passed)"
            )
        return self


def evidence_markdown(header: GateHeader) -> str:
    """``## Verdict`` section: the verdict line and the evidence table."""
    rows = [
        (e.condition, e.measured, e.threshold, "PASS" if e.passed else "FAIL", e.detail)
        for e in header.evidence
    ]
    return (
        f"## Verdict: {header.verdict}\n\n"
        + md_table(("condition", "measured", "threshold", "result", "detail"), rows)
        + f"\nConfig SHA-256: `{header.config_hash}`\n"
    )
