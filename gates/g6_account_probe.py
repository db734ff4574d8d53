"""Gate 6 — account probe (read-only): connected AND buying_power > 0 → ``ACCOUNT_CONFIG.json``.

The probe is the broker layer's own core (``engine.broker.operations.probe_account``) over a
read-only connection *and* a read-only view (no order method exists on it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from artifacts.models.account_config import AccountConfig
from artifacts.models.base import Evidence, Scalar
from gates.base import GateContext, GateInput, GateResult, check, verdict
from gates.broker_access import account_config, make
from gates.output import write_report

if TYPE_CHECKING:
    from engine.config import AppConfig


@dataclass(frozen=True)
class AccountProbeGate:
    number: int = 6
    name: str = "Account probe"
    summary: str = "read-only connection successful AND buying_power > 0"
    inputs: tuple[GateInput, ...] = (
        GateInput("TEST_INVENTORY.json", "stage 6 tests exist before probing", 5),
        GateInput("broker connection", "sim, or --broker ib --host --port (paper gateway)"),
    )
    outputs: tuple[str, ...] = (AccountConfig.FILE_NAME,)

    def thresholds(self, config: AppConfig) -> dict[str, Scalar]:
        return {"buying_power_min_exclusive": 0.0}

    def run(self, ctx: GateContext) -> GateResult:
        from engine.broker.clock import SystemClock
        from engine.broker.operations import probe_account
        from engine.broker.protocol import read_only

        started = ctx.clock()
        broker = make(ctx, readonly=True)
        probed_at = ctx.clock()
        outcome = asyncio.run(probe_account(read_only(broker), clock=SystemClock()))
        model = account_config(ctx, broker, outcome, probed_at)
        ref = write_report(ctx, model)
        where = (
            "the simulated broker" if broker.kind == "sim"
            else f"IB at {model.host}:{model.port}"
        )  # fmt: skip
        bp = model.buying_power
        evidence: list[Evidence] = [
            check("read-only connection successful", outcome.connected, True, outcome.connected,
                  f"could not connect to {where}: {outcome.failure}; start TWS / IB Gateway "
                  "(or `algotrade sim-gateway`) and check --host/--port"),
            check("buying_power > 0", bp, 0.0, bp is not None and bp > 0,
                  f"the account at {where} reports buying power {bp}; fund the paper account "
                  "or use another account"),
        ]  # fmt: skip
        return verdict(self, ctx, started, evidence, [ref])
