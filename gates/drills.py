"""The two drills gate 8 needs: each one really runs, and its evidence is what it observed.

* **Rollback drill** — open positions and resting orders (on the simulated broker by default, or on
  the paper account / simulated gateway with ``--broker ib``), run the real rollback core
  (``engine.broker.operations.rollback``: cancel all → HALT flag → flatten → verify), check the
  broker reports flat, and time it against ``gates.rollback_target_seconds``. Writes
  ``ROLLBACK_REPORT.json``. Refuses to run on a live account.
* **Kill-switch drill** — a simulated broker holding positions; prices move against them bar by
  bar while the kill-switch bank (with a file latch) watches the account's P&L, as a session
  would. Passes when HALT_AND_FLATTEN trips, the positions are flattened (by the same rollback
  core) and the latch, re-opened from its file, is still halted.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from artifacts.models.base import ArtifactRef
from gates.base import GateContext
from gates.broker_access import make, rollback_report
from gates.output import pin, write_report

if TYPE_CHECKING:
    from engine.broker.protocol import Broker

DRILL_DIR = "drills"


@dataclass
class DrillOutcome:
    kind: str
    ran: bool
    passed: bool
    started_at: datetime | None = None
    seconds: float | None = None
    target_seconds: float | None = None
    observations: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    report: ArtifactRef | None = None


def _wall() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------------ rollback


def rollback_drill(
    ctx: GateContext, *, positions: int = 6, orders: int = 12, ib_symbols: tuple[str, ...] = ()
) -> DrillOutcome:
    """Open ``positions`` positions and ``orders`` resting orders, roll back, verify flat."""
    return asyncio.run(_rollback_drill(ctx, positions, orders, ib_symbols))


async def _rollback_drill(
    ctx: GateContext, positions: int, orders: int, ib_symbols: tuple[str, ...]
) -> DrillOutcome:
    from engine.broker.clock import SystemClock
    from engine.broker.operations import HaltFlag, rollback
    from engine.broker.types import BrokerError

    target = ctx.config.gates.rollback_target_seconds
    out = DrillOutcome("rollback", ran=False, passed=False, target_seconds=target)
    clock = SystemClock()
    broker = make(
        ctx, readonly=False, clock=clock, sim_positions=positions, sim_orders=orders,
        client_id=(ctx.options.client_id or ctx.config.broker.client_id) + 100,
    )  # fmt: skip
    try:
        await broker.connect()
    except BrokerError as exc:
        out.failures.append(f"could not connect for the drill: {exc}")
        return out
    try:
        summary = await broker.account_summary()
        if summary.trading_mode != "paper":
            out.failures.append(
                f"refused: the drill opens positions and the account is {summary.trading_mode} "
                f"({', '.join(summary.mode_evidence)}); drills run on paper or the simulator"
            )
            return out
        if broker.kind == "ib":
            await _open_on_ib(broker, ib_symbols or ("AAPL", "MSFT"), orders)
        before_orders = await broker.open_orders()
        before_positions = [p for p in await broker.positions() if p.quantity]
        out.observations.append(
            f"opened {len(before_positions)} positions and {len(before_orders)} resting orders "
            f"on {'the simulated broker' if broker.kind == 'sim' else 'IB (paper)'}"
        )
        if not before_positions or not before_orders:
            out.failures.append("the drill could not open both positions and resting orders")
        state = ctx.out_dir / DRILL_DIR / "rollback-state"
        started = _wall()
        out.started_at = started
        outcome = await rollback(
            broker, HaltFlag(state), clock=clock, now_utc=_wall, poll_interval=0.05,
            deadline_seconds=target, reason="gate 8 rollback drill",
            message_counter=lambda: int(getattr(broker, "messages_sent", 0)),
        )  # fmt: skip
        out.ran = True
        report = rollback_report(
            ctx, broker, outcome, started, trigger="drill", reason="gate 8 rollback drill"
        )
        out.report = write_report(ctx, report)
        out.seconds = report.total_seconds
        out.observations.append(
            f"{report.verdict} after {report.total_seconds:.2f} s (target {target:g} s): "
            f"{len(report.orders_cancelled)} orders cancelled, "
            f"{len(report.positions_closed)} positions closed"
        )
        if not outcome.verified_flat:
            out.failures.append(
                f"not flat: {report.remaining_open_orders} open orders and "
                f"{report.remaining_positions} positions left"
            )
        if not report.within_target:
            out.failures.append(f"took {report.total_seconds:.1f} s > target {target:g} s")
        if report.pacing_violations:
            out.failures.append(f"{report.pacing_violations} pacing violations during rollback")
        out.passed = out.ran and not out.failures
        return out
    finally:
        await broker.close()


async def _open_on_ib(broker: Broker, symbols: tuple[str, ...], orders: int) -> None:
    """On a paper account / the simulated gateway: buy a little, then rest limits 2 % below."""
    from contracts.messages import OrderIntent
    from engine.broker.operations import poll_until

    def intent(symbol: str, qty: int, order_type: str, limit: float | None = None) -> OrderIntent:
        data: dict[str, object] = {
            "event_type": "order_intent", "intent_id": str(uuid.uuid4()), "symbol": symbol,
            "direction": "BUY", "quantity": qty, "order_type": order_type,
            "timestamp": _wall(), "time_in_force": "GTC" if limit else "DAY",
        }  # fmt: skip
        if limit is not None:
            data["limit_price"] = limit
        return OrderIntent.model_validate(data)

    from engine.broker.clock import SystemClock

    for symbol in symbols:
        await broker.place(intent(symbol, 10, "MARKET"))
    positions, _ = await poll_until(
        broker.positions, lambda ps: len([p for p in ps if p.quantity]) >= len(symbols),
        clock=SystemClock(), deadline_seconds=15.0, interval=0.1,
    )  # fmt: skip
    marks = {p.symbol: p.market_price or p.avg_cost for p in positions}
    for i in range(max(1, min(orders, 4))):
        symbol = symbols[i % len(symbols)]
        if symbol in marks and marks[symbol] > 0:
            await broker.place(intent(symbol, 1, "LIMIT", round(marks[symbol] * 0.98, 2)))
    await poll_until(
        broker.open_orders, bool, clock=SystemClock(), deadline_seconds=5.0, interval=0.1
    )


# --------------------------------------------------------------------------------- kill switch


KS_SYMBOLS = (("KSD001", 2_000), ("KSD002", 2_000), ("KSD003", -1_000), ("KSD004", -1_000))


def kill_switch_drill(ctx: GateContext, *, step: float = 0.01, max_steps: int = 60) -> DrillOutcome:
    """Move prices ``step`` against the book each bar until the bank halts (or ``max_steps``)."""
    return asyncio.run(_kill_switch_drill(ctx, step, max_steps))


async def _kill_switch_drill(ctx: GateContext, step: float, max_steps: int) -> DrillOutcome:
    from engine.broker.clock import SystemClock
    from engine.broker.operations import HaltFlag, rollback
    from engine.broker.pacing import PacingLimiter
    from engine.broker.sim_exchange import ExchangeConfig, SimExchange, SymbolSpec
    from engine.broker.simulated import SimulatedBroker
    from engine.risk.kill_switch import FileLatchStore, KillSwitchBank

    cfg = ctx.config
    out = DrillOutcome("kill_switch", ran=False, passed=False)
    state = ctx.out_dir / DRILL_DIR / "kill-switch-state"
    latch_path = state / "kill_switch_latch.json"
    latch_path.unlink(missing_ok=True)
    clock = SystemClock()
    exchange = SimExchange(
        ExchangeConfig(seed=11, account_id="DU0000042", message_limit=cfg.pacing.limit),
        [SymbolSpec(s, 100.0) for s, _ in KS_SYMBOLS],
        now=clock.now(),
    )
    for symbol, qty in KS_SYMBOLS:
        exchange.set_position(symbol, qty, 100.0)
    broker = SimulatedBroker(
        exchange, clock=clock, pacer=PacingLimiter(cfg.pacing.rate, cfg.pacing.burst, clock=clock)
    )
    await broker.connect()
    try:
        bank = KillSwitchBank(cfg.kill_switch, FileLatchStore(latch_path))
        start = _wall()
        out.started_at = start
        t0 = clock.now()
        nlv0 = (await broker.account_summary()).net_liquidation
        peak = nlv0
        out.observations.append(
            f"book: {len(KS_SYMBOLS)} positions, gross "
            f"{sum(abs(q) * 100.0 for _, q in KS_SYMBOLS):,.0f} on {nlv0:,.0f} net liquidation"
        )
        halt = None
        for bar in range(1, max_steps + 1):
            for symbol, qty in KS_SYMBOLS:  # the loss: every position moves against us
                price = 100.0 * (1 - step * bar if qty > 0 else 1 + step * bar)
                await broker.set_price(symbol, round(price, 4))
            nlv = (await broker.account_summary()).net_liquidation
            peak = max(peak, nlv)
            events = bank.evaluate(nlv / nlv0 - 1, 1 - nlv / peak, math.nan, bar, _wall())
            halts = [e for e in events if e.level == "HALT"]
            if halts:
                halt = halts[0]
                out.observations.append(f"bar {bar}: {halt.message}")
                break
        out.ran = True
        if halt is None or bank.halt_event is None:
            out.failures.append(f"no halt after {max_steps} adverse bars")
            return out
        if bank.halt_event.action != "HALT_AND_FLATTEN":
            out.failures.append(f"the halt was {bank.halt_event.action}, not HALT_AND_FLATTEN")
        outcome = await rollback(
            broker, HaltFlag(state), clock=clock, now_utc=_wall, poll_interval=0.05,
            deadline_seconds=cfg.gates.rollback_target_seconds, reason=halt.message,
        )  # fmt: skip
        left = [p for p in await broker.positions() if p.quantity]
        if outcome.verified_flat and not left:
            out.observations.append(
                f"flattened {len(outcome.flatten.orders)} positions; broker reports flat"
            )
        else:
            out.failures.append(f"positions not flattened: {len(left)} left")
        reopened = KillSwitchBank(cfg.kill_switch, FileLatchStore(latch_path))
        benign = reopened.evaluate(0.01, 0.0, math.nan, 0, _wall())
        if reopened.halted and not benign and latch_path.is_file():
            out.observations.append(f"latch persisted ({latch_path.name}); still halted on re-open")
            out.report = pin(ctx, latch_path)
        else:
            out.failures.append("the latch did not survive a re-open (not halted after restart)")
        out.seconds = max(0.0, clock.now() - t0)
        out.passed = not out.failures
        return out
    finally:
        await broker.close()


def drill_state_dir(out_dir: Path) -> Path:
    return out_dir / DRILL_DIR
