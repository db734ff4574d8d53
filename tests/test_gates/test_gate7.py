"""Gate 7 judges a paper session: every threshold, the refusal below min_trades, missing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import load_config
from gates.g7_paper_trading import PaperTradingGate
from gates.paper_judge import judge_paper
from tests.test_artifacts import examples
from tests.test_gates.support import context, paper_log, write_paper_session

pytestmark = pytest.mark.unit

GATES = load_config(None, {}).gates


def _failed(**figures: object) -> list[str]:
    evidence = judge_paper(paper_log(**figures), GATES, backtest=None)  # type: ignore[arg-type]
    return [e.condition for e in evidence if not e.passed]


def test_a_good_session_passes_every_condition() -> None:
    evidence = judge_paper(paper_log(), GATES, backtest=None)
    assert all(e.passed for e in evidence) and len(evidence) == 5


@pytest.mark.parametrize(
    ("figures", "condition"),
    [
        ({"pacing_violations": 1}, "pacing_violations == 0"),
        ({"fill_rate": 0.98}, "fill_rate > 98%"),  # strictly greater
        ({"latency_delta": 0.5}, "latency_delta < 50% vs the mock baseline (p95)"),
        ({"latency_delta": None}, "latency_delta < 50% vs the mock baseline (p95)"),
        ({"sharpe_paper": 0.69, "sharpe_backtest": 1.4}, "sharpe_paper ≥ 0.5 × sharpe_backtest"),
    ],
)
def test_each_threshold_fails_alone(figures: dict[str, object], condition: str) -> None:
    assert _failed(**figures) == [condition]


def test_sharpe_at_exactly_half_the_backtest_passes() -> None:
    assert _failed(sharpe_paper=0.7, sharpe_backtest=1.4) == []


def test_refuses_to_judge_below_min_trades() -> None:
    evidence = judge_paper(paper_log(trades=49, pacing_violations=3), GATES, backtest=None)
    [only] = evidence
    assert not only.passed and only.measured == 49 and only.threshold == 50
    assert "refusing to judge" in (only.detail or "")


def test_backtest_report_sharpe_wins_over_the_session_copy() -> None:
    backtest = examples.backtest_report()
    need = GATES.sharpe_ratio_min * (backtest.statistics.sharpe or 0)
    evidence = judge_paper(paper_log(sharpe_paper=need - 0.01), GATES, backtest=backtest)
    assert [e.condition for e in evidence if not e.passed] == [
        "sharpe_paper ≥ 0.5 × sharpe_backtest"
    ]


def test_gate7_without_session_artifacts_says_what_to_run(tmp_path: Path) -> None:
    result = PaperTradingGate().run(context(tmp_path, run_session=False))
    [failed] = result.failed_conditions
    assert "no paper session artifacts; run `algotrade paper-session`" in (failed.detail or "")


def test_gate7_pins_the_session_artifacts(tmp_path: Path) -> None:
    write_paper_session(tmp_path)
    result = PaperTradingGate().run(context(tmp_path, run_session=False))
    assert result.verdict == "PASS", result.failed_conditions
    assert [a.name for a in result.artifacts] == [
        "PAPER_TRADING_LOG.json", "PAPER_TRADING_METRICS.csv", "LATENCY_BASELINE.json",
    ]  # fmt: skip
