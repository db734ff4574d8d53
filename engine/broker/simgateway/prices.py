"""Where the gateway's market prices come from.

``PriceSource`` is the small seam between the gateway and a market model: a deterministic price
per (symbol, time) and a bar history. ``RandomWalkPriceSource`` is a seeded geometric random walk
on a fixed step grid, so the same seed and the same clock give the same prices.
"""

from __future__ import annotations

import math
import random
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class PriceBar:
    """One OHLCV bar; ``start`` in epoch seconds (UTC)."""

    start: float
    open: float
    high: float
    low: float
    close: float
    volume: float


class PriceSource(Protocol):
    """A deterministic market: price of ``symbol`` at epoch second ``t`` and bar history."""

    def price(self, symbol: str, t: float) -> float: ...

    def bars(self, symbol: str, end: float, bar_seconds: int, count: int) -> list[PriceBar]: ...


class RandomWalkPriceSource:
    """Seeded geometric random walk per symbol.

    Parameters
    ----------
    seed : the same seed gives the same paths.
    origin : epoch second of step 0 (the gateway's start time).
    step_seconds : walk resolution (seconds).
    annual_vol : volatility per year (fraction); 0 freezes prices at their start values.
    """

    def __init__(
        self,
        seed: int = 0,
        origin: float = 0.0,
        step_seconds: float = 1.0,
        annual_vol: float = 0.25,
        start_prices: Mapping[str, float] | None = None,
    ) -> None:
        self.seed = seed
        self._start_prices = dict(start_prices or {})
        self.origin = origin
        self.step_seconds = step_seconds
        seconds_per_year = 252 * 6.5 * 3600
        self._step_sigma = annual_vol * math.sqrt(step_seconds / seconds_per_year)
        self._paths: dict[str, list[float]] = {}
        self._rngs: dict[str, random.Random] = {}

    def _symbol_seed(self, symbol: str) -> int:
        return (self.seed * 1_000_003) ^ zlib.crc32(symbol.encode())

    def start_price(self, symbol: str) -> float:
        """The given start price, else a seeded one between 20 and 500 USD (to the cent)."""
        given = self._start_prices.get(symbol)
        if given is not None:
            return given
        rng = random.Random(self._symbol_seed(symbol))
        return round(math.exp(rng.uniform(math.log(20.0), math.log(500.0))), 2)

    def price(self, symbol: str, t: float) -> float:
        step = max(0, int((t - self.origin) // self.step_seconds))
        path = self._paths.get(symbol)
        if path is None:
            path = self._paths[symbol] = [self.start_price(symbol)]
            self._rngs[symbol] = random.Random(self._symbol_seed(symbol) + 1)
        rng = self._rngs[symbol]
        sigma = self._step_sigma
        while len(path) <= step:
            z = rng.gauss(0.0, 1.0)
            path.append(path[-1] * math.exp(sigma * z - 0.5 * sigma * sigma))
        return round(path[step], 2)

    def bars(self, symbol: str, end: float, bar_seconds: int, count: int) -> list[PriceBar]:
        """``count`` bars ending at ``end``, walked backwards from the current price.

        History is generated from a separate seeded stream so it never disturbs live prices;
        the last close equals ``price(symbol, end)``.
        """
        if count <= 0:
            return []
        rng = random.Random(self._symbol_seed(symbol) ^ (bar_seconds * 7919))
        seconds_per_year = 252 * 6.5 * 3600
        sigma = 0.25 * math.sqrt(min(bar_seconds, 23_400) / seconds_per_year)
        closes = [self.price(symbol, end)]
        for _ in range(count - 1):
            closes.append(closes[-1] / math.exp(sigma * rng.gauss(0.0, 1.0)))
        closes.reverse()
        bars: list[PriceBar] = []
        first = end - bar_seconds * count
        prev = closes[0] * math.exp(sigma * 0.1 * rng.gauss(0.0, 1.0))
        for i, close in enumerate(closes):
            open_ = prev
            wiggle = abs(rng.gauss(0.0, sigma * 0.5))
            high = max(open_, close) * (1 + wiggle)
            low = min(open_, close) * (1 - wiggle)
            volume = float(int(rng.uniform(0.5, 1.5) * 100_000 * min(bar_seconds, 23_400) / 60))
            bars.append(
                PriceBar(
                    start=first + i * bar_seconds,
                    open=round(open_, 2),
                    high=round(high, 2),
                    low=round(low, 2),
                    close=round(close, 2),
                    volume=volume,
                )
            )
            prev = close
        return bars


class SyntheticPriceSource:
    """Prices anchored on the embedded synthetic market (``engine.data.synthetic``).

    Live prices walk (seeded, ``annual_vol``) from each asset's last synthetic daily close; daily
    history bars are the synthetic market's own OHLCV, re-dated so the last bar is the day before
    ``end``. Symbols outside the synthetic universe fall back to a plain seeded random walk.

    Parameters
    ----------
    seed : seed of the synthetic market and of the live walk.
    origin : epoch second of the walk's step 0.
    market : a ``SyntheticMarket`` to use instead of building one from ``seed``.
    """

    def __init__(
        self,
        seed: int = 0,
        origin: float = 0.0,
        *,
        annual_vol: float = 0.25,
        market: Any = None,
    ) -> None:
        from engine.config import SyntheticMarketConfig
        from engine.data.synthetic import SyntheticMarket

        market = market or SyntheticMarket(SyntheticMarketConfig(seed=seed))
        panel = market.daily_panel()
        self._rows: dict[str, list[tuple[float, float, float, float, float]]] = {}
        volume = panel.get("volume")
        for j, symbol in enumerate(panel.symbols):
            rows = []
            for i in range(panel.T):
                o, h, lo, c = (
                    float(panel.fields[k][i, j]) for k in ("open", "high", "low", "close")
                )
                v = float(volume[i, j]) if volume is not None else 0.0
                if all(math.isfinite(x) for x in (o, h, lo, c)):
                    rows.append((o, h, lo, c, v if math.isfinite(v) else 0.0))
            if rows:
                self._rows[symbol] = rows
        starts = {sym: round(rows[-1][3], 2) for sym, rows in self._rows.items()}
        self._walk = RandomWalkPriceSource(
            seed=seed, origin=origin, annual_vol=annual_vol, start_prices=starts
        )

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._rows)

    def price(self, symbol: str, t: float) -> float:
        return self._walk.price(symbol, t)

    def bars(self, symbol: str, end: float, bar_seconds: int, count: int) -> list[PriceBar]:
        rows = self._rows.get(symbol)
        if rows is None or bar_seconds < 86_400 or count <= 0:
            return self._walk.bars(symbol, end, bar_seconds, count)
        step = max(1, bar_seconds // 86_400)  # trading days per bar
        groups = []
        for stop in range(len(rows), 0, -step):
            group = rows[max(0, stop - step) : stop]
            groups.append(
                (
                    group[0][0],
                    max(r[1] for r in group),
                    min(r[2] for r in group),
                    group[-1][3],
                    sum(r[4] for r in group),
                )
            )
            if len(groups) == count:
                break
        groups.reverse()
        last_day = (int(end) // 86_400 - 1) * 86_400
        starts = _business_days_back(last_day, len(groups), step)
        return [
            PriceBar(start, round(o, 2), round(h, 2), round(lo, 2), round(c, 2), v)
            for start, (o, h, lo, c, v) in zip(starts, groups, strict=True)
        ]


def _business_days_back(last_day: float, n: int, step: int) -> list[float]:
    """Start dates (epoch seconds, midnight UTC) of ``n`` bars of ``step`` weekdays each, the
    last bar starting ``step - 1`` weekdays before the weekday at or before ``last_day``."""
    weekdays: list[float] = []
    day = last_day
    while len(weekdays) < n * step:
        if time.gmtime(day).tm_wday < 5:
            weekdays.append(day)
        day -= 86_400
    weekdays.reverse()
    return weekdays[::step][-n:] if n else []
