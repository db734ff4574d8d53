"""Bar-by-bar lockstep of the simulated session: decisions that do not depend on the wall clock.

With the simulated broker the whole session is a function of the seed and the config when every
bar is *settled* before the next one moves the market. :class:`BarLockstep` is the in-process
handshake that does it (like :class:`~engine.planes.state.HaltState`, a shared value of the one
process; the messages themselves still travel on the bus):

1. the data plane moves the broker's market to the closes of bar ``k`` and publishes its events;
2. the risk monitor samples the account (kill switches) at those closes;
3. :meth:`BarLockstep.publish` — the strategy plane, once it has consumed every market event
   published so far, completes bar ``k`` (its decision, when ``k`` is a decision bar) and calls
   :meth:`BarLockstep.complete`;
4. the data plane waits until the system is quiet: every intent handled by the order plane,
   every order final at the broker, every execution report consumed by the strategy plane;
5. only then does bar ``k + 1`` move the market.

So the decision of bar ``k`` sees exactly bars ``0..k`` and the fills of the decisions before it,
and its orders fill at bar ``k``'s prices — however fast or slow the machine is. The session
clock still paces the bars (a 6-hour session in about a minute at 360×); when a step takes
longer than its share of wall time the clock falls behind and the next bars follow at once,
without skipping any. Every wait is bounded (wall seconds): a plane that stops answering is
logged and the session goes on rather than hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable


class BarLockstep:
    """Which bar the data plane has published and which bar the strategy plane has completed."""

    def __init__(self) -> None:
        self.published = -1
        self.completed = -1
        self._changed = asyncio.Event()

    def publish(self, bar: int) -> None:
        """The data plane has published every event of bars ``≤ bar``."""
        self.published = max(self.published, bar)

    @property
    def pending(self) -> bool:
        """A published bar is waiting for the strategy plane."""
        return self.published > self.completed

    def complete(self, bar: int) -> None:
        """The strategy plane has completed (decided) every bar ``≤ bar``."""
        self.completed = max(self.completed, bar)
        self._changed.set()

    async def wait_completed(
        self, bar: int, timeout: float, alive: Callable[[], bool] = lambda: True
    ) -> bool:
        """Wait until bar ``bar`` is completed; ``False`` on timeout or when ``alive()`` fails."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.completed < bar:
            left = deadline - loop.time()
            if left <= 0 or not alive():
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))
        return True


async def wait_until(
    predicate: Callable[[], bool], timeout: float, interval: float = 0.001
) -> bool:
    """Poll ``predicate`` every ``interval`` wall seconds; ``False`` when ``timeout`` passes first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True
