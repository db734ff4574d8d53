"""Data → strategy → order → reports through the bus, with valid artifacts; a poisoned stream."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifacts.io import read_artifact, read_csv_artifact
from artifacts.models.paper_trading_log import PaperTradingLog
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow
from contracts.messages import BarEvent, ExecutionReport, OFIEvent, OrderIntent
from contracts.topics import EXECUTION_REPORTS, MARKET_EVENTS, ORDER_INTENTS
from engine.config import AppConfig
from engine.planes.session import run_paper_session
from gates.paper_artifacts import write_session_artifacts
from tests.e2e.conftest import small_params

pytestmark = pytest.mark.e2e


def _journal(out: Path, topic: str) -> list[object]:
    import asyncio

    from engine.bus import open_bus
    from engine.config import BusConfig

    async def read() -> list[object]:
        bus = open_bus(BusConfig(), out / "session")
        await bus.start()
        values = [r.value async for r in bus.replay(topic, 0)]
        await bus.close()
        return values

    return asyncio.run(read())


def test_three_planes_end_to_end(cfg: AppConfig, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_paper_session(
        cfg, out_dir=out, speed=5000.0, duration_hours=0.5, params=small_params(),
        record_baseline=True,
    )  # fmt: skip
    assert result.status == "completed", result.message
    market = _journal(out, MARKET_EVENTS)
    intents = [v for v in _journal(out, ORDER_INTENTS) if isinstance(v, OrderIntent)]
    reports = [v for v in _journal(out, EXECUTION_REPORTS) if isinstance(v, ExecutionReport)]
    bars = [v for v in market if isinstance(v, BarEvent)]
    assert len(bars) == 30 * 12 and sum(isinstance(v, OFIEvent) for v in market) == 30 * 12
    assert intents, "the strategy plane produced no intent"
    assert len({i.intent_id for i in intents}) == len(intents)
    # every intent was answered, every submitted order ended FILLED, fills add up
    answered = {r.intent_id for r in reports}
    assert {i.intent_id for i in intents} <= answered
    for i in intents:
        mine = [r for r in reports if r.intent_id == i.intent_id]
        if mine[-1].order_id.startswith("risk-"):
            continue
        assert mine[-1].status == "FILLED"
        assert sum(r.last_fill_quantity or 0 for r in mine if r.exec_id) == i.quantity
    assert result.fill_rate == 1.0 and result.pacing_violations == 0
    lat = result.latency()
    assert lat is not None and 0 < lat.p50_ms <= lat.p95_ms <= lat.p99_ms
    assert result.latency_delta == 0.0  # compared with the baseline it recorded
    # one sample per bar the monitor could reach at this speed (every bar at 360×), plus the end
    assert 2 <= len(result.samples) <= 31
    assert result.samples[-1].timestamp == result.finished_at
    # the artifacts are written and read back valid
    written = write_session_artifacts(result, out, write_baseline=True)
    log = read_artifact(written.log, PaperTradingLog)
    rows = read_csv_artifact(written.metrics, PaperTradingMetricsRow)
    assert log.summary.intents == len(intents) and log.summary.trades == result.trades
    assert log.metrics_file is not None and len(rows) == len(result.samples)
    assert written.baseline is not None and written.baseline.is_file()
    for plane in ("data_plane", "strategy_plane", "order_plane"):
        assert (out / "logs" / f"{plane}.log").stat().st_size > 0


POISON = [
    b"not json at all",
    b'{"event_type": "bar_event", "symbol": "AAA"}',
    b'{"event_type": "bar_event", "symbol": "AAA", "timestamp": "2024-01-02T15:00:00Z", '
    b'"open": 10, "high": 9, "low": 11, "close": 10, "volume": 1}',
]


def test_poisoned_stream_goes_to_the_dlq_and_the_session_survives(
    cfg: AppConfig, tmp_path: Path
) -> None:
    params = small_params(
        poison={3: POISON[:2], 7: POISON[2:]},
        poison_intents=(b'{"event_type": "order_intent", "quantity": -1}', b"{"),
        poison_reports=(b'{"event_type": "execution_report", "status": "REJECTED"}',),
    )
    out = tmp_path / "out"
    result = run_paper_session(cfg, out_dir=out, speed=5000.0, duration_hours=0.25, params=params)
    assert result.status == "completed", result.message
    assert result.dlq_counts == {
        "dlq_market_events": 3, "dlq_order_intents": 2, "dlq_execution_reports": 1
    }  # fmt: skip
    dead = _journal(out, "dlq_market_events")
    assert len(dead) == 3
    assert result.fill_rate == 1.0 and result.trades > 0
