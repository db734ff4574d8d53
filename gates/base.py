"""What a gate is: declared inputs and outputs, thresholds, and a verdict backed by evidence.

A gate never raises for an expected failure: a condition that does not hold is an
:class:`~artifacts.models.base.Evidence` row with ``passed=False`` and a ``detail`` saying what to
do about it. An exception inside a gate is a bug or a broken environment; the runner turns it into
an ``ERROR`` result with the error attached, so one broken gate cannot hide the others' evidence.

Evidence is the artifact model itself (one definition, validated by the same JSON Schema that
checks ``PRELIVE_VERIFICATION_LOG.json``); :func:`check` builds one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from artifacts.models.base import ArtifactRef, Evidence, GateVerdict, Scalar
from artifacts.models.gate_common import GateHeader

if TYPE_CHECKING:
    from engine.config import AppConfig

__all__ = [
    "Clock",
    "Evidence",
    "Gate",
    "GateContext",
    "GateInput",
    "GateOptions",
    "GateResult",
    "check",
    "header",
    "verdict",
]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class GateInput:
    """Something a gate reads: produced by an earlier gate (``produced_by``) or supplied."""

    name: str
    description: str
    produced_by: int | None = None  # None: supplied by the user / repository


def check(
    condition: str,
    measured: Any,
    threshold: Any,
    passed: bool,
    next_step: str = "",
) -> Evidence:
    """One checked condition; ``next_step`` (what to do when it fails, or a note) is its detail."""
    return Evidence(
        condition=condition,
        measured=_scalar(measured),
        threshold=_scalar(threshold),
        passed=bool(passed),
        detail=next_step or None,
    )


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


@dataclass(frozen=True)
class GateResult:
    """What one gate run found. ``verdict`` is PASS, FAIL or ERROR (the check could not run)."""

    number: int
    name: str
    verdict: GateVerdict
    evidence: tuple[Evidence, ...]
    artifacts: tuple[ArtifactRef, ...]
    started: datetime
    finished: datetime
    thresholds: Mapping[str, Scalar] = field(default_factory=dict)
    inputs: tuple[Path, ...] = ()
    error: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "PASS"

    @property
    def failed_conditions(self) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if not e.passed)

    @property
    def seconds(self) -> float:
        return max(0.0, (self.finished - self.started).total_seconds())


@dataclass(frozen=True)
class GateOptions:
    """Run options from the command line; every field has the offline default."""

    coverage_report: Path | None = None
    run_coverage: bool = False
    broker: Literal["sim", "ib"] | None = None  # None: config.broker.kind
    host: str | None = None
    port: int | None = None
    client_id: int | None = None
    sim_cash: float = 1_000_000.0
    run_session: bool | None = None  # None: run the paper session when the planes provide it
    session_speed: float | None = None
    session_hours: float | None = None
    broker_test_args: tuple[str, ...] = ("-m", "broker", "tests/test_engine/test_broker")
    stage_test_args: tuple[str, ...] = ()  # () = the three stage files that exist
    python: str | None = None  # interpreter for the pytest subprocesses (default sys.executable)
    command_help: Mapping[str, str] = field(default_factory=dict)  # CLI command → help text
    # Runs a paper session writing its artifacts into ctx.out_dir; returns a one-line note.
    paper_session: Callable[[GateContext], str] | None = None


@dataclass
class GateContext:
    """Everything a gate may touch, passed in: config, paths, clock, environment, options."""

    config: AppConfig
    out_dir: Path
    repo_root: Path
    clock: Clock
    environ: Mapping[str, str] = field(default_factory=dict)
    options: GateOptions = field(default_factory=GateOptions)
    results: dict[int, GateResult] = field(default_factory=dict)  # earlier gates in this run
    config_source: str = "the effective config"

    def repo_path(self, path: str | Path) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.repo_root / p


class Gate(Protocol):
    """A gate: its number, name, what passes, what it reads and writes, thresholds and check."""

    @property
    def number(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def summary(self) -> str: ...

    @property
    def inputs(self) -> tuple[GateInput, ...]: ...

    @property
    def outputs(self) -> tuple[str, ...]: ...

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]: ...

    def run(self, ctx: GateContext) -> GateResult: ...


def header(gate: Gate, ctx: GateContext, evidence: list[Evidence]) -> GateHeader:
    """The gate header a report carries (PASS only when every condition holds)."""
    from gates.governance import config_hash

    return GateHeader(
        number=gate.number,
        name=gate.name,
        verdict="PASS" if evidence and all(e.passed for e in evidence) else "FAIL",
        evidence=tuple(evidence),
        config_hash=config_hash(ctx.config),
    )


def verdict(
    gate: Gate,
    ctx: GateContext,
    started: datetime,
    evidence: list[Evidence],
    artifacts: list[ArtifactRef] | None = None,
    *,
    inputs: list[Path] | None = None,
    details: Mapping[str, Any] | None = None,
) -> GateResult:
    """Build the result: a gate passes when it has evidence and every condition holds."""
    ok = bool(evidence) and all(e.passed for e in evidence)
    return GateResult(
        number=gate.number,
        name=gate.name,
        verdict="PASS" if ok else "FAIL",
        evidence=tuple(evidence),
        artifacts=tuple(artifacts or ()),
        started=started,
        finished=max(started, ctx.clock()),
        thresholds=gate.thresholds(ctx.config),
        inputs=tuple(inputs or ()),
        details=dict(details or {}),
    )
