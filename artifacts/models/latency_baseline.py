"""``LATENCY_BASELINE.json`` — the mock baseline gate 7 compares paper latency against."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.models.base import ArtifactModel, NonNegFloat, Sha256, UtcDatetime

__all__ = ["LatencyBaseline"]


class LatencyBaseline(ArtifactModel):
    """Intent → acknowledgement latency measured against the simulated broker (milliseconds).

    Recorded by ``algotrade paper-session --record-baseline``; percentiles must be ordered
    p50 ≤ p95 ≤ p99 ≤ max.
    """

    FILE_NAME: ClassVar[str] = "LATENCY_BASELINE.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["latency_baseline"] = "latency_baseline"

    broker_kind: Literal["sim", "ib"] = Field(
        title="Broker", description="Where the baseline was measured (sim = the mock)."
    )
    measure: Literal["intent_to_ack", "intent_to_fill"] = Field(
        "intent_to_ack", title="Measure", description="Which latency the percentiles describe."
    )
    samples: int = Field(ge=1, title="Samples", description="Number of orders measured.")
    p50_ms: NonNegFloat = Field(title="p50", description="Median latency, milliseconds.")
    p95_ms: NonNegFloat = Field(title="p95", description="95th percentile, milliseconds.")
    p99_ms: NonNegFloat = Field(title="p99", description="99th percentile, milliseconds.")
    mean_ms: NonNegFloat = Field(title="Mean", description="Mean latency, milliseconds.")
    max_ms: NonNegFloat = Field(title="Max", description="Largest latency, milliseconds.")
    measured_from: UtcDatetime = Field(title="From", description="First sample (UTC).")
    measured_to: UtcDatetime = Field(title="To", description="Last sample (UTC).")
    seed: int | None = Field(None, title="Seed", description="Simulator seed, when seeded.")
    config_hash: Sha256 | None = Field(
        None, title="Config hash", description="SHA-256 of the effective config."
    )
    notes: tuple[str, ...] = Field((), title="Notes", description="Anything a reader should know.")

    @model_validator(mode="after")
    def _ordered(self) -> LatencyBaseline:
        if not (self.p50_ms <= self.p95_ms <= self.p99_ms <= self.max_ms):
            raise ValueError(
                "percentiles must be ordered p50_ms <= p95_ms <= p99_ms <= max_ms, got "
                f"{self.p50_ms}, {self.p95_ms}, {self.p99_ms}, {self.max_ms}"
            )
        if self.measured_to < self.measured_from:
            raise ValueError("measured_to is before measured_from")
        return self
