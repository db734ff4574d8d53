"""Gate 7's judgement of a paper session, from its artifacts alone (pure: models in, evidence out).

Passes when, on at least ``min_trades`` trades: latency_delta < latency_delta_max against the mock
baseline, pacing_violations ≤ pacing_violations_max (0), fill_rate > fill_rate_min and
sharpe_paper ≥ sharpe_ratio_min × sharpe_backtest. Below ``min_trades`` it refuses to judge:
the only evidence is the failed trade count.

The Sharpe comparison. A session of a few hours measures an annualised Sharpe with a standard
error of about √(252 / days) (iid returns, Lo 2002: the annualised estimate from n bars covering
``days`` trading days has variance ≈ periods_per_year / n = 252 / days) — about 16 for one
6½-hour day, so one day's point estimate says little about the strategy. With
``gates.sharpe_test = "statistical"`` (the default) the condition fails only when the paper
Sharpe is *significantly* below the required level at ``gates.sharpe_confidence`` (one-sided);
the evidence records the point estimate, the required level and the standard error. ``"point"``
compares the numbers as they are.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from artifacts.models.backtest_report import BacktestReport
from artifacts.models.base import Evidence
from artifacts.models.paper_trading_log import PaperTradingLog
from engine.config import GatesConfig
from gates.base import check

RERUN = "run a longer paper session (`algotrade paper-session`, or raise session.duration_hours)"
TRADING_DAY_SECONDS = 6.5 * 3600


def sharpe_standard_error(session_seconds: float, periods_per_year: int = 252) -> float | None:
    """Standard error of an annualised Sharpe measured over ``session_seconds`` of trading."""
    days = session_seconds / TRADING_DAY_SECONDS
    return math.sqrt(periods_per_year / days) if days > 0 else None


def judge_paper(
    log: PaperTradingLog, cfg: GatesConfig, *, backtest: BacktestReport | None
) -> list[Evidence]:
    s = log.summary
    if s.trades < cfg.min_trades:
        return [
            check(f"at least {cfg.min_trades} trades to judge", s.trades, cfg.min_trades, False,
                  f"only {s.trades} trades (orders with a fill); refusing to judge — {RERUN}")
        ]  # fmt: skip
    evidence = [check(f"at least {cfg.min_trades} trades to judge", s.trades, cfg.min_trades, True)]
    delta = s.latency_delta
    evidence.append(
        check(f"latency_delta < {cfg.latency_delta_max:.0%} vs the mock baseline "
              f"({s.latency_delta_basis})", delta, cfg.latency_delta_max,
              delta is not None and delta < cfg.latency_delta_max,
              "no mock baseline was compared: record one with `algotrade paper-session "
              "--record-baseline`" if delta is None else
              f"paper latency {s.latency_p95_ms} ms p95 is {delta:.0%} above the baseline; "
              "find the slow hop in PAPER_TRADING_METRICS.csv (network, pacing queue)")
    )  # fmt: skip
    evidence.append(
        check("pacing_violations == 0" if cfg.pacing_violations_max == 0
              else f"pacing_violations ≤ {cfg.pacing_violations_max}",
              s.pacing_violations, cfg.pacing_violations_max,
              s.pacing_violations <= cfg.pacing_violations_max,
              f"{s.pacing_violations} pacing violation(s) (IB error 100): lower pacing.rate "
              "below the broker limit and check nothing sends around the limiter")
    )  # fmt: skip
    fr = s.fill_rate
    evidence.append(
        check(f"fill_rate > {cfg.fill_rate_min:.0%}", fr, cfg.fill_rate_min,
              fr is not None and fr > cfg.fill_rate_min,
              f"fill rate {fr if fr is None else f'{fr:.2%}'} ({s.orders_filled} of "
              f"{s.orders_submitted} orders filled; {s.orders_rejected} rejected, "
              f"{s.orders_cancelled} cancelled): read the rejects in PAPER_TRADING_LOG.json")
    )  # fmt: skip
    sb = backtest.statistics.sharpe if backtest is not None else s.sharpe_backtest
    sp = s.sharpe_paper
    need = None if sb is None else cfg.sharpe_ratio_min * sb
    condition = f"sharpe_paper ≥ {cfg.sharpe_ratio_min:g} × sharpe_backtest"
    if need is None or sp is None:
        evidence.append(
            check(condition, sp, None if need is None else round(need, 6), False,
                  "no backtest Sharpe to compare: run `algotrade backtest` (BACKTEST_REPORT.json)"
                  if need is None else "no paper Sharpe (too few returns)")
        )  # fmt: skip
        return evidence
    se = sharpe_standard_error(log.session.duration_seconds)
    if cfg.sharpe_test == "point" or se is None:
        passed, how = sp >= need, ""
    else:
        z = NormalDist().inv_cdf(cfg.sharpe_confidence)
        passed = sp + z * se >= need
        how = (
            f" (not significantly below at {cfg.sharpe_confidence:.0%}: standard error {se:.1f} "
            f"over {log.session.duration_seconds / TRADING_DAY_SECONDS:.2f} trading days, "
            f"upper bound {sp + z * se:.2f})"
        )
        condition += f", statistically (one-sided {cfg.sharpe_confidence:.0%})"
    evidence.append(
        check(condition, round(sp, 6), round(need, 6), passed,
              f"paper Sharpe {sp:.3f} vs required {need:.3f}{how}"
              if passed else
              f"paper Sharpe {sp:.3f} < {cfg.sharpe_ratio_min:g} × backtest {sb:.3f}{how}: the "
              "live edge is weaker than backtested; investigate costs and slippage, or run a "
              "longer session before going on")
    )  # fmt: skip
    return evidence
