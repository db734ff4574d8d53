"""``algotrade backtest``: the trading engine over history, with a report, a chart and a CSV.

Parse → load data (a file or the synthetic market) → optional look-ahead check → one
``run_backtest`` call → write ``BACKTEST_REPORT.json`` (schema-validated), ``backtest_chart.png``
and ``backtest_daily.csv`` → render. Exit 0 on success (a kill-switch halt inside the backtest is
a result, reported, not an error); 1 for bad input or a look-ahead failure, with the reason.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from algotrade_cli.context import eprint, get_state, guarded, print_json
from algotrade_cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from artifacts.models.backtest_report import BacktestReport
    from engine.backtest.result import BacktestResult
    from engine.config import AppConfig
    from engine.data.panel import MarketPanel

REPORT_NAME = "BACKTEST_REPORT.json"
CHART_NAME = "backtest_chart.png"
DAILY_NAME = "backtest_daily.csv"
LOOKAHEAD_SAMPLES = 8
_REBALANCE = ("daily", "weekly", "monthly")


class InputError(Exception):
    """Bad user input: exit 1 with this message."""


@guarded
def backtest(
    ctx: typer.Context,
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Long-format CSV/Parquet (date, symbol, open… or just close). "
        "Default: the built-in synthetic market.",
        dir_okay=False,
    ),
    start: str | None = typer.Option(None, "--start", help="First date, YYYY-MM-DD."),
    end: str | None = typer.Option(None, "--end", help="Last date, YYYY-MM-DD."),
    universe: str | None = typer.Option(
        None, "--universe", help="N (the first N symbols) or a list SYM,SYM,…"
    ),
    rebalance: str | None = typer.Option(
        None, "--rebalance", help="daily, weekly or monthly (default: backtest.rebalance)."
    ),
    optimizer: str | None = typer.Option(
        None, "--optimizer", help="qp, hrp or bl (default: portfolio.optimizer)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Synthetic market seed."),
    out: Path | None = typer.Option(
        None, "--out", help="Output directory (default: paths.out).", file_okay=False
    ),
    check_lookahead: bool = typer.Option(
        False,
        "--check-lookahead",
        help="Recompute signals and ensemble on truncated history "
        "first; exit 1 naming any component whose past values change.",
    ),
    json_flag: bool = typer.Option(False, "--json", help="Machine-readable summary on stdout."),
    grid: Path | None = typer.Option(
        None,
        "--grid",
        help="YAML grid of config values (dotted key → list of values): one backtest "
        "per combination in parallel, DSR of the best, PBO of the grid; the best is reported.",
        dir_okay=False,
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Processes for --grid (default: the CPU count)."
    ),
) -> int:
    """Run the engine over history (synthetic market by default) and write BACKTEST_REPORT.json."""
    _single_threaded_blas()
    state = get_state(ctx)
    json_out = state.json_output or json_flag
    try:
        return _run(
            state.config(),
            data=data,
            start=start,
            end=end,
            universe=universe,
            rebalance=rebalance,
            optimizer=optimizer,
            seed=seed,
            out=out,
            check_lookahead=check_lookahead,
            json_out=json_out,
            quiet=state.verbosity < 0,
            grid=grid,
            workers=workers,
        )
    except InputError as exc:
        eprint(f"error: {exc}")
        return int(ExitCode.FAILED)


def _single_threaded_blas() -> None:
    """Default BLAS to one thread unless the user chose otherwise (must precede numpy's import).

    The backtest multiplies small matrices (N ≤ a few hundred); on a busy 2-core machine a
    multi-threaded OpenBLAS spends more time synchronising than computing (measured: a 126×100
    Ledoit–Wolf estimate 0.5 ms single-threaded vs 17 ms threaded under load). Grid workers
    inherit the setting.
    """
    import os

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")


def _run(
    cfg: AppConfig,
    *,
    data: Path | None,
    start: str | None,
    end: str | None,
    universe: str | None,
    rebalance: str | None,
    optimizer: str | None,
    seed: int | None,
    out: Path | None,
    check_lookahead: bool,
    json_out: bool,
    quiet: bool,
    grid: Path | None = None,
    workers: int | None = None,
) -> int:
    from algotrade_cli.render.backtest import note, rebalance_progress, render_summary
    from engine.backtest import run_backtest
    from engine.backtest.optimizers import OPTIMIZERS

    started = time.perf_counter()
    overrides: dict[str, Any] = {}
    if rebalance is not None:
        if rebalance not in _REBALANCE:
            raise InputError(f"--rebalance {rebalance!r} is not known; use {', '.join(_REBALANCE)}")
        overrides["backtest.rebalance"] = rebalance
    if optimizer is not None:
        if optimizer not in OPTIMIZERS:
            raise InputError(f"--optimizer {optimizer!r} is not known; use {', '.join(OPTIMIZERS)}")
        overrides["portfolio.optimizer"] = optimizer
    for flag, value in (("--start", start), ("--end", end)):
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise InputError(f"{flag} {value!r} is not a date; use YYYY-MM-DD") from None
    if start and end and start > end:
        raise InputError(f"--start {start} is after --end {end}")
    overrides["backtest.start"] = start or cfg.backtest.start
    overrides["backtest.end"] = end or cfg.backtest.end
    if seed is not None:
        if data is not None:
            raise InputError("--seed applies to the synthetic market; drop it when using --data")
        overrides["market.seed"] = seed
    count, symbols = _parse_universe(universe)
    if count is not None and data is None:
        overrides["market.n_assets"] = count
    cfg = cfg.with_overrides(overrides)

    panel, source, data_warnings, truth = _load(cfg, data)
    panel = _select(panel, count if data is not None else None, symbols)
    panel = panel.between(cfg.backtest.start, cfg.backtest.end)
    need = cfg.backtest.warmup_days + 3
    if need > panel.T:
        raise InputError(
            f"{panel.T} trading days between {cfg.backtest.start or 'the start'} and "
            f"{cfg.backtest.end or 'the end'}; the warm-up of {cfg.backtest.warmup_days} days "
            f"needs at least {need}: widen --start/--end or lower backtest.warmup_days"
        )

    lookahead_ok: bool | None = None
    if check_lookahead:
        lookahead_ok = _lookahead(panel, cfg, quiet=quiet or json_out)
        if not lookahead_ok:
            return int(ExitCode.FAILED)

    if not (quiet or json_out):
        note(f"data: {source} — {panel.T} days × {panel.N} symbols")
    grid_result = None
    if grid is not None:
        grid_result, cfg = _run_grid(panel, cfg, grid, workers, quiet=quiet or json_out)
    label = f"backtest {cfg.portfolio.optimizer} {panel.N} assets"
    with rebalance_progress(label) as progress:
        result = run_backtest(panel, cfg, progress=progress)

    out_dir = out if out is not None else cfg.paths.out
    report, paths = _write_outputs(
        result,
        panel,
        cfg,
        out_dir,
        source=source,
        data_warnings=data_warnings,
        seed=cfg.market.seed if data is None else None,
        lookahead_ok=lookahead_ok,
        runtime=time.perf_counter() - started,
        truth=truth,
        grid=grid_result,
    )
    summary = _summary(report, result, paths)
    if grid_result is not None:
        summary["grid"] = grid_result.summary()
        summary["title"] += f" — best of {len(grid_result.runs)} configurations"
    if json_out:
        print_json(summary)
    else:
        render_summary(summary)
    return int(ExitCode.OK)


def _run_grid(
    panel: MarketPanel, cfg: AppConfig, path: Path, workers: int | None, *, quiet: bool
) -> tuple[Any, AppConfig]:
    """Run the grid; return its result and the best configuration's config (to report)."""
    from algotrade_cli.render.backtest import note, rebalance_progress
    from engine.backtest.grid import GridError, load_grid, run_grid

    try:
        spec = load_grid(path)
        with rebalance_progress(f"grid {path.name}") as progress:
            result = run_grid(panel, cfg, spec, workers=workers, progress=progress)
    except GridError as exc:
        raise InputError(str(exc)) from None
    best = result.runs[result.best]
    if not quiet:
        note(
            f"grid: {len(result.runs)} configurations in {result.seconds:.1f} s; best "
            f"{best.overrides} (Sharpe {best.sharpe:.2f}), DSR {result.dsr.dsr:.3f}; "
            f"{result.pbo_note}"
        )
    return result, cfg.with_overrides(best.overrides)


def _parse_universe(universe: str | None) -> tuple[int | None, tuple[str, ...] | None]:
    if universe is None:
        return None, None
    text = universe.strip()
    if text.isdigit():
        count = int(text)
        if count < 2:
            raise InputError(f"--universe {count}: a portfolio needs at least 2 symbols")
        return count, None
    symbols = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    if len(symbols) < 2:
        raise InputError(
            f"--universe {universe!r}: give a number (e.g. 20) or at least two symbols SYM,SYM"
        )
    return None, symbols


def _load(cfg: AppConfig, data: Path | None) -> tuple[MarketPanel, str, tuple[str, ...], Any]:
    """The panel, its source, loader warnings, and the true regimes (a Series; synthetic only)."""
    if data is not None:
        from engine.data.loaders import DataError, load_panel

        try:
            loaded = load_panel(data)
        except DataError as exc:
            raise InputError(str(exc)) from None
        return loaded.panel, str(data), tuple(loaded.warnings), None
    from engine.data.assets import AssetsError, load_assets
    from engine.data.synthetic import SyntheticMarket

    try:
        assets = load_assets(cfg.paths.assets)
    except AssetsError as exc:
        raise InputError(str(exc)) from None
    import pandas as pd

    market = SyntheticMarket(cfg.market, assets)
    panel = market.daily_panel()
    truth = pd.Series(market.regime_path(), index=panel.dates)
    return panel, "synthetic", (), truth


def _select(panel: MarketPanel, count: int | None, symbols: tuple[str, ...] | None) -> MarketPanel:
    if symbols is not None:
        unknown = [s for s in symbols if s not in panel.symbols]
        if unknown:
            shown = ", ".join(panel.symbols[:12]) + ("…" if panel.N > 12 else "")
            raise InputError(f"--universe: unknown symbol(s) {', '.join(unknown)}; known: {shown}")
        return panel.select(symbols)
    if count is not None:
        if count > panel.N:
            raise InputError(f"--universe {count}: the data has only {panel.N} symbols")
        return panel.select(panel.symbols[:count])
    return panel


def _lookahead(panel: MarketPanel, cfg: AppConfig, *, quiet: bool) -> bool:
    from algotrade_cli.render.backtest import note
    from engine.signals.lookahead import check_lookahead, sample_rows, signal_pipeline

    rows = sample_rows(panel.T, LOOKAHEAD_SAMPLES, seed=cfg.market.seed, min_row=1)
    report = check_lookahead(signal_pipeline(cfg.signals), panel, rows)
    if not report.ok:
        eprint(f"error: {report.summary()}")
        eprint("components with look-ahead: " + ", ".join(report.leaky_components))
        return False
    if not quiet:
        note(f"look-ahead check: {report.summary()}")
    return True


def _write_outputs(
    result: BacktestResult,
    panel: MarketPanel,
    cfg: AppConfig,
    out_dir: Path,
    *,
    source: str,
    data_warnings: tuple[str, ...],
    seed: int | None,
    lookahead_ok: bool | None,
    runtime: float,
    truth: Any = None,
    grid: Any = None,
) -> tuple[BacktestReport, dict[str, Path]]:
    from artifacts.io import atomic_write_bytes, atomic_write_text, write_artifact
    from engine.backtest.chart import render_chart

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the output directory {out_dir}: {exc.strerror}") from None
    chart_path = out_dir / CHART_NAME
    csv_path = out_dir / DAILY_NAME
    chart = atomic_write_bytes(chart_path, render_chart(result, title=f"Backtest ({source})"))
    import pandas as pd

    daily = result.daily.copy()
    daily.index = pd.DatetimeIndex(daily.index).strftime("%Y-%m-%d")
    csv_text = daily.to_csv(float_format="%.10g")
    atomic_write_text(csv_path, csv_text)
    from artifacts.io import sha256_file

    outputs = [
        _ref(CHART_NAME, chart, sha256_file(chart)),
        _ref(DAILY_NAME, csv_path, sha256_file(csv_path)),
    ]
    report = _report(
        result,
        panel,
        cfg,
        source=source,
        data_warnings=data_warnings,
        seed=seed,
        lookahead_ok=lookahead_ok,
        runtime=runtime,
        outputs=outputs,
        truth=truth,
        grid=grid,
    )
    report_path = out_dir / REPORT_NAME
    write_artifact(report_path, report)
    return report, {"report": report_path, "chart": chart_path, "daily_csv": csv_path}


def _ref(name: str, path: Path, digest: str) -> Any:
    from artifacts.models.base import ArtifactRef

    return ArtifactRef(name=name, path=name, sha256=digest, bytes=path.stat().st_size)


def _f(value: float | None) -> float | None:
    """Finite float or None (JSON has no NaN)."""
    import math

    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _frac(value: float | None) -> float | None:
    v = _f(value)
    return None if v is None else min(1.0, max(0.0, v))


def _report(
    result: BacktestResult,
    panel: MarketPanel,
    cfg: AppConfig,
    *,
    source: str,
    data_warnings: tuple[str, ...],
    seed: int | None,
    lookahead_ok: bool | None,
    runtime: float,
    outputs: list[Any],
    truth: Any = None,
    grid: Any = None,
) -> BacktestReport:
    from datetime import UTC, datetime

    from algotrade_cli import __version__
    from artifacts.models.backtest_report import (
        BacktestPeriod,
        BacktestReport,
        BacktestStatistics,
        CostBreakdown,
        DroppedSignal,
        FailedSolve,
        QualitySummary,
        RegimeSummary,
        SignalSummary,
        SignalTimeSeries,
    )
    from artifacts.models.base import KillSwitchEventRecord

    s = result.stats
    daily = result.daily
    live = daily.loc[daily.index > result.first_decision] if result.first_decision else daily
    flat = s.volatility == 0
    stats = BacktestStatistics(
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
        periods_per_year=cfg.backtest.periods_per_year,
        final_equity=float(daily["equity"].iloc[-1]),
        average_gross_exposure=_f(float(live["gross"].mean())) if len(live) else None,
        average_net_exposure=_f(float(live["net"].mean())) if len(live) else None,
    )
    sig_rows = result.signals.summary()
    signals = tuple(
        SignalSummary(
            name=r["name"],
            mean_ic=_f(r["mean_ic"]),
            ic_tstat=_f(r["ic_tstat"]),
            mean_weight=_frac(r["mean_weight"]) or 0.0,
            final_weight=_frac(r["final_weight"]) or 0.0,
            observations=r["observations"],
        )
        for r in sig_rows
    )
    diag = result.signals
    timeseries = None
    if diag.names and len(diag.dates):
        timeseries = SignalTimeSeries(
            dates=tuple(d.date() for d in diag.dates),
            names=diag.names,
            ics=tuple(tuple(_f(float(v)) for v in row) for row in diag.rolling_ic),
            weights=tuple(tuple(_frac(float(v)) or 0.0 for v in row) for row in diag.weights),
        )
    events = tuple(
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
    )
    failed = tuple(
        FailedSolve(
            rebalance_date=f.date.date(),
            status=f.status,
            fallback="flat" if f.fallback == "flat" else "keep_previous",
            message=f.message,
        )
        for f in result.failed_solves
    )
    c = result.costs
    costs = CostBreakdown(
        commission=c.commission,
        spread=c.spread,
        impact=c.impact,
        total=c.total,
        fraction_of_capital=c.total / result.initial_capital,
        traded_notional=c.traded_notional,
    )
    warnings = list(result.warnings)
    if result.halted_at is not None:
        warnings.append(
            f"kill switch halted the strategy on {result.halted_at.date()}: {result.halt_reason}; "
            "flat from the next bar to the end of the run"
        )
    if result.skipped_trades:
        warnings.append(f"{result.skipped_trades} trade(s) skipped: symbol not tradable that day")
    import numpy as np

    regime = None
    regime_info = result.regime_summary()
    if regime_info is not None and result.regime_states is not None:
        accuracy = None
        if truth is not None and result.first_decision is not None:
            after = np.asarray(panel.dates >= result.first_decision)
            true_states = truth.reindex(panel.dates).to_numpy()[after]
            accuracy = float((result.regime_states[after] == true_states).mean())
        regime = RegimeSummary(
            states=regime_info["states"],
            days_in_state=regime_info["days_in_state"],
            transitions=regime_info["transitions"],
            accuracy_vs_truth=accuracy,
        )
    return BacktestReport(
        generated_at=datetime.now(UTC),
        tool_version=__version__,
        config_hash=cfg.fingerprint(),
        data_fingerprint=panel.fingerprint(),
        data_source=source,
        seed=seed,
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
        statistics=stats,
        signals=signals,
        signal_timeseries=timeseries,
        dropped_signals=tuple(
            DroppedSignal(name=k, reason=v) for k, v in sorted(diag.dropped.items())
        ),
        kill_switch_events=events,
        failed_solves=failed,
        costs=costs,
        quality=QualitySummary(
            symbol_days_untradable=result.untradable_symbol_days, warnings=data_warnings
        ),
        regime=regime,
        grid=None if grid is None else _grid_section(grid),
        lookahead_checked=lookahead_ok,
        outputs=tuple(outputs),
        runtime_seconds=runtime,
        warnings=tuple(warnings),
    )


def _grid_section(grid: Any) -> Any:
    from artifacts.models.backtest_report import GridRun, GridSection

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


def _summary(
    report: BacktestReport, result: BacktestResult, paths: dict[str, Path]
) -> dict[str, Any]:
    stats = report.statistics.model_dump(mode="json")
    halt = next((e for e in report.kill_switch_events if e.level == "halt"), None)
    return {
        "title": (
            f"Backtest {report.period.start} → {report.period.end}, {len(report.universe)} "
            f"assets, {report.optimizer}, {report.rebalance}"
        ),
        "statistics": stats,
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
        "outputs": {k: str(v) for k, v in paths.items()},
    }
