"""The broker conformance suite: every ``Broker`` implementation must pass these tests.

Plug a new broker in by subclassing :class:`BrokerConformance` in a ``test_*.py`` module and
implementing :meth:`BrokerConformance.harness`, an async context manager yielding a
:class:`BrokerHarness` — a connected broker plus the few controls the suite needs over the market
behind it (move a price, drop the connection, count pacing violations at the broker).

The market behind the harness must offer:

* ``liquid``: a symbol whose mid is ``liquid_price``; an order of ≤ 100 shares fills in one slice;
* ``thin``: a symbol where an order of ``thin_order`` shares fills in more than one slice;
* ``unknown``: a symbol the broker does not know;
* enough buying power for a few thousand USD, and not for ``huge_order`` shares of ``liquid``;
* a price collar so that a limit 50 % away from the market is rejected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from engine.broker.clock import Clock
from engine.broker.operations import cancel_all_orders, flatten_positions
from engine.broker.protocol import ORDER_METHODS, Broker, read_only
from engine.broker.types import BrokerEvent
from tests.support.orders import order_intent as intent

T = TypeVar("T")


@dataclass
class BrokerHarness:
    broker: Broker
    clock: Clock
    set_price: Callable[[str, float], Awaitable[None]]
    drop_connection: Callable[[], Awaitable[None]]
    pacing_violations: Callable[[], int]
    settle: Callable[[], Awaitable[None]]
    liquid: str = "AAA"
    liquid_price: float = 100.0
    thin: str = "THIN"
    thin_order: int = 300
    unknown: str = "NOPE"
    huge_order: int = 1_000_000
    burst: int = 1_000
    timeout: float = 10.0


async def eventually(
    h: BrokerHarness, read: Callable[[], Awaitable[T]], done: Callable[[T], bool]
) -> T:
    """Poll ``read`` (letting the market settle) until ``done`` or the harness timeout."""
    loop = asyncio.get_running_loop()
    end = loop.time() + h.timeout
    while True:
        await h.settle()
        value = await read()
        if done(value):
            return value
        if loop.time() > end:
            raise AssertionError(f"condition not reached within {h.timeout}s; last value {value!r}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def recorded_events(broker: Broker) -> AsyncIterator[list[BrokerEvent]]:
    """A list that collects every event ``broker`` pushes while the block runs."""
    seen: list[BrokerEvent] = []

    async def pull() -> None:
        async for ev in broker.events():
            seen.append(ev)

    task = asyncio.ensure_future(pull())
    try:
        yield seen
    finally:
        task.cancel()


async def collect_events(broker: Broker, seconds: float = 0.05) -> list[BrokerEvent]:
    async with recorded_events(broker) as out:
        await asyncio.sleep(seconds)
    return out


async def until_status(
    h: BrokerHarness, seen: list[BrokerEvent], intent_id: str, status: str
) -> list[BrokerEvent]:
    """Wait until ``seen`` holds an event of ``intent_id`` with ``status``; the events so far."""
    return await eventually(
        h, _async_value(seen),
        lambda evs: any(e.intent_id == intent_id and e.status == status for e in evs),
    )  # fmt: skip


class BrokerConformance:
    """Subclass and implement :meth:`harness`; every ``test_*`` below then runs for that broker."""

    def harness(self) -> AbstractAsyncContextManager[BrokerHarness]:
        raise NotImplementedError

    def run(self, body: Callable[[BrokerHarness], Awaitable[None]]) -> None:
        async def main() -> None:
            async with self.harness() as h:
                await body(h)

        asyncio.run(main())

    # ------------------------------------------------------------------ account and positions
    def test_account_summary(self) -> None:
        async def body(h: BrokerHarness) -> None:
            assert h.broker.is_ready
            acct = await h.broker.account_summary()
            assert acct.account_id and acct.currency == "USD"
            assert acct.net_liquidation > 0 and acct.buying_power > 0
            assert acct.trading_mode == "paper" and acct.mode_evidence

        self.run(body)

    def test_market_order_fills_and_moves_the_position(self) -> None:
        async def body(h: BrokerHarness) -> None:
            before = {p.symbol: p.quantity for p in await h.broker.positions()}
            order = intent(h.liquid, "BUY", 10)
            handle = await h.broker.place(order)
            assert handle.intent_id == str(order.intent_id) and handle.order_id
            assert not handle.duplicate
            positions = await eventually(
                h,
                h.broker.positions,
                lambda ps: (
                    {p.symbol: p.quantity for p in ps}.get(h.liquid, 0)
                    == before.get(h.liquid, 0) + 10
                ),
            )
            assert positions
            fills = await eventually(
                h, h.broker.executions,
                lambda es: any(e.intent_id == str(order.intent_id) for e in es),
            )  # fmt: skip
            mine = [e for e in fills if e.intent_id == str(order.intent_id)]
            assert sum(e.quantity for e in mine) == 10
            assert all(e.exec_id and e.price > 0 for e in mine)
            assert all(e.price == pytest.approx(h.liquid_price, rel=0.01) for e in mine)

        self.run(body)

    def test_events_become_valid_execution_reports(self) -> None:
        async def body(h: BrokerHarness) -> None:
            order = intent(h.liquid, "SELL", 5)
            async with recorded_events(h.broker) as seen:
                await h.broker.place(order)
                await until_status(h, seen, str(order.intent_id), "FILLED")
            reports = [e.to_execution_report() for e in seen if e.intent_id == str(order.intent_id)]
            assert reports and all(r is not None for r in reports)
            final = [r for r in reports if r and r.status == "FILLED"][-1]
            assert final.filled_quantity == 5 and final.avg_fill_price > 0

        self.run(body)

    # ------------------------------------------------------------------ limit, partial, cancel
    def test_limit_order_rests_then_fills_when_the_price_comes(self) -> None:
        async def body(h: BrokerHarness) -> None:
            limit = round(h.liquid_price * 0.98, 2)
            order = intent(h.liquid, "BUY", 10, "LIMIT", limit_price=limit)
            handle = await h.broker.place(order)
            opened = await eventually(
                h, h.broker.open_orders,
                lambda os_: any(o.intent_id == str(order.intent_id) for o in os_),
            )  # fmt: skip
            [mine] = [o for o in opened if o.intent_id == str(order.intent_id)]
            assert mine.order_id == handle.order_id and mine.limit_price == pytest.approx(limit)
            assert mine.remaining == 10
            await h.set_price(h.liquid, h.liquid_price * 0.97)
            await eventually(
                h, h.broker.open_orders,
                lambda os_: all(o.intent_id != str(order.intent_id) for o in os_),
            )  # fmt: skip
            fills = [e for e in await h.broker.executions() if e.intent_id == str(order.intent_id)]
            assert sum(e.quantity for e in fills) == 10
            assert all(e.price <= limit for e in fills)

        self.run(body)

    def test_partial_fills_beyond_the_participation_limit(self) -> None:
        async def body(h: BrokerHarness) -> None:
            order = intent(h.thin, "BUY", h.thin_order)
            async with recorded_events(h.broker) as seen:
                await h.broker.place(order)
                await until_status(h, seen, str(order.intent_id), "FILLED")
            mine = [e for e in seen if e.intent_id == str(order.intent_id) and e.kind == "fill"]
            assert len(mine) >= 2
            assert any(e.status == "PARTIAL_FILL" for e in mine)
            assert mine[-1].filled_quantity == h.thin_order
            cumulative = [e.filled_quantity for e in mine]
            assert cumulative == sorted(cumulative)

        self.run(body)

    def test_cancel(self) -> None:
        async def body(h: BrokerHarness) -> None:
            order = intent(
                h.liquid, "BUY", 10, "LIMIT", limit_price=round(h.liquid_price * 0.97, 2)
            )
            handle = await h.broker.place(order)
            result = await h.broker.cancel(handle.order_id)
            assert result.accepted
            await eventually(
                h, h.broker.open_orders,
                lambda os_: all(o.order_id != handle.order_id for o in os_),
            )  # fmt: skip
            again = await h.broker.cancel(handle.order_id)
            assert not again.accepted and again.code in (10147, 10148, 161)
            assert not (await h.broker.cancel("987654")).accepted

        self.run(body)

    def test_cancel_all(self) -> None:
        async def body(h: BrokerHarness) -> None:
            for k in range(5):
                price = round(h.liquid_price * (0.97 - 0.002 * k), 2)
                await h.broker.place(intent(h.liquid, "BUY", 1, "LIMIT", limit_price=price))
            await eventually(h, h.broker.open_orders, lambda os_: len(os_) >= 5)
            outcome = await cancel_all_orders(h.broker, clock=h.clock, deadline_seconds=h.timeout)
            assert outcome.verified and len(outcome.found) >= 5 and not outcome.remaining
            assert await h.broker.open_orders() == []

        self.run(body)

    def test_flatten(self) -> None:
        async def body(h: BrokerHarness) -> None:
            await h.broker.place(intent(h.liquid, "BUY", 20))
            await h.broker.place(intent(h.thin, "SELL", 15))
            await eventually(
                h, h.broker.positions, lambda ps: len([p for p in ps if p.quantity]) >= 2
            )
            outcome = await flatten_positions(
                h.broker, clock=h.clock, now_utc=lambda: datetime.now(UTC),
                deadline_seconds=h.timeout,
            )  # fmt: skip
            assert outcome.verified, outcome
            assert {o.direction for o in outcome.orders} == {"BUY", "SELL"}
            assert [p for p in await h.broker.positions() if p.quantity] == []

        self.run(body)

    # ------------------------------------------------------------------ rejects
    def test_rejects(self) -> None:
        async def body(h: BrokerHarness) -> None:
            cases = {
                "unknown symbol": intent(h.unknown, "BUY", 1),
                "limit outside the collar": intent(
                    h.liquid, "BUY", 1, "LIMIT", limit_price=round(h.liquid_price * 1.5, 2)
                ),
                "insufficient buying power": intent(h.liquid, "BUY", h.huge_order),
            }
            async with recorded_events(h.broker) as seen:
                handles = {name: await h.broker.place(order) for name, order in cases.items()}
                for name, handle in handles.items():
                    if handle.status == "REJECTED":
                        assert handle.reject_reason, name
                        continue
                    rejected = await until_status(h, seen, handle.intent_id, "REJECTED")
                    event = next(
                        e
                        for e in rejected
                        if e.intent_id == handle.intent_id and e.status == "REJECTED"
                    )
                    report = event.to_execution_report()
                    assert report is not None and report.reject_reason, name
            assert [p for p in await h.broker.positions() if p.symbol == h.unknown] == []
            assert all(o.symbol != h.unknown for o in await h.broker.open_orders())

        self.run(body)

    # ------------------------------------------------------------------ idempotency, pacing
    def test_a_resent_intent_is_never_placed_twice(self) -> None:
        async def body(h: BrokerHarness) -> None:
            order = intent(h.liquid, "BUY", 3)
            first = await h.broker.place(order)
            second = await h.broker.place(order)
            assert second.duplicate and second.order_id == first.order_id
            await eventually(
                h, h.broker.executions,
                lambda es: sum(e.quantity for e in es if e.intent_id == str(order.intent_id)) >= 3,
            )  # fmt: skip
            await h.settle()
            fills = [e for e in await h.broker.executions() if e.intent_id == str(order.intent_id)]
            assert sum(e.quantity for e in fills) == 3

        self.run(body)

    def test_a_burst_of_intents_causes_no_pacing_violation(self) -> None:
        async def body(h: BrokerHarness) -> None:
            orders = [intent(h.liquid, "BUY" if k % 2 else "SELL", 1) for k in range(h.burst)]
            handles = await asyncio.gather(*(h.broker.place(o) for o in orders))
            assert len({x.order_id for x in handles}) == h.burst
            assert h.pacing_violations() == 0
            assert h.broker.is_ready

        self.run(body)

    # ------------------------------------------------------------------ reconnect
    def test_fills_during_an_outage_are_recovered_on_reconnect(self) -> None:
        async def body(h: BrokerHarness) -> None:
            limit = round(h.liquid_price * 0.98, 2)
            order = intent(h.liquid, "BUY", 10, "LIMIT", limit_price=limit)
            await h.broker.place(order)
            await eventually(
                h, h.broker.open_orders,
                lambda os_: any(o.intent_id == str(order.intent_id) for o in os_),
            )  # fmt: skip
            await h.drop_connection()
            assert not h.broker.is_ready
            await h.set_price(h.liquid, h.liquid_price * 0.97)  # fills while we are away
            await h.broker.connect()
            assert h.broker.is_ready
            fills = await eventually(
                h, h.broker.executions,
                lambda es: sum(e.quantity for e in es if e.intent_id == str(order.intent_id)) == 10,
            )  # fmt: skip
            assert fills
            again = await h.broker.place(order)  # a retry after the outage is not a new order
            assert again.duplicate

        self.run(body)

    # ------------------------------------------------------------------ read-only view
    def test_read_only_view_has_no_order_methods(self) -> None:
        async def body(h: BrokerHarness) -> None:
            view = read_only(h.broker)
            for name in ORDER_METHODS:
                assert not hasattr(view, name)
            assert (await view.account_summary()).buying_power > 0

        self.run(body)


def _async_value(value: T) -> Callable[[], Awaitable[T]]:
    async def read() -> T:
        return value

    return read


__all__ = ["BrokerConformance", "BrokerHarness", "collect_events", "eventually", "intent"]
