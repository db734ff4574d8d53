"""Pre-trade checks: each rule refuses exactly what it should, with the value and the limit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from contracts.messages import OrderIntent
from engine.config import GatesConfig, RiskConfig
from engine.planes.pretrade import PreTradeChecks, stage_caps

pytestmark = pytest.mark.unit


def intent(symbol: str = "AAPL", side: str = "BUY", qty: int = 100, **kw: object) -> OrderIntent:
    data: dict[str, object] = {
        "event_type": "order_intent", "intent_id": str(uuid.uuid4()), "symbol": symbol,
        "direction": side, "quantity": qty, "order_type": "MARKET",
        "decision_price": 100.0, "timestamp": datetime(2024, 1, 2, 15, tzinfo=UTC),
    }  # fmt: skip
    data.update(kw)
    return OrderIntent.model_validate(data)


def checks(**risk: object) -> PreTradeChecks:
    return PreTradeChecks(RiskConfig(**risk), frozenset({"AAPL", "MSFT"}))  # type: ignore[arg-type]


def run(c: PreTradeChecks, i: OrderIntent, *, price: float | None = 100.0, position: int = 0,
        halted: str | None = None, handled: tuple[str, ...] = ()) -> str | None:  # fmt: skip
    return c.check(i, last_price=price, position=position, halted=halted, handled=handled)


def test_a_normal_order_passes() -> None:
    assert run(checks(), intent()) is None


def test_halt_refuses_everything() -> None:
    assert run(checks(), intent(), halted="PnL -6%") == "halted: PnL -6%"


def test_duplicate_intent_refused() -> None:
    i = intent()
    assert "duplicate" in (run(checks(), i, handled=(str(i.intent_id),)) or "")


def test_symbol_outside_the_whitelist_refused() -> None:
    assert "whitelist" in (run(checks(), intent("ZZZZ")) or "")


def test_no_price_no_trade() -> None:
    assert "no market price" in (run(checks(), intent(), price=None) or "")


def test_price_collar_on_decision_and_limit_prices() -> None:
    c = checks(price_collar=0.05)
    assert run(c, intent(decision_price=104.9)) is None
    assert "collar" in (run(c, intent(decision_price=106.0)) or "")
    lim = intent(order_type="LIMIT", limit_price=94.0, decision_price=None)
    assert "collar" in (run(c, lim) or "")


def test_order_notional_cap() -> None:
    c = checks(max_order_notional=50_000.0)
    assert run(c, intent(qty=500)) is None
    reason = run(c, intent(qty=501)) or ""
    assert "order notional 50,100 exceeds the cap 50,000" in reason


def test_position_cap_but_reductions_always_pass() -> None:
    c = checks(max_position_notional=30_000.0)
    assert "position notional" in (run(c, intent(qty=200), position=200) or "")
    assert run(c, intent(side="SELL", qty=100), position=500) is None  # reduces


def test_short_sale_flag() -> None:
    assert "short sale" in (run(checks(allow_short=False), intent(side="SELL", qty=10)) or "")
    assert run(checks(allow_short=True), intent(side="SELL", qty=10)) is None
    # selling a long down to flat is not a short sale
    assert run(checks(allow_short=False), intent(side="SELL", qty=10), position=10) is None


def test_pilot_stage_caps_positions_at_2500() -> None:
    caps = stage_caps(GatesConfig(), "pilot")
    assert caps is not None and caps.max_position == 2_500.0 and caps.capital == 10_000.0
    c = PreTradeChecks(RiskConfig(), frozenset({"AAPL"}), caps)
    assert run(c, intent(qty=25)) is None
    assert "stage pilot" in (run(c, intent(qty=26)) or "")
    assert stage_caps(GatesConfig(), None) is None
    with pytest.raises(ValueError, match="pilot, ramp, full"):
        stage_caps(GatesConfig(), "moon")
