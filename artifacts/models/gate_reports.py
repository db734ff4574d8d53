"""The reports of gates 1–5.

Gates 1–3 write Markdown (front matter + body): ``IBKR_ARTIFACT_VALIDATION_REPORT.md``,
``IBKR_INTEGRATION_FLOW.md``, ``IBKR_INTERFACE_MAP.md``. Gates 4 and 5 write JSON:
``IMPLEMENTATION_TEST_REPORT.json`` and ``TEST_INVENTORY.json``.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from artifacts.markdown import md_table
from artifacts.models.base import (
    ArtifactModel,
    ArtifactRef,
    Fraction,
    FrozenModel,
    MarkdownArtifactModel,
    NonNegFloat,
    NonNegInt,
    Scalar,
    Sha256,
    UtcDatetime,
)
from artifacts.models.gate_common import GateHeader, evidence_markdown

__all__ = [
    "ArtifactValidationReport",
    "CoverageCheck",
    "ErrorCodePolicy",
    "FixtureCheck",
    "FlowInput",
    "FlowStage",
    "ImplementationTestReport",
    "IntegrationFlow",
    "InterfaceMap",
    "OperationMapping",
    "SignoffStatus",
    "StageTests",
    "TestFailure",
    "TestInventory",
]


# ------------------------------------------------------------------------------ gate 1


class CoverageCheck(FrozenModel):
    measured: Fraction = Field(title="Coverage", description="Line (or branch) coverage, 0–1.")
    threshold: Fraction = Field(title="Threshold", description="Required coverage.")
    source: str = Field(min_length=1, title="Source", description="Coverage report read.")
    source_sha256: Sha256 | None = Field(None, title="Source hash", description="Its SHA-256.")
    kind: Literal["line", "branch", "combined"] = Field(
        "combined", title="Kind", description="Which coverage figure."
    )


class SignoffStatus(FrozenModel):
    role: str = Field(min_length=1, title="Role", description="Required role.")
    name: str | None = Field(None, title="Name", description="Who signed (None = unsigned).")
    signed_at: UtcDatetime | None = Field(None, title="Signed at", description="UTC.")
    valid: bool = Field(title="Valid", description="Signed and bound hashes still match.")
    reason: str | None = Field(None, title="Reason", description="Why not valid.")


class FixtureCheck(FrozenModel):
    path: str = Field(min_length=1, title="File", description="Fixture checked.")
    schema_name: str = Field(
        min_length=1, title="Schema", description="Schema it was checked with."
    )
    valid: bool = Field(title="Valid", description="Whether it validated.")
    sha256: Sha256 | None = Field(None, title="SHA-256", description="Hash (None if unreadable).")
    errors: tuple[str, ...] = Field((), title="Errors", description="What is wrong.")


class ArtifactValidationReport(MarkdownArtifactModel):
    """Gate 1: coverage, governance sign-offs and fixture validity."""

    FILE_NAME: ClassVar[str] = "IBKR_ARTIFACT_VALIDATION_REPORT.md"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["artifact_validation_report"] = "artifact_validation_report"

    gate: GateHeader = Field(title="Gate", description="Gate 1 header and verdict.")
    coverage: CoverageCheck = Field(title="Coverage", description="Test coverage.")
    signoffs: tuple[SignoffStatus, ...] = Field(title="Sign-offs", description="Per role.")
    fixtures: tuple[FixtureCheck, ...] = Field(title="Fixtures", description="Per file.")

    def default_body(self) -> str:
        sign = md_table(
            ("role", "name", "signed at", "valid", "reason"),
            ((s.role, s.name, s.signed_at, s.valid, s.reason) for s in self.signoffs),
        )
        fix = md_table(
            ("file", "schema", "valid", "errors"),
            ((f.path, f.schema_name, f.valid, "; ".join(f.errors)) for f in self.fixtures),
        )
        c = self.coverage
        return (
            "\n# Gate 1 — Artifact validation\n\n"
            + evidence_markdown(self.gate)
            + f"\n## Coverage\n\n{c.measured:.2%} ({c.kind}) against {c.threshold:.0%}, "
            f"from `{c.source}`.\n"
            + f"\n## Governance sign-offs\n\n{sign}"
            + f"\n## Fixtures\n\n{fix}"
        )


# ------------------------------------------------------------------------------ gate 2


class FlowInput(FrozenModel):
    name: str = Field(min_length=1, title="Input", description="Artifact or resource name.")
    produced_by: int | None = Field(
        None, ge=1, le=8, title="Produced by", description="Earlier gate that writes it."
    )
    supplied: bool = Field(False, title="Supplied", description="Given by the user/repository.")


class FlowStage(FrozenModel):
    number: int = Field(ge=1, le=8, title="Gate", description="Gate number.")
    name: str = Field(min_length=1, title="Name", description="Gate name.")
    passes_when: str = Field(min_length=1, title="Passes when", description="The condition.")
    inputs: tuple[FlowInput, ...] = Field((), title="Inputs", description="What it reads.")
    outputs: tuple[str, ...] = Field((), title="Outputs", description="What it writes.")
    thresholds: dict[str, Scalar] = Field(
        default_factory=dict, title="Thresholds", description="From the config."
    )


class IntegrationFlow(MarkdownArtifactModel):
    """Gate 2: the gate registry's stages, inputs and outputs, generated from the code."""

    FILE_NAME: ClassVar[str] = "IBKR_INTEGRATION_FLOW.md"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["integration_flow"] = "integration_flow"

    gate: GateHeader = Field(title="Gate", description="Gate 2 header and verdict.")
    stages: tuple[FlowStage, ...] = Field(title="Stages", description="Every gate, in order.")
    problems: tuple[str, ...] = Field(
        (), title="Problems", description="Inputs nobody produces, missing stages, …"
    )

    def default_body(self) -> str:
        rows = []
        for s in self.stages:
            ins = ", ".join(
                f"{i.name} (gate {i.produced_by})" if i.produced_by else f"{i.name} (supplied)"
                for i in s.inputs
            )
            rows.append((s.number, s.name, ins, ", ".join(s.outputs), s.passes_when))
        flow = " → ".join(f"{s.number}. {s.name}" for s in self.stages)
        problems = "".join(f"- {p}\n" for p in self.problems) or "None.\n"
        return (
            "\n# Gate 2 — Hierarchical breakdown (integration flow)\n\n"
            + evidence_markdown(self.gate)
            + f"\n## Flow\n\n{flow}\n\n"
            + md_table(("gate", "name", "inputs", "outputs", "passes when"), rows)
            + f"\n## Problems\n\n{problems}"
        )


# ------------------------------------------------------------------------------ gate 3


class OperationMapping(FrozenModel):
    operation: str = Field(min_length=1, title="IB operation", description="e.g. placeOrder.")
    protocol_method: str | None = Field(
        None, title="Broker protocol", description="Our Broker method, e.g. place."
    )
    adapter_method: str | None = Field(
        None, title="Adapter", description="IBBroker method implementing it."
    )
    ib_async_call: str | None = Field(
        None, title="ib_async call", description="The ib_async API used, e.g. IB.placeOrder."
    )
    implemented: bool = Field(title="Implemented", description="Found in the adapter.")
    notes: str = Field("", title="Notes", description="Anything noteworthy.")


class ErrorCodePolicy(FrozenModel):
    code: int = Field(title="Code", description="IB error code.")
    category: str = Field(min_length=1, title="Category", description="connectivity, pacing, …")
    outcome: str = Field(min_length=1, title="Outcome", description="Typed outcome it maps to.")
    policy: str = Field(min_length=1, title="Policy", description="What the adapter does.")
    cancels_order: bool = Field(title="Cancels order", description="Whether it ends the order.")


class InterfaceMap(MarkdownArtifactModel):
    """Gate 3: every broker operation mapped to the adapter, every handled IB error documented."""

    FILE_NAME: ClassVar[str] = "IBKR_INTERFACE_MAP.md"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["interface_map"] = "interface_map"

    gate: GateHeader = Field(title="Gate", description="Gate 3 header and verdict.")
    operations: tuple[OperationMapping, ...] = Field(title="Operations", description="Mapped.")
    error_codes: tuple[ErrorCodePolicy, ...] = Field(title="Error codes", description="Handled.")
    missing: tuple[str, ...] = Field((), title="Missing", description="Unmapped operations.")

    def default_body(self) -> str:
        ops = md_table(
            ("operation", "protocol", "adapter", "ib_async", "implemented", "notes"),
            (
                (
                    o.operation,
                    o.protocol_method,
                    o.adapter_method,
                    o.ib_async_call,
                    o.implemented,
                    o.notes,
                )
                for o in self.operations
            ),
        )
        codes = md_table(
            ("code", "category", "outcome", "cancels order", "policy"),
            ((c.code, c.category, c.outcome, c.cancels_order, c.policy) for c in self.error_codes),
        )
        return (
            "\n# Gate 3 — Interface mapping\n\n"
            + evidence_markdown(self.gate)
            + f"\n## Operations\n\n{ops}"
            + f"\n## IB error codes\n\n{codes}"
        )


# ------------------------------------------------------------------------------ gate 4


class TestFailure(FrozenModel):
    __test__ = False  # not a pytest class

    nodeid: str = Field(min_length=1, title="Test", description="pytest node id.")
    message: str = Field("", title="Message", description="Failure summary.")


class ImplementationTestReport(ArtifactModel):
    """Gate 4: the broker unit and conformance tests, run as a subprocess."""

    FILE_NAME: ClassVar[str] = "IMPLEMENTATION_TEST_REPORT.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["implementation_test_report"] = "implementation_test_report"

    gate: GateHeader = Field(title="Gate", description="Gate 4 header and verdict.")
    command: tuple[str, ...] = Field(min_length=1, title="Command", description="argv run.")
    markers: str | None = Field(None, title="Markers", description="pytest -m expression.")
    exit_code: int = Field(title="Exit code", description="pytest's exit code.")
    passed: NonNegInt = Field(title="Passed", description="Tests passed.")
    failed: NonNegInt = Field(title="Failed", description="Tests failed.")
    errors: NonNegInt = Field(0, title="Errors", description="Collection/setup errors.")
    skipped: NonNegInt = Field(0, title="Skipped", description="Tests skipped.")
    duration_seconds: NonNegFloat = Field(title="Duration", description="Wall seconds.")
    failures: tuple[TestFailure, ...] = Field((), title="Failures", description="Which failed.")
    required_modules: tuple[str, ...] = Field(
        (), title="Required modules", description="Implementation modules checked to exist."
    )
    missing_modules: tuple[str, ...] = Field((), title="Missing", description="Not found.")
    junit_xml: ArtifactRef | None = Field(None, title="JUnit XML", description="Raw report.")


# ------------------------------------------------------------------------------ gate 5


class StageTests(FrozenModel):
    stage: Literal[6, 7, 8] = Field(title="Stage", description="Gate the tests cover.")
    marker: str = Field(min_length=1, title="Marker", description="stage6, stage7, stage8.")
    files: tuple[str, ...] = Field(title="Files", description="Test files found.")
    test_ids: tuple[str, ...] = Field(title="Tests", description="Collected node ids.")
    exists: bool = Field(title="Exists", description="At least one file found.")
    runnable: bool = Field(title="Runnable", description="Collected without errors.")


class TestInventory(ArtifactModel):
    """Gate 5: the stage 6/7/8 tests exist and are collected by pytest."""

    __test__ = False

    FILE_NAME: ClassVar[str] = "TEST_INVENTORY.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["test_inventory"] = "test_inventory"

    gate: GateHeader = Field(title="Gate", description="Gate 5 header and verdict.")
    collect_command: tuple[str, ...] = Field(min_length=1, title="Command", description="argv.")
    collect_exit_code: int = Field(title="Exit code", description="pytest --collect-only exit.")
    stages: tuple[StageTests, ...] = Field(title="Stages", description="Per stage 6, 7, 8.")
    total_collected: NonNegInt = Field(title="Collected", description="Whole suite.")
