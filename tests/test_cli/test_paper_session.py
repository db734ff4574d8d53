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
