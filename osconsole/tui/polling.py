"""The polling core of every live viewer (the console, the wall): connect (each cloud
tried again until it connects), poll in a worker, keep the latest snapshots, exit
cleanly when the terminal goes away."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx
from openstack.config import OpenStackConfig
from textual import on, work
from textual.app import App

from osconsole.clean import clean_text
from osconsole.cloud.connect import CloudAttempt, Connection
from osconsole.cloud.http import ServiceStats
from osconsole.cloud.reconnect import CloudProblem, Reconnector
from osconsole.config import Settings
from osconsole.live import LiveState
from osconsole.model import RegionRef, Snapshot
from osconsole.poller import Poller
from osconsole.themes import register_themes, theme_name
from osconsole.tui.messages import ConnectionFailed, ConnectionReady, SnapshotArrived

log = logging.getLogger(__name__)

TERMINAL_CHECK = 5.0  # seconds between checks that our terminal still exists


class PollingApp(App[None]):
    """What every live viewer of the clouds needs, as the console runs it: settings and a
    LiveState, connecting (auth in threads) then polling in a worker that posts
    SnapshotArrived, an exit when the terminal goes away or on SIGHUP, and the heap
    frozen after the first complete poll.

    ConsoleApp and WallApp inherit it and keep only their screens, bindings and
    repaint: they implement `start_views` and the `connected`, `not_connected` and
    `snapshot_arrived` hooks. `errors` always says what is not connected, why, and
    when it is tried next; `new_connect_errors` what is new in it (for a toast).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        os_cloud: str | None = None,
        region: str | None = None,
        openstack_config: OpenStackConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        poll: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.state = LiveState(settings)
        self.clock = clock
        self._connect_kwargs: dict[str, Any] = {
            "os_cloud": os_cloud,
            "region": region,
            "openstack_config": openstack_config,
            "transport": transport,
        }
        self._poll = poll
        self.connection: Connection | None = None
        self.poller: Poller | None = None
        self.connector: Reconnector | None = None
        self.errors: list[str] = []
        self.new_connect_errors: list[str] = []
        self._told: set[str] = set()
        self.startup_notes: list[str] = []
        self._heap_frozen = False

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = theme_name(self.settings.theme)
        self.start_views()
        for note in self.startup_notes:
            self.notify(note, severity="warning", timeout=10, markup=False)
        if self._poll:
            self.start_polling()
        self.set_interval(TERMINAL_CHECK, self._check_terminal)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)

    def start_views(self) -> None:
        """Push the first screen and start the App's own timers."""

    @work(exclusive=True, group="poller", exit_on_error=False)
    async def start_polling(self) -> None:
        """Connect every cloud, each tried again with backoff until it connects, and
        poll every region of those that did, until we exit."""
        # One clock for the data's times, the clients' back-offs and the screen's now.
        poller = Poller((), self.settings, on_snapshot=self._arrived, clock=self.clock)
        connector = Reconnector(
            self.settings,
            on_connected=self._cloud_connected,
            on_problems=self._cloud_problems,
            clock=self.clock,
            **self._connect_kwargs,
        )
        self.poller, self.connector = poller, connector
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(poller.run(), name="poll")
                group.create_task(connector.run(), name="connect")
        finally:
            await connector.aclose()

    def refresh_now(self) -> None:
        """Poll every region now, and try at once every cloud not connected yet."""
        if self.connector is not None:
            self.connector.retry_now()
        if self.poller is not None:
            self.poller.refresh()

    def _arrived(self, snapshot: Snapshot[Any]) -> None:
        self.post_message(SnapshotArrived(snapshot))

    def _cloud_connected(self, connection: Connection, attempt: CloudAttempt) -> None:
        if self.poller is not None:
            self.poller.add(attempt.sessions)
        self.post_message(ConnectionReady(connection))

    def _cloud_problems(self, problems: list[CloudProblem]) -> None:
        self.post_message(ConnectionFailed([p.text() for p in problems]))

    def _update_errors(self) -> None:
        """`errors` from the clouds not connected (now) and the regions left out;
        `new_connect_errors` the ones not told before."""
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

    @on(ConnectionReady)
    def _connection_ready(self, message: ConnectionReady) -> None:
        self.connection = message.connection
        self._update_errors()
        self.state.expect(r.ref for r in message.connection.regions)
        self.connected(message.connection)

    @on(ConnectionFailed)
    def _connection_failed(self, message: ConnectionFailed) -> None:
        self._update_errors()
        if message.errors:
            self.not_connected(self.errors)

    @on(SnapshotArrived)
    def _snapshot_arrived(self, message: SnapshotArrived) -> None:
        self.snapshot_arrived(message.snapshot)

    def connected(self, connection: Connection) -> None:
        """A cloud connected: its regions have their clients (`self.connection`, which
        holds every region connected so far, and `self.errors` set)."""

    def not_connected(self, errors: list[str]) -> None:
        """Some cloud is not connected (yet): `errors` say why and when it is tried next."""

    def snapshot_arrived(self, snapshot: Snapshot[Any]) -> None:
        """A poll ended; the subclass keeps it (usually `self.state.apply`) and repaints."""

    def region_stats(self) -> dict[RegionRef, dict[str, ServiceStats]]:
        """Each region's per-service call statistics (latency, errors) so far."""
        if self.connection is None:
            return {}
        return {r.ref: r.client.stats for r in self.connection.regions}

    def freeze_heap_once(self) -> None:
        """After the first complete poll, move what exists to the GC's permanent
        generation: full collections over 100,000 long-lived objects stalled the loop
        for 100-300 ms. Later snapshots are still freed by reference counting."""
        arrived, expected = self.state.first_poll_progress
        if not self._heap_frozen and expected and arrived >= expected:
            gc.collect()
            gc.freeze()
            self._heap_frozen = True

    def _check_terminal(self) -> None:
        """Exit when our terminal has gone away (an SSH session dropped), not spin."""
        if os.environ.get("OSCONSOLE_NO_TTY_CHECK") or self.is_headless or self.is_web:
            return  # tests, and browsers (textual-serve), have no terminal to lose
        try:
            os.get_terminal_size(1)
        except OSError:
            log.info("the terminal went away; exiting")
            self.exit()
