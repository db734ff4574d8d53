"""What a gate is: declared inputs and outputs, thresholds, and a verdict backed by evidence.

A gate never raises for an expected failure: a condition that does not hold is an
:class:`Evidence` row with ``passed=False`` and a ``next_step`` saying what to do about it. An
exception inside a gate is a bug or a broken environment; the runner turns it into a failed
result with the error attached, so one broken gate cannot hide the others' evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.config import AppConfig

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class GateInput:
    """Something a gate reads: produced by an earlier gate (``produced_by``) or supplied."""

    name: str
    description: str
    produced_by: int | None = None  # None: supplied by the user / repository


@dataclass(frozen=True)
class Evidence:
    """One checked condition: what was measured against which threshold."""

    condition: str
    measured: Any
    threshold: Any
    passed: bool
    next_step: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "condition": self.condition,
            "measured": self.measured,
            "threshold": self.threshold,
            "passed": self.passed,
            "next_step": self.next_step,
        }


@dataclass(frozen=True)
class ProducedArtifact:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class GateResult:
    number: int
    name: str
    passed: bool
    evidence: tuple[Evidence, ...]
    artifacts: tuple[ProducedArtifact, ...]
    started: datetime
    finished: datetime
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def failed_conditions(self) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if not e.passed)

    @property
    def seconds(self) -> float:
        return (self.finished - self.started).total_seconds()


@dataclass
class GateContext:
    """Everything a gate may touch, passed in: config, paths, clock, environment, options."""

    config: AppConfig
    out_dir: Path
    repo_root: Path
    clock: Clock
    environ: Mapping[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    results: dict[int, GateResult] = field(default_factory=dict)  # earlier gates in this run


class Gate(Protocol):
    number: int
    name: str
    summary: str
    inputs: tuple[GateInput, ...]
    outputs: tuple[str, ...]

    def thresholds(self, config: AppConfig) -> dict[str, Any]: ...

    def run(self, ctx: GateContext) -> GateResult: ...


def verdict(
    gate: Gate,
    ctx: GateContext,
    started: datetime,
    evidence: list[Evidence],
    artifacts: list[ProducedArtifact] | None = None,
) -> GateResult:
    """Build the result: a gate passes when it has evidence and every condition holds."""
    return GateResult(
        number=gate.number,
        name=gate.name,
        passed=bool(evidence) and all(e.passed for e in evidence),
        evidence=tuple(evidence),
        artifacts=tuple(artifacts or ()),
        started=started,
        finished=ctx.clock(),
        thresholds=gate.thresholds(ctx.config),
    )
