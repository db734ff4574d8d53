"""Our record of what we sent, keyed by intent id, reconciled against the broker's truth.

The ledger is what makes placement idempotent: an intent id already in the ledger is never sent
again. After a (re)connect the broker's open orders and executions — which carry the intent id as
``orderRef`` — are folded in with :meth:`IntentLedger.reconcile`, so an intent placed before a
crash or during an outage is recognised and its fills are not lost or counted twice (executions
are deduplicated by ``exec_id``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from contracts.messages import OrderStatus
from engine.broker.types import FINAL_ORDER_STATUSES, Execution, OpenOrder, OrderHandle


@dataclass
class LedgerEntry:
    """What we know about one intent."""

    intent_id: str
    order_id: str
    symbol: str
    quantity: int
    status: OrderStatus = "SUBMITTED"
    filled_quantity: int = 0
    exec_ids: set[str] = field(default_factory=set)
    reject_reason: str | None = None
    sequence: int = 0


@dataclass(frozen=True)
class ReconcileReport:
    """What a reconciliation changed."""

    adopted: tuple[str, ...] = ()
    recovered_fills: tuple[str, ...] = ()
    closed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.adopted or self.recovered_fills or self.closed)


class IntentLedger:
    """In-memory ledger of intents → broker orders and executions."""

    def __init__(self) -> None:
        self._entries: dict[str, LedgerEntry] = {}
        self._by_order: dict[str, str] = {}
        self._exec_ids: set[str] = set()
        self._sequence = 0

    def __contains__(self, intent_id: object) -> bool:
        return intent_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, intent_id: str) -> LedgerEntry | None:
        return self._entries.get(intent_id)

    def duplicate(self, intent_id: str) -> OrderHandle | None:
        """The handle of an intent already placed (answered without sending), else None."""
        known = self._entries.get(intent_id)
        if known is None:
            return None
        return OrderHandle(
            intent_id, known.order_id, known.status, known.reject_reason, duplicate=True
        )

    def by_order(self, order_id: str) -> LedgerEntry | None:
        intent = self._by_order.get(order_id)
        return self._entries.get(intent) if intent else None

    @property
    def sequence(self) -> int:
        """How many intents were recorded so far; take it *before* reading the broker's state."""
        return self._sequence

    def entries(self) -> list[LedgerEntry]:
        return list(self._entries.values())

    def record(
        self,
        intent_id: str,
        order_id: str,
        symbol: str,
        quantity: int,
        status: OrderStatus = "SUBMITTED",
        reject_reason: str | None = None,
    ) -> LedgerEntry:
        entry = LedgerEntry(
            intent_id, order_id, symbol, quantity, status, reject_reason=reject_reason,
            sequence=self._sequence,
        )  # fmt: skip
        self._sequence += 1
        self._entries[intent_id] = entry
        self._by_order[order_id] = intent_id
        return entry

    def update_status(self, order_id: str, status: OrderStatus, filled: int | None = None) -> None:
        entry = self.by_order(order_id)
        if entry is None:
            return
        if entry.status in FINAL_ORDER_STATUSES and status not in FINAL_ORDER_STATUSES:
            return  # a late non-final status never reopens a finished order
        entry.status = status
        if filled is not None:
            entry.filled_quantity = max(entry.filled_quantity, filled)

    def add_execution(self, execution: Execution) -> bool:
        """Fold in one fill; ``False`` when its ``exec_id`` was seen before (a duplicate)."""
        return self.add_fill(
            execution.exec_id, execution.order_id, execution.intent_id, execution.cum_quantity
        )

    def add_fill(
        self, exec_id: str, order_id: str, intent_id: str | None, cum_quantity: int
    ) -> bool:
        """:meth:`add_execution` from the bare facts (the hot path of the simulated broker)."""
        if exec_id in self._exec_ids:
            return False
        self._exec_ids.add(exec_id)
        entry = self.by_order(order_id)
        if entry is None and intent_id:
            entry = self._entries.get(intent_id)
        if entry is not None:
            entry.exec_ids.add(exec_id)
            entry.filled_quantity = max(entry.filled_quantity, cum_quantity)
            if entry.filled_quantity >= entry.quantity:
                entry.status = "FILLED"
            elif entry.status not in FINAL_ORDER_STATUSES:
                entry.status = "PARTIAL_FILL"
        return True

    def seen_exec(self, exec_id: str) -> bool:
        return exec_id in self._exec_ids

    def reconcile(
        self,
        open_orders: Iterable[OpenOrder],
        executions: Iterable[Execution],
        *,
        placed_before: int | None = None,
    ) -> ReconcileReport:
        """Make the ledger agree with the broker.

        * open orders carrying an unknown intent id are adopted (placed by an earlier session);
        * executions not yet seen are added (fills that happened while we were away);
        * intents the ledger thinks are working but the broker neither lists as open nor fully
          filled are closed as CANCELED (cancelled or expired while we were away).
        """
        adopted: list[str] = []
        recovered: list[str] = []
        closed: list[str] = []
        open_list = list(open_orders)
        open_ids = {o.order_id for o in open_list}
        for order in open_list:
            if order.intent_id and order.intent_id not in self._entries:
                self.record(
                    order.intent_id, order.order_id, order.symbol, order.quantity, order.status
                )
                adopted.append(order.intent_id)
            entry = self.by_order(order.order_id)
            if entry is not None:
                entry.filled_quantity = max(entry.filled_quantity, order.filled_quantity)
        for execution in executions:
            if execution.intent_id and execution.intent_id not in self._entries:
                self.record(
                    execution.intent_id,
                    execution.order_id,
                    execution.symbol,
                    execution.cum_quantity or execution.quantity,
                )
                adopted.append(execution.intent_id)
            if self.add_execution(execution):
                recovered.append(execution.exec_id)
        for entry in self._entries.values():
            if entry.status in FINAL_ORDER_STATUSES or entry.order_id in open_ids:
                continue
            if placed_before is not None and entry.sequence >= placed_before:
                continue
            if entry.filled_quantity >= entry.quantity:
                entry.status = "FILLED"
            else:
                entry.status = "CANCELED"
                closed.append(entry.intent_id)
        return ReconcileReport(tuple(adopted), tuple(recovered), tuple(closed))
