"""Pre-trade checks of the order plane (SPEC §3): every intent passes all of them or is refused.

Checks, in order (the first failure is the reason):

1. halt — the kill-switch latch is set, or the HALT flag of the rollback procedure exists;
2. duplicate — the intent id was already handled in this session;
3. whitelist — the symbol is in the universe (``data/assets.csv``);
4. price — a last price is known for the symbol (no price, no notional check, no trade);
5. collar — a limit price, or the decision price of a market order, within
   ``risk.price_collar`` of the last price;
6. order notional ≤ ``risk.max_order_notional`` (and ≤ the go-live stage's capital);
7. position notional after the order ≤ ``risk.max_position_notional`` and the go-live stage's
   ``max_position`` (SPEC §8: pilot $2,500 per position) — orders that only reduce a position
   always pass;
8. short sale — a resulting short position needs ``risk.allow_short``.

Pure: state in, a reason string (or ``None``) out.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from contracts.messages import OrderIntent
from engine.config import GatesConfig, GoLiveStage, RiskConfig


@dataclass(frozen=True)
class StageCaps:
    """Caps of a go-live stage: capital (USD) and the largest position (USD, ``None`` = no cap)."""

    name: str
    capital: float
    max_position: float | None


def stage_caps(gates: GatesConfig, stage: str | None) -> StageCaps | None:
    """The caps of go-live stage ``stage`` (by name), or ``None`` for no stage (paper default)."""
    if stage is None:
        return None
    found: GoLiveStage | None = next((s for s in gates.stages if s.name == stage), None)
    if found is None:
        names = ", ".join(s.name for s in gates.stages)
        raise ValueError(f"go-live stage {stage!r} is not configured; use one of {names}")
    return StageCaps(found.name, gates.capital * found.capital_fraction, found.max_position)


@dataclass(frozen=True)
class PreTradeChecks:
    """The order plane's checks, configured once per session."""

    risk: RiskConfig
    whitelist: frozenset[str]
    stage: StageCaps | None = None

    def check(
        self,
        intent: OrderIntent,
        *,
        last_price: float | None,
        position: int,
        halted: str | None,
        handled: Collection[str],
    ) -> str | None:
        """``None`` when the intent may go to the broker, else why not (names value and limit)."""
        if halted:
            return f"halted: {halted}"
        if str(intent.intent_id) in handled:
            return f"duplicate intent {intent.intent_id}"
        if intent.symbol not in self.whitelist:
            return f"symbol {intent.symbol!r} is not in the universe whitelist (data/assets.csv)"
        if last_price is None or last_price <= 0:
            return f"no market price for {intent.symbol}: cannot check notional or collar"
        collar = self.risk.price_collar
        ref = intent.limit_price if intent.limit_price is not None else intent.decision_price
        if ref is not None and abs(ref / last_price - 1.0) > collar:
            return (
                f"price collar: {ref:.4f} is {abs(ref / last_price - 1.0):.2%} from the last "
                f"price {last_price:.4f} (collar {collar:.2%})"
            )
        signed = intent.quantity if intent.direction == "BUY" else -intent.quantity
        order_notional = intent.quantity * last_price
        max_order = self.risk.max_order_notional
        if self.stage is not None:
            max_order = min(max_order, self.stage.capital)
        if order_notional > max_order:
            return f"order notional {order_notional:,.0f} exceeds the cap {max_order:,.0f}"
        after = position + signed
        reduces = abs(after) <= abs(position) and after * position >= 0
        if not reduces:
            cap = self.risk.max_position_notional
            if self.stage is not None and self.stage.max_position is not None:
                cap = min(cap, self.stage.max_position)
            if abs(after) * last_price > cap:
                where = f" (stage {self.stage.name})" if self.stage is not None else ""
                return (
                    f"position notional {abs(after) * last_price:,.0f} after the order exceeds "
                    f"the cap {cap:,.0f}{where}"
                )
            if after < 0 and not self.risk.allow_short:
                return f"short sale of {intent.symbol} refused: risk.allow_short is false"
        return None
