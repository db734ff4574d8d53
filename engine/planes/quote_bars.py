"""Bars from a broker's streaming quotes (IBKR or the simulated gateway), on the session clock.

The broker is subscribed to the universe's market data; :class:`QuoteBars` polls its latest
quotes (``last_quotes() -> {symbol: (price, tick time)}``) while a bar is open and turns every
new tick into a price observation. At the bar's end each symbol with at least one tick in the
bar gets an :class:`IntradayBar` (open = first, high/low = extremes, close = last observation);
a symbol without a tick gets no bar, so the data plane's freshness monitor marks it stale after
``qa.freshness_multiple`` bar intervals and the strategy plane does not trade it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from engine.data.synthetic import IntradayBar
from engine.planes.clock import SessionClock

QuoteReader = Callable[[], Mapping[str, tuple[float, datetime]]]


class QuoteBars:
    """``feed(start, end)`` for :class:`engine.planes.data_plane.DataPlane`.

    ``poll`` is the wall-clock interval between two reads of the quotes.
    """

    def __init__(
        self,
        read: QuoteReader,
        symbols: Sequence[str],
        clock: SessionClock,
        *,
        poll: float = 0.005,
    ) -> None:
        self.read = read
        self.symbols = tuple(symbols)
        self.clock = clock
        self.poll = poll
        self._seen: dict[str, datetime] = {}
        self.ticks_seen = 0

    def _observe(self, obs: dict[str, list[float]]) -> None:
        quotes = self.read()
        for symbol in self.symbols:
            quote = quotes.get(symbol)
            if quote is None:
                continue
            price, at = quote
            if self._seen.get(symbol) == at:
                continue  # no new tick since the last read
            self._seen[symbol] = at
            self.ticks_seen += 1
            obs.setdefault(symbol, []).append(price)

    async def __call__(self, start: datetime, end: datetime) -> list[IntradayBar]:
        obs: dict[str, list[float]] = {}
        while self.clock.market_now() < end:
            self._observe(obs)
            await asyncio.sleep(self.poll)
        self._observe(obs)
        bars: list[IntradayBar] = []
        for symbol in self.symbols:
            prices = obs.get(symbol)
            if not prices:
                continue
            bars.append(
                IntradayBar(
                    symbol=symbol,
                    start=start,
                    end=end,
                    open=prices[0],
                    high=max(prices),
                    low=min(prices),
                    close=prices[-1],
                    volume=0,
                    bid_volume=0,
                    ask_volume=0,
                )
            )
        return bars
