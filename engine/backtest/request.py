"""The backtest as the command line asks for it: options → data → checks → one run.

:func:`run_request` checks the options against the config, loads the data (a file or the
synthetic market), selects the universe and the period, optionally checks the signals for
look-ahead and runs a parameter grid, then runs the backtest of the chosen configuration. Bad input
and a failed look-ahead check are returned as values (:class:`BacktestInputError`,
:class:`LookaheadFailure`), never raised; nothing is written here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.backtest.loop import run_backtest
from engine.backtest.optimizers import OPTIMIZERS

if TYPE_CHECKING:
    import pandas as pd

    from engine.backtest.grid import GridResult
    from engine.backtest.result import BacktestResult
    from engine.config import AppConfig
    from engine.data.panel import MarketPanel
    from engine.signals.lookahead import LookaheadReport

REBALANCE_CHOICES = ("daily", "weekly", "monthly")
LOOKAHEAD_SAMPLES = 8
"""Dates at which the look-ahead check truncates history."""

ProgressFn = Callable[[int, int], None]
ProgressFactory = Callable[[str], AbstractContextManager[ProgressFn | None]]
"""``progress(label)`` → a context manager yielding a ``(done, total)`` callback (or None)."""
Note = Callable[[str], None]


@dataclass(frozen=True)
class BacktestRequest:
    """What the user asked for; ``None`` = the config's value (or the synthetic market)."""

    data: Path | None = None
    start: str | None = None
    end: str | None = None
    universe: str | None = None
    rebalance: str | None = None
    optimizer: str | None = None
    seed: int | None = None
    check_lookahead: bool = False
    grid: Path | None = None
    workers: int | None = None


@dataclass(frozen=True)
class BacktestInputError:
    """The request cannot run; ``message`` names the option, the value and the fix."""

    message: str


@dataclass(frozen=True)
class LookaheadFailure:
    """The look-ahead check found components whose past values change with the future."""

    report: LookaheadReport


@dataclass(frozen=True)
class BacktestRun:
    """A finished backtest with everything its report needs.

    ``config`` is the configuration that ran (with ``--grid``: the best one); ``truth`` the
    synthetic market's true regime per day (None for a data file); ``seed`` the synthetic
    market's seed (None for a data file).
    """

    result: BacktestResult
    panel: MarketPanel
    config: AppConfig
    source: str
    data_warnings: tuple[str, ...]
    seed: int | None
    lookahead_ok: bool | None
    truth: pd.Series | None = None
    grid: GridResult | None = None


class _Invalid(ValueError):
    """Internal: bad input, turned into a :class:`BacktestInputError` by :func:`run_request`."""


def _no_progress(_label: str) -> AbstractContextManager[ProgressFn | None]:
    return contextlib.nullcontext(None)


def run_request(
    cfg: AppConfig,
    request: BacktestRequest,
    *,
    note: Note | None = None,
    progress: ProgressFactory | None = None,
) -> BacktestRun | BacktestInputError | LookaheadFailure:
    """Run the backtest ``request`` asks for on top of ``cfg``.

    ``note`` receives status lines (data source, look-ahead verdict, grid result); ``progress``
    wraps the grid and the backtest with a ``(done, total)`` callback.
    """
    say = note or (lambda _message: None)
    bar = progress or _no_progress
    try:
        cfg, count, symbols = _configure(cfg, request)
        panel, source, data_warnings, truth = _load(cfg, request.data)
        panel = _select(panel, count if request.data is not None else None, symbols)
        panel = panel.between(cfg.backtest.start, cfg.backtest.end)
        need = cfg.backtest.warmup_days + 3
        if need > panel.T:
            raise _Invalid(
                f"{panel.T} trading days between {cfg.backtest.start or 'the start'} and "
                f"{cfg.backtest.end or 'the end'}; the warm-up of {cfg.backtest.warmup_days} "
                f"days needs at least {need}: widen --start/--end or lower backtest.warmup_days"
            )
        lookahead_ok: bool | None = None
        if request.check_lookahead:
            report = _lookahead(panel, cfg)
            if not report.ok:
                return LookaheadFailure(report)
            say(f"look-ahead check: {report.summary()}")
            lookahead_ok = True
        say(f"data: {source} — {panel.T} days × {panel.N} symbols")
        grid_result = None
        if request.grid is not None:
            grid_result, cfg = _run_grid(panel, cfg, request.grid, request.workers, say, bar)
    except _Invalid as exc:
        return BacktestInputError(str(exc))
    with bar(f"backtest {cfg.portfolio.optimizer} {panel.N} assets") as tick:
        result = run_backtest(panel, cfg, progress=tick)
    return BacktestRun(
        result=result,
        panel=panel,
        config=cfg,
        source=source,
        data_warnings=data_warnings,
        seed=cfg.market.seed if request.data is None else None,
        lookahead_ok=lookahead_ok,
        truth=truth,
        grid=grid_result,
    )


def _configure(
    cfg: AppConfig, request: BacktestRequest
) -> tuple[AppConfig, int | None, tuple[str, ...] | None]:
    """The config with the request's overrides, and the universe as a count or a symbol list."""
    overrides: dict[str, Any] = {}
    if request.rebalance is not None:
        if request.rebalance not in REBALANCE_CHOICES:
            raise _Invalid(
                f"--rebalance {request.rebalance!r} is not known; "
                f"use {', '.join(REBALANCE_CHOICES)}"
            )
        overrides["backtest.rebalance"] = request.rebalance
    if request.optimizer is not None:
        if request.optimizer not in OPTIMIZERS:
            raise _Invalid(
                f"--optimizer {request.optimizer!r} is not known; use {', '.join(OPTIMIZERS)}"
            )
        overrides["portfolio.optimizer"] = request.optimizer
    start, end = request.start, request.end
    for flag, value in (("--start", start), ("--end", end)):
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise _Invalid(f"{flag} {value!r} is not a date; use YYYY-MM-DD") from None
    if start and end and start > end:
        raise _Invalid(f"--start {start} is after --end {end}")
    overrides["backtest.start"] = start or cfg.backtest.start
    overrides["backtest.end"] = end or cfg.backtest.end
    if request.seed is not None:
        if request.data is not None:
            raise _Invalid("--seed applies to the synthetic market; drop it when using --data")
        overrides["market.seed"] = request.seed
    count, symbols = _parse_universe(request.universe)
    if count is not None and request.data is None:
        overrides["market.n_assets"] = count
    return cfg.with_overrides(overrides), count, symbols


def _parse_universe(universe: str | None) -> tuple[int | None, tuple[str, ...] | None]:
    """``"20"`` → (20, None); ``"AAA,BBB"`` → (None, ("AAA", "BBB")); ``None`` → (None, None)."""
    if universe is None:
        return None, None
    text = universe.strip()
    if text.isdigit():
        count = int(text)
        if count < 2:
            raise _Invalid(f"--universe {count}: a portfolio needs at least 2 symbols")
        return count, None
    symbols = tuple(s.strip().upper() for s in text.split(",") if s.strip())
    if len(symbols) < 2:
        raise _Invalid(
            f"--universe {universe!r}: give a number (e.g. 20) or at least two symbols SYM,SYM"
        )
    return None, symbols


def _load(
    cfg: AppConfig, data: Path | None
) -> tuple[MarketPanel, str, tuple[str, ...], pd.Series | None]:
    """The panel, its source, loader warnings, and the true regimes (synthetic only)."""
    if data is not None:
        from engine.data.loaders import DataError, load_panel

        try:
            loaded = load_panel(data)
        except DataError as exc:
            raise _Invalid(str(exc)) from None
        return loaded.panel, str(data), tuple(loaded.warnings), None
    import pandas as pd

    from engine.data.assets import AssetsError, load_assets
    from engine.data.synthetic import SyntheticMarket

    try:
        assets = load_assets(cfg.paths.assets)
    except AssetsError as exc:
        raise _Invalid(str(exc)) from None
    market = SyntheticMarket(cfg.market, assets)
    panel = market.daily_panel()
    truth = pd.Series(market.regime_path(), index=panel.dates)
    return panel, "synthetic", (), truth


def _select(panel: MarketPanel, count: int | None, symbols: tuple[str, ...] | None) -> MarketPanel:
    if symbols is not None:
        unknown = [s for s in symbols if s not in panel.symbols]
        if unknown:
            shown = ", ".join(panel.symbols[:12]) + ("…" if panel.N > 12 else "")
            raise _Invalid(f"--universe: unknown symbol(s) {', '.join(unknown)}; known: {shown}")
        return panel.select(symbols)
    if count is not None:
        if count > panel.N:
            raise _Invalid(f"--universe {count}: the data has only {panel.N} symbols")
        return panel.select(panel.symbols[:count])
    return panel


def _lookahead(panel: MarketPanel, cfg: AppConfig) -> LookaheadReport:
    # Looked up on the module at call time: tests add a leaky toy signal to the real pipeline.
    from engine.signals import lookahead

    rows = lookahead.sample_rows(panel.T, LOOKAHEAD_SAMPLES, seed=cfg.market.seed, min_row=1)
    return lookahead.check_lookahead(lookahead.signal_pipeline(cfg.signals), panel, rows)


def _run_grid(
    panel: MarketPanel,
    cfg: AppConfig,
    path: Path,
    workers: int | None,
    say: Note,
    bar: ProgressFactory,
) -> tuple[GridResult, AppConfig]:
    """Run the grid; return its result and the best configuration's config (to report)."""
    from engine.backtest.grid import GridError, load_grid, run_grid

    try:
        spec = load_grid(path)
        with bar(f"grid {path.name}") as tick:
            result = run_grid(panel, cfg, spec, workers=workers, progress=tick)
    except GridError as exc:
        raise _Invalid(str(exc)) from None
    best = result.runs[result.best]
    say(
        f"grid: {len(result.runs)} configurations in {result.seconds:.1f} s; best "
        f"{best.overrides} (Sharpe {best.sharpe:.2f}), DSR {result.dsr.dsr:.3f}; "
        f"{result.pbo_note}"
    )
    return result, cfg.with_overrides(best.overrides)
