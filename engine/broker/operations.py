"""Emergency operations over any :class:`~engine.broker.protocol.Broker`: cancel-all, flatten,
rollback (SPEC §7), each verified against the broker's own report, never against local state.

The broker paces every message it sends, so these functions simply send; they poll the broker
until it confirms the result or a deadline passes, and return an outcome object (never raise for
an expected failure such as "still not flat at the deadline").

Rollback order (SPEC §7): 1 cancel every open order → 2 detach (persist the HALT flag so no
strategy process sends new intents) → 3 flatten with market orders (or collared limits) →
4 verify flat: poll until zero open orders and zero positions, or the deadline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, TypeVar

from contracts.messages import Direction, OrderIntent
from engine.broker.clock import Clock
from engine.broker.pacing import call_with_retry
from engine.broker.protocol import Broker, ReadOnlyBroker
from engine.broker.types import (
    AccountSummary,
    BrokerError,
    CancelResult,
    Execution,
    OpenOrder,
    OrderHandle,
    Position,
)
from engine.util.atomic import atomic_write_bytes

T = TypeVar("T")
NowUtc = Callable[[], datetime]
CancelRoute = Literal["cancel", "global_cancel"]
# A per-order cancel refused with this code met an order that had already finished (filled or
# cancelled): if it is gone later, it was not the global cancel that ended it.
_NOT_CANCELLABLE = 10148


@dataclass(frozen=True)
class StepTiming:
    """One step of an operation: name, start (UTC), duration (seconds), whether it succeeded."""

    name: str
    started_at: datetime
    seconds: float
    ok: bool
    detail: str = ""
    messages: int = 0


@dataclass(frozen=True)
class OrderCancelled:
    """An order cancel-all ended, and how: its own cancel (IB confirmed it) or the global cancel
    (the per-order cancel was refused, e.g. 10147 for another client id's order, and the order
    was no longer open at the broker once the global cancel had been sent)."""

    order_id: str
    route: CancelRoute


@dataclass(frozen=True)
class CancelAllOutcome:
    """What cancel-all found, asked and verified."""

    found: tuple[OpenOrder, ...]
    results: tuple[CancelResult, ...]
    remaining: tuple[OpenOrder, ...]
    used_global_cancel: bool
    verified: bool
    seconds: float
    error: str | None = None
    cancelled: tuple[OrderCancelled, ...] = ()

    def was_cancelled(self, order_id: str) -> bool:
        """Whether the order was cancelled, by its own cancel or by the global cancel."""
        return any(c.order_id == order_id for c in self.cancelled)


def cancelled_orders(
    found: Sequence[OpenOrder],
    results: Sequence[CancelResult],
    remaining: Sequence[OpenOrder],
    *,
    used_global_cancel: bool,
) -> tuple[OrderCancelled, ...]:
    """Which of the ``found`` orders were cancelled, and by which route.

    An order counts when the broker confirmed its own cancel, or — once a global cancel was
    sent — when it is no longer open at the broker and its own cancel (if any) was not refused as
    "not cancellable" (10148: it had finished by itself).
    """
    by_id = {r.order_id: r for r in results}
    still_open = {o.order_id for o in remaining}
    out: list[OrderCancelled] = []
    for order in found:
        result = by_id.get(order.order_id)
        if result is not None and result.accepted:
            out.append(OrderCancelled(order.order_id, "cancel"))
        elif (
            used_global_cancel
            and order.order_id not in still_open
            and (result is None or result.code != _NOT_CANCELLABLE)
        ):
            out.append(OrderCancelled(order.order_id, "global_cancel"))
    return tuple(out)


@dataclass(frozen=True)
class ClosingOrder:
    """One order sent to close a position."""

    symbol: str
    position_before: int
    direction: Direction
    quantity: int
    order_type: str
    limit_price: float | None
    intent_id: str
    order_id: str | None
    status: str
    reject_reason: str | None = None


@dataclass(frozen=True)
class FlattenOutcome:
    """What flatten found, sent and verified."""

    found: tuple[Position, ...]
    orders: tuple[ClosingOrder, ...]
    fills: tuple[Execution, ...]
    remaining: tuple[Position, ...]
    verified: bool
    seconds: float
    error: str | None = None

    @property
    def realized_pnl(self) -> float:
        return sum(f.realized_pnl or 0.0 for f in self.fills)

    @property
    def commissions(self) -> float:
        return sum(f.commission or 0.0 for f in self.fills)


@dataclass(frozen=True)
class RollbackOutcome:
    """The four steps of SPEC §7 and the verdict: ``verified_flat`` only when the broker says so."""

    cancel: CancelAllOutcome
    flatten: FlattenOutcome
    steps: tuple[StepTiming, ...]
    verified_flat: bool
    open_orders_after: tuple[OpenOrder, ...]
    positions_after: tuple[Position, ...]
    account_before: AccountSummary | None
    account_after: AccountSummary | None
    halt_flag: Path
    total_seconds: float
    messages_sent: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


class HaltFlag:
    """A persisted HALT flag (JSON file under ``paths.state``): strategy processes must check
    :meth:`is_set` before sending any intent. Written atomically; cleared only explicitly."""

    FILE_NAME = "HALT"

    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / self.FILE_NAME

    def set(self, reason: str, at: datetime) -> None:
        payload = {"halted": True, "reason": reason, "at": at.isoformat()}
        atomic_write_bytes(self.path, json.dumps(payload, indent=2).encode())

    def is_set(self) -> bool:
        """True when the flag exists, or cannot be read (fail closed)."""
        if not self.path.exists():
            return False
        try:
            return bool(json.loads(self.path.read_text(encoding="utf-8")).get("halted", True))
        except (OSError, ValueError, AttributeError):
            return True

    def read(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


async def poll_until(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    clock: Clock,
    deadline_seconds: float,
    interval: float = 0.25,
) -> tuple[T, bool]:
    """Call ``read`` until ``done(result)`` or the deadline; returns the last result and success.

    A read that times out is retried with exponential backoff (3 retries) before giving up.
    """
    end = clock.now() + deadline_seconds
    while True:
        value = await call_with_retry(read, retries=3, backoff_initial=interval, clock=clock)
        if done(value):
            return value, True
        if clock.now() >= end:
            return value, False
        await clock.sleep(min(interval, max(0.0, end - clock.now())))


async def cancel_all_orders(
    broker: Broker,
    *,
    clock: Clock,
    deadline_seconds: float = 30.0,
    poll_interval: float = 0.25,
    per_order: bool = True,
) -> CancelAllOutcome:
    """Cancel every open order and verify with the broker that none is left.

    ``per_order`` sends one cancel per order (an exact record of what was cancelled); if any
    order survives the deadline, a global cancel is sent as the fallback.
    """
    start = clock.now()
    try:
        found = tuple(await broker.open_orders())
        results: list[CancelResult] = []
        used_global = False
        if per_order:
            for order in found:
                results.append(await broker.cancel(order.order_id))
        if found and (not per_order or any(not r.accepted for r in results)):
            # Orders this connection cannot cancel one by one (placed by another client id,
            # or refused): IB's global cancel reaches every order of the account.
            await broker.cancel_all()
            used_global = True
        remaining, ok = await poll_until(
            broker.open_orders, lambda o: not o, clock=clock,
            deadline_seconds=deadline_seconds, interval=poll_interval,
        )  # fmt: skip
        if not ok and not used_global:
            await broker.cancel_all()
            used_global = True
            remaining, ok = await poll_until(
                broker.open_orders, lambda o: not o, clock=clock,
                deadline_seconds=deadline_seconds, interval=poll_interval,
            )  # fmt: skip
    except BrokerError as exc:
        return CancelAllOutcome((), (), (), False, False, clock.now() - start, str(exc))
    cancelled = cancelled_orders(found, results, remaining, used_global_cancel=used_global)
    return CancelAllOutcome(
        found, tuple(results), tuple(remaining), used_global, ok, clock.now() - start,
        cancelled=cancelled,
    )  # fmt: skip


def closing_intent(
    position: Position, *, now: datetime, limit_collar: float | None = None
) -> OrderIntent:
    """The order that closes ``position``: MARKET, or a marketable LIMIT ``limit_collar`` away."""
    direction: Direction = "SELL" if position.quantity > 0 else "BUY"
    data: dict[str, object] = {
        "event_type": "order_intent",
        "intent_id": str(uuid.uuid4()),
        "symbol": position.symbol,
        "direction": direction,
        "quantity": abs(position.quantity),
        "order_type": "MARKET",
        "timestamp": now,
        "decision_price": position.market_price,
    }
    if limit_collar is not None:
        if not position.market_price:
            raise ValueError(
                f"--limit-collar needs a market price for {position.symbol}; the broker gave none"
            )
        factor = 1 - limit_collar if direction == "SELL" else 1 + limit_collar
        data["order_type"] = "LIMIT"
        data["limit_price"] = round(position.market_price * factor, 2)
    return OrderIntent.model_validate(data)


async def flatten_positions(
    broker: Broker,
    *,
    clock: Clock,
    now_utc: NowUtc,
    limit_collar: float | None = None,
    deadline_seconds: float = 60.0,
    poll_interval: float = 0.25,
) -> FlattenOutcome:
    """Close every position and verify with the broker that none is left."""
    start = clock.now()
    orders: list[ClosingOrder] = []
    try:
        found = tuple(p for p in await broker.positions() if p.quantity != 0)
        for pos in found:
            intent = closing_intent(pos, now=now_utc(), limit_collar=limit_collar)
            handle: OrderHandle = await broker.place(intent)
            orders.append(
                ClosingOrder(
                    symbol=pos.symbol,
                    position_before=pos.quantity,
                    direction=intent.direction,
                    quantity=intent.quantity,
                    order_type=intent.order_type,
                    limit_price=intent.limit_price,
                    intent_id=str(intent.intent_id),
                    order_id=handle.order_id,
                    status=handle.status,
                    reject_reason=handle.reject_reason,
                )
            )
        remaining, ok = await poll_until(
            broker.positions, lambda ps: not [p for p in ps if p.quantity != 0], clock=clock,
            deadline_seconds=deadline_seconds, interval=poll_interval,
        )  # fmt: skip
        ids = {o.intent_id for o in orders}
        fills = tuple(e for e in await broker.executions() if e.intent_id in ids)
    except (BrokerError, ValueError) as exc:
        return FlattenOutcome((), tuple(orders), (), (), False, clock.now() - start, str(exc))
    remaining = [p for p in remaining if p.quantity != 0]
    return FlattenOutcome(found, tuple(orders), fills, tuple(remaining), ok, clock.now() - start)


async def rollback(
    broker: Broker,
    halt: HaltFlag,
    *,
    clock: Clock,
    now_utc: NowUtc,
    limit_collar: float | None = None,
    deadline_seconds: float = 120.0,
    poll_interval: float = 0.25,
    reason: str = "rollback",
    message_counter: Callable[[], int] | None = None,
) -> RollbackOutcome:
    """SPEC §7: cancel all → detach (HALT flag) → flatten → verify flat. Never raises for an
    expected broker failure: the outcome says what happened and ``verified_flat`` is False."""
    start = clock.now()
    steps: list[StepTiming] = []
    notes: list[str] = []
    counter = message_counter or (lambda: 0)

    async def account() -> AccountSummary | None:
        try:
            return await broker.account_summary()
        except BrokerError as exc:
            notes.append(f"account summary unavailable: {exc}")
            return None

    before = await account()
    t0, w0, m0 = clock.now(), now_utc(), counter()
    cancel = await cancel_all_orders(
        broker, clock=clock, deadline_seconds=deadline_seconds / 4, poll_interval=poll_interval
    )
    steps.append(
        StepTiming("cancel", w0, clock.now() - t0, messages=counter() - m0, ok=cancel.verified,
                   detail=f"{len(cancel.found)} open orders, {len(cancel.cancelled)} cancelled"
                   + _routes(cancel) + f", {len(cancel.remaining)} left"
                   + (f"; error: {cancel.error}" if cancel.error else ""))
    )  # fmt: skip

    t0, w0, m0 = clock.now(), now_utc(), counter()
    halt_ok = True
    try:
        halt.set(reason, w0)
    except OSError as exc:
        halt_ok = False
        notes.append(f"could not write the HALT flag {halt.path}: {exc}")
    steps.append(
        StepTiming(
            "detach",
            w0,
            clock.now() - t0,
            messages=counter() - m0,
            ok=halt_ok,
            detail=f"HALT flag at {halt.path}",
        )
    )

    t0, w0, m0 = clock.now(), now_utc(), counter()
    flat = await flatten_positions(
        broker, clock=clock, now_utc=now_utc, limit_collar=limit_collar,
        deadline_seconds=deadline_seconds / 2, poll_interval=poll_interval,
    )  # fmt: skip
    steps.append(
        StepTiming("flatten", w0, clock.now() - t0, messages=counter() - m0, ok=flat.verified,
                   detail=f"{len(flat.found)} positions, {len(flat.orders)} closing orders, "
                   f"{len(flat.remaining)} left" + (f"; error: {flat.error}" if flat.error else ""))
    )  # fmt: skip

    t0, w0, m0 = clock.now(), now_utc(), counter()
    remaining_budget = max(poll_interval, deadline_seconds - (clock.now() - start))

    async def snapshot() -> tuple[list[OpenOrder], list[Position]]:
        return await broker.open_orders(), [p for p in await broker.positions() if p.quantity]

    try:
        (orders_after, positions_after), flat_ok = await poll_until(
            snapshot, lambda s: not s[0] and not s[1], clock=clock,
            deadline_seconds=remaining_budget, interval=poll_interval,
        )  # fmt: skip
    except BrokerError as exc:
        orders_after, positions_after, flat_ok = [], [], False
        notes.append(f"verification failed: {exc}")
    steps.append(
        StepTiming("verify", w0, clock.now() - t0, messages=counter() - m0, ok=flat_ok,
                   detail=f"{len(orders_after)} open orders, {len(positions_after)} positions")
    )  # fmt: skip
    after = await account()
    return RollbackOutcome(
        cancel=cancel,
        flatten=flat,
        steps=tuple(steps),
        verified_flat=flat_ok,
        open_orders_after=tuple(orders_after),
        positions_after=tuple(positions_after),
        account_before=before,
        account_after=after,
        halt_flag=halt.path,
        total_seconds=clock.now() - start,
        notes=tuple(notes),
    )


def _routes(cancel: CancelAllOutcome) -> str:
    by_global = sum(1 for c in cancel.cancelled if c.route == "global_cancel")
    if not by_global:
        return ""
    return f" ({len(cancel.cancelled) - by_global} one by one, {by_global} by the global cancel)"


async def read_state(broker: ReadOnlyBroker) -> tuple[list[OpenOrder], list[Position]]:
    """Open orders and non-zero positions, as the broker reports them."""
    return await broker.open_orders(), [p for p in await broker.positions() if p.quantity]


def summarize_positions(positions: Sequence[Position]) -> dict[str, int]:
    return {p.symbol: p.quantity for p in positions}


@dataclass(frozen=True)
class ProbeOutcome:
    """What a read-only probe saw. ``unreachable`` when the broker could not be reached at all."""

    connected: bool
    unreachable: bool
    summary: AccountSummary | None
    positions_count: int | None
    open_orders_count: int | None
    seconds: float
    failure: str | None = None
    notices: tuple[tuple[int, str], ...] = ()


async def probe_account(view: ReadOnlyBroker, *, clock: Clock) -> ProbeOutcome:
    """Connect through a read-only view, read the account, positions and orders, disconnect.

    ``view`` is a :class:`~engine.broker.protocol.ReadOnlyView` in production: it has no order
    method at all, so this function cannot send an order whatever it is asked.
    """
    from engine.broker.types import BrokerUnreachable

    start = clock.now()
    try:
        await view.connect()
    except BrokerUnreachable as exc:
        return ProbeOutcome(False, True, None, None, None, clock.now() - start, str(exc))
    except BrokerError as exc:
        await view.close()
        return ProbeOutcome(False, False, None, None, None, clock.now() - start, str(exc))
    try:
        summary = await view.account_summary()
        positions = await view.positions()
        orders = await view.open_orders()
    except BrokerError as exc:
        return ProbeOutcome(False, False, None, None, None, clock.now() - start, str(exc))
    finally:
        await view.close()
    return ProbeOutcome(
        True, False, summary, len(positions), len(orders), clock.now() - start,
        notices=_notices_of(view),
    )  # fmt: skip


def _notices_of(view: ReadOnlyBroker) -> tuple[tuple[int, str], ...]:
    """Error/notice messages the broker sent (IB: farm status, warnings), when it keeps them."""
    raw = getattr(view, "notices", ())
    return tuple((int(code), str(msg)) for code, msg in raw)
