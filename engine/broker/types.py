"""Broker-neutral types: what every broker implementation reports, in one vocabulary.

Quantities are whole shares (signed for positions: long > 0, short < 0), prices and money in the
account currency, times timezone-aware UTC. Orders are identified by our ``intent_id`` (the
:class:`~contracts.messages.OrderIntent` UUID, carried to IBKR as ``orderRef``) and by the broker's
``order_id`` (a string, whatever the broker uses).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from contracts.messages import Direction, ExecutionReport, OrderStatus, OrderType
from engine.broker.pacing import TransientError

TradingMode = Literal["paper", "live"]
EventKind = Literal["status", "fill", "error", "connection"]

FINAL_ORDER_STATUSES: frozenset[str] = frozenset({"FILLED", "CANCELED", "REJECTED"})

#: Events a broker keeps for ``events()`` readers before dropping the oldest.
EVENT_BUFFER = 100_000


class BrokerError(Exception):
    """Base of broker failures that callers may want to handle."""


class BrokerUnreachable(BrokerError):
    """The broker (TWS, IB Gateway, simulated gateway) could not be reached at all."""


class BrokerNotReady(BrokerError):
    """Connected, but startup reconciliation failed or the connection dropped: do not trade."""


class BrokerDisconnected(BrokerNotReady):
    """The connection was lost (pacing violation, network, gateway restart)."""


class BrokerTimeout(BrokerError, TransientError):
    """A request got no answer within its timeout (transient: worth a paced retry)."""


class ReadOnlyViolation(BrokerError):
    """An order message was attempted on a read-only connection; nothing was sent."""


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """The account as the broker reports it (money in ``currency``)."""

    account_id: str
    currency: str
    net_liquidation: float
    buying_power: float
    cash: float
    trading_mode: TradingMode
    mode_evidence: tuple[str, ...] = ()
    available_funds: float | None = None
    realized_pnl: float | None = None
    unrealized_pnl: float | None = None
    server_version: int | None = None
    permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Position:
    """A position: signed quantity, average cost and marks (``None`` when unknown)."""

    symbol: str
    quantity: int
    avg_cost: float
    market_price: float | None = None
    market_value: float | None = None
    unrealized_pnl: float | None = None
    realized_pnl: float | None = None
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """A working order at the broker. ``intent_id`` is ``None`` for orders we did not send."""

    order_id: str
    intent_id: str | None
    symbol: str
    direction: Direction
    quantity: int
    order_type: OrderType
    status: OrderStatus
    filled_quantity: int
    remaining: int
    limit_price: float | None = None
    stop_price: float | None = None
    avg_fill_price: float = 0.0


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill, keyed by the broker's ``exec_id``; ``commission`` arrives separately at IB."""

    exec_id: str
    order_id: str
    intent_id: str | None
    symbol: str
    direction: Direction
    quantity: int
    price: float
    time: datetime
    cum_quantity: int = 0
    avg_price: float = 0.0
    commission: float | None = None
    realized_pnl: float | None = None


@dataclass(frozen=True, slots=True)
class OrderHandle:
    """What :meth:`Broker.place` returns: our id, the broker's id and the first status.

    ``duplicate`` is true when the intent had already been placed: nothing was sent again.
    """

    intent_id: str
    order_id: str
    status: OrderStatus
    reject_reason: str | None = None
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class CancelResult:
    """Outcome of a cancel request: ``accepted`` when the order is (or is being) cancelled."""

    order_id: str
    accepted: bool
    code: int | None = None
    message: str | None = None


def put_dropping_oldest(queue: asyncio.Queue[BrokerEvent], event: BrokerEvent) -> bool:
    """Queue ``event``; when the queue is full, drop the oldest event first. True if one was
    dropped (a slow consumer loses old events, never the newest)."""
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        queue.get_nowait()
        queue.put_nowait(event)
        return True
    return False


@dataclass(frozen=True, slots=True)
class BrokerEvent:
    """A status change, fill, error or connection change pushed by the broker.

    ``filled_quantity``/``avg_fill_price`` are cumulative for the order; ``last_fill_*`` describe
    this fill. ``code`` is the broker's code (IB error code) when there is one.
    """

    kind: EventKind
    time: datetime
    intent_id: str | None = None
    order_id: str | None = None
    symbol: str | None = None
    status: OrderStatus | None = None
    direction: Direction | None = None
    quantity: int | None = None
    filled_quantity: int = 0
    remaining: int | None = None
    avg_fill_price: float = 0.0
    exec_id: str | None = None
    last_fill_quantity: int = 0
    last_fill_price: float = 0.0
    commission: float | None = None
    code: int | None = None
    message: str | None = None
    details: dict[str, str] = field(default_factory=dict)

    def to_execution_report(self) -> ExecutionReport | None:
        """The contract message for this event, or ``None`` when it is not about an intent."""
        if self.intent_id is None or self.order_id is None or self.status is None:
            return None
        if self.symbol is None:
            return None
        filled = self.filled_quantity
        data: dict[str, object] = {
            "event_type": "execution_report",
            "intent_id": self.intent_id,
            "order_id": self.order_id,
            "symbol": self.symbol,
            "status": self.status,
            "filled_quantity": filled,
            "avg_fill_price": self.avg_fill_price if filled else 0.0,
            "timestamp": self.time,
            "quantity": self.quantity,
            "direction": self.direction,
        }
        if self.status == "REJECTED":
            data["reject_reason"] = self.message or f"rejected (code {self.code})"
        if self.kind == "fill" and self.exec_id:
            data["exec_id"] = self.exec_id
            data["last_fill_quantity"] = self.last_fill_quantity
            data["last_fill_price"] = self.last_fill_price
            data["commission"] = self.commission
        return ExecutionReport.model_validate(data)


def trading_mode_for(
    account_id: str | None, port: int | None = None
) -> tuple[TradingMode, tuple[str, ...]]:
    """Paper or live from the account prefix (``DU…`` paper) and the port (4002/7497 paper).

    Fails closed: anything that is not clearly paper is live. Conflicting evidence (a ``DU``
    account on a live port) is reported as live, with both pieces of evidence.
    """
    evidence: list[str] = []
    paper_votes: list[bool] = []
    if account_id:
        if account_id.upper().startswith("DU") or account_id.upper().startswith("DF"):
            evidence.append("account prefix DU (paper)")
            paper_votes.append(True)
        else:
            evidence.append(f"account prefix {account_id[:1].upper()} (live)")
            paper_votes.append(False)
    if port is not None:
        if port in (4002, 7497):
            evidence.append(f"port {port} (paper)")
            paper_votes.append(True)
        elif port in (4001, 7496):
            evidence.append(f"port {port} (live)")
            paper_votes.append(False)
        else:
            evidence.append(f"port {port} (not a standard IB port)")
    mode: TradingMode = "paper" if paper_votes and all(paper_votes) else "live"
    return mode, tuple(evidence)
