"""Parameter grids: one backtest per configuration, then DSR of the best and PBO of the grid.

A grid file is YAML mapping dotted config paths to lists of values (every combination runs)::

    grid:
      portfolio.optimizer: [qp, hrp, bl]
      portfolio.lambda_init: [0.0002, 0.0005]
      signals.tsx_window: [63, 126]
    cscv_blocks: 16        # optional, S for CSCV (even); default 16

(the ``grid:`` level may be omitted). Combinations are expanded in the file's key order, the last
key varying fastest. Each configuration is the base config with its overrides applied and
validated; a bad key or value fails *before* anything runs, naming the combination.

The runs are independent and go to a process pool (``workers``; the panel is sent to each worker
once). Results are gathered in grid order whatever order they finish in, so the outcome does not
depend on the number of workers.

Statistics over the grid (``GridResult``):

- the daily strategy returns of every configuration on their common dates form the T × N matrix
  of CSCV; days a configuration held nothing count as 0;
- **DSR** of the configuration with the highest Sharpe, N = number of configurations, V = the
  variance of their per-day Sharpe ratios (:func:`engine.stats.dsr.deflated_sharpe_of_best`);
- **PBO** by CSCV over that matrix (:func:`engine.stats.cscv.cscv`, S = ``cscv_blocks``, reduced to
  the largest even S the sample allows); not available with fewer than two configurations.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.config import AppConfig, ConfigError
from engine.data.panel import MarketPanel
from engine.stats.cscv import CSCVResult, cscv
from engine.stats.dsr import DSRResult, deflated_sharpe_of_best

MAX_CONFIGURATIONS = 512
DEFAULT_BLOCKS = 16

GridProgress = Callable[[int, int], None]
"""``progress(done, total)`` after each finished configuration."""


class GridError(ValueError):
    """A grid file or grid value that cannot be run; the message names it and the fix."""


@dataclass(frozen=True)
class GridSpec:
    """Parameters (dotted path → candidate values, in file order) and the CSCV block count."""

    parameters: tuple[tuple[str, tuple[Any, ...]], ...]
    cscv_blocks: int = DEFAULT_BLOCKS

    def combinations(self) -> list[dict[str, Any]]:
        """Every combination as an overrides mapping, last parameter varying fastest."""
        keys = [k for k, _ in self.parameters]
        values = [v for _, v in self.parameters]
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*values)]


def parse_grid(data: Any, *, source: str = "grid") -> GridSpec:
    """A :class:`GridSpec` from parsed YAML; :class:`GridError` names what is wrong."""
    if not isinstance(data, Mapping):
        raise GridError(f"{source}: expected a mapping of dotted config paths to lists of values")
    blocks = data.get("cscv_blocks", DEFAULT_BLOCKS)
    body = data.get("grid", {k: v for k, v in data.items() if k != "cscv_blocks"})
    if not isinstance(body, Mapping) or not body:
        raise GridError(
            f"{source}: no parameters; write e.g. 'grid: {{portfolio.optimizer: [qp, hrp]}}'"
        )
    params: list[tuple[str, tuple[Any, ...]]] = []
    for key, values in body.items():
        if not isinstance(key, str) or "." not in key:
            raise GridError(
                f"{source}: key {key!r} is not a dotted config path (section.field, "
                f"e.g. portfolio.lambda_init)"
            )
        if not isinstance(values, list) or not values:
            raise GridError(f"{source}: {key} must be a non-empty list of values; got {values!r}")
        params.append((key, tuple(values)))
    if not isinstance(blocks, int) or isinstance(blocks, bool) or blocks < 2 or blocks % 2:
        raise GridError(f"{source}: cscv_blocks must be an even integer ≥ 2; got {blocks!r}")
    spec = GridSpec(tuple(params), blocks)
    total = math.prod(len(v) for _, v in spec.parameters)
    if total > MAX_CONFIGURATIONS:
        raise GridError(
            f"{source}: {total} configurations exceed the limit of {MAX_CONFIGURATIONS}; "
            f"drop values or split the grid"
        )
    return spec


def load_grid(path: Path) -> GridSpec:
    """Read and check a YAML grid file."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise GridError(f"{path}: cannot read the grid file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise GridError(f"{path}: not valid YAML ({exc})") from exc
    return parse_grid(data, source=str(path))


def grid_configs(base: AppConfig, spec: GridSpec) -> list[tuple[dict[str, Any], AppConfig]]:
    """Validated configs of every combination (overrides, config), in grid order."""
    out = []
    for i, overrides in enumerate(spec.combinations()):
        try:
            out.append((overrides, base.with_overrides(overrides)))
        except (ConfigError, KeyError, TypeError, ValueError) as exc:
            raise GridError(f"configuration {i} {overrides}: {exc}") from exc
    return out


@dataclass(frozen=True)
class GridRun:
    """One configuration's outcome (statistics annualised as in the backtest report)."""

    index: int
    overrides: dict[str, Any]
    sharpe: float
    cagr: float
    volatility: float
    max_drawdown: float
    psr: float
    halted: bool
    failed_solves: int
    seconds: float
    returns: pd.Series  # daily strategy returns from the first decision date


@dataclass(frozen=True)
class GridResult:
    """Every run plus DSR of the best and PBO over the returns matrix."""

    runs: tuple[GridRun, ...]
    dates: pd.DatetimeIndex
    returns: np.ndarray  # (T, N) on the common dates
    best: int
    dsr: DSRResult
    pbo: CSCVResult | None
    pbo_note: str
    seconds: float

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (the backtest report's ``grid`` section)."""
        best = self.runs[self.best]
        return {
            "configurations": [
                {
                    "index": r.index,
                    "overrides": r.overrides,
                    "sharpe": r.sharpe,
                    "cagr": r.cagr,
                    "volatility": r.volatility,
                    "max_drawdown": r.max_drawdown,
                    "psr": r.psr,
                    "halted": r.halted,
                    "failed_solves": r.failed_solves,
                    "seconds": r.seconds,
                }
                for r in self.runs
            ],
            "best": {"index": best.index, "overrides": best.overrides, "sharpe": best.sharpe},
            "dsr": {
                "value": self.dsr.dsr,
                "n_trials": self.dsr.n_trials,
                "sr_threshold_daily": self.dsr.sr_threshold,
                "sharpe_daily": self.dsr.sharpe,
                "sr_variance_daily": self.dsr.sr_variance,
            },
            "pbo": None
            if self.pbo is None
            else {
                "value": self.pbo.pbo,
                "prob_oos_loss": self.pbo.prob_oos_loss,
                "degradation_slope": self.pbo.degradation_slope,
                "degradation_intercept": self.pbo.degradation_intercept,
                "n_blocks": self.pbo.n_blocks,
                "n_splits": self.pbo.n_splits,
                "rows_dropped": self.pbo.rows_dropped,
            },
            "pbo_note": self.pbo_note,
            "common_days": len(self.dates),
            "seconds": self.seconds,
        }


# ------------------------------------------------------------------------- execution --
_WORKER_PANEL: MarketPanel | None = None


def _init_worker(panel: MarketPanel) -> None:
    global _WORKER_PANEL
    _WORKER_PANEL = panel


def _run_one(index: int, overrides: dict[str, Any], config: AppConfig) -> GridRun:
    from engine.backtest.loop import run_backtest

    assert _WORKER_PANEL is not None
    started = time.perf_counter()
    result = run_backtest(_WORKER_PANEL, config)
    stats = result.stats
    return GridRun(
        index=index,
        overrides=overrides,
        sharpe=float(stats.sharpe),
        cagr=float(stats.cagr),
        volatility=float(stats.volatility),
        max_drawdown=float(stats.max_drawdown),
        psr=float(result.psr),
        halted=result.halted_at is not None,
        failed_solves=len(result.failed_solves),
        seconds=time.perf_counter() - started,
        returns=result.strategy_returns.astype(float),
    )


def _largest_blocks(n_rows: int, wanted: int) -> int:
    """The largest even S ≤ wanted with at least two rows per half-sample block."""
    s = wanted
    while s >= 2 and (n_rows // s) * s // 2 < 2:
        s -= 2
    return s


def run_grid(
    panel: MarketPanel,
    base: AppConfig,
    spec: GridSpec,
    *,
    workers: int | None = None,
    progress: GridProgress | None = None,
) -> GridResult:
    """Backtest every configuration of ``spec`` on ``panel``; DSR of the best, PBO of the grid.

    ``workers`` processes (default: the CPU count, at most the number of configurations;
    1 = run in this process).
    """
    started = time.perf_counter()
    configs = grid_configs(base, spec)
    total = len(configs)
    n_workers = max(1, min(workers or os.cpu_count() or 1, total))
    runs: list[GridRun | None] = [None] * total
    if n_workers == 1:
        _init_worker(panel)
        for i, (overrides, cfg) in enumerate(configs):
            runs[i] = _run_one(i, overrides, cfg)
            if progress is not None:
                progress(i + 1, total)
    else:
        with ProcessPoolExecutor(n_workers, initializer=_init_worker, initargs=(panel,)) as pool:
            futures = [
                pool.submit(_run_one, i, overrides, cfg)
                for i, (overrides, cfg) in enumerate(configs)
            ]
            for done, future in enumerate(as_completed(futures), start=1):
                run = future.result()
                runs[run.index] = run
                if progress is not None:
                    progress(done, total)
    finished = tuple(r for r in runs if r is not None)
    return summarise_grid(finished, spec, seconds=time.perf_counter() - started)


def summarise_grid(runs: Sequence[GridRun], spec: GridSpec, *, seconds: float = 0.0) -> GridResult:
    """Align the runs' daily returns on their common dates, then DSR and PBO."""
    frame = pd.concat([r.returns.rename(r.index) for r in runs], axis=1, join="inner")
    frame = frame.fillna(0.0)
    matrix = frame.to_numpy(dtype=float)
    if matrix.shape[0] < 2:
        raise GridError(
            f"the configurations share only {matrix.shape[0]} trading days after their warm-ups; "
            f"use a longer history"
        )
    best, dsr = deflated_sharpe_of_best(matrix)
    pbo: CSCVResult | None = None
    if len(runs) < 2:
        note = "PBO needs at least two configurations"
    else:
        blocks = _largest_blocks(matrix.shape[0], spec.cscv_blocks)
        if blocks < 2:
            note = f"PBO not computed: {matrix.shape[0]} common days are too few for CSCV"
        else:
            pbo = cscv(matrix, blocks)
            note = (
                f"CSCV with S = {blocks} blocks"
                + (f" (reduced from {spec.cscv_blocks})" if blocks != spec.cscv_blocks else "")
                + f", {pbo.n_splits} splits, {pbo.rows_dropped} earliest days dropped"
            )
    return GridResult(
        runs=tuple(runs),
        dates=pd.DatetimeIndex(frame.index),
        returns=matrix,
        best=best,
        dsr=dsr,
        pbo=pbo,
        pbo_note=note,
        seconds=seconds,
    )
