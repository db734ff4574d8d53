"""The broker commands' core against the simulated broker: guard, confirmation, operations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.broker.factory import BrokerChoice
from engine.config import AppConfig
from gates import broker_ops
from gates.broker_ops import Confirmation, ProbeRun, Stopped

pytestmark = [pytest.mark.integration, pytest.mark.broker]


def _cfg(tmp_path: Path) -> AppConfig:
    return AppConfig().with_overrides(
        {"paths.state": str(tmp_path / "state"), "paths.prelive": str(tmp_path / "prelive")}
    )


def _confirm(*, yes: bool = False, live: str | None = None, paper: bool = False) -> Confirmation:
    return Confirmation(yes=yes, confirm_live=live, ask_paper=lambda _prompt: paper)


def test_bad_broker_options_stop_as_a_usage_error(tmp_path: Path) -> None:
    got = broker_ops.probe(_cfg(tmp_path), BrokerChoice(kind="nope"))
    assert isinstance(got, Stopped) and got.reason == "usage"
    assert got.message == "error: --broker 'nope' is not a broker; use sim or ib"


def test_probe_builds_the_account_config_and_saves_the_sim_state(tmp_path: Path) -> None:
    state = tmp_path / "acct.json"
    run = broker_ops.probe(_cfg(tmp_path), BrokerChoice(sim_positions=2, sim_state=state))
    assert isinstance(run, ProbeRun)
    assert run.model.connected and run.model.positions_count == 2
    assert run.model.account_id_masked == "DU****567"
    assert json.loads(state.read_text())  # the account is kept for the next command
    again = broker_ops.probe(_cfg(tmp_path), BrokerChoice(sim_orders=1, sim_state=state))
    assert isinstance(again, Stopped) and again.reason == "usage"
    assert "already holds a simulated account" in again.message


def test_paper_needs_a_yes_and_asks_otherwise(tmp_path: Path) -> None:
    choice = BrokerChoice(sim_orders=2)
    refused = broker_ops.cancel_all(_cfg(tmp_path), choice, _confirm(paper=False))
    assert isinstance(refused, Stopped) and refused.reason == "refused"
    assert "needs confirmation" in refused.message
    done = broker_ops.cancel_all(_cfg(tmp_path), choice, _confirm(paper=True))
    assert not isinstance(done, Stopped)
    assert done.verified and len(done.cancelled) == 2


def test_live_needs_the_account_id_typed_or_given(tmp_path: Path) -> None:
    live = BrokerChoice(account="U7654321", sim_positions=1)
    refused = broker_ops.flatten(_cfg(tmp_path), live, _confirm(yes=True))
    assert isinstance(refused, Stopped) and refused.reason == "refused"
    asked: list[str] = []

    def ask_live(prompt: str) -> str:
        asked.append(prompt)
        return "U7654321"

    typed = Confirmation(yes=False, confirm_live=None, ask_paper=lambda _: False, ask_live=ask_live)
    done = broker_ops.flatten(_cfg(tmp_path), live, typed)
    assert asked == ["LIVE account. Type the account id to flatten"]
    assert not isinstance(done, Stopped) and done.verified and len(done.orders) == 1


def test_rollback_returns_the_report_and_sets_the_halt_flag(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    report = broker_ops.rollback(
        cfg, BrokerChoice(sim_positions=2, sim_orders=3), _confirm(yes=True), trigger="drill",
        reason="test",
    )  # fmt: skip
    assert not isinstance(report, Stopped)
    assert report.verdict == "FLAT" and report.trigger == "drill" and report.reason == "test"
    assert len(report.orders_cancelled) == 3 and all(o.confirmed for o in report.orders_cancelled)
    assert (tmp_path / "state" / "HALT").exists()
    assert report.halt_flag_path == str(tmp_path / "state" / "HALT")
