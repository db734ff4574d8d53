"""``GOVERNANCE_SIGNOFFS.json`` — named sign-offs by role, each bound to hashes of what was signed."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from artifacts.models.base import ArtifactModel, ArtifactRef, FrozenModel, Sha256, UtcDatetime

__all__ = ["BoundHashes", "GovernanceSignoffs", "Role", "SignOff"]

Role = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
"""A role key such as ``risk_officer``, ``cto``, ``lead_trader`` (the config lists the required ones)."""


class BoundHashes(FrozenModel):
    """What a sign-off covers. Any change to these makes the sign-off stale."""

    config_hash: Sha256 = Field(title="Config", description="SHA-256 of the effective config.")
    strategy_hash: Sha256 = Field(
        title="Strategy",
        description="SHA-256 of the strategy parameters (signals, portfolio, risk).",
    )
    artifacts: tuple[ArtifactRef, ...] = Field(
        (), title="Artifacts", description="Artifacts reviewed, pinned by hash."
    )


class SignOff(FrozenModel):
    """One person's sign-off in one role."""

    role: Role = Field(title="Role", description="risk_officer, cto, lead_trader, …")
    name: str = Field(min_length=1, title="Name", description="Who signed.")
    signed_at: UtcDatetime = Field(title="Signed at", description="UTC.")
    statement: str = Field(
        "", title="Statement", description="What the signer attests (free text)."
    )
    bound: BoundHashes = Field(title="Bound to", description="Hashes of what was signed.")
    revoked_at: UtcDatetime | None = Field(
        None, title="Revoked", description="When the sign-off was withdrawn (None = standing)."
    )


class GovernanceSignoffs(ArtifactModel):
    """Every sign-off ever recorded, oldest first; the latest standing one per role counts."""

    FILE_NAME: ClassVar[str] = "GOVERNANCE_SIGNOFFS.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["governance_signoffs"] = "governance_signoffs"

    signoffs: tuple[SignOff, ...] = Field(title="Sign-offs", description="In the order recorded.")

    def latest_by_role(self) -> dict[str, SignOff]:
        """The most recent non-revoked sign-off of each role."""
        out: dict[str, SignOff] = {}
        for signoff in self.signoffs:
            if signoff.revoked_at is None:
                out[signoff.role] = signoff
        return out
