"""The five bus message contracts (SPEC §4) as frozen pydantic v2 models.

Every message carries ``event_type``, the discriminator of the :data:`Message` union. Field-level
rules live in the field types (see :mod:`contracts.types`) so pydantic-core checks them; the few
cross-field rules run in one cheap ``model_validator`` per model. Rules that JSON Schema can express
as ``if``/``then`` are also written into the generated schema (``json_schema_extra``); the rest are
listed in :data:`PYDANTIC_ONLY_RULES` and in each schema's ``description``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, model_validator
from pydantic_core import PydanticCustomError

from contracts.types import (
    CanonicalUuid,
    FiniteFloat,
    Identifier,
    NonNegativeInt,
    PositiveInt,
    Price,
    Quantity,
    Symbol,
    UtcTimestamp,
)

CONTRACTS_VERSION = "1.0.0"
"""Version of the message contracts; a breaking change bumps the major number."""

Direction: TypeAlias = Literal["BUY", "SELL"]
OrderType: TypeAlias = Literal["MARKET", "LIMIT", "STOP", "STOP_LIMIT", "ADAPTIVE"]
OrderStatus: TypeAlias = Literal[
    "SUBMITTED", "ACKNOWLEDGED", "PARTIAL_FILL", "FILLED", "CANCELED", "REJECTED"
]
TickType: TypeAlias = Literal["TRADE", "BID", "ASK", "LAST"]
TimeInForce: TypeAlias = Literal["DAY", "GTC", "IOC"]

EventType: TypeAlias = Literal[
    "bar_event", "tick_event", "ofi_event", "order_intent", "execution_report"
]

PYDANTIC_ONLY_RULES: dict[str, tuple[str, ...]] = {
    "bar_event": ("high >= max(open, close) and min(open, close) >= low (OHLC consistency)",),
    "tick_event": (),
    "ofi_event": (),
    "order_intent": (),
    "execution_report": (
        "filled_quantity <= quantity when quantity is present",
        "FILLED with quantity present: filled_quantity == quantity",
        "last_fill_quantity <= filled_quantity when both are present",
    ),
}
"""Cross-field rules JSON Schema cannot express; the pydantic models enforce them."""


def _cross_field_error(
    field: str, message: str, value: Any, more: tuple[tuple[str, str, Any], ...] = ()
) -> PydanticCustomError:
    """An error for a rule spanning fields; ``field`` becomes the reported path.

    ``more`` carries further ``(field, message, value)`` problems found by the same check; they
    are reported as separate issues (see ``contracts.validation.issues_from_error``).
    """
    ctx: dict[str, Any] = {"field": field, "value": value}
    if more:
        ctx["more"] = more
    return PydanticCustomError("cross_field", "{field}: " + message, ctx)


def _schema_description(summary: str, event_type: str) -> str:
    rules = PYDANTIC_ONLY_RULES[event_type]
    if not rules:
        return summary + " Every rule of this contract is expressed in this schema."
    listed = "; ".join(rules)
    return (
        f"{summary} Rules this schema cannot express, enforced by the pydantic model "
        f"contracts.messages: {listed}."
    )


def _message_config(
    title: str, event_type: str, summary: str, all_of: list[JsonValue] | None = None
) -> ConfigDict:
    """A message's model config: its schema title and a description naming the rules the
    schema cannot express, plus the schema's ``allOf`` conditions when there are any."""
    extra: dict[str, JsonValue] = {"description": _schema_description(summary, event_type)}
    if all_of is not None:
        extra["allOf"] = all_of
    return ConfigDict(title=title, json_schema_extra=extra)


class _MessageBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class BarEvent(_MessageBase):
    """An OHLCV bar for one symbol. Prices in quote currency; volume in shares/contracts."""

    model_config = _message_config(
        "BarEvent",
        "bar_event",
        "An OHLCV bar for one symbol (data plane -> market_events).",
    )

    event_type: Literal["bar_event"] = Field(
        title="Event type", description="Discriminator: always 'bar_event'."
    )
    symbol: Symbol = Field(title="Symbol", description="Upper-case ticker, e.g. 'AAPL'.")
    timestamp: UtcTimestamp = Field(
        title="Timestamp", description="Bar start time, ISO-8601 UTC (Z or +00:00)."
    )
    open: Price = Field(title="Open", description="Opening price, finite and > 0.")
    high: Price = Field(title="High", description="Highest price; >= max(open, close).")
    low: Price = Field(title="Low", description="Lowest price; <= min(open, close).")
    close: Price = Field(title="Close", description="Closing price, finite and > 0.")
    volume: Quantity = Field(title="Volume", description="Traded volume, finite and >= 0.")
    bar_size: (
        Annotated[str, Field(strict=True, pattern=r"^[1-9][0-9]{0,3} ?[A-Za-z]{1,6}$")] | None
    ) = Field(
        default=None,
        title="Bar size",
        description="Optional bar length such as '1min', '5 mins', '1d'.",
    )

    @model_validator(mode="after")
    def _ohlc_consistent(self) -> BarEvent:
        o, c = self.open, self.close
        if self.high >= (o if o > c else c) and self.low <= (c if o > c else o):
            return self
        problems: list[tuple[str, str, Any]] = []
        if self.high < max(o, c):
            problems.append(
                (
                    "high",
                    f"high {self.high} is below max(open, close) = {max(o, c)}; "
                    "a bar's high must be >= its open and close",
                    self.high,
                )
            )
        if self.low > min(o, c):
            problems.append(
                (
                    "low",
                    f"low {self.low} is above min(open, close) = {min(o, c)}; "
                    "a bar's low must be <= its open and close",
                    self.low,
                )
            )
        raise _cross_field_error(*problems[0], more=tuple(problems[1:]))


class TickEvent(_MessageBase):
    """One trade or quote update."""

    model_config = _message_config(
        "TickEvent",
        "tick_event",
        "One trade or quote update (data plane -> market_events).",
    )

    event_type: Literal["tick_event"] = Field(
        title="Event type", description="Discriminator: always 'tick_event'."
    )
    symbol: Symbol = Field(title="Symbol", description="Upper-case ticker, e.g. 'MSFT'.")
    timestamp: UtcTimestamp = Field(title="Timestamp", description="Event time, ISO-8601 UTC.")
    price: Price = Field(title="Price", description="Trade or quote price, finite and > 0.")
    size: Quantity = Field(title="Size", description="Trade or quote size, finite and >= 0.")
    tick_type: TickType = Field(title="Tick type", description="TRADE, BID, ASK or LAST.")


class OFIEvent(_MessageBase):
    """Order-flow imbalance over a window.

    ``ofi_value`` is a normalised imbalance in [-1, 1]; its exact formula is the producer's
    (the contract does not tie it to ``bid_volume``/``ask_volume``).
    """

    model_config = _message_config(
        "OFIEvent",
        "ofi_event",
        "Order-flow imbalance over a window (data plane -> market_events).",
    )

    event_type: Literal["ofi_event"] = Field(
        title="Event type", description="Discriminator: always 'ofi_event'."
    )
    symbol: Symbol = Field(title="Symbol", description="Upper-case ticker, e.g. 'TSLA'.")
    timestamp: UtcTimestamp = Field(title="Timestamp", description="Window end, ISO-8601 UTC.")
    ofi_value: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1.0, le=1.0)] = Field(
        title="OFI value", description="Normalised order-flow imbalance in [-1, 1]."
    )
    volume_imbalance: FiniteFloat = Field(
        title="Volume imbalance", description="Signed volume imbalance, finite (any sign)."
    )
    bid_volume: Quantity = Field(title="Bid volume", description="Bid-side volume, >= 0.")
    ask_volume: Quantity = Field(title="Ask volume", description="Ask-side volume, >= 0.")


_ORDER_INTENT_CONDITIONS: list[JsonValue] = [
    {
        "if": {
            "properties": {"order_type": {"enum": ["LIMIT", "STOP_LIMIT"]}},
            "required": ["order_type"],
        },
        "then": {
            "required": ["limit_price"],
            "properties": {"limit_price": {"type": "number"}},
        },
    },
    {
        "if": {
            "properties": {"order_type": {"enum": ["MARKET", "STOP"]}},
            "required": ["order_type"],
        },
        "then": {"properties": {"limit_price": {"type": "null"}}},
    },
    {
        "if": {
            "properties": {"order_type": {"enum": ["STOP", "STOP_LIMIT"]}},
            "required": ["order_type"],
        },
        "then": {
            "required": ["stop_price"],
            "properties": {"stop_price": {"type": "number"}},
        },
        "else": {"properties": {"stop_price": {"type": "null"}}},
    },
]


class OrderIntent(_MessageBase):
    """A strategy's decision to trade, before risk checks and routing.

    ``limit_price`` is required for LIMIT and STOP_LIMIT and must be absent/null for MARKET and
    STOP (optional for ADAPTIVE); ``stop_price`` is required for STOP and STOP_LIMIT and must be
    absent/null otherwise. Prices in quote currency; quantity in shares/contracts.
    """

    model_config = _message_config(
        "OrderIntent",
        "order_intent",
        "A strategy's decision to trade (strategy plane -> order_intents). "
        "limit_price is required for LIMIT/STOP_LIMIT and null/absent for MARKET/STOP; "
        "stop_price is required for STOP/STOP_LIMIT and null/absent otherwise.",
        _ORDER_INTENT_CONDITIONS,
    )

    event_type: Literal["order_intent"] = Field(
        title="Event type", description="Discriminator: always 'order_intent'."
    )
    intent_id: CanonicalUuid = Field(
        title="Intent id", description="UUID of the intent; becomes the broker's order_ref."
    )
    symbol: Symbol = Field(title="Symbol", description="Upper-case ticker, e.g. 'GOOGL'.")
    direction: Direction = Field(title="Direction", description="BUY or SELL.")
    quantity: PositiveInt = Field(title="Quantity", description="Whole shares/contracts, >= 1.")
    order_type: OrderType = Field(
        title="Order type", description="MARKET, LIMIT, STOP, STOP_LIMIT or ADAPTIVE."
    )
    limit_price: Price | None = Field(
        default=None,
        title="Limit price",
        description="Required for LIMIT/STOP_LIMIT; must be null/absent for MARKET/STOP.",
    )
    stop_price: Price | None = Field(
        default=None,
        title="Stop price",
        description="Required for STOP/STOP_LIMIT; must be null/absent otherwise.",
    )
    decision_price: Price | None = Field(
        default=None,
        title="Decision price",
        description="Optional price at decision time, for slippage and cost learning.",
    )
    time_in_force: TimeInForce = Field(
        default="DAY", title="Time in force", description="DAY (default), GTC or IOC."
    )
    timestamp: UtcTimestamp = Field(title="Timestamp", description="Decision time, ISO-8601 UTC.")

    @model_validator(mode="after")
    def _prices_match_order_type(self) -> OrderIntent:
        kind = self.order_type
        if kind == "MARKET":
            if self.limit_price is None and self.stop_price is None:
                return self
        elif kind == "LIMIT":
            if self.limit_price is not None and self.stop_price is None:
                return self
        elif kind == "STOP":
            if self.stop_price is not None and self.limit_price is None:
                return self
        elif kind == "STOP_LIMIT":
            if self.limit_price is not None and self.stop_price is not None:
                return self
        elif self.stop_price is None:  # ADAPTIVE: limit_price optional
            return self
        self._raise_price_error()
        return self  # pragma: no cover - _raise_price_error always raises

    def _raise_price_error(self) -> None:
        kind = self.order_type
        if kind in ("LIMIT", "STOP_LIMIT") and self.limit_price is None:
            raise _cross_field_error(
                "limit_price",
                f"limit_price is required for {kind} orders; give the limit price",
                None,
            )
        if kind in ("MARKET", "STOP") and self.limit_price is not None:
            raise _cross_field_error(
                "limit_price",
                f"limit_price must be null or absent for {kind} orders "
                "(use LIMIT or STOP_LIMIT to set a limit)",
                self.limit_price,
            )
        if kind in ("STOP", "STOP_LIMIT"):
            raise _cross_field_error(
                "stop_price",
                f"stop_price is required for {kind} orders; give the stop trigger price",
                None,
            )
        raise _cross_field_error(
            "stop_price",
            f"stop_price must be null or absent for {kind} orders "
            "(use STOP or STOP_LIMIT for a stop trigger)",
            self.stop_price,
        )


_EXECUTION_REPORT_CONDITIONS: list[JsonValue] = [
    {
        "if": {"properties": {"status": {"const": "REJECTED"}}, "required": ["status"]},
        "then": {
            "required": ["reject_reason"],
            "properties": {"reject_reason": {"type": "string", "minLength": 1}},
        },
        "else": {"properties": {"reject_reason": {"type": "null"}}},
    },
    {
        "if": {
            "properties": {"status": {"enum": ["FILLED", "PARTIAL_FILL"]}},
            "required": ["status"],
        },
        "then": {"properties": {"filled_quantity": {"exclusiveMinimum": 0}}},
    },
    {
        "if": {
            "properties": {"filled_quantity": {"exclusiveMinimum": 0}},
            "required": ["filled_quantity"],
        },
        "then": {"properties": {"avg_fill_price": {"exclusiveMinimum": 0}}},
    },
]


class ExecutionReport(_MessageBase):
    """The broker's answer to an intent: a status change and/or fills (order plane ->
    execution_reports). Quantities in whole shares/contracts; prices in quote currency."""

    model_config = _message_config(
        "ExecutionReport",
        "execution_report",
        "The broker's answer to an intent (order plane -> execution_reports). "
        "reject_reason is required and non-empty iff status is REJECTED; FILLED and "
        "PARTIAL_FILL need filled_quantity > 0; avg_fill_price > 0 when "
        "filled_quantity > 0.",
        _EXECUTION_REPORT_CONDITIONS,
    )

    event_type: Literal["execution_report"] = Field(
        title="Event type", description="Discriminator: always 'execution_report'."
    )
    intent_id: CanonicalUuid = Field(
        title="Intent id", description="UUID of the OrderIntent this report answers."
    )
    order_id: Identifier = Field(title="Order id", description="Broker order id, non-empty.")
    symbol: Symbol = Field(title="Symbol", description="Upper-case ticker, e.g. 'AMZN'.")
    status: OrderStatus = Field(
        title="Status",
        description="SUBMITTED, ACKNOWLEDGED, PARTIAL_FILL, FILLED, CANCELED or REJECTED.",
    )
    filled_quantity: NonNegativeInt = Field(
        title="Filled quantity", description="Cumulative filled quantity, >= 0."
    )
    avg_fill_price: Quantity = Field(
        title="Average fill price",
        description="Volume-weighted average fill price, >= 0; > 0 once anything filled.",
    )
    timestamp: UtcTimestamp = Field(title="Timestamp", description="Report time, ISO-8601 UTC.")
    reject_reason: Annotated[str, Field(strict=True, min_length=1)] | None = Field(
        default=None,
        title="Reject reason",
        description="Required and non-empty iff status is REJECTED; null/absent otherwise.",
    )
    quantity: PositiveInt | None = Field(
        default=None,
        title="Quantity",
        description="The intent's quantity when known; filled_quantity must not exceed it.",
    )
    direction: Direction | None = Field(
        default=None, title="Direction", description="BUY or SELL, when known."
    )
    exec_id: Identifier | None = Field(
        default=None, title="Execution id", description="Broker execution id of the last fill."
    )
    last_fill_quantity: NonNegativeInt | None = Field(
        default=None, title="Last fill quantity", description="Quantity of the last fill."
    )
    last_fill_price: Price | None = Field(
        default=None, title="Last fill price", description="Price of the last fill, > 0."
    )
    commission: FiniteFloat | None = Field(
        default=None,
        title="Commission",
        description="Commission of the last fill in account currency (negative = rebate).",
    )

    @model_validator(mode="after")
    def _status_consistent(self) -> ExecutionReport:
        status, filled = self.status, self.filled_quantity
        if status == "REJECTED":
            if self.reject_reason is None:
                raise _cross_field_error(
                    "reject_reason",
                    "reject_reason is required when status is REJECTED; say why",
                    None,
                )
        elif self.reject_reason is not None:
            raise _cross_field_error(
                "reject_reason",
                f"reject_reason must be null or absent when status is {status}",
                self.reject_reason,
            )
        if filled == 0:
            if status == "FILLED" or status == "PARTIAL_FILL":
                raise _cross_field_error(
                    "filled_quantity",
                    f"filled_quantity must be > 0 when status is {status}",
                    filled,
                )
        elif self.avg_fill_price <= 0:
            raise _cross_field_error(
                "avg_fill_price",
                f"avg_fill_price must be > 0 when filled_quantity is {filled}",
                self.avg_fill_price,
            )
        quantity = self.quantity
        if quantity is not None:
            if filled > quantity:
                raise _cross_field_error(
                    "filled_quantity",
                    f"filled_quantity {filled} exceeds the intent's quantity {quantity}",
                    filled,
                )
            if status == "FILLED" and filled != quantity:
                raise _cross_field_error(
                    "filled_quantity",
                    f"status FILLED needs filled_quantity == quantity ({filled} != {quantity}); "
                    "use PARTIAL_FILL for a partial fill",
                    filled,
                )
        last = self.last_fill_quantity
        if last is not None and last > filled:
            raise _cross_field_error(
                "last_fill_quantity",
                f"last_fill_quantity {last} exceeds the cumulative filled_quantity {filled}",
                last,
            )
        return self


AnyMessage: TypeAlias = BarEvent | TickEvent | OFIEvent | OrderIntent | ExecutionReport

Message = Annotated[AnyMessage, Field(discriminator="event_type")]
"""Any of the five messages, discriminated by ``event_type``."""

MESSAGE_MODELS: dict[str, type[_MessageBase]] = {
    "bar_event": BarEvent,
    "tick_event": TickEvent,
    "ofi_event": OFIEvent,
    "order_intent": OrderIntent,
    "execution_report": ExecutionReport,
}
"""``event_type`` -> model class."""

EVENT_TYPES: tuple[str, ...] = tuple(MESSAGE_MODELS)

MESSAGE_ADAPTER: TypeAdapter[AnyMessage] = TypeAdapter(Message)
"""One adapter for the discriminated union: parses and validates JSON in one pass."""
