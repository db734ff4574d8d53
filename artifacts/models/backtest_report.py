"""``BACKTEST_REPORT.json`` — a backtest's inputs (pinned by hash), every statistic, and diagnostics.

Units: returns, volatilities, drawdowns, turnover and hit rate are decimal fractions (0.12 = 12%),
annualised where the name says so; durations in trading days; money in the account currency.
A statistic that is undefined for the run (e.g. Sortino without a losing period) is ``null``.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from artifacts.models.base import (
    ArtifactModel,
    ArtifactRef,
    Fraction,
    FrozenModel,
    KillSwitchEventRecord,
    NonNegFloat,
    NonNegInt,
    Scalar,
    Sha256,
)

__all__ = [
    "BacktestPeriod",
    "BacktestReport",
    "BacktestStatistics",
    "CostBreakdown",
    "DroppedSignal",
    "FailedSolve",
    "GridRun",
    "GridSection",
    "QualitySummary",
    "RegimeSummary",
    "SignalSummary",
    "SignalTimeSeries",
]


class BacktestPeriod(FrozenModel):
    start: date = Field(title="Start", description="First trading day used.")
    end: date = Field(title="End", description="Last trading day used.")
    trading_days: int = Field(ge=1, title="Trading days", description="Rows in the panel.")
    rebalances: NonNegInt = Field(title="Rebalances", description="Rebalance dates walked.")

    @model_validator(mode="after")
    def _ordered(self) -> BacktestPeriod:
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before start {self.start}")
        return self


class BacktestStatistics(FrozenModel):
    """Performance statistics of the daily net-of-cost strategy returns."""

    total_return: float = Field(title="Total return", description="Final / initial equity − 1.")
    cagr: float | None = Field(title="CAGR", description="Compound annual growth rate.")
    annual_volatility: NonNegFloat | None = Field(
        title="Volatility", description="Annualised standard deviation of returns."
    )
    sharpe: float | None = Field(title="Sharpe", description="Annualised, risk-free rate 0.")
    sortino: float | None = Field(title="Sortino", description="Annualised, target 0.")
    max_drawdown: Fraction = Field(title="Max drawdown", description="Worst peak-to-trough.")
    max_drawdown_duration_days: NonNegInt = Field(
        title="Drawdown duration", description="Longest time under water, trading days."
    )
    calmar: float | None = Field(title="Calmar", description="CAGR / max drawdown.")
    turnover: NonNegFloat = Field(
        title="Turnover", description="Annualised one-way turnover (sum |Δw| per year)."
    )
    hit_rate: Fraction | None = Field(title="Hit rate", description="Share of positive days.")
    psr: Fraction | None = Field(
        title="PSR", description="Probabilistic Sharpe ratio vs SR* = 0 (Bailey & López de Prado)."
    )
    dsr: Fraction | None = Field(
        None, title="DSR", description="Deflated Sharpe ratio (when several trials were run)."
    )
    pbo: Fraction | None = Field(
        None, title="PBO", description="Probability of backtest overfitting (CSCV, grid runs)."
    )
    periods: int = Field(ge=1, title="Periods", description="Return observations.")
    periods_per_year: int = Field(ge=1, title="Periods per year", description="252 for daily.")
    final_equity: float = Field(title="Final equity", description="Account currency.")
    average_gross_exposure: NonNegFloat | None = Field(
        None, title="Gross exposure", description="Mean sum |w|."
    )
    average_net_exposure: float | None = Field(
        None, title="Net exposure", description="Mean sum w."
    )


class SignalSummary(FrozenModel):
    """One signal's predictive power and its weight in the ensemble."""

    name: str = Field(min_length=1, title="Signal", description="ofi, ern, vrp, pos, tsx, sif, …")
    mean_ic: float | None = Field(title="Mean IC", description="Mean rank IC vs forward return.")
    ic_tstat: float | None = Field(title="IC t-stat", description="Mean IC / its standard error.")
    mean_weight: Fraction = Field(title="Mean weight", description="Average ensemble weight.")
    final_weight: Fraction = Field(title="Final weight", description="Weight at the last date.")
    observations: NonNegInt = Field(title="IC observations", description="Dates with an IC.")


class SignalTimeSeries(FrozenModel):
    """Columnar ICs and weights over time: ``ics[t][k]`` for ``dates[t]`` and ``names[k]``."""

    dates: tuple[date, ...] = Field(title="Dates", description="Sampled dates.")
    names: tuple[str, ...] = Field(title="Signals", description="Column order of ics/weights.")
    ics: tuple[tuple[float | None, ...], ...] = Field(title="ICs", description="Rolling rank IC.")
    weights: tuple[tuple[float, ...], ...] = Field(title="Weights", description="Ensemble weights.")

    @model_validator(mode="after")
    def _shapes(self) -> SignalTimeSeries:
        t, k = len(self.dates), len(self.names)
        for label, matrix in (("ics", self.ics), ("weights", self.weights)):
            if len(matrix) != t or any(len(row) != k for row in matrix):
                raise ValueError(f"{label} must be {t} rows of {k} values (dates × names)")
        return self


class DroppedSignal(FrozenModel):
    name: str = Field(min_length=1, title="Signal", description="Signal name.")
    reason: str = Field(min_length=1, title="Reason", description="e.g. 'no eps_actual column'.")


class FailedSolve(FrozenModel):
    """A rebalance where the optimiser did not return a usable allocation."""

    rebalance_date: date = Field(title="Date", description="Rebalance date.")
    status: str = Field(min_length=1, title="Status", description="Solver status, e.g. infeasible.")
    fallback: Literal["keep_previous", "flat"] = Field(
        title="Fallback", description="What the backtest did instead."
    )
    message: str = Field("", title="Message", description="Solver message.")


class CostBreakdown(FrozenModel):
    """Trading costs over the run, account currency (fraction_of_capital = total / initial)."""

    commission: NonNegFloat = Field(title="Commission", description="Per-share commissions.")
    spread: NonNegFloat = Field(title="Spread", description="Half-spread cost.")
    impact: NonNegFloat = Field(title="Impact", description="Square-root market impact.")
    total: NonNegFloat = Field(title="Total", description="commission + spread + impact.")
    fraction_of_capital: NonNegFloat = Field(
        title="Of capital", description="total / initial capital."
    )
    traded_notional: NonNegFloat = Field(title="Traded", description="Sum of |traded value|.")

    @model_validator(mode="after")
    def _sum(self) -> CostBreakdown:
        parts = self.commission + self.spread + self.impact
        if abs(parts - self.total) > 1e-6 * max(1.0, abs(self.total)):
            raise ValueError(f"total {self.total} != commission + spread + impact = {parts}")
        return self


class QualitySummary(FrozenModel):
    """Data QA effects on the run."""

    symbol_days_untradable: NonNegInt = Field(
        title="Untradable symbol-days", description="Missing data: not traded that day."
    )
    warnings: tuple[str, ...] = Field((), title="Warnings", description="Loader and QA notes.")


class RegimeSummary(FrozenModel):
    """The regime filter's path, summarised."""

    states: tuple[str, ...] = Field(title="States", description="e.g. calm, normal, storm.")
    days_in_state: dict[str, NonNegInt] = Field(title="Days", description="Days per state.")
    transitions: NonNegInt = Field(title="Transitions", description="State changes.")
    accuracy_vs_truth: Fraction | None = Field(
        None, title="Accuracy", description="Agreement with the synthetic market's true regime."
    )


class GridRun(FrozenModel):
    parameters: dict[str, Scalar] = Field(title="Parameters", description="This run's settings.")
    sharpe: float | None = Field(title="Sharpe", description="Annualised Sharpe of the run.")
    cagr: float | None = Field(None, title="CAGR", description="CAGR of the run.")
    max_drawdown: Fraction | None = Field(None, title="Max drawdown", description="Of the run.")


class GridSection(FrozenModel):
    """A parameter grid run for overfitting statistics (DSR, PBO)."""

    parameters: tuple[str, ...] = Field(title="Parameters", description="Grid dimensions.")
    runs: tuple[GridRun, ...] = Field(min_length=1, title="Runs", description="One per grid point.")
    selected: int = Field(ge=0, title="Selected", description="Index of the reported run.")
    pbo: Fraction | None = Field(None, title="PBO", description="CSCV probability of overfitting.")
    cscv_partitions: int | None = Field(None, ge=2, title="CSCV splits", description="S.")

    @model_validator(mode="after")
    def _selected(self) -> GridSection:
        if self.selected >= len(self.runs):
            raise ValueError(f"selected {self.selected} out of range for {len(self.runs)} runs")
        return self


class BacktestReport(ArtifactModel):
    """What ``algotrade backtest`` ran on, what it found, and where its outputs are."""

    FILE_NAME: ClassVar[str] = "BACKTEST_REPORT.json"

    schema_version: Literal["1"] = "1"
    artifact_type: Literal["backtest_report"] = "backtest_report"

    config_hash: Sha256 = Field(title="Config hash", description="SHA-256 of the effective config.")
    data_fingerprint: Sha256 = Field(title="Data", description="SHA-256 of the market panel.")
    data_source: str = Field(
        min_length=1, title="Data source", description="'synthetic' or the data file path."
    )
    seed: int | None = Field(None, title="Seed", description="Synthetic market seed.")
    period: BacktestPeriod = Field(title="Period", description="Dates covered.")
    universe: tuple[str, ...] = Field(min_length=1, title="Universe", description="Symbols.")
    rebalance: Literal["daily", "weekly", "monthly"] = Field(
        title="Rebalance", description="Rebalance frequency."
    )
    execution: Literal["next_open", "next_close"] = Field(
        title="Execution", description="Decisions at close t fill at the next bar's open or close."
    )
    optimizer: str = Field(min_length=1, title="Optimizer", description="qp, hrp or bl.")
    initial_capital: float = Field(gt=0, title="Initial capital", description="Account currency.")
    statistics: BacktestStatistics = Field(title="Statistics", description="Performance.")
    signals: tuple[SignalSummary, ...] = Field(
        title="Signals", description="Per-signal IC and ensemble weight."
    )
    signal_timeseries: SignalTimeSeries | None = Field(
        None, title="Signal time series", description="ICs and weights over time (optional)."
    )
    dropped_signals: tuple[DroppedSignal, ...] = Field(
        (), title="Dropped signals", description="Signals without inputs, with the reason."
    )
    kill_switch_events: tuple[KillSwitchEventRecord, ...] = Field(
        (), title="Kill-switch events", description="Warnings and latched halts."
    )
    failed_solves: tuple[FailedSolve, ...] = Field(
        (), title="Failed solves", description="Rebalances without a usable allocation."
    )
    costs: CostBreakdown = Field(title="Costs", description="Trading costs over the run.")
    quality: QualitySummary | None = Field(None, title="Data QA", description="QA effects.")
    regime: RegimeSummary | None = Field(None, title="Regime", description="Regime filter path.")
    grid: GridSection | None = Field(None, title="Grid", description="Parameter grid, if run.")
    lookahead_checked: bool | None = Field(
        None, title="Look-ahead checked", description="True when --check-lookahead passed."
    )
    outputs: tuple[ArtifactRef, ...] = Field(
        (), title="Outputs", description="Chart PNG, daily CSV, … with their hashes."
    )
    runtime_seconds: NonNegFloat | None = Field(None, title="Runtime", description="Wall seconds.")
    warnings: tuple[str, ...] = Field((), title="Warnings", description="Notes for the reader.")
