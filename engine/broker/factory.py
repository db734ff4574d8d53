"""Build a broker from the config and command-line overrides (the one place that chooses).

``kind="sim"`` builds a :class:`~engine.broker.simulated.SimulatedBroker` over a seeded demo
exchange (optionally holding ``sim_positions`` positions and ``sim_orders`` resting orders), so
every command works offline. ``kind="ib"`` builds an :class:`~engine.broker.ib.IBBroker`
(imported lazily: only that module imports ``ib_async``).

:func:`open_broker` does the same from a command line's :class:`BrokerChoice`, including a
simulated account kept between commands in a JSON state file (:func:`save_sim_state`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.broker.clock import Clock, SystemClock, WallClock
from engine.broker.pacing import PacingLimiter
from engine.broker.protocol import Broker, BrokerKind
from engine.broker.sim_exchange import ExchangeConfig, SimExchange, demo_exchange
from engine.config import AppConfig, BrokerConfig, PacingConfig
from engine.util.atomic import atomic_write_text

DEFAULT_SIM_ACCOUNT = "DU1234567"


@dataclass(frozen=True)
class BrokerTarget:
    """Where to connect: the config's broker section with the command line's overrides applied."""

    kind: BrokerKind
    host: str
    port: int
    client_id: int
    account: str | None
    timeout: float
    readonly: bool


def resolve_target(
    cfg: BrokerConfig,
    *,
    kind: str | None = None,
    host: str | None = None,
    port: int | None = None,
    client_id: int | None = None,
    account: str | None = None,
    readonly: bool | None = None,
) -> BrokerTarget:
    chosen = kind or cfg.kind
    if chosen not in ("sim", "ib"):
        raise ValueError(f"--broker {chosen!r} is not a broker; use sim or ib")
    acct = (
        account
        if account is not None
        else (cfg.account.get_secret_value() if cfg.account is not None else None)
    )
    return BrokerTarget(
        kind="sim" if chosen == "sim" else "ib",
        host=host or cfg.host,
        port=port or cfg.port,
        client_id=cfg.client_id if client_id is None else client_id,
        account=acct,
        timeout=cfg.timeout,
        readonly=cfg.readonly if readonly is None else readonly,
    )


def make_broker(
    target: BrokerTarget,
    pacing: PacingConfig,
    *,
    clock: Clock | None = None,
    sim_positions: int = 0,
    sim_orders: int = 0,
    sim_seed: int = 7,
    sim_latency: float = 0.0,
    sim_cash: float = 1_000_000.0,
    sim_state: dict[str, Any] | None = None,
    reconnect_max_backoff: float = 30.0,
) -> Broker:
    """A broker for ``target``, paced at ``pacing.rate`` messages per second.

    ``sim_state`` (from ``SimExchange.to_state``) continues a saved simulated account instead of
    seeding a demo one; the simulated broker then runs on the wall clock (epoch seconds) so the
    saved timeline continues in this process.
    """
    if target.kind == "sim":
        from engine.broker.simulated import SimulatedBroker

        clock = clock or WallClock()
        pacer = PacingLimiter(pacing.rate, pacing.burst, clock=clock)
        if sim_state is not None:
            return SimulatedBroker(
                SimExchange.from_state(sim_state), clock=clock, pacer=pacer, client_id=0,
                readonly=target.readonly,
            )  # fmt: skip
        exchange = demo_exchange(
            positions=sim_positions,
            resting_orders=sim_orders,
            seed=sim_seed,
            config=ExchangeConfig(
                seed=sim_seed,
                account_id=target.account or DEFAULT_SIM_ACCOUNT,
                latency=sim_latency,
                initial_cash=sim_cash,
                message_limit=pacing.limit,
            ),
            now=clock.now(),
        )
        return SimulatedBroker(
            exchange, clock=clock, pacer=pacer, client_id=0, readonly=target.readonly
        )
    from engine.broker.ib import IBBroker

    clock = clock or SystemClock()
    pacer = PacingLimiter(pacing.rate, pacing.burst, clock=clock)
    return IBBroker(
        host=target.host,
        port=target.port,
        client_id=target.client_id,
        account=target.account,
        readonly=target.readonly,
        timeout=target.timeout,
        pacer=pacer,
        clock=clock,
        reconnect_max_backoff=reconnect_max_backoff,
    )


class BrokerSetupError(ValueError):
    """The broker options cannot be used (a usage error); the message names the option."""


@dataclass(frozen=True)
class BrokerChoice:
    """A command line's broker options; ``None`` = the config's value.

    ``sim_*`` shape the simulated demo account (``sim_state``: a JSON file that keeps it between
    commands; ``sim_positions``/``sim_orders`` only seed a new one).
    """

    kind: str | None = None
    host: str | None = None
    port: int | None = None
    client_id: int | None = None
    account: str | None = None
    sim_positions: int = 0
    sim_orders: int = 0
    sim_seed: int = 7
    sim_cash: float = 1_000_000.0
    sim_latency: float = 0.0
    sim_state: Path | None = None

    def target(self, cfg: BrokerConfig, *, readonly: bool) -> BrokerTarget:
        """Where to connect; raises :class:`BrokerSetupError` for an unknown broker kind."""
        try:
            return resolve_target(
                cfg, kind=self.kind, host=self.host, port=self.port, client_id=self.client_id,
                account=self.account, readonly=readonly,
            )  # fmt: skip
        except ValueError as exc:
            raise BrokerSetupError(str(exc)) from None


def open_broker(cfg: AppConfig, choice: BrokerChoice, *, readonly: bool) -> Broker:
    """The (not yet connected) broker ``choice`` names; :class:`BrokerSetupError` when the
    options contradict each other or the simulated account file cannot be read."""
    target = choice.target(cfg.broker, readonly=readonly)
    state = load_sim_state(choice.sim_state) if target.kind == "sim" else None
    if state is not None and (choice.sim_positions or choice.sim_orders):
        raise BrokerSetupError(
            f"{choice.sim_state} already holds a simulated account; --sim-positions and "
            "--sim-orders only seed a new one (delete the file to start over)"
        )
    return make_broker(
        target, cfg.pacing, sim_positions=choice.sim_positions, sim_orders=choice.sim_orders,
        sim_seed=choice.sim_seed, sim_cash=choice.sim_cash, sim_latency=choice.sim_latency,
        sim_state=state, reconnect_max_backoff=cfg.broker.reconnect_max_backoff,
    )  # fmt: skip


def load_sim_state(path: Path | None) -> dict[str, Any] | None:
    """A saved simulated account (``SimExchange.to_state``), or None when there is no file."""
    if path is None or not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BrokerSetupError(
            f"cannot read the simulated account {path}: {exc}; delete it to start over"
        ) from None
    return data if isinstance(data, dict) else {}


def save_sim_state(broker: Broker, path: Path | None) -> None:
    """Persist a simulated broker's account (atomically) so the next command continues it;
    nothing for other brokers or without a path."""
    exchange = getattr(broker, "exchange", None)
    if path is None or exchange is None:
        return
    atomic_write_text(path, json.dumps(exchange.to_state()))
