"""The whole chain 1–8 on the embedded defaults ends GO; tampering afterwards is NO-GO.

Gate 4 runs a small real broker test file, gate 7 judges a finished session's artifacts (put in
place before the run), everything else is the real thing: coverage file, sign-offs, fixtures,
registry, adapter introspection, stage-test collection, account probe, both drills.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from artifacts.io import read_markdown_artifact
from artifacts.models.go_live_decision import GoLiveDecision
from artifacts.models.rollback_procedure import RollbackProcedure
from engine.config import load_config
from gates.g8_go_live import GoLiveGate
from gates.live_guard import check_live_guard, go_decision_status
from gates.runner import run_gates
from tests.test_gates.support import (
    QUICK_BROKER_TESTS,
    context,
    coverage_json,
    sign_all,
    write_paper_session,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def go_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prelive")
    ctx = context(
        out, coverage_report=coverage_json(out.parent / "coverage.json", 85.0),
        broker_test_args=QUICK_BROKER_TESTS, run_session=False,
    )  # fmt: skip
    sign_all(out, ctx.config)
    write_paper_session(out)
    report = run_gates(range(1, 9), ctx)
    assert [r.verdict for r in report.results] == ["PASS"] * 8, [
        (r.number, [(e.condition, e.detail) for e in r.failed_conditions]) for r in report.results
    ]
    return out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _decide(out: Path, **kwargs: object) -> GoLiveDecision:
    GoLiveGate().run(context(out, **kwargs))  # type: ignore[arg-type]
    model, _ = read_markdown_artifact(out / "GO_LIVE_DECISION_GATE.md", GoLiveDecision)
    return model


def test_chain_ends_go_with_stage_caps_and_a_generated_procedure(go_dir: Path) -> None:
    decision, body = read_markdown_artifact(go_dir / "GO_LIVE_DECISION_GATE.md", GoLiveDecision)
    assert decision.decision == "GO"
    assert decision.capital_stage is not None
    assert (decision.capital_stage.name, decision.capital_stage.capital) == ("pilot", 10_000.0)
    assert decision.capital_stage.max_position == 2_500.0
    assert decision.rollback_drill.passed and decision.kill_switch_drill.passed
    assert [s.valid for s in decision.signoffs] == [True, True, True]
    assert "Go-live decision: **GO**" in body
    procedure, text = read_markdown_artifact(go_dir / "ROLLBACK_PROCEDURE.md", RollbackProcedure)
    assert [s.name for s in procedure.steps][:4] == ["STOP", "DISCONNECT", "FLATTEN", "VERIFY"]
    assert procedure.last_drill_seconds is not None and "algotrade rollback --yes" in text
    status = go_decision_status(go_dir, context(go_dir).config)
    assert status.valid and status.stage == "pilot"


def test_one_changed_byte_of_account_config_is_no_go_naming_the_file(
    go_dir: Path, tmp_path: Path
) -> None:
    out = _copy(go_dir, tmp_path / "prelive")
    account = out / "ACCOUNT_CONFIG.json"
    data = bytearray(account.read_bytes())
    data[-2] = ord(" ") if data[-2] != ord(" ") else ord("\t")
    account.write_bytes(bytes(data))
    assert not check_live_guard(
        trading_mode="live", command="paper-session", emergency=False, live_confirmed=False,
        prelive_dir=out, config=context(out).config,
    ).allowed  # the old GO no longer counts  # fmt: skip
    decision = _decide(out)
    assert decision.decision == "NO-GO"
    assert any("ACCOUNT_CONFIG.json" in r and "gate 6" in r for r in decision.reasons)
    [g6] = [g for g in decision.gates if g.number == 6]
    assert not g6.unchanged and g6.changed_files == ("ACCOUNT_CONFIG.json (SHA-256 differs)",)
    assert not go_decision_status(out, context(out).config).valid


def test_config_changed_after_signing_is_no_go_naming_the_config_file(
    go_dir: Path, tmp_path: Path
) -> None:
    out = _copy(go_dir, tmp_path / "prelive")
    cfg_file = tmp_path / "prod.yaml"
    cfg_file.write_text("kill_switch:\n  pnl_halt: -0.04\n")
    changed = load_config(cfg_file, {})
    GoLiveGate().run(context(out, changed, config_source=str(cfg_file)))
    decision, _ = read_markdown_artifact(out / "GO_LIVE_DECISION_GATE.md", GoLiveDecision)
    assert decision.decision == "NO-GO"
    assert all(not s.valid and str(cfg_file) in (s.reason or "") for s in decision.signoffs)
    assert any(str(cfg_file) in r and "changed since gate" in r for r in decision.reasons)


def test_a_later_sign_off_covering_the_session_keeps_go(go_dir: Path, tmp_path: Path) -> None:
    from gates.governance import sign
    from tests.test_gates.support import now

    out = _copy(go_dir, tmp_path / "prelive")
    config = load_config(None, {})
    sign(out, role="cto", name="Brian Tech", config=config, clock=now,
         artifacts=(out / "PAPER_TRADING_LOG.json",))  # fmt: skip
    decision = _decide(out)
    assert decision.decision == "GO", decision.reasons
    [cto] = [s for s in decision.signoffs if s.role == "cto"]
    assert cto.valid
