"""The broker a gate talks to (sim by default, or IB / the simulated gateway), and the artifacts
built from the broker core's outcomes (``ACCOUNT_CONFIG.json``, ``ROLLBACK_REPORT.json``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from artifacts.models.account_config import AccountConfig, BrokerNotice
from artifacts.models.base import mask_account_id, tool_version
from artifacts.models.rollback_report import (
    CancelledOrder,
    ClosedPosition,
    RollbackFill,
    RollbackPnL,
    RollbackReport,
    RollbackStep,
)
from gates.base import GateContext

if TYPE_CHECKING:
    from engine.broker.clock import Clock
    from engine.broker.factory import BrokerTarget
    from engine.broker.operations import ProbeOutcome, RollbackOutcome
    from engine.broker.protocol import Broker


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
    s = outcome.summary
    is_ib = broker.kind == "ib"
    t = target(ctx, readonly=True)
    return AccountConfig(
        generated_at=ctx.clock(),
        tool_version=tool_version(),
        broker_kind=broker.kind,
        host=t.host if is_ib else None,
        port=t.port if is_ib else None,
        client_id=t.client_id if is_ib else None,
        account_id_masked=mask_account_id(s.account_id) if s and s.account_id else None,
        trading_mode=s.trading_mode if s else "unknown",
        mode_evidence=s.mode_evidence if s else (),
        connected=outcome.connected,
        read_only=True,
        server_version=s.server_version if s else None,
        currency=s.currency if s else None,
        net_liquidation=s.net_liquidation if s else None,
        buying_power=s.buying_power if s else None,
        cash=s.cash if s else None,
        available_funds=s.available_funds if s else None,
        permissions=s.permissions if s else (),
        positions_count=outcome.positions_count,
        open_orders_count=outcome.open_orders_count,
        probed_at=probed_at,
        probe_seconds=max(0.0, outcome.seconds),
        notices=tuple(BrokerNotice(code=c, message=m) for c, m in outcome.notices),
        failure=None if outcome.connected else (outcome.failure or "not connected"),
    )


def rollback_report(
    ctx: GateContext,
    broker: Broker,
    outcome: RollbackOutcome,
    started: datetime,
    *,
    trigger: str,
    reason: str | None,
) -> RollbackReport:
    """``ROLLBACK_REPORT.json`` from the rollback core's outcome (same shape as `algotrade
    rollback` writes)."""
    steps = tuple(
        RollbackStep(
            name=s.name,
            started_at=s.started_at,
            finished_at=s.started_at + timedelta(seconds=max(0.0, s.seconds)),
            seconds=max(0.0, s.seconds),
            ok=s.ok,
            messages_sent=s.messages,
            detail=s.detail,
        )
        for s in outcome.steps
    )
    accepted = {r.order_id: r.accepted for r in outcome.cancel.results}
    still_open = {o.order_id for o in outcome.open_orders_after}
    cancelled = tuple(
        CancelledOrder(
            order_id=o.order_id, symbol=o.symbol, intent_id=o.intent_id, direction=o.direction,
            remaining_quantity=o.remaining,
            confirmed=accepted.get(o.order_id, outcome.cancel.used_global_cancel)
            and o.order_id not in still_open,
        )
        for o in outcome.cancel.found
    )  # fmt: skip
    after = {p.symbol: p.quantity for p in outcome.positions_after}
    by_order: dict[str, list[Any]] = {}
    for f in outcome.flatten.fills:
        by_order.setdefault(f.order_id, []).append(f)
    closed = []
    for o in outcome.flatten.orders:
        fills = by_order.get(o.order_id or "", [])
        qty = sum(f.quantity for f in fills)
        closed.append(
            ClosedPosition(
                symbol=o.symbol, quantity_before=o.position_before,
                quantity_after=after.get(o.symbol, 0), order_id=o.order_id,
                avg_fill_price=(sum(f.quantity * f.price for f in fills) / qty) if qty else None,
                realised_pnl=sum(f.realized_pnl or 0.0 for f in fills) if fills else None,
            )
        )  # fmt: skip
    fills_out = tuple(
        RollbackFill(
            exec_id=f.exec_id, order_id=f.order_id, symbol=f.symbol, direction=f.direction,
            quantity=f.quantity, price=f.price,
            commission=abs(f.commission) if f.commission is not None else None,
            at=f.time.astimezone(UTC),
        )
        for f in outcome.flatten.fills
    )  # fmt: skip
    before, after_acct = outcome.account_before, outcome.account_after
    known = before or after_acct
    total = max(0.0, outcome.total_seconds)
    target_s = ctx.config.gates.rollback_target_seconds
    violations = getattr(getattr(broker, "pacing_violations", None), "count", 0)
    return RollbackReport(
        generated_at=ctx.clock(),
        tool_version=tool_version(),
        broker_kind=broker.kind,
        account_id_masked=mask_account_id(known.account_id) if known else None,
        trading_mode=known.trading_mode if known else "live",
        trigger=trigger,
        reason=reason,
        started_at=started,
        finished_at=started + timedelta(seconds=total),
        total_seconds=total,
        target_seconds=target_s,
        within_target=total <= target_s,
        steps=steps,
        orders_cancelled=cancelled,
        positions_closed=tuple(closed),
        fills=fills_out,
        pnl=RollbackPnL(
            net_liquidation_before=before.net_liquidation if before else None,
            net_liquidation_after=after_acct.net_liquidation if after_acct else None,
            realised=outcome.flatten.realized_pnl,
            commissions=abs(outcome.flatten.commissions),
        ),
        remaining_open_orders=len(outcome.open_orders_after),
        remaining_positions=len(outcome.positions_after),
        verdict="FLAT" if outcome.verified_flat else "NOT_FLAT",
        pacing_violations=int(violations),
        halt_flag_path=str(outcome.halt_flag),
        logs_dir=str(ctx.config.paths.logs),
        dlq_paths=("dlq_market_events", "dlq_order_intents", "dlq_execution_reports"),
        next_steps=(
            "Investigate: read the logs and the DLQ topics listed here.",
            "Report: attach this file to the incident record.",
            f"Fix, then clear the HALT flag ({outcome.halt_flag}) before trading again.",
        ),
    )
