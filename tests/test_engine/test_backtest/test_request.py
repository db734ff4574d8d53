"""The backtest request: options checked against the config, bad input and a failed look-ahead
check returned as values, notes and progress passed through."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from engine.backtest.request import (
    BacktestInputError,
    BacktestRequest,
    BacktestRun,
    LookaheadFailure,
    run_request,
)
from engine.config import AppConfig, SignalsConfig
from engine.data.panel import MarketPanel
from engine.signals.base import SignalOutput

SMALL = AppConfig().with_overrides({"market.years": 1.5, "market.n_assets": 5})


@pytest.mark.unit
@pytest.mark.parametrize(
    ("request_", "needle"),
    [
        (BacktestRequest(rebalance="hourly"), "--rebalance 'hourly' is not known"),
        (BacktestRequest(optimizer="magic"), "--optimizer 'magic' is not known"),
        (BacktestRequest(start="2020-13-01"), "--start '2020-13-01' is not a date"),
        (BacktestRequest(start="2021-01-01", end="2020-01-01"), "is after --end"),
        (BacktestRequest(universe="1"), "at least 2 symbols"),
        (BacktestRequest(universe="AAA"), "at least two symbols"),
        (BacktestRequest(universe="ZZZ1,ZZZ2"), "unknown symbol(s) ZZZ1, ZZZ2"),
        (BacktestRequest(data=Path("/nonexistent.csv"), seed=3), "--seed applies"),
        (BacktestRequest(data=Path("/nonexistent/prices.csv")), "does not exist"),
        (BacktestRequest(start="2018-01-02", end="2018-03-01"), "warm-up"),
    ],
)
def test_bad_input_is_returned_naming_the_option(request_: BacktestRequest, needle: str) -> None:
    got = run_request(SMALL, request_)
    assert isinstance(got, BacktestInputError)
    assert needle in got.message


@pytest.mark.unit
def test_a_bad_grid_file_is_an_input_error(tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  lambda: [1, 2]\n")
    got = run_request(SMALL, BacktestRequest(grid=grid))
    assert isinstance(got, BacktestInputError) and "not a dotted config path" in got.message


@pytest.mark.integration
def test_a_run_reports_notes_progress_and_the_config_that_ran() -> None:
    notes: list[str] = []
    ticks: list[tuple[str, int, int]] = []

    @contextlib.contextmanager
    def progress(label: str) -> Iterator[object]:
        yield lambda done, total: ticks.append((label, done, total))

    got = run_request(
        SMALL, BacktestRequest(universe="4", rebalance="monthly", seed=9, check_lookahead=True),
        note=notes.append, progress=progress,  # type: ignore[arg-type]
    )  # fmt: skip
    assert isinstance(got, BacktestRun)
    assert got.panel.N == 4 and got.seed == 9 and got.config.market.seed == 9
    assert got.config.backtest.rebalance == "monthly" and got.lookahead_ok is True
    assert got.truth is not None and len(got.truth) >= got.panel.T
    assert notes[0].startswith("look-ahead check:") and notes[1].startswith("data: synthetic")
    assert ticks and {label for label, _, _ in ticks} == {"backtest qp 4 assets"}
    assert [done for _, done, _ in ticks] == list(range(1, len(ticks) + 1))


@pytest.mark.integration
def test_a_leaky_signal_is_a_lookahead_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.signals.lookahead as lookahead

    def leaky(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput:
        future = np.zeros(panel.close.shape)  # reads tomorrow's close
        future[:-1] = panel.close[1:] / panel.close[:-1]
        return SignalOutput(name="LEAK", score=future - future.mean(axis=1, keepdims=True))

    real = lookahead.signal_pipeline
    monkeypatch.setattr(
        lookahead, "signal_pipeline", lambda cfg: real(cfg, extra_signals={"LEAK": leaky})
    )
    got = run_request(SMALL, BacktestRequest(check_lookahead=True))
    assert isinstance(got, LookaheadFailure)
    assert "signal:LEAK" in got.report.leaky_components
