"""The synchronous exchange core shared by SimulatedBroker and the simulated IB gateway."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.broker.sim_exchange import (
    ExchangeConfig,
    MessageRateMonitor,
    OrderSpec,
    SimExchange,
    SymbolSpec,
    demo_exchange,
)

pytestmark = [pytest.mark.unit, pytest.mark.broker]


def _exchange(**cfg: object) -> SimExchange:
    config = ExchangeConfig(**cfg)  # type: ignore[arg-type]
    return SimExchange(config, [SymbolSpec("AAA", 100.0, half_spread_bps=10.0, touch_size=1_000)])


def test_market_buy_fills_at_the_ask_and_updates_account() -> None:
    ex = _exchange()
    events = ex.place(OrderSpec("AAA", "BUY", 100, order_ref="i1"), now=0.0)
    assert [e.kind for e in events] == ["status", "fill"]
    fill = events[-1]
    assert fill.status == "FILLED" and fill.last_fill_price == pytest.approx(100.1)
    assert fill.order_ref == "i1" and fill.exec_id
    [pos] = ex.positions()
    assert pos.quantity == 100 and pos.avg_cost == pytest.approx(100.1)
    acct = ex.account()
    assert acct.cash == pytest.approx(1_000_000 - 100 * 100.1 - fill.commission)
    assert ex.executions()[0].commission == pytest.approx(fill.commission)


def test_participation_splits_a_large_order_into_slices() -> None:
    ex = _exchange(participation=0.25, slice_interval=0.5)  # 250 shares per slice
    events = ex.place(OrderSpec("AAA", "SELL", 600), now=0.0)
    assert events[-1].status == "PARTIAL_FILL" and events[-1].filled == 250
    assert ex.next_due() == pytest.approx(0.5)
    assert ex.advance(0.4) == []
    later = ex.advance(1.0)
    assert [e.filled for e in later] == [500, 600]
    assert later[-1].status == "FILLED" and ex.open_orders() == []


def test_latency_delays_the_fill() -> None:
    ex = _exchange(latency=0.2)
    events = ex.place(OrderSpec("AAA", "BUY", 10), now=5.0)
    assert [e.status for e in events] == ["SUBMITTED"]
    assert ex.advance(5.1) == []
    assert ex.advance(5.2)[0].status == "FILLED"


def test_limit_rests_until_the_price_comes() -> None:
    ex = _exchange()
    events = ex.place(OrderSpec("AAA", "BUY", 10, "LIMIT", limit_price=98.0), now=0.0)
    assert [e.status for e in events] == ["SUBMITTED"]
    assert ex.next_due() is None
    fills = ex.set_price("AAA", 97.0, now=1.0)
    assert fills[0].status == "FILLED" and fills[0].last_fill_price == pytest.approx(97.0 * 1.001)


def test_stop_triggers_on_the_mid() -> None:
    ex = _exchange()
    ex.place(OrderSpec("AAA", "SELL", 10, "STOP", stop_price=95.0), now=0.0)
    assert ex.set_price("AAA", 96.0, now=1.0) == []
    assert ex.set_price("AAA", 94.0, now=2.0)[0].status == "FILLED"


def test_adaptive_improves_on_the_touch() -> None:
    ex = _exchange(adaptive_improvement=0.5)
    fill = ex.place(OrderSpec("AAA", "BUY", 10, "ADAPTIVE"), now=0.0)[-1]
    assert fill.last_fill_price == pytest.approx(100.05)


@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        (OrderSpec("ZZZ", "BUY", 1), 200, "No security definition"),
        (OrderSpec("AAA", "BUY", 1, "LIMIT", limit_price=120.0), 201, "collar"),
        (OrderSpec("AAA", "BUY", 100_000), 201, "insufficient buying power"),
        (OrderSpec("AAA", "BUY", 0), 201, "quantity"),
    ],
)
def test_rejects_carry_ib_codes(spec: OrderSpec, code: int, words: str) -> None:
    [event] = _exchange().place(spec, now=0.0)
    assert event.status == "REJECTED" and event.error_code == code
    assert event.reason and words in event.reason


def test_reducing_orders_are_never_refused_for_buying_power() -> None:
    ex = _exchange(initial_cash=10_000.0, leverage=1.0)
    ex.set_position("AAA", 150, 100.0)  # more exposure than the account could open
    events = ex.place(OrderSpec("AAA", "SELL", 150), now=0.0)
    assert events[-1].status == "FILLED" and ex.positions() == []


def test_cancel_codes() -> None:
    ex = _exchange()
    placed = ex.place(OrderSpec("AAA", "BUY", 10, "LIMIT", limit_price=99.0), now=0.0)
    oid = placed[0].order_id
    assert ex.cancel(oid, now=1.0)[0].error_code == 202
    assert ex.cancel(oid, now=1.0)[0].error_code == 10148
    assert ex.cancel(12345, now=1.0)[0].error_code == 10147
    assert ex.place(OrderSpec("AAA", "BUY", 1, order_id=oid), now=1.0)[0].error_code == 103


def test_ioc_cancels_the_unfilled_remainder() -> None:
    ex = _exchange(participation=0.1)  # 100 shares per slice
    events = ex.place(OrderSpec("AAA", "BUY", 250, time_in_force="IOC"), now=0.0)
    assert events[-1].status == "CANCELED" and events[-1].filled == 100


def test_realized_pnl_on_round_trip() -> None:
    ex = _exchange()
    ex.place(OrderSpec("AAA", "BUY", 100), now=0.0)
    ex.set_price("AAA", 110.0, now=1.0)
    fill = ex.place(OrderSpec("AAA", "SELL", 100), now=1.0)[-1]
    assert fill.realized_pnl == pytest.approx(100 * (110 * 0.999 - 100 * 1.001))


def test_same_seed_same_prices() -> None:
    def path(seed: int) -> list[float]:
        ex = SimExchange(ExchangeConfig(seed=seed), [SymbolSpec("AAA", 50.0, volatility=0.01)])
        out = []
        for t in range(1, 20):
            ex.advance(float(t))
            out.append(ex.last_price("AAA"))
        return out

    assert path(3) == path(3)
    assert path(3) != path(4)


def test_demo_exchange_shape_and_determinism() -> None:
    a = demo_exchange(positions=50, resting_orders=100, seed=1)
    b = demo_exchange(positions=50, resting_orders=100, seed=1)
    assert len(a.positions()) == 50 and len(a.open_orders()) == 100
    assert a.positions() == b.positions()


def test_message_rate_monitor_flags_the_51st_message_in_a_second() -> None:
    monitor = MessageRateMonitor(limit=50)
    results = [monitor.record(i * 0.01) for i in range(51)]
    assert all(results[:50]) and results[50] is False
    assert monitor.violations == 1
    assert monitor.record(1.6) is True  # the window has moved on


@pytest.mark.property
@given(
    trades=st.lists(
        st.tuples(st.sampled_from(["BUY", "SELL"]), st.integers(min_value=1, max_value=400)),
        min_size=1,
        max_size=30,
    )
)
def test_round_trips_at_a_constant_mid_cost_exactly_spread_and_commissions(
    trades: list[tuple[str, int]],
) -> None:
    """Accounting identity: once flat again, cash = initial + realised P&L − commissions, and
    at a constant mid every round trip loses the spread (realised ≤ 0)."""
    ex = _exchange(initial_cash=10_000_000.0, participation=1.0)
    now = 0.0
    for side, qty in trades:
        now += 1.0
        ex.place(OrderSpec("AAA", side, qty), now)  # type: ignore[arg-type]
        ex.advance(now + 0.5)  # every participation slice of that order is done
    for pos in ex.positions():
        now += 1.0
        ex.place(OrderSpec("AAA", "SELL" if pos.quantity > 0 else "BUY", abs(pos.quantity)), now)
        ex.advance(now + 0.5)
    acct = ex.account()
    assert ex.positions() == [] and ex.open_orders() == []
    assert acct.cash == pytest.approx(10_000_000.0 + acct.realized_pnl - acct.commissions_paid)
    assert acct.net_liquidation == pytest.approx(acct.cash)
    assert acct.realized_pnl <= 1e-6
    assert acct.commissions_paid == pytest.approx(sum(f.commission for f in ex.executions()))


def test_state_round_trip_continues_identically() -> None:
    import json

    a = demo_exchange(positions=4, resting_orders=6, seed=9)
    a.place(OrderSpec("DEMO001", "BUY", 10, order_ref="r1"), now=1.0)
    b = SimExchange.from_state(json.loads(json.dumps(a.to_state())))
    assert b.account() == a.account() and b.positions() == a.positions()
    assert b.open_orders() == a.open_orders() and b.executions() == a.executions()
    assert b.orders_by_ref("r1") == a.orders_by_ref("r1")
    for ex in (a, b):  # the same future: ids, exec ids, commissions tiers, RNG
        ex.place(OrderSpec("DEMO002", "SELL", 25), now=2.0)
        ex.cancel(1, now=2.0)
    assert a.executions() == b.executions() and a.account() == b.account()
    assert a.open_orders() == b.open_orders()


def test_state_of_another_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version"):
        SimExchange.from_state({"state_version": 99})
    with pytest.raises(ValueError, match="malformed"):
        SimExchange.from_state({"state_version": 1})


def test_adaptive_limit_waits_for_its_price() -> None:
    ex = _exchange(adaptive_improvement=0.5)
    events = ex.place(OrderSpec("AAA", "BUY", 10, "ADAPTIVE", limit_price=99.0), now=0.0)
    assert [e.status for e in events] == ["SUBMITTED"]
    fill = ex.set_price("AAA", 98.5, now=1.0)[-1]
    assert fill.status == "FILLED" and fill.last_fill_price <= 99.0
    [far] = ex.place(OrderSpec("AAA", "BUY", 1, "ADAPTIVE", limit_price=50.0), now=2.0)
    assert far.error_code == 201 and far.reason and "collar" in far.reason
