"""``algotrade backtest`` end to end: exit codes, --json, artifact validity, chart and CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    """Two years of synthetic data: enough for the warm-up and ~70 weekly rebalances."""
    path = tmp_path / "config.yaml"
    path.write_text("market:\n  years: 2.0\n")
    return path


@pytest.mark.integration
def test_run_writes_a_valid_report_chart_and_csv(small_config: Path, tmp_path: Path) -> None:
    from artifacts.io import read_artifact, sha256_file
    from artifacts.models.backtest_report import BacktestReport

    out = tmp_path / "out"
    res = run_cli(
        "--config", str(small_config), "backtest", "--universe", "12", "--out", str(out), "--json"
    )
    assert res.exit_code == 0, res.stderr
    summary = json.loads(res.stdout)  # stdout is one JSON document and nothing else
    report = read_artifact(out / "BACKTEST_REPORT.json", BacktestReport)  # schema-validated
    assert len(report.universe) == 12
    assert report.period.trading_days == 504
    assert report.period.rebalances > 50
    assert report.data_source == "synthetic" and report.seed == 42
    assert {s.name for s in report.signals} == {"OFI", "ERN", "VRP", "POS", "TSX", "SIF"}
    assert report.costs.total > 0
    assert summary["statistics"]["sharpe"] == report.statistics.sharpe
    chart = out / "backtest_chart.png"
    assert chart.read_bytes()[:8] == PNG_MAGIC
    csv_lines = (out / "backtest_daily.csv").read_text().splitlines()
    assert csv_lines[0].startswith("date,equity,return")
    assert len(csv_lines) == 1 + 504
    for ref in report.outputs:  # the report pins its outputs by hash
        assert sha256_file(out / ref.path) == ref.sha256


@pytest.mark.integration
def test_human_output_has_the_summary_table(small_config: Path, tmp_path: Path) -> None:
    res = run_cli(
        "--config",
        str(small_config),
        "backtest",
        "--universe",
        "8",
        "--rebalance",
        "monthly",
        "--optimizer",
        "hrp",
        "--out",
        str(tmp_path / "o"),
    )
    assert res.exit_code == 0, res.stderr
    assert "Sharpe" in res.stdout and "Max drawdown" in res.stdout
    assert "BACKTEST_REPORT.json" in res.stdout


@pytest.mark.integration
def test_check_lookahead_passes_on_the_synthetic_market(small_config: Path, tmp_path: Path) -> None:
    from artifacts.io import read_artifact

    out = tmp_path / "o"
    res = run_cli(
        "--config",
        str(small_config),
        "backtest",
        "--universe",
        "6",
        "--check-lookahead",
        "--rebalance",
        "monthly",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.stderr
    assert "no look-ahead" in res.stderr
    assert read_artifact(out / "BACKTEST_REPORT.json").lookahead_checked is True  # type: ignore[attr-defined]


@pytest.mark.integration
def test_close_only_file_drops_signals_with_a_warning(tmp_path: Path) -> None:
    import pandas as pd

    from artifacts.io import read_artifact
    from engine.config import SyntheticMarketConfig
    from engine.data.synthetic import SyntheticMarket

    panel = SyntheticMarket(SyntheticMarketConfig(years=1.5, n_assets=6)).daily_panel()
    frame = pd.DataFrame(panel.close, index=panel.dates, columns=list(panel.symbols))
    frame.iloc[:200, 0] = float("nan")  # listed late
    frame.iloc[250:255, 1] = float("nan")  # a gap of missing bars
    long = frame.stack().rename("close").reset_index()
    long.columns = ["date", "symbol", "close"]
    data = tmp_path / "prices.csv"
    long.to_csv(data, index=False)
    out = tmp_path / "o"
    res = run_cli("backtest", "--data", str(data), "--out", str(out), "--json")
    assert res.exit_code == 0, res.stderr
    report = read_artifact(out / "BACKTEST_REPORT.json")
    dropped = {d.name for d in report.dropped_signals}  # type: ignore[attr-defined]
    assert {"ERN", "VRP", "POS", "SIF"} <= dropped
    assert "TSX" in {s.name for s in report.signals}  # type: ignore[attr-defined]
    assert report.data_source == str(data)  # type: ignore[attr-defined]
    assert report.quality.symbol_days_untradable >= 5  # type: ignore[attr-defined]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--rebalance", "hourly"), "--rebalance 'hourly' is not known"),
        (("--optimizer", "magic"), "--optimizer 'magic' is not known"),
        (("--start", "2020-13-01"), "--start '2020-13-01' is not a date"),
        (("--start", "2021-01-01", "--end", "2020-01-01"), "is after --end"),
        (("--universe", "ZZZ1,ZZZ2"), "unknown symbol(s) ZZZ1, ZZZ2"),
        (("--universe", "1"), "at least 2 symbols"),
        (("--data", "/nonexistent/prices.csv"), "does not exist"),
        (("--start", "2018-01-02", "--end", "2018-03-01"), "warm-up"),
    ],
)
def test_bad_input_exits_1_with_the_reason(
    args: tuple[str, ...], needle: str, tmp_path: Path
) -> None:
    res = run_cli("backtest", *args, "--out", str(tmp_path / "o"))
    assert res.exit_code == 1, (res.stdout, res.stderr)
    assert needle in res.stderr
    assert not (tmp_path / "o" / "BACKTEST_REPORT.json").exists()


@pytest.mark.unit
def test_malformed_data_file_exits_1_naming_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("date,symbol,close\n2024-01-02,AAA,10\n2024-01-03,AAA,-5\n")
    res = run_cli("backtest", "--data", str(bad), "--out", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "bad.csv" in res.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_planted_edge_is_found(tmp_path: Path) -> None:
    """Three years, 20 assets: positive Sharpe, and the ensemble weights favour the signals with
    a planted edge (OFI, ERN, TSX — engine.data.synthetic.PLANTED_EDGE) over those without."""
    from artifacts.io import read_artifact
    from engine.data.synthetic import PLANTED_EDGE

    cfg = tmp_path / "c.yaml"
    cfg.write_text("market:\n  years: 3.0\n")
    out = tmp_path / "o"
    res = run_cli("--config", str(cfg), "backtest", "--universe", "20", "--out", str(out), "--json")
    assert res.exit_code == 0, res.stderr
    report = read_artifact(out / "BACKTEST_REPORT.json")
    assert report.statistics.sharpe is not None and report.statistics.sharpe > 0  # type: ignore[attr-defined]
    weights = {s.name: s.mean_weight for s in report.signals}  # type: ignore[attr-defined]
    edge = [k for k, v in PLANTED_EDGE.items() if v["has_edge"]]
    noise = [k for k, v in PLANTED_EDGE.items() if not v["has_edge"]]
    assert min(weights[k] for k in edge) > max(weights[k] for k in noise)


@pytest.mark.integration
def test_check_lookahead_fails_naming_a_leaky_component(
    small_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A toy signal that reads tomorrow's close is added to the real pipeline: exit 1, named."""
    import numpy as np

    import engine.signals.lookahead as lookahead
    from engine.config import SignalsConfig
    from engine.data.panel import MarketPanel
    from engine.signals.base import SignalOutput

    def leaky(panel: MarketPanel, cfg: SignalsConfig) -> SignalOutput:
        future = np.zeros(panel.close.shape)  # the last row has no tomorrow: no view
        future[:-1] = panel.close[1:] / panel.close[:-1]
        sd = future.std(axis=1, keepdims=True)
        z = (future - future.mean(axis=1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
        return SignalOutput(name="LEAK", score=z)

    real = lookahead.signal_pipeline
    monkeypatch.setattr(
        lookahead, "signal_pipeline", lambda cfg: real(cfg, extra_signals={"LEAK": leaky})
    )
    out = tmp_path / "o"
    res = run_cli(
        "--config",
        str(small_config),
        "backtest",
        "--universe",
        "6",
        "--check-lookahead",
        "--out",
        str(out),
    )
    assert res.exit_code == 1
    assert "signal:LEAK" in res.stderr
    assert not (out / "BACKTEST_REPORT.json").exists()  # nothing is written after a failure


@pytest.mark.integration
def test_grid_reports_every_configuration_dsr_and_pbo(small_config: Path, tmp_path: Path) -> None:
    from artifacts.io import read_artifact
    from artifacts.models.backtest_report import BacktestReport

    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  portfolio.vol_target: [0.06, 0.10]\ncscv_blocks: 4\n")
    out = tmp_path / "o"
    res = run_cli(
        "--config",
        str(small_config),
        "backtest",
        "--universe",
        "6",
        "--rebalance",
        "monthly",
        "--grid",
        str(grid),
        "--workers",
        "1",
        "--out",
        str(out),
        "--json",
    )
    assert res.exit_code == 0, res.stderr
    report = read_artifact(out / "BACKTEST_REPORT.json", BacktestReport)
    assert report.grid is not None and len(report.grid.runs) == 2
    assert report.grid.parameters == ("portfolio.vol_target",)
    assert report.statistics.dsr is not None
    best = report.grid.runs[report.grid.selected]
    assert best.sharpe == pytest.approx(max(r.sharpe for r in report.grid.runs if r.sharpe))
    assert json.loads(res.stdout)["grid"]["best"]["index"] == report.grid.selected


@pytest.mark.unit
def test_bad_grid_file_exits_1(tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  lambda: [1, 2]\n")
    res = run_cli("backtest", "--grid", str(grid), "--out", str(tmp_path / "o"))
    assert res.exit_code == 1
    assert "not a dotted config path" in res.stderr
