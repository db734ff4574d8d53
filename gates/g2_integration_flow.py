"""Gate 2 — hierarchical breakdown, generated from the gate registry itself.

Passes when all eight gates are defined, each declares inputs and outputs, and every input is
either supplied or produced by an *earlier* gate that declares it as an output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artifacts.models.base import Evidence, Scalar, tool_version
from artifacts.models.gate_reports import FlowInput, FlowStage, IntegrationFlow
from gates.base import Gate, GateContext, GateInput, GateResult, check, header, verdict
from gates.output import write_report

if TYPE_CHECKING:
    from engine.config import AppConfig


def flow_problems(gates: Sequence[Gate]) -> list[str]:
    """Everything wrong with the declared flow (empty = every input and output is clear)."""
    problems: list[str] = []
    numbers = [g.number for g in gates]
    if numbers != list(range(1, 9)):
        problems.append(f"gates must be numbered 1–8 in order, found {numbers}")
    outputs = {g.number: set(g.outputs) for g in gates}
    for g in gates:
        if not g.inputs:
            problems.append(f"gate {g.number} ({g.name}) declares no inputs")
        if not g.outputs:
            problems.append(f"gate {g.number} ({g.name}) declares no outputs")
        for item in g.inputs:
            if item.produced_by is None:
                continue
            if item.produced_by >= g.number:
                problems.append(
                    f"gate {g.number} reads {item.name} from gate {item.produced_by}, "
                    "which does not run before it"
                )
            elif item.name not in outputs.get(item.produced_by, set()):
                problems.append(
                    f"gate {g.number} reads {item.name} from gate {item.produced_by}, "
                    "which does not declare it as an output"
                )
    return problems


@dataclass(frozen=True)
class IntegrationFlowGate:
    number: int = 2
    name: str = "Hierarchical breakdown"
    summary: str = "all 8 gates defined AND every input is supplied or produced by an earlier gate"
    inputs: tuple[GateInput, ...] = (
        GateInput("gate registry", "the gates' declared inputs, outputs and thresholds (code)"),
    )
    outputs: tuple[str, ...] = (IntegrationFlow.FILE_NAME,)

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        return {"stages": 8}

    def run(self, ctx: GateContext) -> GateResult:
        from gates.registry import all_gates

        started = ctx.clock()
        gates = all_gates()
        problems = flow_problems(gates)
        stages = tuple(
            FlowStage(
                number=g.number,
                name=g.name,
                passes_when=g.summary,
                inputs=tuple(_flow_input(i) for i in g.inputs),
                outputs=g.outputs,
                thresholds=g.thresholds(ctx.config),
            )
            for g in gates
        )
        evidence: list[Evidence] = [
            check("all 8 gates defined", len(gates), 8, len(gates) == 8,
                  "register every gate 1–8 in gates/registry.py"),
            check("every gate declares inputs and outputs",
                  sum(1 for g in gates if g.inputs and g.outputs), len(gates),
                  all(g.inputs and g.outputs for g in gates),
                  "; ".join(p for p in problems if "declares no" in p)),
            check("every input supplied or produced by an earlier gate",
                  len([p for p in problems if "reads" in p]), 0,
                  not [p for p in problems if "reads" in p],
                  "; ".join(p for p in problems if "reads" in p)),
        ]  # fmt: skip
        report = IntegrationFlow(
            generated_at=ctx.clock(),
            tool_version=tool_version(),
            gate=header(self, ctx, evidence),
            stages=stages,
            problems=tuple(problems),
        )
        return verdict(self, ctx, started, evidence, [write_report(ctx, report)])


def _flow_input(item: GateInput) -> FlowInput:
    return FlowInput(
        name=item.name, produced_by=item.produced_by, supplied=item.produced_by is None
    )
