"""The base of every artifact model, and the small typed building blocks artifacts share.

Every artifact is a frozen pydantic model that forbids unknown keys and carries four header fields:
``schema_version`` (bumped on a breaking change, see ``docs/artifacts.md``), ``artifact_type`` (a
``Literal`` naming the artifact, so a file identifies itself), ``generated_at`` (UTC) and
``tool_version`` (the algotrade version that wrote it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from contracts.messages import Direction, OrderStatus, OrderType

__all__ = [
    "ArtifactFormat",
    "ArtifactModel",
    "ArtifactRef",
    "ArtifactRow",
    "BrokerKind",
    "Direction",
    "Evidence",
    "Fraction",
    "FrozenModel",
    "GateVerdict",
    "KillSwitchEventRecord",
    "MarkdownArtifactModel",
    "MaskedAccountId",
    "NonNegFloat",
    "NonNegInt",
    "OrderStatus",
    "OrderType",
    "Scalar",
    "Sha256",
    "TradingMode",
    "UtcDatetime",
    "mask_account_id",
    "tool_version",
    "utc_now",
]

ArtifactFormat = Literal["json", "markdown", "csv"]

# JSON Schema cannot check a UTC offset through ``format: date-time`` (validators skip formats by
# default), so the schema carries a pattern that only admits ``Z`` or ``+00:00``.
UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|\+00:00)$"


def _require_utc(value: datetime) -> datetime:
    offset = value.utcoffset()
    if offset is None or offset.total_seconds() != 0:
        raise ValueError(
            f"timestamps must be UTC (offset +00:00 or 'Z'), got offset {offset}; "
            "convert with .astimezone(datetime.timezone.utc)"
        )
    return value.astimezone(UTC)


UtcDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_require_utc),
    Field(json_schema_extra={"pattern": UTC_PATTERN}),
]
"""A timezone-aware datetime whose offset is zero; serialised as ISO-8601 with ``Z``."""

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
"""Lower-case hex SHA-256 digest (64 characters)."""

MaskedAccountId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{0,3}\*{3,}[A-Za-z0-9]{0,4}$"),
    Field(description="Account id with all but the prefix and the last characters masked."),
]
"""An account id as it may appear in an artifact: e.g. ``DU*****567``, never in full."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
NonNegInt = Annotated[int, Field(ge=0)]
Scalar = bool | int | float | str | None
"""A measured value or threshold as recorded in evidence."""

GateVerdict = Literal["PASS", "FAIL", "ERROR", "SKIPPED"]

# Direction, OrderType and OrderStatus come from the message contracts: one closed set each.
BrokerKind = Literal["sim", "ib"]
TradingMode = Literal["paper", "live"]


def mask_account_id(account_id: str, *, keep_last: int = 3) -> str:
    """Mask an account id for artifacts and logs: ``DU1234567`` → ``DU****567``.

    The alphabetic prefix (``DU`` paper, ``U`` live) stays because it tells paper from live; at
    least three asterisks always appear so short ids are not revealed.
    """
    account_id = account_id.strip()
    prefix = ""
    for ch in account_id[:3]:
        if ch.isalpha():
            prefix += ch
        else:
            break
    rest = account_id[len(prefix) :]
    keep = min(keep_last, max(len(rest) - 3, 0), 4)
    tail = rest[len(rest) - keep :] if keep else ""
    return prefix + "*" * max(len(rest) - keep, 3) + tail


def tool_version() -> str:
    """The installed algotrade version (``0.0.0+source`` when running from an uninstalled tree)."""
    try:
        return version("algotrade")
    except PackageNotFoundError:
        return "0.0.0+source"


def utc_now() -> datetime:
    """Wall-clock UTC now — for the edges (CLI) only; core code takes the time as a parameter."""
    return datetime.now(UTC)


class FrozenModel(BaseModel):
    """Frozen, strict-keys base of every artifact part (no NaN or infinity)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True
    )


class ArtifactModel(FrozenModel):
    """Base of every artifact: the four header fields, and where and how it is stored.

    Subclasses narrow ``artifact_type`` and ``schema_version`` to ``Literal`` values and set the
    class variables ``FILE_NAME`` (the canonical file name, e.g. ``ACCOUNT_CONFIG.json``) and
    ``FORMAT`` (``json`` or ``markdown``).
    """

    FILE_NAME: ClassVar[str] = ""
    FORMAT: ClassVar[ArtifactFormat] = "json"

    schema_version: str = Field(
        title="Schema version",
        description="Version of this artifact's schema; bumped on a breaking change.",
    )
    artifact_type: str = Field(
        title="Artifact type", description="What this file is; lets a file identify itself."
    )
    generated_at: UtcDatetime = Field(
        title="Generated at", description="When it was written (UTC)."
    )
    tool_version: str = Field(
        min_length=1, title="Tool version", description="The algotrade version that wrote it."
    )

    @classmethod
    def artifact_type_name(cls) -> str:
        """The ``artifact_type`` literal of this model (e.g. ``"account_config"``)."""
        return str(cls.model_fields["artifact_type"].default)

    @classmethod
    def current_schema_version(cls) -> str:
        return str(cls.model_fields["schema_version"].default)

    @classmethod
    def schema_stem(cls) -> str:
        """File name without its extension: ``ACCOUNT_CONFIG`` — names the schema file."""
        return cls.FILE_NAME.rsplit(".", 1)[0]


class MarkdownArtifactModel(ArtifactModel):
    """A Markdown artifact: this model is the YAML front matter; ``default_body`` renders the rest."""

    FORMAT: ClassVar[ArtifactFormat] = "markdown"

    def default_body(self) -> str:
        """The human-readable Markdown body generated from the machine-readable part."""
        raise NotImplementedError(f"{type(self).__name__} must implement default_body()")


class ArtifactRow(FrozenModel):
    """One row of a CSV artifact; the header is the field names in declaration order."""

    FILE_NAME: ClassVar[str] = ""
    FORMAT: ClassVar[ArtifactFormat] = "csv"
    SCHEMA_VERSION: ClassVar[str] = "1"
    ARTIFACT_TYPE: ClassVar[str] = ""

    @classmethod
    def schema_stem(cls) -> str:
        return cls.FILE_NAME.rsplit(".", 1)[0]

    @classmethod
    def header(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)


class ArtifactRef(FrozenModel):
    """A file referenced from another artifact, pinned by its hash."""

    name: str = Field(
        min_length=1, title="Name", description="File name, e.g. ACCOUNT_CONFIG.json."
    )
    path: str = Field(
        min_length=1, title="Path", description="Path as written (relative to the output dir)."
    )
    sha256: Sha256 = Field(title="SHA-256", description="Hash of the file's bytes.")
    bytes: NonNegInt = Field(title="Size", description="Size in bytes.")
    artifact_type: str | None = Field(
        None, title="Artifact type", description="The artifact_type, when it is an artifact."
    )


class Evidence(FrozenModel):
    """One checked condition: what was measured, against what threshold, and whether it passed."""

    condition: str = Field(min_length=1, title="Condition", description="e.g. 'coverage >= 0.80'.")
    measured: Scalar = Field(title="Measured", description="The value observed.")
    threshold: Scalar = Field(None, title="Threshold", description="The value it is held to.")
    passed: bool = Field(title="Passed", description="Whether the condition held.")
    detail: str | None = Field(
        None, title="Detail", description="Why it failed and what to do next, or a note."
    )


class KillSwitchEventRecord(FrozenModel):
    """A kill-switch warning or trip, as recorded in backtest and paper artifacts."""

    at: UtcDatetime = Field(title="At", description="When it fired (UTC).")
    kind: Literal["pnl", "dd", "psr"] = Field(title="Kind", description="pnl, dd or psr.")
    level: Literal["warning", "halt"] = Field(title="Level", description="warning or halt.")
    action: Literal["NONE", "HALT_AND_FLATTEN", "HALT_AND_INVESTIGATE"] = Field(
        title="Action", description="What the switch did (NONE for a warning)."
    )
    value: float = Field(title="Value", description="The measured pnl/drawdown fraction or PSR.")
    threshold: float = Field(title="Threshold", description="The level it crossed.")
    latched: bool = Field(title="Latched", description="True once a halt is latched.")
    message: str = Field("", title="Message", description="Human-readable explanation.")


def json_schema_extra_note(note: str) -> dict[str, Any]:
    """A ``json_schema_extra`` carrying a rule JSON Schema cannot express (documented, checked by
    the model)."""
    return {"x-model-rule": note}
