"""The eight gates in order: number, name, what passes, declared inputs and outputs, thresholds."""

from __future__ import annotations

from functools import cache

from gates.base import Gate
from gates.g1_artifact_validation import ArtifactValidationGate
from gates.g2_integration_flow import IntegrationFlowGate
from gates.g3_interface_map import InterfaceMapGate
from gates.g4_implementation import ImplementationGate
from gates.g5_test_inventory import TestInventoryGate
from gates.g6_account_probe import AccountProbeGate
from gates.g7_paper_trading import PaperTradingGate
from gates.g8_go_live import GoLiveGate


@cache
def all_gates() -> tuple[Gate, ...]:
    """Every gate, ordered by number."""
    gates: tuple[Gate, ...] = (
        ArtifactValidationGate(),
        IntegrationFlowGate(),
        InterfaceMapGate(),
        ImplementationGate(),
        TestInventoryGate(),
        AccountProbeGate(),
        PaperTradingGate(),
        GoLiveGate(),
    )
    return gates


def gate(number: int) -> Gate:
    for g in all_gates():
        if g.number == number:
            return g
    raise KeyError(f"no gate {number}; gates are 1-{len(all_gates())}")


def numbers() -> tuple[int, ...]:
    return tuple(g.number for g in all_gates())
