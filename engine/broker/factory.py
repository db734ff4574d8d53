"""Build a broker from the config and command-line overrides (the one place that chooses).

``kind="sim"`` builds a :class:`~engine.broker.simulated.SimulatedBroker` over a seeded demo
exchange (optionally holding ``sim_positions`` positions and ``sim_orders`` resting orders), so
every command works offline. ``kind="ib"`` builds an :class:`~engine.broker.ib.IBBroker`
(imported lazily: only that module imports ``ib_async``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.broker.clock import Clock, SystemClock, WallClock
from engine.broker.pacing import PacingLimiter
from engine.broker.protocol import Broker, BrokerKind
from engine.broker.sim_exchange import ExchangeConfig, SimExchange, demo_exchange
from engine.config import BrokerConfig, PacingConfig

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
