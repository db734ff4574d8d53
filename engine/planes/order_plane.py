"""Order plane: ``order_intents`` → pre-trade checks → pacing → broker → ``execution_reports``.

* Every intent is checked (:mod:`engine.planes.pretrade`); a refused intent gets a REJECTED
  ``ExecutionReport`` whose ``order_id`` starts with ``risk-`` (nothing reached the broker).
* Duplicates: the intent id is marked in a durable :class:`~engine.bus.IdempotencyGuard` before
  the order is sent, and the broker's own ledger (reconciled against the broker's orders and
  executions by ``orderRef`` on connect) answers a re-sent id with the first order — so an intent
  redelivered after a crash is never placed twice.
* Every broker message goes through the broker's shared :class:`~engine.broker.pacing.PacingLimiter`;
  a placement that times out or meets a dropped connection is retried with exponential backoff
  (``pacing.max_retries``, ``pacing.backoff_initial``).
* Every broker status change and fill becomes an ``ExecutionReport`` (flushed to the journal
  before anything acts on it).
* Online cost learning: each fill's slippage against the intent's decision price updates
  :class:`~engine.planes.costs.CostLearner`, published to the strategy plane as its turnover
  penalty.
* :meth:`OrderPlane.recover` (resume) re-reads the journal and asks the broker for its executions:
  fills that happened while the session was down, or were never reported, are reported now (no
  fill lost; execution ids deduplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.messages import ExecutionReport, OrderIntent
from contracts.topics import EXECUTION_REPORTS, ORDER_INTENTS
from engine.broker.pacing import call_with_retry
from engine.broker.protocol import Broker
from engine.broker.types import BrokerError, BrokerEvent, BrokerNotReady, BrokerTimeout
from engine.bus.idempotency import IdempotencyGuard
from engine.bus.protocol import Bus, Consumer
from engine.planes.costs import CostLearner
from engine.planes.jsonlog import PlaneLog
from engine.planes.metrics import SessionMetrics
from engine.planes.pretrade import PreTradeChecks
from engine.planes.state import CostFeedback, HaltState

FINAL = frozenset({"FILLED", "CANCELED", "REJECTED"})
NowUtc = Callable[[], datetime]


def _now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class OrderLog:
    """One intent and everything the broker did with it (becomes a TradeRecord)."""

    intent: OrderIntent
    risk_rejected: str | None = None
    order_id: str | None = None
    submitted_at: datetime | None = None
    acknowledged_at: datetime | None = None
    latency_ms: float | None = None
    status_changes: list[tuple[datetime, str, int, str | None]] = field(default_factory=list)
    fills: list[tuple[str, datetime, int, float, float | None]] = field(default_factory=list)
    status: str | None = None
    filled_quantity: int = 0
    avg_fill_price: float = 0.0
    duplicate_deliveries: int = 0

    @property
    def commission(self) -> float:
        return sum(c or 0.0 for *_, c in self.fills)

    def apply(self, rep: ExecutionReport) -> None:
        if rep.order_id and self.order_id is None and not rep.order_id.startswith("risk-"):
            self.order_id = rep.order_id
        if self.submitted_at is None and self.risk_rejected is None:
            self.submitted_at = rep.timestamp
        if rep.exec_id and rep.last_fill_quantity and all(f[0] != rep.exec_id for f in self.fills):
            self.fills.append(
                (rep.exec_id, rep.timestamp, int(rep.last_fill_quantity),
                 float(rep.last_fill_price or rep.avg_fill_price), rep.commission)
            )  # fmt: skip
        change = (rep.timestamp, rep.status, rep.filled_quantity, rep.reject_reason)
        if not self.status_changes or self.status_changes[-1][1:3] != change[1:3]:
            self.status_changes.append(change)
        if self.status not in FINAL or rep.status in FINAL:
            self.status = rep.status
        self.filled_quantity = max(self.filled_quantity, rep.filled_quantity)
        if rep.filled_quantity:
            self.avg_fill_price = rep.avg_fill_price


class OrderPlane:
    """Consumes ``order_intents``, talks to the broker, publishes ``execution_reports``."""

    def __init__(
        self,
        bus: Bus,
        broker: Broker,
        *,
        checks: PreTradeChecks,
        guard: IdempotencyGuard,
        learner: CostLearner,
        feedback: CostFeedback,
        halt: HaltState,
        log: PlaneLog,
        metrics: SessionMetrics | None = None,
        now_utc: NowUtc = _now_utc,
        last_prices: Callable[[str], float | None] | None = None,
        after_change: Callable[[], None] | None = None,
        state_dir: Path | None = None,
        retries: int = 0,
        backoff_initial: float = 0.25,
    ) -> None:
        self.bus = bus
        self.broker = broker
        self.checks = checks
        self.guard = guard
        self.learner = learner
        self.feedback = feedback
        self.halt = halt
        self.log = log
        self.metrics = metrics
        self.now_utc = now_utc
        self.last_prices = last_prices or (lambda _s: None)
        self.after_change = after_change
        self.retries = retries
        self.backoff_initial = backoff_initial
        self.orders: dict[str, OrderLog] = {}
        self.positions: dict[str, int] = {}
        self.handled: set[str] = set()
        self.reported_execs: set[str] = set()
        self.latencies_ms: list[float] = []
        self.started_at = now_utc()
        self.recovered_fills = 0
        self.duplicates_refused = 0
        self.intents_seen = 0
        self._order_file = (state_dir / "orders.jsonl") if state_dir is not None else None
        self.intent_consumer: Consumer | None = None

    # ------------------------------------------------------------------ recovery
    async def recover(self) -> None:
        """Rebuild from the journal and the broker's truth (resume after a crash)."""
        async for rec in self.bus.replay(ORDER_INTENTS, 0):
            if isinstance(rec.value, OrderIntent):
                iid = str(rec.value.intent_id)
                self.orders.setdefault(iid, OrderLog(rec.value))
        async for rec in self.bus.replay(EXECUTION_REPORTS, 0):
            rep = rec.value
            if isinstance(rep, ExecutionReport):
                self._book(rep, learn=False)
        if self._order_file is not None and self._order_file.is_file():
            for line in self._order_file.read_text(encoding="utf-8").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # a line torn by the crash
                entry = self.orders.get(row.get("intent_id", ""))
                if entry is None:
                    continue
                if row.get("risk_rejected"):
                    entry.risk_rejected = row["risk_rejected"]
                entry.submitted_at = datetime.fromisoformat(row["submitted_at"])
                if row.get("acknowledged_at"):
                    entry.acknowledged_at = datetime.fromisoformat(row["acknowledged_at"])
                entry.latency_ms = row.get("latency_ms")
                if entry.latency_ms is not None:
                    self.latencies_ms.append(float(entry.latency_ms))
                self.handled.add(row["intent_id"])
        try:
            executions = await self.broker.executions()
        except BrokerError as exc:
            self.log.log("recover_executions_failed", "error", error=str(exc))
            return
        for ex in executions:
            if ex.intent_id is None or ex.exec_id in self.reported_execs:
                continue
            entry = self.orders.get(ex.intent_id)
            if entry is None:
                continue  # not an order of this session
            qty = entry.intent.quantity
            cum = ex.cum_quantity or (entry.filled_quantity + ex.quantity)
            rep = ExecutionReport(
                event_type="execution_report",
                intent_id=entry.intent.intent_id,
                order_id=ex.order_id,
                symbol=ex.symbol,
                status="FILLED" if cum >= qty else "PARTIAL_FILL",
                filled_quantity=min(cum, qty),
                avg_fill_price=ex.avg_price or ex.price,
                timestamp=ex.time,
                quantity=qty,
                direction=ex.direction,
                exec_id=ex.exec_id,
                last_fill_quantity=ex.quantity,
                last_fill_price=ex.price,
                commission=ex.commission,
            )
            await self._publish(rep)
            self.recovered_fills += 1
        await self.bus.flush()
        self.log.log(
            "recovered", intents=len(self.orders), handled=len(self.handled),
            reported_fills=len(self.reported_execs), recovered_fills=self.recovered_fills,
        )  # fmt: skip

    # ------------------------------------------------------------------ intents
    async def run_intents(self, stop: asyncio.Event) -> None:
        consumer = self.bus.subscribe(ORDER_INTENTS, "order")
        self.intent_consumer = consumer
        try:
            while True:
                records = await consumer.poll(max_messages=100, timeout=0.05)
                if not records:
                    if stop.is_set():
                        break
                    continue
                for rec in records:
                    if isinstance(rec.value, OrderIntent):
                        await self.handle_intent(rec.value, rec.timestamp)
                    await consumer.commit({rec.partition: rec.next_offset})
        finally:
            await consumer.close()

    async def handle_intent(self, intent: OrderIntent, published_at: datetime) -> None:
        iid = str(intent.intent_id)
        self.intents_seen += 1
        entry = self.orders.setdefault(iid, OrderLog(intent))
        if iid in self.handled:
            entry.duplicate_deliveries += 1
            self.duplicates_refused += 1
            self.log.log("duplicate_intent", "warning", intent_id=iid, symbol=intent.symbol)
            return
        halted = self.halt.reason
        refusal = self.checks.check(
            intent,
            last_price=self.last_prices(intent.symbol),
            position=self.positions.get(intent.symbol, 0),
            halted=halted,
            handled=(),
        )
        submitted = self.now_utc()
        if refusal is not None:
            entry.risk_rejected = refusal
            entry.submitted_at = submitted
            self.handled.add(iid)
            self._remember(entry)
            if self.metrics is not None:
                self.metrics.rejects.labels(stage="pretrade").inc()
            self.log.log("pretrade_rejected", "warning", intent_id=iid, symbol=intent.symbol,
                         reason=refusal)  # fmt: skip
            await self._publish(
                ExecutionReport(
                    event_type="execution_report",
                    intent_id=intent.intent_id,
                    order_id=f"risk-{iid[:8]}",
                    symbol=intent.symbol,
                    status="REJECTED",
                    filled_quantity=0,
                    avg_fill_price=0.0,
                    timestamp=submitted,
                    reject_reason=f"pre-trade: {refusal}",
                    quantity=intent.quantity,
                    direction=intent.direction,
                )
            )
            await self.bus.flush()
            return
        self.guard.mark(iid)  # durable before the order leaves: never placed twice
        self.handled.add(iid)
        entry.submitted_at = submitted
        try:
            # a timeout or a dropped connection is retried with backoff; a retry of an order
            # that did reach the broker is answered from its ledger (same intent id), not resent
            handle = await call_with_retry(
                lambda: self.broker.place(intent), retries=self.retries,
                backoff_initial=self.backoff_initial, retry_on=(BrokerTimeout, BrokerNotReady),
            )  # fmt: skip
        except BrokerError as exc:
            entry.risk_rejected = f"broker error: {exc}"
            self._remember(entry)
            if self.metrics is not None:
                self.metrics.rejects.labels(stage="broker").inc()
            self.log.log("place_failed", "error", intent_id=iid, error=str(exc))
            return
        ack = self.now_utc()
        entry.order_id = handle.order_id
        if handle.duplicate:
            self.log.log("broker_known_intent", intent_id=iid, order_id=handle.order_id)
        else:
            entry.acknowledged_at = ack
            if published_at >= self.started_at:
                entry.latency_ms = max(0.0, (ack - published_at).total_seconds() * 1000.0)
                self.latencies_ms.append(entry.latency_ms)
                if self.metrics is not None:
                    self.metrics.intent_to_ack_latency.observe(entry.latency_ms / 1000.0)
            if self.metrics is not None:
                self.metrics.orders.inc()
            self.log.log("order_sent", intent_id=iid, order_id=handle.order_id,
                         symbol=intent.symbol, side=intent.direction, qty=intent.quantity,
                         status=handle.status, latency_ms=entry.latency_ms)  # fmt: skip
        self._remember(entry)
        if self.after_change is not None:
            self.after_change()

    def _remember(self, entry: OrderLog) -> None:
        if self._order_file is None:
            return
        row: dict[str, Any] = {
            "intent_id": str(entry.intent.intent_id),
            "submitted_at": (entry.submitted_at or self.now_utc()).isoformat(),
            "acknowledged_at": entry.acknowledged_at.isoformat() if entry.acknowledged_at else None,
            "latency_ms": entry.latency_ms,
            "risk_rejected": entry.risk_rejected,
        }
        with self._order_file.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")

    # ------------------------------------------------------------------ broker events
    async def run_events(self) -> None:
        async for event in self.broker.events():
            await self.handle_event(event)

    async def handle_event(self, event: BrokerEvent) -> None:
        if event.kind == "connection":
            self.log.log("connection", "warning" if event.code else "info", code=event.code,
                         message=event.message)  # fmt: skip
            return
        if event.kind == "error" and event.code == 100 and self.metrics is not None:
            self.metrics.pacing_violations.inc()
        rep = event.to_execution_report()
        if rep is None:
            if event.kind == "error":
                self.log.log("broker_error", "warning", code=event.code, message=event.message)
            return
        if self.after_change is not None:
            self.after_change()
        await self._publish(rep)
        if rep.status in FINAL or rep.exec_id:
            await self.bus.flush()

    async def _publish(self, rep: ExecutionReport) -> None:
        if rep.exec_id and rep.exec_id in self.reported_execs:
            # the broker re-sent a fill we already reported (e.g. after a reconnect or a
            # recovery): execution ids make the report stream idempotent
            self.log.log(
                "duplicate_fill_ignored", exec_id=rep.exec_id, intent_id=str(rep.intent_id)
            )
            return
        res = await self.bus.publish(EXECUTION_REPORTS, rep, key=rep.symbol)
        if not res.ok:
            self.log.log("report_dead_lettered", "error", intent_id=str(rep.intent_id),
                         errors=[e.message for e in res.errors])  # fmt: skip
            return
        self._book(rep, learn=True)

    def _book(self, rep: ExecutionReport, *, learn: bool) -> None:
        iid = str(rep.intent_id)
        entry = self.orders.get(iid)
        if rep.order_id.startswith("risk-"):
            if entry is not None:
                entry.risk_rejected = (rep.reject_reason or "pre-trade").removeprefix("pre-trade: ")
                entry.status = "REJECTED"
            return
        if entry is None:
            return  # an order that is not ours (e.g. a rollback's closing order)
        new_fill = bool(rep.exec_id) and rep.exec_id not in self.reported_execs
        entry.apply(rep)
        if new_fill and rep.exec_id:
            self.reported_execs.add(rep.exec_id)
            sign = 1 if entry.intent.direction == "BUY" else -1
            qty = int(rep.last_fill_quantity or 0)
            self.positions[rep.symbol] = self.positions.get(rep.symbol, 0) + sign * qty
            if self.metrics is not None:
                self.metrics.fills.inc()
            if learn and rep.last_fill_price:
                slip = self.learner.observe(
                    entry.intent.direction, float(rep.last_fill_price), entry.intent.decision_price
                )
                if slip is not None:
                    self.feedback.publish(self.learner.turnover_penalty, self.learner.cost_fraction)
        if rep.status == "REJECTED" and self.metrics is not None:
            self.metrics.rejects.labels(stage="broker").inc()

    # ------------------------------------------------------------------ end of session
    def quiet(self) -> bool:
        """Every intent published so far is handled (committed) and no order is working."""
        consumer = self.intent_consumer
        if consumer is None or not consumed(self.bus, ORDER_INTENTS, consumer):
            return False
        return not self.working()

    def working(self) -> list[OrderLog]:
        return [
            o for o in self.orders.values()
            if o.risk_rejected is None and o.order_id is not None and o.status not in FINAL
        ]  # fmt: skip

    async def settle(self, timeout: float) -> None:
        """Wait (wall seconds) until no order of the session is working, then cancel the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.working() and loop.time() < deadline:
            settle = getattr(self.broker, "settle", None)
            if settle is not None:
                await settle()
            await asyncio.sleep(0.02)
        for entry in self.working():
            if entry.order_id is None:
                continue
            with contextlib.suppress(BrokerError):
                await self.broker.cancel(entry.order_id)
            self.log.log("cancelled_at_end", intent_id=str(entry.intent.intent_id))
        if self.working():
            await asyncio.sleep(0.1)
        await self.bus.flush()


def consumed(bus: Bus, topic: str, consumer: Consumer) -> bool:
    """The consumer's group has committed every record of ``topic`` published so far."""
    return all(
        consumer.committed(p) >= bus.end_offset(topic, p) for p in range(bus.partitions(topic))
    )


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), ``None`` for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
