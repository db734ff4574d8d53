"""Gate 3 — interface mapping, generated from the code by introspection.

* The operations: each IB operation the system relies on is mapped to the :class:`Broker`
  protocol method (found on ``engine.broker.protocol.Broker``), the ``IBBroker`` method that
  implements it, and the ``ib_async`` call found in that method's source (read with :mod:`ast`,
  following ``self._helper()`` calls, so the gate never imports ``ib_async``).
* The error codes: every entry of ``engine.broker.ib_errors.IB_ERROR_TABLE`` must carry a policy,
  and every error-code literal the adapter's source uses must be in the table.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from artifacts.models.base import Evidence, Scalar, tool_version
from artifacts.models.gate_reports import ErrorCodePolicy, InterfaceMap, OperationMapping
from gates.base import GateContext, GateInput, GateResult, check, header, verdict
from gates.output import write_report

if TYPE_CHECKING:
    from engine.config import AppConfig

ADAPTER_MODULE = "engine.broker.ib"
ADAPTER_CLASS = "IBBroker"


@dataclass(frozen=True)
class Operation:
    """An IB operation, the protocol method that carries it and the ib_async calls that do it."""

    name: str
    protocol_method: str
    ib_calls: tuple[str, ...]


OPERATIONS: tuple[Operation, ...] = (
    Operation("connect", "connect", ("connectAsync", "connect")),
    Operation("disconnect", "close", ("disconnect",)),
    Operation("placeOrder", "place", ("placeOrder",)),
    Operation("cancelOrder", "cancel", ("cancelOrder",)),
    Operation("reqGlobalCancel", "cancel_all", ("reqGlobalCancel",)),
    Operation("getAccountSummary", "account_summary", ("accountSummaryAsync", "accountSummary")),
    Operation("getPositions", "positions", ("reqPositionsAsync", "positions")),
    Operation("reqAllOpenOrders", "open_orders", ("reqAllOpenOrdersAsync", "reqOpenOrdersAsync")),
    Operation("reqExecutions", "executions", ("reqExecutionsAsync", "fills")),
    Operation("subscribe_market_data", "subscribe_market_data", ("reqMktData",)),
)


@dataclass(frozen=True)
class AdapterSource:
    """The adapter class read with ``ast``: each method's direct ib calls and self-calls."""

    path: Path
    methods: dict[str, tuple[set[str], set[str]]]  # name → (ib calls, self method calls)
    int_literals: set[int]

    def ib_calls(self, method: str) -> list[str]:
        """ib_async calls reachable from ``method`` (through ``self._helpers``), in name order."""
        seen: set[str] = set()
        found: set[str] = set()
        stack = [method]
        while stack:
            name = stack.pop()
            if name in seen or name not in self.methods:
                continue
            seen.add(name)
            calls, helpers = self.methods[name]
            found |= calls
            stack.extend(helpers)
        return sorted(found)


def read_adapter(path: Path, class_name: str = ADAPTER_CLASS) -> AdapterSource:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None)
    if cls is None:
        raise LookupError(f"{path} defines no class {class_name}")
    methods: dict[str, tuple[set[str], set[str]]] = {}
    literals: set[int] = set()
    for node in cls.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        calls: set[str] = set()
        helpers: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
                owner = _dotted(sub.func.value)
                if owner in ("self.ib", "self.ib.client"):
                    calls.add(("IB." if owner == "self.ib" else "Client.") + sub.func.attr)
                elif owner == "self":
                    helpers.add(sub.func.attr)
            if (
                isinstance(sub, ast.keyword)
                and sub.arg == "code"
                and isinstance(sub.value, ast.Constant)
                and isinstance(sub.value.value, int)
            ):
                literals.add(sub.value.value)
            if isinstance(sub, ast.Compare) and _dotted(sub.left).endswith("code"):
                for comp in sub.comparators:
                    for const in ast.walk(comp):
                        if isinstance(const, ast.Constant) and isinstance(const.value, int):
                            literals.add(const.value)
        methods[node.name] = (calls, helpers)
    return AdapterSource(path, methods, literals)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def adapter_path() -> Path:
    spec = importlib.util.find_spec(ADAPTER_MODULE)
    if spec is None or spec.origin is None:
        raise LookupError(f"module {ADAPTER_MODULE} not found")
    return Path(spec.origin)


def map_operations(source: AdapterSource) -> list[OperationMapping]:
    from engine.broker.protocol import Broker
    from engine.broker.simulated import SimulatedBroker

    rows = []
    for op in OPERATIONS:
        in_protocol = hasattr(Broker, op.protocol_method)
        in_adapter = op.protocol_method in source.methods
        calls = source.ib_calls(op.protocol_method) if in_adapter else []
        matching = [c for c in calls if c.split(".", 1)[1] in op.ib_calls]
        in_sim = callable(getattr(SimulatedBroker, op.protocol_method, None))
        notes = []
        if not in_protocol:
            notes.append(f"Broker protocol has no {op.protocol_method}")
        if not in_adapter:
            notes.append(f"{ADAPTER_CLASS}.{op.protocol_method} missing")
        elif not matching:
            notes.append(f"no ib_async {'/'.join(op.ib_calls)} call found in it")
        if not in_sim:
            notes.append(f"SimulatedBroker.{op.protocol_method} missing")
        other = [c for c in calls if c not in matching]
        if other and not notes:
            notes.append("also calls " + ", ".join(other))
        rows.append(
            OperationMapping(
                operation=op.name,
                protocol_method=op.protocol_method if in_protocol else None,
                adapter_method=f"{ADAPTER_CLASS}.{op.protocol_method}" if in_adapter else None,
                ib_async_call=", ".join(matching) or None,
                implemented=in_protocol and in_adapter and bool(matching) and in_sim,
                notes="; ".join(notes),
            )
        )
    return rows


def error_policies() -> list[ErrorCodePolicy]:
    from engine.broker.ib_errors import IB_ERROR_TABLE

    return [
        ErrorCodePolicy(
            code=e.code,
            category=e.kind,
            outcome=f"{e.kind} ({e.severity}): {e.name}",
            policy=e.policy.strip() or "(no policy)",
            cancels_order=e.ends_order,
        )
        for e in sorted(IB_ERROR_TABLE.values(), key=lambda x: x.code)
    ]


@dataclass(frozen=True)
class InterfaceMapGate:
    number: int = 3
    name: str = "Interface mapping"
    summary: str = (
        "every IB operation (placeOrder, cancelOrder, getAccountSummary, getPositions, "
        "subscribe_market_data, …) is implemented AND every IB error code handled is documented"
    )
    inputs: tuple[GateInput, ...] = (
        GateInput("engine/broker/protocol.py", "the Broker protocol"),
        GateInput("engine/broker/ib.py", "the IBKR adapter (IBBroker)"),
        GateInput("engine/broker/ib_errors.py", "the IB error-code table"),
    )
    outputs: tuple[str, ...] = (InterfaceMap.FILE_NAME,)

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        return {"operations": len(OPERATIONS)}

    def run(self, ctx: GateContext) -> GateResult:
        from engine.broker.ib_errors import IB_ERROR_TABLE

        started = ctx.clock()
        path = adapter_path()
        source = read_adapter(path)
        ops = map_operations(source)
        codes = error_policies()
        missing = [o.operation for o in ops if not o.implemented]
        undocumented = sorted(c for c in source.int_literals if c not in IB_ERROR_TABLE)
        no_policy = [c.code for c in codes if c.policy == "(no policy)"]
        evidence: list[Evidence] = [
            check("every operation mapped and implemented", len(ops) - len(missing), len(ops),
                  not missing, "; ".join(f"{o.operation}: {o.notes}" for o in ops
                                         if not o.implemented)),
            check("every IB error code has a policy", len(codes) - len(no_policy), len(codes),
                  not no_policy and bool(codes),
                  f"add a policy for codes {no_policy} in engine/broker/ib_errors.py"
                  if no_policy else ""),
            check("every error code the adapter uses is in the table", len(undocumented), 0,
                  not undocumented,
                  f"codes {undocumented} appear in {path.name} but not in IB_ERROR_TABLE"
                  if undocumented else ""),
        ]  # fmt: skip
        report = InterfaceMap(
            generated_at=ctx.clock(),
            tool_version=tool_version(),
            gate=header(self, ctx, evidence),
            operations=tuple(ops),
            error_codes=tuple(codes),
            missing=tuple(missing),
        )
        return verdict(self, ctx, started, evidence, [write_report(ctx, report)], inputs=[path])
