"""With the simulated broker the session's decisions, intents, orders and fills are a function of
the seed and the config alone: a slow consumer or another speed changes the wall time, not what
the session does (engine.planes.lockstep)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from engine.planes.order_plane import OrderPlane
from engine.planes.session import SessionParams, SessionResult, run_paper_session
from engine.planes.strategy_plane import StrategyParams, StrategyPlane
from tests.e2e.conftest import small_config

pytestmark = pytest.mark.e2e

SESSION_ID = "paper-determinism"


def small_params(**kw: Any) -> SessionParams:
    """The e2e session, deciding often enough to trade a few dozen times in 30 bars."""
    strategy = StrategyParams(decision_every=3, min_trade_notional=5_000.0, max_intents=80)
    return SessionParams(strategy=strategy, settle_timeout=5.0, **kw)


def _trace(result: SessionResult) -> list[tuple[Any, ...]]:
    """What the session did: per intent its id, side, quantity, fate and every fill."""
    rows = []
    for o in result.orders:
        i = o.intent
        fills = tuple((qty, price) for _x, _t, qty, price, _c in o.fills)
        rows.append(
            (str(i.intent_id), i.symbol, i.direction, i.quantity, i.decision_price,
             o.risk_rejected, o.status, o.filled_quantity, fills)
        )  # fmt: skip
    return sorted(rows)


def _run(tmp: Path, name: str, speed: float, params: SessionParams) -> SessionResult:
    cfg = small_config(tmp / name)
    result = run_paper_session(
        cfg, out_dir=tmp / name / "out", speed=speed, duration_hours=0.5, params=params,
        session_id=SESSION_ID,
    )  # fmt: skip
    assert result.status == "completed", result.message
    return result


def _slow_consumers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every decision and every intent arrives late (a loaded machine)."""
    decide, handle = StrategyPlane.decide, OrderPlane.handle_intent

    async def slow_decide(self: StrategyPlane, bar: int) -> None:
        await asyncio.sleep(0.15)
        await decide(self, bar)

    async def slow_handle(self: OrderPlane, intent: Any, published_at: Any) -> None:
        await asyncio.sleep(0.01)
        await handle(self, intent, published_at)

    monkeypatch.setattr(StrategyPlane, "decide", slow_decide)
    monkeypatch.setattr(OrderPlane, "handle_intent", slow_handle)


def test_same_session_whatever_the_wall_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _run(tmp_path, "fast", 5000.0, small_params())
    with monkeypatch.context() as m:
        _slow_consumers(m)
        slow = _run(tmp_path, "slow", 600.0, small_params())
    trace = _trace(fast)
    assert len(trace) >= 10 and fast.trades >= 10, "the session must trade to prove anything"
    assert all(row[8] for row in trace if row[5] is None), "every submitted order filled"
    assert _trace(slow) == trace
    assert [(d.bar, d.intents) for d in slow.decisions] == [
        (d.bar, d.intents) for d in fast.decisions
    ]
    assert slow.wall_seconds > fast.wall_seconds  # the delays were real


def test_without_lockstep_a_slow_strategy_trades_at_other_prices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the same delays without the lockstep change what the session does, so the
    test above would catch a regression."""
    fast = _run(tmp_path, "fast", 5000.0, small_params(lockstep=False))
    with monkeypatch.context() as m:
        _slow_consumers(m)
        slow = _run(tmp_path, "slow", 5000.0, small_params(lockstep=False))
    assert _trace(slow) != _trace(fast)
