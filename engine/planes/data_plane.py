"""Data plane: the simulated market (or a broker feed) → normalisation → QA → ``market_events``.

With ``feed`` (a broker's market data, e.g. IBKR or the simulated gateway) the bars of each bar
time come from the feed instead of the synthetic market; the synthetic bars give the time grid
only. Everything below applies to both.

For each bar time of the session day (time-major, as the synthetic market yields them):

1. wait until the session clock reaches the bar's end (the bar is complete then);
2. **completeness gate** — the batch of bars for that time is checked against the expected
   universe (:func:`engine.data.qa.completeness_check`); a batch missing more than
   ``qa.max_missing_fraction`` is rejected whole and logged;
3. the broker's market moves to the bar closes (``on_prices``: the simulated exchange marks and
   fills at these prices);
4. every bar is normalised to a ``BarEvent`` and an ``OFIEvent`` (and, when asked, BID/ASK/TRADE
   ``TickEvent``s) and published, keyed by symbol;
5. **freshness** — :class:`engine.data.qa.FreshnessMonitor` flags symbols whose last bar is older
   than ``qa.freshness_multiple`` bar intervals; changes are logged (the strategy plane runs the
   same monitor on what it receives and does not trade stale symbols);
6. ``after_bar`` (when given) — the simulated session's lockstep: the risk monitor samples, the
   strategy completes the bar and the orders settle before the next bar moves the market
   (:mod:`engine.planes.lockstep`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from contracts.topics import MARKET_EVENTS
from engine.bus.protocol import Bus
from engine.config import DataQAConfig
from engine.data.normalize import bar_event, ofi_from_bar
from engine.data.qa import FreshnessMonitor, completeness_check
from engine.data.synthetic import IntradayBar, SyntheticTick
from engine.planes.clock import SessionClock
from engine.planes.jsonlog import PlaneLog

PriceHook = Callable[[dict[str, float]], Awaitable[None]]
BarHook = Callable[[int, datetime], Awaitable[bool]]
BarFeed = Callable[[datetime, datetime], Awaitable[list[IntradayBar]]]
"""``feed(bar start, bar end)`` → the bars of that interval, returned once the session clock
reaches its end (the broker's market data aggregated into bars, :mod:`engine.planes.quote_bars`)."""
"""``after_bar(bar index, bar end)``, awaited once a bar time is published (or rejected);
``False`` stops the data plane (the session is over, e.g. after a flatten)."""


@dataclass
class DataPlaneStats:
    bar_times: int = 0
    bars: int = 0
    ofi: int = 0
    ticks: int = 0
    rejected_batches: int = 0
    dead_lettered: int = 0
    last_bar_index: int = -1
    stale: tuple[str, ...] = ()
    finished: bool = False
    stale_events: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


def group_by_time(bars: Iterable[IntradayBar]) -> list[list[IntradayBar]]:
    """Time-major bars → one list per bar start time, in order."""
    groups: list[list[IntradayBar]] = []
    for bar in bars:
        if groups and groups[-1][0].start == bar.start:
            groups[-1].append(bar)
        else:
            groups.append([bar])
    return groups


class DataPlane:
    """Publishes one session day of bars on the session clock.

    ``start_bar`` skips bar times already published (resume); ``poison`` maps a bar index to raw
    messages published right after that bar (invalid ones end in ``dlq_market_events``).
    """

    def __init__(
        self,
        bus: Bus,
        groups: Sequence[Sequence[IntradayBar]],
        *,
        symbols: Sequence[str],
        clock: SessionClock,
        qa: DataQAConfig,
        bar_seconds: int,
        log: PlaneLog,
        start_bar: int = 0,
        on_prices: PriceHook | None = None,
        ticks: Callable[[IntradayBar], Iterable[SyntheticTick]] | None = None,
        poison: dict[int, list[bytes]] | None = None,
        after_bar: BarHook | None = None,
        feed: BarFeed | None = None,
    ) -> None:
        self.bus = bus
        self.groups = groups
        self.symbols = tuple(symbols)
        self.clock = clock
        self.qa = qa
        self.log = log
        self.start_bar = start_bar
        self.on_prices = on_prices
        self.ticks = ticks
        self.poison = poison or {}
        self.after_bar = after_bar
        self.feed = feed
        self.freshness = FreshnessMonitor(bar_seconds, qa.freshness_multiple, self.symbols)
        self.stats = DataPlaneStats()

    async def run(self) -> DataPlaneStats:
        from engine.data.normalize import tick_event

        bus, stats = self.bus, self.stats
        self.log.log("start", bar_times=len(self.groups), first_bar=self.start_bar)
        for k, group in enumerate(self.groups):
            if k < self.start_bar:
                for bar in group:
                    self.freshness.observe(bar.symbol, bar.end)
                continue
            end = group[0].end
            if self.feed is not None:
                group = await self.feed(group[0].start, end)
            else:
                await self.clock.sleep_until(end)
            batch = [
                {"symbol": b.symbol, "open": b.open, "high": b.high, "low": b.low, "close": b.close}
                for b in group
            ]
            # a quote stream has no fixed batch: a symbol without ticks in the bar has no bar
            # and is left to the freshness monitor; the gate checks the bars that did arrive
            expected = self.symbols if self.feed is None else tuple(b.symbol for b in group)
            report = completeness_check(
                batch, self.qa.max_missing_fraction, expected_symbols=expected
            )
            reason = report.message if not report.ok else None
            if self.feed is not None and not group:
                reason = "no quote from the broker during the bar"
            if reason is not None:
                stats.rejected_batches += 1
                self.log.log("batch_rejected", "warning", bar=k, at=end, reason=reason)
                if self.after_bar is not None and not await self.after_bar(k, end):
                    break
                continue
            if self.on_prices is not None:
                await self.on_prices({b.symbol: b.close for b in group})
            for bar in group:
                self.freshness.observe(bar.symbol, bar.end)
                res = await bus.publish(MARKET_EVENTS, bar_event(bar), key=bar.symbol)
                stats.bars += res.ok
                res = await bus.publish(MARKET_EVENTS, ofi_from_bar(bar), key=bar.symbol)
                stats.ofi += res.ok
                if self.ticks is not None:
                    for tick in self.ticks(bar):
                        res = await bus.publish(MARKET_EVENTS, tick_event(tick), key=tick.symbol)
                        stats.ticks += res.ok
            for raw in self.poison.get(k, ()):
                res = await bus.publish(MARKET_EVENTS, raw)
                if res.routed_to_dlq:
                    stats.dead_lettered += 1
                    self.log.log("dead_lettered", "warning", bar=k, errors=len(res.errors))
            stats.bar_times += 1
            stats.last_bar_index = k
            stale = self.freshness.stale(end)
            if stale != stats.stale:
                stats.stale = stale
                stats.stale_events.append((end.isoformat(), stale))
                self.log.log("stale_symbols", "warning" if stale else "info", at=end, stale=stale)
            if self.after_bar is not None and not await self.after_bar(k, end):
                break
        else:
            stats.finished = True
        await bus.flush()
        self.log.log(
            "finished",
            bars=stats.bars,
            bar_times=stats.bar_times,
            rejected_batches=stats.rejected_batches,
        )
        return stats
