"""The broker a gate talks to (sim by default, or IB / the simulated gateway), and the artifacts
built from the broker core's outcomes (``ACCOUNT_CONFIG.json``, ``ROLLBACK_REPORT.json``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gates.base import GateContext

if TYPE_CHECKING:
    from artifacts.models.account_config import AccountConfig
    from artifacts.models.rollback_report import RollbackReport
    from engine.broker.clock import Clock
    from engine.broker.factory import BrokerTarget
    from engine.broker.operations import ProbeOutcome, RollbackOutcome
    from engine.broker.protocol import Broker
    from gates.broker_artifacts import RollbackTrigger


def target(ctx: GateContext, *, readonly: bool) -> BrokerTarget:
    from engine.broker.factory import resolve_target

    o = ctx.options
    return resolve_target(
        ctx.config.broker, kind=o.broker, host=o.host, port=o.port, client_id=o.client_id,
        readonly=readonly,
    )  # fmt: skip


def make(
    ctx: GateContext,
    *,
    readonly: bool,
    clock: Clock | None = None,
    sim_positions: int = 0,
    sim_orders: int = 0,
    client_id: int | None = None,
) -> Broker:
    from dataclasses import replace

    from engine.broker.factory import make_broker

    t = target(ctx, readonly=readonly)
    if client_id is not None and t.kind == "ib":
        t = replace(t, client_id=client_id)
    return make_broker(
        t, ctx.config.pacing, clock=clock, sim_positions=sim_positions, sim_orders=sim_orders,
        sim_cash=ctx.options.sim_cash, reconnect_max_backoff=ctx.config.broker.reconnect_max_backoff,
    )  # fmt: skip


def account_config(
    ctx: GateContext, broker: Broker, outcome: ProbeOutcome, probed_at: datetime
) -> AccountConfig:
    """``ACCOUNT_CONFIG.json`` exactly as ``algotrade probe-account`` writes it."""
    from gates import broker_artifacts

    return broker_artifacts.account_config(
        outcome, target(ctx, readonly=True), probed_at=probed_at, generated_at=ctx.clock()
    )


def rollback_report(
    ctx: GateContext,
    broker: Broker,
    outcome: RollbackOutcome,
    started: datetime,
    *,
    trigger: RollbackTrigger,
    reason: str | None,
) -> RollbackReport:
    """``ROLLBACK_REPORT.json`` exactly as ``algotrade rollback`` writes it."""
    from gates import broker_artifacts

    violations = getattr(getattr(broker, "pacing_violations", None), "count", 0)
    finished = started + timedelta(seconds=max(0.0, outcome.total_seconds))
    return broker_artifacts.rollback_report(
        outcome,
        broker_kind=broker.kind,
        pacing_violations=int(violations),
        target_seconds=ctx.config.gates.rollback_target_seconds,
        logs_dir=str(ctx.config.paths.logs),
        trigger=trigger,
        reason=reason,
        started=started,
        finished=finished,
        generated_at=ctx.clock(),
    )
