"""The broker commands' core: open the broker, connect, guard, run one operation, build the result.

* :func:`probe` — a read-only probe (only a read-only view of the broker is handed on) →
  :class:`ProbeRun` with ``ACCOUNT_CONFIG.json``'s model;
* :func:`cancel_all`, :func:`flatten`, :func:`rollback` — the emergency operations. Each connects,
  tells paper from live (anything not clearly paper is live), applies the live guard and the
  confirmation, runs the operation and returns its outcome (the rollback: the
  ``ROLLBACK_REPORT.json`` model) — or :class:`Stopped` with the reason and the message.

The simulated account is saved after every command when a state file was named. Nothing is
printed here: questions go through the :class:`Confirmation` callbacks, and the command line
writes, renders and chooses the exit code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, TypeVar

from artifacts.models.account_config import AccountConfig
from artifacts.models.base import utc_now
from artifacts.models.rollback_report import RollbackReport
from gates.broker_artifacts import RollbackTrigger, account_config, rollback_report

if TYPE_CHECKING:
    from engine.broker.clock import Clock
    from engine.broker.factory import BrokerChoice
    from engine.broker.operations import CancelAllOutcome, FlattenOutcome, ProbeOutcome
    from engine.broker.protocol import Broker
    from engine.config import AppConfig

T = TypeVar("T")
NowUtc = Callable[[], datetime]
# Unless given: the real clocks (these functions are the commands' edge).
POLL_INTERVAL = 0.1
"""Seconds between the broker reads that verify an emergency operation."""


@dataclass(frozen=True)
class Confirmation:
    """How the operator confirms an emergency operation.

    ``confirm_live``: the account id given up front (``--confirm-live``); ``ask_live(prompt)``
    asks for it when there is someone to ask (None otherwise); ``ask_paper(prompt)`` asks y/N on
    a paper account unless ``yes``.
    """

    yes: bool
    confirm_live: str | None
    ask_paper: Callable[[str], bool]
    ask_live: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Stopped:
    """The operation did not run: bad broker options (``usage``), the broker could not be
    reached, or the operation was refused. ``message`` says why, ready to show."""

    reason: Literal["usage", "unreachable", "refused"]
    message: str


@dataclass(frozen=True)
class ProbeRun:
    """A probe's outcome and the ``ACCOUNT_CONFIG.json`` model built from it."""

    outcome: ProbeOutcome
    model: AccountConfig


def probe(
    cfg: AppConfig,
    choice: BrokerChoice,
    *,
    clock: Clock | None = None,
    now_utc: NowUtc = utc_now,
) -> ProbeRun | Stopped:
    """Probe the account read-only (connection and view)."""
    from engine.broker import operations
    from engine.broker.factory import save_sim_state
    from engine.broker.protocol import read_only

    broker = _open(cfg, choice, readonly=True)
    if isinstance(broker, Stopped):
        return broker
    probed_at = now_utc()
    outcome = asyncio.run(operations.probe_account(read_only(broker), clock=_clock(clock)))
    save_sim_state(broker, choice.sim_state)
    target = choice.target(cfg.broker, readonly=True)
    model = account_config(outcome, target, probed_at=probed_at, generated_at=now_utc())
    return ProbeRun(outcome, model)


def cancel_all(
    cfg: AppConfig,
    choice: BrokerChoice,
    confirmation: Confirmation,
    *,
    clock: Clock | None = None,
    deadline: float | None = None,
) -> CancelAllOutcome | Stopped:
    """Cancel every open order and verify (default deadline: a quarter of the rollback target)."""
    from engine.broker.operations import cancel_all_orders

    def action(broker: Broker) -> Awaitable[CancelAllOutcome]:
        return cancel_all_orders(
            broker, clock=_clock(clock), poll_interval=POLL_INTERVAL,
            deadline_seconds=deadline or cfg.gates.rollback_target_seconds / 4,
        )  # fmt: skip

    return _emergency(cfg, choice, "cancel-all", confirmation, action)


def flatten(
    cfg: AppConfig,
    choice: BrokerChoice,
    confirmation: Confirmation,
    *,
    clock: Clock | None = None,
    now_utc: NowUtc = utc_now,
    limit_collar: float | None = None,
    deadline: float | None = None,
) -> FlattenOutcome | Stopped:
    """Close every position and verify (default deadline: half the rollback target)."""
    from engine.broker.operations import flatten_positions

    def action(broker: Broker) -> Awaitable[FlattenOutcome]:
        return flatten_positions(
            broker, clock=_clock(clock), now_utc=now_utc, limit_collar=limit_collar,
            poll_interval=POLL_INTERVAL,
            deadline_seconds=deadline or cfg.gates.rollback_target_seconds / 2,
        )  # fmt: skip

    return _emergency(cfg, choice, "flatten", confirmation, action)


def rollback(
    cfg: AppConfig,
    choice: BrokerChoice,
    confirmation: Confirmation,
    *,
    clock: Clock | None = None,
    now_utc: NowUtc = utc_now,
    trigger: RollbackTrigger = "manual",
    reason: str | None = None,
    limit_collar: float | None = None,
    deadline: float | None = None,
) -> RollbackReport | Stopped:
    """SPEC §7 (cancel all → HALT flag → flatten → verify flat) → the rollback report."""
    from engine.broker.operations import HaltFlag
    from engine.broker.operations import rollback as run_rollback

    async def action(broker: Broker) -> RollbackReport:
        started = now_utc()
        outcome = await run_rollback(
            broker, HaltFlag(cfg.paths.state), clock=_clock(clock), now_utc=now_utc,
            limit_collar=limit_collar, poll_interval=POLL_INTERVAL,
            deadline_seconds=deadline or cfg.gates.rollback_target_seconds,
            reason=reason or f"rollback ({trigger})",
            message_counter=lambda: int(getattr(broker, "messages_sent", 0)),
        )  # fmt: skip
        violations = getattr(getattr(broker, "pacing_violations", None), "count", 0)
        return rollback_report(
            outcome, broker_kind=broker.kind, pacing_violations=int(violations),
            target_seconds=cfg.gates.rollback_target_seconds, logs_dir=str(cfg.paths.logs),
            trigger=trigger, reason=reason, started=started, finished=now_utc(),
            generated_at=now_utc(),
        )  # fmt: skip

    return _emergency(cfg, choice, "rollback", confirmation, action)


def _emergency(
    cfg: AppConfig,
    choice: BrokerChoice,
    command: str,
    confirmation: Confirmation,
    action: Callable[[Broker], Awaitable[T]],
) -> T | Stopped:
    """Open the broker, connect, guard, run ``action``; always close and save the sim state."""
    from engine.broker.factory import save_sim_state

    broker = _open(cfg, choice, readonly=False)
    if isinstance(broker, Stopped):
        return broker

    async def main() -> T | Stopped:
        try:
            stop = await connect_and_guard(broker, cfg, command, confirmation)
            if stop is not None:
                return stop
            return await action(broker)
        finally:
            await broker.close()

    try:
        return asyncio.run(main())
    finally:
        save_sim_state(broker, choice.sim_state)


def _clock(clock: Clock | None) -> Clock:
    from engine.broker.clock import SystemClock

    return clock or SystemClock()


def _open(cfg: AppConfig, choice: BrokerChoice, *, readonly: bool) -> Broker | Stopped:
    from engine.broker.factory import BrokerSetupError, open_broker

    try:
        return open_broker(cfg, choice, readonly=readonly)
    except BrokerSetupError as exc:
        return Stopped("usage", f"error: {exc}")


async def connect_and_guard(
    broker: Broker, cfg: AppConfig, command: str, confirmation: Confirmation
) -> Stopped | None:
    """Connect, tell paper from live, apply the live guard and the confirmation.

    Returns :class:`Stopped` when the command must not go on, ``None`` to go on.
    """
    from engine.broker.types import BrokerError, BrokerUnreachable
    from gates.live_guard import check_live_guard

    try:
        await broker.connect()
        summary = await broker.account_summary()
    except BrokerUnreachable as exc:
        return Stopped("unreachable", f"broker unreachable: {exc}")
    except BrokerError as exc:
        return Stopped("unreachable", f"broker not ready: {exc}")
    mode = summary.trading_mode  # fails closed: anything not clearly paper is live
    live_ok = False
    if mode == "live":
        typed = confirmation.confirm_live
        if typed is None and confirmation.ask_live is not None:
            typed = confirmation.ask_live(f"LIVE account. Type the account id to {command}")
        live_ok = typed is not None and typed.strip() == summary.account_id
    decision = check_live_guard(
        trading_mode=mode, command=command, emergency=True, live_confirmed=live_ok,
        prelive_dir=cfg.paths.prelive, config=cfg,
    )  # fmt: skip
    if not decision.allowed:
        return Stopped("refused", f"refused: {decision.reason}")
    if (
        mode == "paper"
        and not confirmation.yes
        and not confirmation.ask_paper(f"{command} on paper account? ")
    ):
        return Stopped("refused", f"refused: {command} needs confirmation; answer y or pass --yes")
    return None
