"""The dashboard: the region strip and four live panes across every region.

Tabs on small terminals (80x24 tmux panes), a 2x2 grid from 160x40 (the NOC
wall, a wide SSH window). The panes are the same widgets in both layouts, so a
resize never loses a cursor, a filter or a sort.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.css.query import NoMatches
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Static, Tab, Tabs

from osconsole.health.findings import Finding, Severity
from osconsole.health.incidents import Incident
from osconsole.health.plane import strip_words
from osconsole.live import PANE_TITLES, PANES
from osconsole.tui.drill import open_drill_down
from osconsole.tui.findings import FindingsBar
from osconsole.views import RegionStatus, TableView
from osconsole.widgets.pane import LivePane
from osconsole.widgets.region_strip import RegionStrip

if TYPE_CHECKING:
    from osconsole.live import LiveState

GRID_MIN_WIDTH = 160


def _when_drawn(method: Callable[..., None]) -> Callable[..., None]:
    """Skip drawing on a dashboard not composed yet or already going away (the app's
    timers and snapshots do not wait for the screen's life cycle)."""

    @functools.wraps(method)
    def drawn(self: DashboardScreen, *args: Any, **kwargs: Any) -> None:
        if not self._ready or not self.is_attached:
            return
        try:
            method(self, *args, **kwargs)
        except NoMatches:
            return

    return drawn


GRID_MIN_HEIGHT = 40
PANE_KEYS = {str(i + 1): pane for i, pane in enumerate(PANES)}


class DashboardScreen(Screen[None]):
    """Every region, four panes, live."""

    TITLE = "osconsole"
    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse sort", show=False),
        *(
            Binding(key, f"show_pane('{pane}')", PANE_TITLES[pane], show=False)
            for key, pane in PANE_KEYS.items()
        ),
        Binding("tab", "next_pane", "Next pane", show=False),
        Binding("g", "focus_regions", "Regions", show=False),
        Binding("exclamation_mark", "problems_only", "Problems only", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]
    DEFAULT_CSS = """
    DashboardScreen #progress { height: 1; padding: 0 1; background: $boost; }
    DashboardScreen #progress.-done { display: none; }
    DashboardScreen #progress.-errors { height: auto; max-height: 6; }
    DashboardScreen #filter { dock: bottom; height: 3; display: none; }
    DashboardScreen #filter.-shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.current = "hypervisors"
        self._ready = False  # composed and mounted: the show_* methods may draw
        self._connect_errors: list[str] = []
        self._filter_target: LivePane | None = None  # the pane the filter box types into
        self.region_filter: str | None = None  # the region every pane shows (:region), None: all

    def compose(self) -> ComposeResult:
        yield RegionStrip(id="regions")
        yield FindingsBar(" Findings: waiting for the first poll", id="findings-bar")
        yield Static("Connecting to the clouds (authenticating)...", id="progress", markup=False)
        with Container(id="panes", classes="tabs"):
            yield Tabs(
                *(
                    Tab(f"{key} {PANE_TITLES[pane]}", id=f"tab-{pane}")
                    for key, pane in PANE_KEYS.items()
                ),
                id="pane-tabs",
            )
            for pane in PANES:
                yield LivePane(PANE_TITLES[pane], id=f"pane-{pane}")
        yield Input(placeholder="filter rows (Enter to apply, Esc to clear)", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self._layout(self.size.width, self.size.height)
        self.pane(self.current).add_class("-active")
        self.pane(self.current).focus()
        self._ready = True

    def on_unmount(self) -> None:
        self._ready = False

    # -- layout ---------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width, event.size.height)

    def _layout(self, width: int, height: int) -> None:
        grid = width >= GRID_MIN_WIDTH and height >= GRID_MIN_HEIGHT
        panes = self.query_one("#panes", Container)
        looked_at = self.focused_pane() if panes.has_class("grid") and not grid else None
        panes.set_class(grid, "grid")
        panes.set_class(not grid, "tabs")
        if looked_at is not None and looked_at.id != f"pane-{self.current}":
            self.action_show_pane((looked_at.id or "").removeprefix("pane-"))  # shown, not hidden

    def pane(self, name: str) -> LivePane:
        return self.query_one(f"#pane-{name}", LivePane)

    @property
    def grid(self) -> bool:
        return self.query_one("#panes", Container).has_class("grid")

    def focused_pane(self) -> LivePane:
        """The pane the operator is looking at: the current tab in the tabs layout (the
        others are hidden, so never them), the focused one in the grid."""
        if not self.grid:
            return self.pane(self.current)
        focused = self.focused
        while focused is not None:
            if isinstance(focused, LivePane):
                return focused
            focused = focused.parent  # type: ignore[assignment]
        return self.pane(self.current)

    @on(Tabs.TabActivated, "#pane-tabs")
    def _tab(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-hypervisors").removeprefix("tab-")
        self._activate(name)

    def _activate(self, name: str) -> None:
        self.current = name
        for pane in PANES:
            self.pane(pane).set_class(pane == name, "-active")
        self._close_filter_box()  # it belonged to the pane that was shown
        self.pane(name).focus()

    def action_show_pane(self, name: str) -> None:
        self.query_one("#pane-tabs", Tabs).active = f"tab-{name}"
        self._activate(name)

    def action_next_pane(self) -> None:
        names = list(PANES)
        current = self.focused_pane().id or f"pane-{self.current}"
        following = names[(names.index(current.removeprefix("pane-")) + 1) % len(names)]
        self.action_show_pane(following)

    @on(LivePane.Selected)
    def _drill_down(self, event: LivePane.Selected) -> None:
        event.stop()
        open_drill_down(self.app, event.target)

    def action_focus_regions(self) -> None:
        self.query_one("#regions", RegionStrip).focus()

    @on(RegionStrip.Selected)
    def _open_region(self, event: RegionStrip.Selected) -> None:
        event.stop()
        self.app.open_region(event.ref)  # type: ignore[attr-defined]

    # -- filter and sort ---------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        self._filter_target = self.focused_pane()
        with box.prevent(Input.Changed):
            box.value = self._filter_target.filter_text
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        if self._filter_target is not None:
            self._filter_target.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self._close_filter_box()
        self.focused_pane().focus()

    def action_clear_filter(self) -> None:
        """Esc: clear the filter being typed, else the filter of the pane on screen."""
        target = self._filter_target or self.focused_pane()
        self._close_filter_box()
        target.set_filter("")
        self.focused_pane().focus()

    def _close_filter_box(self) -> None:
        box = self.query_one("#filter", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        box.remove_class("-shown")
        self._filter_target = None

    def _sort_columns(self, pane: LivePane) -> list[str]:
        view = pane.view
        return [c.key for c in view.columns] if view else []

    def action_sort_next(self) -> None:
        """Cycle the sort column of the pane: worst first, then each column in turn."""
        pane = self.focused_pane()
        columns = self._sort_columns(pane)
        if not columns:
            return
        current = pane.sort_column
        following = columns[0] if current is None else None
        if current is not None:
            index = columns.index(current[0])
            if index + 1 < len(columns):
                following = columns[index + 1]
        while pane.sort_column is not None:
            pane.sort_by(pane.sort_column[0])  # cycles back to worst first
        if following is not None:
            pane.sort_by(following)

    def action_sort_reverse(self) -> None:
        pane = self.focused_pane()
        if pane.sort_column is not None:
            pane.sort_by(pane.sort_column[0])

    def action_problems_only(self, everywhere: bool = False) -> None:
        """`!`: the pane on screen shows only rows that need a look (again: every row);
        `:problems` does it for every pane."""
        on = not self.focused_pane().problems_only
        for pane in [self.pane(p) for p in PANES] if everywhere else [self.focused_pane()]:
            pane.set_problems_only(on)

    def show_region(self, region: str | None) -> None:
        """Every pane shows one region's rows (None: every region's)."""
        self.region_filter = region
        for name in PANES:
            self.pane(name).set_region(region)

    # -- data -----------------------------------------------------------------------------

    @_when_drawn
    def show_view(self, name: str, view: TableView) -> None:
        self.pane(name).show(view)
        tab = self.query_one(f"#tab-{name}", Tab)
        label = _tab_label(name, view)
        if tab.label_text != label:  # a new label is a layout pass: only when it changed
            tab.label = label

    @_when_drawn
    def show_regions(self, statuses: list[RegionStatus], state: LiveState) -> None:
        self.query_one("#regions", RegionStrip).show(statuses)
        arrived, expected = state.first_poll_progress
        progress = self.query_one("#progress", Static)
        if self._connect_errors:  # what is not connected stays said until it is
            self._show_connect_errors()
            return
        if expected and arrived >= expected:
            progress.add_class("-done")
        elif expected:
            progress.update(f"First poll: {arrived} of {expected} region/kind polls done...")

    @_when_drawn
    def show_ages(self, state: LiveState, now: float) -> None:
        for name, kinds in PANES.items():
            ages = [s.age(now) for kind in kinds for s in state.of_kind(kind)]
            self.pane(name).set_age(max(ages) if ages else None, now)

    @_when_drawn
    def show_findings(
        self, findings: Sequence[Finding], incidents: Sequence[Incident] = ()
    ) -> None:
        self.query_one("#findings-bar", FindingsBar).show(findings, incidents)
        self.query_one("#regions", RegionStrip).set_words(strip_words(findings))

    @_when_drawn
    def show_mode(self, mode: str) -> None:
        """RO (no change can be made) or GET-ONLY (the credential itself only reads)."""
        self.query_one("#findings-bar", FindingsBar).set_mode(mode)

    @_when_drawn
    def show_paused(self, paused: bool) -> None:
        for name in PANES:
            self.pane(name).paused = paused
        self.query_one("#regions", RegionStrip).set_paused(paused)

    def show_errors(self, errors: list[str]) -> None:
        """What is not connected, why, and when it is tried next (until it connects)."""
        self._connect_errors = list(errors)
        self._show_connect_errors()

    @_when_drawn
    def _show_connect_errors(self) -> None:
        progress = self.query_one("#progress", Static)
        progress.set_class(bool(self._connect_errors), "-errors")
        if self._connect_errors:
            progress.remove_class("-done")
            progress.update(Text("Not connected: " + " | ".join(self._connect_errors)))
        else:
            progress.update("")


def _tab_label(name: str, view: TableView) -> str:
    key = next(k for k, p in PANE_KEYS.items() if p == name)
    bad = sum(n for severity, n in view.counts.items() if severity >= Severity.WARNING)
    mark = f" ({bad}!)" if bad else ""
    return f"{key} {PANE_TITLES[name]}{mark}"
