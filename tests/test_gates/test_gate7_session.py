"""Gate 7 runs the real paper session (planes core) on the simulated broker, accelerated."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifacts.io import read_artifact, read_csv_artifact
from artifacts.models.latency_baseline import LatencyBaseline
from artifacts.models.paper_trading_log import PaperTradingLog
from artifacts.models.paper_trading_metrics import PaperTradingMetricsRow
from engine.config import load_config
from gates.g7_paper_trading import PaperTradingGate
from tests.test_gates.support import context

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_short_real_session_records_a_baseline_and_is_not_judged_below_min_trades(
    tmp_path: Path,
) -> None:
    config = load_config(None, {}).with_overrides({"paths.state": str(tmp_path / "state")})
    out = tmp_path / "prelive"
    result = PaperTradingGate().run(
        context(out, config, session_speed=3000.0, session_hours=0.5, run_session=True)
    )
    ran = result.evidence[0]
    assert ran.condition == "paper session ran" and ran.passed
    assert "mock baseline recorded" in str(ran.measured)
    log = read_artifact(out / "PAPER_TRADING_LOG.json", PaperTradingLog)
    baseline = read_artifact(out / "LATENCY_BASELINE.json", LatencyBaseline)
    rows = read_csv_artifact(out / "PAPER_TRADING_METRICS.csv", PaperTradingMetricsRow)
    assert log.session.broker_kind == "sim" and log.session.clock_speed == 3000.0
    assert baseline.broker_kind == "sim" and rows
    assert log.summary.baseline is not None
    assert log.summary.baseline.p95_ms == pytest.approx(baseline.p95_ms)
    judged = [e for e in result.evidence if e.condition == "at least 50 trades to judge"]
    assert judged and judged[0].measured == log.summary.trades
    if log.summary.trades < 50:  # half an hour of session: too few trades to judge
        assert result.verdict == "FAIL" and not judged[0].passed
        assert "refusing to judge" in (judged[0].detail or "")
    assert {a.name for a in result.artifacts} == {
        "PAPER_TRADING_LOG.json", "PAPER_TRADING_METRICS.csv", "LATENCY_BASELINE.json",
    }  # fmt: skip


def test_a_latched_kill_switch_refuses_the_session_and_old_files_are_not_judged(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime

    from engine.risk.kill_switch import FileLatchStore, KillSwitchBank
    from tests.test_gates.support import write_paper_session

    state = tmp_path / "state"
    config = load_config(None, {}).with_overrides({"paths.state": str(state)})
    bank = KillSwitchBank(config.kill_switch, FileLatchStore(state / "kill_switch_latch.json"))
    bank.evaluate(-0.2, 0.0, float("nan"), 1, datetime.now(UTC))
    assert bank.halted
    out = tmp_path / "prelive"
    write_paper_session(out)  # a good, older session that must not be judged instead
    result = PaperTradingGate().run(context(out, config, session_hours=0.1, run_session=True))
    [failed] = result.evidence
    assert result.verdict == "FAIL" and failed.condition == "paper session ran"
    assert "kill-switch latch" in str(failed.measured)
