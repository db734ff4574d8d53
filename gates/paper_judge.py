"""Gate 7's judgement of a paper session, from its artifacts alone (pure: models in, evidence out).

Passes when, on at least ``min_trades`` trades: latency_delta < latency_delta_max against the mock
baseline, pacing_violations ≤ pacing_violations_max (0), fill_rate > fill_rate_min and
sharpe_paper ≥ sharpe_ratio_min × sharpe_backtest. Below ``min_trades`` it refuses to judge:
the only evidence is the failed trade count.
"""

from __future__ import annotations

from artifacts.models.backtest_report import BacktestReport
from artifacts.models.base import Evidence
from artifacts.models.paper_trading_log import PaperTradingLog
from engine.config import GatesConfig
from gates.base import check

RERUN = "run a longer paper session (`algotrade paper-session`, or raise session.duration_hours)"


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
    evidence.append(
        check(f"sharpe_paper ≥ {cfg.sharpe_ratio_min:g} × sharpe_backtest", sp,
              None if need is None else round(need, 6),
              sp is not None and need is not None and sp >= need,
              "no backtest Sharpe to compare: run `algotrade backtest` (BACKTEST_REPORT.json)"
              if need is None else "no paper Sharpe (too few returns)" if sp is None else
              f"paper Sharpe {sp:.3f} < {cfg.sharpe_ratio_min:g} × backtest {sb:.3f}: the live "
              "edge is weaker than backtested; investigate costs and slippage before going on")
    )  # fmt: skip
    return evidence
