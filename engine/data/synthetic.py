"""The embedded synthetic market: seeded, factor-structured, regime-switching, with a known edge.

Model (daily, log returns, everything vectorised over ``(T, N)``)::

    regime_t  ~ Markov chain on {0 calm, 1 normal, 2 storm}    (TRANSITION)
    F_ti      = β_i (μ_m[g] + σ_m[g] z_t) + ℓ_i σ_s[g] z_{t,sector(i)} + σ_i k[g] ε_ti
    r_ti      = F_ti + edge_ti                                    (g = regime_t)
    overnight = 0.3 F + √0.21 · sd_ti · η      intraday = r − overnight

The market factor is much more regime-sensitive (10 % / 16 % / 35 % annualised) than the
idiosyncratic part (× 0.85 / 1.0 / 1.4), so pairwise correlations rise in storms.

The planted edge (:data:`PLANTED_EDGE`) enters the **open-to-close** part of day ``t + 1`` (and
later days) from information published by the close of day ``t``: it is causal by construction
and capturable by a strategy that decides at the close and trades at the next open. Every other
optional column is pure noise with respect to future returns.

Same seed → byte-identical panel: every random stream is a child of ``SeedSequence(seed)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from engine.config import SyntheticMarketConfig
from engine.data.assets import Asset, load_assets, universe
from engine.data.panel import MarketPanel

TRADING_DAYS = 252
REGIME_NAMES: tuple[str, str, str] = ("calm", "normal", "storm")
TRANSITION = np.array([[0.985, 0.015, 0.0], [0.010, 0.980, 0.010], [0.0, 0.040, 0.960]])
"""Daily regime transition matrix (rows: from). Mean durations 67 / 50 / 25 days; stationary
shares ≈ 35 % calm, 52 % normal, 13 % storm."""
MARKET_VOL = np.array([0.10, 0.16, 0.35])
"""Annualised market-factor volatility per regime."""
MARKET_DRIFT = np.array([0.12, 0.07, -0.30])
"""Annualised market-factor drift per regime (≈ +5 %/year on the stationary mix)."""
SECTOR_VOL = np.array([0.06, 0.08, 0.14])
"""Annualised sector-factor volatility per regime."""
IDIO_MULT = np.array([0.85, 1.0, 1.4])
"""Multiplier of each asset's idiosyncratic volatility per regime."""
VOLUME_MULT = np.array([0.8, 1.0, 1.6])
"""Multiplier of trading volume per regime."""

ANNOUNCE_EVERY = 63
"""Business days between an asset's earnings announcements (quarterly)."""
SHORT_INTEREST_EVERY = 10
"""Business days between short-interest publications (held constant in between)."""

PLANTED_EDGE: dict[str, dict[str, Any]] = {
    "OFI": {
        "has_edge": True,
        "input": "bid_volume, ask_volume (daily imbalance (bid-ask)/(bid+ask))",
        "mechanism": (
            "latent order-flow state x (AR(1), phi=0.7, unit variance); daily imbalance = "
            "0.2 x + 0.15 noise; the open-to-close return of day t+1 gets +0.06 sd x_t"
        ),
        "coefficient": 0.06,
        "horizon": "t+1 (decays with phi over the following days)",
        "target_ic": 0.035,
    },
    "ERN": {
        "has_edge": True,
        "input": "eps_actual vs eps_estimate (and revenue_actual vs revenue_estimate)",
        "mechanism": (
            "post-earnings drift: after an announcement on day a with standardised surprise u, "
            "days a+1 .. a+63 get +0.08 sd u (1 - (t-a-1)/63); revenue surprise = 0.6 u + 0.8 noise"
        ),
        "coefficient": 0.08,
        "horizon": "t+1 .. t+63 after each announcement",
        "target_ic": 0.03,
    },
    "TSX": {
        "has_edge": True,
        "input": "close (past returns)",
        "mechanism": (
            "persistent drift d (AR(1), phi=1-1/120, stationary sd 0.08 sd) added to daily "
            "returns, so momentum and trend predict returns after t; plus a short-term "
            "reversal: day t+1 gets -0.04 sd × (sum of the idiosyncratic shocks of t-4..t)/sqrt(5)"
        ),
        "coefficient": 0.08,
        "reversal_coefficient": 0.04,
        "horizon": "t+1 (reversal) to months (drift)",
        "target_ic": 0.035,
    },
    "VRP": {
        "has_edge": False,
        "input": "implied_vol",
        "mechanism": "implied vol = true vol + 0.02 + 0.03 AR(1) noise: no link to returns",
        "coefficient": 0.0,
        "horizon": None,
        "target_ic": 0.0,
    },
    "POS": {
        "has_edge": False,
        "input": "short_interest, inst_ownership",
        "mechanism": "independent slow random walks: no link to returns",
        "coefficient": 0.0,
        "horizon": None,
        "target_ic": 0.0,
    },
    "SIF": {
        "has_edge": False,
        "input": "sentiment (and eps_estimate revisions)",
        "mechanism": "sentiment = tanh of AR(1) noise, revisions random: no link to returns",
        "coefficient": 0.0,
        "horizon": None,
        "target_ic": 0.0,
    },
}
"""Which signal inputs carry predictive power, how, and how much (documented in docs/data.md).

``coefficient`` is the loading in units of the asset's daily idiosyncratic volatility ``sd``;
``target_ic`` the approximate daily cross-sectional rank IC of the signal with the next day's
return that this produces (measured in the test suite)."""

_OFI_PHI = 0.7
_DRIFT_PHI = 1.0 - 1.0 / 120.0
_STREAMS = (
    "regime",
    "market",
    "sector",
    "idio",
    "split",
    "assets",
    "ofi",
    "drift",
    "earnings",
    "volume",
    "implied",
    "positioning",
    "sentiment",
    "missing",
    "range",
)

SESSION_OPEN = time(9, 30)
SESSION_SECONDS = 6 * 3600 + 30 * 60
EXCHANGE_TZ = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class IntradayBar:
    """One intraday OHLCV bar of one symbol; ``start`` and ``end`` are tz-aware UTC."""

    symbol: str
    start: datetime
    end: datetime
    open: float
    high: float
    low: float
    close: float
    volume: int
    bid_volume: int
    ask_volume: int


@dataclass(frozen=True)
class SyntheticTick:
    """A quote or trade tick derived from an intraday bar (timestamp tz-aware UTC)."""

    symbol: str
    timestamp: datetime
    tick_type: Literal["BID", "ASK", "TRADE"]
    price: float
    size: int


class SyntheticMarket:
    """Seeded synthetic market for a universe of assets.

    Parameters
    ----------
    config : SyntheticMarketConfig
        ``seed``, ``years`` (× 252 business days from ``start_date``), ``n_assets`` (``None`` =
        every asset given; more than given adds ``SYN001``…).
    assets : sequence of Asset, optional
        The universe; default the bundled ``data/assets.csv``.
    missing_rate : float
        Probability that a (date, symbol) bar is missing (all fields NaN); 0 by default.
    intraday_seed : int, optional
        Seed of the intraday paths; default derived from ``config.seed``.
    edge_scale : float
        Multiplies every planted-edge coefficient: 1 = :data:`PLANTED_EDGE` as documented,
        0 = a market with no predictive power at all (a null for tests and research).
    """

    def __init__(
        self,
        config: SyntheticMarketConfig | None = None,
        assets: Sequence[Asset] | None = None,
        *,
        missing_rate: float = 0.0,
        intraday_seed: int | None = None,
        edge_scale: float = 1.0,
    ) -> None:
        self.config = config or SyntheticMarketConfig()
        base = tuple(assets) if assets is not None else load_assets()
        self.assets = universe(base, self.config.n_assets)
        if not 0.0 <= missing_rate < 1.0:
            raise ValueError(f"missing_rate must be in [0, 1), got {missing_rate}")
        self.missing_rate = missing_rate
        self.intraday_seed = intraday_seed
        if edge_scale < 0:
            raise ValueError(f"edge_scale must be >= 0, got {edge_scale}")
        self.edge_scale = edge_scale
        self._cache: _Generated | None = None

    # --- public ----------------------------------------------------------------------------
    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(a.symbol for a in self.assets)

    def daily_panel(self) -> MarketPanel:
        """The daily panel with OHLCV and every optional column of SPEC §2.1."""
        return self._generated().panel

    def regime_path(self) -> np.ndarray:
        """True regime per day, ``(T,)`` int8: 0 calm, 1 normal, 2 storm."""
        return self._generated().regimes.copy()

    def latent(self) -> dict[str, np.ndarray]:
        """The hidden states behind the planted edge (for tests and docs): ``ofi_state``,
        ``drift``, ``surprise`` (u on announcement days, NaN elsewhere), ``edge`` (the total
        planted log-return component), ``daily_sd`` (idiosyncratic daily vol)."""
        return {k: v.copy() for k, v in self._generated().latent.items()}

    def intraday_bars(
        self, day_index: int, bar_seconds: int = 60, symbols: Sequence[str] | None = None
    ) -> Iterator[IntradayBar]:
        """Bars of one day (09:30–16:00 New York), time-major, consistent with the daily bar.

        The first bar opens at the daily open, the last closes at the daily close, the bars'
        max high / min low equal the daily high / low, and volumes and bid/ask volumes sum
        exactly to the daily values. Deterministic per (seed, day, symbol).
        """
        yield from _intraday(self, day_index, bar_seconds, symbols)

    iter_intraday_bars = intraday_bars

    def ticks(
        self, day_index: int, bar_seconds: int = 60, symbols: Sequence[str] | None = None
    ) -> Iterator[SyntheticTick]:
        """Per bar and symbol: a BID and an ASK quote (one tick either side of the bar close,
        sized by the bar's bid/ask volume) then a TRADE at the close for the bar volume."""
        for bar in self.intraday_bars(day_index, bar_seconds, symbols):
            asset = self.assets[self.symbols.index(bar.symbol)]
            tick = asset.min_tick
            bid = max(tick, round(bar.close - tick, 2))
            yield SyntheticTick(bar.symbol, bar.end, "BID", bid, bar.bid_volume)
            yield SyntheticTick(
                bar.symbol, bar.end, "ASK", round(bar.close + tick, 2), bar.ask_volume
            )
            yield SyntheticTick(bar.symbol, bar.end, "TRADE", bar.close, bar.volume)

    # --- generation ------------------------------------------------------------------------
    def _generated(self) -> _Generated:
        if self._cache is None:
            self._cache = _generate(self.config, self.assets, self.missing_rate, self.edge_scale)
        return self._cache


@dataclass(frozen=True)
class _Generated:
    panel: MarketPanel
    regimes: np.ndarray
    latent: dict[str, np.ndarray]


def _streams(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    return {
        name: np.random.Generator(np.random.PCG64(c))
        for name, c in zip(_STREAMS, children, strict=True)
    }


def business_days(start: str, n: int) -> pd.DatetimeIndex:
    """``n`` business days (Mon–Fri) from ``start`` (rolled forward to a business day)."""
    return pd.bdate_range(start=pd.Timestamp(start), periods=n, name="date")


def markov_chain(
    transition: np.ndarray, n: int, rng: np.random.Generator, start: int = 1
) -> np.ndarray:
    """A path of ``n`` states of the chain ``transition`` (rows = from-state), int8."""
    cum = np.cumsum(transition, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(n)
    out = np.empty(n, dtype=np.int8)
    state = start
    for t in range(n):
        out[t] = state
        state = int(np.searchsorted(cum[state], u[t], side="right"))
    return out


def _ar1(
    rng: np.random.Generator, shape: tuple[int, int], phi: float, burn: int = 200
) -> np.ndarray:
    """Unit-variance AR(1) paths along axis 0."""
    eta = rng.standard_normal((shape[0] + burn, shape[1]))
    x = lfilter([np.sqrt(1.0 - phi * phi)], [1.0, -phi], eta, axis=0)
    return np.asarray(x[burn:])


def _generate(
    cfg: SyntheticMarketConfig, assets: Sequence[Asset], missing_rate: float, edge_scale: float
) -> _Generated:
    T = round(cfg.years * TRADING_DAYS)
    N = len(assets)
    rs = _streams(cfg.seed)
    dates = business_days(cfg.start_date, T)
    sqrt_y = np.sqrt(TRADING_DAYS)

    # --- regimes and factor returns -----------------------------------------------------------
    regimes = markov_chain(TRANSITION, T, rs["regime"])
    sectors = sorted({a.sector for a in assets})
    sector_idx = np.array([sectors.index(a.sector) for a in assets])
    ra = rs["assets"]
    beta = ra.uniform(0.7, 1.4, N)
    sector_load = ra.uniform(0.6, 1.2, N)
    idio_vol = ra.uniform(0.12, 0.28, N)
    price0 = np.exp(ra.uniform(np.log(20.0), np.log(400.0), N))
    adv = np.exp(ra.uniform(np.log(2e6), np.log(4e7), N))

    m = MARKET_DRIFT[regimes] / TRADING_DAYS + MARKET_VOL[regimes] / sqrt_y * rs[
        "market"
    ].standard_normal(T)
    s = (SECTOR_VOL[regimes] / sqrt_y)[:, None] * rs["sector"].standard_normal((T, len(sectors)))
    daily_sd = (IDIO_MULT[regimes] / sqrt_y)[:, None] * idio_vol[None, :]
    idio = rs["idio"].standard_normal((T, N))
    factor = beta[None, :] * m[:, None] + sector_load[None, :] * s[:, sector_idx] + daily_sd * idio

    # --- planted edge ---------------------------------------------------------------------------
    ofi_state = _ar1(rs["ofi"], (T, N), _OFI_PHI)
    edge = np.zeros((T, N))
    edge[1:] += PLANTED_EDGE["OFI"]["coefficient"] * daily_sd[1:] * ofi_state[:-1]
    drift = _ar1(rs["drift"], (T, N), _DRIFT_PHI) * PLANTED_EDGE["TSX"]["coefficient"]
    edge[1:] += daily_sd[1:] * drift[:-1]
    # short-term reversal: day t+1 gives back part of the idiosyncratic shocks of days t-4..t
    recent = pd.DataFrame(idio).rolling(5, min_periods=1).sum().to_numpy() / np.sqrt(5.0)
    edge[1:] -= PLANTED_EDGE["TSX"]["reversal_coefficient"] * daily_sd[1:] * recent[:-1]

    earn = _earnings(rs["earnings"], T, N, price0)
    # day t drifts on the latest announcement a <= t-1: + c sd u_a (1 - (t-a-1)/H), 0 once stale
    u_prev = _shift_down(pd.DataFrame(earn["surprise"]).ffill().to_numpy())
    a_prev = _shift_down(pd.DataFrame(earn["announce_row"]).ffill().to_numpy())
    age = np.arange(T)[:, None] - a_prev
    weight = np.clip(1.0 - (age - 1.0) / ANNOUNCE_EVERY, 0.0, 1.0)
    ern = np.nan_to_num(u_prev * weight, nan=0.0)
    edge += PLANTED_EDGE["ERN"]["coefficient"] * daily_sd * ern
    edge *= edge_scale
    drift *= edge_scale

    log_ret = factor + edge
    split = rs["split"].standard_normal((T, N))
    # the gap carries no edge: the planted edge lands in the session (open → close)
    overnight = 0.3 * factor + np.sqrt(0.21) * daily_sd * split

    # --- prices -----------------------------------------------------------------------------
    log_close = np.log(price0)[None, :] + np.cumsum(log_ret, axis=0)
    log_prev = np.vstack([np.log(price0)[None, :], log_close[:-1]])
    log_open = log_prev + overnight
    rng_range = rs["range"]
    up = np.abs(rng_range.standard_normal((T, N))) * 0.5 * daily_sd
    dn = np.abs(rng_range.standard_normal((T, N))) * 0.5 * daily_sd
    close = np.exp(log_close)
    open_ = np.exp(log_open)
    high = np.maximum(open_, close) * np.exp(up)
    low = np.minimum(open_, close) * np.exp(-dn)
    close, open_, high, low = (np.maximum(np.round(x, 2), 0.01) for x in (close, open_, high, low))

    # --- volume and order flow ------------------------------------------------------------------
    rv = rs["volume"]
    abs_move = np.abs(log_ret) / np.maximum(daily_sd, 1e-12)
    volume = np.round(
        adv[None, :]
        * VOLUME_MULT[regimes][:, None]
        * np.exp(0.25 * rv.standard_normal((T, N)))
        * (0.8 + 0.2 * np.minimum(abs_move, 5.0))
    )
    imbalance = np.clip(0.2 * ofi_state + 0.15 * rv.standard_normal((T, N)), -0.95, 0.95)
    bid_volume = np.round(volume * (1.0 + imbalance) / 2.0)
    ask_volume = volume - bid_volume

    # --- noise columns ----------------------------------------------------------------------------
    total_vol = np.sqrt(
        (beta**2)[None, :] * (MARKET_VOL[regimes] ** 2)[:, None]
        + (sector_load**2)[None, :] * (SECTOR_VOL[regimes] ** 2)[:, None]
        + (daily_sd * sqrt_y) ** 2
    )
    # additive premium: a premium proportional to vol would tie VRP to beta
    implied_vol = np.maximum(total_vol + 0.02 + 0.03 * _ar1(rs["implied"], (T, N), 0.9), 0.01)
    rp = rs["positioning"]
    si_level = np.exp(rp.uniform(np.log(0.01), np.log(0.08), N))
    si_path = si_level[None, :] * np.exp(0.25 * _ar1(rp, (T, N), 0.995))
    publish = np.arange(T) // SHORT_INTEREST_EVERY * SHORT_INTEREST_EVERY
    short_interest = si_path[publish]
    io_level = rp.uniform(0.55, 0.85, N)
    inst_ownership = np.clip(
        io_level[None, :] + np.cumsum(0.002 * rp.standard_normal((T, N)), axis=0), 0.05, 0.99
    )
    sentiment = np.tanh(0.8 * _ar1(rs["sentiment"], (T, N), 0.5))

    fields: dict[str, np.ndarray] = {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": volume,
        "bid_volume": bid_volume,
        "ask_volume": ask_volume,
        "eps_actual": earn["eps_actual"],
        "eps_estimate": earn["eps_estimate"],
        "revenue_actual": earn["revenue_actual"],
        "revenue_estimate": earn["revenue_estimate"],
        "implied_vol": implied_vol,
        "short_interest": short_interest,
        "inst_ownership": inst_ownership,
        "sentiment": sentiment,
    }
    if missing_rate > 0:
        holes = rs["missing"].random((T, N)) < missing_rate
        for arr in fields.values():
            arr[holes] = np.nan
    for arr in fields.values():
        arr.setflags(write=False)  # hand ownership to the panel without a copy
    panel = MarketPanel(dates=dates, symbols=tuple(a.symbol for a in assets), fields=fields)
    latent = {
        "ofi_state": ofi_state,
        "drift": drift * daily_sd,
        "surprise": earn["surprise"],
        "edge": edge,
        "daily_sd": daily_sd,
    }
    return _Generated(panel=panel, regimes=regimes, latent=latent)


def _shift_down(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, np.nan)
    out[1:] = x[:-1]
    return out


def _earnings(
    rng: np.random.Generator, T: int, N: int, price0: np.ndarray
) -> dict[str, np.ndarray]:
    """Quarterly announcements: estimates daily, actuals on announcement days only."""
    offset = rng.integers(0, ANNOUNCE_EVERY, N)
    rows = np.arange(T)[:, None]
    announce = (rows >= offset[None, :]) & ((rows - offset[None, :]) % ANNOUNCE_EVERY == 0)
    # quarter being estimated on row t: announcements strictly before t (the announcement row
    # still shows the estimate of the quarter it reports)
    n_before = np.cumsum(announce, axis=0) - announce
    n_q = int(n_before.max()) + 2
    pe = rng.uniform(12.0, 35.0, N)
    growth = rng.normal(0.015, 0.02, N)
    eps_q = (price0 / pe / 4.0)[None, :] * np.exp(
        growth[None, :] * np.arange(n_q)[:, None] + 0.03 * rng.standard_normal((n_q, N))
    )
    rev_scale = np.exp(rng.uniform(np.log(5e9), np.log(1e11), N))
    rev_q = rev_scale[None, :] * np.exp(growth[None, :] * np.arange(n_q)[:, None])
    cols = np.arange(N)[None, :]
    revision = np.exp(np.cumsum(0.002 * rng.standard_normal((T, N)), axis=0))
    eps_estimate = eps_q[n_before, cols] * revision
    revenue_estimate = rev_q[n_before, cols] * revision
    u = rng.standard_normal((T, N))
    v = rng.standard_normal((T, N))
    surprise_scale = rng.uniform(0.03, 0.10, N)[None, :]
    eps_actual = np.where(
        announce, eps_estimate + surprise_scale * np.abs(eps_estimate) * u, np.nan
    )
    rev_surprise = 0.02 * (0.6 * u + 0.8 * v)
    revenue_actual = np.where(announce, revenue_estimate * (1.0 + rev_surprise), np.nan)
    return {
        "eps_actual": eps_actual,
        "eps_estimate": eps_estimate,
        "revenue_actual": revenue_actual,
        "revenue_estimate": revenue_estimate,
        "surprise": np.where(announce, u, np.nan),
        "announce_row": np.where(announce, rows.astype(float), np.nan),
    }


# --- intraday ----------------------------------------------------------------------------------
def session_bounds(day: pd.Timestamp) -> tuple[datetime, datetime]:
    """Regular session (09:30–16:00 New York) of ``day`` as tz-aware UTC datetimes."""
    start = datetime.combine(day.date(), SESSION_OPEN, tzinfo=EXCHANGE_TZ).astimezone(UTC)
    return start, start + timedelta(seconds=SESSION_SECONDS)


def _intraday(
    market: SyntheticMarket, day_index: int, bar_seconds: int, symbols: Sequence[str] | None
) -> Iterator[IntradayBar]:
    panel = market.daily_panel()
    if not 0 <= day_index < panel.T:
        raise IndexError(f"day_index {day_index} outside 0..{panel.T - 1}")
    if bar_seconds <= 0 or SESSION_SECONDS % bar_seconds:
        raise ValueError(
            f"bar_seconds={bar_seconds} must divide the {SESSION_SECONDS}-second session "
            "(e.g. 5, 60, 300, 1800)"
        )
    n_bars = SESSION_SECONDS // bar_seconds
    wanted = list(symbols) if symbols is not None else list(panel.symbols)
    seed = market.intraday_seed if market.intraday_seed is not None else market.config.seed
    start, _ = session_bounds(panel.dates[day_index])
    per_symbol: list[tuple[str, dict[str, np.ndarray]]] = []
    for sym in wanted:
        col = panel.symbol_index(sym)
        row = {k: float(v[day_index, col]) for k, v in panel.fields.items()}
        if not np.isfinite(row["close"]):
            continue  # no daily bar, no intraday bars
        rng = np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(1, day_index, col)))
        )
        per_symbol.append((sym, _bar_path(rng, row, n_bars)))
    step = timedelta(seconds=bar_seconds)
    for k in range(n_bars):
        bar_start = start + k * step
        for sym, path in per_symbol:
            yield IntradayBar(
                symbol=sym,
                start=bar_start,
                end=bar_start + step,
                open=float(path["open"][k]),
                high=float(path["high"][k]),
                low=float(path["low"][k]),
                close=float(path["close"][k]),
                volume=int(path["volume"][k]),
                bid_volume=int(path["bid_volume"][k]),
                ask_volume=int(path["ask_volume"][k]),
            )


def _bar_path(rng: np.random.Generator, day: dict[str, float], n: int) -> dict[str, np.ndarray]:
    o, h, lo, c = (np.log(day[k]) for k in ("open", "high", "low", "close"))
    steps = rng.standard_normal(n)
    walk = np.concatenate([[0.0], np.cumsum(steps)])
    line = np.linspace(0.0, 1.0, n + 1)
    bridge = walk - line * walk[-1]
    base = o + line * (c - o)
    # scale the bridge so the path stays inside [low, high]
    room_up = h - base
    room_dn = base - lo
    pos = bridge.max()
    neg = -bridge.min()
    scale = 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if pos > 0:
            scale = min(scale, float(np.min(np.where(bridge > 0, room_up / bridge, np.inf))))
        if neg > 0:
            scale = min(scale, float(np.min(np.where(bridge < 0, -room_dn / bridge, np.inf))))
    scale = max(0.0, scale) * 0.9
    path = np.exp(base + scale * bridge)
    path[0], path[-1] = day["open"], day["close"]
    opens, closes = path[:-1], path[1:]
    highs = np.maximum(opens, closes)
    lows = np.minimum(opens, closes)
    highs[int(np.argmax(highs))] = day["high"]
    lows[int(np.argmin(lows))] = day["low"]
    profile = 1.0 + 0.8 * (np.linspace(-1.0, 1.0, n) ** 2)  # U-shaped intraday volume
    profile /= profile.sum()
    volume = (
        rng.multinomial(int(day["volume"]), profile)
        if np.isfinite(day.get("volume", np.nan))
        else np.zeros(n, dtype=np.int64)
    )
    bid_total = day.get("bid_volume", np.nan)
    if np.isfinite(bid_total) and volume.sum() > 0:
        bid = rng.multivariate_hypergeometric(volume, int(bid_total))
    else:
        bid = volume // 2

    def cents(x: np.ndarray) -> np.ndarray:
        return np.clip(np.round(x, 2), day["low"], day["high"])

    return {
        "open": cents(opens),
        "high": cents(highs),
        "low": cents(lows),
        "close": cents(closes),
        "volume": volume,
        "bid_volume": bid,
        "ask_volume": volume - bid,
    }
