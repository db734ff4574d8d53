"""``PAPER_TRADING_METRICS.csv`` — the paper session's time series, one validated row per sample."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from artifacts.models.base import ArtifactRow, Fraction, NonNegFloat, NonNegInt, UtcDatetime

__all__ = ["PaperTradingMetricsRow"]


class PaperTradingMetricsRow(ArtifactRow):
    """One sample of the paper session. Counters are cumulative since the session started.

    Money in the account currency; fractions as decimals (0.02 = 2%); latency in milliseconds.
    Empty cells are nulls (e.g. PSR before the minimum sample, latency before the first ack).
    """

    FILE_NAME: ClassVar[str] = "PAPER_TRADING_METRICS.csv"
    SCHEMA_VERSION: ClassVar[str] = "1"
    ARTIFACT_TYPE: ClassVar[str] = "paper_trading_metrics"

    timestamp: UtcDatetime = Field(
        title="Timestamp", description="Sample time (UTC, session clock)."
    )
    pnl: float = Field(title="P&L", description="Session P&L so far (realised + unrealised).")
    pnl_fraction: float = Field(title="P&L fraction", description="P&L / starting net liquidation.")
    drawdown: Fraction = Field(title="Drawdown", description="Drawdown from the high-water mark.")
    psr: Fraction | None = Field(None, title="PSR", description="Probabilistic Sharpe ratio.")
    orders: NonNegInt = Field(title="Orders", description="Orders submitted so far.")
    fills: NonNegInt = Field(title="Fills", description="Executions received so far.")
    fill_rate: Fraction | None = Field(
        None, title="Fill rate", description="Filled orders / submitted orders so far."
    )
    latency_p50_ms: NonNegFloat | None = Field(None, title="Latency p50", description="ms.")
    latency_p95_ms: NonNegFloat | None = Field(None, title="Latency p95", description="ms.")
    latency_p99_ms: NonNegFloat | None = Field(None, title="Latency p99", description="ms.")
    pacing_violations: NonNegInt = Field(
        title="Pacing violations", description="Pacing errors the broker reported so far."
    )
    gross_exposure: NonNegFloat | None = Field(
        None, title="Gross exposure", description="Sum of |position value| / net liquidation."
    )
    kill_switch_state: Literal["OK", "WARNING", "HALTED"] = Field(
        "OK", title="Kill switch", description="Worst kill-switch state at this sample."
    )
