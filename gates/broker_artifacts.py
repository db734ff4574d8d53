"""Broker operation outcomes → artifacts and summaries (``algotrade probe-account``,
``cancel-all``, ``flatten``, ``rollback``).

:func:`account_config` builds ``ACCOUNT_CONFIG.json`` from a probe, :func:`rollback_report`
``ROLLBACK_REPORT.json`` from a rollback; :func:`cancel_all_summary` and :func:`flatten_summary`
are the JSON-ready results of the other two commands. All pure: times and the broker's facts are
passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, get_args

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

if TYPE_CHECKING:
    from engine.broker.factory import BrokerTarget
    from engine.broker.operations import (
        CancelAllOutcome,
        FlattenOutcome,
        ProbeOutcome,
        RollbackOutcome,
    )
    from engine.broker.protocol import BrokerKind
    from engine.broker.types import Execution

MAX_NOTICES = 50
DLQ_TOPICS = ("dlq_market_events", "dlq_order_intents", "dlq_execution_reports")
RollbackTrigger = Literal["manual", "kill_switch", "drill"]


def is_rollback_trigger(value: str) -> TypeGuard[RollbackTrigger]:
    """Whether ``value`` is a trigger the rollback report knows (manual, kill_switch, drill)."""
    return value in get_args(RollbackTrigger)


def notices(raw: Sequence[tuple[int, str]]) -> tuple[BrokerNotice, ...]:
    """Broker messages seen during a probe (the first 50), classified by the IB error table."""
    from engine.broker.ib_errors import classify

    out = []
    for code, message in raw[:MAX_NOTICES]:
        severity = classify(code).severity
        out.append(
            BrokerNotice(
                code=code,
                message=message,
                severity="error" if severity == "critical" else severity,
            )
        )
    return tuple(out)


def account_config(
    outcome: ProbeOutcome,
    target: BrokerTarget,
    *,
    probed_at: datetime,
    generated_at: datetime,
) -> AccountConfig:
    """``ACCOUNT_CONFIG.json`` from a read-only probe of ``target`` (host, port and client id
    are recorded for IB only)."""
    s = outcome.summary
    is_ib = target.kind == "ib"
    return AccountConfig(
        generated_at=generated_at,
        tool_version=tool_version(),
        broker_kind=target.kind,
        host=target.host if is_ib else None,
        port=target.port if is_ib else None,
        client_id=target.client_id if is_ib else None,
        account_id_masked=mask_account_id(s.account_id) if s else None,
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
        notices=notices(outcome.notices),
        failure=None if outcome.connected else (outcome.failure or "not connected"),
    )


def cancel_all_summary(outcome: CancelAllOutcome) -> dict[str, Any]:
    """What cancel-all found and cancelled (one row per order found), JSON-ready."""
    rows = [
        {"order_id": o.order_id, "symbol": o.symbol, "direction": o.direction,
         "remaining": o.remaining, "intent_id": o.intent_id,
         "confirmed": outcome.was_cancelled(o.order_id)}
        for o in outcome.found
    ]  # fmt: skip
    return {
        "command": "cancel-all", "verified": outcome.verified, "cancelled": rows,
        "remaining": len(outcome.remaining), "used_global_cancel": outcome.used_global_cancel,
        "seconds": outcome.seconds, "error": outcome.error,
    }  # fmt: skip


def flatten_summary(outcome: FlattenOutcome) -> dict[str, Any]:
    """The closing orders, what is left, fills and money, JSON-ready."""
    return {
        "command": "flatten", "verified": outcome.verified,
        "orders": [asdict(o) for o in outcome.orders],
        "remaining": [asdict(p) for p in outcome.remaining], "fills": len(outcome.fills),
        "realized_pnl": outcome.realized_pnl, "commissions": outcome.commissions,
        "seconds": outcome.seconds, "error": outcome.error,
    }  # fmt: skip


def rollback_report(
    outcome: RollbackOutcome,
    *,
    broker_kind: BrokerKind,
    pacing_violations: int,
    target_seconds: float,
    logs_dir: str,
    trigger: RollbackTrigger,
    reason: str | None,
    started: datetime,
    finished: datetime,
    generated_at: datetime,
) -> RollbackReport:
    """``ROLLBACK_REPORT.json`` from the rollback core's outcome.

    An order counts as cancelled when cancel-all ended it (its own cancel or the global cancel)
    and it was not open at the final verification; ``finished`` is clamped to at least
    ``started + total_seconds``.
    """
    steps = tuple(
        RollbackStep(
            name=s.name,
            started_at=s.started_at,
            finished_at=s.started_at + timedelta(seconds=s.seconds),
            seconds=max(0.0, s.seconds),
            ok=s.ok,
            messages_sent=s.messages,
            detail=s.detail,
        )
        for s in outcome.steps
    )
    still_open = {o.order_id for o in outcome.open_orders_after}
    cancelled = tuple(
        CancelledOrder(
            order_id=o.order_id, symbol=o.symbol, intent_id=o.intent_id, direction=o.direction,
            remaining_quantity=o.remaining,
            confirmed=outcome.cancel.was_cancelled(o.order_id) and o.order_id not in still_open,
        )
        for o in outcome.cancel.found
    )  # fmt: skip
    before, after_acct = outcome.account_before, outcome.account_after
    known = before or after_acct
    account_id = known.account_id if known else None
    total = max(0.0, outcome.total_seconds)
    return RollbackReport(
        generated_at=generated_at,
        tool_version=tool_version(),
        broker_kind=broker_kind,
        account_id_masked=mask_account_id(account_id) if account_id else None,
        trading_mode=known.trading_mode if known else "live",
        trigger=trigger,
        reason=reason,
        started_at=started,
        finished_at=max(started + timedelta(seconds=total), finished),
        total_seconds=total,
        target_seconds=target_seconds,
        within_target=total <= target_seconds,
        steps=steps,
        orders_cancelled=cancelled,
        positions_closed=_closed_positions(outcome),
        fills=_fills(outcome),
        pnl=RollbackPnL(
            net_liquidation_before=before.net_liquidation if before else None,
            net_liquidation_after=after_acct.net_liquidation if after_acct else None,
            realised=outcome.flatten.realized_pnl,
            commissions=abs(outcome.flatten.commissions),
        ),
        remaining_open_orders=len(outcome.open_orders_after),
        remaining_positions=len(outcome.positions_after),
        verdict="FLAT" if outcome.verified_flat else "NOT_FLAT",
        pacing_violations=pacing_violations,
        halt_flag_path=str(outcome.halt_flag),
        logs_dir=logs_dir,
        dlq_paths=DLQ_TOPICS,
        next_steps=(
            "Investigate: read the logs and the DLQ topics listed here.",
            "Report: attach this file to the incident record.",
            f"Fix, then clear the HALT flag ({outcome.halt_flag}) explicitly before trading again.",
        ),
    )


def _closed_positions(outcome: RollbackOutcome) -> tuple[ClosedPosition, ...]:
    """One row per closing order: the position before and after, its fills' price and P&L."""
    after = {p.symbol: p.quantity for p in outcome.positions_after}
    fills_by_order: dict[str, list[Execution]] = {}
    for f in outcome.flatten.fills:
        fills_by_order.setdefault(f.order_id, []).append(f)
    closed = []
    for o in outcome.flatten.orders:
        fills = fills_by_order.get(o.order_id or "", [])
        qty = sum(f.quantity for f in fills)
        closed.append(
            ClosedPosition(
                symbol=o.symbol, quantity_before=o.position_before,
                quantity_after=after.get(o.symbol, 0), order_id=o.order_id,
                avg_fill_price=(sum(f.quantity * f.price for f in fills) / qty) if qty else None,
                realised_pnl=sum(f.realized_pnl or 0.0 for f in fills) if fills else None,
            )
        )  # fmt: skip
    return tuple(closed)


def _fills(outcome: RollbackOutcome) -> tuple[RollbackFill, ...]:
    return tuple(
        RollbackFill(
            exec_id=f.exec_id, order_id=f.order_id, symbol=f.symbol, direction=f.direction,
            quantity=f.quantity, price=f.price,
            commission=abs(f.commission) if f.commission is not None else None,
            at=f.time.astimezone(UTC),
        )
        for f in outcome.flatten.fills
    )  # fmt: skip
