"""The console App: owns the live state, runs the poller, applies snapshot messages.

Polling runs as an asyncio worker in the App's loop (the collectors are async and
keystoneauth already runs in threads); it never touches widgets. It posts
SnapshotArrived; the App keeps the snapshot and refreshes the panes it affects:
at once after a quiet spell, then at most every REPAINT_DELAY, so that twenty
regions reporting at once cost one repaint. Polling goes on while a drill-down
screen or a modal is open; only repaints wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import math
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import httpx
from openstack.config import OpenStackConfig
from textual import on, work
from textual.app import App
from textual.binding import Binding

from osconsole.cloud.connect import Connection, connect
from osconsole.config import Settings
from osconsole.events import Timeline
from osconsole.health.findings import Finding, Tracker, Update
from osconsole.health.rules import evaluate
from osconsole.live import PANES, LiveState
from osconsole.model import Snapshot
from osconsole.poller import Poller
from osconsole.themes import console_css, register_themes, theme_name
from osconsole.tui.actions import ActionCommands
from osconsole.tui.dashboard import DashboardScreen
from osconsole.tui.findings import FindingsScreen, TimelineScreen, raised_critical
from osconsole.tui.messages import (
    ConnectionFailed,
    ConnectionReady,
    SnapshotArrived,
    ViewsApplied,
)

log = logging.getLogger(__name__)

REPAINT_DELAY = 0.2  # seconds between repaints: coalesce snapshots that arrive together
TERMINAL_CHECK = 5.0  # seconds between checks that our terminal still exists


class ConsoleApp(App[None]):
    """osconsole: every region's hypervisors, routers, tenants and liveness, live."""

    TITLE = "osconsole"
    CSS = console_css()
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("r", "refresh", "Refresh now"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("question_mark", "help", "Keys"),
        Binding("f", "findings", "Findings"),
        Binding("e", "events", "Events"),
    ]

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
        subtitle: str = "",
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
        self.paused = False
        self.errors: list[str] = []
        self._dirty: set[str] = set()
        self._repaint_scheduled = False
        self._repainting = False  # building views in the thread, or applying them
        self._last_repaint = -math.inf  # time.monotonic() when the last repaint began
        self.sub_title = subtitle
        self.startup_notes: list[str] = []
        self.tracker = Tracker(settings.thresholds)
        self.timeline = Timeline(settings.thresholds)
        self.findings: tuple[Finding, ...] = ()
        self._observed: dict[Any, Snapshot[Any]] = {}
        self._heap_frozen = False

    # -- lifecycle ----------------------------------------------------------------------

    def on_mount(self) -> None:
        register_themes(self)
        self.theme = theme_name(self.settings.theme)
        self.push_screen(DashboardScreen())
        for note in self.startup_notes:
            self.notify(note, severity="warning", timeout=10)
        if self._poll:
            self.start_polling()
        self.set_interval(1.0, self._tick)
        self.set_interval(TERMINAL_CHECK, self._check_terminal)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)

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
    def _connected(self, message: ConnectionReady) -> None:
        self.connection = message.connection
        self.errors = list(message.connection.errors)
        self.state.expect(r.ref for r in message.connection.regions)
        for error in self.errors:
            self.notify(error, title="Not connected", severity="warning", timeout=15)
        self.repaint(set(PANES))
        self.show_mode()

    @work(group="mode", exit_on_error=False)
    async def show_mode(self) -> None:
        """Say in the header when nothing can be changed, and why."""
        if self.connection is None:
            return
        regions = self.connection.regions
        accesses = [await r.auth.access() for r in regions]
        if regions and all(a.get_only for a in accesses):
            mode = "GET-ONLY"
        elif self.settings.readonly or (regions and all(r.readonly for r in regions)):
            mode = "RO"
        else:
            mode = ""
        self.dashboard.show_mode(mode)

    @on(ConnectionFailed)
    def _failed(self, message: ConnectionFailed) -> None:
        self.errors = message.errors
        for error in message.errors:
            log.warning("connection failed: %s", error)
        self.dashboard.show_errors(message.errors)

    @on(SnapshotArrived)
    def _snapshot(self, message: SnapshotArrived) -> None:
        self.repaint(self.state.apply(message.snapshot))

    # -- repaint --------------------------------------------------------------------------

    @property
    def dashboard(self) -> DashboardScreen:
        return next(s for s in self.screen_stack if isinstance(s, DashboardScreen))

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

    async def _repaint_now(self) -> None:
        """Build the views in a thread (pure work on frozen snapshots: about the rows that
        changed, the rest is kept from the last poll), then apply them on the loop, where
        only changed cells are redrawn."""
        self._repaint_scheduled = False
        if self.paused or not self._dirty or self._repainting:
            return
        self._repainting = True
        self._last_repaint = time.monotonic()
        try:
            await self._build_and_show()
        finally:
            self._repainting = False
        if self._dirty and not self.paused:
            self.repaint(set())

    async def _build_and_show(self) -> None:
        """One repaint: the dirty panes' views built in a thread, then shown here."""
        dirty, self._dirty = self._dirty, set()
        now = self.clock()
        frozen = self.state.frozen()
        views = await asyncio.to_thread(frozen.views, dirty, now)
        update = await asyncio.to_thread(self._assess, frozen)
        dashboard = self.dashboard
        for pane, view in views.items():
            dashboard.show_view(pane, view)
        self._show_findings(update)
        dashboard.show_regions(self.state.statuses(self._stats(), now), self.state)
        self._freeze_heap_once()
        self.post_message(ViewsApplied(frozenset(views)))

    def _assess(self, frozen: LiveState) -> Update:
        """Events from the snapshots not seen yet, then findings from all of them (pure
        work, in the repaint's thread; repaints never overlap, so neither does this)."""
        for key, snapshot in frozen.snapshots.items():
            if self._observed.get(key) is not snapshot:
                self._observed[key] = snapshot
                self.timeline.observe(snapshot)
        return evaluate(frozen.snapshots.values(), self.tracker)

    def _show_findings(self, update: Update) -> None:
        self.findings = update.findings
        self.dashboard.show_findings(update.findings)
        for finding in raised_critical(update.raised):
            self.notify(finding.reason, title="New critical finding", severity="error", timeout=15)
            if self.settings.bell:
                self.bell()
        if isinstance(self.screen, FindingsScreen):
            self.screen.refresh_rows()
        elif isinstance(self.screen, TimelineScreen):
            self.screen.show(self.timeline.events)

    def acknowledge(self, key: str, quiet: bool = True) -> None:
        """Acknowledge a finding (it stays listed, quiet until it changes), or undo it."""
        if quiet:
            self.tracker.acknowledge(key)
        else:
            self.tracker.unacknowledge(key)
        self.findings = self.tracker.findings()
        self.dashboard.show_findings(self.findings)

    def action_findings(self) -> None:
        self.push_screen(FindingsScreen())

    def action_events(self) -> None:
        self.push_screen(TimelineScreen())

    def _freeze_heap_once(self) -> None:
        """After the first complete poll, move what exists to the GC's permanent
        generation: full collections over 100,000 long-lived objects stalled the loop
        for 100-300 ms. Later snapshots are still freed by reference counting."""
        arrived, expected = self.state.first_poll_progress
        if not self._heap_frozen and expected and arrived >= expected:
            gc.collect()
            gc.freeze()
            self._heap_frozen = True

    def _stats(self) -> dict:
        if self.connection is None:
            return {}
        return {r.ref: r.client.stats for r in self.connection.regions}

    def _tick(self) -> None:
        """Every second: ages move, so the strip and pane headers are redrawn."""
        if self.paused:
            return
        now = self.clock()
        self.dashboard.show_regions(self.state.statuses(self._stats(), now), self.state)
        self.dashboard.show_ages(self.state, now)

    def _check_terminal(self) -> None:
        """Exit when our terminal has gone away (an SSH session dropped), not spin."""
        if os.environ.get("OSCONSOLE_NO_TTY_CHECK") or self.is_headless:
            return
        try:
            os.get_terminal_size(1)
        except OSError:
            log.info("the terminal went away; exiting")
            self.exit()

    # -- actions ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.poller is not None:
            self.poller.refresh()
            self.notify("Polling every region now", timeout=2)

    def action_toggle_pause(self) -> None:
        """Pause repaints and polling (the data stays, marked with its age)."""
        self.paused = not self.paused
        if self.poller is not None:
            self.poller.paused = self.paused
        self.dashboard.show_paused(self.paused)
        if not self.paused:
            self.repaint(set(PANES))

    def action_help(self) -> None:
        from osconsole.tui.help import HelpScreen

        self.push_screen(HelpScreen(self.screen))
