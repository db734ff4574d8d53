"""Clocks the broker layer runs on: real time, or a virtual clock for fast, deterministic tests.

Every timed component (pacing limiter, simulated broker, reconnect backoff) takes a :class:`Clock`
instead of calling ``time`` or ``asyncio.sleep`` directly, so tests can run a minute of broker time
in milliseconds and benchmarks can measure real time.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since an arbitrary epoch, and a way to wait."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock seconds (monotonic) and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """Time that only moves when someone sleeps (or :meth:`advance` is called).

    ``sleep(d)`` moves the clock to at least ``now_at_call + d`` and yields once to the event loop,
    so a sleeper always observes that ``d`` seconds passed. Concurrent sleepers keep time monotone.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        target = self._now + max(0.0, seconds)
        self._now = max(self._now, target)
        await asyncio.sleep(0)


class WallClock:
    """Epoch seconds (``time.time``) and ``asyncio.sleep``: a timeline that continues across
    processes, for a simulated account saved in one command and loaded by the next."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
