"""Stage 8: the go-live decision's drills really run, and the decision fails closed.

The rollback drill trades over the TWS API: against the simulated IB gateway by default, or a
real IB paper Gateway when ``ALGOTRADE_IB_PORT`` is set (it opens small positions and resting
orders there, then rolls them back). The kill-switch drill always runs on a simulated broker:
a loss cannot be injected into a real account.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from artifacts.io import read_artifact, read_markdown_artifact
from artifacts.models.go_live_decision import GoLiveDecision
from artifacts.models.rollback_report import RollbackReport
from gates.drills import kill_switch_drill, rollback_drill
from gates.g8_go_live import GoLiveGate
from gates.live_guard import check_live_guard
from tests.test_gates.gateway import ib_endpoint
from tests.test_gates.support import context

pytestmark = [pytest.mark.stage8, pytest.mark.integration]


def test_rollback_drill_over_the_tws_api_ends_flat_within_target(tmp_path: Path) -> None:
    with ib_endpoint() as ep:
        ctx = context(tmp_path, broker="ib", host=ep.host, port=ep.port, client_id=ep.client_id)
        drill = rollback_drill(ctx)
    assert drill.ran and drill.passed, drill.failures
    report = read_artifact(tmp_path / "ROLLBACK_REPORT.json", RollbackReport)
    assert report.broker_kind == "ib" and report.trigger == "drill"
    assert report.verdict == "FLAT" and report.within_target
    assert report.orders_cancelled and report.positions_closed
    assert [s.name for s in report.steps] == ["cancel", "detach", "flatten", "verify"]
    assert report.total_seconds < ctx.config.gates.rollback_target_seconds


def test_kill_switch_drill_halts_flattens_and_stays_latched(tmp_path: Path) -> None:
    drill = kill_switch_drill(context(tmp_path))
    assert drill.ran and drill.passed, drill.failures
    text = " ".join(drill.observations)
    assert "HALT_AND_FLATTEN" in text and "broker reports flat" in text
    assert "still halted on re-open" in text
    assert drill.report is not None and (tmp_path / drill.report.path).is_file()


def test_go_live_without_gates_1_to_7_is_no_go_and_the_live_guard_refuses(
    tmp_path: Path,
) -> None:
    result = GoLiveGate().run(context(tmp_path))
    decision, _ = read_markdown_artifact(tmp_path / "GO_LIVE_DECISION_GATE.md", GoLiveDecision)
    assert result.verdict == "FAIL" and decision.decision == "NO-GO"
    assert [g.verdict for g in decision.gates] == ["MISSING"] * 7
    assert any("gate 7 (Paper trading) passed" in r for r in decision.reasons)
    assert decision.rollback_drill.ran and decision.kill_switch_drill.ran
    guard = check_live_guard(
        trading_mode="live", command="paper-session", emergency=False, live_confirmed=False,
        prelive_dir=tmp_path,
    )  # fmt: skip
    assert not guard.allowed and "NO-GO" in guard.reason
