"""The live guard fails closed: live orders need a valid GO; emergencies need confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

from artifacts.models.base import utc_now
from engine.config import AppConfig, load_config
from gates.governance import config_hash, sign
from gates.live_guard import check_live_guard, go_decision_status

pytestmark = [pytest.mark.unit, pytest.mark.stage8]


def test_paper_is_allowed(tmp_path: Path) -> None:
    d = check_live_guard(
        trading_mode="paper", command="paper-session", emergency=False, live_confirmed=False,
        prelive_dir=tmp_path,
    )  # fmt: skip
    assert d.allowed


def test_live_without_go_decision_is_refused(tmp_path: Path) -> None:
    d = check_live_guard(
        trading_mode="live", command="paper-session", emergency=False, live_confirmed=True,
        prelive_dir=tmp_path,
    )  # fmt: skip
    assert not d.allowed and "does not exist" in d.reason


def test_invalid_go_decision_is_refused(tmp_path: Path) -> None:
    (tmp_path / "GO_LIVE_DECISION_GATE.md").write_text("---\ndecision: GO\n---\nGO!\n")
    status = go_decision_status(tmp_path)
    assert not status.valid and "invalid" in status.reason
    d = check_live_guard(
        trading_mode="live", command="place", emergency=False, live_confirmed=True,
        prelive_dir=tmp_path,
    )  # fmt: skip
    assert not d.allowed


def test_live_emergency_needs_confirmation(tmp_path: Path) -> None:
    kwargs = {"trading_mode": "live", "command": "flatten", "emergency": True,
              "prelive_dir": tmp_path}  # fmt: skip
    assert not check_live_guard(live_confirmed=False, **kwargs).allowed  # type: ignore[arg-type]
    assert check_live_guard(live_confirmed=True, **kwargs).allowed  # type: ignore[arg-type]


def _write_go(
    prelive: Path, pinned: Path, decision: str = "GO", config: AppConfig | None = None
) -> None:
    from artifacts.io import sha256_file, write_artifact
    from artifacts.models.base import ArtifactRef, Evidence, tool_version, utc_now
    from artifacts.models.gate_common import GateHeader
    from artifacts.models.go_live_decision import (
        CapitalStage,
        DrillEvidence,
        GateSummary,
        GoLiveDecision,
        SignoffCheck,
    )

    h = config_hash(config) if config is not None else "a" * 64
    ref = ArtifactRef(name=pinned.name, path=pinned.name, sha256=sha256_file(pinned),
                      bytes=pinned.stat().st_size)  # fmt: skip
    model = GoLiveDecision(
        generated_at=utc_now(), tool_version=tool_version(), decision=decision,
        reasons=("all gates passed",),
        gate=GateHeader(number=8, name="go-live", verdict="PASS", config_hash=h,
                        evidence=(Evidence(condition="all", measured=True, passed=True),)),
        gates=tuple(GateSummary(number=n, name=f"gate {n}", verdict="PASS",
                                artifacts=(ref,) if n == 6 else (), unchanged=True)
                    for n in range(1, 8)),
        rollback_drill=DrillEvidence(kind="rollback", ran=True, passed=True),
        kill_switch_drill=DrillEvidence(kind="kill_switch", ran=True, passed=True),
        signoffs=tuple(SignoffCheck(role=r, name="A. Person", signed_at=utc_now(), valid=True)
                       for r in ("risk_officer", "cto", "lead_trader")),
        capital_stage=CapitalStage(name="pilot", capital_fraction=0.1, capital=10_000.0,
                                   max_position=2_500.0, weeks=1),
        config_hash=h,
    )  # fmt: skip
    write_artifact(prelive / "GO_LIVE_DECISION_GATE.md", model)


def _signed_config(prelive: Path) -> AppConfig:
    config = load_config(None, {})
    for role in config.gates.required_roles:
        sign(prelive, role=role, name=f"A. {role}", config=config, clock=utc_now)
    return config


def test_valid_go_allows_live_orders_until_a_pinned_artifact_changes(tmp_path: Path) -> None:
    pinned = tmp_path / "ACCOUNT_CONFIG.json"
    pinned.write_text('{"pinned": true}\n')
    config = _signed_config(tmp_path)
    _write_go(tmp_path, pinned, config=config)
    kwargs = {"trading_mode": "live", "command": "paper-session", "emergency": False,
              "live_confirmed": False, "prelive_dir": tmp_path, "config": config}  # fmt: skip
    allowed = check_live_guard(**kwargs)  # type: ignore[arg-type]
    assert allowed.allowed and allowed.go is not None and allowed.go.stage == "pilot"
    pinned.write_text('{"pinned": false}\n')  # the artifact the GO covered has changed
    refused = check_live_guard(**kwargs)  # type: ignore[arg-type]
    assert not refused.allowed and "changed" in refused.reason


def test_go_does_not_count_without_the_config_in_force(tmp_path: Path) -> None:
    pinned = tmp_path / "ACCOUNT_CONFIG.json"
    pinned.write_text('{"pinned": true}\n')
    config = _signed_config(tmp_path)
    _write_go(tmp_path, pinned, config=config)
    assert go_decision_status(tmp_path, config).valid
    status = go_decision_status(tmp_path)
    assert not status.valid and "without the config" in status.reason


def test_config_change_after_go_refuses_live_orders(tmp_path: Path) -> None:
    pinned = tmp_path / "ACCOUNT_CONFIG.json"
    pinned.write_text('{"pinned": true}\n')
    config = _signed_config(tmp_path)
    _write_go(tmp_path, pinned, config=config)
    changed = config.with_overrides({"risk.max_order_notional": 1_000_000.0})
    d = check_live_guard(
        trading_mode="live", command="paper-session", emergency=False, live_confirmed=False,
        prelive_dir=tmp_path, config=changed,
    )  # fmt: skip
    assert not d.allowed and "config changed since the GO decision" in d.reason


def test_stale_signoff_refuses_live_orders_even_with_an_unchanged_config(tmp_path: Path) -> None:
    pinned = tmp_path / "ACCOUNT_CONFIG.json"
    pinned.write_text('{"pinned": true}\n')
    reviewed = tmp_path / "REVIEWED.json"
    reviewed.write_text("{}\n")
    config = load_config(None, {})
    for role in config.gates.required_roles:
        sign(tmp_path, role=role, name="A", config=config, clock=utc_now, artifacts=(reviewed,))
    _write_go(tmp_path, pinned, config=config)
    assert go_decision_status(tmp_path, config).valid
    reviewed.write_text('{"edited": true}\n')
    status = go_decision_status(tmp_path, config)
    assert not status.valid and "sign-offs no longer valid" in status.reason
