"""Stage 7: paper trading over the TWS API — the order path gate 7 judges.

Against the simulated IB gateway by default (in-process, free loopback port), or a real IB paper
Gateway when ``ALGOTRADE_IB_PORT`` is set: a burst of paced one-share market orders through
``IBBroker`` must fill (> 98 %) with zero pacing violations, every fill carrying its intent id
and an execution id; gate 7 runs a short accelerated paper session (the planes' core) over the
same connection, compared with the mock baseline; and gate 7 judges a finished session's artifacts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.messages import OrderIntent
from engine.broker.clock import SystemClock
from engine.broker.pacing import PacingLimiter
from engine.config import load_config
from gates.g7_paper_trading import PaperTradingGate
from tests.test_gates.gateway import ib_endpoint
from tests.test_gates.support import context, paper_log, write_paper_session

pytestmark = [pytest.mark.stage7, pytest.mark.integration]

ORDERS = 60


def _intent(symbol: str, direction: str) -> OrderIntent:
    return OrderIntent.model_validate(
        {
            "event_type": "order_intent", "intent_id": str(uuid.uuid4()), "symbol": symbol,
            "direction": direction, "quantity": 1, "order_type": "MARKET",
            "timestamp": datetime.now(UTC),
        }
    )  # fmt: skip


async def _burst(host: str, port: int, client_id: int) -> tuple[int, int, list[float], int, int]:
    from engine.broker.ib import IBBroker

    cfg = load_config(None, {})
    clock = SystemClock()
    broker = IBBroker(
        host=host, port=port, client_id=client_id, readonly=False, timeout=5.0,
        pacer=PacingLimiter(cfg.pacing.rate, cfg.pacing.burst, clock=clock), clock=clock,
    )  # fmt: skip
    await broker.connect()
    sent: dict[str, float] = {}
    filled: dict[str, float] = {}

    async def watch() -> None:
        async for event in broker.events():
            if event.status == "FILLED" and event.intent_id and event.intent_id in sent:
                filled.setdefault(event.intent_id, time.perf_counter())

    watcher = asyncio.create_task(watch())
    try:
        for i in range(ORDERS):
            intent = _intent(("AAPL", "MSFT")[i % 2], ("BUY", "SELL")[(i // 2) % 2])
            sent[str(intent.intent_id)] = time.perf_counter()
            await broker.place(intent)
        deadline = time.perf_counter() + 15
        while len(filled) < ORDERS and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        executions = [e for e in await broker.executions() if e.intent_id in sent]
        latencies = sorted((filled[k] - sent[k]) * 1000 for k in filled)
        return len(sent), len(filled), latencies, broker.pacing_violations.count, len(executions)
    finally:
        watcher.cancel()
        await broker.close()


def test_paced_orders_over_the_tws_api_fill_without_pacing_violations() -> None:
    with ib_endpoint(seed=5) as ep:
        submitted, filled, latencies, violations, executions = asyncio.run(
            asyncio.wait_for(_burst(ep.host, ep.port, ep.client_id + 1), 40)
        )
    assert submitted == ORDERS
    assert violations == 0
    assert filled / submitted > 0.98
    assert executions >= filled  # every fill has an execution carrying our intent id
    assert latencies and latencies[len(latencies) // 2] < 5_000  # ms: a fill, not a timeout


def test_gate7_passes_a_good_session_and_fails_one_with_a_pacing_violation(
    tmp_path: Path,
) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    write_paper_session(good)
    write_paper_session(bad, paper_log(pacing_violations=1))
    assert PaperTradingGate().run(context(good, run_session=False)).verdict == "PASS"
    result = PaperTradingGate().run(context(bad, run_session=False))
    [failed] = result.failed_conditions
    assert failed.condition == "pacing_violations == 0" and failed.measured == 1


def test_gate7_runs_a_paper_session_over_the_tws_api(tmp_path: Path) -> None:
    from artifacts.io import read_artifact
    from artifacts.models.paper_trading_log import PaperTradingLog

    config = load_config(None, {}).with_overrides({"paths.state": str(tmp_path / "state")})
    out = tmp_path / "prelive"
    with ib_endpoint(seed=9) as ep:
        ctx = context(
            out, config, broker="ib", host=ep.host, port=ep.port, client_id=ep.client_id + 2,
            session_speed=3000.0, session_hours=0.5, run_session=True,
        )  # fmt: skip
        result = PaperTradingGate().run(ctx)
    ran = result.evidence[0]
    assert ran.condition == "paper session ran" and ran.passed, ran
    log = read_artifact(out / "PAPER_TRADING_LOG.json", PaperTradingLog)
    assert log.session.broker_kind == "ib" and log.session.port == ep.port
    assert log.session.trading_mode == "paper"
    assert log.summary.orders_submitted > 0 and log.summary.pacing_violations == 0
    assert log.summary.baseline is not None  # compared with the mock (simulated broker) baseline
    assert (out / "LATENCY_BASELINE.json").is_file() and (
        out / "PAPER_TRADING_METRICS.csv"
    ).is_file()
