"""The walk-forward loop on hand-made panels where the right answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest.alpha import AlphaSignals
from engine.backtest.loop import rebalance_indices, run_backtest
from engine.config import AppConfig, SignalsConfig
from engine.data.panel import MarketPanel
from engine.portfolio.base import Allocation, Limits


def _panel(close: np.ndarray, open_: np.ndarray | None = None, **extra: np.ndarray) -> MarketPanel:
    t, n = close.shape
    open_ = close.copy() if open_ is None else open_
    hi = np.fmax(open_, close) * 1.001
    lo = np.fmin(open_, close) * 0.999
    fields = {"open": open_, "high": hi, "low": lo, "close": close, **extra}
    dates = pd.bdate_range("2024-01-01", periods=t)
    return MarketPanel(dates=dates, symbols=tuple(f"S{i}" for i in range(n)), fields=fields)


def _config(**overrides: object) -> AppConfig:
    base = {
        "backtest.warmup_days": 25,
        "backtest.rebalance": "daily",
        "portfolio.vol_target": 2.0,
        "portfolio.box_lim": 1.0,
        "portfolio.gross_lim": 1.0,
        "portfolio.net_lim": 1.0,
        "portfolio.cov_window": 20,
        "costs.commission_min": 0.0,
        "costs.commission_per_share": 0.0,
        "costs.half_spread_bps": 0.0,
        "costs.impact_coef": 0.0,
        "regime.enabled": False,
    }
    base.update(overrides)
    return AppConfig().with_overrides(base)


def _fixed_alpha(scores: np.ndarray, ic: float = 0.1):  # type: ignore[no-untyped-def]
    """An alpha model returning given scores (T, N) with a constant IC."""

    def model(panel: MarketPanel, cfg: SignalsConfig) -> AlphaSignals:
        t = panel.T
        return AlphaSignals(
            names=("X",),
            combined=scores,
            ic_estimate=np.full(t, ic),
            ics=np.full((t, 1), ic),
            weights=np.ones((t, 1)),
        )

    return model


def _noisy_close(t: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (t, n)), axis=0))


@pytest.mark.unit
def test_rebalance_dates_are_last_trading_day_of_period() -> None:
    dates = pd.bdate_range("2024-01-01", "2024-03-29")
    weekly = dates[rebalance_indices(dates, "weekly", 0)]
    assert all(d.day_of_week == 4 for d in weekly)  # Fridays (no holidays in bdate_range)
    monthly = dates[rebalance_indices(dates, "monthly", 0)]
    assert [d.strftime("%m-%d") for d in monthly] == ["01-31", "02-29"]  # not the last row
    assert len(rebalance_indices(dates, "daily", 10)) == len(dates) - 1 - 10


@pytest.mark.unit
@pytest.mark.parametrize("execution", ["next_open", "next_close"])
def test_never_trades_at_a_price_known_before_the_decision(execution: str) -> None:
    # Asset S0 gaps +50 % overnight after the close of day 40 and then stays flat. A leaky alpha
    # that "knows" the gap goes all-in on S0 at the close of day 40. Filling at that close (the
    # cheat) would book +50 %; a fill at the next open or close books nothing.
    t, n = 60, 3
    close = _noisy_close(t, n)
    close[41:, 0] = close[40, 0] * 1.5
    open_ = close.copy()
    scores = np.zeros((t, n))
    scores[40] = [10.0, -5.0, -5.0]
    cfg = _config(**{"backtest.execution": execution, "portfolio.net_lim": 1.0})
    cfg = cfg.with_overrides({"backtest.warmup_days": 40, "backtest.rebalance": "daily"})
    res = run_backtest(_panel(close, open_), cfg, alpha_model=_fixed_alpha(scores))
    day41 = res.daily["return"].iloc[41]
    assert abs(day41) < 0.05, f"the day-41 return {day41:.3f} captured the gap: look-ahead"
    assert res.daily["gross"].iloc[40] == 0.0  # nothing held at the decision close
    assert res.daily["gross"].iloc[41] > 0.5  # the position exists after the fill


@pytest.mark.unit
def test_kill_switch_latches_and_the_book_stays_flat() -> None:
    t, n = 120, 2
    close = _noisy_close(t, n, seed=8)
    close[60:, 0] *= 0.7  # −30 % on day 60, then more than a full recovery later
    close[90:, 0] *= 2.0
    scores = np.tile([1.0, -1.0], (t, 1))
    cfg = _config(**{"portfolio.net_lim": 1.0, "portfolio.gross_lim": 1.0})
    res = run_backtest(_panel(close), cfg, alpha_model=_fixed_alpha(scores))
    halts = [e for e in res.events if e.level == "HALT"]
    assert halts, "a −30 % loss must trip a kill switch"
    assert res.halted_at == res.daily.index[60]
    assert res.halt_reason is not None and "HALT_AND_FLATTEN" in res.halt_reason
    after = res.daily.iloc[62:]
    assert (after["gross"] == 0.0).all()  # flattened at the next open and never re-entered
    assert (after["equity"] == after["equity"].iloc[0]).all()  # the recovery is not captured
    assert len(halts) <= 2  # one observation may trip pnl and dd together, then nothing


@pytest.mark.unit
def test_deterministic() -> None:
    close = _noisy_close(80, 4, seed=3)
    scores = np.random.default_rng(1).normal(size=(80, 4))
    cfg = _config()
    a = run_backtest(_panel(close), cfg, alpha_model=_fixed_alpha(scores))
    b = run_backtest(_panel(close), cfg, alpha_model=_fixed_alpha(scores))
    pd.testing.assert_frame_equal(a.daily, b.daily)


@pytest.mark.unit
def test_missing_bar_is_not_traded_and_is_counted() -> None:
    t, n = 60, 3
    close = _noisy_close(t, n, seed=4)
    open_ = close.copy()
    open_[41, 1] = np.nan  # S1 has no bar on day 41
    close[41, 1] = np.nan
    scores = np.zeros((t, n))
    scores[:, 1] = 1.0
    cfg = _config().with_overrides({"backtest.warmup_days": 40})
    res = run_backtest(_panel(close, open_), cfg, alpha_model=_fixed_alpha(scores))
    assert res.untradable_symbol_days >= 1
    assert res.skipped_trades >= 1
    assert np.isfinite(res.daily["equity"]).all()


class _FailingOptimizer:
    name = "failing"

    def __init__(self) -> None:
        self.calls = 0

    def allocate(
        self, mu: np.ndarray, cov: np.ndarray, prev: np.ndarray | None, limits: Limits
    ) -> Allocation:
        self.calls += 1
        if self.calls % 2 == 0:
            keep = np.zeros_like(mu) if prev is None else prev
            return Allocation(keep, ok=False, status="infeasible", message="test")
        w = np.zeros_like(mu)
        w[0] = 0.5
        return Allocation(w, ok=True, status="optimal")


@pytest.mark.unit
def test_failed_solves_are_counted_and_the_run_continues() -> None:
    close = _noisy_close(60, 3, seed=5)
    opt = _FailingOptimizer()
    res = run_backtest(
        _panel(close), _config(), optimizer=opt, alpha_model=_fixed_alpha(np.ones((60, 3)))
    )
    assert len(res.failed_solves) == opt.calls // 2
    assert all(
        f.status == "infeasible" and f.fallback == "keep_previous" for f in res.failed_solves
    )
    assert res.daily["gross"].iloc[-1] > 0.4


@pytest.mark.unit
def test_limits_provider_sets_the_gross_limit_per_date() -> None:
    close = _noisy_close(80, 4, seed=6)
    scores = np.random.default_rng(2).normal(size=(80, 4))
    res = run_backtest(
        _panel(close),
        _config(),
        alpha_model=_fixed_alpha(scores),
        limits_provider=lambda t: (0.3, 0.3) if t >= 50 else (1.0, 1.0),
    )
    assert res.daily["gross_limit"].iloc[55] == 0.3
    assert res.daily["gross"].iloc[52:].max() <= 0.3 * 1.05  # drift between fills only


@pytest.mark.unit
def test_costs_are_charged_and_add_up() -> None:
    close = _noisy_close(60, 3, seed=7)
    scores = np.random.default_rng(3).normal(size=(60, 3))
    vol = np.full((60, 3), 1e6)
    cfg = AppConfig().with_overrides(
        {
            "backtest.warmup_days": 25,
            "backtest.rebalance": "daily",
            "portfolio.cov_window": 20,
            "regime.enabled": False,
        }
    )
    res = run_backtest(_panel(close, volume=vol), cfg, alpha_model=_fixed_alpha(scores))
    c = res.costs
    assert c.commission > 0 and c.spread > 0 and c.impact > 0
    assert res.daily["costs"].sum() == pytest.approx(c.total)


@pytest.mark.integration
def test_regime_filter_sets_the_limits_by_default() -> None:
    from engine.config import SyntheticMarketConfig
    from engine.data.synthetic import SyntheticMarket

    panel = SyntheticMarket(SyntheticMarketConfig(years=2.0, n_assets=8)).daily_panel()
    cfg = AppConfig().with_overrides({"backtest.rebalance": "monthly"})
    res = run_backtest(panel, cfg, alpha_model=_fixed_alpha(np.zeros((panel.T, panel.N))))
    assert res.regime_states is not None and len(res.regime_states) == panel.T
    decided = res.daily["gross_limit"].dropna()
    allowed = {cfg.regime.calm.gross, cfg.regime.normal.gross, cfg.regime.storm.gross}
    assert set(decided.unique()) <= allowed
    summary = res.regime_summary()
    assert summary is not None
    assert sum(summary["days_in_state"].values()) == panel.T - panel.dates.get_loc(
        res.first_decision
    )  # type: ignore[union-attr, arg-type]
    static = run_backtest(
        panel,
        cfg.with_overrides({"regime.enabled": False}),
        alpha_model=_fixed_alpha(np.zeros((panel.T, panel.N))),
    )
    assert static.regime_states is None
    assert set(static.daily["gross_limit"].dropna().unique()) == {cfg.portfolio.gross_lim}


@pytest.mark.metamorphic
def test_scaling_every_price_leaves_returns_and_weights_unchanged() -> None:
    from engine.config import SyntheticMarketConfig
    from engine.data.synthetic import SyntheticMarket

    full = SyntheticMarket(SyntheticMarketConfig(years=1.5, n_assets=8)).daily_panel()
    prices = {k: full.fields[k] for k in ("open", "high", "low", "close")}
    base = MarketPanel(full.dates, full.symbols, prices)
    scaled = MarketPanel(full.dates, full.symbols, {k: v * 37.0 for k, v in prices.items()})
    cfg = AppConfig().with_overrides(
        {
            "backtest.initial_capital": 1e12,  # whole-share rounding becomes negligible
            "costs.commission_per_share": 0.0,  # per-share fees are not scale-free
            "costs.commission_min": 0.0,
            "regime.enabled": False,  # keeps the test fast; the regime features are returns
        }
    )
    a = run_backtest(base, cfg)
    b = run_backtest(scaled, cfg)
    np.testing.assert_allclose(a.daily["return"], b.daily["return"], atol=1e-9)
    np.testing.assert_allclose(a.final_weights, b.final_weights, atol=1e-7)
    assert a.stats.sharpe == pytest.approx(b.stats.sharpe, abs=1e-6)


@pytest.mark.unit
def test_constraint_residuals_are_recorded() -> None:
    close = _noisy_close(70, 4, seed=12)
    scores = np.random.default_rng(4).normal(size=(70, 4))
    res = run_backtest(_panel(close), _config(), alpha_model=_fixed_alpha(scores))
    assert set(res.max_residuals) == {"gross", "net", "box", "variance"}
    assert max(res.max_residuals.values()) < 1e-5


@pytest.mark.unit
def test_flatten_after_a_halt_retries_a_symbol_that_could_not_trade() -> None:
    t, n = 120, 2
    close = _noisy_close(t, n, seed=8)
    close[60:, 0] *= 0.7  # the halt fires at the close of day 60
    open_ = close.copy()
    open_[61, 1] = np.nan  # S1 has no bar on the flattening day
    close[61, 1] = np.nan
    scores = np.tile([1.0, -1.0], (t, 1))
    res = run_backtest(_panel(close, open_), _config(), alpha_model=_fixed_alpha(scores))
    assert res.halted_at == res.daily.index[60]
    assert res.daily["gross"].iloc[61] > 0  # S1 still held: it could not trade
    assert (res.daily["gross"].iloc[62:] == 0.0).all()  # flattened on the next valid bar
