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

# The threshold arithmetic is tested with the plain numeric comparison; the statistical one
# (the default) has its own tests below.
GATES = load_config(None, {"ALGOTRADE_GATES__SHARPE_TEST": "point"}).gates
DEFAULT_GATES = load_config(None, {}).gates
ONE_DAY = 6.5 * 3600


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


def test_default_sharpe_test_tolerates_one_noisy_day_but_not_a_significant_shortfall() -> None:
    # One 6.5-hour day: the annualised Sharpe's standard error is √252 ≈ 15.9, so a day at
    # -20 against a required +2 is within noise (upper bound -20 + 1.645 × 15.9 ≈ 6.1).
    day = judge_paper(
        paper_log(sharpe_paper=-20.0, sharpe_backtest=4.0, duration_seconds=ONE_DAY),
        DEFAULT_GATES, backtest=None,
    )  # fmt: skip
    [sharpe] = [e for e in day if "sharpe" in e.condition]
    assert sharpe.passed and "standard error 15.9" in (sharpe.detail or "")
    # Sixty trading days at the same Sharpe: standard error √(252/60) ≈ 2.05, significant.
    sixty = judge_paper(
        paper_log(sharpe_paper=-20.0, sharpe_backtest=4.0, duration_seconds=60 * ONE_DAY),
        DEFAULT_GATES, backtest=None,
    )  # fmt: skip
    [sharpe] = [e for e in sixty if "sharpe" in e.condition]
    assert not sharpe.passed and sharpe.measured == -20.0 and sharpe.threshold == 2.0


def test_point_sharpe_test_fails_the_same_noisy_day() -> None:
    day = judge_paper(
        paper_log(sharpe_paper=-20.0, sharpe_backtest=4.0, duration_seconds=ONE_DAY),
        GATES, backtest=None,
    )  # fmt: skip
    assert [e.condition for e in day if not e.passed] == ["sharpe_paper ≥ 0.5 × sharpe_backtest"]


def test_sharpe_standard_error_follows_the_session_length() -> None:
    from gates.paper_judge import sharpe_standard_error

    assert sharpe_standard_error(ONE_DAY) == pytest.approx(252**0.5)
    assert sharpe_standard_error(4 * ONE_DAY) == pytest.approx((252 / 4) ** 0.5)
    assert sharpe_standard_error(0.0) is None
