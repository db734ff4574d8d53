"""A finished backtest → its files: ``BACKTEST_REPORT.json``, the chart and the daily CSV.

:func:`backtest_report` turns an :class:`engine.backtest.request.BacktestRun` into the
:class:`~artifacts.models.backtest_report.BacktestReport` model (pure: the time, the runtime and
the output references are passed in); :func:`write_backtest_outputs` writes the chart and the CSV,
pins them by hash in the report and writes the report (schema-validated, atomic);
:func:`backtest_summary` is the JSON-ready summary the command prints or renders.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from artifacts.io import atomic_write_bytes, atomic_write_text, sha256_file, write_artifact
from artifacts.models.backtest_report import (
    BacktestPeriod,
    BacktestReport,
    BacktestStatistics,
    CostBreakdown,
    DroppedSignal,
    FailedSolve,
    GridRun,
    GridSection,
    QualitySummary,
    RegimeSummary,
    SignalSummary,
    SignalTimeSeries,
)
from artifacts.models.base import ArtifactRef, KillSwitchEventRecord, tool_version

if TYPE_CHECKING:
    from engine.backtest.grid import GridResult
    from engine.backtest.request import BacktestRun
    from engine.backtest.result import BacktestResult

REPORT_NAME = BacktestReport.FILE_NAME
CHART_NAME = "backtest_chart.png"
DAILY_NAME = "backtest_daily.csv"


@dataclass(frozen=True)
class BacktestOutputs:
    """What was written: the report model and the paths (``report``, ``chart``, ``daily_csv``)."""

    report: BacktestReport
    paths: dict[str, Path]


@dataclass(frozen=True)
class OutputFailure:
    """Nothing could be written; ``message`` names the directory and the reason."""

    message: str


def write_backtest_outputs(
    run: BacktestRun, out_dir: Path, *, runtime: float, generated_at: datetime
) -> BacktestOutputs | OutputFailure:
    """Write the chart, the daily CSV and (last, pinning both by hash) the report."""
    from engine.backtest.chart import render_chart

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return OutputFailure(f"cannot create the output directory {out_dir}: {exc.strerror}")
    chart_path = out_dir / CHART_NAME
    csv_path = out_dir / DAILY_NAME
    atomic_write_bytes(chart_path, render_chart(run.result, title=f"Backtest ({run.source})"))
    atomic_write_text(csv_path, daily_csv(run.result))
    outputs = (_ref(CHART_NAME, chart_path), _ref(DAILY_NAME, csv_path))
    report = backtest_report(run, outputs=outputs, runtime=runtime, generated_at=generated_at)
    report_path = out_dir / REPORT_NAME
    write_artifact(report_path, report)
    return BacktestOutputs(
        report, {"report": report_path, "chart": chart_path, "daily_csv": csv_path}
    )


def daily_csv(result: BacktestResult) -> str:
    """The daily series (equity, return, exposures, …) as CSV, dates as ``YYYY-MM-DD``."""
    import pandas as pd

    daily = result.daily.copy()
    daily.index = pd.DatetimeIndex(daily.index).strftime("%Y-%m-%d")
    return str(daily.to_csv(float_format="%.10g"))


def _ref(name: str, path: Path) -> ArtifactRef:
    return ArtifactRef(name=name, path=name, sha256=sha256_file(path), bytes=path.stat().st_size)


def _f(value: float | None) -> float | None:
    """Finite float or None (JSON has no NaN)."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _frac(value: float | None) -> float | None:
    v = _f(value)
    return None if v is None else min(1.0, max(0.0, v))


def backtest_report(
    run: BacktestRun,
    *,
    outputs: tuple[ArtifactRef, ...],
    runtime: float,
    generated_at: datetime,
) -> BacktestReport:
    """The report model of ``run``: statistics, signals, risk events, costs, regimes, grid."""
    result, panel, cfg, grid = run.result, run.panel, run.config, run.grid
    diag = result.signals
    timeseries = None
    if diag.names and len(diag.dates):
        timeseries = SignalTimeSeries(
            dates=tuple(d.date() for d in diag.dates),
            names=diag.names,
            ics=tuple(tuple(_f(float(v)) for v in row) for row in diag.rolling_ic),
            weights=tuple(tuple(_frac(float(v)) or 0.0 for v in row) for row in diag.weights),
        )
    c = result.costs
    return BacktestReport(
        generated_at=generated_at,
        tool_version=tool_version(),
        config_hash=cfg.fingerprint(),
        data_fingerprint=panel.fingerprint(),
        data_source=run.source,
        seed=run.seed,
        period=BacktestPeriod(
            start=panel.dates[0].date(),
            end=panel.dates[-1].date(),
            trading_days=panel.T,
            rebalances=len(result.rebalance_dates),
        ),
        universe=panel.symbols,
        rebalance=cfg.backtest.rebalance,
        execution=cfg.backtest.execution,
        optimizer=result.optimizer,
        initial_capital=result.initial_capital,
        statistics=_statistics(result, cfg.backtest.periods_per_year, grid),
        signals=tuple(
            SignalSummary(
                name=r["name"],
                mean_ic=_f(r["mean_ic"]),
                ic_tstat=_f(r["ic_tstat"]),
                mean_weight=_frac(r["mean_weight"]) or 0.0,
                final_weight=_frac(r["final_weight"]) or 0.0,
                observations=r["observations"],
            )
            for r in diag.summary()
        ),
        signal_timeseries=timeseries,
        dropped_signals=tuple(
            DroppedSignal(name=k, reason=v) for k, v in sorted(diag.dropped.items())
        ),
        kill_switch_events=tuple(
            KillSwitchEventRecord(
                at=datetime.fromisoformat(e.at).astimezone(UTC),
                kind=e.kind,
                level="halt" if e.level == "HALT" else "warning",
                action=e.action or "NONE",
                value=e.value,
                threshold=e.threshold,
                latched=e.level == "HALT",
                message=e.message,
            )
            for e in result.events
        ),
        failed_solves=tuple(
            FailedSolve(
                rebalance_date=f.date.date(),
                status=f.status,
                fallback="flat" if f.fallback == "flat" else "keep_previous",
                message=f.message,
            )
            for f in result.failed_solves
        ),
        costs=CostBreakdown(
            commission=c.commission,
            spread=c.spread,
            impact=c.impact,
            total=c.total,
            fraction_of_capital=c.total / result.initial_capital,
            traded_notional=c.traded_notional,
        ),
        quality=QualitySummary(
            symbol_days_untradable=result.untradable_symbol_days, warnings=run.data_warnings
        ),
        regime=_regime(run),
        grid=None if grid is None else grid_section(grid),
        lookahead_checked=run.lookahead_ok,
        outputs=outputs,
        runtime_seconds=runtime,
        warnings=_warnings(result),
    )


def _statistics(
    result: BacktestResult, periods_per_year: int, grid: GridResult | None
) -> BacktestStatistics:
    s = result.stats
    daily = result.daily
    live = daily.loc[daily.index > result.first_decision] if result.first_decision else daily
    flat = s.volatility == 0
    return BacktestStatistics(
        total_return=s.total_return,
        cagr=_f(s.cagr),
        annual_volatility=_f(s.volatility),
        sharpe=None if flat else _f(s.sharpe),
        sortino=None if flat or s.sortino == 0 else _f(s.sortino),
        max_drawdown=_frac(s.max_drawdown) or 0.0,
        max_drawdown_duration_days=s.max_drawdown_duration,
        calmar=None if s.max_drawdown == 0 else _f(s.calmar),
        turnover=max(0.0, s.turnover),
        hit_rate=_frac(s.hit_rate),
        psr=_frac(result.psr),
        dsr=None if grid is None else _frac(grid.dsr.dsr),
        pbo=None if grid is None or grid.pbo is None else _frac(grid.pbo.pbo),
        periods=max(1, s.n_periods),
        periods_per_year=periods_per_year,
        final_equity=float(daily["equity"].iloc[-1]),
        average_gross_exposure=_f(float(live["gross"].mean())) if len(live) else None,
        average_net_exposure=_f(float(live["net"].mean())) if len(live) else None,
    )


def _warnings(result: BacktestResult) -> tuple[str, ...]:
    warnings = list(result.warnings)
    if result.halted_at is not None:
        warnings.append(
            f"kill switch halted the strategy on {result.halted_at.date()}: {result.halt_reason}; "
            "flat from the next bar to the end of the run"
        )
    if result.skipped_trades:
        warnings.append(f"{result.skipped_trades} trade(s) skipped: symbol not tradable that day")
    return tuple(warnings)


def _regime(run: BacktestRun) -> RegimeSummary | None:
    """Days per regime and transitions; with the synthetic market, the accuracy vs the truth."""
    import numpy as np

    result, panel = run.result, run.panel
    info = result.regime_summary()
    if info is None or result.regime_states is None:
        return None
    accuracy = None
    if run.truth is not None and result.first_decision is not None:
        after = np.asarray(panel.dates >= result.first_decision)
        true_states = run.truth.reindex(panel.dates).to_numpy()[after]
        accuracy = float((result.regime_states[after] == true_states).mean())
    return RegimeSummary(
        states=info["states"],
        days_in_state=info["days_in_state"],
        transitions=info["transitions"],
        accuracy_vs_truth=accuracy,
    )


def grid_section(grid: GridResult) -> GridSection:
    """The report's ``grid`` section: every configuration's figures and the one selected."""

    def scalar(value: Any) -> Any:
        return value if isinstance(value, bool | int | float | str) or value is None else str(value)

    return GridSection(
        parameters=tuple(grid.runs[0].overrides),
        runs=tuple(
            GridRun(
                parameters={k: scalar(v) for k, v in r.overrides.items()},
                sharpe=_f(r.sharpe),
                cagr=_f(r.cagr),
                max_drawdown=_frac(r.max_drawdown),
            )
            for r in grid.runs
        ),
        selected=grid.best,
        pbo=None if grid.pbo is None else _frac(grid.pbo.pbo),
        cscv_partitions=None if grid.pbo is None else grid.pbo.n_blocks,
    )


def backtest_summary(run: BacktestRun, written: BacktestOutputs) -> dict[str, Any]:
    """The JSON-ready summary ``algotrade backtest`` prints (``--json``) or renders."""
    report, result = written.report, run.result
    halt = next((e for e in report.kill_switch_events if e.level == "halt"), None)
    title = (
        f"Backtest {report.period.start} → {report.period.end}, {len(report.universe)} "
        f"assets, {report.optimizer}, {report.rebalance}"
    )
    summary: dict[str, Any] = {
        "title": title,
        "statistics": report.statistics.model_dump(mode="json"),
        "signals": [s.model_dump(mode="json") for s in report.signals],
        "dropped": {d.name: d.reason for d in report.dropped_signals},
        "costs": {
            "total": report.costs.total,
            "fraction": report.costs.fraction_of_capital,
            "commission": report.costs.commission,
            "spread": report.costs.spread,
            "impact": report.costs.impact,
        },
        "failed_solves": len(report.failed_solves),
        "kill_switch": "not triggered"
        if halt is None
        else f"HALTED {halt.at.date()} ({halt.message})",
        "kill_switch_events": len(report.kill_switch_events),
        "regime": None
        if report.regime is None
        else {
            "days_in_state": dict(report.regime.days_in_state),
            "transitions": report.regime.transitions,
            "accuracy_vs_truth": report.regime.accuracy_vs_truth,
        },
        "rebalances": report.period.rebalances,
        "optimizer_seconds": round(result.optimizer_seconds, 3),
        "max_constraint_residuals": result.max_residuals,
        "runtime_seconds": round(report.runtime_seconds or 0.0, 3),
        "lookahead_checked": report.lookahead_checked,
        "warnings": list(report.warnings) + list(report.quality.warnings if report.quality else ()),
        "outputs": {k: str(v) for k, v in written.paths.items()},
    }
    if run.grid is not None:
        summary["grid"] = run.grid.summary()
        summary["title"] += f" — best of {len(run.grid.runs)} configurations"
    return summary
