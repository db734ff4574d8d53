"""Strategy plane pieces: deterministic intent ids and the fill book (deduplicated by exec id)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.messages import ExecutionReport
from engine.planes.strategy_plane import StrategyBook, intent_id_for

pytestmark = pytest.mark.unit

T = datetime(2024, 1, 2, 15, 0, tzinfo=UTC)


def test_intent_ids_are_deterministic_and_distinct() -> None:
    a = intent_id_for("s1", T, "AAPL")
    assert a == intent_id_for("s1", T, "AAPL")
    assert a.version == 5
    assert len({a, intent_id_for("s2", T, "AAPL"), intent_id_for("s1", T, "MSFT"),
                intent_id_for("s1", T.replace(minute=1), "AAPL")}) == 4  # fmt: skip


def report(
    iid: uuid.UUID, status: str, filled: int, exec_id: str | None, last: int
) -> ExecutionReport:
    data: dict[str, object] = {
        "event_type": "execution_report", "intent_id": str(iid), "order_id": "7",
        "symbol": "AAPL", "status": status, "filled_quantity": filled,
        "avg_fill_price": 100.0 if filled else 0.0, "timestamp": T, "quantity": 10,
        "direction": "SELL",
    }  # fmt: skip
    if exec_id:
        data.update(exec_id=exec_id, last_fill_quantity=last, last_fill_price=100.0, commission=1.0)
    return ExecutionReport.model_validate(data)


def test_book_applies_each_fill_once_and_clears_pending_on_final() -> None:
    iid = intent_id_for("s", T, "AAPL")
    book = StrategyBook(cash=10_000.0)
    book.pending[str(iid)] = ("AAPL", -10)
    assert not book.apply(report(iid, "SUBMITTED", 0, None, 0))
    assert book.apply(report(iid, "PARTIAL_FILL", 4, "e1", 4))
    assert not book.apply(report(iid, "PARTIAL_FILL", 4, "e1", 4))  # redelivered
    assert book.pending_for("AAPL") == -6
    assert book.apply(report(iid, "FILLED", 10, "e2", 6))
    assert book.positions == {"AAPL": -10}
    assert book.cash == pytest.approx(10_000.0 + 1000.0 - 2.0)
    assert book.pending == {}
