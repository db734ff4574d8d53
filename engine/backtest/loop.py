"""The walk-forward backtest loop (SPEC §2.5).

Timeline of one bar ``t`` (daily bars, integer share holdings, cash account):

1. **Execute** the targets decided at the close of ``t − 1``: at the open of ``t``
   (``execution = "next_open"``) or at the close of ``t`` (``"next_close"``). A decision therefore
   never trades at a price known when it was taken. Symbols without a valid bar today (QA mask)
   are not traded and are counted.
2. **Mark to market** at the close of ``t`` (last known close for a missing bar): equity, cash,
   gross and net exposure, the day's return and turnover.
3. **Kill switches** on PnL since inception, drawdown from peak and the online PSR (armed after
   ``kill_switch.psr_min_obs`` returns). A halt latches (in-memory store): the book is flattened at
   the next execution and no further decisions are taken.
4. **Decide** on rebalance dates, under the gross/net limits of the day (the causally filtered
   regime's when ``regime.enabled``, else the static ``portfolio`` limits) (last trading day of the week/month, or daily): signals →
   ensemble → Grinold μ (see :mod:`engine.backtest.alpha`) → Ledoit–Wolf Σ over
   ``portfolio.cov_window`` returns → optimiser under the limits of the day → target weights. A
   symbol that cannot be traded today is frozen at its current weight. A failed solve falls back
   to the optimiser's ``on_failure`` policy and is recorded.

The loop is deterministic: same panel and config, same result, bit for bit. It reads no clock
(optimisers report their own solve time for diagnostics) and writes no files.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from engine.backtest.alpha import AlphaModel, AlphaSignals, ensemble_alpha
from engine.backtest.costs import trade_costs
from engine.backtest.decision import decide_weights
from engine.backtest.optimizers import make_optimizer
from engine.backtest.result import (
    BacktestResult,
    CostTotals,
    FailedSolveRecord,
    SignalDiagnostics,
)
from engine.config import AppConfig, Rebalance
from engine.data.panel import MarketPanel
from engine.portfolio.base import PortfolioOptimizer
from engine.risk.kill_switch import KillSwitchBank, KillSwitchEvent, MemoryLatchStore
from engine.stats.performance import performance_summary
from engine.stats.psr import OnlinePSR, probabilistic_sharpe_ratio

ProgressFn = Callable[[int, int], None]
"""``progress(done, total)`` over rebalance dates."""
LimitsProvider = Callable[[int], tuple[float, float]]
"""``(gross, net)`` limits for row ``t`` — the regime hook; default: the static config limits."""

_EXCHANGE_TZ = ZoneInfo("America/New_York")
ADV_WINDOW = 21


def rebalance_indices(dates: pd.DatetimeIndex, freq: Rebalance, first: int) -> np.ndarray:
    """Rows ≥ ``first`` (and before the last row) that are decision dates for ``freq``.

    Weekly/monthly: the last trading day of each calendar week/month present in ``dates``.
    """
    n = len(dates)
    rows = np.arange(n - 1)
    if freq == "daily":
        mask = np.ones(n - 1, dtype=bool)
    else:
        if freq == "weekly":
            iso = dates.isocalendar()
            key = (iso["year"].to_numpy() * 100 + iso["week"].to_numpy()).astype(np.int64)
        else:
            key = (dates.year * 100 + dates.month).to_numpy().astype(np.int64)
        mask = key[:-1] != key[1:]
    return rows[mask & (rows >= first)]


def _close_of(day: pd.Timestamp) -> datetime:
    return datetime.combine(day.date(), time(16, 0), tzinfo=_EXCHANGE_TZ)


def _basic_tradable(panel: MarketPanel) -> np.ndarray:
    open_, close = panel.get("open"), panel.close
    assert open_ is not None
    ok = np.isfinite(open_) & np.isfinite(close) & (open_ > 0) & (close > 0)
    try:
        from engine.data.qa import tradable_mask
    except ImportError:  # QA module not present: price validity alone decides
        return ok
    return ok & np.asarray(tradable_mask(panel), dtype=bool)


def _rolling_adv(volume: np.ndarray | None, window: int) -> np.ndarray | None:
    if volume is None:
        return None
    frame = pd.DataFrame(volume)
    return frame.rolling(window, min_periods=max(1, window // 2)).mean().to_numpy()


def run_backtest(
    panel: MarketPanel,
    config: AppConfig,
    *,
    optimizer: PortfolioOptimizer | None = None,
    progress: ProgressFn | None = None,
    limits_provider: LimitsProvider | None = None,
    alpha_model: AlphaModel | None = None,
) -> BacktestResult:
    """Walk forward over ``panel`` with ``config``; see the module docstring for the timeline.

    Parameters
    ----------
    panel : MarketPanel
        Daily bars (T, N); restricted to ``backtest.start``/``end`` when set.
    config : AppConfig
        Every setting (portfolio, costs, kill_switch, backtest, signals).
    optimizer : PortfolioOptimizer, optional
        Default: the one named by ``portfolio.optimizer``.
    progress : callable, optional
        Called as ``progress(done, total)`` after each rebalance date.
    limits_provider : callable, optional
        ``(gross, net)`` per row. Default: the causal regime filter's limits
        (:mod:`engine.risk.regime`) when ``regime.enabled``, else ``portfolio.gross_lim/net_lim``.
    alpha_model : callable, optional
        ``(panel, SignalsConfig) -> AlphaSignals``; default the six-signal IC ensemble.
    """
    bt, pf = config.backtest, config.portfolio
    if bt.start is not None or bt.end is not None:
        panel = panel.between(bt.start, bt.end)
    t_len, n = panel.T, panel.N
    if t_len < 3:
        raise ValueError(f"the panel has {t_len} rows; a backtest needs at least 3 trading days")
    opt = optimizer if optimizer is not None else make_optimizer(pf.optimizer, pf)
    regime_states: np.ndarray | None = None
    if limits_provider is None and config.regime.enabled:
        # SPEC §2.4: the causally filtered regime sets gross/net; static limits otherwise.
        from engine.risk.regime import detect_regimes, regime_limits

        path = detect_regimes(panel, config.regime)
        limits_provider = regime_limits(path, config.regime)
        regime_states = np.asarray(path.states)
    alpha: AlphaSignals = (alpha_model or ensemble_alpha)(panel, config.signals)

    open_ = panel.get("open")
    assert open_ is not None
    close = panel.close
    mark = pd.DataFrame(close).ffill().to_numpy()
    tradable = _basic_tradable(panel)
    returns = panel.returns()
    adv = _rolling_adv(panel.get("volume"), ADV_WINDOW)
    exec_px = open_ if bt.execution == "next_open" else close
    ppy = bt.periods_per_year

    first = min(bt.warmup_days, t_len - 2)
    rebal = rebalance_indices(panel.dates, bt.rebalance, first)
    is_rebal = np.zeros(t_len, dtype=bool)
    is_rebal[rebal] = True
    first_decision = int(rebal[0]) if len(rebal) else None

    bank = KillSwitchBank(config.kill_switch, store=MemoryLatchStore())
    psr_online = OnlinePSR()
    shares = np.zeros(n)
    cash = float(bt.initial_capital)
    peak = cash
    prev_equity = cash
    pending: np.ndarray | None = None
    pending_vol = np.full(n, np.nan)
    pending_adv = np.full(n, np.nan)

    cols = {k: np.full(t_len, np.nan) for k in ("equity", "return", "cash", "gross", "net")}
    for k in ("turnover", "costs", "drawdown"):
        cols[k] = np.zeros(t_len)
    cols["psr"] = np.full(t_len, np.nan)
    cols["gross_limit"] = np.full(t_len, np.nan)
    cols["net_limit"] = np.full(t_len, np.nan)

    commission = spread = impact = traded = 0.0
    skipped = 0
    failed: list[FailedSolveRecord] = []
    events: list[KillSwitchEvent] = []
    halted_at: pd.Timestamp | None = None
    halt_reason: str | None = None
    opt_seconds = 0.0
    max_residuals: dict[str, float] = {}
    decided = 0
    diag_rows: list[int] = []
    warnings: list[str] = list(alpha.warnings)
    if adv is None:
        warnings.append("no volume column: the square-root impact cost is 0 in this run")

    for t in range(t_len):
        # 1. execute yesterday's decision at today's open (or close)
        if pending is not None:
            px = exec_px[t]
            valid = tradable[t] & np.isfinite(px)
            mark_now = np.where(np.isfinite(px), px, mark[t - 1] if t else px)
            equity_exec = cash + float(np.nansum(shares * mark_now))
            safe_px = np.where(valid, px, 1.0)
            target = np.where(valid, np.round(pending * equity_exec / safe_px), shares)
            wanted = np.abs(
                pending * equity_exec - shares * np.nan_to_num(mark_now)
            ) > 0.5 * np.nan_to_num(mark_now)
            skipped += int(np.sum(wanted & ~valid))
            trade = np.where(valid, target - shares, 0.0)
            costs = trade_costs(
                trade, safe_px, config.costs, daily_vol=pending_vol, adv=pending_adv
            )
            notional = float(np.sum(np.abs(trade) * safe_px))
            day_cost = float(costs.total.sum())
            cash -= float(np.sum(trade * safe_px)) + day_cost
            shares = shares + trade
            commission += float(costs.commission.sum())
            spread += float(costs.spread.sum())
            impact += float(costs.impact.sum())
            traded += notional
            cols["turnover"][t] = notional / equity_exec if equity_exec > 0 else 0.0
            cols["costs"][t] = day_cost
            # After a halt, keep trying to flatten what could not be traded today.
            pending = np.zeros(n) if bank.halted and np.any(shares != 0) else None

        # 2. mark to market at the close
        position_value = shares * mark[t]
        equity = cash + float(np.nansum(position_value))
        cols["equity"][t] = equity
        cols["cash"][t] = cash
        cols["gross"][t] = float(np.nansum(np.abs(position_value))) / equity if equity > 0 else 0.0
        cols["net"][t] = float(np.nansum(position_value)) / equity if equity > 0 else 0.0
        day_return = equity / prev_equity - 1.0 if t > 0 and prev_equity > 0 else 0.0
        cols["return"][t] = day_return
        prev_equity = equity
        peak = max(peak, equity)
        drawdown = 1.0 - equity / peak if peak > 0 else 0.0
        cols["drawdown"][t] = drawdown

        # 3. kill switches (from the first decision on)
        if first_decision is not None and t > first_decision:
            psr_online.update(day_return)
        psr_now = psr_online.value() if psr_online.n >= config.kill_switch.psr_min_obs else np.nan
        cols["psr"][t] = psr_now
        was_halted = bank.halted
        new_events = bank.evaluate(
            equity / bt.initial_capital - 1.0,
            drawdown,
            float(psr_now),
            psr_online.n,
            _close_of(panel.dates[t]),
        )
        events.extend(new_events)
        if bank.halted and not was_halted:
            halted_at = panel.dates[t]
            halt_reason = bank.halt_event.message if bank.halt_event else "halted"
            if t < t_len - 1:
                pending = np.zeros(n)  # flatten at the next execution
                pending_vol = np.full(n, np.nan)
                pending_adv = np.full(n, np.nan)

        # 4. decide on rebalance dates
        if is_rebal[t] and not bank.halted:
            w_now = np.where(np.isfinite(position_value), position_value, 0.0) / equity
            gross, net = (
                limits_provider(t) if limits_provider is not None else (pf.gross_lim, pf.net_lim)
            )
            cols["gross_limit"][t], cols["net_limit"][t] = gross, net
            decision = decide_weights(
                score_row=alpha.combined[t],
                ic=float(alpha.ic_estimate[t]),
                horizon=alpha.horizon,
                returns=returns,
                t=t,
                w_now=w_now,
                tradable_row=tradable[t],
                gross=gross,
                net=net,
                pf=pf,
                periods_per_year=ppy,
                optimizer=opt,
            )
            if decision.allocation is not None:
                alloc = decision.allocation
                sigma = decision.sigma
                opt_seconds += alloc.solve_seconds
                for name, value in alloc.residuals.items():
                    max_residuals[name] = max(max_residuals.get(name, 0.0), float(value))
                if not alloc.ok:
                    failed.append(
                        FailedSolveRecord(
                            date=panel.dates[t],
                            status=alloc.status,
                            fallback="flat" if not np.any(alloc.weights) else "keep_previous",
                            message=alloc.message,
                        )
                    )
                pending = np.asarray(alloc.weights, dtype=float)
                pending_vol = sigma
                pending_adv = adv[t] if adv is not None else np.full(n, np.nan)
                diag_rows.append(t)
            decided += 1
            if progress is not None:
                progress(decided, len(rebal))

    daily = pd.DataFrame(cols, index=panel.dates)
    daily.index.name = "date"
    start = first_decision if first_decision is not None else t_len
    live = daily.iloc[start + 1 :]
    stats = performance_summary(
        live["return"].to_numpy(), ppy, turnover=live["turnover"].to_numpy()
    )
    psr = probabilistic_sharpe_ratio(live["return"].to_numpy()) if len(live) > 1 else float("nan")
    rows = np.array(diag_rows, dtype=int)
    n_signals = len(alpha.names)
    ic_mean = alpha.ic_mean if alpha.ic_mean is not None else alpha.ics
    signals = SignalDiagnostics(
        names=alpha.names,
        dates=panel.dates[rows],
        rolling_ic=ic_mean[rows] if n_signals else np.zeros((len(rows), 0)),
        weights=alpha.weights[rows] if n_signals else np.zeros((len(rows), 0)),
        realised_ic=alpha.ics[start + 1 :] if n_signals else np.zeros((0, 0)),
        dropped=dict(alpha.dropped),
    )
    final_equity = float(cols["equity"][-1])
    final_weights = np.where(np.isfinite(mark[-1]), shares * mark[-1], 0.0) / final_equity
    untradable = int(np.sum(~tradable[start:])) if start < t_len else 0
    return BacktestResult(
        daily=daily,
        stats=stats,
        psr=psr,
        symbols=panel.symbols,
        rebalance_dates=panel.dates[rebal],
        optimizer=getattr(opt, "name", type(opt).__name__),
        signals=signals,
        events=tuple(events),
        halted_at=halted_at,
        halt_reason=halt_reason,
        failed_solves=tuple(failed),
        costs=CostTotals(commission, spread, impact, traded),
        untradable_symbol_days=untradable,
        skipped_trades=skipped,
        initial_capital=float(bt.initial_capital),
        final_weights=final_weights,
        optimizer_seconds=opt_seconds,
        warnings=tuple(warnings),
        first_decision=panel.dates[first_decision] if first_decision is not None else None,
        regime_states=regime_states,
        max_residuals=max_residuals,
    )
