"""Fixtures the gate tests share: a gate context in tmp, sign-offs, coverage files, paper logs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from artifacts.io import write_artifact, write_csv_artifact
from artifacts.models.paper_trading_log import PaperTradingLog
from engine.config import AppConfig, load_config
from engine.data.assets import REPO_ROOT
from gates.base import GateContext, GateOptions
from gates.governance import sign
from tests.test_artifacts import examples

ROLES = (("risk_officer", "Ada Risk"), ("cto", "Brian Tech"), ("lead_trader", "Chen Trade"))
# A small, fast, real broker test file for gate 4 in the chain tests.
QUICK_BROKER_TESTS = ("-m", "broker", "tests/test_engine/test_broker/test_commissions.py")


def now() -> datetime:
    return datetime.now(UTC)


def context(
    out: Path, config: AppConfig | None = None, *, config_source: str = "the effective config",
    **options: Any,
) -> GateContext:  # fmt: skip
    return GateContext(
        config=config or load_config(None, {}),
        out_dir=out,
        repo_root=REPO_ROOT,
        clock=now,
        options=GateOptions(**options),
        config_source=config_source,
    )


def sign_all(
    directory: Path, config: AppConfig, roles: tuple[tuple[str, str], ...] = ROLES
) -> None:
    for role, name in roles:
        sign(directory, role=role, name=name, config=config, clock=now)


def coverage_json(path: Path, percent: float) -> Path:
    path.write_text(
        '{"meta": {"version": "7.6"}, "files": {}, "totals": {"covered_lines": 79, '
        f'"num_statements": 100, "percent_covered": {percent}, "num_branches": 10}}}}',
        encoding="utf-8",
    )
    return path


def paper_log(
    *,
    trades: int = 60,
    pacing_violations: int = 0,
    fill_rate: float = 1.0,
    latency_delta: float | None = 0.07,
    sharpe_paper: float | None = 1.1,
    sharpe_backtest: float | None = 1.4,
    duration_seconds: float | None = None,
) -> PaperTradingLog:
    """A schema-valid session log with ``trades`` filled orders and the given figures."""
    base = examples.paper_trading_log().model_dump(mode="json")
    filled = base["trades"][0]
    base["trades"] = [
        dict(filled, intent_id=f"00000000-0000-4000-8000-{i:012d}") for i in range(trades)
    ]
    orders_filled = round(trades * fill_rate)
    base["summary"].update(
        intents=trades, orders_submitted=trades, orders_filled=orders_filled, risk_rejections=0,
        trades=trades, fills=2 * trades, fill_rate=fill_rate, latency_delta=latency_delta,
        pacing_violations=pacing_violations, sharpe_paper=sharpe_paper,
        sharpe_backtest=sharpe_backtest, backtest_report=None,
    )  # fmt: skip
    base["metrics_file"] = None
    if duration_seconds is not None:
        base["session"]["duration_seconds"] = duration_seconds
    return PaperTradingLog.model_validate(base)


def write_paper_session(out: Path, log: PaperTradingLog | None = None) -> None:
    """Put a finished paper session's artifacts where gate 7 reads them."""
    out.mkdir(parents=True, exist_ok=True)
    write_artifact(out / PaperTradingLog.FILE_NAME, log or paper_log())
    write_csv_artifact(out / "PAPER_TRADING_METRICS.csv", examples.metrics_rows())
    write_artifact(out / "LATENCY_BASELINE.json", examples.latency_baseline())
