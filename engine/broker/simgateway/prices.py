"""Where the gateway's market prices come from.

``PriceSource`` is the small seam between the gateway and a market model: a deterministic price
per (symbol, time) and a bar history. ``RandomWalkPriceSource`` is a seeded geometric random walk
on a fixed step grid, so the same seed and the same clock give the same prices.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from typing import Protocol


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
    ) -> None:
        self.seed = seed
        self.origin = origin
        self.step_seconds = step_seconds
        seconds_per_year = 252 * 6.5 * 3600
        self._step_sigma = annual_vol * math.sqrt(step_seconds / seconds_per_year)
        self._paths: dict[str, list[float]] = {}
        self._rngs: dict[str, random.Random] = {}

    def _symbol_seed(self, symbol: str) -> int:
        return (self.seed * 1_000_003) ^ zlib.crc32(symbol.encode())

    def start_price(self, symbol: str) -> float:
        """A seeded start price between 20 and 500 USD, rounded to the cent."""
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
