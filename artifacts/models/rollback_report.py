"""``ROLLBACK_REPORT.json`` — what ``algotrade rollback`` did (SPEC §7), step by step, and the verdict."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.models.base import (
    ArtifactModel,
    BrokerKind,
    Direction,
    FrozenModel,
    MaskedAccountId,
    NonNegFloat,
    NonNegInt,
    TradingMode,
    UtcDatetime,
)

__all__ = [
    "CancelledOrder",
    "ClosedPosition",
    "RollbackFill",
    "RollbackPnL",
    "RollbackReport",
    "RollbackStep",
    "StepName",
]

StepName = Literal["cancel", "detach", "flatten", "verify"]
STEP_ORDER: tuple[StepName, ...] = ("cancel", "detach", "flatten", "verify")


class RollbackStep(FrozenModel):
    """One step of the procedure with its timing."""

    name: StepName = Field(title="Step", description="cancel, detach, flatten or verify.")
    started_at: UtcDatetime = Field(title="Started", description="UTC.")
    finished_at: UtcDatetime = Field(title="Finished", description="UTC.")
    seconds: NonNegFloat = Field(title="Seconds", description="Duration of the step.")
    ok: bool = Field(title="OK", description="Whether the step achieved its aim.")
    messages_sent: NonNegInt = Field(0, title="Messages", description="Broker messages (paced).")
    detail: str = Field("", title="Detail", description="What happened.")


class CancelledOrder(FrozenModel):
    order_id: str = Field(min_length=1, title="Order id", description="Broker order id.")
    symbol: str = Field(min_length=1, title="Symbol", description="Ticker.")
    intent_id: str | None = Field(None, title="Intent id", description="orderRef, when ours.")
    direction: Direction | None = Field(None, title="Direction", description="BUY or SELL.")
    remaining_quantity: NonNegInt = Field(
        title="Remaining", description="Unfilled shares cancelled."
    )
    confirmed: bool = Field(title="Confirmed", description="The broker confirmed the cancel.")


class ClosedPosition(FrozenModel):
    symbol: str = Field(min_length=1, title="Symbol", description="Ticker.")
    quantity_before: int = Field(title="Before", description="Signed position before (short < 0).")
    quantity_after: int = Field(title="After", description="Signed position after (0 = closed).")
    order_id: str | None = Field(None, title="Order id", description="The closing order.")
    avg_fill_price: NonNegFloat | None = Field(None, title="Price", description="Average fill.")
    realised_pnl: float | None = Field(None, title="Realised P&L", description="Of the close.")


class RollbackFill(FrozenModel):
    exec_id: str = Field(min_length=1, title="Execution id", description="Broker execution id.")
    order_id: str = Field(min_length=1, title="Order id", description="Broker order id.")
    symbol: str = Field(min_length=1, title="Symbol", description="Ticker.")
    direction: Direction = Field(title="Direction", description="BUY or SELL.")
    quantity: int = Field(ge=1, title="Quantity", description="Shares.")
    price: float = Field(gt=0, title="Price", description="Execution price.")
    commission: NonNegFloat | None = Field(None, title="Commission", description="Commission.")
    at: UtcDatetime = Field(title="At", description="UTC.")


class RollbackPnL(FrozenModel):
    """Money before and after, account currency."""

    net_liquidation_before: float | None = Field(None, title="NLV before", description="Start.")
    net_liquidation_after: float | None = Field(None, title="NLV after", description="End.")
    realised: float | None = Field(None, title="Realised", description="Realised by closing.")
    commissions: NonNegFloat = Field(0.0, title="Commissions", description="Paid during rollback.")


class RollbackReport(ArtifactModel):
    """The rollback record: FLAT only when the broker reports no open orders and no positions."""

    FILE_NAME: ClassVar[str] = "ROLLBACK_REPORT.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["rollback_report"] = "rollback_report"

    broker_kind: BrokerKind = Field(title="Broker", description="sim or ib.")
    account_id_masked: MaskedAccountId | None = Field(None, title="Account", description="Masked.")
    trading_mode: TradingMode = Field(title="Mode", description="paper or live.")
    trigger: Literal["manual", "kill_switch", "drill"] = Field(
        title="Trigger", description="Why it ran: by hand, a HALT_AND_FLATTEN, or a gate 8 drill."
    )
    reason: str | None = Field(None, title="Reason", description="Operator's or switch's reason.")
    started_at: UtcDatetime = Field(title="Started", description="UTC.")
    finished_at: UtcDatetime = Field(title="Finished", description="UTC.")
    total_seconds: NonNegFloat = Field(title="Total", description="Start to verified flat.")
    target_seconds: float = Field(gt=0, title="Target", description="Flat within (SPEC: 120).")
    within_target: bool = Field(title="Within target", description="total_seconds <= target.")
    steps: tuple[RollbackStep, ...] = Field(
        title="Steps", description="cancel → detach → flatten → verify, as run."
    )
    orders_cancelled: tuple[CancelledOrder, ...] = Field(
        (), title="Cancelled", description="Open orders cancelled."
    )
    positions_closed: tuple[ClosedPosition, ...] = Field(
        (), title="Closed", description="Positions flattened."
    )
    fills: tuple[RollbackFill, ...] = Field((), title="Fills", description="Closing executions.")
    pnl: RollbackPnL = Field(title="P&L", description="Money before and after.")
    remaining_open_orders: NonNegInt = Field(title="Open orders left", description="At verify.")
    remaining_positions: NonNegInt = Field(title="Positions left", description="At verify.")
    verdict: Literal["FLAT", "NOT_FLAT"] = Field(title="Verdict", description="Broker says flat?")
    pacing_violations: NonNegInt = Field(0, title="Pacing violations", description="During it.")
    halt_flag_path: str | None = Field(
        None, title="HALT flag", description="The persisted flag that detaches strategies."
    )
    logs_dir: str | None = Field(None, title="Logs", description="Where the logs are.")
    dlq_paths: tuple[str, ...] = Field((), title="DLQ", description="Dead-letter files/topics.")
    next_steps: tuple[str, ...] = Field(
        (), title="Next steps", description="Investigate, report, fix (SPEC §7 steps 5–7)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> RollbackReport:
        flat = self.remaining_open_orders == 0 and self.remaining_positions == 0
        if (self.verdict == "FLAT") != flat:
            raise ValueError(
                f"verdict {self.verdict} contradicts remaining_open_orders="
                f"{self.remaining_open_orders}, remaining_positions={self.remaining_positions}"
            )
        if self.within_target != (self.total_seconds <= self.target_seconds):
            raise ValueError("within_target must equal total_seconds <= target_seconds")
        names = [step.name for step in self.steps]
        if names != sorted(names, key=STEP_ORDER.index):
            raise ValueError(
                f"steps must run in the order cancel, detach, flatten, verify: {names}"
            )
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self
