"""The polling core of every live viewer (the console, the wall): connect, poll in a
worker, keep the latest snapshots, exit cleanly when the terminal goes away."""

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
from textual.driver import Driver

from osconsole.cloud.connect import Connection, connect
from osconsole.cloud.http import ServiceStats
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
    `snapshot_arrived` hooks.
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
        self.errors: list[str] = []
        self.startup_notes: list[str] = []
        self._heap_frozen = False

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = theme_name(self.settings.theme)
        self.start_views()
        for note in self.startup_notes:
            self.notify(note, severity="warning", timeout=10)
        if self._poll:
            self.start_polling()
        self.set_interval(TERMINAL_CHECK, self._check_terminal)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)

    def get_driver_class(self) -> type[Driver]:
        """Textual's terminal driver, made to exit rather than stall when the terminal
        goes (see osconsole.tui.terminal); other drivers (tests, browsers) as they are."""
        driver = super().get_driver_class()
        try:
            from osconsole.tui.terminal import HangupSafeDriver, LinuxDriver
        except ImportError:  # no termios: not a POSIX terminal
            return driver
        return HangupSafeDriver if driver is LinuxDriver else driver

    def start_views(self) -> None:
        """Push the first screen and start the App's own timers."""

    @work(exclusive=True, group="poller", exit_on_error=False)
    async def start_polling(self) -> None:
        """Connect (auth in threads), then poll every region and kind until we exit."""
        connection = await connect(self.settings, **self._connect_kwargs)
        if not connection.regions:
            self.post_message(ConnectionFailed(connection.errors or ["no region to poll"]))
            return
        self.post_message(ConnectionReady(connection))
        poller = Poller(connection.regions, self.settings, on_snapshot=self._arrived)
        self.poller = poller
        try:
            await poller.run()
        finally:
            await connection.aclose()

    def _arrived(self, snapshot: Snapshot[Any]) -> None:
        self.post_message(SnapshotArrived(snapshot))

    @on(ConnectionReady)
    def _connection_ready(self, message: ConnectionReady) -> None:
        self.connection = message.connection
        self.errors = list(message.connection.errors)
        self.state.expect(r.ref for r in message.connection.regions)
        self.state.watch_auth({r.ref: r.auth for r in message.connection.regions})
        self.connected(message.connection)

    @on(ConnectionFailed)
    def _connection_failed(self, message: ConnectionFailed) -> None:
        self.errors = list(message.errors)
        for error in message.errors:
            log.warning("connection failed: %s", error)
        self.not_connected(self.errors)

    @on(SnapshotArrived)
    def _snapshot_arrived(self, message: SnapshotArrived) -> None:
        self.snapshot_arrived(message.snapshot)

    def connected(self, connection: Connection) -> None:
        """Every reachable region has its client (`self.connection`, `self.errors` set)."""

    def not_connected(self, errors: list[str]) -> None:
        """No region could be reached."""

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
