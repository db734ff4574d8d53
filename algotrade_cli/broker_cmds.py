"""Broker commands: ``probe-account``, ``flatten``, ``cancel-all``, ``rollback``.

Each command: resolve the broker target (config ← options) → connect → one engine operation →
write the artifact → render → exit code. Exit codes: 0 done and verified; 1 not verified (or
buying power ≤ 0 for the probe); 3 broker unreachable; 4 refused (no confirmation, live guard).
``--broker sim`` (the default) runs against a seeded simulated account, offline.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from engine.broker.operations import RollbackOutcome
    from engine.broker.protocol import Broker
    from engine.config import AppConfig

BROKER_OPT = typer.Option(None, "--broker", help="sim (default, offline) or ib.")
HOST_OPT = typer.Option(None, "--host", help="TWS / IB Gateway host (default: config).")
PORT_OPT = typer.Option(None, "--port", help="TWS / IB Gateway port (default: config).")
CLIENT_OPT = typer.Option(None, "--client-id", help="API client id (default: config).")
ACCOUNT_OPT = typer.Option(None, "--account", help="Account id (default: config).")
JSON_OPT = typer.Option(False, "--json", help="Machine-readable JSON on stdout.")
YES_OPT = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (paper).")
LIVE_OPT = typer.Option(
    None, "--confirm-live", help="On a LIVE account: the account id, as explicit confirmation."
)
SIM_POS_OPT = typer.Option(0, "--sim-positions", min=0, help="sim: demo positions to start with.")
SIM_ORD_OPT = typer.Option(0, "--sim-orders", min=0, help="sim: demo resting orders.")
SIM_SEED_OPT = typer.Option(7, "--sim-seed", help="sim: seed of the demo account.")
SIM_LATENCY_OPT = typer.Option(
    0.0, "--sim-latency", min=0.0, help="sim: seconds from an order to its first fill."
)
SIM_STATE_OPT = typer.Option(
    None,
    "--sim-state",
    dir_okay=False,
    help="sim: JSON file keeping the simulated account between commands (created when missing; "
    "--sim-positions/--sim-orders seed it only then).",
)
SIM_CASH_OPT = typer.Option(
    1_000_000.0, "--sim-cash", min=0.0, help="sim: starting cash of the demo account (USD)."
)
DEADLINE_OPT = typer.Option(
    None, "--deadline", help="Seconds to wait for the broker to confirm (default: gates target)."
)


def _broker(
    cfg: AppConfig,
    *,
    kind: str | None,
    host: str | None,
    port: int | None,
    client_id: int | None,
    account: str | None,
    readonly: bool,
    sim_positions: int,
    sim_orders: int,
    sim_seed: int,
    sim_cash: float = 1_000_000.0,
    sim_latency: float = 0.0,
    sim_state: Path | None = None,
) -> Broker:
    from engine.broker.factory import make_broker, resolve_target

    try:
        target = resolve_target(
            cfg.broker, kind=kind, host=host, port=port, client_id=client_id,
            account=account, readonly=readonly,
        )  # fmt: skip
    except ValueError as exc:
        eprint(f"error: {exc}")
        raise typer.Exit(int(ExitCode.USAGE)) from None
    state = _load_sim_state(sim_state) if target.kind == "sim" else None
    if state is not None and (sim_positions or sim_orders):
        eprint(
            f"error: {sim_state} already holds a simulated account; --sim-positions and "
            "--sim-orders only seed a new one (delete the file to start over)"
        )
        raise typer.Exit(int(ExitCode.USAGE))
    return make_broker(
        target, cfg.pacing, sim_positions=sim_positions, sim_orders=sim_orders,
        sim_seed=sim_seed, sim_cash=sim_cash, sim_latency=sim_latency, sim_state=state,
        reconnect_max_backoff=cfg.broker.reconnect_max_backoff,
    )  # fmt: skip


def _notices(raw: tuple[tuple[int, str], ...]) -> tuple[Any, ...]:
    """Broker messages seen during the probe, classified by the IB error table."""
    from artifacts.models.account_config import BrokerNotice
    from engine.broker.ib_errors import classify

    out = []
    for code, message in raw[:50]:
        severity = classify(code).severity
        out.append(
            BrokerNotice(
                code=code,
                message=message,
                severity="error" if severity == "critical" else severity,
            )
        )
    return tuple(out)


def _json_wanted(ctx: typer.Context, flag: bool) -> bool:
    return flag or get_state(ctx).json_output


# ---------------------------------------------------------------------------------- probe
@guarded
def probe_account(
    ctx: typer.Context,
    broker: str | None = BROKER_OPT,
    host: str | None = HOST_OPT,
    port: int | None = PORT_OPT,
    client_id: int | None = CLIENT_OPT,
    account: str | None = ACCOUNT_OPT,
    out: Path | None = typer.Option(None, "--out", help="Directory (default: paths.prelive)."),
    json_output: bool = JSON_OPT,
    sim_positions: int = SIM_POS_OPT,
    sim_orders: int = SIM_ORD_OPT,
    sim_seed: int = SIM_SEED_OPT,
    sim_cash: float = SIM_CASH_OPT,
    sim_latency: float = SIM_LATENCY_OPT,
    sim_state: Path | None = SIM_STATE_OPT,
) -> int:
    """Read-only account probe (gate 6); writes ACCOUNT_CONFIG.json.

    Read-only by construction: the connection is read-only and the probe only holds a read-only
    view of the broker, which has no order methods. Exit 0 connected with buying power > 0,
    1 connected otherwise, 3 broker unreachable.
    """
    from artifacts.io import write_artifact
    from artifacts.models.account_config import AccountConfig
    from artifacts.models.base import mask_account_id, tool_version, utc_now
    from engine.broker.clock import SystemClock
    from engine.broker.operations import probe_account as run_probe
    from engine.broker.protocol import read_only

    cfg = get_state(ctx).config()
    impl = _broker(
        cfg, kind=broker, host=host, port=port, client_id=client_id, account=account,
        readonly=True, sim_positions=sim_positions, sim_orders=sim_orders, sim_seed=sim_seed,
        sim_cash=sim_cash, sim_latency=sim_latency, sim_state=sim_state,
    )  # fmt: skip
    probed_at = datetime.now(UTC)
    outcome = asyncio.run(run_probe(read_only(impl), clock=SystemClock()))
    _save_sim_state(impl, sim_state)
    s = outcome.summary
    is_ib = impl.kind == "ib"
    target_port = port or cfg.broker.port
    model = AccountConfig(
        generated_at=utc_now(),
        tool_version=tool_version(),
        broker_kind=impl.kind,
        host=(host or cfg.broker.host) if is_ib else None,
        port=target_port if is_ib else None,
        client_id=(cfg.broker.client_id if client_id is None else client_id) if is_ib else None,
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
        notices=_notices(outcome.notices),
        failure=None if outcome.connected else (outcome.failure or "not connected"),
    )
    target_dir = out or cfg.paths.prelive
    written = write_artifact(Path(target_dir) / AccountConfig.FILE_NAME, model)
    payload = model.model_dump(mode="json")
    if _json_wanted(ctx, json_output):
        print_json({**payload, "artifact": str(written.path), "sha256": written.sha256})
    else:
        from algotrade_cli.render import broker as render

        render.probe(payload, str(written.path))
    if outcome.unreachable:
        eprint(f"broker unreachable: {outcome.failure}")
        return int(ExitCode.UNREACHABLE)
    if not outcome.connected:
        eprint(f"probe failed: {outcome.failure}")
        return int(ExitCode.FAILED)
    return int(ExitCode.OK) if s and s.buying_power > 0 else int(ExitCode.FAILED)


# ---------------------------------------------------------------------------------- emergency
async def _connect_and_guard(
    impl: Broker, cfg: AppConfig, command: str, *, yes: bool, confirm_live: str | None
) -> int | None:
    """Connect, tell paper from live, apply the live guard and the confirmation.

    Returns an exit code when the command must stop, ``None`` to go on.
    """
    from engine.broker.types import BrokerError, BrokerUnreachable
    from gates.live_guard import check_live_guard

    try:
        await impl.connect()
        summary = await impl.account_summary()
    except BrokerUnreachable as exc:
        eprint(f"broker unreachable: {exc}")
        return int(ExitCode.UNREACHABLE)
    except BrokerError as exc:
        eprint(f"broker not ready: {exc}")
        return int(ExitCode.UNREACHABLE)
    mode = summary.trading_mode  # fails closed: anything not clearly paper is live
    live_ok = False
    if mode == "live":
        if confirm_live is None and sys.stdin.isatty():
            confirm_live = typer.prompt(
                f"LIVE account. Type the account id to {command}", err=True, default=""
            )
        live_ok = confirm_live is not None and confirm_live.strip() == summary.account_id
    decision = check_live_guard(
        trading_mode=mode, command=command, emergency=True, live_confirmed=live_ok,
        prelive_dir=cfg.paths.prelive,
    )  # fmt: skip
    if not decision.allowed:
        eprint(f"refused: {decision.reason}")
        return int(ExitCode.REFUSED)
    if mode == "paper" and not yes:
        try:
            ok = typer.confirm(f"{command} on paper account? ", default=False, err=True)
        except typer.Abort:
            ok = False
        if not ok:
            eprint(f"refused: {command} needs confirmation; answer y or pass --yes")
            return int(ExitCode.REFUSED)
    return None


def _emergency(
    ctx: typer.Context,
    command: str,
    opts: dict[str, Any],
    action: Any,
) -> int:
    cfg = get_state(ctx).config()
    impl = _broker(
        cfg, kind=opts["broker"], host=opts["host"], port=opts["port"],
        client_id=opts["client_id"], account=opts["account"], readonly=False,
        sim_positions=opts["sim_positions"], sim_orders=opts["sim_orders"],
        sim_seed=opts["sim_seed"], sim_cash=opts["sim_cash"], sim_latency=opts["sim_latency"],
        sim_state=opts["sim_state"],
    )  # fmt: skip

    async def main() -> int:
        try:
            stop = await _connect_and_guard(
                impl, cfg, command, yes=opts["yes"], confirm_live=opts["confirm_live"]
            )
            if stop is not None:
                return stop
            return int(await action(impl, cfg))
        finally:
            await impl.close()

    try:
        return asyncio.run(main())
    finally:
        _save_sim_state(impl, opts["sim_state"])


def _load_sim_state(path: Path | None) -> dict[str, Any] | None:
    if path is None or not path.exists():
        return None
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        eprint(f"error: cannot read the simulated account {path}: {exc}; delete it to start over")
        raise typer.Exit(int(ExitCode.USAGE)) from None
    return data if isinstance(data, dict) else {}


def _save_sim_state(impl: Broker, path: Path | None) -> None:
    """Persist the simulated account (atomically) so the next command continues from it."""
    exchange = getattr(impl, "exchange", None)
    if path is None or exchange is None:
        return
    import json

    from artifacts.io import atomic_write_text

    atomic_write_text(path, json.dumps(exchange.to_state()))


@guarded
def cancel_all(
    ctx: typer.Context,
    broker: str | None = BROKER_OPT,
    host: str | None = HOST_OPT,
    port: int | None = PORT_OPT,
    client_id: int | None = CLIENT_OPT,
    account: str | None = ACCOUNT_OPT,
    yes: bool = YES_OPT,
    confirm_live: str | None = LIVE_OPT,
    json_output: bool = JSON_OPT,
    deadline: float | None = DEADLINE_OPT,
    sim_positions: int = SIM_POS_OPT,
    sim_orders: int = SIM_ORD_OPT,
    sim_seed: int = SIM_SEED_OPT,
    sim_cash: float = SIM_CASH_OPT,
    sim_latency: float = SIM_LATENCY_OPT,
    sim_state: Path | None = SIM_STATE_OPT,
) -> int:
    """Cancel every open order (paced), then verify with the broker that none is left.

    Exit 0 verified, 1 orders still open at the deadline, 3 broker unreachable, 4 refused
    (no confirmation; on a LIVE account --confirm-live <account id> is required).
    """
    from engine.broker.clock import SystemClock
    from engine.broker.operations import cancel_all_orders

    async def action(impl: Broker, cfg: AppConfig) -> int:
        out = await cancel_all_orders(
            impl, clock=SystemClock(), poll_interval=0.1,
            deadline_seconds=deadline or cfg.gates.rollback_target_seconds / 4,
        )  # fmt: skip
        rows = [
            {"order_id": o.order_id, "symbol": o.symbol, "direction": o.direction,
             "remaining": o.remaining, "intent_id": o.intent_id,
             "confirmed": out.was_cancelled(o.order_id)}
            for o in out.found
        ]  # fmt: skip
        if _json_wanted(ctx, json_output):
            print_json(
                {"command": "cancel-all", "verified": out.verified, "cancelled": rows,
                 "remaining": len(out.remaining), "used_global_cancel": out.used_global_cancel,
                 "seconds": out.seconds, "error": out.error}
            )  # fmt: skip
        else:
            from algotrade_cli.render import broker as render

            render.orders_cancelled(rows, len(out.remaining), out.verified)
        if out.error:
            eprint(f"cancel-all: {out.error}")
        return int(ExitCode.OK) if out.verified else int(ExitCode.FAILED)

    return _emergency(ctx, "cancel-all", _opts(locals()), action)


@guarded
def flatten(
    ctx: typer.Context,
    broker: str | None = BROKER_OPT,
    host: str | None = HOST_OPT,
    port: int | None = PORT_OPT,
    client_id: int | None = CLIENT_OPT,
    account: str | None = ACCOUNT_OPT,
    yes: bool = YES_OPT,
    confirm_live: str | None = LIVE_OPT,
    limit_collar: float | None = typer.Option(
        None,
        "--limit-collar",
        min=0.0001,
        max=0.2,
        help="Close with marketable limits this fraction away from the mark instead of market orders.",
    ),
    json_output: bool = JSON_OPT,
    deadline: float | None = DEADLINE_OPT,
    sim_positions: int = SIM_POS_OPT,
    sim_orders: int = SIM_ORD_OPT,
    sim_seed: int = SIM_SEED_OPT,
    sim_cash: float = SIM_CASH_OPT,
    sim_latency: float = SIM_LATENCY_OPT,
    sim_state: Path | None = SIM_STATE_OPT,
) -> int:
    """Close every position with market orders (paced), then verify with the broker.

    Exit 0 verified flat, 1 positions left at the deadline, 3 broker unreachable, 4 refused
    (no confirmation; on a LIVE account --confirm-live <account id> is required).
    """
    from engine.broker.clock import SystemClock
    from engine.broker.operations import flatten_positions

    async def action(impl: Broker, cfg: AppConfig) -> int:
        out = await flatten_positions(
            impl, clock=SystemClock(), now_utc=lambda: datetime.now(UTC),
            limit_collar=limit_collar, poll_interval=0.1,
            deadline_seconds=deadline or cfg.gates.rollback_target_seconds / 2,
        )  # fmt: skip
        rows = [asdict(o) for o in out.orders]
        if _json_wanted(ctx, json_output):
            print_json(
                {"command": "flatten", "verified": out.verified, "orders": rows,
                 "remaining": [asdict(p) for p in out.remaining], "fills": len(out.fills),
                 "realized_pnl": out.realized_pnl, "commissions": out.commissions,
                 "seconds": out.seconds, "error": out.error}
            )  # fmt: skip
        else:
            from algotrade_cli.render import broker as render

            render.positions_closed(rows, len(out.remaining), out.verified)
        if out.error:
            eprint(f"flatten: {out.error}")
        return int(ExitCode.OK) if out.verified else int(ExitCode.FAILED)

    return _emergency(ctx, "flatten", _opts(locals()), action)


@guarded
def rollback(
    ctx: typer.Context,
    broker: str | None = BROKER_OPT,
    host: str | None = HOST_OPT,
    port: int | None = PORT_OPT,
    client_id: int | None = CLIENT_OPT,
    account: str | None = ACCOUNT_OPT,
    yes: bool = YES_OPT,
    confirm_live: str | None = LIVE_OPT,
    limit_collar: float | None = typer.Option(
        None, "--limit-collar", min=0.0001, max=0.2, help="Flatten with collared limits."
    ),
    trigger: str = typer.Option("manual", "--trigger", help="manual, kill_switch or drill."),
    reason: str | None = typer.Option(None, "--reason", help="Why the rollback runs."),
    out: Path | None = typer.Option(None, "--out", help="Directory (default: paths.prelive)."),
    json_output: bool = JSON_OPT,
    deadline: float | None = DEADLINE_OPT,
    sim_positions: int = SIM_POS_OPT,
    sim_orders: int = SIM_ORD_OPT,
    sim_seed: int = SIM_SEED_OPT,
    sim_cash: float = SIM_CASH_OPT,
    sim_latency: float = SIM_LATENCY_OPT,
    sim_state: Path | None = SIM_STATE_OPT,
) -> int:
    """Emergency procedure (SPEC §7): cancel all → detach (HALT flag) → flatten → verify flat.

    Writes ROLLBACK_REPORT.json; exit 0 only when the broker reports zero open orders and zero
    positions before the deadline, 1 otherwise, 3 broker unreachable, 4 refused (no
    confirmation; on a LIVE account --confirm-live <account id> is required).
    """
    from engine.broker.clock import SystemClock
    from engine.broker.operations import HaltFlag
    from engine.broker.operations import rollback as run_rollback

    if trigger not in ("manual", "kill_switch", "drill"):
        eprint(f"error: --trigger {trigger!r}; use manual, kill_switch or drill")
        return int(ExitCode.USAGE)

    async def action(impl: Broker, cfg: AppConfig) -> int:
        started = datetime.now(UTC)
        outcome = await run_rollback(
            impl, HaltFlag(cfg.paths.state), clock=SystemClock(),
            now_utc=lambda: datetime.now(UTC), limit_collar=limit_collar, poll_interval=0.1,
            deadline_seconds=deadline or cfg.gates.rollback_target_seconds,
            reason=reason or f"rollback ({trigger})",
            message_counter=lambda: int(getattr(impl, "messages_sent", 0)),
        )  # fmt: skip
        report = _rollback_report(impl, cfg, outcome, started, trigger, reason)
        from artifacts.io import write_artifact

        written = write_artifact(Path(out or cfg.paths.prelive) / report.FILE_NAME, report)
        payload = report.model_dump(mode="json")
        if _json_wanted(ctx, json_output):
            print_json({**payload, "artifact": str(written.path), "sha256": written.sha256})
        else:
            from algotrade_cli.render import broker as render

            render.rollback(payload, str(written.path))
        return int(ExitCode.OK) if outcome.verified_flat else int(ExitCode.FAILED)

    return _emergency(ctx, "rollback", _opts(locals()), action)


def _opts(scope: dict[str, Any]) -> dict[str, Any]:
    keys = ("broker", "host", "port", "client_id", "account", "yes", "confirm_live",
            "sim_positions", "sim_orders", "sim_seed", "sim_cash", "sim_latency", "sim_state")  # fmt: skip
    return {k: scope[k] for k in keys}


def _rollback_report(
    impl: Broker,
    cfg: AppConfig,
    outcome: RollbackOutcome,
    started: datetime,
    trigger: str,
    reason: str | None,
) -> Any:
    from artifacts.models.base import mask_account_id, tool_version, utc_now
    from artifacts.models.rollback_report import (
        CancelledOrder,
        ClosedPosition,
        RollbackFill,
        RollbackPnL,
        RollbackReport,
        RollbackStep,
    )

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
    after = {p.symbol: p.quantity for p in outcome.positions_after}
    fills_by_order: dict[str, list[Any]] = {}
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
    account_id = known.account_id if known else None
    mode = known.trading_mode if known else "live"
    target = cfg.gates.rollback_target_seconds
    total = max(0.0, outcome.total_seconds)
    violations = getattr(getattr(impl, "pacing_violations", None), "count", 0)
    return RollbackReport(
        generated_at=utc_now(),
        tool_version=tool_version(),
        broker_kind=impl.kind,
        account_id_masked=mask_account_id(account_id) if account_id else None,
        trading_mode=mode,
        trigger=trigger,
        reason=reason,
        started_at=started,
        finished_at=max(started + timedelta(seconds=total), datetime.now(UTC)),
        total_seconds=total,
        target_seconds=target,
        within_target=total <= target,
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
        logs_dir=str(cfg.paths.logs),
        dlq_paths=("dlq_market_events", "dlq_order_intents", "dlq_execution_reports"),
        next_steps=(
            "Investigate: read the logs and the DLQ topics listed here.",
            "Report: attach this file to the incident record.",
            f"Fix, then clear the HALT flag ({outcome.halt_flag}) explicitly before trading again.",
        ),
    )
