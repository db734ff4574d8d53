"""Order plane against the simulated broker on the embedded bus: reports for every state change,
pre-trade refusals as REJECTED reports, a redelivered intent never placed twice, cost learning."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.messages import ExecutionReport, OrderIntent
from contracts.topics import EXECUTION_REPORTS
from engine.broker.clock import SystemClock
from engine.broker.pacing import PacingLimiter
from engine.broker.sim_exchange import ExchangeConfig, SimExchange, SymbolSpec
from engine.broker.simulated import SimulatedBroker
from engine.bus import IdempotencyGuard, open_bus
from engine.config import BusConfig, RiskConfig
from engine.planes.costs import CostLearner
from engine.planes.jsonlog import PlaneLog
from engine.planes.order_plane import OrderPlane
from engine.planes.pretrade import PreTradeChecks
from engine.planes.state import CostFeedback, HaltState

pytestmark = pytest.mark.integration

T = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def intent(symbol: str, side: str, qty: int, price: float = 100.0) -> OrderIntent:
    return OrderIntent.model_validate({
        "event_type": "order_intent", "intent_id": str(uuid.uuid4()), "symbol": symbol,
        "direction": side, "quantity": qty, "order_type": "MARKET", "decision_price": price,
        "timestamp": T,
    })  # fmt: skip


async def scenario(tmp: Path) -> tuple[OrderPlane, list[ExecutionReport], SimExchange]:
    clock = SystemClock()
    exchange = SimExchange(
        ExchangeConfig(seed=1),
        [SymbolSpec("AAPL", 100.0, half_spread_bps=5.0), SymbolSpec("MSFT", 100.0)],
        now=clock.now(),
    )
    broker = SimulatedBroker(exchange, clock=clock, pacer=PacingLimiter(45, 1, clock=clock))
    bus = open_bus(BusConfig(journal="none"), tmp)
    await bus.start()
    await broker.connect()
    feedback = CostFeedback()
    plane = OrderPlane(
        bus, broker,
        checks=PreTradeChecks(RiskConfig(max_order_notional=50_000.0), frozenset({"AAPL", "MSFT"})),
        guard=IdempotencyGuard(tmp / "keys"), learner=CostLearner(prior=0.0, lambda_=5e-4, alpha=0.5),
        feedback=feedback, halt=HaltState(), log=PlaneLog("order_plane", None),
        last_prices={"AAPL": 100.0, "MSFT": 100.0}.get,
    )  # fmt: skip
    events = asyncio.create_task(plane.run_events())
    ok, big = intent("AAPL", "BUY", 100), intent("MSFT", "BUY", 600)
    await plane.handle_intent(ok, datetime.now(UTC))
    await plane.handle_intent(ok, datetime.now(UTC))  # redelivered after a crash
    await plane.handle_intent(big, datetime.now(UTC))
    await plane.settle(2.0)
    events.cancel()
    reports = [r.value async for r in bus.replay(EXECUTION_REPORTS, 0)]
    await broker.close()
    await bus.close()
    assert feedback.updates == 1
    return plane, [r for r in reports if isinstance(r, ExecutionReport)], exchange


def test_order_plane_reports_every_state_change(tmp_path: Path) -> None:
    plane, reports, exchange = asyncio.run(scenario(tmp_path))
    placed = [o for o in exchange.orders() if o.order_ref]
    assert len(placed) == 1, "the redelivered intent must not reach the broker again"
    by_status = [r.status for r in reports if r.symbol == "AAPL"]
    assert by_status[0] == "SUBMITTED" and by_status[-1] == "FILLED"
    fills = [r for r in reports if r.exec_id]
    assert sum(r.last_fill_quantity or 0 for r in fills) == 100
    refused = [r for r in reports if r.symbol == "MSFT"]
    assert len(refused) == 1 and refused[0].status == "REJECTED"
    assert refused[0].order_id.startswith("risk-")
    assert "order notional 60,000 exceeds the cap 50,000" in (refused[0].reject_reason or "")
    assert plane.duplicates_refused == 1
    assert plane.positions == {"AAPL": 100}
    # bought at the ask, 5 bps above the decision price: the learner saw it
    assert plane.learner.last_slippage == pytest.approx(5e-4, rel=1e-6)
    assert len(plane.latencies_ms) == 1 and plane.latencies_ms[0] >= 0


class _FlakyBroker(SimulatedBroker):
    """The simulated broker whose first placement times out after the order went out
    (the answer was lost): the retry must not place it a second time."""

    timeouts = 0

    async def place(self, intent: OrderIntent):  # type: ignore[no-untyped-def]
        handle = await super().place(intent)
        if self.timeouts == 0:
            self.timeouts += 1
            from engine.broker.types import BrokerTimeout

            raise BrokerTimeout("no answer within 10 s")
        return handle


def test_a_timed_out_placement_is_retried_without_a_second_order(tmp_path: Path) -> None:
    async def run() -> tuple[OrderPlane, SimExchange]:
        clock = SystemClock()
        exchange = SimExchange(ExchangeConfig(seed=2), [SymbolSpec("AAPL", 100.0)], now=clock.now())
        broker = _FlakyBroker(exchange, clock=clock, pacer=PacingLimiter(45, 1, clock=clock))
        bus = open_bus(BusConfig(journal="none"), tmp_path)
        await bus.start()
        await broker.connect()
        plane = OrderPlane(
            bus, broker, checks=PreTradeChecks(RiskConfig(), frozenset({"AAPL"})),
            guard=IdempotencyGuard(None), learner=CostLearner(prior=0.0, lambda_=5e-4),
            feedback=CostFeedback(), halt=HaltState(), log=PlaneLog("order_plane", None),
            last_prices=lambda _s: 100.0, retries=3, backoff_initial=0.01,
        )  # fmt: skip
        await plane.handle_intent(intent("AAPL", "BUY", 10), datetime.now(UTC))
        await broker.close()
        await bus.close()
        return plane, exchange

    plane, exchange = asyncio.run(run())
    assert len(exchange.orders()) == 1
    entry = next(iter(plane.orders.values()))
    assert entry.order_id is not None and entry.risk_rejected is None
