"""The live pipeline of every process that watches the clouds itself (the console, the
wall, the collector): connect every cloud (each tried again until it connects), poll
and probe every region of those that did, keep the latest snapshots in a LiveState,
and get it ready for the one judge.

No Textual here: the console's PollingApp and the headless collector run this very
code, so a collector's viewers see what a standalone console would have judged. What
a process does with an arrival or a connection (post a Textual message, send it to
viewers) is its own business, through the hooks given to `run`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from openstack.config import OpenStackConfig

from osconsole.clean import clean_text
from osconsole.cloud.connect import CloudAttempt, Connection
from osconsole.cloud.http import ServiceStats
from osconsole.cloud.reconnect import CloudProblem, Reconnector
from osconsole.config import Settings
from osconsole.controlplane import plane_looks
from osconsole.health.assess import Verdicts
from osconsole.health.plane import PlaneLook
from osconsole.live import LiveState
from osconsole.model import RegionRef, Snapshot
from osconsole.poller import Poller
from osconsole.probes.mysql import StatusSource
from osconsole.probes.runner import ProbeRunner

log = logging.getLogger(__name__)

OnSnapshot = Callable[[Snapshot[Any]], object]
OnConnected = Callable[[Connection, CloudAttempt], None]
OnProblems = Callable[[list[CloudProblem]], None]


class Pipeline:
    """Connecting, polling and probing, and the live state they feed.

    `run` connects and polls until cancelled, calling `on_snapshot` for each poll that
    ends, `on_connected` as each cloud connects and `on_problems` when the clouds not
    connected change. Those hooks run on the event loop; a process that must order them
    with other work (the console, through its message queue) calls `take_connection`
    and `take_problems` itself when it handles them; the default hooks call them at once.
    `errors` always says what is not connected, why, and when it is tried next;
    `new_connect_errors` what is new in it (for a toast or a log line)."""

    def __init__(
        self,
        settings: Settings,
        *,
        os_cloud: str | None = None,
        region: str | None = None,
        openstack_config: OpenStackConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        state: LiveState | None = None,
    ) -> None:
        self.settings = settings
        self.state = LiveState(settings) if state is None else state
        self.clock = clock
        self.connect_kwargs: dict[str, Any] = {
            "os_cloud": os_cloud,
            "region": region,
            "openstack_config": openstack_config,
            "transport": transport,
        }
        self.connection: Connection | None = None
        self.poller: Poller | None = None
        self.connector: Reconnector | None = None
        self.probes: ProbeRunner | None = None
        self.mysql_sources: dict[RegionRef, StatusSource] = {}  # injected (the demo's)
        self.errors: list[str] = []
        self.new_connect_errors: list[str] = []
        self._told: set[str] = set()

    async def run(
        self,
        on_snapshot: OnSnapshot | None = None,
        on_connected: OnConnected | None = None,
        on_problems: OnProblems | None = None,
    ) -> None:
        """Connect every cloud, each tried again with backoff until it connects, and
        poll (and probe) every region of those that did, until cancelled."""

        def connected(connection: Connection, attempt: CloudAttempt) -> None:
            if self.poller is not None:
                self.poller.add(attempt.sessions)
            if self.probes is not None:
                self.probes.add(s.ref for s in attempt.sessions)
            if on_connected is None:
                self.take_connection(connection)
            else:
                on_connected(connection, attempt)

        def problems(found: list[CloudProblem]) -> None:
            if on_problems is None:
                self.take_problems()
            else:
                on_problems(found)

        # One clock for the data's times, the clients' back-offs and the screen's now.
        arrived = self.state.apply if on_snapshot is None else on_snapshot
        poller = Poller((), self.settings, on_snapshot=arrived, clock=self.clock)
        probes = ProbeRunner(self.settings.probes, (), mysql_sources=self.mysql_sources)
        connector = Reconnector(
            self.settings,
            on_connected=connected,
            on_problems=problems,
            clock=self.clock,
            **self.connect_kwargs,
        )
        self.poller, self.probes, self.connector = poller, probes, connector
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(poller.run(), name="poll")
                group.create_task(probes.run(), name="probe")
                group.create_task(connector.run(), name="connect")
        finally:
            await connector.aclose()

    def refresh_now(self) -> None:
        """Poll every region now, and try at once every cloud not connected yet."""
        if self.connector is not None:
            self.connector.retry_now()
        if self.poller is not None:
            self.poller.refresh()

    def take_connection(self, connection: Connection) -> None:
        """A cloud connected: its regions are expected and their tokens watched."""
        self.connection = connection
        self.take_problems()
        self.state.expect(r.ref for r in connection.regions)
        self.state.watch_auth({r.ref: r.auth for r in connection.regions})

    def take_problems(self) -> None:
        """`errors` from the clouds not connected (now) and the regions left out;
        `new_connect_errors` the ones not told before (each logged once)."""
        problems = list(self.connector.problems.values()) if self.connector else []
        left_out = list(self.connection.errors) if self.connection else []
        # They may quote Keystone or a proxy: text from outside, cleaned like API text.
        left_out = [clean_text(e) for e in left_out]
        self.errors = [clean_text(p.text()) for p in problems] + left_out
        stable = [clean_text(p.error) for p in problems] + left_out
        self.new_connect_errors = [e for e in stable if e not in self._told]
        for error in self.new_connect_errors:
            log.warning("not connected: %s", error)
        self._told = set(stable)

    def region_stats(self) -> dict[RegionRef, dict[str, ServiceStats]]:
        """Each region's per-service call statistics (latency, errors) so far."""
        if self.connection is None:
            return {}
        return {r.ref: r.client.stats for r in self.connection.regions}

    def plane_looks(self, snapshots: Iterable[Snapshot[Any]] = ()) -> list[PlaneLook]:
        """Each region's control-plane figures now, for the rules (health.plane)."""
        if self.connection is None:
            return []
        return plane_looks(self.connection.regions, self.clock(), snapshots, self.probes)

    def for_judging(self, looks: Callable[..., list[PlaneLook]] | None = None) -> LiveState:
        """The control plane's figures now, then a frozen copy of the state to judge in a
        worker thread (it takes the arrivals not judged yet)."""
        self.state.plane = (looks or self.plane_looks)(self.state.snapshots.values())
        return self.state.frozen()

    async def judge(self) -> Verdicts:
        """Judge what arrived since the last judgement (in a worker thread) and keep the
        verdicts: what a process without views (the collector) does on each arrival."""
        frozen = self.for_judging()
        verdicts = await asyncio.to_thread(frozen.judge)
        self.state.verdicts = verdicts
        return verdicts
