"""Sign-offs count only while the config, strategy and signed artifacts are unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.config import AppConfig, load_config
from gates.governance import GovernanceError, check_signoffs, sign, strategy_hash


def clock() -> datetime:
    return datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def sign_all(directory: Path, config: AppConfig, artifacts: tuple[Path, ...] = ()) -> None:
    for role, name in (("risk_officer", "Ada"), ("cto", "Brian"), ("lead_trader", "Chen")):
        sign(directory, role=role, name=name, config=config, clock=clock, artifacts=artifacts)


def test_all_roles_signed_is_valid(tmp_path: Path) -> None:
    config = load_config(None, {})
    sign_all(tmp_path, config)
    states = check_signoffs(tmp_path, config)
    assert [s.role for s in states] == ["risk_officer", "cto", "lead_trader"]
    assert all(s.valid for s in states)


def test_missing_role_says_how_to_sign(tmp_path: Path) -> None:
    config = load_config(None, {})
    sign(tmp_path, role="cto", name="Brian", config=config, clock=clock)
    states = {s.role: s for s in check_signoffs(tmp_path, config)}
    assert states["cto"].valid
    assert not states["risk_officer"].valid
    assert "governance sign --role risk_officer" in (states["risk_officer"].reason or "")


def test_config_change_makes_signoffs_stale(tmp_path: Path) -> None:
    config = load_config(None, {})
    sign_all(tmp_path, config)
    changed = config.with_overrides({"broker.port": 4001})
    states = check_signoffs(tmp_path, changed, config_source="prod.yaml")
    assert not any(s.valid for s in states)
    assert all(
        "config changed" in (s.reason or "") and "prod.yaml" in (s.reason or "") for s in states
    )


def test_strategy_change_is_named_as_such(tmp_path: Path) -> None:
    config = load_config(None, {})
    sign_all(tmp_path, config)
    changed = config.with_overrides({"portfolio.lambda_init": 0.01})
    assert strategy_hash(changed) != strategy_hash(config)
    assert all(
        "strategy parameters changed" in (s.reason or "") for s in check_signoffs(tmp_path, changed)
    )


def test_signed_artifact_tampering_is_detected(tmp_path: Path) -> None:
    config = load_config(None, {})
    artifact = tmp_path / "ACCOUNT_CONFIG.json"
    artifact.write_text('{"a": 1}')
    sign_all(tmp_path, config, (artifact,))
    assert all(s.valid for s in check_signoffs(tmp_path, config))
    artifact.write_text('{"a": 2}')
    states = check_signoffs(tmp_path, config)
    assert all(not s.valid and "ACCOUNT_CONFIG.json changed" in (s.reason or "") for s in states)


def test_latest_signoff_per_role_counts(tmp_path: Path) -> None:
    config = load_config(None, {})
    sign_all(tmp_path, config)
    changed = config.with_overrides({"broker.port": 4001})
    sign_all(tmp_path, changed)
    assert all(s.valid for s in check_signoffs(tmp_path, changed))


def test_unknown_role_and_empty_name_are_refused(tmp_path: Path) -> None:
    config = load_config(None, {})
    with pytest.raises(GovernanceError, match="unknown role 'ceo'"):
        sign(tmp_path, role="ceo", name="X", config=config, clock=clock)
    with pytest.raises(GovernanceError, match="name"):
        sign(tmp_path, role="cto", name="  ", config=config, clock=clock)
