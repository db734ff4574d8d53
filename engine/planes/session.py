"""``run_paper_session``: the three planes on the embedded bus against a paper broker.

One process, one asyncio loop, three planes that talk only through the bus (SPEC §3):

* data plane — the session day of the synthetic market, bar by bar on the accelerated session
  clock (:mod:`engine.planes.data_plane`); with a broker that streams quotes and no lockstep
  (IBKR), the bars are the broker's quotes aggregated on that clock
  (:mod:`engine.planes.quote_bars`);
* strategy plane — warm-up on the daily history, intraday decisions through the backtest's own
  decision path (:mod:`engine.planes.strategy_plane`);
* order plane — pre-trade checks, pacing, broker, execution reports, cost learning
  (:mod:`engine.planes.order_plane`), plus the live kill switches: after every bar the account's
  net liquidation (unrealised P&L included) gives P&L, drawdown from the high-water mark and the
  PSR — by default of the paper track record's *daily* returns (one per finished session, today's
  return so far as the latest), armed after ``kill_switch.psr_min_obs`` returns exactly as in the
  backtest; ``SessionParams.psr_basis="session_bars"`` uses the session's per-bar returns
  instead. The latch is a file
  under ``paths.state`` (a halt survives restarts). HALT_AND_FLATTEN runs the rollback path
  (:func:`engine.broker.operations.rollback`); HALT_AND_INVESTIGATE stops new intents.

With the simulated broker the session runs bar by bar (:mod:`engine.planes.lockstep`,
``SessionParams.lockstep``): each bar is sampled, decided and settled before the next one moves
the market, so decisions, intents, orders and fills depend on the seed and the config only, not
on the wall clock; with IBKR (``lockstep`` off) they depend on timing.

Everything of the session lives in ``<out_dir>/session/``: the bus journal (``bus/``), the
order plane's idempotency keys, the metric samples, the simulated exchange's state (sim broker)
and ``session.json``. ``resume=True`` continues a session that was killed: the data plane goes on
after the last published bar, the strategy plane rebuilds its state from the journal, the order
plane re-reads the journal and the broker's executions (no intent twice, no fill lost).

The core returns a :class:`SessionResult`; writing the artifacts is the caller's job
(``gates.paper_artifacts``) — the engine never imports ``artifacts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import pickle
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from engine.broker.clock import SystemClock
from engine.broker.protocol import Broker
from engine.broker.types import BrokerError, BrokerUnreachable
from engine.config import AppConfig
from engine.planes.order_plane import OrderLog, percentile
from engine.planes.risk_monitor import (
    KillSwitchRecord,
    MetricSample,
    read_samples,
    returns_of,
)
from engine.planes.strategy_plane import DecisionRecord, StrategyParams
from engine.util.atomic import atomic_write_bytes, atomic_write_text

SessionStatus = Literal["completed", "kill_switch", "unreachable", "refused"]
BrokerFactory = Callable[[Mapping[str, float], Path], Broker]
"""``factory(opening prices by symbol, session dir) -> Broker`` (not connected yet)."""

SESSION_FILE = "session.json"
SAMPLES_FILE = "samples.jsonl"
EXCHANGE_FILE = "sim_exchange.pkl"
LATCH_FILE = "kill_switch_latch.json"
TRACK_FILE = "paper_track_record.json"
_TOPIC_SAFE = re.compile(r"[A-Za-z0-9._-]{1,100}")


@dataclass(frozen=True)
class SessionParams:
    """Tunables of the paper session beyond the config (documented in docs/paper-session.md)."""

    strategy: StrategyParams = field(default_factory=StrategyParams)
    day_index: int = -1
    sim_latency: float = 0.005
    sim_latency_jitter: float = 0.005
    sim_half_spread_bps: float = 2.0
    sim_leverage: float = 4.0  # Reg-T intraday buying power (4× for pattern day traders)
    settle_timeout: float = 10.0
    publish_ticks: bool = False
    history_rows: int = 400
    poison: Mapping[int, list[bytes]] = field(default_factory=dict)
    poison_intents: tuple[bytes, ...] = ()
    poison_reports: tuple[bytes, ...] = ()
    stage: str | None = None
    loss_injection: float | None = None  # fraction of the price removed per bar (drills/tests)
    psr_basis: Literal["daily", "session_bars"] = "daily"
    # bar-by-bar lockstep (engine.planes.lockstep): None = on with the simulated broker only
    lockstep: bool | None = None
    lockstep_timeout: float = 120.0  # wall seconds the data plane waits for one decision


@dataclass(frozen=True)
class LatencyFigures:
    samples: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float


@dataclass
class SessionResult:
    """What the session did, and every figure gate 7 judges."""

    status: SessionStatus
    message: str
    session_id: str
    broker_kind: str
    host: str | None = None
    port: int | None = None
    account_id: str | None = None
    trading_mode: str = "paper"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    wall_seconds: float = 0.0
    speed: float = 1.0
    bar_seconds: int = 60
    seed: int | None = None
    symbols: tuple[str, ...] = ()
    config_hash: str = ""
    resumed: int = 0
    journal_path: str | None = None
    bus_backend: str = "memory"
    logs_dir: str | None = None
    session_dir: str | None = None
    orders: list[OrderLog] = field(default_factory=list)
    samples: list[MetricSample] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    latency_started: datetime | None = None
    latency_finished: datetime | None = None
    baseline: LatencyFigures | None = None
    latency_delta_basis: Literal["p50", "p95", "p99"] = "p95"
    pacing_violations: int = 0
    pnl: float = 0.0
    start_net_liquidation: float = 0.0
    max_drawdown: float = 0.0
    commissions: float = 0.0
    sharpe_paper: float | None = None
    sharpe_backtest: float | None = None
    psr: float | None = None
    dlq_counts: dict[str, int] = field(default_factory=dict)
    kill_switch_events: list[KillSwitchRecord] = field(default_factory=list)
    halt_action: str | None = None
    halted_wall_at: datetime | None = None
    rollback_flat: bool | None = None
    cost_coefficient: float | None = None
    decisions: list[DecisionRecord] = field(default_factory=list)
    recovered_fills: int = 0
    duplicate_deliveries: int = 0
    warnings: list[str] = field(default_factory=list)
    metrics_port: int | None = None

    # ---- derived figures
    @property
    def submitted(self) -> list[OrderLog]:
        return [o for o in self.orders if o.risk_rejected is None and o.order_id is not None]

    @property
    def orders_submitted(self) -> int:
        return len(self.submitted)

    @property
    def orders_filled(self) -> int:
        return sum(1 for o in self.submitted if o.status == "FILLED")

    @property
    def trades(self) -> int:
        return sum(1 for o in self.submitted if o.filled_quantity > 0)

    @property
    def fills(self) -> int:
        return sum(len(o.fills) for o in self.orders)

    @property
    def fill_rate(self) -> float | None:
        n = self.orders_submitted
        return self.orders_filled / n if n else None

    def latency(self) -> LatencyFigures | None:
        return latency_figures(self.latencies_ms)

    @property
    def latency_delta(self) -> float | None:
        mine, base = self.latency(), self.baseline
        if mine is None or base is None:
            return None
        key = f"{self.latency_delta_basis}_ms"
        b = float(getattr(base, key))
        return (float(getattr(mine, key)) - b) / b if b > 0 else None

    @property
    def exit_code(self) -> int:
        return {"completed": 0, "kill_switch": 5, "unreachable": 3, "refused": 5}[self.status]


def latency_figures(values: list[float]) -> LatencyFigures | None:
    if not values:
        return None
    p50, p95, p99 = (percentile(values, q) for q in (50, 95, 99))
    assert p50 is not None and p95 is not None and p99 is not None
    return LatencyFigures(len(values), p50, p95, p99, sum(values) / len(values), max(values))


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionPlan:
    """The session day every plane agrees on: the market, the warm-up history, the bars to
    publish and the regime's limits — a function of the config and the session parameters."""

    market: Any
    panel: Any
    day: int
    history: Any
    groups: list[list[Any]]
    n_bars: int
    symbols: tuple[str, ...]
    limits: tuple[float, float]
    bar_seconds: int
    opening: dict[str, float]

    @property
    def session_open(self) -> datetime:
        start: datetime = self.groups[0][0].start
        return start


def live_account_refusal(account: Any) -> str:
    """Why a session does not start on ``account`` (an AccountSummary of a live account)."""
    return (
        f"account {account.account_id} is a live account ({', '.join(account.mode_evidence)})"
        "; the paper session only runs on paper accounts"
    )


def plan_session(
    config: AppConfig, params: SessionParams, duration_hours: float
) -> SessionPlan | str:
    """The :class:`SessionPlan`, or why there is none (a day index outside the history)."""
    from engine.data.synthetic import SyntheticMarket
    from engine.planes.data_plane import group_by_time

    market = SyntheticMarket(config.market)
    panel = market.daily_panel()
    day = params.day_index if params.day_index >= 0 else panel.T + params.day_index
    if not 1 <= day < panel.T:
        return f"session day index {params.day_index} is outside the market history"
    history = panel.truncate(day)
    bar_seconds = config.session.bar_seconds
    groups = group_by_time(market.intraday_bars(day, bar_seconds))
    n_bars = min(len(groups), max(1, round(duration_hours * 3600 / bar_seconds)))
    groups = groups[:n_bars]
    if config.regime.enabled:
        from engine.risk.regime import detect_regimes, limits_for

        path = detect_regimes(history, config.regime)
        limits = limits_for(int(path.states[-1]), config.regime)
    else:
        limits = (config.portfolio.gross_lim, config.portfolio.net_lim)
    opening = {b.symbol: b.open for b in groups[0]}
    return SessionPlan(
        market, panel, day, history, groups, n_bars, tuple(panel.symbols), limits, bar_seconds,
        opening,
    )  # fmt: skip


def session_bus(config: AppConfig, session_dir: Path, session_id: str) -> Any:
    """The session's bus: the embedded bus journaled under ``session_dir/bus``, or — with
    ``bus.backend: kafka`` — Kafka topics and groups of this session only (prefix
    ``bus.kafka_topic_prefix`` + session id + ``.``), the equivalent of the session's journal."""
    from engine.bus import select_bus

    if config.bus.backend == "kafka":
        if not _TOPIC_SAFE.fullmatch(session_id):
            raise ValueError(
                f"session id {session_id!r} cannot name Kafka topics: use letters, digits, '.', "
                "'_' and '-' only (at most 100 characters)"
            )
        try:
            from engine.bus.kafka import open_kafka_bus
        except ImportError as exc:  # confluent-kafka is an optional dependency
            raise ValueError(
                f"bus.backend='kafka' needs confluent-kafka: pip install 'algotrade[kafka]' ({exc})"
            ) from exc
        return open_kafka_bus(
            config.bus, topic_prefix=f"{config.bus.kafka_topic_prefix}{session_id}."
        )
    return select_bus(config.bus, session_dir)


# ---------------------------------------------------------------------------------------------
def sim_broker_factory(
    config: AppConfig, params: SessionParams, *, persist: bool = True
) -> BrokerFactory:
    """The default broker: a :class:`~engine.broker.simulated.SimulatedBroker` whose exchange
    opens at the session's opening prices; its state is saved under the session directory after
    every change so that a killed session resumes against the same broker truth."""

    def factory(prices: Mapping[str, float], session_dir: Path) -> Broker:
        from engine.broker.pacing import PacingLimiter
        from engine.broker.sim_exchange import ExchangeConfig, SimExchange, SymbolSpec
        from engine.broker.simulated import SimulatedBroker

        clock = SystemClock()
        path = session_dir / EXCHANGE_FILE
        if path.is_file():
            exchange = pickle.loads(path.read_bytes())  # our own file, written below
        else:
            exchange = SimExchange(
                ExchangeConfig(
                    seed=config.market.seed,
                    account_id="DU" + f"{config.market.seed:07d}"[-7:],
                    latency=params.sim_latency,
                    latency_jitter=params.sim_latency_jitter,
                    initial_cash=config.backtest.initial_capital,
                    leverage=params.sim_leverage,
                    message_limit=config.pacing.limit,
                ),
                [
                    SymbolSpec(
                        s,
                        float(p),
                        half_spread_bps=params.sim_half_spread_bps,
                        touch_size=1_000_000,
                    )
                    for s, p in prices.items()
                ],
                now=clock.now(),
            )
        broker = SimulatedBroker(
            exchange,
            clock=clock,
            pacer=PacingLimiter(config.pacing.rate, config.pacing.burst, clock=clock),
            readonly=False,
        )
        if persist:

            def save() -> None:
                atomic_write_bytes(path, pickle.dumps(exchange, protocol=pickle.HIGHEST_PROTOCOL))

            broker.persist = save  # type: ignore[attr-defined]
            save()
        return broker

    return factory


def run_paper_session(
    config: AppConfig,
    *,
    out_dir: Path,
    broker_factory: BrokerFactory | None = None,
    speed: float | None = None,
    duration_hours: float | None = None,
    max_trades: int | None = None,
    resume: bool = False,
    record_baseline: bool = False,
    baseline: LatencyFigures | None = None,
    sharpe_backtest: float | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    params: SessionParams | None = None,
    session_id: str | None = None,
    broker_kind: str = "sim",
    host: str | None = None,
    port: int | None = None,
    metrics_port: int | None = None,
    logs_dir: Path | None = None,
) -> SessionResult:
    """Run (or resume) one paper session; see the module docstring.

    ``record_baseline`` (simulated broker only): this session's own intent → ack latencies are
    the mock baseline (the caller writes ``LATENCY_BASELINE.json`` from ``result.latency()``).
    ``baseline`` is the baseline to compare with (read by the caller from that file).
    """
    params = params or SessionParams()
    if max_trades is not None:
        params = replace(params, strategy=replace(params.strategy, max_intents=max_trades))
    runner = _Session(
        config, out_dir=out_dir, broker_factory=broker_factory, params=params,
        speed=speed or config.session.speed,
        duration_hours=duration_hours or config.session.duration_hours,
        resume=resume, record_baseline=record_baseline, baseline=baseline,
        sharpe_backtest=sharpe_backtest, progress=progress, session_id=session_id,
        broker_kind=broker_kind, host=host, port=port,
        metrics_port=config.session.metrics_port if metrics_port is None else metrics_port,
        logs_dir=logs_dir if logs_dir is not None else out_dir / "logs",
    )  # fmt: skip
    return asyncio.run(runner.run())


class _Session:
    out_dir: Path
    broker_factory: BrokerFactory | None
    params: SessionParams
    speed: float
    duration_hours: float
    resume: bool
    record_baseline: bool
    baseline: LatencyFigures | None
    sharpe_backtest: float | None
    progress: Callable[[dict[str, Any]], None] | None
    session_id: str | None
    broker_kind: str
    host: str | None
    port: int | None
    metrics_port: int
    logs_dir: Path

    def __init__(self, config: AppConfig, **kw: Any) -> None:
        self.config = config
        self.__dict__.update(kw)
        self.out_dir: Path = Path(kw["out_dir"])
        self.session_dir = self.out_dir / "session"

    # ------------------------------------------------------------------ setup
    def _load_or_create_meta(self) -> tuple[dict[str, Any], str | None]:
        meta_path = self.session_dir / SESSION_FILE
        if self.resume:
            if not meta_path.is_file():
                return {}, (
                    f"nothing to resume: {meta_path} does not exist; start a session without "
                    "--resume first (with the same --out)"
                )
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            meta["resumed"] = int(meta.get("resumed", 0)) + 1
        else:
            if self.session_dir.exists():
                shutil.rmtree(self.session_dir)
            self.session_dir.mkdir(parents=True)
            meta = {
                "session_id": self.session_id or f"paper-{uuid.uuid4()}",
                "resumed": 0,
                "created": datetime.now(UTC).isoformat(),
                "broker_kind": self.broker_kind,
            }
        return meta, None

    async def run(self) -> SessionResult:
        import pandas as pd

        from contracts.topics import DLQ_TOPICS, EXECUTION_REPORTS, ORDER_INTENTS
        from engine.broker.operations import HaltFlag
        from engine.bus import IdempotencyGuard
        from engine.data.assets import load_assets
        from engine.planes.clock import SessionClock
        from engine.planes.costs import CostLearner
        from engine.planes.data_plane import DataPlane
        from engine.planes.health import HealthServer
        from engine.planes.jsonlog import PlaneLog
        from engine.planes.lockstep import BarLockstep, wait_until
        from engine.planes.metrics import SessionMetrics
        from engine.planes.order_plane import OrderPlane, consumed
        from engine.planes.pretrade import PreTradeChecks, stage_caps
        from engine.planes.risk_monitor import RiskMonitor
        from engine.planes.state import CostFeedback, HaltState
        from engine.planes.strategy_plane import StrategyPlane
        from engine.risk.kill_switch import FileLatchStore, KillSwitchBank

        cfg = self.config
        params: SessionParams = self.params
        meta, problem = self._load_or_create_meta()
        result = SessionResult(
            status="refused", message="", session_id=str(meta.get("session_id", "")),
            broker_kind=self.broker_kind, host=self.host, port=self.port, speed=self.speed,
            bar_seconds=cfg.session.bar_seconds, seed=cfg.market.seed,
            config_hash=cfg.fingerprint(), resumed=int(meta.get("resumed", 0)),
            sharpe_backtest=self.sharpe_backtest, baseline=self.baseline,
            session_dir=str(self.session_dir),
        )  # fmt: skip
        if problem is not None:
            result.message = problem
            return result
        state_dir = Path(cfg.paths.state)
        state_dir.mkdir(parents=True, exist_ok=True)
        halt_flag = HaltFlag(state_dir)
        bank = KillSwitchBank(cfg.kill_switch, FileLatchStore(state_dir / LATCH_FILE))
        if bank.halted:
            ev = bank.halt_event
            result.message = (
                f"the kill-switch latch {state_dir / LATCH_FILE} is set "
                f"({ev.message if ev else 'halted'}); a person must reset it before trading "
                "again (KillSwitchBank.reset, or delete the file after review)"
            )
            return result
        if halt_flag.is_set():
            result.message = (
                f"the HALT flag {halt_flag.path} is set (a rollback ran); review the incident and "
                "delete it before trading again"
            )
            return result

        # ---- market and warm-up
        plan = plan_session(cfg, params, self.duration_hours)
        if isinstance(plan, str):
            result.message = plan
            return result
        market, panel, day, history = plan.market, plan.panel, plan.day, plan.history
        groups, n_bars, symbols, limits = plan.groups, plan.n_bars, plan.symbols, plan.limits
        bar_seconds, opening = plan.bar_seconds, plan.opening
        result.symbols = symbols
        meta.setdefault("day_index", day)
        meta["limits"] = list(limits)

        # ---- bus and broker
        bus = session_bus(cfg, self.session_dir, str(meta["session_id"]))
        result.bus_backend = cfg.bus.backend
        await bus.start()
        result.journal_path = str(self.session_dir / "bus") if cfg.bus.backend == "memory" else None
        factory = self.broker_factory or sim_broker_factory(cfg, params)
        broker = factory(opening, self.session_dir)
        try:
            await broker.connect()
        except (BrokerUnreachable, OSError, BrokerError) as exc:
            await bus.close()
            result.status, result.message = "unreachable", f"broker unreachable: {exc}"
            return result
        try:
            account = await broker.account_summary()
        except BrokerError as exc:
            await broker.close()
            await bus.close()
            result.status, result.message = "unreachable", f"broker not answering: {exc}"
            return result
        result.account_id = account.account_id
        result.trading_mode = account.trading_mode
        if account.trading_mode != "paper":
            await broker.close()
            await bus.close()
            result.message = live_account_refusal(account)
            return result
        start_nlv = float(meta.setdefault("start_nlv", account.net_liquidation))
        result.start_net_liquidation = start_nlv
        atomic_write_text(self.session_dir / SESSION_FILE, json.dumps(meta, indent=2))

        # ---- planes
        logs_dir: Path = self.logs_dir
        result.logs_dir = str(logs_dir)
        data_log = PlaneLog("data_plane", logs_dir)
        strat_log = PlaneLog("strategy_plane", logs_dir)
        order_log = PlaneLog("order_plane", logs_dir)
        metrics = SessionMetrics()
        metrics.attach_bus(bus.metrics)
        halt, feedback = HaltState(), CostFeedback()
        learner = CostLearner(
            prior=cfg.costs.half_spread_bps / 1e4, lambda_=cfg.portfolio.lambda_init
        )
        feedback.publish(learner.turnover_penalty, learner.cost_fraction)
        last_px: dict[str, float] = dict(opening)
        whitelist = frozenset(a.symbol for a in load_assets(cfg.paths.assets)) | frozenset(
            symbols if cfg.market.n_assets else ()
        )
        checks = PreTradeChecks(cfg.risk, whitelist, stage_caps(cfg.gates, params.stage))
        persist = getattr(broker, "persist", None)
        order_plane = OrderPlane(
            bus, broker, checks=checks,
            guard=IdempotencyGuard(self.session_dir / "order_plane.keys"),
            learner=learner, feedback=feedback, halt=halt, log=order_log, metrics=metrics,
            last_prices=last_px.get, after_change=persist, state_dir=self.session_dir,
            retries=cfg.pacing.max_retries, backoff_initial=cfg.pacing.backoff_initial,
        )  # fmt: skip
        session_open = groups[0][0].start
        strategy = StrategyPlane(
            bus, session_id=result.session_id, config=cfg, history=history,
            session_day=pd.Timestamp(panel.dates[day]), session_open=session_open,
            bar_seconds=bar_seconds, limits=limits, capital=start_nlv,
            params=params.strategy, log=strat_log, halt=halt, costs=feedback, bars_total=n_bars,
        )  # fmt: skip
        samples: list[MetricSample] = []
        samples_path = self.session_dir / SAMPLES_FILE
        start_bar = 0
        if self.resume:
            await order_plane.recover()
            await strategy.restore()
            start_bar = await _bars_published(bus, session_open, bar_seconds)
            samples.extend(read_samples(samples_path))
        # continue the market clock at the first bar still to publish
        market_start = groups[min(start_bar, len(groups) - 1)][0].start
        clock = SessionClock(market_start, self.speed)
        result.started_at = datetime.fromisoformat(meta.get("market_started", "")) if meta.get(
            "market_started") else session_open  # fmt: skip
        meta["market_started"] = result.started_at.isoformat()
        atomic_write_text(self.session_dir / SESSION_FILE, json.dumps(meta, indent=2))

        loss = params.loss_injection or 0.0
        bars_seen = {"n": 0}

        async def on_prices(prices: dict[str, float]) -> None:
            bars_seen["n"] += 1
            for sym, px in prices.items():
                held = order_plane.positions.get(sym, 0) if loss else 0
                if held:  # injected loss: every held position moves against the book
                    px = last_px.get(sym, px) * ((1 - loss) if held > 0 else (1 + loss))
                last_px[sym] = px
                setp = getattr(broker, "set_price", None)
                if setp is not None:
                    await setp(sym, round(px, 4))

        lockstep = params.lockstep if params.lockstep is not None else self.broker_kind == "sim"
        step = BarLockstep() if lockstep else None
        strategy.lockstep = step
        tasks_alive: dict[str, asyncio.Task[None]] = {}

        def quiet() -> bool:
            reports = strategy.report_consumer
            return (
                order_plane.quiet()
                and reports is not None
                and consumed(bus, EXECUTION_REPORTS, reports)
            )

        async def settle_bar(k: int) -> None:
            """Lockstep: the strategy completes bar ``k`` and its orders settle."""
            assert step is not None
            step.publish(k)
            strat_task = tasks_alive.get("strategy")
            done = await step.wait_completed(
                k,
                params.lockstep_timeout,
                alive=lambda: strat_task is None or not strat_task.done(),
            )
            if not done:
                strat_log.log("lockstep_timeout", "warning", bar=k, waiting_for="decision")
            if not await wait_until(quiet, params.settle_timeout):
                order_log.log("lockstep_timeout", "warning", bar=k, waiting_for="orders")

        async def after_bar(k: int, at: datetime) -> bool:
            await sample(at)
            if await flatten_if_halted():
                return False
            await settle_bar(k)
            return True

        # without lockstep, a broker that streams quotes (IBKR, the simulated gateway) is the
        # data plane's market: its quotes are aggregated into the bars (engine.planes.quote_bars)
        feed = None
        read_quotes = getattr(broker, "last_quotes", None)
        if step is None and read_quotes is not None:
            from engine.planes.quote_bars import QuoteBars

            try:
                await broker.subscribe_market_data(symbols)
            except BrokerError as exc:
                await broker.close()
                await bus.close()
                result.status, result.message = "unreachable", f"market data refused: {exc}"
                return result
            feed = QuoteBars(read_quotes, symbols, clock)
            data_log.log("market_data", source="broker", broker=self.broker_kind)
        data = DataPlane(
            bus, groups, symbols=symbols, clock=clock, qa=cfg.qa, bar_seconds=bar_seconds,
            log=data_log, start_bar=start_bar, on_prices=on_prices,
            ticks=market_ticks(market, cfg) if params.publish_ticks and feed is None else None,
            poison={k: list(v) for k, v in params.poison.items()},
            after_bar=after_bar if step is not None else None, feed=feed,
        )  # fmt: skip

        # ---- health endpoint
        health: HealthServer | None = None
        if self.metrics_port:
            health = HealthServer(
                metrics.render,
                {
                    "bus": lambda: not getattr(bus, "closed", False),
                    "broker": lambda: broker.is_ready,
                },
                port=self.metrics_port,
            )
            try:
                result.metrics_port = await health.start()
            except OSError as exc:
                result.warnings.append(
                    f"metrics endpoint not started on port {self.metrics_port}: {exc}; set "
                    "session.metrics_port (0 = off)"
                )
                health = None

        # ---- risk monitor (kill switches, samples)
        track_path = state_dir / TRACK_FILE
        track = _read_track(track_path)

        def report(s: MetricSample, positions: list[Any]) -> None:
            if self.progress is not None:
                self.progress({
                    "at": s.timestamp, "bar": bars_seen["n"] + start_bar, "bars": n_bars,
                    "sample": s, "positions": {p.symbol: p.quantity for p in positions
                                               if p.quantity},
                    "intents": len(order_plane.orders), "halt": halt.reason,
                    "cost": learner.cost_fraction, "stale": data.stats.stale,
                })  # fmt: skip

        risk = RiskMonitor(
            cfg, broker=broker, bank=bank, halt=halt, order_plane=order_plane, log=order_log,
            metrics=metrics, start_nlv=start_nlv, samples=samples, samples_path=samples_path,
            track=track, psr_basis=params.psr_basis, progress=report,
        )  # fmt: skip
        sample, flatten_if_halted = risk.sample, risk.flatten_if_halted

        async def monitor(data_done: asyncio.Event) -> None:
            """Without lockstep (IBKR): sample after every bar on the session clock."""
            k = start_bar
            while k < n_bars and not data_done.is_set():
                at = groups[k][0].end
                await clock.sleep_until(at)
                await asyncio.sleep(0)  # let the data plane publish the bar first
                await sample(at)
                k += 1
                if await flatten_if_halted():
                    data_done.set()

        # ---- run
        data_done = asyncio.Event()
        stop_orders = asyncio.Event()

        async def data_task() -> None:
            try:
                if step is not None and start_bar > 0:
                    await settle_bar(start_bar - 1)  # resume: finish the journal's last bar first
                await data.run()
            finally:
                data_done.set()

        wall0 = SystemClock().now()
        if params.poison_intents or params.poison_reports:
            for raw in params.poison_intents:
                await bus.publish(ORDER_INTENTS, raw)
            for raw in params.poison_reports:
                await bus.publish(EXECUTION_REPORTS, raw)
        tasks = [
            asyncio.create_task(order_plane.run_events(), name="order-events"),
            asyncio.create_task(order_plane.run_intents(stop_orders), name="order-intents"),
            asyncio.create_task(strategy.run_reports(), name="strategy-reports"),
        ]
        producer = asyncio.create_task(data_task(), name="data-plane")
        # in lockstep the data plane samples after each bar itself (after_bar)
        mon = asyncio.create_task(
            monitor(data_done) if step is None else data_done.wait(), name="risk-monitor"
        )
        strat = asyncio.create_task(strategy.run_market(data_done), name="strategy-market")
        tasks_alive["strategy"] = strat
        try:
            await asyncio.wait({producer, mon}, return_when=asyncio.ALL_COMPLETED)
            if not producer.done():
                producer.cancel()
            await strat
            stop_orders.set()
            await tasks[1]
            await order_plane.settle(params.settle_timeout)
            if not halt.halted or halt.action != "HALT_AND_FLATTEN":
                await sample(groups[-1][0].end)
        finally:
            strategy.stop.set()
            for t in (producer, mon, strat, *tasks):
                t.cancel()
            for t in (producer, mon, strat, *tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            if health is not None:
                await health.close()
            await broker.close()
            if persist is not None:
                persist()
            await bus.flush()

        # ---- result
        finish_result(
            result, order_plane=order_plane, broker=broker, risk=risk, halt=halt,
            bar_seconds=bar_seconds, finished_at=groups[-1][0].end,
            wall_seconds=SystemClock().now() - wall0, cost_fraction=learner.cost_fraction,
            decisions=list(strategy.decisions),
            dlq_counts={t: int(bus.metrics.published.get(t, 0)) for t in DLQ_TOPICS},
            data_finished=data.stats.finished, track_path=track_path,
            record_baseline=self.record_baseline,
        )  # fmt: skip
        await bus.close()
        for lg in (data_log, strat_log, order_log):
            lg.close()
        return result


def finish_result(
    result: SessionResult,
    *,
    order_plane: Any,
    broker: Broker,
    risk: Any,
    halt: Any,
    bar_seconds: int,
    finished_at: datetime,
    wall_seconds: float,
    cost_fraction: float | None,
    decisions: list[DecisionRecord],
    dlq_counts: dict[str, int],
    data_finished: bool,
    track_path: Path,
    record_baseline: bool,
) -> SessionResult:
    """Fill ``result`` with the session's figures once the planes have stopped; a finished (or
    halted) session's return joins the paper track record at ``track_path``."""
    import numpy as np

    from engine.stats.performance import performance_summary

    samples = risk.samples
    result.wall_seconds = wall_seconds
    result.finished_at = finished_at
    result.orders = list(order_plane.orders.values())
    result.latencies_ms = list(order_plane.latencies_ms)
    sent = [o.submitted_at for o in result.orders if o.latency_ms is not None and o.submitted_at]
    acks = [o.acknowledged_at for o in result.orders if o.acknowledged_at is not None]
    result.latency_started = min(sent) if sent else None
    result.latency_finished = max(acks) if acks else None
    result.pacing_violations = int(getattr(getattr(broker, "pacing_violations", None),
                                           "count", 0))  # fmt: skip
    result.samples = samples
    final = samples[-1] if samples else None
    result.pnl = final.pnl if final else 0.0
    result.max_drawdown = max((s.drawdown for s in samples), default=0.0)
    result.commissions = sum(o.commission for o in result.orders)
    bar_returns = returns_of(samples, risk.start_nlv)
    bars_per_year = round(252 * (6.5 * 3600) / bar_seconds)
    if len(bar_returns) > 1:
        stats = performance_summary(np.asarray(bar_returns), bars_per_year)
        result.sharpe_paper = float(stats.sharpe)
    result.psr = final.psr if final else None
    if final is not None and (halt.halted or data_finished):
        _append_track(track_path, risk.track, result.session_id, final.pnl_fraction)
    result.dlq_counts = dlq_counts
    result.kill_switch_events = risk.events
    result.rollback_flat = risk.rollback_flat
    result.halt_action = halt.action
    result.halted_wall_at = halt.wall_at
    result.cost_coefficient = cost_fraction
    result.decisions = decisions
    result.recovered_fills = order_plane.recovered_fills
    result.duplicate_deliveries = order_plane.duplicates_refused
    if record_baseline:
        if result.broker_kind == "sim":
            result.baseline = latency_figures(result.latencies_ms)
        else:
            result.warnings.append("--record-baseline needs the simulated broker; ignored")
    if halt.halted:
        result.status = "kill_switch"
        result.message = f"kill switch: {halt.reason} ({halt.action})"
    else:
        result.status = "completed"
        result.message = (
            f"{result.trades} trades in {len(samples)} bars; fill rate "
            f"{result.fill_rate if result.fill_rate is not None else float('nan'):.2%}"
        )
    return result


async def _bars_published(bus: Any, session_open: datetime, bar_seconds: int) -> int:
    """How many bar times the data plane already published (resume continues after them)."""
    from contracts.messages import BarEvent
    from contracts.topics import MARKET_EVENTS

    last = -1
    async for rec in bus.replay(MARKET_EVENTS, 0):
        if isinstance(rec.value, BarEvent):
            k = int((rec.value.timestamp - session_open).total_seconds() // bar_seconds)
            last = max(last, k)
    return last + 1


def market_ticks(market: Any, cfg: AppConfig) -> Callable[[Any], Any]:
    """BID/ASK/TRADE ticks for one bar, as the synthetic market derives them."""

    def ticks(bar: Any) -> Any:
        asset = market.assets[market.symbols.index(bar.symbol)]
        from engine.data.synthetic import SyntheticTick

        tick = asset.min_tick
        return (
            SyntheticTick(bar.symbol, bar.end, "BID", max(tick, round(bar.close - tick, 2)),
                          bar.bid_volume),
            SyntheticTick(bar.symbol, bar.end, "ASK", round(bar.close + tick, 2), bar.ask_volume),
            SyntheticTick(bar.symbol, bar.end, "TRADE", bar.close, bar.volume),
        )  # fmt: skip

    return ticks


def _read_track(path: Path) -> list[tuple[str, float]]:
    """The paper track record: one (session id, daily return) per finished session."""
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(str(r["session_id"]), float(r["return"])) for r in data.get("sessions", [])]


def _append_track(path: Path, track: list[tuple[str, float]], session_id: str, ret: float) -> None:
    rows = [(sid, r) for sid, r in track if sid != session_id] + [(session_id, ret)]
    payload = {"sessions": [{"session_id": sid, "return": r} for sid, r in rows]}
    atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
