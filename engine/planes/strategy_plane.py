"""Strategy plane: market events → rolling state → the backtest's decision → ``order_intents``.

**Design.** The strategy warms up on the daily history of the synthetic market up to the day
before the session (the same panel the backtest uses). During the session it keeps today's
running bar per symbol (open, high, low, last close, volume, bid/ask volume) from the
``BarEvent``/``OFIEvent`` stream; in the partial-day row the volumes so far are pro-rated to a
full session (× bars per day / bars so far) so that the row is comparable with the history.
Every ``decision_every`` bars (default 5 one-minute bars, the first decision after the first
bar) it appends today's running bar to the history as a *partial
day* row and runs exactly the backtest's path on that panel: the six signals and their
IC-weighted ensemble (:func:`engine.backtest.alpha.ensemble_alpha`), the Grinold mapping, the
Ledoit–Wolf covariance and the configured optimiser under the regime's gross/net limits
(:func:`engine.backtest.decision.decide_weights`). Fundamentals that are published at the close
(earnings actuals) are not known intraday and are left empty in the partial row.

The first decision (after the first bar, so that opening prices are known) uses the history
alone: it is exactly the backtest's decision at the previous close, executed at the open.

Target weights become share targets at the current equity (starting cash + fills, marked at the
last closes); the difference to the position (plus what is still pending) becomes one MARKET
``OrderIntent`` per symbol when it is worth at least ``min_trade_notional``. Symbols that are
stale (freshness monitor) or have no bar today are frozen at their current weight.

Intent ids are ``uuid5(namespace, "<session>|<decision time>|<symbol>")``: a replay or a resumed
session re-emits the same ids, and the order plane never places an id twice.

Execution reports feed back the fills (position, cash; deduplicated by execution id) and the
end of each intent (pending quantities).
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from contracts.messages import BarEvent, ExecutionReport, OFIEvent, OrderIntent, TickEvent
from contracts.topics import EXECUTION_REPORTS, MARKET_EVENTS, ORDER_INTENTS
from engine.backtest.alpha import ensemble_alpha
from engine.backtest.decision import decide_weights
from engine.backtest.optimizers import make_optimizer
from engine.bus.protocol import Bus, Consumer
from engine.config import AppConfig
from engine.data.panel import MarketPanel
from engine.data.qa import FreshnessMonitor
from engine.data.synthetic import SESSION_SECONDS
from engine.planes.jsonlog import PlaneLog
from engine.planes.lockstep import BarLockstep
from engine.planes.state import CostFeedback, HaltState

INTENT_NAMESPACE = uuid.UUID("6f1c3a52-4d0e-5b7a-9c1e-2a8b7d4e9f10")
FINAL = frozenset({"FILLED", "CANCELED", "REJECTED"})
CLOSE_ONLY_FIELDS = ("eps_actual", "revenue_actual")


def intent_id_for(session_id: str, decision_time: datetime, symbol: str) -> uuid.UUID:
    """Deterministic intent id: the same session, decision time and symbol give the same id."""
    return uuid.uuid5(INTENT_NAMESPACE, f"{session_id}|{decision_time.isoformat()}|{symbol}")


@dataclass(frozen=True)
class StrategyParams:
    """How often and how much the strategy trades during the session."""

    decision_every: int = 5
    first_decision_bar: int = 0
    min_trade_notional: float = 250.0
    max_intents: int = 200
    history_rows: int = 400
    first_from_close: bool = False


@dataclass
class DecisionRecord:
    bar: int
    at: datetime
    intents: int
    gross: float
    turnover_penalty: float
    status: str
    seconds: float


@dataclass
class _Today:
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0
    bid_volume: float = 0.0
    ask_volume: float = 0.0


@dataclass
class StrategyBook:
    """The strategy's view of its account, from execution reports only."""

    cash: float
    positions: dict[str, int] = field(default_factory=dict)
    pending: dict[str, tuple[str, int]] = field(default_factory=dict)  # intent → (symbol, ±qty)
    filled: dict[str, int] = field(default_factory=dict)  # intent → cumulative filled
    exec_ids: set[str] = field(default_factory=set)
    commissions: float = 0.0

    def pending_for(self, symbol: str) -> int:
        return sum(q for s, q in self.pending.values() if s == symbol)

    def apply(self, rep: ExecutionReport) -> bool:
        """Book one report; returns True when it carried a new fill."""
        iid = str(rep.intent_id)
        new_fill = False
        if rep.exec_id and rep.exec_id not in self.exec_ids and rep.last_fill_quantity:
            self.exec_ids.add(rep.exec_id)
            sign = 1 if (rep.direction or "BUY") == "BUY" else -1
            qty = int(rep.last_fill_quantity)
            price = float(rep.last_fill_price or rep.avg_fill_price)
            self.positions[rep.symbol] = self.positions.get(rep.symbol, 0) + sign * qty
            self.cash -= sign * qty * price + float(rep.commission or 0.0)
            self.commissions += float(rep.commission or 0.0)
            self.filled[iid] = self.filled.get(iid, 0) + qty
            if iid in self.pending:
                sym, q = self.pending[iid]
                left = q - sign * qty
                self.pending[iid] = (sym, left)
            new_fill = True
        if rep.status in FINAL:
            self.pending.pop(iid, None)
        return new_fill


class StrategyPlane:
    """Consumes ``market_events`` and ``execution_reports``; publishes ``order_intents``."""

    def __init__(
        self,
        bus: Bus,
        *,
        session_id: str,
        config: AppConfig,
        history: MarketPanel,
        session_day: pd.Timestamp,
        session_open: datetime,
        bar_seconds: int,
        limits: tuple[float, float],
        capital: float,
        params: StrategyParams,
        log: PlaneLog,
        halt: HaltState,
        costs: CostFeedback,
        bars_total: int,
    ) -> None:
        self.bus = bus
        self.session_id = session_id
        self.config = config
        self.symbols = history.symbols
        self.history = (
            history.truncate(history.T)
            if params.history_rows >= history.T
            else (history.between(history.dates[-params.history_rows], None))
        )
        self.session_day = pd.Timestamp(session_day).normalize()
        self.session_open = session_open
        self.bar_seconds = bar_seconds
        self.limits = limits
        self.params = params
        self.log = log
        self.halt = halt
        self.costs = costs
        self.bars_total = bars_total
        self.bars_per_day = SESSION_SECONDS // bar_seconds
        self.book = StrategyBook(cash=capital)
        self.today: dict[str, _Today] = {}
        self.last_price: dict[str, float] = {}
        self.freshness = FreshnessMonitor(bar_seconds, config.qa.freshness_multiple, self.symbols)
        self.optimizer = make_optimizer(config.portfolio.optimizer, config.portfolio)
        self.decisions: list[DecisionRecord] = []
        self.intents_emitted = 0
        self.known_intents: set[str] = set()
        self.current_bar: int | None = None
        self.decided_bars: set[int] = set()
        self.stop = asyncio.Event()
        self.idle = asyncio.Event()
        self.on_decision: Callable[[DecisionRecord], None] | None = None
        # set by the session to run bar by bar (simulated broker): see engine.planes.lockstep
        self.lockstep: BarLockstep | None = None
        self.report_consumer: Consumer | None = None

    # ------------------------------------------------------------------ state
    def bar_index(self, ts: datetime) -> int:
        return int((ts - self.session_open).total_seconds() // self.bar_seconds)

    def _on_market(self, value: object) -> int | None:
        """Update the rolling state; returns the bar index of a bar event."""
        if isinstance(value, BarEvent):
            sym = value.symbol
            day = self.today.get(sym)
            if day is None:
                self.today[sym] = _Today(value.open, value.high, value.low, value.close)
                day = self.today[sym]
            else:
                day.high = max(day.high, value.high)
                day.low = min(day.low, value.low)
                day.close = value.close
            day.volume += value.volume
            self.last_price[sym] = value.close
            end = value.timestamp + timedelta(seconds=self.bar_seconds)
            self.freshness.observe(sym, end)
            return self.bar_index(value.timestamp)
        if isinstance(value, OFIEvent):
            day = self.today.get(value.symbol)
            if day is not None:
                day.bid_volume += value.bid_volume
                day.ask_volume += value.ask_volume
        elif isinstance(value, TickEvent) and value.tick_type in ("TRADE", "LAST"):
            self.last_price[value.symbol] = value.price
        return None

    def equity(self) -> float:
        value = sum(q * self.last_price.get(s, 0.0) for s, q in self.book.positions.items())
        return self.book.cash + value

    def partial_panel(self) -> MarketPanel:
        """History plus today's running bar as the last row (close-only fields left empty)."""
        h = self.history
        n = h.N
        row: dict[str, np.ndarray] = {}
        for name, arr in h.fields.items():
            row[name] = np.full(n, np.nan) if name in CLOSE_ONLY_FIELDS else arr[-1].copy()
        done = 1 + (self.current_bar if self.current_bar is not None else 0)
        scale = max(1.0, self.bars_per_day / max(done, 1))
        for j, sym in enumerate(h.symbols):
            day = self.today.get(sym)
            for name in ("open", "high", "low", "close", "volume", "bid_volume", "ask_volume"):
                if name not in row:
                    continue
                value = getattr(day, name) if day is not None else np.nan
                # volumes so far, pro-rated to a full day so the row compares with history
                row[name][j] = value * scale if name.endswith("volume") else value
        fields = {k: np.vstack([v, row[k][None, :]]) for k, v in h.fields.items()}
        dates = pd.DatetimeIndex(h.dates.append(pd.DatetimeIndex([self.session_day])))
        return MarketPanel(dates=dates, symbols=h.symbols, fields=fields)

    # ------------------------------------------------------------------ decisions
    def _decide_sync(
        self, panel: MarketPanel, w_now: np.ndarray, tradable: np.ndarray
    ) -> tuple[np.ndarray | None, str]:
        alpha = ensemble_alpha(panel, self.config.signals)
        t = panel.T - 1
        penalty = self.costs.turnover_penalty
        if hasattr(self.optimizer, "turnover_penalty"):
            self.optimizer.turnover_penalty = penalty  # online cost learning → turnover penalty
        gross, net = self.limits
        decision = decide_weights(
            score_row=alpha.combined[t],
            ic=float(alpha.ic_estimate[t]),
            horizon=alpha.horizon,
            returns=panel.returns(),
            t=t,
            w_now=w_now,
            tradable_row=tradable,
            gross=gross,
            net=net,
            pf=self.config.portfolio,
            periods_per_year=self.config.backtest.periods_per_year,
            optimizer=self.optimizer,
        )
        if decision.allocation is None:
            return None, "too little history"
        return decision.weights, decision.allocation.status

    async def decide(self, bar: int) -> None:
        if bar in self.decided_bars:
            return
        self.decided_bars.add(bar)
        at = self.session_open + timedelta(seconds=(bar + 1) * self.bar_seconds)
        if self.halt.halted:
            self.log.log("decision_skipped", "warning", bar=bar, reason=self.halt.reason)
            return
        budget = self.params.max_intents - self.intents_emitted
        if budget <= 0:
            self.log.log("decision_skipped", bar=bar, reason="max intents reached")
            return
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        equity = self.equity()
        prices = np.array([self.last_price.get(s, np.nan) for s in self.symbols])
        held = np.array([self.book.positions.get(s, 0) for s in self.symbols], dtype=float)
        w_now = np.where(np.isfinite(prices), held * np.nan_to_num(prices), 0.0) / equity
        stale = set(self.freshness.stale(at))
        tradable = np.array(
            [s in self.today and s not in stale and np.isfinite(p) for s, p in
             zip(self.symbols, prices, strict=True)]
        )  # fmt: skip
        # The first decision of the day is the backtest's decision at the previous close
        # (history only); later ones add today's running bar as a partial-day row.
        first = bar == self.params.first_decision_bar and self.params.first_from_close
        panel = self.history if first else self.partial_panel()
        weights, status = await asyncio.to_thread(self._decide_sync, panel, w_now, tradable)
        intents: list[OrderIntent] = []
        if weights is not None:
            order = np.argsort(-np.abs(weights - w_now))  # biggest changes first
            for j in order:
                sym, px = self.symbols[j], float(prices[j])
                if not tradable[j] or not math.isfinite(px) or px <= 0:
                    continue
                target = round(float(weights[j]) * equity / px)
                cap = int(0.98 * self.config.risk.max_position_notional // px)  # inside the caps
                target = max(-cap, min(cap, target))
                current = self.book.positions.get(sym, 0) + self.book.pending_for(sym)
                delta = target - current
                max_order = int(0.98 * self.config.risk.max_order_notional // px)
                delta = max(-max_order, min(max_order, delta))
                if delta == 0 or abs(delta) * px < self.params.min_trade_notional:
                    continue
                if len(intents) >= budget:
                    break
                intents.append(
                    OrderIntent(
                        event_type="order_intent",
                        intent_id=intent_id_for(self.session_id, at, sym),
                        symbol=sym,
                        direction="BUY" if delta > 0 else "SELL",
                        quantity=abs(delta),
                        order_type="MARKET",
                        decision_price=round(px, 6),
                        time_in_force="DAY",
                        timestamp=at,
                    )
                )
        for intent in intents:
            iid = str(intent.intent_id)
            if iid in self.known_intents:
                continue  # already published before a restart
            sign = 1 if intent.direction == "BUY" else -1
            self.book.pending[iid] = (intent.symbol, sign * intent.quantity)
            self.known_intents.add(iid)
            await self.bus.publish(ORDER_INTENTS, intent, key=intent.symbol)
            self.intents_emitted += 1
        if intents:
            await self.bus.flush()
        gross = float(np.sum(np.abs(weights))) if weights is not None else float("nan")
        record = DecisionRecord(
            bar, at, len(intents), gross, self.costs.turnover_penalty, status, loop.time() - t0
        )
        self.decisions.append(record)
        self.log.log(
            "decision", bar=bar, at=at, intents=len(intents), gross=gross, status=status,
            equity=round(equity, 2), stale=sorted(stale),
            turnover_penalty=record.turnover_penalty, seconds=round(record.seconds, 4),
        )  # fmt: skip
        if self.on_decision is not None:
            self.on_decision(record)

    async def _consume(self, value: object, *, live: bool) -> None:
        """One market event: a bar of a later bar time first completes the current bar (and
        takes its decision), then updates the state — a decision never sees the next bar."""
        if isinstance(value, BarEvent):
            bar = self.bar_index(value.timestamp)
            if self.current_bar is not None and bar > self.current_bar:
                await self._bar_complete(self.current_bar, live=live)
            if self.current_bar is None or bar > self.current_bar:
                self.current_bar = bar
        self._on_market(value)

    def _is_decision_bar(self, bar: int) -> bool:
        p = self.params
        return bar >= p.first_decision_bar and (bar - p.first_decision_bar) % p.decision_every == 0

    async def _bar_complete(self, bar: int, *, live: bool) -> None:
        if self._is_decision_bar(bar):
            if live:
                await self.decide(bar)
            else:
                self.decided_bars.add(bar)

    # ------------------------------------------------------------------ loops
    async def restore(self) -> None:
        """Rebuild state from the journal (resume): reports, intents, and market events already
        committed by this plane's consumer group (no decision is re-taken for those)."""
        async for rec in self.bus.replay(ORDER_INTENTS, 0):
            self.known_intents.add(str(getattr(rec.value, "intent_id", "")))
        self.intents_emitted = len(self.known_intents)
        intents = {}
        async for rec in self.bus.replay(ORDER_INTENTS, 0):
            v = rec.value
            if isinstance(v, OrderIntent):
                sign = 1 if v.direction == "BUY" else -1
                intents[str(v.intent_id)] = (v.symbol, sign * v.quantity)
        self.book.pending.update(intents)
        async for rec in self.bus.replay(EXECUTION_REPORTS, 0):
            if isinstance(rec.value, ExecutionReport):
                self.book.apply(rec.value)
        # the group's committed offset, asked without joining the group (a member that joins
        # and leaves would make a Kafka group rebalance under the consumer that follows)
        committed = int(await asyncio.to_thread(self.bus.committed, "strategy", MARKET_EVENTS, 0))
        async for rec in self.bus.replay(MARKET_EVENTS, 0):
            if rec.offset >= committed:
                break
            await self._consume(rec.value, live=False)
        self.log.log(
            "restored", intents=len(self.known_intents), positions=len(self.book.positions),
            market_offset=committed, last_bar=self.current_bar,
        )  # fmt: skip

    async def run_market(self, data_done: asyncio.Event) -> None:
        consumer = self.bus.subscribe(MARKET_EVENTS, "strategy")
        step = self.lockstep
        # in lockstep the data plane waits for us after each bar: look at the handshake often
        timeout = 0.005 if step is not None else 0.05
        try:
            while True:
                records = await consumer.poll(max_messages=5000, timeout=timeout)
                for rec in records:
                    await self._consume(rec.value, live=True)
                if records:
                    await consumer.commit()
                if step is not None and step.pending and self._caught_up(consumer):
                    await self._complete_published(step)
                if not records:
                    if data_done.is_set() and self._caught_up(consumer):
                        break
                    continue
            if self.current_bar is not None:
                await self._bar_complete(self.current_bar, live=True)
        finally:
            await consumer.close()
            self.log.log("market_consumer_done", decisions=len(self.decisions))

    async def _complete_published(self, step: BarLockstep) -> None:
        """Lockstep: every event of the bars the data plane published is consumed — complete
        the current bar (its decision) now instead of when the next bar arrives."""
        upto = step.published
        if self.current_bar is not None and self.current_bar <= upto:
            await self._bar_complete(self.current_bar, live=True)
        step.complete(upto)

    def _caught_up(self, consumer: object) -> bool:
        pos = getattr(consumer, "position", None)
        if pos is None:
            return True
        return all(
            pos(p) >= self.bus.end_offset(MARKET_EVENTS, p)
            for p in range(self.bus.partitions(MARKET_EVENTS))
        )

    async def run_reports(self) -> None:
        consumer = self.bus.subscribe(EXECUTION_REPORTS, "strategy")
        self.report_consumer = consumer
        try:
            while not self.stop.is_set():
                records = await consumer.poll(max_messages=1000, timeout=0.05)
                for rec in records:
                    if isinstance(rec.value, ExecutionReport):
                        self.book.apply(rec.value)
                if records:
                    await consumer.commit()
        finally:
            await consumer.close()
