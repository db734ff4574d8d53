"""Order intents for broker tests: a fresh intent id each call, timestamped now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts.messages import OrderIntent


def order_intent(
    symbol: str, direction: str, quantity: int, order_type: str = "MARKET", **extra: Any
) -> OrderIntent:
    """A valid ``OrderIntent``; ``extra`` sets further fields (``limit_price``, …)."""
    return OrderIntent.model_validate(
        {
            "event_type": "order_intent",
            "intent_id": str(uuid.uuid4()),
            "symbol": symbol,
            "direction": direction,
            "quantity": quantity,
            "order_type": order_type,
            "timestamp": datetime.now(UTC),
            **extra,
        }
    )
