"""The gateway's order records and what it reports about them.

``OrderBook`` keeps one :class:`GatewayOrder` per (client id, order id) — the parsed client order
and its IB status — next to the shared exchange core, which holds fills and working state. It
builds the views behind openOrder / orderStatus / completedOrder / execDetails.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engine.broker.sim_exchange import ExchangeEvent, SimExchange
from engine.broker.sim_exchange import OrderView as ExchangeOrder
from engine.broker.simgateway import messages as m
from engine.broker.simgateway.config import IB_STATUS, ORDER_TYPES
from engine.broker.simgateway.instruments import ContractSpec, Instrument, InstrumentRegistry
from engine.broker.simgateway.orders import ParsedOrder
from engine.broker.simgateway.reports import ExecutionFilter, ib_time


@dataclass
class GatewayOrder:
    """The gateway's record of a client order (the exchange holds fills and status)."""

    client_id: int
    parsed: ParsedOrder
    instrument: Instrument
    perm_id: int = 0
    status: str = "PendingSubmit"
    contract: ContractSpec = field(init=False)

    def __post_init__(self) -> None:
        self.contract = self.instrument.contract(self.parsed.contract.exchange or "SMART")


class OrderBook:
    """Gateway-side order records for one account held by ``exchange``."""

    def __init__(self, exchange: SimExchange, registry: InstrumentRegistry, account: str) -> None:
        self.exchange = exchange
        self.registry = registry
        self.account = account
        self.orders: dict[tuple[int, int], GatewayOrder] = {}
        self.stalled: list[tuple[int, ParsedOrder, Instrument]] = []

    def next_order_id(self) -> int:
        ids = [oid for _, oid in self.orders]
        return max(ids, default=0) + 1

    def execution_view(self, record: GatewayOrder, ev: ExchangeEvent) -> m.ExecutionView:
        assert ev.exec_id is not None
        return m.ExecutionView(
            exec_id=ev.exec_id,
            order_id=ev.order_id,
            client_id=ev.client_id,
            perm_id=ev.perm_id,
            contract=record.contract,
            time=ib_time(ev.time),
            account=self.account,
            exchange=record.instrument.primary_exchange,
            side="BOT" if ev.side == "BUY" else "SLD",
            shares=float(ev.last_fill_quantity),
            price=ev.last_fill_price,
            cum_qty=float(ev.filled),
            avg_price=ev.avg_fill_price,
            order_ref=ev.order_ref,
        )

    def view(self, record: GatewayOrder, ev: ExchangeEvent | None) -> m.OrderView:
        p = record.parsed
        filled = float(ev.filled) if ev is not None else 0.0
        avg = ev.avg_fill_price if ev is not None else 0.0
        last = ev.last_fill_price if ev is not None else 0.0
        if ev is None:
            snap = self.exchange.order(p.order_id, record.client_id)
            if snap is not None:
                filled, avg = float(snap.filled), snap.avg_fill_price
        return m.OrderView(
            order_id=p.order_id,
            client_id=record.client_id,
            perm_id=record.perm_id,
            contract=record.contract,
            action=p.action,
            total_quantity=p.total_quantity,
            order_type=p.order_type,
            lmt_price=p.lmt_price,
            aux_price=p.aux_price,
            tif=p.tif or "DAY",
            account=self.account,
            order_ref=p.order_ref,
            status=record.status,
            filled=filled,
            avg_fill_price=avg,
            last_fill_price=last,
            parent_id=p.parent_id,
            outside_rth=p.outside_rth,
            algo_strategy=p.algo_strategy,
            algo_params=p.algo_params,
        )

    def open_order_messages(self, client_id: int | None, server_version: int) -> list[m.Msg]:
        """openOrder + orderStatus per working order (of ``client_id``; all when None)."""
        out: list[m.Msg] = []
        for snap in self.exchange.open_orders(client_id):
            record = self.orders.get((snap.client_id, snap.order_id))
            if record is None:
                record = self.adopt(snap)
                if record is None:
                    continue
            view = self.view(record, None)
            out.append(m.open_order(view, server_version))
            out.append(m.order_status(view))
        for cid, parsed, _ in self.stalled:
            if client_id is None or cid == client_id:
                view = self.view(self.orders[(cid, parsed.order_id)], None)
                out.append(m.open_order(view, server_version))
        return out

    def adopt(self, snap: ExchangeOrder) -> GatewayOrder | None:
        """Make a gateway record for an exchange order placed outside the socket (demo seed)."""
        inst = self.registry.by_symbol(snap.symbol)
        if inst is None:
            return None
        ib_type = {v: k for k, v in ORDER_TYPES.items()}.get(snap.order_type, "MKT")
        parsed = ParsedOrder(
            order_id=snap.order_id,
            contract=inst.contract(),
            action=snap.side,
            total_quantity=float(snap.quantity),
            order_type=ib_type,
            lmt_price=snap.limit_price,
            aux_price=snap.stop_price,
            tif=snap.time_in_force,
            account=self.account,
            order_ref=snap.order_ref,
            transmit=True,
            parent_id=0,
            outside_rth=False,
            what_if=False,
            algo_strategy="",
            algo_params=(),
            cash_qty=None,
            conditions=0,
        )
        record = GatewayOrder(snap.client_id, parsed, inst, snap.perm_id, IB_STATUS[snap.status])
        self.orders[(snap.client_id, snap.order_id)] = record
        return record

    def completed_order_messages(self, server_version: int) -> list[m.Msg]:
        out: list[m.Msg] = []
        for snap in self.exchange.orders():
            if snap.status not in ("FILLED", "CANCELED", "REJECTED"):
                continue
            record = self.orders.get((snap.client_id, snap.order_id)) or self.adopt(snap)
            if record is None:
                continue
            status = IB_STATUS[snap.status]
            view = replace(
                self.view(record, None),
                status=status,
                completed_time=ib_time(snap.placed_at),
                completed_status=status,
            )
            out.append(m.completed_order(view, server_version))
        return out

    def execution_messages(
        self, req_id: int, flt: ExecutionFilter, server_version: int
    ) -> list[m.Msg]:
        """execDetails (+ commissionReport) per execution matching the filter."""
        out: list[m.Msg] = []
        for fill in self.exchange.executions():
            if not flt.matches(fill.client_id, fill.account_id, fill.time, fill.symbol, fill.side):
                continue
            record = self.orders.get((fill.client_id, fill.order_id))
            inst = record.instrument if record else self.registry.by_symbol(fill.symbol)
            if inst is None:
                continue
            execution = m.ExecutionView(
                exec_id=fill.exec_id,
                order_id=fill.order_id,
                client_id=fill.client_id,
                perm_id=fill.perm_id,
                contract=inst.contract(),
                time=ib_time(fill.time),
                account=fill.account_id,
                exchange=inst.primary_exchange,
                side="BOT" if fill.side == "BUY" else "SLD",
                shares=float(fill.shares),
                price=fill.price,
                cum_qty=float(fill.cum_qty),
                avg_price=fill.avg_price,
                order_ref=fill.order_ref,
            )
            out.append(m.exec_details(req_id, execution, server_version))
            out.append(
                m.commission_report(fill.exec_id, fill.commission, "USD", fill.realized_pnl or None)
            )
        return out
