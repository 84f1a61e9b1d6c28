"""A clock and a sleep for code under test that waits (the poller's loops): time moves
only when the test says, so no test sleeps in real time and none depends on timing."""

from __future__ import annotations

import asyncio
import heapq
import itertools


class SteppedClock:
    """Epoch seconds that move only by `advance`; `sleep` ends once they pass its deadline."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced by `seconds` (0 or less: just yield)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), woken))
        await woken

    @property
    def sleeping(self) -> list[float]:
        """The deadlines of the sleeps still waiting, soonest first."""
        return sorted(d for d, _, woken in self._sleepers if not woken.done())

    def advance(self, seconds: float) -> int:
        """Move time forward and wake every sleep now due; return how many were woken.
        The woken tasks run when the test next yields (e.g. in `wait_for(..., step=0)`)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += seconds
        woken = 0
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, sleeper = heapq.heappop(self._sleepers)
            if not sleeper.done():
                sleeper.set_result(None)
                woken += 1
        return woken
