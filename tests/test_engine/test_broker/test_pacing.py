"""Pacing limiter: no one-second window ever carries more than the broker's limit."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from engine.broker.clock import VirtualClock
from engine.broker.pacing import PacingLimiter, TransientError, call_with_retry

pytestmark = [pytest.mark.broker]


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] < t - window - 1e-12:  # closed window [t - 1, t]
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def _burst(limiter: PacingLimiter, clock: VirtualClock, gaps: list[float]) -> list[float]:
    stamps: list[float] = []

    async def one(delay: float) -> None:
        clock.advance(delay)
        stamps.append(await limiter.acquire())

    # Concurrent callers, as in a real order plane: every sender shares one limiter.
    await asyncio.gather(*(one(g) for g in gaps))
    return stamps


@pytest.mark.property
@given(
    gaps=st.lists(st.floats(min_value=0.0, max_value=0.2), min_size=1, max_size=300),
    rate=st.floats(min_value=5.0, max_value=50.0),
    burst=st.integers(min_value=1, max_value=5),
)
# A late wake-up (another caller moved the clock 0.2 s while one slept): GCRA alone let two
# messages leave at the same instant and put 7 in one second at rate 5.
@example(gaps=[0.0] * 7 + [0.2], rate=5.0, burst=1)
def test_no_one_second_window_exceeds_rate_plus_burst(
    gaps: list[float], rate: float, burst: int
) -> None:
    clock = VirtualClock()
    limiter = PacingLimiter(rate=rate, burst=burst, clock=clock)
    stamps = asyncio.run(_burst(limiter, clock, gaps))
    assert len(stamps) == len(gaps)
    assert _max_in_window(stamps) <= int(burst + rate + 1e-9)


def test_default_limiter_keeps_1000_intents_under_50_per_second() -> None:
    clock = VirtualClock()
    limiter = PacingLimiter(clock=clock)  # 45/s, burst 1
    stamps = asyncio.run(_burst(limiter, clock, [0.0] * 1000))
    assert _max_in_window(stamps) <= 46 < 50
    # And it is not slower than it must be: 999 gaps of 1/45 s.
    assert max(stamps) - min(stamps) == pytest.approx(999 / 45, rel=1e-6)


def test_disabled_limiter_only_counts() -> None:
    clock = VirtualClock()
    limiter = PacingLimiter(clock=clock, enabled=False)
    stamps = asyncio.run(_burst(limiter, clock, [0.0] * 100))
    assert limiter.acquired == 100 and max(stamps) == min(stamps)


def test_retry_backs_off_exponentially_and_paces_each_attempt() -> None:
    clock = VirtualClock(start=0.0)
    limiter = PacingLimiter(rate=1000.0, clock=clock)
    attempts: list[float] = []

    async def flaky() -> str:
        attempts.append(clock.now())
        if len(attempts) < 4:
            raise TransientError("busy")
        return "ok"

    result = asyncio.run(call_with_retry(flaky, limiter=limiter, retries=5, backoff_initial=0.5))
    assert result == "ok" and limiter.acquired == 4
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    assert gaps == pytest.approx([0.5, 1.0, 2.0], abs=2e-3)


def test_retry_gives_up_after_the_budget() -> None:
    async def always() -> None:
        raise TransientError("down")

    with pytest.raises(TransientError):
        asyncio.run(call_with_retry(always, retries=2, backoff_initial=0.0, clock=VirtualClock()))


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="rate"):
        PacingLimiter(rate=0)
    with pytest.raises(ValueError, match="burst"):
        PacingLimiter(burst=0)


def test_poll_retries_a_timed_out_read() -> None:
    from engine.broker.operations import poll_until
    from engine.broker.types import BrokerTimeout

    clock = VirtualClock(start=0.0)
    calls: list[float] = []

    async def flaky_read() -> int:
        calls.append(clock.now())
        if len(calls) == 1:
            raise BrokerTimeout("no answer")
        return 0

    value, ok = asyncio.run(
        poll_until(flaky_read, lambda v: v == 0, clock=clock, deadline_seconds=5, interval=0.5)
    )
    assert ok and value == 0 and calls == pytest.approx([0.0, 0.5])
