"""Scheduling polls: one loop per (region, kind), never overlapping, backing off.

The next poll of a kind is armed when the previous one ends (plus jitter), not on
a fixed clock, so a slow region falls behind alone and shows its age instead of
piling requests onto a struggling API. A failing poll keeps the previous items,
marked stale, and retries with exponential backoff, and never sooner than a
service's Retry-After. A kind whose service the region does not have is not
deployed there: an empty, complete snapshot that says so, not a failure.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from osconsole.cloud.auth import AuthError
from osconsole.cloud.connect import RegionSession
from osconsole.cloud.http import ApiFailure, NotDeployed, watch_backoff
from osconsole.collect.base import Collector, SweepBudget
from osconsole.config import Settings
from osconsole.model import Kind, RegionRef, Snapshot

log = logging.getLogger(__name__)

Key = tuple[RegionRef, Kind]
OnSnapshot = Callable[[Snapshot[Any]], Awaitable[None] | None]
Sleep = Callable[[float], Awaitable[None]]

MAX_BACKOFF_FACTOR = 16
JITTER = 0.1


def next_delay(interval: float, failures: int, rng: random.Random) -> float:
    """Seconds until the next poll: the interval, doubled per consecutive failure
    (at most 16 times), with 10% jitter either way so regions do not poll in lockstep."""
    factor = min(2 ** max(0, failures), MAX_BACKOFF_FACTOR)
    base = interval * factor
    return base * (1 + rng.uniform(-JITTER, JITTER))


def failed_snapshot(
    previous: Snapshot[Any] | None, ref: RegionRef, kind: Kind, error: str, now: float
) -> Snapshot[Any]:
    """The snapshot after a failed poll: the last items kept, marked stale."""
    if previous is None:
        return Snapshot(
            ref=ref,
            kind=kind,
            items=Snapshot.freeze({}),
            fetched_at=now,
            error=error,
            stale=True,
            complete=False,
        )
    return replace(previous, error=error, stale=True)


def not_deployed_snapshot(ref: RegionRef, kind: Kind, reason: str, now: float) -> Snapshot[Any]:
    """The snapshot of a kind whose service the region's catalog does not have."""
    return Snapshot(
        ref=ref,
        kind=kind,
        items=Snapshot.freeze({}),
        fetched_at=now,
        notes=(f"not deployed: {reason}",),
        extra={"not_deployed": reason},
    )


class Poller:
    """Runs every collector of every region; hands each snapshot to `on_snapshot`."""

    def __init__(
        self,
        regions: Iterable[RegionSession],
        settings: Settings,
        *,
        kinds: Iterable[Kind] = tuple(Kind),
        on_snapshot: OnSnapshot | None = None,
        unpaced_sweeps: bool = False,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        seed: int | None = None,
        collectors: Mapping[Kind, type[Collector]] | None = None,
    ) -> None:
        if collectors is None:
            from osconsole.collect.registry import COLLECTORS as collectors
        self.settings = settings
        self.on_snapshot = on_snapshot
        self.clock = clock
        self.sleep = sleep  # every wait between polls goes through it (tests step time)
        self._rng = random.Random(seed)
        # The one-shot snapshot sweeps everything at once (bounded by concurrency);
        # the live console paces sweeps within the per-region budget.
        self._rate = None if unpaced_sweeps else settings.sweep_budget
        self._kinds = tuple(kinds)
        self._collector_types = collectors
        self.collectors: dict[Key, Collector] = {}
        self.latest: dict[Key, Snapshot[Any]] = {}
        self.failures: dict[Key, int] = {}
        self.retry_after: dict[Key, float] = {}  # seconds a service asked us to wait
        self._wake: dict[Key, asyncio.Event] = {}
        self._locks: dict[Key, asyncio.Lock] = {}
        self._group: asyncio.TaskGroup | None = None
        self.paused = False
        self.add(regions)

    def add(self, regions: Iterable[RegionSession]) -> None:
        """Poll these regions too (a cloud that connected later); at once when running."""
        for session in regions:
            budget = SweepBudget(self._rate)
            for kind in self._kinds:
                key = (session.ref, kind)
                collector = self._collector_types[kind]
                self.collectors[key] = collector(session.client, self.settings, budget, self.clock)
                self._wake[key] = asyncio.Event()
                self._locks[key] = asyncio.Lock()
                if self._group is not None:
                    self._group.create_task(self._loop(key), name=f"poll {key[0]} {key[1]}")

    async def poll(self, key: Key) -> Snapshot[Any]:
        """Poll one kind of one region now (waits if that poll is already running)."""
        async with self._locks[key]:
            previous = self.latest.get(key)
            with watch_backoff() as backoff:
                snapshot = await self._poll_collector(key, previous)
            self.retry_after[key] = backoff.seconds
            self.latest[key] = snapshot
        if self.on_snapshot is not None:
            result = self.on_snapshot(snapshot)
            if asyncio.iscoroutine(result):
                await result
        return snapshot

    async def _poll_collector(self, key: Key, previous: Snapshot[Any] | None) -> Snapshot[Any]:
        try:
            snapshot = await self.collectors[key].poll(previous)
            self.failures[key] = 0
        except NotDeployed as exc:
            self.failures[key] = 0
            snapshot = not_deployed_snapshot(key[0], key[1], exc.reason, self.clock())
        except (ApiFailure, AuthError) as exc:
            self.failures[key] = self.failures.get(key, 0) + 1
            snapshot = failed_snapshot(previous, key[0], key[1], str(exc), self.clock())
        except Exception as exc:  # a bug in a collector must not kill the loop
            log.exception("collector %s/%s failed", key[0], key[1])
            self.failures[key] = self.failures.get(key, 0) + 1
            reason = f"internal error: {type(exc).__name__}"
            snapshot = failed_snapshot(previous, key[0], key[1], reason, self.clock())
        return snapshot

    async def poll_once(self) -> list[Snapshot[Any]]:
        """One poll of everything, all regions and kinds at once."""
        return list(await asyncio.gather(*(self.poll(key) for key in self.collectors)))

    async def run(self) -> None:
        """Poll forever (until cancelled), each (region, kind) in its own loop; regions
        added meanwhile start theirs at once."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            for key in list(self.collectors):
                group.create_task(self._loop(key), name=f"poll {key[0]} {key[1]}")
            await asyncio.Future()  # until cancelled, even with no region yet

    def delay(self, key: Key) -> float:
        """Seconds until the next poll of `key`: the interval with backoff and jitter,
        and at least what a service asked for with Retry-After."""
        interval = self.settings.intervals.of(key[1])
        delay = next_delay(interval, self.failures.get(key, 0), self._rng)
        return max(delay, self.retry_after.get(key, 0.0))

    async def _loop(self, key: Key) -> None:
        while True:
            if not self.paused:
                await self.poll(key)
            await self._wait(key, self.delay(key))

    async def _wait(self, key: Key, delay: float) -> None:
        """Sleep `delay` seconds, or less if `refresh` wakes this loop."""
        wake = self._wake[key]
        if not wake.is_set():
            waits = [asyncio.ensure_future(self.sleep(delay)), asyncio.ensure_future(wake.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        wake.clear()

    def refresh(self, kind: Kind | None = None) -> None:
        """Poll now (the kind, or everything): wakes the sleeping loops, never doubles one."""
        for key, event in self._wake.items():
            if kind is None or key[1] == kind:
                event.set()
