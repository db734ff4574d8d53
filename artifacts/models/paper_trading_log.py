"""``PAPER_TRADING_LOG.json`` — the paper session trade by trade, and the summary gate 7 judges."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.models.base import (
    ArtifactModel,
    ArtifactRef,
    BrokerKind,
    Direction,
    Fraction,
    FrozenModel,
    KillSwitchEventRecord,
    MaskedAccountId,
    NonNegFloat,
    NonNegInt,
    OrderStatus,
    OrderType,
    Sha256,
    TradingMode,
    UtcDatetime,
)

__all__ = [
    "BaselineRef",
    "FillRecord",
    "OrderRecord",
    "PaperSessionMeta",
    "PaperSessionSummary",
    "PaperTradingLog",
    "StatusChange",
    "TradeRecord",
]


class PaperSessionMeta(FrozenModel):
    """Who, where and how the session ran."""

    session_id: str = Field(min_length=1, title="Session id", description="Stable id of the run.")
    broker_kind: BrokerKind = Field(title="Broker", description="sim or ib.")
    host: str | None = Field(None, title="Host", description="Gateway host (ib).")
    port: int | None = Field(None, ge=1, le=65535, title="Port", description="Gateway port (ib).")
    account_id_masked: MaskedAccountId | None = Field(
        None, title="Account", description="Masked account id."
    )
    trading_mode: TradingMode = Field("paper", title="Mode", description="Always paper for gate 7.")
    started_at: UtcDatetime = Field(title="Started", description="Session start (session clock).")
    finished_at: UtcDatetime = Field(title="Finished", description="Session end (session clock).")
    duration_seconds: NonNegFloat = Field(
        title="Duration", description="Session-clock seconds covered."
    )
    wall_seconds: NonNegFloat | None = Field(
        None, title="Wall time", description="Real seconds the run took (accelerated clock)."
    )
    clock_speed: float = Field(
        1.0, gt=0, title="Clock speed", description="Simulated-clock multiplier."
    )
    bar_seconds: int = Field(ge=1, title="Bar size", description="Seconds per bar.")
    seed: int | None = Field(None, title="Seed", description="Simulator seed.")
    symbols: tuple[str, ...] = Field((), title="Universe", description="Symbols traded.")
    config_hash: Sha256 = Field(title="Config hash", description="SHA-256 of the effective config.")
    strategy_hash: Sha256 | None = Field(
        None, title="Strategy hash", description="SHA-256 of the strategy parameters."
    )
    resumed: NonNegInt = Field(0, title="Resumes", description="Times the session was resumed.")
    bus_backend: str | None = Field(None, title="Bus", description="memory or kafka.")
    journal_path: str | None = Field(None, title="Journal", description="Bus journal location.")

    @model_validator(mode="after")
    def _ordered(self) -> PaperSessionMeta:
        if self.finished_at < self.started_at:
            raise ValueError("finished_at is before started_at")
        return self


class StatusChange(FrozenModel):
    """One execution report's status transition."""

    at: UtcDatetime = Field(title="At", description="When the broker reported it.")
    status: OrderStatus = Field(title="Status", description="Order status after the change.")
    filled_quantity: NonNegInt = Field(title="Filled", description="Cumulative filled quantity.")
    reason: str | None = Field(None, title="Reason", description="Reject/cancel reason.")


class FillRecord(FrozenModel):
    """One execution (partial or full)."""

    exec_id: str = Field(min_length=1, title="Execution id", description="Broker execution id.")
    at: UtcDatetime = Field(title="At", description="Execution time.")
    quantity: int = Field(ge=1, title="Quantity", description="Shares in this execution.")
    price: float = Field(gt=0, title="Price", description="Execution price.")
    commission: NonNegFloat | None = Field(None, title="Commission", description="Commission.")


class OrderRecord(FrozenModel):
    """What the broker did with an intent: its order, status changes and fills."""

    order_id: str = Field(min_length=1, title="Order id", description="Broker order id.")
    submitted_at: UtcDatetime = Field(title="Submitted", description="When the order was sent.")
    acknowledged_at: UtcDatetime | None = Field(
        None, title="Acknowledged", description="When the broker acknowledged it."
    )
    latency_ms: NonNegFloat | None = Field(
        None, title="Latency", description="Intent → acknowledgement, milliseconds."
    )
    status_changes: tuple[StatusChange, ...] = Field(
        (), title="Status changes", description="Every status transition, in order."
    )
    fills: tuple[FillRecord, ...] = Field((), title="Fills", description="Every execution.")
    final_status: OrderStatus = Field(title="Final status", description="Status at session end.")
    filled_quantity: NonNegInt = Field(title="Filled", description="Total filled quantity.")
    avg_fill_price: NonNegFloat | None = Field(
        None, title="Average price", description="Volume-weighted fill price."
    )
    slippage_bps: float | None = Field(
        None, title="Slippage", description="Fill vs decision price, basis points (+ = worse)."
    )
    commission: NonNegFloat | None = Field(None, title="Commission", description="Total.")


class TradeRecord(FrozenModel):
    """One intent of the strategy plane and everything that happened to it."""

    intent_id: str = Field(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
        title="Intent id",
        description="UUID of the OrderIntent (carried to IB as orderRef).",
    )
    created_at: UtcDatetime = Field(title="Created", description="Decision time of the intent.")
    symbol: str = Field(min_length=1, title="Symbol", description="Ticker.")
    direction: Direction = Field(title="Direction", description="BUY or SELL.")
    quantity: int = Field(ge=1, title="Quantity", description="Shares.")
    order_type: OrderType = Field(title="Order type", description="MARKET, LIMIT, …")
    limit_price: float | None = Field(None, gt=0, title="Limit", description="Limit price.")
    stop_price: float | None = Field(None, gt=0, title="Stop", description="Stop price.")
    decision_price: float | None = Field(
        None, gt=0, title="Decision price", description="Price when the intent was made."
    )
    risk_rejected: str | None = Field(
        None,
        title="Risk rejection",
        description=(
            "Why no order was sent: a pre-trade check refused it, a duplicate intent, a halt, or "
            "the session ended first (then order is null)."
        ),
    )
    order: OrderRecord | None = Field(
        None, title="Order", description="The broker order, when one was sent."
    )

    @model_validator(mode="after")
    def _sent_or_refused(self) -> TradeRecord:
        if (self.order is None) == (self.risk_rejected is None):
            raise ValueError("exactly one of order and risk_rejected must be set")
        if self.order is not None and self.order.filled_quantity > self.quantity:
            raise ValueError(
                f"filled_quantity {self.order.filled_quantity} exceeds quantity {self.quantity}"
            )
        return self


class BaselineRef(FrozenModel):
    """The mock latency baseline the session was compared with."""

    p50_ms: NonNegFloat = Field(title="p50", description="Baseline median, ms.")
    p95_ms: NonNegFloat = Field(title="p95", description="Baseline p95, ms.")
    p99_ms: NonNegFloat = Field(title="p99", description="Baseline p99, ms.")
    source: ArtifactRef | None = Field(
        None, title="Source", description="LATENCY_BASELINE.json it came from, with its hash."
    )


class PaperSessionSummary(FrozenModel):
    """The figures gate 7 judges, and the rest of the session's vital signs."""

    intents: NonNegInt = Field(title="Intents", description="Intents produced.")
    orders_submitted: NonNegInt = Field(title="Orders", description="Orders sent to the broker.")
    orders_filled: NonNegInt = Field(title="Filled", description="Orders completely filled.")
    orders_partially_filled: NonNegInt = Field(0, title="Partial", description="Partly filled.")
    orders_rejected: NonNegInt = Field(0, title="Rejected", description="Broker rejects.")
    orders_cancelled: NonNegInt = Field(0, title="Cancelled", description="Cancelled orders.")
    risk_rejections: NonNegInt = Field(0, title="Risk rejections", description="Refused pre-trade.")
    trades: NonNegInt = Field(title="Trades", description="Orders with at least one fill.")
    fills: NonNegInt = Field(title="Fills", description="Executions received.")
    fill_rate: Fraction | None = Field(
        title="Fill rate", description="orders_filled / orders_submitted (None when no orders)."
    )
    latency_p50_ms: NonNegFloat | None = Field(title="Latency p50", description="ms.")
    latency_p95_ms: NonNegFloat | None = Field(title="Latency p95", description="ms.")
    latency_p99_ms: NonNegFloat | None = Field(title="Latency p99", description="ms.")
    baseline: BaselineRef | None = Field(
        None, title="Baseline", description="Mock baseline latency (None = not compared)."
    )
    latency_delta: float | None = Field(
        None,
        title="Latency delta",
        description="(paper − baseline) / baseline on latency_delta_basis; 0.2 = 20% slower.",
    )
    latency_delta_basis: Literal["p50", "p95", "p99"] = Field(
        "p95", title="Delta basis", description="Which percentile latency_delta compares."
    )
    pacing_violations: NonNegInt = Field(
        title="Pacing violations", description="Pacing errors reported by the broker."
    )
    pnl: float = Field(title="P&L", description="Session P&L, account currency.")
    max_drawdown: Fraction = Field(title="Max drawdown", description="Worst drawdown, fraction.")
    commissions: NonNegFloat = Field(0.0, title="Commissions", description="Total commissions.")
    sharpe_paper: float | None = Field(
        title="Sharpe (paper)", description="Annualised Sharpe of the session's returns."
    )
    sharpe_backtest: float | None = Field(
        None, title="Sharpe (backtest)", description="From BACKTEST_REPORT.json."
    )
    backtest_report: ArtifactRef | None = Field(
        None, title="Backtest report", description="The report sharpe_backtest came from."
    )
    psr: Fraction | None = Field(None, title="PSR", description="PSR at session end.")
    dlq_counts: dict[str, NonNegInt] = Field(
        default_factory=dict, title="DLQ", description="Dead-lettered messages per DLQ topic."
    )
    kill_switch_events: tuple[KillSwitchEventRecord, ...] = Field(
        (), title="Kill-switch events", description="Warnings and trips during the session."
    )
    cost_coefficient: float | None = Field(
        None,
        title="Cost coefficient",
        description="Final online estimate of the impact coefficient.",
    )


class PaperTradingLog(ArtifactModel):
    """Everything gate 7 needs: the session, every trade, the summary, and the metrics file."""

    FILE_NAME: ClassVar[str] = "PAPER_TRADING_LOG.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["paper_trading_log"] = "paper_trading_log"

    session: PaperSessionMeta = Field(title="Session", description="Where and how it ran.")
    trades: tuple[TradeRecord, ...] = Field(
        title="Trades", description="Every intent with its order, status changes and fills."
    )
    summary: PaperSessionSummary = Field(title="Summary", description="What gate 7 judges.")
    metrics_file: ArtifactRef | None = Field(
        None, title="Metrics", description="PAPER_TRADING_METRICS.csv written with this log."
    )
    logs_dir: str | None = Field(None, title="Logs", description="Structured plane logs.")
    warnings: tuple[str, ...] = Field((), title="Warnings", description="Notes for the reader.")

    @model_validator(mode="after")
    def _summary_matches(self) -> PaperTradingLog:
        if self.summary.intents != len(self.trades):
            raise ValueError(
                f"summary.intents is {self.summary.intents} but {len(self.trades)} trades are listed"
            )
        return self
