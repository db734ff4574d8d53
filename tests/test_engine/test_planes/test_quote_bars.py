"""QuoteBars: a broker's streaming quotes → one OHLC bar per symbol and bar on the session clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from engine.broker.clock import VirtualClock
from engine.planes.clock import SessionClock
from engine.planes.quote_bars import QuoteBars

pytestmark = pytest.mark.unit

T0 = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)


def test_ticks_become_ohlc_bars_and_a_silent_symbol_gets_none() -> None:
    wall = VirtualClock(0.0)
    clock = SessionClock(T0, speed=60.0, clock=wall)  # one wall second = one market minute
    # each read is one wall step of 0.25 s; AAA ticks on every read, BBB repeats one tick forever
    script = [101.0, 103.0, 99.0, 102.0, 100.5]
    reads = {"n": 0}

    def read() -> dict[str, tuple[float, datetime]]:
        n = reads["n"]
        reads["n"] += 1
        wall.advance(0.25)
        px = script[min(n, len(script) - 1)]
        return {"AAA": (px, T0 + timedelta(seconds=n)), "BBB": (50.0, T0)}

    feed = QuoteBars(read, ["AAA", "BBB", "CCC"], clock, poll=0.0)
    bars = asyncio.run(feed(T0, T0 + timedelta(minutes=1)))
    assert [b.symbol for b in bars] == ["AAA", "BBB"]  # CCC never quoted: no bar
    aaa, bbb = bars
    assert (aaa.open, aaa.high, aaa.low, aaa.close) == (101.0, 103.0, 99.0, 100.5)
    assert aaa.start == T0 and aaa.end == T0 + timedelta(minutes=1)
    # BBB's one tick counts once: in the next bar it has none
    bars2 = asyncio.run(feed(T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)))
    assert [b.symbol for b in bars2] == ["AAA"]
    assert bbb.close == 50.0
