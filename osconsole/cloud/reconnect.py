"""Keep connecting: each cloud is tried again, with backoff, until it connects.

The console and the wall run unattended for days, and Keystone being down when they
start is an everyday outage, not a reason to show `Not connected` forever. Each
cloud has its own loop, so a cloud that connected polls while another one is still
being retried; `retry_now` (the `r` key) tries every waiting cloud at once.
Refused credentials (401) are not retried on their own: a person must act (and
press `r`), because each try could count towards locking the account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from openstack.config import OpenStackConfig

from osconsole.cloud.connect import (
    CloudAttempt,
    Connection,
    cloud_label,
    clouds_to_watch,
    connect_cloud,
)
from osconsole.config import CloudSettings, Settings

log = logging.getLogger(__name__)

FIRST_RETRY = 5.0  # seconds after the first failure
MAX_RETRY = 300.0  # the wait between tries stops growing here, and tries go on forever
JITTER = 0.1

Wait = Callable[[asyncio.Event, float | None], Awaitable[None]]


def retry_delay(failures: int, rng: random.Random) -> float:
    """Seconds before the next try after `failures` failed ones in a row: 5 s, doubled
    each time up to 5 min, with 10% jitter so clouds and consoles do not try in step."""
    doublings = min(max(0, failures - 1), 16)  # past 5 min anyway; 2**1024 overflows
    base = min(FIRST_RETRY * 2**doublings, MAX_RETRY)
    return base * (1 + rng.uniform(-JITTER, JITTER))


@dataclass(frozen=True)
class CloudProblem:
    """A cloud not connected (yet): why, and when it is tried next."""

    cloud: str
    error: str
    retry_at: float | None  # epoch seconds; None when only `r` tries again

    def text(self) -> str:
        """The error with what happens next, for the screen."""
        if self.retry_at is None:
            return f"{self.error}; not retried on its own (r tries again)"
        at = datetime.fromtimestamp(self.retry_at, UTC).strftime("%H:%M:%S")
        return f"{self.error}; next try at {at} UTC (r tries now)"


async def wait_or_wake(wake: asyncio.Event, delay: float | None) -> None:
    """Until `delay` seconds pass (forever when None) or `wake` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), timeout=delay)


class Reconnector:
    """Connects every cloud to watch, each in its own loop, until each has connected.

    `on_connected(connection, attempt)` is called as each cloud connects (the
    connection holds every region connected so far); `on_problems(problems)` whenever
    the list of clouds not connected changes (empty once all are)."""

    def __init__(
        self,
        settings: Settings,
        *,
        on_connected: Callable[[Connection, CloudAttempt], None],
        on_problems: Callable[[list[CloudProblem]], None],
        os_cloud: str | None = None,
        region: str | None = None,
        openstack_config: OpenStackConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        env: dict[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        wait: Wait = wait_or_wake,
        seed: int | None = None,
    ) -> None:
        self.settings = settings
        self.on_connected = on_connected
        self.on_problems = on_problems
        self.region = region
        self.openstack_config = openstack_config
        self.transport = transport
        self.targets = clouds_to_watch(settings, os_cloud, env)
        self.clock = clock
        self.wait = wait
        self._rng = random.Random(seed)
        self.connection = Connection([], [])
        self.problems: dict[str, CloudProblem] = {}
        self.failures: dict[str, int] = {}
        self._wake: dict[str, asyncio.Event] = {}

    async def run(self) -> None:
        """Until every cloud has connected (each cloud's loop ends when it does)."""
        async with asyncio.TaskGroup() as group:
            for target in self.targets:
                group.create_task(self._keep_trying(target), name=f"connect {target}")

    def retry_now(self) -> None:
        """Try every cloud that is waiting for its next try, now."""
        for event in self._wake.values():
            event.set()

    async def aclose(self) -> None:
        await self.connection.aclose()

    async def _keep_trying(self, target: CloudSettings | None) -> None:
        label = cloud_label(target)
        wake = self._wake.setdefault(label, asyncio.Event())
        while True:
            wake.clear()
            attempt = await self._attempt(target, label)
            if attempt.sessions:
                self.connection.add(attempt)
                self.failures.pop(label, None)
                self.problems.pop(label, None)
                self._wake.pop(label, None)
                self.on_connected(self.connection, attempt)
                self.on_problems(list(self.problems.values()))
                return
            failures = self.failures[label] = self.failures.get(label, 0) + 1
            delay = retry_delay(failures, self._rng) if attempt.retry else None
            error = "; ".join(attempt.errors) or f"cloud {label!r}: no region to poll"
            retry_at = None if delay is None else self.clock() + delay
            self.problems[label] = CloudProblem(label, error, retry_at)
            self.on_problems(list(self.problems.values()))
            await self.wait(wake, delay)

    async def _attempt(self, target: CloudSettings | None, label: str) -> CloudAttempt:
        try:
            return await connect_cloud(
                self.settings,
                target,
                self.region,
                self.openstack_config,
                self.transport,
                clock=self.clock,
            )
        except Exception as exc:  # a bug must not end the tries of a wall left for days
            log.exception("connecting cloud %s failed", label)
            return CloudAttempt(
                label, [], [f"cloud {label!r}: internal error ({type(exc).__name__})"]
            )
