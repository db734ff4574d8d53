"""The one broker interface every implementation provides, and a read-only view of it.

:class:`Broker` is asynchronous. Every method that talks to the broker counts as (at least) one
API message and goes through the implementation's pacing limiter; every call has a timeout and
raises :class:`~engine.broker.types.BrokerTimeout` rather than hang.

:class:`ReadOnlyBroker` has **no** order methods; :func:`read_only` wraps any broker in a view
object that exposes only the reads (no ``place``, ``cancel``, ``cancel_all`` attribute exists on
it, and it does not forward unknown attributes), which is how ``probe-account`` is read-only by
construction together with a read-only connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Literal, Protocol, runtime_checkable

from contracts.messages import OrderIntent
from engine.broker.types import (
    AccountSummary,
    BrokerEvent,
    CancelResult,
    Execution,
    OpenOrder,
    OrderHandle,
    Position,
)

BrokerKind = Literal["sim", "ib"]


@runtime_checkable
class ReadOnlyBroker(Protocol):
    """Reads only: account, positions, orders, executions, market data, events."""

    @property
    def kind(self) -> BrokerKind: ...

    @property
    def is_ready(self) -> bool:
        """Connected and startup reconciliation succeeded; trading is allowed only when true."""
        ...

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def account_summary(self) -> AccountSummary: ...

    async def positions(self) -> list[Position]: ...

    async def open_orders(self) -> list[OpenOrder]: ...

    async def executions(self) -> list[Execution]: ...

    async def subscribe_market_data(self, symbols: Sequence[str]) -> None: ...

    def events(self) -> AsyncIterator[BrokerEvent]: ...


@runtime_checkable
class Broker(ReadOnlyBroker, Protocol):
    """A broker that can also send orders."""

    async def place(self, intent: OrderIntent) -> OrderHandle:
        """Send ``intent`` once; a re-sent ``intent_id`` returns the first handle, duplicate."""
        ...

    async def cancel(self, order_id: str) -> CancelResult: ...

    async def cancel_all(self) -> None:
        """Global cancel: every open order of the account."""
        ...


ORDER_METHODS: tuple[str, ...] = ("place", "cancel", "cancel_all")


class ReadOnlyView:
    """A view of a broker with the read methods only. It keeps no public reference to the broker."""

    __slots__ = ("__broker",)

    def __init__(self, broker: ReadOnlyBroker) -> None:
        self.__broker = broker

    @property
    def kind(self) -> BrokerKind:
        return self.__broker.kind

    @property
    def is_ready(self) -> bool:
        return self.__broker.is_ready

    @property
    def notices(self) -> tuple[tuple[int, str], ...]:
        """Messages the broker sent (code, text), copied; empty when it keeps none."""
        return tuple(getattr(self.__broker, "notices", ()))

    async def connect(self) -> None:
        await self.__broker.connect()

    async def close(self) -> None:
        await self.__broker.close()

    async def account_summary(self) -> AccountSummary:
        return await self.__broker.account_summary()

    async def positions(self) -> list[Position]:
        return await self.__broker.positions()

    async def open_orders(self) -> list[OpenOrder]:
        return await self.__broker.open_orders()

    async def executions(self) -> list[Execution]:
        return await self.__broker.executions()

    async def subscribe_market_data(self, symbols: Sequence[str]) -> None:
        await self.__broker.subscribe_market_data(symbols)

    def events(self) -> AsyncIterator[BrokerEvent]:
        return self.__broker.events()


def read_only(broker: ReadOnlyBroker) -> ReadOnlyView:
    """Wrap ``broker`` so that only reads are reachable (no order attribute exists on the view)."""
    return ReadOnlyView(broker)
