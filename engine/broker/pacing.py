"""Client-side pacing: a token bucket every order-plane message goes through, plus retries.

IBKR accepts at most 50 API messages per second per connection; above that TWS sends error 100 and
drops the connection. :class:`PacingLimiter` keeps us below the limit with headroom (45/s by
default, ``burst`` 1): in any closed window of one second at most ``floor(burst + rate)`` messages
leave (46 with the defaults). A GCRA schedule spaces the messages ``1/rate`` apart; a sliding-window
check keeps the bound even when the event loop wakes a sleeper late. Share ONE limiter between
everything that talks to the same connection.

:func:`call_with_retry` retries a transient failure with exponential backoff, and every attempt
takes a token, so retries are paced too.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from engine.broker.clock import Clock, SystemClock

T = TypeVar("T")


class TransientError(Exception):
    """A failure worth retrying (timeout, pacing rejection, momentary disconnect)."""


@dataclass(frozen=True)
class PacingViolationRecord:
    """One pacing violation the broker reported (IB error 100)."""

    at: float
    detail: str


@dataclass
class PacingViolation:
    """Counter of pacing violations reported by the broker (gate 7 requires zero)."""

    count: int = 0
    records: list[PacingViolationRecord] = field(default_factory=list)

    def record(self, at: float, detail: str) -> None:
        self.count += 1
        self.records.append(PacingViolationRecord(at, detail))


class PacingLimiter:
    """Token bucket: ``rate`` tokens per second, at most ``burst`` stored.

    Parameters
    ----------
    rate
        Messages per second (default 45, under IBKR's 50).
    burst
        Bucket capacity: how many messages may leave back to back after an idle period.
    clock
        Time source; a :class:`~engine.broker.clock.VirtualClock` makes tests instant.
    enabled
        ``False`` turns the limiter into a counter (benchmarks of the unpaced path).
    """

    def __init__(
        self,
        rate: float = 45.0,
        burst: int = 1,
        *,
        clock: Clock | None = None,
        enabled: bool = True,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"pacing rate must be positive, got {rate}")
        if burst < 1:
            raise ValueError(f"pacing burst must be at least 1, got {burst}")
        self.rate = rate
        self.burst = burst
        self.enabled = enabled
        self.clock: Clock = clock or SystemClock()
        self._tat = self.clock.now()  # theoretical arrival time of the next message (GCRA)
        self.window_cap = int(burst + rate + 1e-9)
        self._recent: deque[float] = deque(maxlen=self.window_cap)
        self._lock = asyncio.Lock()
        self.acquired = 0
        self.waited_seconds = 0.0

    @property
    def floor_seconds_per_message(self) -> float:
        return 1.0 / self.rate

    async def acquire(self) -> float:
        """Wait for a token; returns the time (clock seconds) the message may leave.

        Implemented as the equivalent GCRA (generic cell rate algorithm): message k may leave
        at ``tat_k − (burst − 1)/rate`` where ``tat`` advances by ``1/rate`` per message from
        ``max(tat, now)``. Scheduling from the theoretical time rather than the moment a sleep
        actually returned means event-loop wake-up jitter is not lost on every message.
        """
        if not self.enabled:
            self.acquired += 1
            return self.clock.now()
        async with self._lock:
            interval = 1.0 / self.rate
            now = self.clock.now()
            tat = max(self._tat, now)
            allowed = tat - (self.burst - 1) * interval
            if allowed > now:
                self.waited_seconds += allowed - now
                await self.clock.sleep(allowed - now)
            # Hard guarantee, whatever the wake-up jitter: a departure may not make any closed
            # one-second window carry more than ``window_cap`` messages. After a late wake-up
            # the GCRA schedule alone could let two messages leave at the same instant.
            recent = self._recent
            if len(recent) == self.window_cap:
                earliest = recent[0] + 1.0 + 1e-6
                now = self.clock.now()
                if now < earliest:
                    self.waited_seconds += earliest - now
                    await self.clock.sleep(earliest - now)
            self._tat = tat + interval
            self.acquired += 1
            departed = self.clock.now()
            recent.append(departed)
            return departed


async def call_with_retry(
    fn: Callable[[], Awaitable[T]],
    *,
    limiter: PacingLimiter | None = None,
    retries: int = 5,
    backoff_initial: float = 0.25,
    backoff_max: float = 8.0,
    retry_on: tuple[type[BaseException], ...] = (TransientError,),
    clock: Clock | None = None,
) -> T:
    """Call ``fn`` (one broker message per attempt) with pacing and exponential backoff.

    Waits ``backoff_initial × 2^k`` (capped at ``backoff_max``) after the k-th transient failure;
    the last failure is re-raised after ``retries`` retries. Non-transient errors propagate at once.
    """
    sleeper: Clock = clock or (limiter.clock if limiter else SystemClock())
    attempt = 0
    while True:
        if limiter is not None:
            await limiter.acquire()
        try:
            return await fn()
        except retry_on:
            if attempt >= retries:
                raise
            await sleeper.sleep(min(backoff_max, backoff_initial * (2**attempt)))
            attempt += 1
