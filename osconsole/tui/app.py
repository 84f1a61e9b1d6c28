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
import getpass
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import httpx
from openstack.config import OpenStackConfig
from textual import work
from textual.app import App
from textual.binding import Binding

from osconsole.acks import AckFile, Acknowledgement, acks_path
from osconsole.cloud.connect import Connection
from osconsole.config import Settings
from osconsole.events import Timeline
from osconsole.health.findings import Finding, Tracker, Update
from osconsole.health.rules import evaluate
from osconsole.live import PANES, LiveState
from osconsole.model import RegionRef, Snapshot
from osconsole.themes import console_css
from osconsole.tui.actions import ActionCommands
from osconsole.tui.dashboard import DashboardScreen
from osconsole.tui.findings import FindingsScreen, TimelineScreen, raised_critical
from osconsole.tui.keys import CURSOR_BINDINGS, CursorKeys
from osconsole.tui.messages import (
    ViewsApplied,
)
from osconsole.tui.palette import ConsoleCommands
from osconsole.tui.polling import PollingApp
from osconsole.views import region_labels

log = logging.getLogger(__name__)


def operator_name() -> str:
    """Who acknowledges: the local user name (the audit log has the Keystone user)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


REPAINT_DELAY = 0.2  # seconds between repaints: coalesce snapshots that arrive together


class ConsoleApp(CursorKeys, PollingApp):
    """osconsole: every region's hypervisors, routers, tenants and liveness, live."""

    TITLE = "osconsole"
    CSS = console_css()
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ActionCommands, ConsoleCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("r", "refresh", "Refresh now"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("question_mark", "help", "Keys"),
        Binding("f", "findings", "Findings"),
        Binding("e", "events", "Events"),
        Binding("colon", "command_line", "Command (:)", show=False),
        *CURSOR_BINDINGS,
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
        super().__init__(
            settings,
            os_cloud=os_cloud,
            region=region,
            openstack_config=openstack_config,
            transport=transport,
            clock=clock,
            poll=poll,
        )
        self.paused = False
        self._dirty: set[str] = set()
        self._repaint_scheduled = False
        self._repainting = False  # building views in the thread, or applying them
        self._last_repaint = -math.inf  # time.monotonic() when the last repaint began
        self.sub_title = subtitle
        self.tracker = Tracker(settings.thresholds)
        self.timeline = Timeline(settings.thresholds)
        self.findings: tuple[Finding, ...] = ()
        self._observed: dict[Any, Snapshot[Any]] = {}
        self.demo = False  # watching the demo cloud: its acknowledgements and audit apart
        self.command_history: list[str] = []  # `:` commands of this session, oldest first
        self.ack_file = AckFile(acks_path())

    # -- lifecycle (connecting and polling: PollingApp) -------------------------------

    def start_views(self) -> None:
        self.push_screen(DashboardScreen())
        self.set_interval(1.0, self._tick)
        self.load_acks()

    def load_acks(self) -> None:
        """The acknowledgements of the last run (a small local file, read before the first
        poll is judged): they apply when their findings are seen again unchanged."""
        if self.demo:
            self.ack_file = AckFile(acks_path(demo=True))
        self.tracker.restore(self.ack_file.load())

    def connected(self, connection: Connection) -> None:
        for error in self.new_connect_errors:
            self.notify(error, title="Not connected", severity="warning", timeout=15, markup=False)
        self.dashboard.show_errors(self.errors)
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

    def not_connected(self, errors: list[str]) -> None:
        self.dashboard.show_errors(errors)
        for error in self.new_connect_errors:
            self.notify(error, title="Cannot connect", severity="error", timeout=30, markup=False)

    def snapshot_arrived(self, snapshot: Snapshot[Any]) -> None:
        self.repaint(self.state.apply(snapshot))

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
        if not any(isinstance(s, DashboardScreen) for s in self.screen_stack):
            return  # the App exited while the views were built: nothing to draw on
        dashboard = self.dashboard
        for pane, view in views.items():
            dashboard.show_view(pane, view)
        self._show_findings(update)
        dashboard.show_regions(self.state.statuses(self.region_stats(), now), self.state)
        self.freeze_heap_once()
        self.post_message(ViewsApplied(frozenset(views)))

    def _assess(self, frozen: LiveState) -> Update:
        """Events from the snapshots not seen yet, then findings from all of them (pure
        work, in the repaint's thread; repaints never overlap, so neither does this)."""
        for key, snapshot in frozen.snapshots.items():
            if self._observed.get(key) is not snapshot:
                self._observed[key] = snapshot
                self.timeline.observe(snapshot)
        snapshots = frozen.snapshots.values()
        return evaluate(snapshots, self.tracker, self.plane_looks(snapshots))

    def _show_findings(self, update: Update) -> None:
        self.findings = self.state.findings = update.findings
        self.dashboard.show_findings(update.findings)
        for finding in raised_critical(update.raised):
            self.notify(
                finding.reason,
                title="New critical finding",
                severity="error",
                timeout=15,
                markup=False,  # the reason holds names any tenant can set
            )
            if self.settings.bell:
                self.bell()
        if isinstance(self.screen, FindingsScreen):
            self.screen.refresh_rows()
        elif isinstance(self.screen, TimelineScreen):
            self.screen.show(self.timeline.events)

    def acknowledge(self, key: str, *, note: str = "", for_s: float | None = None) -> bool:
        """Acknowledge a finding (listed apart and quiet until it changes or `for_s`
        passes), as this user, now; kept across restarts."""
        ack = self.tracker.acknowledge(
            key, by=operator_name(), at=self.clock(), note=note, for_s=for_s
        )
        self._acks_changed()
        return ack is not None

    def unacknowledge(self, key: str) -> None:
        self.tracker.unacknowledge(key)
        self._acks_changed()

    def _acks_changed(self) -> None:
        self.findings = self.state.findings = self.tracker.findings()
        self.dashboard.show_findings(self.findings)
        self.save_acks(self.tracker.acknowledgements())

    @work(group="acks", exclusive=True, exit_on_error=False)
    async def save_acks(self, acks: tuple[Acknowledgement, ...]) -> None:
        try:
            await asyncio.to_thread(self.ack_file.save, acks)
        except OSError as exc:
            self.notify(f"{self.ack_file.path}: {exc}", title="Acknowledgements not kept")

    def open_region(self, region: RegionRef | str) -> bool:
        """Open a region's control-plane drill-down (a RegionRef, or its name as the
        strip shows it: "RegionOne", "cloud/RegionOne"); False when none has that name."""
        from osconsole.tui.region import find_region, open_region

        refs = list(self.state.regions)
        ref = find_region(refs, region)
        if ref is None:
            self.notify(f"No region {region}", severity="warning", timeout=5, markup=False)
            return False
        open_region(self, ref, region_labels(refs)[ref])
        return True

    def action_findings(self) -> None:
        self.push_screen(FindingsScreen())

    def action_events(self) -> None:
        self.push_screen(TimelineScreen())

    def action_command_line(self) -> None:
        """`:` as in k9s: `:routers`, `:region NAME|all`, `:host NAME`, `:find TEXT`..."""
        from osconsole.tui import command_line

        prompt = command_line.CommandPrompt(
            self.command_history, command_line.CommandSuggester(self)
        )
        self.push_screen(prompt, lambda text: command_line.run(self, text))

    def _tick(self) -> None:
        """Every second: ages move, so the strip and pane headers are redrawn (paused
        too: pausing stops polling, not time; the data only gets older)."""
        now = self.clock()
        self.dashboard.show_regions(self.state.statuses(self.region_stats(), now), self.state)
        self.dashboard.show_ages(self.state, now)

    # -- actions ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.refresh_now()
        if self.connector is not None and self.connector.problems:
            self.notify("Polling every region, and connecting again, now", timeout=2)
        elif self.poller is not None:
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
