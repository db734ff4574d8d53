"""Broker operation outcomes → ACCOUNT_CONFIG.json, ROLLBACK_REPORT.json and the command summaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from artifacts.io import read_artifact, write_artifact
from artifacts.models.account_config import AccountConfig
from artifacts.models.rollback_report import RollbackReport
from engine.broker.factory import BrokerTarget
from engine.broker.operations import (
    CancelAllOutcome,
    ClosingOrder,
    FlattenOutcome,
    OrderCancelled,
    ProbeOutcome,
    RollbackOutcome,
    StepTiming,
)
from engine.broker.types import AccountSummary, CancelResult, Execution, OpenOrder, Position
from gates.broker_artifacts import (
    account_config,
    cancel_all_summary,
    flatten_summary,
    is_rollback_trigger,
    notices,
    rollback_report,
)

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)
PAPER = AccountSummary(
    account_id="DU1234567", currency="USD", net_liquidation=1_000_000.0, buying_power=4e6,
    cash=1_000_000.0, trading_mode="paper", mode_evidence=("account DU…",), server_version=176,
    permissions=("STK",),
)  # fmt: skip
SIM = BrokerTarget("sim", "127.0.0.1", 4002, 1, None, 10.0, True)
IB = BrokerTarget("ib", "10.0.0.5", 4002, 8, None, 10.0, True)


def _order(order_id: str, symbol: str = "AAA", remaining: int = 10) -> OpenOrder:
    return OpenOrder(order_id, None, symbol, "BUY", remaining, "LIMIT", "ACKNOWLEDGED", 0,
                     remaining, 98.0)  # fmt: skip


def test_a_connected_probe_records_the_account_masked_and_where_only_for_ib(
    tmp_path: Path,
) -> None:
    outcome = ProbeOutcome(True, False, PAPER, 3, 2, 0.25, notices=((2104, "farm ok"),))
    sim = account_config(outcome, SIM, probed_at=T0, generated_at=T0)
    assert sim.account_id_masked == "DU****567" and sim.trading_mode == "paper"
    assert sim.host is None and sim.port is None and sim.client_id is None
    assert sim.positions_count == 3 and sim.open_orders_count == 2 and sim.failure is None
    assert sim.buying_power == 4e6 and sim.server_version == 176 and sim.read_only
    ib = account_config(outcome, IB, probed_at=T0, generated_at=T0)
    assert (ib.host, ib.port, ib.client_id) == ("10.0.0.5", 4002, 8)
    written = write_artifact(tmp_path / AccountConfig.FILE_NAME, ib)  # the schema accepts it
    assert "DU1234567" not in written.path.read_text()
    assert read_artifact(written.path, AccountConfig) == ib


def test_an_unreachable_probe_is_unknown_with_the_failure() -> None:
    outcome = ProbeOutcome(False, True, None, None, None, -0.1, "connection refused")
    model = account_config(outcome, IB, probed_at=T0, generated_at=T0)
    assert not model.connected and model.trading_mode == "unknown"
    assert model.failure == "connection refused" and model.probe_seconds == 0.0
    assert model.account_id_masked is None and model.buying_power is None
    silent = ProbeOutcome(False, False, None, None, None, 0.0)
    assert account_config(silent, IB, probed_at=T0, generated_at=T0).failure == "not connected"


def test_notices_are_classified_by_the_ib_table_and_capped() -> None:
    got = notices([(2104, "farm ok"), (1100, "lost"), (201, "rejected")] + [(2158, "x")] * 60)
    assert [n.severity for n in got[:3]] == ["info", "error", "error"]  # critical → error
    assert len(got) == 50


def _rollback(
    *, cancelled: tuple[OrderCancelled, ...], still_open: tuple[OpenOrder, ...] = ()
) -> RollbackOutcome:
    found = (_order("11"), _order("12", "BBB"))
    cancel = CancelAllOutcome(
        found, (CancelResult("11", False, 10147), CancelResult("12", False, 10147)), still_open,
        True, not still_open, 0.4, cancelled=cancelled,
    )  # fmt: skip
    fills = (
        Execution("e1", "21", "i1", "AAA", "SELL", 60, 101.0, T0, 60, 101.0, 0.5, 30.0),
        Execution("e2", "21", "i1", "AAA", "SELL", 40, 102.0, T0, 100, 101.4, 0.4, 25.0),
    )
    closing = ClosingOrder("AAA", 100, "SELL", 100, "MARKET", None, "i1", "21", "FILLED")
    flat = FlattenOutcome((Position("AAA", 100, 99.0),), (closing,), fills, (), True, 0.6)
    steps = tuple(
        StepTiming(name, T0 + timedelta(seconds=i), 0.2, True, messages=i)
        for i, name in enumerate(("cancel", "detach", "flatten", "verify"))
    )
    return RollbackOutcome(
        cancel=cancel, flatten=flat, steps=steps, verified_flat=not still_open,
        open_orders_after=still_open, positions_after=(), account_before=PAPER,
        account_after=PAPER, halt_flag=Path("/state/HALT"), total_seconds=1.2,
    )  # fmt: skip


def _report(outcome: RollbackOutcome, finished: datetime = T0) -> RollbackReport:
    return rollback_report(
        outcome, broker_kind="ib", pacing_violations=0, target_seconds=120.0, logs_dir="logs",
        trigger="drill", reason="gate 8 drill", started=T0, finished=finished, generated_at=T0,
    )  # fmt: skip


def test_orders_cleared_by_the_global_cancel_are_reported_cancelled(tmp_path: Path) -> None:
    both = (OrderCancelled("11", "global_cancel"), OrderCancelled("12", "global_cancel"))
    report = _report(_rollback(cancelled=both))
    assert [o.confirmed for o in report.orders_cancelled] == [True, True]
    assert report.verdict == "FLAT" and report.within_target
    assert report.account_id_masked == "DU****567" and report.trading_mode == "paper"
    [closed] = report.positions_closed
    assert closed.quantity_before == 100 and closed.quantity_after == 0
    assert closed.avg_fill_price == pytest.approx((60 * 101.0 + 40 * 102.0) / 100)
    assert closed.realised_pnl == pytest.approx(55.0)
    assert report.pnl.commissions == pytest.approx(0.9) and report.pnl.realised == 55.0
    assert [f.exec_id for f in report.fills] == ["e1", "e2"]
    assert report.finished_at == T0 + timedelta(seconds=1.2)  # never before start + total
    assert "/state/HALT" in report.next_steps[-1]
    path = write_artifact(tmp_path / RollbackReport.FILE_NAME, report).path
    assert read_artifact(path, RollbackReport) == report


def test_an_order_still_open_at_verification_is_not_confirmed() -> None:
    outcome = _rollback(
        cancelled=(OrderCancelled("11", "global_cancel"),), still_open=(_order("12", "BBB"),)
    )
    report = _report(outcome, finished=T0 + timedelta(seconds=30))
    assert [o.confirmed for o in report.orders_cancelled] == [True, False]
    assert report.verdict == "NOT_FLAT" and report.remaining_open_orders == 1
    assert report.finished_at == T0 + timedelta(seconds=30)


def test_cancel_all_summary_confirms_by_either_route() -> None:
    outcome = CancelAllOutcome(
        (_order("1"), _order("2"), _order("3")),
        (CancelResult("1", True, 202), CancelResult("2", False, 10147),
         CancelResult("3", False, 10148)),
        (), True, True, 0.3,
        cancelled=(OrderCancelled("1", "cancel"), OrderCancelled("2", "global_cancel")),
    )  # fmt: skip
    summary = cancel_all_summary(outcome)
    assert [r["confirmed"] for r in summary["cancelled"]] == [True, True, False]
    assert summary["used_global_cancel"] and summary["remaining"] == 0 and summary["verified"]


def test_flatten_summary_lists_orders_what_is_left_and_money() -> None:
    outcome = _rollback(cancelled=()).flatten
    summary = flatten_summary(outcome)
    assert summary["orders"][0]["symbol"] == "AAA" and summary["orders"][0]["quantity"] == 100
    assert summary["remaining"] == [] and summary["fills"] == 2
    assert summary["realized_pnl"] == pytest.approx(55.0)
    assert summary["commissions"] == pytest.approx(0.9)


def test_rollback_triggers() -> None:
    assert all(is_rollback_trigger(t) for t in ("manual", "kill_switch", "drill"))
    assert not is_rollback_trigger("panic")
