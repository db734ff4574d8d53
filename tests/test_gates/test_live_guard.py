"""The live guard fails closed: live orders need a valid GO; emergencies need confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest

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
