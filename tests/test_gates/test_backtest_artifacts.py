"""A finished backtest → BACKTEST_REPORT.json, the chart, the daily CSV and the summary."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from artifacts.io import read_artifact, sha256_file
from artifacts.models.backtest_report import BacktestReport
from engine.backtest.grid import GridRun, parse_grid, summarise_grid
from engine.backtest.request import BacktestRequest, BacktestRun, run_request
from engine.config import AppConfig
from gates.backtest_artifacts import (
    CHART_NAME,
    DAILY_NAME,
    OutputFailure,
    backtest_report,
    backtest_summary,
    daily_csv,
    grid_section,
    write_backtest_outputs,
)

pytestmark = pytest.mark.integration
AT = datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def run() -> BacktestRun:
    """1.5 synthetic years, 5 assets, monthly: a real run in about a second."""
    cfg = AppConfig().with_overrides({"market.years": 1.5, "market.n_assets": 5})
    out = run_request(cfg, BacktestRequest(rebalance="monthly"))
    assert isinstance(out, BacktestRun)
    return out


def test_the_report_carries_the_runs_figures(run: BacktestRun) -> None:
    report = backtest_report(run, outputs=(), runtime=1.5, generated_at=AT)
    s = run.result.stats
    assert report.generated_at == AT and report.runtime_seconds == 1.5
    assert report.statistics.total_return == pytest.approx(s.total_return)
    assert report.statistics.final_equity == pytest.approx(run.result.daily["equity"].iloc[-1])
    assert report.universe == run.panel.symbols and report.period.trading_days == run.panel.T
    assert report.period.rebalances == len(run.result.rebalance_dates)
    assert report.config_hash == run.config.fingerprint()
    assert report.data_source == "synthetic" and report.seed == run.config.market.seed
    assert report.costs.total == pytest.approx(run.result.costs.total)
    assert {x.name for x in report.signals} | {d.name for d in report.dropped_signals} == {
        "OFI", "ERN", "VRP", "POS", "TSX", "SIF"
    }  # fmt: skip
    assert report.statistics.dsr is None and report.grid is None  # no grid ran
    assert report.lookahead_checked is None
    # the synthetic market knows the true regimes: the report scores the filter against them
    assert report.regime is not None and report.regime.accuracy_vs_truth is not None
    assert 0.0 <= report.regime.accuracy_vs_truth <= 1.0


def test_a_data_file_run_has_no_seed_and_no_regime_truth(run: BacktestRun) -> None:
    from_file = replace(run, source="prices.csv", seed=None, truth=None)
    report = backtest_report(from_file, outputs=(), runtime=0.0, generated_at=AT)
    assert report.seed is None and report.data_source == "prices.csv"
    assert report.regime is None or report.regime.accuracy_vs_truth is None


def test_written_outputs_are_pinned_by_hash_and_read_back_equal(
    run: BacktestRun, tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "out"
    written = write_backtest_outputs(run, out, runtime=2.0, generated_at=AT)
    assert not isinstance(written, OutputFailure)
    assert set(written.paths) == {"report", "chart", "daily_csv"}
    assert read_artifact(written.paths["report"], BacktestReport) == written.report
    refs = {r.name: r for r in written.report.outputs}
    assert set(refs) == {CHART_NAME, DAILY_NAME}
    for ref in refs.values():
        assert sha256_file(out / ref.path) == ref.sha256
        assert (out / ref.path).stat().st_size == ref.bytes
    assert (out / CHART_NAME).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / DAILY_NAME).read_text() == daily_csv(run.result)


def test_daily_csv_has_a_row_per_day_and_iso_dates(run: BacktestRun) -> None:
    lines = daily_csv(run.result).splitlines()
    assert lines[0].startswith("date,equity,return")
    assert len(lines) == 1 + len(run.result.daily)
    assert lines[1].split(",")[0] == run.panel.dates[0].strftime("%Y-%m-%d")


def test_an_output_directory_that_cannot_be_created_is_a_failure_value(
    run: BacktestRun, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    got = write_backtest_outputs(run, blocker / "out", runtime=0.0, generated_at=AT)
    assert isinstance(got, OutputFailure)
    assert str(blocker / "out") in got.message


def _grid_run(index: int, value: float, sharpe: float, returns: pd.Series) -> GridRun:
    return GridRun(
        index=index, overrides={"portfolio.vol_target": value}, sharpe=sharpe, cagr=0.05,
        volatility=0.1, max_drawdown=0.12, psr=0.7, halted=False, failed_solves=0, seconds=1.0,
        returns=returns,
    )  # fmt: skip


def test_grid_section_lists_every_configuration_and_drops_non_finite_figures() -> None:
    dates = pd.bdate_range("2024-01-01", periods=96)
    rng = np.random.default_rng(5)
    runs = [
        _grid_run(0, 0.06, 0.8, pd.Series(rng.normal(0.0005, 0.01, 96), index=dates)),
        _grid_run(1, 0.10, math.nan, pd.Series(rng.normal(0.0, 0.01, 96), index=dates)),
    ]
    grid = summarise_grid(runs, parse_grid({"portfolio.vol_target": [0.06, 0.10]}))
    section = grid_section(grid)
    assert section.parameters == ("portfolio.vol_target",)
    assert [r.parameters for r in section.runs] == [
        {"portfolio.vol_target": 0.06},
        {"portfolio.vol_target": 0.10},
    ]
    assert section.runs[0].sharpe == 0.8 and section.runs[1].sharpe is None  # NaN → null
    assert section.selected == grid.best
    assert grid.pbo is not None and section.pbo == pytest.approx(grid.pbo.pbo)
    assert section.cscv_partitions == grid.pbo.n_blocks


def test_summary_names_the_grid_and_the_written_files(run: BacktestRun, tmp_path: Path) -> None:
    dates = run.result.daily.index
    rng = np.random.default_rng(1)
    grid = summarise_grid(
        [
            _grid_run(i, v, 0.5, pd.Series(rng.normal(0, 0.01, len(dates)), index=dates))
            for i, v in enumerate((0.06, 0.10))
        ],
        parse_grid({"portfolio.vol_target": [0.06, 0.10], "cscv_blocks": 4}),
    )
    with_grid = replace(run, grid=grid)
    written = write_backtest_outputs(with_grid, tmp_path, runtime=0.5, generated_at=AT)
    assert not isinstance(written, OutputFailure)
    summary = backtest_summary(with_grid, written)
    assert summary["title"].endswith("— best of 2 configurations")
    assert summary["grid"]["best"]["index"] == grid.best
    assert written.report.statistics.dsr is not None
    assert summary["statistics"]["sharpe"] == written.report.statistics.sharpe
    assert summary["outputs"]["report"] == str(tmp_path / "BACKTEST_REPORT.json")
    halts = [e for e in written.report.kill_switch_events if e.level == "halt"]
    assert (summary["kill_switch"] == "not triggered") == (not halts)
    assert summary["kill_switch_events"] == len(written.report.kill_switch_events)
