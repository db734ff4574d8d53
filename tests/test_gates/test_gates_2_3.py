"""Gates 2 and 3 are generated from the code: the registry's flow, the adapter's operations."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from artifacts.io import read_markdown_artifact
from artifacts.models.gate_reports import IntegrationFlow, InterfaceMap
from gates.base import GateInput
from gates.g2_integration_flow import IntegrationFlowGate, flow_problems
from gates.g3_interface_map import (
    OPERATIONS,
    InterfaceMapGate,
    adapter_path,
    map_operations,
    read_adapter,
)
from gates.registry import all_gates
from tests.test_gates.support import context

pytestmark = pytest.mark.unit


def test_registry_flow_is_complete_and_gate2_writes_it(tmp_path: Path) -> None:
    assert flow_problems(all_gates()) == []
    result = IntegrationFlowGate().run(context(tmp_path))
    assert result.verdict == "PASS"
    flow, body = read_markdown_artifact(tmp_path / "IBKR_INTEGRATION_FLOW.md", IntegrationFlow)
    assert [s.number for s in flow.stages] == list(range(1, 9))
    assert flow.stages[6].thresholds["fill_rate_min"] == 0.98
    assert "ACCOUNT_CONFIG.json (gate 6)" in body


def test_an_input_from_a_later_gate_is_a_problem() -> None:
    gates = list(all_gates())
    bad = dataclasses.replace(
        gates[3],  # type: ignore[type-var]
        inputs=(GateInput("PAPER_TRADING_LOG.json", "from the future", 7),),
    )
    gates[3] = bad
    [problem] = flow_problems(gates)
    assert "gate 4 reads PAPER_TRADING_LOG.json from gate 7" in problem


def test_an_input_no_gate_writes_and_a_gate_without_outputs_are_problems() -> None:
    gates = list(all_gates())
    gates[4] = dataclasses.replace(
        gates[4],  # type: ignore[type-var]
        inputs=(GateInput("NOWHERE.json", "nobody writes it", 2),),
        outputs=(),
    )
    problems = flow_problems(gates)
    assert any("does not declare it as an output" in p for p in problems)
    assert any("gate 5 (Test infrastructure) declares no outputs" in p for p in problems)


def test_gate3_maps_every_operation_to_a_real_ib_async_call(tmp_path: Path) -> None:
    import ib_async

    result = InterfaceMapGate().run(context(tmp_path))
    assert result.verdict == "PASS", result.failed_conditions
    imap, _ = read_markdown_artifact(tmp_path / "IBKR_INTERFACE_MAP.md", InterfaceMap)
    by_op = {o.operation: o for o in imap.operations}
    assert set(by_op) >= {"placeOrder", "cancelOrder", "getAccountSummary", "getPositions",
                          "subscribe_market_data", "reqGlobalCancel"}  # fmt: skip
    assert by_op["placeOrder"].ib_async_call == "IB.placeOrder"
    assert by_op["getPositions"].protocol_method == "positions"
    for op in imap.operations:  # the calls found really exist in ib_async
        for call in (op.ib_async_call or "").split(", "):
            owner, name = call.split(".")
            target = ib_async.IB if owner == "IB" else ib_async.client.Client
            assert hasattr(target, name), call
    codes = {c.code: c for c in imap.error_codes}
    assert codes[100].category == "pacing_violation" and codes[202].cancels_order
    assert all(c.policy for c in imap.error_codes)


def test_an_adapter_missing_an_operation_is_not_implemented(tmp_path: Path) -> None:
    source = adapter_path().read_text(encoding="utf-8")
    broken = source.replace("self.ib.reqGlobalCancel()", "pass")
    path = tmp_path / "ib.py"
    path.write_text(broken)
    rows = {r.operation: r for r in map_operations(read_adapter(path))}
    assert not rows["reqGlobalCancel"].implemented
    assert "no ib_async reqGlobalCancel call" in rows["reqGlobalCancel"].notes
    assert sum(r.implemented for r in rows.values()) == len(OPERATIONS) - 1
