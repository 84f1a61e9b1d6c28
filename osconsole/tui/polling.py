"""The polling core of every live viewer (the console, the wall): the pipeline
(osconsole.pipeline: connect, each cloud tried again until it connects; poll; probe;
the LiveState) run in a worker, judged and repainted, and a clean exit when the
terminal goes away. The headless collector runs the same pipeline.

Repaints: a snapshot marks the panes it changes dirty; the judge and the dirty
panes' views run in a thread (pure work on frozen snapshots), then the subclass
shows them (`show`). At once after a quiet spell, then at most every REPAINT_DELAY,
so that twenty regions reporting at once cost one repaint; never two at a time.
Polling goes on while paused or while a dialog is open; only repaints wait."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from openstack.config import OpenStackConfig
from textual import on, work
from textual.app import App
from textual.driver import Driver

from osconsole.cloud.connect import CloudAttempt, Connection
from osconsole.cloud.http import ServiceStats
from osconsole.cloud.reconnect import CloudProblem
from osconsole.config import Settings
from osconsole.health.assess import Verdicts
from osconsole.health.plane import PlaneLook
from osconsole.live import LiveState
from osconsole.model import RegionRef, Snapshot
from osconsole.pipeline import Pipeline
from osconsole.themes import register_themes, theme_name
from osconsole.tui.messages import (
    ConnectionFailed,
    ConnectionReady,
    SnapshotArrived,
    ViewsApplied,
)
from osconsole.views import TableView

log = logging.getLogger(__name__)

TERMINAL_CHECK = 5.0  # seconds between checks that our terminal still exists
REPAINT_DELAY = 0.2  # seconds between repaints: coalesce snapshots that arrive together


def _piped(name: str) -> property:
    """An attribute of the App that is its pipeline's (read and set through it)."""

    def get(app: PollingApp) -> Any:
        return getattr(app.pipeline, name)

    def set_(app: PollingApp, value: Any) -> None:
        setattr(app.pipeline, name, value)

    return property(get, set_, doc=f"The pipeline's `{name}`.")


@dataclass(frozen=True, slots=True)
class Repaint:
    """What one repaint shows: the verdicts, the dirty panes' views, the time they were
    built for, and whether new snapshots were judged (new findings, events)."""

    verdicts: Verdicts
    views: dict[str, TableView]
    now: float
    judged_new: bool


def judge_and_build(frozen: LiveState, dirty: set[str], now: float) -> Repaint:
    """The one judge, then the dirty panes' views (in a worker thread)."""
    judged_new = frozen.pending_arrivals > 0
    verdicts = frozen.judge()
    return Repaint(verdicts, frozen.views(dirty, now), now, judged_new)


class PollingApp(App[None]):
    """What every live viewer of the clouds needs, as the console runs it: settings and a
    LiveState, connecting (auth in threads) then polling in a worker that posts
    SnapshotArrived, an exit when the terminal goes away or on SIGHUP, and the heap
    frozen after the first complete poll.

    ConsoleApp and WallApp inherit it and keep only their screens and bindings: they
    implement `start_views`, `showing` and `show` (a repaint's results), and the
    `connected` and `not_connected` hooks. `errors` always says what is not connected, why, and
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
        self.clock = clock
        self.pipeline = Pipeline(
            settings,
            os_cloud=os_cloud,
            region=region,
            openstack_config=openstack_config,
            transport=transport,
            clock=clock,
        )
        self._poll = poll
        self.startup_notes: list[str] = []
        self._heap_frozen = False
        self.paused = False  # repaints wait (polling goes on)
        self.repaints = 0
        self._dirty: set[str] = set()
        self._repaint_scheduled = False
        self._repainting = False  # judging and building in the thread, or showing
        self._last_repaint = -math.inf  # time.monotonic() when the last repaint began

    # The pipeline's parts, as the screens and tests have always reached them.
    state = _piped("state")
    connection = _piped("connection")
    poller = _piped("poller")
    connector = _piped("connector")
    probes = _piped("probes")
    mysql_sources = _piped("mysql_sources")
    errors = _piped("errors")
    new_connect_errors = _piped("new_connect_errors")

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
        """Connect every cloud, each tried again with backoff until it connects, and
        poll (and probe) every region of those that did, until we exit."""
        await self.pipeline.run(
            on_snapshot=self._arrived,
            on_connected=self._cloud_connected,
            on_problems=self._cloud_problems,
        )

    def refresh_now(self) -> None:
        """Poll every region now, and try at once every cloud not connected yet."""
        self.pipeline.refresh_now()

    def _arrived(self, snapshot: Snapshot[Any]) -> None:
        self.post_message(SnapshotArrived(snapshot))

    def _cloud_connected(self, connection: Connection, attempt: CloudAttempt) -> None:
        self.post_message(ConnectionReady(connection))

    def _cloud_problems(self, problems: list[CloudProblem]) -> None:
        self.post_message(ConnectionFailed([p.text() for p in problems]))

    @on(ConnectionReady)
    def _connection_ready(self, message: ConnectionReady) -> None:
        self.pipeline.take_connection(message.connection)
        self.connected(message.connection)

    @on(ConnectionFailed)
    def _connection_failed(self, message: ConnectionFailed) -> None:
        self.pipeline.take_problems()
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
        """A poll ended: keep it, and repaint the panes it changes."""
        self.repaint(self.state.apply(snapshot))

    # -- repaint --------------------------------------------------------------------------

    @property
    def showing(self) -> bool:
        """The screen that shows repaints is up (not yet, or no more while exiting)."""
        return False

    def before_judging(self) -> None:
        """Anything to take in before the judge runs (on the event loop)."""

    def show(self, repaint: Repaint) -> None:
        """Show what a repaint judged and built (on the event loop: changed cells only)."""

    def repaint(self, panes: set[str]) -> None:
        """Refresh `panes` soon: at once after a quiet spell (once the messages already
        queued are handled, so a burst is one repaint), else REPAINT_DELAY after the
        previous repaint began; never two at a time."""
        self._dirty |= panes
        if self._repaint_scheduled or self._repainting:
            return  # the running repaint schedules the next one when it ends
        self._repaint_scheduled = True
        wait = self._last_repaint + REPAINT_DELAY - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._repaint_now)
        else:
            self.call_later(self._repaint_now)

    def _due(self) -> bool:
        return bool(self._dirty or self.state.pending_arrivals)

    async def _repaint_now(self) -> None:
        self._repaint_scheduled = False
        if self.paused or not self._due() or self._repainting:
            return
        self._repainting = True
        self._last_repaint = time.monotonic()
        try:
            await self._judge_and_show()
        finally:
            self._repainting = False
        if self._due() and not self.paused:
            self.repaint(set())

    async def repaint_now(self) -> None:
        """Repaint at once, after the repaint under way if there is one (tests, and
        viewers that must show a state before going on)."""
        while self._repainting:
            await asyncio.sleep(0)
        if not self._due():
            return
        self._repainting = True
        self._last_repaint = time.monotonic()
        try:
            await self._judge_and_show()
        finally:
            self._repainting = False

    async def _judge_and_show(self) -> None:
        dirty, self._dirty = self._dirty, set()
        self.before_judging()
        frozen = self.pipeline.for_judging(self.plane_looks)
        repaint = await asyncio.to_thread(judge_and_build, frozen, dirty, self.clock())
        self.state.verdicts = repaint.verdicts
        if not self.showing:
            return  # exiting meanwhile: nothing to draw on
        self.show(repaint)
        self.freeze_heap_once()
        self.repaints += 1
        self.post_message(ViewsApplied(frozenset(repaint.views)))

    def region_stats(self) -> dict[RegionRef, dict[str, ServiceStats]]:
        """Each region's per-service call statistics (latency, errors) so far."""
        return self.pipeline.region_stats()

    def plane_looks(self, snapshots: Iterable[Snapshot[Any]] = ()) -> list[PlaneLook]:
        """Each region's control-plane figures now, for the rules (health.plane)."""
        return self.pipeline.plane_looks(snapshots)

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
