"""probe-account, cancel-all, flatten and rollback through the real CLI, offline (sim broker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from artifacts.io import read_artifact
from artifacts.models.account_config import AccountConfig
from artifacts.models.rollback_report import RollbackReport
from tests.support.cli import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.broker]


def test_probe_account_offline_writes_a_valid_account_config(in_tmp_dir: Path) -> None:
    result = run_cli("probe-account")
    assert result.exit_code == 0, result.stderr
    model = read_artifact(in_tmp_dir / "prelive" / "ACCOUNT_CONFIG.json", AccountConfig)
    assert model.connected and model.read_only and model.trading_mode == "paper"
    assert model.buying_power and model.buying_power > 0
    assert model.account_id_masked == "DU****567"
    assert "DU1234567" not in (in_tmp_dir / "prelive" / "ACCOUNT_CONFIG.json").read_text()


def test_probe_account_json_output(in_tmp_dir: Path) -> None:
    result = run_cli("probe-account", "--json", "--sim-positions", "3", "--sim-orders", "2")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["positions_count"] == 3 and payload["open_orders_count"] == 2
    assert payload["artifact"].endswith("ACCOUNT_CONFIG.json") and len(payload["sha256"]) == 64


@pytest.mark.stage6
def test_probe_cannot_send_an_order(in_tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe's broker is a read-only connection and it only ever holds a read-only view."""
    import engine.broker.factory as factory
    import engine.broker.operations as operations
    from engine.broker.protocol import ORDER_METHODS

    built: list[Any] = []
    views: list[Any] = []
    real_make, real_probe = factory.make_broker, operations.probe_account

    def spy_make(*args: Any, **kwargs: Any) -> Any:
        broker = real_make(*args, **kwargs)
        built.append(broker)
        return broker

    async def spy_probe(view: Any, **kwargs: Any) -> Any:
        views.append(view)
        for name in ORDER_METHODS:  # whatever the probe is asked, there is nothing to call
            assert not hasattr(view, name)
        return await real_probe(view, **kwargs)

    monkeypatch.setattr(factory, "make_broker", spy_make)
    monkeypatch.setattr(operations, "probe_account", spy_probe)
    result = run_cli("probe-account", "--sim-orders", "5")
    assert result.exit_code == 0, result.stderr
    [broker] = built
    assert broker.readonly and views
    assert broker.order_messages_sent == 0
    assert len(broker.exchange.orders()) == 5  # only the demo's resting orders, none new
    with pytest.raises(Exception, match="read-only"):
        import asyncio

        from tests.test_engine.test_broker.conformance import intent

        asyncio.run(broker.place(intent("DEMO001", "BUY", 1)))


def test_cancel_all_needs_confirmation(in_tmp_dir: Path) -> None:
    refused = run_cli("cancel-all", "--sim-orders", "3", stdin="")
    assert refused.exit_code == 4 and "confirmation" in refused.stderr
    accepted = run_cli("cancel-all", "--sim-orders", "3", "--json", stdin="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    payload = json.loads(accepted.stdout)
    assert payload["verified"] and len(payload["cancelled"]) == 3


def test_flatten_with_limit_collar(in_tmp_dir: Path) -> None:
    result = run_cli("flatten", "--sim-positions", "4", "--limit-collar", "0.01", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["verified"] and len(payload["orders"]) == 4
    assert {o["order_type"] for o in payload["orders"]} == {"LIMIT"}
    assert payload["fills"] >= 4 and payload["remaining"] == []


def test_emergency_commands_on_live_need_explicit_confirmation(in_tmp_dir: Path) -> None:
    refused = run_cli("flatten", "--account", "U7654321", "--sim-positions", "2", "--yes")
    assert refused.exit_code == 4 and "LIVE" in refused.stderr
    wrong = run_cli(
        "flatten", "--account", "U7654321", "--sim-positions", "2", "--confirm-live", "U1"
    )
    assert wrong.exit_code == 4
    ok = run_cli(
        "flatten", "--account", "U7654321", "--sim-positions", "2", "--confirm-live", "U7654321"
    )
    assert ok.exit_code == 0, ok.stderr


def test_unknown_broker_kind_is_a_usage_error(in_tmp_dir: Path) -> None:
    assert run_cli("probe-account", "--broker", "nope").exit_code == 2


@pytest.mark.slow
def test_rollback_50_positions_100_orders_ends_verified_flat(in_tmp_dir: Path) -> None:
    result = run_cli("rollback", "--sim-positions", "50", "--sim-orders", "100", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    report = read_artifact(in_tmp_dir / "prelive" / "ROLLBACK_REPORT.json", RollbackReport)
    assert report.verdict == "FLAT" and report.within_target
    assert [s.name for s in report.steps] == ["cancel", "detach", "flatten", "verify"]
    assert len(report.orders_cancelled) == 100 and all(o.confirmed for o in report.orders_cancelled)
    assert len(report.positions_closed) == 50
    assert all(p.quantity_after == 0 for p in report.positions_closed)
    assert report.pacing_violations == 0 and len(report.fills) >= 50
    assert report.steps[0].messages_sent >= 100 and report.steps[2].messages_sent >= 50
    halt = json.loads((in_tmp_dir / ".algotrade" / "HALT").read_text())
    assert halt["halted"] is True
    assert json.loads(result.stdout)["verdict"] == "FLAT"


def test_probe_exits_1_without_buying_power(in_tmp_dir: Path) -> None:
    result = run_cli("probe-account", "--sim-cash", "0")
    assert result.exit_code == 1
    model = read_artifact(in_tmp_dir / "prelive" / "ACCOUNT_CONFIG.json", AccountConfig)
    assert model.connected and model.buying_power == 0


def test_probe_exits_3_when_the_gateway_is_unreachable(in_tmp_dir: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        result = run_cli("probe-account", "--broker", "ib", "--port", str(port))
    assert result.exit_code == 3, result.stderr
    assert "unreachable" in result.stderr
    model = read_artifact(in_tmp_dir / "prelive" / "ACCOUNT_CONFIG.json", AccountConfig)
    assert not model.connected and model.failure and model.trading_mode == "unknown"


def test_rollback_is_refused_on_live_without_confirmation(in_tmp_dir: Path) -> None:
    result = run_cli("rollback", "--account", "U1111111", "--sim-positions", "1", "--yes")
    assert result.exit_code == 4
    assert not (in_tmp_dir / "prelive" / "ROLLBACK_REPORT.json").exists()


def test_rollback_that_cannot_get_flat_in_time_exits_1_with_not_flat(in_tmp_dir: Path) -> None:
    # Closing orders need 30 s to fill; the deadline is 1 s: the broker never reports flat.
    result = run_cli(
        "rollback", "--sim-positions", "2", "--sim-latency", "30", "--deadline", "1", "--yes"
    )
    assert result.exit_code == 1
    report = read_artifact(in_tmp_dir / "prelive" / "ROLLBACK_REPORT.json", RollbackReport)
    assert report.verdict == "NOT_FLAT" and report.remaining_positions == 2
    assert "0 of 2 positions closed" in result.stdout.replace("\n", " ")


def test_sim_state_file_carries_the_account_between_commands(in_tmp_dir: Path) -> None:
    state = str(in_tmp_dir / "account.json")
    first = run_cli("probe-account", "--sim-state", state, "--sim-positions", "3",
                    "--sim-orders", "2", "--json")  # fmt: skip
    assert first.exit_code == 0 and json.loads(first.stdout)["positions_count"] == 3
    assert run_cli("flatten", "--sim-state", state, "--yes").exit_code == 0
    after = json.loads(run_cli("probe-account", "--sim-state", state, "--json").stdout)
    assert after["positions_count"] == 0 and after["open_orders_count"] == 2
    reseed = run_cli("probe-account", "--sim-state", state, "--sim-positions", "1")
    assert reseed.exit_code == 2 and "already holds" in reseed.stderr
