"""Parameter grids: parsing, validation before running, parallel = serial, DSR and PBO."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.backtest.grid import (
    GridError,
    grid_configs,
    load_grid,
    parse_grid,
    run_grid,
)
from engine.config import AppConfig, SyntheticMarketConfig
from engine.data.panel import MarketPanel
from engine.data.synthetic import SyntheticMarket
from engine.stats.cscv import cscv
from engine.stats.dsr import deflated_sharpe_of_best


@pytest.mark.unit
def test_combinations_in_file_order_last_key_fastest() -> None:
    spec = parse_grid(
        {"grid": {"portfolio.optimizer": ["qp", "hrp"], "portfolio.vol_target": [0.1, 0.2]}}
    )
    assert spec.combinations() == [
        {"portfolio.optimizer": "qp", "portfolio.vol_target": 0.1},
        {"portfolio.optimizer": "qp", "portfolio.vol_target": 0.2},
        {"portfolio.optimizer": "hrp", "portfolio.vol_target": 0.1},
        {"portfolio.optimizer": "hrp", "portfolio.vol_target": 0.2},
    ]
    assert spec.cscv_blocks == 16
    assert parse_grid({"portfolio.lambda_init": [1e-4], "cscv_blocks": 8}).cscv_blocks == 8


@pytest.mark.unit
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "expected a mapping"),
        ({"grid": {}}, "no parameters"),
        ({"lambda": [1]}, "not a dotted config path"),
        ({"portfolio.lambda_init": []}, "non-empty list"),
        ({"portfolio.lambda_init": 0.1}, "non-empty list"),
        ({"portfolio.lambda_init": [1], "cscv_blocks": 7}, "even integer"),
        ({"a.b": list(range(30)), "c.d": list(range(30))}, "900 configurations exceed"),
    ],
)
def test_bad_grids_are_named(data: object, message: str) -> None:
    with pytest.raises(GridError, match=message):
        parse_grid(data)


@pytest.mark.unit
def test_invalid_values_fail_before_anything_runs() -> None:
    spec = parse_grid({"portfolio.optimizer": ["qp", "magic"]})
    with pytest.raises(GridError, match=r"configuration 1 .*magic"):
        grid_configs(AppConfig(), spec)


@pytest.mark.unit
def test_load_grid_reads_yaml(tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text("grid:\n  portfolio.optimizer: [qp, hrp]\ncscv_blocks: 4\n")
    spec = load_grid(path)
    assert spec.parameters == (("portfolio.optimizer", ("qp", "hrp")),)
    (tmp_path / "bad.yaml").write_text("grid: [unclosed\n")
    with pytest.raises(GridError, match="not valid YAML"):
        load_grid(tmp_path / "bad.yaml")
    with pytest.raises(GridError, match="cannot read"):
        load_grid(tmp_path / "missing.yaml")


@pytest.fixture(scope="module")
def small_panel() -> MarketPanel:
    return SyntheticMarket(SyntheticMarketConfig(seed=1, years=1.5, n_assets=10)).daily_panel()


@pytest.mark.integration
def test_grid_runs_in_parallel_like_serially_with_dsr_and_pbo(small_panel: MarketPanel) -> None:
    base = AppConfig().with_overrides({"backtest.rebalance": "monthly"})
    spec = parse_grid(
        {
            "grid": {"portfolio.optimizer": ["qp", "hrp"], "portfolio.vol_target": [0.05, 0.1]},
            "cscv_blocks": 8,
        }
    )
    seen: list[tuple[int, int]] = []
    serial = run_grid(small_panel, base, spec, workers=1, progress=lambda d, t: seen.append((d, t)))
    parallel = run_grid(small_panel, base, spec, workers=2)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    np.testing.assert_array_equal(serial.returns, parallel.returns)
    assert [r.overrides for r in parallel.runs] == spec.combinations()
    assert serial.returns.shape == (len(serial.dates), 4)

    best, dsr = deflated_sharpe_of_best(serial.returns)
    assert serial.best == best and serial.dsr.dsr == dsr.dsr and dsr.n_trials == 4
    assert serial.pbo is not None
    assert serial.pbo.pbo == cscv(serial.returns, 8).pbo
    summary = serial.summary()
    assert summary["dsr"]["n_trials"] == 4
    assert summary["pbo"]["n_splits"] == 70
    assert summary["best"]["overrides"] == spec.combinations()[best]


@pytest.mark.integration
def test_single_configuration_has_dsr_but_no_pbo(small_panel: MarketPanel) -> None:
    base = AppConfig().with_overrides({"backtest.rebalance": "monthly"})
    result = run_grid(small_panel, base, parse_grid({"portfolio.optimizer": ["hrp"]}), workers=1)
    assert result.pbo is None
    assert "at least two" in result.pbo_note
    assert result.dsr.n_trials == 1
