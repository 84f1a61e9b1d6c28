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
import time
from collections.abc import Callable

import httpx
from openstack.config import OpenStackConfig
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen

from osconsole.acks import AckFile, Acknowledgement, acks_path
from osconsole.cloud.connect import Connection
from osconsole.config import Settings
from osconsole.events import Timeline
from osconsole.health.assess import Verdicts
from osconsole.health.findings import Finding, Tracker, plural
from osconsole.health.incidents import Incident, paging, raised
from osconsole.live import PANES
from osconsole.model import RegionRef
from osconsole.themes import console_css
from osconsole.tui.actions import ActionCommands
from osconsole.tui.dashboard import DashboardScreen
from osconsole.tui.findings import FindingsScreen, TimelineScreen
from osconsole.tui.keys import CURSOR_BINDINGS, CursorKeys
from osconsole.tui.messages import VerdictsChanged
from osconsole.tui.palette import ConsoleCommands
from osconsole.tui.polling import PollingApp, Repaint
from osconsole.views import region_labels

log = logging.getLogger(__name__)


def operator_name() -> str:
    """Who acknowledges: the local user name (the audit log has the Keystone user)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


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
        Binding("y", "copy('id')", "Copy id", show=False),
        Binding("Y", "copy('name')", "Copy name", show=False),
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
        self.sub_title = subtitle
        self._notified: set[str] = set()  # critical incidents already paged for
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
        self.state.tracker.restore(self.ack_file.load())

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

    # -- repaint (scheduled by PollingApp) ---------------------------------------------

    @property
    def dashboard(self) -> DashboardScreen:
        return next(s for s in self.screen_stack if isinstance(s, DashboardScreen))

    @property
    def showing(self) -> bool:
        return any(isinstance(s, DashboardScreen) for s in self.screen_stack)

    def show(self, repaint: Repaint) -> None:
        dashboard = self.dashboard
        for pane, view in repaint.views.items():
            dashboard.show_view(pane, view)
        self._show_findings(repaint.verdicts)
        dashboard.show_regions(self.state.statuses(self.region_stats(), repaint.now), self.state)

    def _page(self, new: list[Incident]) -> None:
        """One toast for what was raised (per incident, never per finding), replacing
        any toast still shown: at 80x24 a second one would cover the panes. Never over
        a dialog (a confirmation must stay readable): the findings bar says it too."""
        if self.settings.bell:
            self.bell()
        if isinstance(self.screen, ModalScreen):
            return
        first = new[0]
        more = f" (+{plural(len(new) - 1, 'other new incident')})" if len(new) > 1 else ""
        title = f"New critical incident in {first.ref.region}"
        self.clear_notifications()
        self.notify(first.title + more, title=title, severity="error", timeout=15, markup=False)

    @property
    def tracker(self) -> Tracker:
        return self.state.tracker

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.state.findings

    @property
    def incidents(self) -> tuple[Incident, ...]:
        return self.state.verdicts.incidents

    @property
    def timeline(self) -> Timeline:
        return self.state.timeline

    def _show_findings(self, update: Verdicts) -> None:
        self.dashboard.show_findings(update.findings, update.incidents)
        new = raised(self._notified, update.incidents)
        self._notified = paging(update.incidents)
        if new:
            self._page(new)
        self.screen.post_message(VerdictsChanged())

    def acknowledge(self, key: str, *, note: str = "", for_s: float | None = None) -> bool:
        """Acknowledge a finding (listed apart and quiet until it changes or `for_s`
        passes), as this user, now; kept across restarts."""
        ack = self.state.acknowledge(
            key, by=operator_name(), at=self.clock(), note=note, for_s=for_s
        )
        self._acks_changed()
        return ack is not None

    def unacknowledge(self, key: str) -> None:
        self.state.unacknowledge(key)
        self._acks_changed()

    def _acks_changed(self) -> None:
        """Every surface says so: the findings bar now, the panes' words on the repaint
        (the judge runs again), and the file keeps it."""
        self.dashboard.show_findings(self.findings, self.incidents)
        self.screen.post_message(VerdictsChanged())
        self.repaint(set(PANES))
        self.save_acks(self.state.tracker.acknowledgements())

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

    def action_copy(self, what: str) -> None:
        """`y` / `Y`: the selected row's id / name to the clipboard (OSC 52)."""
        from osconsole.tui.copying import copy

        copy(self, what)

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
