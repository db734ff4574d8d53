"""Broker commands: ``probe-account``, ``flatten``, ``cancel-all``, ``rollback``.

Each command: parse the options → one core call (``gates.broker_ops``: open the broker, connect,
guard, run the operation) → write the artifact → render → exit code. Exit codes: 0 done and
verified; 1 not verified (or buying power ≤ 0 for the probe); 2 bad broker options; 3 broker
unreachable; 4 refused (no confirmation, live guard). ``--broker sim`` (the default) runs against
a seeded simulated account, offline.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from engine.broker.factory import BrokerChoice
    from engine.broker.operations import CancelAllOutcome, FlattenOutcome
    from gates.broker_ops import Confirmation, Stopped

_Outcome = TypeVar("_Outcome", "CancelAllOutcome", "FlattenOutcome")

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
    None, "--sim-state", dir_okay=False,
    help="sim: JSON file keeping the simulated account between commands (created when missing; "
    "--sim-positions/--sim-orders seed it only then).",
)  # fmt: skip
SIM_CASH_OPT = typer.Option(
    1_000_000.0, "--sim-cash", min=0.0, help="sim: starting cash of the demo account (USD)."
)
DEADLINE_OPT = typer.Option(
    None, "--deadline", help="Seconds to wait for the broker to confirm (default: gates target)."
)


_CHOICE_KEYS = ("host", "port", "client_id", "account", "sim_positions", "sim_orders", "sim_seed",
                "sim_cash", "sim_latency", "sim_state")  # fmt: skip


def _choice(scope: dict[str, Any]) -> BrokerChoice:
    """The command's broker options (its local variables) as a ``BrokerChoice``."""
    from engine.broker.factory import BrokerChoice

    return BrokerChoice(kind=scope["broker"], **{k: scope[k] for k in _CHOICE_KEYS})


def _confirmation(yes: bool, confirm_live: str | None) -> Confirmation:
    from gates.broker_ops import Confirmation

    def ask_live(prompt: str) -> str:
        return str(typer.prompt(prompt, err=True, default=""))

    def ask_paper(prompt: str) -> bool:
        try:
            return bool(typer.confirm(prompt, default=False, err=True))
        except typer.Abort:
            return False

    return Confirmation(
        yes=yes, confirm_live=confirm_live, ask_paper=ask_paper,
        ask_live=ask_live if sys.stdin.isatty() else None,
    )  # fmt: skip


_STOPPED = {"usage": ExitCode.USAGE, "unreachable": ExitCode.UNREACHABLE,
            "refused": ExitCode.REFUSED}  # fmt: skip


def _stopped(result: Stopped) -> int:
    eprint(result.message)
    return int(_STOPPED[result.reason])


def _write_and_show(
    ctx: typer.Context, json_output: bool, model: Any, out_dir: Path, show: Callable[..., None]
) -> None:
    """Write the artifact ``model`` into ``out_dir``, then print it (JSON, with its path and
    hash) or render it."""
    from artifacts.io import write_artifact

    written = write_artifact(out_dir / model.FILE_NAME, model)
    payload = model.model_dump(mode="json")
    extra = {"artifact": str(written.path), "sha256": written.sha256}
    _emit(ctx, json_output, {**payload, **extra}, lambda _: show(payload, str(written.path)))


def _json_wanted(ctx: typer.Context, flag: bool) -> bool:
    return flag or get_state(ctx).json_output


def _emit(
    ctx: typer.Context, json_output: bool, summary: dict[str, Any], show: Callable[..., None]
) -> None:
    """The summary as JSON on stdout when asked, else rendered by ``show``."""
    if _json_wanted(ctx, json_output):
        print_json(summary)
    else:
        show(summary)


def _verified(
    ctx: typer.Context,
    json_output: bool,
    command: str,
    out: _Outcome | Stopped,
    summarize: Callable[[_Outcome], dict[str, Any]],
    show: Callable[..., None],
) -> int:
    """Show an emergency operation's outcome; exit 0 when the broker verified it, else 1
    (or the stop's exit code)."""
    from gates.broker_ops import Stopped

    if isinstance(out, Stopped):
        return _stopped(out)
    _emit(ctx, json_output, summarize(out), show)
    if out.error:
        eprint(f"{command}: {out.error}")
    return int(ExitCode.OK) if out.verified else int(ExitCode.FAILED)


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
    from algotrade_cli.render import broker as render
    from gates import broker_ops

    cfg = get_state(ctx).config()
    run = broker_ops.probe(cfg, _choice(locals()))
    if isinstance(run, broker_ops.Stopped):
        return _stopped(run)
    _write_and_show(ctx, json_output, run.model, Path(out or cfg.paths.prelive), render.probe)
    outcome, summary = run.outcome, run.outcome.summary
    if outcome.unreachable:
        eprint(f"broker unreachable: {outcome.failure}")
        return int(ExitCode.UNREACHABLE)
    if not outcome.connected:
        eprint(f"probe failed: {outcome.failure}")
        return int(ExitCode.FAILED)
    return int(ExitCode.OK) if summary and summary.buying_power > 0 else int(ExitCode.FAILED)


# ---------------------------------------------------------------------------------- emergency
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
    from algotrade_cli.render import broker as render
    from gates import broker_ops
    from gates.broker_artifacts import cancel_all_summary

    cfg = get_state(ctx).config()
    out = broker_ops.cancel_all(
        cfg, _choice(locals()), _confirmation(yes, confirm_live), deadline=deadline
    )
    return _verified(
        ctx, json_output, "cancel-all", out, cancel_all_summary, render.orders_cancelled
    )


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
    from algotrade_cli.render import broker as render
    from gates import broker_ops
    from gates.broker_artifacts import flatten_summary

    cfg = get_state(ctx).config()
    out = broker_ops.flatten(
        cfg, _choice(locals()), _confirmation(yes, confirm_live), limit_collar=limit_collar,
        deadline=deadline,
    )  # fmt: skip
    return _verified(ctx, json_output, "flatten", out, flatten_summary, render.positions_closed)


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
    from algotrade_cli.render import broker as render
    from gates import broker_ops
    from gates.broker_artifacts import is_rollback_trigger

    if not is_rollback_trigger(trigger):
        eprint(f"error: --trigger {trigger!r}; use manual, kill_switch or drill")
        return int(ExitCode.USAGE)
    cfg = get_state(ctx).config()
    report = broker_ops.rollback(
        cfg, _choice(locals()), _confirmation(yes, confirm_live), trigger=trigger,
        reason=reason, limit_collar=limit_collar, deadline=deadline,
    )  # fmt: skip
    if isinstance(report, broker_ops.Stopped):
        return _stopped(report)
    _write_and_show(ctx, json_output, report, Path(out or cfg.paths.prelive), render.rollback)
    return int(ExitCode.OK) if report.verdict == "FLAT" else int(ExitCode.FAILED)
