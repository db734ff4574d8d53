"""A synchronous, deterministic exchange-and-account core shared by every simulated broker.

:class:`SimExchange` holds one account (cash, positions, orders, executions) and a fill model. It
knows nothing about asyncio, sockets or the ``Broker`` protocol: callers pass the current time in
(seconds, any epoch — the caller's clock) and get back a list of :class:`ExchangeEvent`. Both the
in-process :class:`~engine.broker.simulated.SimulatedBroker` and the simulated IB gateway wrap the
same core, so a behaviour proven against one holds for the other.

Fill model (all parameters in :class:`ExchangeConfig` / :class:`SymbolSpec`, seeded):

* quotes: ``bid = mid × (1 − h)``, ``ask = mid × (1 + h)`` with ``h = half_spread_bps / 10⁴``;
  the mid follows a seeded geometric random walk when ``volatility > 0`` (per √second);
* latency: an order becomes eligible to fill ``latency + U(0, latency_jitter)`` seconds after it
  is placed; with zero latency a marketable order fills inside :meth:`SimExchange.place`;
* participation: each fill slice takes at most ``participation × touch_size`` shares; the rest
  waits ``slice_interval`` seconds for the next slice (partial fills);
* prices: MARKET buys at the ask, sells at the bid; ADAPTIVE saves ``adaptive_improvement`` of the
  half spread; LIMIT fills at the touch when marketable, else rests; STOP / STOP_LIMIT trigger on
  the mid crossing the stop and then behave as MARKET / LIMIT; IOC cancels what the first slice
  did not fill;
* commissions: :mod:`engine.broker.commissions` (IBKR Pro Tiered by default), per execution;
* rejects, with IB error codes: unknown symbol (200), non-positive quantity, missing or
  out-of-collar limit price, insufficient buying power (201), duplicate order id (103);
  cancelling an unknown order gives 10147, a finished one 10148;
* pacing: :class:`MessageRateMonitor` counts client messages in a sliding one-second window;
  the wrapper decides what a violation does (IBKR: error 100, then disconnect).

Buying power is Reg-T-like: ``net_liquidation × leverage − gross position value − exposure
reserved by open orders``; an order that only reduces a position is never rejected for it.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from engine.broker.commissions import CommissionModel, CommissionSchedule, CommissionState

Side = Literal["BUY", "SELL"]
SimOrderType = Literal["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "ADAPTIVE"]
TimeInForce = Literal["DAY", "GTC", "IOC"]
ExchangeStatus = Literal["SUBMITTED", "PARTIAL_FILL", "FILLED", "CANCELED", "REJECTED"]
EventKind = Literal["status", "fill", "error"]

FINAL_STATUSES: frozenset[str] = frozenset({"FILLED", "CANCELED", "REJECTED"})

# IB error codes the core emits (see engine.broker.ib_errors for the full table).
CODE_DUPLICATE_ORDER_ID = 103
CODE_NO_SECURITY = 200
CODE_REJECTED = 201
CODE_CANCELLED = 202
CODE_CANCEL_NOT_FOUND = 10147
CODE_CANCEL_NOT_CANCELLABLE = 10148


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """A tradable symbol: starting mid price (USD), spread, displayed size and volatility."""

    symbol: str
    price: float
    half_spread_bps: float = 2.0
    touch_size: int = 10_000
    volatility: float = 0.0
    currency: str = "USD"
    con_id: int = 0


@dataclass(frozen=True, slots=True)
class ExchangeConfig:
    """Account and fill-model parameters (seconds, USD, fractions)."""

    seed: int = 0
    account_id: str = "DU1234567"
    currency: str = "USD"
    initial_cash: float = 1_000_000.0
    leverage: float = 2.0
    latency: float = 0.0
    latency_jitter: float = 0.0
    participation: float = 0.25
    slice_interval: float = 0.1
    collar: float = 0.05
    adaptive_improvement: float = 0.5
    message_limit: float | None = 50.0
    commissions: CommissionSchedule = field(default_factory=CommissionSchedule)


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """What a client asks for. ``order_ref`` carries our intent id (IB's ``orderRef``).

    ``order_id`` is the client's id (IB clients choose their own); ``None`` lets the exchange
    allocate the next free id for ``client_id``.
    """

    symbol: str
    side: Side
    quantity: int
    order_type: SimOrderType = "MARKET"
    limit_price: float | None = None
    stop_price: float | None = None
    time_in_force: TimeInForce = "DAY"
    order_ref: str = ""
    client_id: int = 0
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class ExchangeEvent:
    """Something that happened to an order: a status change, a fill or an error.

    ``filled``/``remaining``/``avg_fill_price`` are cumulative for the order; a fill also carries
    ``exec_id``, ``last_fill_quantity``, ``last_fill_price`` and its ``commission`` (USD).
    ``error_code`` is the IB code (201 reject, 202 cancelled, 10147 …) when there is one.
    """

    kind: EventKind
    order_id: int
    client_id: int
    perm_id: int
    order_ref: str
    symbol: str
    side: Side
    status: ExchangeStatus
    quantity: int
    filled: int
    remaining: int
    avg_fill_price: float
    time: float
    exec_id: str | None = None
    last_fill_quantity: int = 0
    last_fill_price: float = 0.0
    commission: float = 0.0
    realized_pnl: float = 0.0
    error_code: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution, as the exchange recorded it."""

    exec_id: str
    order_id: int
    client_id: int
    perm_id: int
    order_ref: str
    symbol: str
    side: Side
    shares: int
    price: float
    time: float
    commission: float
    cum_qty: int
    avg_price: float
    realized_pnl: float
    account_id: str


@dataclass(frozen=True, slots=True)
class OrderView:
    """A read-only snapshot of an order."""

    order_id: int
    client_id: int
    perm_id: int
    order_ref: str
    symbol: str
    side: Side
    quantity: int
    order_type: SimOrderType
    limit_price: float | None
    stop_price: float | None
    time_in_force: TimeInForce
    status: ExchangeStatus
    filled: int
    remaining: int
    avg_fill_price: float
    placed_at: float


@dataclass(frozen=True, slots=True)
class PositionView:
    """A position marked at the current mid (USD)."""

    symbol: str
    con_id: int
    quantity: int
    avg_cost: float
    market_price: float
    market_value: float
    unrealized_pnl: float
    realized_pnl: float
    currency: str


@dataclass(frozen=True, slots=True)
class AccountView:
    """The account marked at the current mids (USD)."""

    account_id: str
    currency: str
    cash: float
    net_liquidation: float
    gross_position_value: float
    buying_power: float
    realized_pnl: float
    unrealized_pnl: float
    commissions_paid: float


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    bid: float
    ask: float
    mid: float


class MessageRateMonitor:
    """Counts client messages in a sliding one-second window (IBKR: at most 50 per second).

    :meth:`record` returns ``False`` when the message just recorded makes the window exceed the
    limit; ``violations`` counts such messages. ``limit=None`` disables the check.
    """

    def __init__(self, limit: float | None = 50.0, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self.violations = 0
        self.messages = 0
        self._times: deque[float] = deque()

    def record(self, now: float) -> bool:
        self.messages += 1
        if self.limit is None:
            return True
        times = self._times
        times.append(now)
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) > self.limit:
            self.violations += 1
            return False
        return True

    def reset_window(self) -> None:
        """Forget the window (a new connection starts with a clean slate)."""
        self._times.clear()


@dataclass
class _Order:
    spec: OrderSpec
    order_id: int
    perm_id: int
    placed_at: float
    next_due: float
    status: ExchangeStatus = "SUBMITTED"
    filled: int = 0
    value: float = 0.0
    triggered: bool = False
    commission: CommissionState = field(default_factory=CommissionState)

    @property
    def remaining(self) -> int:
        return self.spec.quantity - self.filled

    @property
    def avg_price(self) -> float:
        return self.value / self.filled if self.filled else 0.0


@dataclass
class _Position:
    quantity: int = 0
    avg_cost: float = 0.0
    realized: float = 0.0


@dataclass
class _Symbol:
    spec: SymbolSpec
    mid: float
    updated: float


class SimExchange:
    """One simulated account at one simulated exchange. Not thread-safe; never blocks.

    Parameters
    ----------
    config
        Account and fill-model parameters.
    symbols
        The tradable universe; an order for any other symbol is rejected with code 200.
    now
        Start time (seconds) of the price clock.
    """

    def __init__(
        self,
        config: ExchangeConfig | None = None,
        symbols: Iterable[SymbolSpec] = (),
        *,
        now: float = 0.0,
    ) -> None:
        self.config = config or ExchangeConfig()
        self._rng = random.Random(self.config.seed)
        self._symbols: dict[str, _Symbol] = {}
        self._orders: dict[tuple[int, int], _Order] = {}
        self._max_id: dict[int, int] = {}
        self._working: dict[tuple[int, int], _Order] = {}
        self._positions: dict[str, _Position] = {}
        self._fills: list[Fill] = []
        self._cash = self.config.initial_cash
        self._commissions_paid = 0.0
        self._commission_model = CommissionModel(self.config.commissions)
        self._next_perm = 1_000_001
        self._exec_seq = 0
        self._now = now
        for spec in symbols:
            self.add_symbol(spec)

    # ----------------------------------------------------------------- universe and prices
    def add_symbol(self, spec: SymbolSpec) -> None:
        if spec.price <= 0 or not math.isfinite(spec.price):
            raise ValueError(f"symbol {spec.symbol}: price must be positive, got {spec.price}")
        con_id = spec.con_id or 100_000 + len(self._symbols) + 1
        self._symbols[spec.symbol] = _Symbol(replace(spec, con_id=con_id), spec.price, self._now)

    def symbols(self) -> tuple[SymbolSpec, ...]:
        return tuple(s.spec for s in self._symbols.values())

    def has_symbol(self, symbol: str) -> bool:
        return symbol in self._symbols

    def quote(self, symbol: str) -> Quote:
        sym = self._symbols[symbol]
        h = sym.spec.half_spread_bps / 10_000
        return Quote(symbol, sym.mid * (1 - h), sym.mid * (1 + h), sym.mid)

    def last_price(self, symbol: str) -> float:
        """The current mid (USD); raises ``KeyError`` for an unknown symbol."""
        return self._symbols[symbol].mid

    def set_price(self, symbol: str, price: float, now: float) -> list[ExchangeEvent]:
        """Move ``symbol``'s mid to ``price`` (a given price path) and fill what became due."""
        if price <= 0 or not math.isfinite(price):
            raise ValueError(f"price for {symbol} must be positive and finite, got {price}")
        self._symbols[symbol].mid = price
        self._symbols[symbol].updated = now
        for order in self._working.values():
            if order.spec.symbol == symbol:
                order.next_due = min(order.next_due, max(now, order.placed_at))
        return self.advance(now)

    # ----------------------------------------------------------------- order entry
    def place(self, spec: OrderSpec, now: float) -> list[ExchangeEvent]:
        """Accept or reject an order; with zero latency a marketable order fills right away."""
        self._walk_prices(now)
        order_id = spec.order_id if spec.order_id is not None else self._free_id(spec.client_id)
        key = (spec.client_id, order_id)
        reason = self._reject_reason(spec)
        if key in self._orders:
            return [
                self._error_event(
                    spec, order_id, now, CODE_DUPLICATE_ORDER_ID, f"Duplicate order id {order_id}"
                )
            ]
        delay = self.config.latency
        if self.config.latency_jitter > 0:
            delay += self._rng.uniform(0.0, self.config.latency_jitter)
        order = _Order(
            spec=spec,
            order_id=order_id,
            perm_id=self._next_perm,
            placed_at=now,
            next_due=now + delay,
            commission=self._commission_model.open_order(),
        )
        self._next_perm += 1
        self._orders[key] = order
        self._max_id[spec.client_id] = max(self._max_id.get(spec.client_id, 0), order_id)
        if reason is not None:
            code, text = reason
            order.status = "REJECTED"
            return [self._event(order, "error", now, error_code=code, reason=text)]
        self._working[key] = order
        events = [self._event(order, "status", now)]
        if order.next_due <= now:
            events.extend(self._work(order, now))
        return events

    def cancel(self, order_id: int, now: float, client_id: int = 0) -> list[ExchangeEvent]:
        """Cancel one order: 202 when cancelled, 10147 when unknown, 10148 when finished."""
        order = self._orders.get((client_id, order_id))
        if order is None:
            return [
                ExchangeEvent(
                    "error", order_id, client_id, 0, "", "", "BUY", "REJECTED", 0, 0, 0, 0.0, now,
                    error_code=CODE_CANCEL_NOT_FOUND,
                    reason=f"OrderId {order_id} that needs to be cancelled is not found.",
                )
            ]  # fmt: skip
        if order.status in FINAL_STATUSES:
            return [
                self._event(
                    order,
                    "error",
                    now,
                    error_code=CODE_CANCEL_NOT_CANCELLABLE,
                    reason=f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                    f"state: {order.status}.",
                    status=order.status,
                )
            ]
        return self._cancel(order, now, "Order Canceled - reason: cancelled by client")

    def cancel_all(self, now: float, client_id: int | None = None) -> list[ExchangeEvent]:
        """Global cancel: every working order (of ``client_id`` only, when given)."""
        events: list[ExchangeEvent] = []
        for order in list(self._working.values()):
            if client_id is None or order.spec.client_id == client_id:
                events.extend(self._cancel(order, now, "Order Canceled - reason: global cancel"))
        return events

    def advance(self, now: float) -> list[ExchangeEvent]:
        """Move prices to ``now`` and work every order that is due; returns what happened."""
        self._walk_prices(now)
        events: list[ExchangeEvent] = []
        for order in list(self._working.values()):
            if order.next_due <= now:
                events.extend(self._work(order, now))
        return events

    def next_due(self) -> float | None:
        """Earliest time at which :meth:`advance` can change something, or ``None``."""
        due = [o.next_due for o in self._working.values() if math.isfinite(o.next_due)]
        return min(due) if due else None

    # ----------------------------------------------------------------- state reads
    def order(self, order_id: int, client_id: int = 0) -> OrderView | None:
        order = self._orders.get((client_id, order_id))
        return self._view(order) if order else None

    def open_orders(self, client_id: int | None = None) -> list[OrderView]:
        return [
            self._view(o)
            for o in self._working.values()
            if client_id is None or o.spec.client_id == client_id
        ]

    def orders(self, client_id: int | None = None) -> list[OrderView]:
        """Every order ever placed (working and finished)."""
        return [
            self._view(o)
            for o in self._orders.values()
            if client_id is None or o.spec.client_id == client_id
        ]

    def orders_by_ref(self, order_ref: str) -> list[OrderView]:
        """Orders carrying ``order_ref`` (our intent id), working or finished."""
        return [self._view(o) for o in self._orders.values() if o.spec.order_ref == order_ref]

    def executions(self, since: float | None = None, client_id: int | None = None) -> list[Fill]:
        return [
            f
            for f in self._fills
            if (since is None or f.time >= since)
            and (client_id is None or f.client_id == client_id)
        ]

    def positions(self) -> list[PositionView]:
        out = []
        for symbol, pos in self._positions.items():
            if pos.quantity == 0:
                continue
            sym = self._symbols[symbol]
            value = pos.quantity * sym.mid
            out.append(
                PositionView(
                    symbol=symbol,
                    con_id=sym.spec.con_id,
                    quantity=pos.quantity,
                    avg_cost=pos.avg_cost,
                    market_price=sym.mid,
                    market_value=value,
                    unrealized_pnl=(sym.mid - pos.avg_cost) * pos.quantity,
                    realized_pnl=pos.realized,
                    currency=sym.spec.currency,
                )
            )
        return out

    def account(self) -> AccountView:
        gross = 0.0
        net_positions = 0.0
        unrealized = 0.0
        for p in self.positions():
            gross += abs(p.market_value)
            net_positions += p.market_value
            unrealized += p.unrealized_pnl
        net_liq = self._cash + net_positions
        reserved = sum(self._exposure_increase(o.spec, o.remaining) for o in self._working.values())
        buying_power = max(0.0, net_liq * self.config.leverage - gross - reserved)
        realized = sum(p.realized for p in self._positions.values())
        return AccountView(
            account_id=self.config.account_id,
            currency=self.config.currency,
            cash=self._cash,
            net_liquidation=net_liq,
            gross_position_value=gross,
            buying_power=buying_power,
            realized_pnl=realized,
            unrealized_pnl=unrealized,
            commissions_paid=self._commissions_paid,
        )

    # ----------------------------------------------------------------- persistence
    def to_state(self) -> dict[str, Any]:
        """The whole exchange as JSON-ready data (config, prices, orders, fills, account, RNG).

        ``SimExchange.from_state(ex.to_state())`` continues exactly where ``ex`` stopped, so a
        simulated account can live across processes (``--sim-state`` of the broker commands).
        """
        version, internal, gauss = self._rng.getstate()
        return {
            "state_version": 1,
            "config": _config_to_json(self.config),
            "now": self._now,
            "symbols": [
                {"spec": asdict(sym.spec), "mid": sym.mid, "updated": sym.updated}
                for sym in self._symbols.values()
            ],
            "orders": [
                {
                    "spec": asdict(o.spec),
                    "order_id": o.order_id,
                    "perm_id": o.perm_id,
                    "placed_at": o.placed_at,
                    "next_due": o.next_due if math.isfinite(o.next_due) else None,
                    "status": o.status,
                    "filled": o.filled,
                    "value": o.value,
                    "triggered": o.triggered,
                    "commission": asdict(o.commission),
                }
                for o in self._orders.values()
            ],
            "positions": {k: asdict(v) for k, v in self._positions.items()},
            "fills": [asdict(f) for f in self._fills],
            "cash": self._cash,
            "commissions_paid": self._commissions_paid,
            "month_volume": self._commission_model.month_volume,
            "next_perm": self._next_perm,
            "exec_seq": self._exec_seq,
            "max_id": {str(k): v for k, v in self._max_id.items()},
            "rng": [version, list(internal), gauss],
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> SimExchange:
        """Rebuild an exchange saved with :meth:`to_state`; raises ``ValueError`` when unusable."""
        if data.get("state_version") != 1:
            raise ValueError(
                f"simulated exchange state version {data.get('state_version')!r} is not 1; "
                "delete the state file to start a fresh demo account"
            )
        try:
            ex = cls(_config_from_json(data["config"]), now=float(data["now"]))
            for item in data["symbols"]:
                spec = SymbolSpec(**item["spec"])
                ex._symbols[spec.symbol] = _Symbol(spec, float(item["mid"]), float(item["updated"]))
            for item in data["orders"]:
                spec_data = dict(item["spec"])
                order = _Order(
                    spec=OrderSpec(**spec_data),
                    order_id=int(item["order_id"]),
                    perm_id=int(item["perm_id"]),
                    placed_at=float(item["placed_at"]),
                    next_due=math.inf if item["next_due"] is None else float(item["next_due"]),
                    status=item["status"],
                    filled=int(item["filled"]),
                    value=float(item["value"]),
                    triggered=bool(item["triggered"]),
                    commission=CommissionState(**item["commission"]),
                )
                key = (order.spec.client_id, order.order_id)
                ex._orders[key] = order
                if order.status not in FINAL_STATUSES:
                    ex._working[key] = order
            ex._positions = {k: _Position(**v) for k, v in data["positions"].items()}
            ex._fills = [Fill(**f) for f in data["fills"]]
            ex._cash = float(data["cash"])
            ex._commissions_paid = float(data["commissions_paid"])
            ex._commission_model.month_volume = float(data["month_volume"])
            ex._next_perm = int(data["next_perm"])
            ex._exec_seq = int(data["exec_seq"])
            ex._max_id = {int(k): int(v) for k, v in data["max_id"].items()}
            version, internal, gauss = data["rng"]
            ex._rng.setstate((version, tuple(internal), gauss))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"simulated exchange state is incomplete or malformed: {exc}") from exc
        return ex

    # ----------------------------------------------------------------- administration
    def set_position(self, symbol: str, quantity: int, avg_cost: float) -> None:
        """Seed a position without trading (a demo account, a restored state)."""
        if symbol not in self._symbols:
            raise KeyError(f"unknown symbol {symbol!r}; add it with add_symbol first")
        self._positions[symbol] = _Position(quantity=quantity, avg_cost=avg_cost)
        self._cash -= quantity * avg_cost

    # ----------------------------------------------------------------- internals
    def _free_id(self, client_id: int) -> int:
        return self._max_id.get(client_id, 0) + 1

    def _reject_reason(self, spec: OrderSpec) -> tuple[int, str] | None:
        if spec.symbol not in self._symbols:
            return CODE_NO_SECURITY, (
                f"No security definition has been found for the request (symbol {spec.symbol!r})"
            )
        if spec.quantity <= 0:
            return CODE_REJECTED, f"Order rejected - reason: quantity {spec.quantity} must be ≥ 1"
        mid = self._symbols[spec.symbol].mid
        if spec.order_type in ("LIMIT", "STOP_LIMIT") or (
            spec.order_type == "ADAPTIVE" and spec.limit_price is not None
        ):
            if spec.limit_price is None or spec.limit_price <= 0:
                return CODE_REJECTED, "Order rejected - reason: a limit price is required"
            distance = abs(spec.limit_price - mid) / mid
            if distance > self.config.collar:
                return CODE_REJECTED, (
                    f"Order rejected - reason: limit price {spec.limit_price:.4f} is "
                    f"{distance:.1%} from the market {mid:.4f}, outside the "
                    f"{self.config.collar:.1%} price collar"
                )
        if spec.order_type in ("STOP", "STOP_LIMIT") and (
            spec.stop_price is None or spec.stop_price <= 0
        ):
            return CODE_REJECTED, "Order rejected - reason: a stop price is required"
        increase = self._exposure_increase(spec, spec.quantity)
        if increase > 0:
            available = self.account().buying_power
            if increase > available:
                return CODE_REJECTED, (
                    f"Order rejected - reason: insufficient buying power: the order needs "
                    f"{increase:,.2f} {self.config.currency}, {available:,.2f} available"
                )
        return None

    def _exposure_increase(self, spec: OrderSpec, quantity: int) -> float:
        """USD by which ``quantity`` of ``spec`` would grow the gross position (0 if reducing)."""
        sym = self._symbols.get(spec.symbol)
        if sym is None:
            return 0.0
        held = self._positions.get(spec.symbol, _Position()).quantity
        signed = quantity if spec.side == "BUY" else -quantity
        growth = max(0, abs(held + signed) - abs(held))
        price = spec.limit_price if spec.limit_price is not None else sym.mid
        return growth * price

    def _walk_prices(self, now: float) -> None:
        if now <= self._now:
            return
        for sym in self._symbols.values():
            vol = sym.spec.volatility
            dt = now - sym.updated
            if vol > 0 and dt > 0:
                z = self._rng.gauss(0.0, 1.0)
                sym.mid *= math.exp(vol * math.sqrt(dt) * z - 0.5 * vol * vol * dt)
            sym.updated = now
        self._now = now

    def _fill_price(self, order: _Order) -> float | None:
        """Execution price if the order can trade now, else ``None`` (rests)."""
        spec = order.spec
        q = self.quote(spec.symbol)
        buy = spec.side == "BUY"
        kind = spec.order_type
        if kind in ("STOP", "STOP_LIMIT") and not order.triggered:
            assert spec.stop_price is not None
            if (buy and q.mid >= spec.stop_price) or (not buy and q.mid <= spec.stop_price):
                order.triggered = True
            else:
                return None
        touch = q.ask if buy else q.bid
        if kind in ("MARKET", "STOP"):
            return touch
        if kind == "ADAPTIVE":
            saved = self.config.adaptive_improvement * (q.ask - q.mid)
            price = touch - saved if buy else touch + saved
            limit = spec.limit_price
            if limit is not None and ((buy and price > limit) or (not buy and price < limit)):
                return None  # an Adaptive limit order waits for its price
            return price
        assert spec.limit_price is not None
        if (buy and touch <= spec.limit_price) or (not buy and touch >= spec.limit_price):
            return touch
        return None

    def _work(self, order: _Order, now: float) -> list[ExchangeEvent]:
        events: list[ExchangeEvent] = []
        slice_qty = max(
            1, int(self.config.participation * self._symbols[order.spec.symbol].spec.touch_size)
        )
        # Catch up on every slice that fell due since the last call (bounded by the remaining size).
        while order.status not in FINAL_STATUSES and order.next_due <= now:
            price = self._fill_price(order)
            if price is None:
                order.next_due = (
                    order.next_due + self.config.slice_interval
                    if self._symbols[order.spec.symbol].spec.volatility > 0
                    else math.inf
                )
                if order.next_due <= now:
                    order.next_due = now + self.config.slice_interval
                break
            events.append(self._execute(order, min(slice_qty, order.remaining), price, now))
            order.next_due += self.config.slice_interval
        if order.spec.time_in_force == "IOC" and order.status not in FINAL_STATUSES:
            events.extend(self._cancel(order, now, "Order Canceled - reason: IOC remainder"))
        return events

    def _execute(self, order: _Order, shares: int, price: float, now: float) -> ExchangeEvent:
        spec = order.spec
        commission = self._commission_model.charge(order.commission, spec.side, shares, price)
        realized = self._apply_fill(spec.symbol, spec.side, shares, price)
        self._cash -= commission
        self._commissions_paid += commission
        order.filled += shares
        order.value += shares * price
        order.status = "FILLED" if order.remaining == 0 else "PARTIAL_FILL"
        if order.status == "FILLED":
            self._working.pop((spec.client_id, order.order_id), None)
        self._exec_seq += 1
        exec_id = f"{order.perm_id:08x}.{self._exec_seq:08x}.01.01"
        fill = Fill(
            exec_id=exec_id,
            order_id=order.order_id,
            client_id=spec.client_id,
            perm_id=order.perm_id,
            order_ref=spec.order_ref,
            symbol=spec.symbol,
            side=spec.side,
            shares=shares,
            price=price,
            time=now,
            commission=commission,
            cum_qty=order.filled,
            avg_price=order.avg_price,
            realized_pnl=realized,
            account_id=self.config.account_id,
        )
        self._fills.append(fill)
        return self._event(
            order,
            "fill",
            now,
            exec_id=exec_id,
            last_fill_quantity=shares,
            last_fill_price=price,
            commission=commission,
            realized_pnl=realized,
        )

    def _apply_fill(self, symbol: str, side: Side, shares: int, price: float) -> float:
        pos = self._positions.setdefault(symbol, _Position())
        signed = shares if side == "BUY" else -shares
        self._cash -= signed * price
        realized = 0.0
        if pos.quantity == 0 or (pos.quantity > 0) == (signed > 0):
            total = abs(pos.quantity) + shares
            pos.avg_cost = (abs(pos.quantity) * pos.avg_cost + shares * price) / total
            pos.quantity += signed
        else:
            closing = min(shares, abs(pos.quantity))
            direction = 1 if pos.quantity > 0 else -1
            realized = closing * (price - pos.avg_cost) * direction
            pos.realized += realized
            pos.quantity += signed
            if pos.quantity == 0:
                pos.avg_cost = 0.0
            elif (pos.quantity > 0) != (direction > 0):
                pos.avg_cost = price
        return realized

    def _cancel(self, order: _Order, now: float, reason: str) -> list[ExchangeEvent]:
        order.status = "CANCELED"
        self._working.pop((order.spec.client_id, order.order_id), None)
        return [self._event(order, "status", now, error_code=CODE_CANCELLED, reason=reason)]

    def _view(self, order: _Order) -> OrderView:
        spec = order.spec
        return OrderView(
            order_id=order.order_id,
            client_id=spec.client_id,
            perm_id=order.perm_id,
            order_ref=spec.order_ref,
            symbol=spec.symbol,
            side=spec.side,
            quantity=spec.quantity,
            order_type=spec.order_type,
            limit_price=spec.limit_price,
            stop_price=spec.stop_price,
            time_in_force=spec.time_in_force,
            status=order.status,
            filled=order.filled,
            remaining=order.remaining,
            avg_fill_price=order.avg_price,
            placed_at=order.placed_at,
        )

    def _event(
        self,
        order: _Order,
        kind: EventKind,
        now: float,
        *,
        status: ExchangeStatus | None = None,
        exec_id: str | None = None,
        last_fill_quantity: int = 0,
        last_fill_price: float = 0.0,
        commission: float = 0.0,
        realized_pnl: float = 0.0,
        error_code: int | None = None,
        reason: str | None = None,
    ) -> ExchangeEvent:
        spec = order.spec
        filled = order.filled
        return ExchangeEvent(
            kind,
            order.order_id,
            spec.client_id,
            order.perm_id,
            spec.order_ref,
            spec.symbol,
            spec.side,
            status or order.status,
            spec.quantity,
            filled,
            spec.quantity - filled,
            order.value / filled if filled else 0.0,
            now,
            exec_id,
            last_fill_quantity,
            last_fill_price,
            commission,
            realized_pnl,
            error_code,
            reason,
        )

    def _error_event(
        self, spec: OrderSpec, order_id: int, now: float, code: int, reason: str
    ) -> ExchangeEvent:
        return ExchangeEvent(
            kind="error",
            order_id=order_id,
            client_id=spec.client_id,
            perm_id=0,
            order_ref=spec.order_ref,
            symbol=spec.symbol,
            side=spec.side,
            status="REJECTED",
            quantity=spec.quantity,
            filled=0,
            remaining=spec.quantity,
            avg_fill_price=0.0,
            time=now,
            error_code=code,
            reason=reason,
        )


def _config_to_json(config: ExchangeConfig) -> dict[str, Any]:
    data = asdict(config)
    data["commissions"]["tiers"] = [
        [None if math.isinf(bound) else bound, rate] for bound, rate in config.commissions.tiers
    ]
    return data


def _config_from_json(data: dict[str, Any]) -> ExchangeConfig:
    data = dict(data)
    comm = dict(data.pop("commissions"))
    comm["tiers"] = tuple(
        (math.inf if bound is None else float(bound), float(rate)) for bound, rate in comm["tiers"]
    )
    return ExchangeConfig(**data, commissions=CommissionSchedule(**comm))


def demo_exchange(
    *,
    positions: int = 0,
    resting_orders: int = 0,
    seed: int = 7,
    config: ExchangeConfig | None = None,
    now: float = 0.0,
) -> SimExchange:
    """A seeded demo account: ``positions`` open positions and ``resting_orders`` resting limits.

    Symbols are ``DEMO001``… with seeded prices between 20 and 200 USD; positions alternate long
    and short (10–200 shares); resting orders are limit orders 2 % away from the market (inside
    the collar, not marketable), spread over the symbols. Same seed, same account.
    """
    config = config or ExchangeConfig(seed=seed)
    rng = random.Random(seed)
    n_symbols = max(positions, 1, min(resting_orders, 50))
    specs = [
        SymbolSpec(f"DEMO{i + 1:03d}", round(rng.uniform(20, 200), 2)) for i in range(n_symbols)
    ]
    exchange = SimExchange(config, specs, now=now)
    for i in range(positions):
        spec = specs[i]
        qty = rng.randrange(10, 201, 10) * (1 if i % 2 == 0 else -1)
        exchange.set_position(spec.symbol, qty, round(spec.price * rng.uniform(0.97, 1.03), 2))
    for j in range(resting_orders):
        spec = specs[j % n_symbols]
        side: Side = "BUY" if j % 2 == 0 else "SELL"
        price = round(spec.price * (0.98 if side == "BUY" else 1.02), 2)
        events = exchange.place(
            OrderSpec(
                spec.symbol,
                side,
                rng.randrange(10, 101, 10),
                "LIMIT",
                limit_price=price,
                time_in_force="GTC",
                order_ref=f"demo-{j:04d}",
            ),
            now,
        )
        if events and events[0].status == "REJECTED":
            raise RuntimeError(f"demo order {j} rejected: {events[0].reason}")
    return exchange
