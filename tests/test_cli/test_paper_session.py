"""``algotrade paper-session``: artifacts written and valid, --json summary, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from artifacts.io import read_artifact
from artifacts.models.latency_baseline import LatencyBaseline
from artifacts.models.paper_trading_log import PaperTradingLog
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration

CONFIG = """
market: {years: 1.2, n_assets: 12}
regime: {enabled: false}
session: {metrics_port: 0}
paths: {state: STATE}
"""


def _config(tmp: Path) -> Path:
    path = tmp / "config.yaml"
    path.write_text(CONFIG.replace("STATE", str(tmp / "state")))
    return path


def test_sim_session_writes_valid_artifacts_and_json(tmp_path: Path) -> None:
    out = tmp_path / "prelive"
    res = run_cli(
        "--config", str(_config(tmp_path)), "paper-session", "--broker", "sim", "--speed", "5000",
        "--duration", "0.25", "--record-baseline", "--out", str(out), "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["status"] == "completed" and summary["pacing_violations"] == 0
    assert summary["trades"] > 0 and summary["fill_rate"] == 1.0
    assert summary["latency_delta"] == 0.0
    log = read_artifact(out / "PAPER_TRADING_LOG.json", PaperTradingLog)
    assert log.summary.trades == summary["trades"] and log.session.broker_kind == "sim"
    assert log.summary.baseline is not None and log.summary.baseline.source is not None
    base = read_artifact(out / "LATENCY_BASELINE.json", LatencyBaseline)
    assert base.samples == summary["latency_ms"]["samples"]
    assert (out / "PAPER_TRADING_METRICS.csv").read_text().count("\n") >= 2

    # a second session compares against the recorded baseline
    again = run_cli(
        "--config", str(_config(tmp_path)), "paper-session", "--speed", "5000",
        "--duration", "0.1", "--out", str(out), "--json",
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["baseline_ms"]["p95"] == pytest.approx(base.p95_ms)
    assert second["latency_delta"] is not None


def test_resume_without_a_session_is_a_usage_error(tmp_path: Path) -> None:
    res = run_cli(
        "--config", str(_config(tmp_path)), "paper-session", "--resume", "--out",
        str(tmp_path / "empty"),
    )  # fmt: skip
    assert res.exit_code == 2
    assert "nothing to resume" in res.stderr


def test_record_baseline_needs_the_simulated_broker(tmp_path: Path) -> None:
    res = run_cli("--config", str(_config(tmp_path)), "paper-session", "--broker", "ib",
                  "--record-baseline")  # fmt: skip
    assert res.exit_code == 2 and "--broker sim" in res.stderr


def test_unreachable_gateway_exits_3(tmp_path: Path) -> None:
    res = run_cli(
        "--config", str(_config(tmp_path)), "paper-session", "--broker", "ib", "--port", "1",
        "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert res.exit_code == 3, res.stderr
    assert "unreachable" in res.stderr


def test_dashboard_and_summary_render(capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from algotrade_cli.render.paper import SessionDashboard, render_summary
    from engine.planes.session import MetricSample

    sample = MetricSample(
        timestamp=datetime(2024, 1, 2, 15, tzinfo=UTC), net_liquidation=1_001_000.0, pnl=1000.0,
        pnl_fraction=0.001, drawdown=0.002, psr=None, orders=3, fills=4, fill_rate=1.0,
        latency_p50_ms=1.5, latency_p95_ms=2.5, latency_p99_ms=3.0, pacing_violations=0,
        gross_exposure=1.2, kill_switch_state="OK",
    )  # fmt: skip
    board = SessionDashboard()
    board.update({"at": sample.timestamp, "bar": 5, "bars": 360, "sample": sample,
                  "positions": {"AAPL": 10}, "intents": 3, "halt": None, "cost": 0.0002,
                  "stale": ()})  # fmt: skip
    render_summary({
        "session_id": "paper-x", "status": "completed", "intents": 3, "orders": 3, "trades": 3,
        "fill_rate": 1.0, "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": 3.0},
        "baseline_ms": {"p50": 1.0, "p95": 1.6, "p99": 2.0}, "latency_delta": 0.25,
        "pacing_violations": 0, "pnl": 12.5, "max_drawdown": 0.001, "sharpe_paper": 1.2,
        "sharpe_backtest": 2.0, "psr": None, "dlq": {"dlq_market_events": 2},
        "wall_seconds": 1.0, "speed": 360.0, "kill_switch": [], "warnings": ["w1"],
        "artifacts": {"log": "L.json", "metrics": "M.csv", "baseline": None},
    })  # fmt: skip
    out = capsys.readouterr().out
    assert "+25.0%" in out and "paper-x" in out and "warning: w1" in out and "L.json" in out
