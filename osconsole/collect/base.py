"""The contract every collector keeps, and the budget that paces per-object sweeps.

A collector belongs to one region and one kind and may keep state between polls
(incremental caches, sweep progress). `collect()` either returns a snapshot
(possibly `complete=False` with notes saying what is missing) or raises: the
poller then keeps the previous items, marked stale, and backs off.

A poll reads each service at one microversion (`pin_versions`); when a service's
version changed since the last poll (the region came back upgraded), the
collector's state read at the old version is dropped first (`versions_changed`),
so fields read at two versions are never mixed.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from osconsole.cloud.http import ApiFailure, RegionClient, count_requests, pin_versions
from osconsole.config import Settings
from osconsole.model import Kind, RegionRef, Snapshot


class SweepBudget:
    """A token bucket: at most `rate` sweep requests per second in one region.

    Sweeps (one request per router or per project) are where monitoring tools hurt
    the APIs; pacing them keeps our load flat whatever the size of the cloud.
    `rate=None` means unpaced (the one-shot `snapshot` command, bounded by concurrency).
    """

    def __init__(self, rate: float | None, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst if burst is not None else max(1.0, (rate or 1.0))
        self._tokens = self.capacity
        self._last = time.monotonic()
        self._lock = asyncio.Lock()

    def available(self) -> float:
        if self.rate is None:
            return float("inf")
        self._refill()
        return self._tokens

    def _refill(self) -> None:
        now = time.monotonic()
        assert self.rate is not None
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def per_poll(self, interval: float) -> int | None:
        """How many sweep requests one poll may make (None: no limit)."""
        if self.rate is None:
            return None
        return max(1, int(self.rate * interval))

    async def acquire(self) -> None:
        if self.rate is None:
            return
        async with self._lock:
            self._refill()
            while self._tokens < 1.0:
                await asyncio.sleep((1.0 - self._tokens) / self.rate)
                self._refill()
            self._tokens -= 1.0


@dataclass(frozen=True)
class Collected:
    """What one poll of a kind found, before the poller stamps it into a Snapshot."""

    items: Mapping[str, Any]
    server_time: float | None = None  # the API's clock (Date header), for ages
    complete: bool = True
    notes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    partly_read: frozenset[str] = frozenset()  # see Snapshot.partly_read
    held: Mapping[str, float] = field(default_factory=dict)  # see Snapshot.held


def hold_unread(
    previous: Snapshot[Any] | None, items: dict[str, Any], unread: Callable[[Any], bool]
) -> dict[str, float]:
    """Keep in `items` the items of the last poll that this one could not read (`unread`:
    their part failed, or their records were unreadable so which ones they were is not
    known), as they were read; their ids and when they were read (Snapshot.held)."""
    if previous is None:
        return {}
    held: dict[str, float] = {}
    for key, item in previous.items.items():
        if key in items or not unread(item):
            continue
        items[key] = item
        held[key] = previous.held.get(key, previous.fetched_at)
    return held


class Collector(ABC):
    """Gathers one kind in one region."""

    kind: ClassVar[Kind]

    def __init__(
        self,
        client: RegionClient,
        settings: Settings,
        budget: SweepBudget,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.settings = settings
        self.budget = budget
        self.clock = clock
        self.ref = RegionRef(client.cloud, client.region)
        self.read_at: dict[str, str] = {}  # service -> microversion of what we hold

    @abstractmethod
    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        """Poll the APIs once; raise ApiFailure when nothing usable came back."""

    async def poll(self, previous: Snapshot[Any] | None) -> Snapshot[Any]:
        """One poll, stamped with when it ended, how long it took and its requests."""
        started = time.monotonic()
        with count_requests() as counter, pin_versions() as pinned:
            try:
                await self._same_versions()
                found = await self.collect(previous)
            finally:
                self.read_at.update(pinned.versions())
        return Snapshot(
            ref=self.ref,
            kind=self.kind,
            items=Snapshot.freeze(found.items),
            fetched_at=self.clock(),
            server_time=found.server_time,
            duration_ms=(time.monotonic() - started) * 1000.0,
            requests=counter.count,
            complete=found.complete,
            notes=found.notes,
            extra=dict(found.extra),
            partly_read=found.partly_read,
            held=Snapshot.freeze(found.held),
        )

    async def _same_versions(self) -> None:
        """Pin the versions of the services the last poll read (negotiating again where
        the region was unreachable since); drop what was read at a version that changed."""
        changed = []
        for service, before in self.read_at.items():
            try:
                now = await self.client.version(service)
            except ApiFailure:
                continue  # the poll's own call to that service fails with this reason
            if now is not None and now != before:
                changed.append(service)
        if changed:
            for service in changed:
                del self.read_at[service]
            self.versions_changed(changed)

    def versions_changed(self, services: list[str]) -> None:
        """`services` are read at another microversion from now on: forget any state
        read at the old one (caches, incremental listings). Nothing by default."""
        return None
