"""The session clock: market time that runs ``speed`` times faster than the broker's wall clock.

The broker, the pacing limiter and every latency measurement run on real (wall) time — IBKR's
50 messages/second is a wall-clock limit. Only the *market* is accelerated: with ``speed=360`` a
6-hour session of one-minute bars is replayed in a minute, one bar every 1/6 second.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from engine.broker.clock import Clock, SystemClock


class SessionClock:
    """Maps wall-clock seconds to market time: ``market_start + (wall − wall₀) × speed``."""

    def __init__(self, market_start: datetime, speed: float, clock: Clock | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"session speed must be positive, got {speed}; 1 = real time")
        self.market_start = market_start
        self.speed = float(speed)
        self.clock: Clock = clock or SystemClock()
        self._wall0 = self.clock.now()

    def market_now(self) -> datetime:
        return self.market_start + timedelta(seconds=(self.clock.now() - self._wall0) * self.speed)

    def wall_seconds(self) -> float:
        """Wall seconds since the clock started."""
        return self.clock.now() - self._wall0

    async def sleep_until(self, at: datetime) -> None:
        """Wait until the market clock reads ``at`` (returns at once when it is already past)."""
        delay = (at - self.market_now()).total_seconds() / self.speed
        if delay > 0:
            await self.clock.sleep(delay)
        else:
            await asyncio.sleep(0)
