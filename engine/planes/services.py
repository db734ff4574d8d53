"""The three planes as separate, long-lived services (``algotrade plane data|strategy|order``).

The one-process session (:mod:`engine.planes.session`) shares a few things in memory: the
broker, the halt state, the learned cost, the bar-by-bar handshake. Split across processes (or
hosts) the planes share only the bus — the Kafka backend in practice, with this session's own
topics (prefix ``bus.kafka_topic_prefix`` + session id) — and coordinate through control records
on ``session_control`` (:mod:`engine.planes.control`):

* **order plane** — owns the broker (the simulated broker's exchange is saved under
  ``<out>/session`` after every change), the pre-trade checks, the risk monitor (account samples,
  kill switches, flatten) and the session's figures. It follows ``market_events`` too: the bar
  closes are the simulated exchange's prices and the price collars' reference. Announces
  ``ready`` (starting net liquidation, learned cost, lockstep or not). At the end it assembles
  the :class:`~engine.planes.session.SessionResult` (the caller writes the gate-7 artifacts).
* **strategy plane** — warm-up on the daily history, decisions through the backtest's decision
  path; the learned cost comes with each ``bar_settled`` record, a halt with a ``halt`` record.
* **data plane** — publishes the session day bar by bar on the session clock.

With the simulated broker the session runs in lockstep exactly as in one process, so the same
seed and config give the same decisions, orders and fills: for each bar ``k``

1. data: publish bar ``k``'s events → ``bar_published(k, count=M)``;
2. order: consume the market events up to ``M`` (the exchange moves to the closes), sample the
   account (kill switches: a ``halt`` record; HALT_AND_FLATTEN flattens and ends the session)
   → ``bar_marked(k)``;
3. strategy: consume up to ``M`` and every execution report announced so far, decide →
   ``bar_completed(k, count=I)``;
4. order: handle the intents up to ``I``, wait until no order is working →
   ``bar_settled(k, count=R, learned cost)``;
5. data: the next bar.

With IBKR (no lockstep) the data plane publishes on the clock, the strategy decides when the next
bar arrives and the order plane samples on each ``bar_published``.

**Restarts.** A plane's consumer groups resume from their committed offsets; control records are
re-read from the topic. The order plane re-reads the intents and reports of the session, its
order log and the broker's executions (:meth:`~engine.planes.order_plane.OrderPlane.recover`):
an intent already placed is never placed again (idempotency keys + the broker's ledger), a fill
that happened while it was down is reported. The strategy plane rebuilds its book from the topics
(:meth:`~engine.planes.strategy_plane.StrategyPlane.restore`). A plane waits for the others as
long as it takes (logging every 30 s), so a killed plane can be restarted mid-session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from contracts.control import PlaneName, SessionControl
from contracts.messages import BarEvent, ExecutionReport
from contracts.topics import DLQ_TOPICS, EXECUTION_REPORTS, MARKET_EVENTS, ORDER_INTENTS
from engine.broker.clock import SystemClock
from engine.broker.types import BrokerError, BrokerUnreachable
from engine.config import AppConfig
from engine.planes.control import (
    ControlChannel,
    CountingBus,
    OffsetCounter,
    committed_offsets,
    topic_ends,
)
from engine.planes.jsonlog import PlaneLog
from engine.planes.lockstep import BarLockstep, wait_until
from engine.planes.session import (
    SESSION_FILE,
    TRACK_FILE,
    BrokerFactory,
    LatencyFigures,
    SessionParams,
    SessionResult,
    _read_track,
    finish_result,
    live_account_refusal,
    plan_session,
    session_bus,
    sim_broker_factory,
)
from engine.util.atomic import atomic_write_text

PLANES: tuple[PlaneName, ...] = ("data", "strategy", "order")
DEFAULT_PORT_OFFSET: dict[str, int] = {"data": 1, "strategy": 2, "order": 3}
"""Default metrics ports: ``session.metrics_port`` + 1/2/3, so three planes fit on one host."""


@dataclass(frozen=True)
class ServiceOptions:
    """What every plane service needs (the three must agree on ``session_id`` and the config)."""

    session_id: str
    out_dir: Path
    speed: float
    duration_hours: float
    params: SessionParams = field(default_factory=SessionParams)
    metrics_port: int = 0
    wait_timeout: float | None = None  # wall seconds to wait for another plane; None = no limit
    logs_dir: Path | None = None

    @property
    def logs(self) -> Path:
        return self.logs_dir if self.logs_dir is not None else self.out_dir / "logs"


@dataclass
class PlaneResult:
    """What a data or strategy plane service did."""

    plane: PlaneName
    status: Literal["completed", "stopped", "failed"]
    message: str
    session_id: str
    bars: int = 0
    bar_times: int = 0
    decisions: int = 0
    intents: int = 0
    wall_seconds: float = 0.0
    metrics_port: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"completed": 0, "stopped": 130, "failed": 1}[self.status]


def new_session_id() -> str:
    return f"paper-{uuid.uuid4()}"


# ---------------------------------------------------------------------------------------------
def run_plane_service(
    plane: PlaneName,
    config: AppConfig,
    options: ServiceOptions,
    **order_kw: Any,
) -> PlaneResult | SessionResult:
    """Run one plane until the session ends (or SIGINT/SIGTERM: a graceful stop — consumers have
    committed what they processed, producers are flushed, the broker is closed)."""

    async def main() -> PlaneResult | SessionResult:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        if plane == "data":
            return await _data_service(config, options, stop, **order_kw)
        if plane == "strategy":
            return await _strategy_service(config, options, stop)
        return await _order_service(config, options, stop, **order_kw)

    return asyncio.run(main())


async def _until_stopped(work: Awaitable[Any], stop: asyncio.Event) -> bool:
    """Run ``work`` until it finishes (True) or ``stop`` is set (False, ``work`` cancelled)."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
    if task.done():
        task.result()  # re-raise a failure
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def _health(
    options: ServiceOptions, metrics: Any, checks: Mapping[str, Callable[[], bool]], warn: list[str]
) -> Any:
    from engine.planes.health import HealthServer

    if not options.metrics_port:
        return None
    server = HealthServer(metrics.render, checks, port=options.metrics_port)
    try:
        await server.start()
    except OSError as exc:
        warn.append(f"metrics endpoint not started on port {options.metrics_port}: {exc}")
        return None
    return server


async def _wait_ready(
    control: ControlChannel, plane: PlaneName, options: ServiceOptions
) -> SessionControl | None:
    ok = await control.wait(
        lambda st: plane in st.ready, options.wait_timeout, waiting_for=f"{plane} plane ready"
    )
    return control.state.ready.get(plane) if ok else None


def _market_time(rec: SessionControl) -> datetime:
    return rec.timestamp


async def _open_plane(
    cfg: AppConfig, options: ServiceOptions, plane: PlaneName, topic: str, result: PlaneResult
) -> tuple[Any, PlaneLog, Any, CountingBus, ControlChannel, Any] | None:
    """The session plan, log, bus (counting what the plane publishes on ``topic``), control
    channel and health endpoint of a data or strategy plane; None (``result`` says why) when the
    session has no plan."""
    from engine.planes.metrics import SessionMetrics

    plan = plan_session(cfg, options.params, options.duration_hours)
    if isinstance(plan, str):
        result.message = plan
        return None
    log = PlaneLog(f"{plane}_plane", options.logs)
    raw_bus = session_bus(cfg, options.out_dir / plane, options.session_id)
    await raw_bus.start()
    bus = CountingBus(raw_bus, {topic: await topic_ends(raw_bus, topic)})
    control = ControlChannel(bus, session_id=options.session_id, plane=plane, log=log)
    metrics = SessionMetrics()
    metrics.attach_bus(raw_bus.metrics)
    health = await _health(
        options, metrics, {"bus": lambda: not raw_bus.closed, "order_plane":
                           lambda: "order" in control.state.ready}, result.warnings,
    )  # fmt: skip
    return plan, log, raw_bus, bus, control, health


# ---------------------------------------------------------------------------------------------
async def _data_service(
    cfg: AppConfig,
    options: ServiceOptions,
    stop: asyncio.Event,
    *,
    quote_broker: Any = None,
) -> PlaneResult:
    """``quote_broker`` (a read-only IBKR connection, not connected yet): the bars are its
    streaming quotes aggregated on the session clock (:mod:`engine.planes.quote_bars`), as in the
    one-process session with IBKR; otherwise the synthetic market's bars."""
    from engine.planes.clock import SessionClock
    from engine.planes.data_plane import DataPlane
    from engine.planes.session import market_ticks

    wall0 = SystemClock().now()
    result = PlaneResult("data", "failed", "", options.session_id)
    opened = await _open_plane(cfg, options, "data", MARKET_EVENTS, result)
    if opened is None:
        return result
    plan, log, raw_bus, bus, control, health = opened
    try:
        await control.start()
        await control.send("ready", count=bus.count(MARKET_EVENTS))
        order_ready = await _until_ready(control, "order", options, stop)
        if order_ready is None:
            result.status, result.message = "stopped", "stopped before the order plane was ready"
            return result
        lockstep = bool(order_ready.detail.get("lockstep", False))
        state = control.state
        start_bar = max(state.published, default=-1) + 1
        groups = plan.groups
        market_start = groups[min(start_bar, len(groups) - 1)][0].start
        clock = SessionClock(market_start, options.speed)

        def ended() -> bool:
            return "order" in state.done

        async def handshake(k: int, at: datetime) -> bool:
            await control.send("bar_published", bar=k, count=bus.count(MARKET_EVENTS), at=at)
            if not lockstep:
                return not ended()
            await control.wait(
                lambda st: k in st.settled or "order" in st.done, options.wait_timeout,
                waiting_for=f"bar {k} settled",
            )  # fmt: skip
            return not ended()

        feed = None
        if quote_broker is not None:
            from engine.planes.quote_bars import QuoteBars

            try:
                await quote_broker.connect()
                await quote_broker.subscribe_market_data(plan.symbols)
            except (BrokerUnreachable, OSError, BrokerError) as exc:
                result.message = f"market data unavailable from the broker: {exc}"
                result.status = "failed"
                return result
            feed = QuoteBars(quote_broker.last_quotes, plan.symbols, clock)
            log.log("market_data", source="broker")
        if lockstep and start_bar > 0 and (start_bar - 1) not in state.settled:
            await control.wait(
                lambda st: (start_bar - 1) in st.settled or "order" in st.done, None,
                waiting_for=f"bar {start_bar - 1} settled",
            )  # fmt: skip
        data = DataPlane(
            bus, groups, symbols=plan.symbols, clock=clock, qa=cfg.qa,
            bar_seconds=plan.bar_seconds, log=log, start_bar=start_bar,
            ticks=market_ticks(plan.market, cfg)
            if options.params.publish_ticks and feed is None else None,
            after_bar=handshake, feed=feed,
        )  # fmt: skip
        if not ended():
            finished = await _until_stopped(data.run(), stop)
        else:
            finished = False
        stats = data.stats
        result.bars, result.bar_times = stats.bars, stats.bar_times
        if not finished and stop.is_set():
            result.status, result.message = "stopped", "stopped by a signal"
            return result
        await control.send(
            "plane_done", bar=stats.last_bar_index, count=bus.count(MARKET_EVENTS),
            detail={"finished": stats.finished, "bar_times": stats.bar_times, "bars": stats.bars,
                    "rejected_batches": stats.rejected_batches, "stale": list(stats.stale)},
        )  # fmt: skip
        result.status = "completed"
        result.message = f"{stats.bar_times} bar times published ({stats.bars} bars)"
        return result
    finally:
        result.wall_seconds = SystemClock().now() - wall0
        if quote_broker is not None:
            with contextlib.suppress(Exception):
                await quote_broker.close()
        await _shutdown(control, raw_bus, health, log)


async def _until_ready(
    control: ControlChannel, plane: PlaneName, options: ServiceOptions, stop: asyncio.Event
) -> SessionControl | None:
    box: list[SessionControl | None] = []

    async def wait() -> None:
        box.append(await _wait_ready(control, plane, options))

    if not await _until_stopped(wait(), stop):
        return None
    return box[0] if box else None


async def _shutdown(control: ControlChannel | None, bus: Any, health: Any, log: PlaneLog) -> None:
    if control is not None:
        await control.close()
    if health is not None:
        await health.close()
    with contextlib.suppress(Exception):
        await bus.flush()
    await bus.close()
    log.close()


# ---------------------------------------------------------------------------------------------
async def _strategy_service(
    cfg: AppConfig, options: ServiceOptions, stop: asyncio.Event
) -> PlaneResult:
    import pandas as pd

    from engine.planes.state import CostFeedback, HaltState
    from engine.planes.strategy_plane import StrategyPlane

    wall0 = SystemClock().now()
    sid = options.session_id
    result = PlaneResult("strategy", "failed", "", sid)
    opened = await _open_plane(cfg, options, "strategy", ORDER_INTENTS, result)
    if opened is None:
        return result
    plan, log, raw_bus, bus, control, health = opened
    halt, feedback = HaltState(), CostFeedback()
    strategy: StrategyPlane | None = None
    market = OffsetCounter()
    reports = OffsetCounter()
    finished = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    plane_ready = asyncio.Event()
    lockstep = False

    async def handle(rec: SessionControl) -> None:
        if rec.kind not in ("halt", "bar_marked", "plane_done"):
            return
        # these follow the order plane's ready in the log, so this wait cannot block it
        await plane_ready.wait()
        assert strategy is not None
        plane = strategy
        if rec.kind == "halt":
            halt.set(str(rec.detail.get("reason", "halt")), str(rec.detail.get("action", "")))
        elif rec.kind == "bar_marked" and lockstep:
            if rec.bar in control.state.completed:
                return  # redelivered after a restart: already decided
            await caught_up(int(rec.detail.get("market_events", 0)), rec.bar)  # type: ignore[arg-type]
            step = BarLockstep()
            step.publish(rec.bar)
            await plane._complete_published(step)
            await control.send("bar_completed", bar=rec.bar, count=bus.count(ORDER_INTENTS),
                               at=rec.timestamp)  # fmt: skip
        elif rec.kind == "plane_done" and rec.plane in ("data", "order"):
            await finish(rec)

    async def caught_up(market_count: int, bar: int) -> None:
        settled = control.state.last_settled_before(bar)
        need = settled.count if settled is not None else 0
        await control.wait(
            lambda _st: market.total >= market_count and reports.total >= need,
            options.wait_timeout, waiting_for=f"market events and reports of bar {bar}",
        )  # fmt: skip
        if settled is not None and "turnover_penalty" in settled.detail:
            feedback.publish(float(settled.detail["turnover_penalty"]),  # type: ignore[arg-type]
                             float(settled.detail["cost_fraction"]))  # type: ignore[arg-type]  # fmt: skip

    async def finish(rec: SessionControl) -> None:
        assert strategy is not None
        plane = strategy
        if finished.is_set():
            return
        if rec.plane == "data":
            await caught_up(rec.count, rec.bar + 1)
            if plane.current_bar is not None:
                await plane._bar_complete(plane.current_bar, live=True)
        await control.send(
            "plane_done", bar=plane.current_bar if plane.current_bar is not None else -1,
            count=bus.count(ORDER_INTENTS),
            detail={"decisions": len(plane.decisions), "intents": plane.intents_emitted},
        )  # fmt: skip
        finished.set()

    try:
        await control.start(handle)
        await control.send("ready", count=bus.count(ORDER_INTENTS))
        order_ready = await _until_ready(control, "order", options, stop)
        if order_ready is None:
            result.status, result.message = "stopped", "stopped before the order plane was ready"
            return result
        detail = order_ready.detail
        lockstep = bool(detail.get("lockstep", False))
        feedback.publish(float(detail.get("turnover_penalty", 0.0)),  # type: ignore[arg-type]
                         float(detail.get("cost_fraction", 0.0)))  # type: ignore[arg-type]  # fmt: skip
        strategy = StrategyPlane(
            bus, session_id=sid, config=cfg, history=plan.history,
            session_day=pd.Timestamp(plan.panel.dates[plan.day]),
            session_open=plan.session_open, bar_seconds=plan.bar_seconds, limits=plan.limits,
            capital=float(detail["start_nlv"]),  # type: ignore[arg-type]
            params=options.params.strategy, log=log, halt=halt, costs=feedback,
            bars_total=plan.n_bars,
        )  # fmt: skip
        await strategy.restore()
        for h in control.state.halts:
            halt.set(str(h.detail.get("reason", "halt")), str(h.detail.get("action", "")))
        plane = strategy

        async def follow_market() -> None:
            consumer = bus.subscribe(MARKET_EVENTS, "strategy")
            try:
                market.offsets.update(
                    await committed_offsets(consumer, bus.partitions(MARKET_EVENTS))
                )
                while True:
                    records = await consumer.poll(max_messages=5000, timeout=0.05)
                    for rec in records:
                        # without lockstep a later bar completes (decides) the current one
                        await plane._consume(rec.value, live=True)
                    if records:
                        await consumer.commit()
                        for rec in records:
                            market.done(rec.partition, rec.next_offset)
            finally:
                await consumer.close()

        async def follow_reports() -> None:
            # a group of its own: one member per group (a group whose members follow different
            # topics rebalances them together, and some brokers never settle two joining at once)
            consumer = bus.subscribe(EXECUTION_REPORTS, "strategy-reports")
            try:
                reports.offsets.update(
                    await committed_offsets(consumer, bus.partitions(EXECUTION_REPORTS))
                )
                while True:
                    records = await consumer.poll(max_messages=1000, timeout=0.05)
                    for rec in records:
                        if isinstance(rec.value, ExecutionReport):
                            plane.book.apply(rec.value)
                    if records:
                        await consumer.commit()
                        for rec in records:
                            reports.done(rec.partition, rec.next_offset)
            finally:
                await consumer.close()

        tasks = [
            asyncio.create_task(follow_market(), name="strategy-market"),
            asyncio.create_task(follow_reports(), name="strategy-reports"),
        ]
        plane_ready.set()
        done = control.state.done
        if "data" in done or "order" in done:  # the session ended while this plane was down
            await finish(done.get("order") or done["data"])
        ok = await _until_stopped(finished.wait(), stop)
        result.decisions, result.intents = len(plane.decisions), plane.intents_emitted
        if not ok:
            result.status, result.message = "stopped", "stopped by a signal"
            return result
        result.status = "completed"
        result.message = f"{len(plane.decisions)} decisions, {plane.intents_emitted} intents"
        return result
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        result.wall_seconds = SystemClock().now() - wall0
        await _shutdown(control, raw_bus, health, log)


# ---------------------------------------------------------------------------------------------
async def _order_service(
    cfg: AppConfig,
    options: ServiceOptions,
    stop: asyncio.Event,
    *,
    broker_factory: BrokerFactory | None = None,
    broker_kind: str = "sim",
    host: str | None = None,
    port: int | None = None,
    record_baseline: bool = False,
    baseline: LatencyFigures | None = None,
    sharpe_backtest: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> SessionResult:
    from engine.broker.operations import HaltFlag
    from engine.bus import IdempotencyGuard
    from engine.data.assets import load_assets
    from engine.planes.costs import CostLearner
    from engine.planes.metrics import SessionMetrics
    from engine.planes.order_plane import OrderPlane
    from engine.planes.pretrade import PreTradeChecks, stage_caps
    from engine.planes.risk_monitor import RiskMonitor, read_samples
    from engine.planes.session import LATCH_FILE, SAMPLES_FILE
    from engine.planes.state import CostFeedback, HaltState
    from engine.risk.kill_switch import FileLatchStore, KillSwitchBank

    wall0 = SystemClock().now()
    sid = options.session_id
    params = options.params
    session_dir = options.out_dir / "session"
    result = SessionResult(
        status="refused", message="", session_id=sid, broker_kind=broker_kind, host=host,
        port=port, speed=options.speed, bar_seconds=cfg.session.bar_seconds,
        seed=cfg.market.seed, config_hash=cfg.fingerprint(), sharpe_backtest=sharpe_backtest,
        baseline=baseline, session_dir=str(session_dir), logs_dir=str(options.logs),
    )  # fmt: skip
    plan = plan_session(cfg, params, options.duration_hours)
    if isinstance(plan, str):
        result.message = plan
        return result
    result.symbols = plan.symbols
    # ---- the session's local state: resumed when it belongs to this session id
    meta_path = session_dir / SESSION_FILE
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    resume = meta.get("session_id") == sid
    if not resume:
        if session_dir.exists():
            import shutil

            shutil.rmtree(session_dir)
        session_dir.mkdir(parents=True)
        meta = {"session_id": sid, "resumed": 0, "created": datetime.now(UTC).isoformat(),
                "broker_kind": broker_kind, "split": True}  # fmt: skip
    else:
        meta["resumed"] = int(meta.get("resumed", 0)) + 1
    result.resumed = int(meta["resumed"])
    state_dir = Path(cfg.paths.state)
    state_dir.mkdir(parents=True, exist_ok=True)
    halt_flag = HaltFlag(state_dir)
    bank = KillSwitchBank(cfg.kill_switch, FileLatchStore(state_dir / LATCH_FILE))
    if bank.halted and not resume:
        ev = bank.halt_event
        result.message = (
            f"the kill-switch latch {state_dir / LATCH_FILE} is set "
            f"({ev.message if ev else 'halted'}); a person must reset it before trading again"
        )
        return result
    if halt_flag.is_set() and not resume:
        result.message = (
            f"the HALT flag {halt_flag.path} is set (a rollback ran); review the incident and "
            "delete it before trading again"
        )
        return result

    # ---- bus and broker
    raw_bus = session_bus(cfg, session_dir, sid)
    await raw_bus.start()
    bus = CountingBus(raw_bus, {EXECUTION_REPORTS: await topic_ends(raw_bus, EXECUTION_REPORTS)})
    result.journal_path = str(session_dir / "bus") if cfg.bus.backend == "memory" else None
    result.bus_backend = cfg.bus.backend
    factory = broker_factory or sim_broker_factory(cfg, params)
    broker = factory(plan.opening, session_dir)
    log = PlaneLog("order_plane", options.logs)
    try:
        await broker.connect()
        account = await broker.account_summary()
    except (BrokerUnreachable, OSError, BrokerError) as exc:
        await raw_bus.close()
        log.close()
        result.status, result.message = "unreachable", f"broker unreachable: {exc}"
        return result
    result.account_id = account.account_id
    result.trading_mode = account.trading_mode
    if account.trading_mode != "paper":
        await broker.close()
        await raw_bus.close()
        log.close()
        result.message = live_account_refusal(account)
        return result
    start_nlv = float(meta.setdefault("start_nlv", account.net_liquidation))
    result.start_net_liquidation = start_nlv
    result.started_at = plan.session_open
    atomic_write_text(meta_path, json.dumps(meta, indent=2))

    metrics = SessionMetrics()
    metrics.attach_bus(raw_bus.metrics)
    halt, feedback = HaltState(), CostFeedback()
    learner = CostLearner(prior=cfg.costs.half_spread_bps / 1e4, lambda_=cfg.portfolio.lambda_init)
    feedback.publish(learner.turnover_penalty, learner.cost_fraction)
    last_px: dict[str, float] = dict(plan.opening)
    whitelist = frozenset(a.symbol for a in load_assets(cfg.paths.assets)) | frozenset(
        plan.symbols if cfg.market.n_assets else ()
    )
    persist = getattr(broker, "persist", None)
    order_plane = OrderPlane(
        bus, broker, checks=PreTradeChecks(cfg.risk, whitelist, stage_caps(cfg.gates, params.stage)),
        guard=IdempotencyGuard(session_dir / "order_plane.keys"), learner=learner,
        feedback=feedback, halt=halt, log=log, metrics=metrics, last_prices=last_px.get,
        after_change=persist, state_dir=session_dir, retries=cfg.pacing.max_retries,
        backoff_initial=cfg.pacing.backoff_initial,
    )  # fmt: skip
    track_path = state_dir / TRACK_FILE
    risk = RiskMonitor(
        cfg, broker=broker, bank=bank, halt=halt, order_plane=order_plane, log=log,
        metrics=metrics, start_nlv=start_nlv, samples=read_samples(session_dir / SAMPLES_FILE),
        samples_path=session_dir / SAMPLES_FILE, track=_read_track(track_path),
        psr_basis=params.psr_basis,
    )  # fmt: skip
    if bank.halted and bank.halt_event is not None:
        halt.set(bank.halt_event.message, bank.halt_event.action or "HALT_AND_INVESTIGATE")
    lockstep = params.lockstep if params.lockstep is not None else broker_kind == "sim"
    set_price = getattr(broker, "set_price", None)
    control = ControlChannel(bus, session_id=sid, plane="order", log=log)
    health = await _health(
        options, metrics, {"bus": lambda: not raw_bus.closed, "broker": lambda: broker.is_ready},
        result.warnings,
    )  # fmt: skip
    result.metrics_port = options.metrics_port or None
    marks = OffsetCounter()
    marks_ready = asyncio.Event()  # the market consumer knows where it stands
    finished = asyncio.Event()
    intents_stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    data_finished = {"v": False}

    def intents_done() -> int:
        consumer = order_plane.intent_consumer
        if consumer is None:
            return 0
        return sum(consumer.committed(p) for p in range(bus.partitions(ORDER_INTENTS)))

    async def follow_market() -> None:
        consumer = bus.subscribe(MARKET_EVENTS, "order-marks")
        try:
            marks.offsets.update(await committed_offsets(consumer, bus.partitions(MARKET_EVENTS)))
            if (
                resume
            ):  # the prices consumed before the restart (the saved exchange may predate them)
                closes: dict[str, float] = {}
                async for rec in raw_bus.replay(MARKET_EVENTS, 0):
                    v = rec.value
                    if rec.offset < marks.offsets.get(rec.partition, 0) and isinstance(v, BarEvent):
                        closes[v.symbol] = v.close
                last_px.update(closes)
                if set_price is not None:
                    for sym, px in closes.items():
                        await set_price(sym, round(px, 4))
            marks_ready.set()
            while True:
                records = await consumer.poll(max_messages=5000, timeout=0.05)
                for rec in records:
                    v = rec.value
                    if isinstance(v, BarEvent):
                        last_px[v.symbol] = v.close
                        if set_price is not None:
                            await set_price(v.symbol, round(v.close, 4))
                if records:
                    await consumer.commit()
                    for rec in records:
                        marks.done(rec.partition, rec.next_offset)
        finally:
            await consumer.close()

    async def settled() -> None:
        await wait_until(lambda: not order_plane.working(), params.settle_timeout, 0.002)
        await bus.flush()

    async def handle(rec: SessionControl) -> None:
        st = control.state
        if rec.kind == "bar_published":
            if rec.bar in st.marked or finished.is_set():
                return  # redelivered after a restart: already marked
            await marks_ready.wait()
            await control.wait(lambda _s: marks.total >= rec.count, options.wait_timeout,
                               waiting_for=f"market events of bar {rec.bar}")  # fmt: skip
            was_halted = halt.halted
            if not risk.sampled(rec.timestamp):
                await risk.sample(rec.timestamp)
                if progress is not None and risk.samples:
                    progress({"at": rec.timestamp, "bar": rec.bar + 1, "bars": plan.n_bars,
                              "sample": risk.samples[-1], "positions": dict(order_plane.positions),
                              "intents": len(order_plane.orders), "halt": halt.reason,
                              "cost": learner.cost_fraction, "stale": ()})  # fmt: skip
            if halt.halted and not was_halted:
                await control.send("halt", bar=rec.bar, at=rec.timestamp,
                                   detail={"reason": halt.reason, "action": halt.action})  # fmt: skip
            if await risk.flatten_if_halted():
                await finish()
                return
            if lockstep:
                await control.send("bar_marked", bar=rec.bar, at=rec.timestamp,
                                   count=bus.count(EXECUTION_REPORTS),
                                   detail={"market_events": rec.count})  # fmt: skip
        elif rec.kind == "bar_completed" and lockstep:
            if rec.bar in st.settled or finished.is_set():
                return
            await control.wait(lambda _s: intents_done() >= rec.count, options.wait_timeout,
                               waiting_for=f"intents of bar {rec.bar}")  # fmt: skip
            await settled()
            await control.send(
                "bar_settled", bar=rec.bar, at=rec.timestamp, count=bus.count(EXECUTION_REPORTS),
                detail={"turnover_penalty": learner.turnover_penalty,
                        "cost_fraction": learner.cost_fraction},
            )  # fmt: skip
        elif rec.kind == "plane_done" and rec.plane == "data":
            data_finished["v"] = bool(rec.detail.get("finished", False))
        elif rec.kind == "plane_done" and rec.plane == "strategy":
            await strategy_done(rec)

    async def strategy_done(rec: SessionControl) -> None:
        await control.wait(lambda _s: intents_done() >= rec.count, options.wait_timeout,
                           waiting_for="the strategy's last intents")  # fmt: skip
        await finish()

    async def finish() -> None:
        if finished.is_set():
            return
        intents_stop.set()
        await order_plane.settle(params.settle_timeout)
        if not halt.halted or halt.action != "HALT_AND_FLATTEN":
            await risk.sample(plan.groups[-1][0].end)  # after the settlement, as in one process
        finished.set()

    try:
        if resume:
            await order_plane.recover()
        tasks = [
            asyncio.create_task(order_plane.run_events(), name="order-events"),
            asyncio.create_task(order_plane.run_intents(intents_stop), name="order-intents"),
            asyncio.create_task(follow_market(), name="order-marks"),
        ]
        await control.start(handle)
        if "order" in control.state.done:
            result.status = "refused"
            result.message = (
                f"session {sid} has already ended (its order plane reported the end); start a "
                "new session with a new --session-id"
            )
            return result
        await control.send(
            "ready", count=bus.count(EXECUTION_REPORTS),
            detail={"start_nlv": start_nlv, "lockstep": lockstep, "broker": broker_kind,
                    "account": account.account_id, "resumed": result.resumed,
                    "turnover_penalty": learner.turnover_penalty,
                    "cost_fraction": learner.cost_fraction},
        )  # fmt: skip
        data_done = control.state.done.get("data")
        if data_done is not None:
            data_finished["v"] = bool(data_done.detail.get("finished", False))
        strategy_end = control.state.done.get("strategy")
        if strategy_end is not None:  # the strategy ended while this plane was down
            await strategy_done(strategy_end)
        ok = await _until_stopped(finished.wait(), stop)
        if not ok:
            result.status, result.message = "refused", "stopped by a signal before the end"
            result.warnings.append("stopped by a signal: restart the order plane to resume")
            return result
        for t in tasks[1:2]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(t, 5.0)
        dlq = {t: len([r async for r in raw_bus.replay(t, 0)]) for t in DLQ_TOPICS}
        finish_result(
            result, order_plane=order_plane, broker=broker, risk=risk, halt=halt,
            bar_seconds=plan.bar_seconds, finished_at=plan.groups[-1][0].end,
            wall_seconds=SystemClock().now() - wall0, cost_fraction=learner.cost_fraction,
            decisions=[], dlq_counts=dlq, data_finished=data_finished["v"] or halt.halted,
            track_path=track_path, record_baseline=record_baseline,
        )  # fmt: skip
        await control.send("plane_done", count=bus.count(EXECUTION_REPORTS),
                           detail={"status": result.status, "message": result.message})  # fmt: skip
        return result
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if health is not None:
            await health.close()
        await control.close()
        await broker.close()
        if persist is not None:
            persist()
        with contextlib.suppress(Exception):
            await raw_bus.flush()
        await raw_bus.close()
        log.close()
