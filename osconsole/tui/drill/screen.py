"""The drill-down screen: a breadcrumb, then the page's sections stacked in one
scrolling column (80x24 tmux panes included), each a title, a note and a table.

The snapshot sections show at once; each live loader runs in its own worker on the
loop (httpx is async) and posts SectionLoaded or SectionFailed, so a slow Nova
never holds back the Neutron sections and nothing blocks the loop. Workers belong
to the screen: Esc cancels what is still in flight. While the screen is open its
snapshot sections follow the poller every few seconds (ages move); live sections
stay as fetched until `r`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from osconsole.cloud.http import ApiFailure, RegionClient
from osconsole.tui.actions import act, action_target
from osconsole.tui.context import console_of
from osconsole.tui.drill.pages import build_page
from osconsole.tui.drill.sections import KIND_LABELS, Loader, Page, Section, failure_text
from osconsole.tui.drill.widgets import Breadcrumb, SectionView, app_now
from osconsole.views import Target, Tone

log = logging.getLogger(__name__)

REFRESH_S = 2.0  # snapshot sections follow the poller this often


class SectionLoaded(Message):
    """A live loader finished: its section replaces the snapshot one."""

    def __init__(self, section: Section, fetched_at: float) -> None:
        super().__init__()
        self.section = section
        self.fetched_at = fetched_at


class SectionFailed(Message):
    """A live loader failed; `error` is the API's message, fit to show."""

    def __init__(self, key: str, error: str) -> None:
        super().__init__()
        self.key = key
        self.error = error


class DrillScreen(Screen[None]):
    """One object's drill-down (see osconsole.tui.drill.pages for which objects)."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Reload", tooltip="Fetch the live sections again"),
        Binding("a", "act", "Actions", tooltip="Act on this object or the selected server"),
        Binding("tab", "app.focus_next", "Next section"),
        Binding("shift+tab", "app.focus_previous", "Previous section", show=False),
    ]
    DEFAULT_CSS = """
    DrillScreen { layout: vertical; }
    DrillScreen > Breadcrumb { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    DrillScreen > #sections { height: 1fr; overflow-x: hidden; }
    """

    def __init__(self, target: Target, trail: Sequence[str]) -> None:
        super().__init__()
        self.target = target
        self.trail = tuple(trail)
        self.page: Page | None = None
        self.views: dict[str, SectionView] = {}
        self._live: set[str] = set()

    @property
    def crumb(self) -> str:
        return self.page.crumb if self.page is not None else self.target.id

    def compose(self) -> ComposeResult:
        page = self._build()
        self.page = page
        self.title = page.title
        yield Breadcrumb((*self.trail, page.crumb), id="trail")
        with VerticalScroll(id="sections", can_focus=False):  # tab goes table to table
            for section in page.sections:
                view = SectionView(section)
                self.views[section.key] = view
                yield view
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._start(self.page.loaders if self.page else {})
        self.set_interval(REFRESH_S, self._follow_snapshots)
        self.call_after_refresh(self._focus_first)

    def _focus_first(self) -> None:
        for view in self.views.values():
            if view.section.lines:
                view.table.focus()
                return

    # -- data -----------------------------------------------------------------------------------

    def _now(self) -> float:
        return app_now(self.app)

    def _build(self) -> Page:
        """The page from the latest snapshots; a bug here shows as text, not a traceback."""
        try:
            return build_page(console_of(self.app).state, self.target, self._now())
        except Exception as exc:
            log.exception("drill-down page of %s failed", self.target)
            error = Section(
                "error", "Cannot show this", (), note=failure_text(exc), note_tone=Tone.CRITICAL
            )
            return Page(self.target.id, self.target.id, (error,))

    def _client(self) -> RegionClient | None:
        connection = console_of(self.app).connection
        for region in connection.regions if connection is not None else ():
            if region.ref == self.target.ref:
                return region.client
        return None

    def _start(self, loaders: dict[str, Loader] | Any) -> None:
        """One worker per live section; a new start cancels that section's last one."""
        client = self._client()
        for key, loader in loaders.items():
            view = self.views.get(key)
            if view is None:
                continue
            if client is None:
                view.failed(f"not connected to {self.target.ref} yet")
                continue
            view.fetching()
            self.run_worker(
                self._load(key, loader, client),
                name=f"drill {key}",
                group=f"drill-{key}",
                exclusive=True,
                exit_on_error=False,
            )

    async def _load(self, key: str, loader: Loader, client: RegionClient) -> None:
        """Fetch one section; never touches widgets, posts what happened."""
        try:
            section = await loader(client)
        except Exception as exc:
            if not isinstance(exc, ApiFailure):
                log.exception("live section %s of %s failed", key, self.target)
            self.post_message(SectionFailed(key, failure_text(exc)))
        else:
            self.post_message(SectionLoaded(section, self._now()))

    @on(SectionLoaded)
    def _loaded(self, message: SectionLoaded) -> None:
        view = self.views.get(message.section.key)
        if view is None:
            return
        self._live.add(message.section.key)
        view.fetched_at = message.fetched_at
        view.error = ""
        view.show(message.section, "live")
        if self.focused is None:
            self._focus_first()

    @on(SectionFailed)
    def _failed(self, message: SectionFailed) -> None:
        view = self.views.get(message.key)
        if view is not None:
            view.failed(message.error)

    def _follow_snapshots(self) -> None:
        """Redraw the snapshot sections from the latest polls (unless paused)."""
        if console_of(self.app).paused:
            return
        page = self._build()
        now = self._now()
        for section in page.sections:
            view = self.views.get(section.key)
            if view is None:
                continue
            if section.key in self._live:
                view.tick(now)
            else:
                view.show(section)

    # -- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only sessions and GET-only credentials have no action key at all (not
        merely hidden)."""
        if action == "act":
            from osconsole.tui.actions import actions_allowed

            return actions_allowed(self.app, self.target.ref)
        return True

    def action_act(self) -> None:
        subject = None
        node = self.focused
        while node is not None and not isinstance(node, SectionView):
            node = node.parent  # type: ignore[assignment]
        if isinstance(node, SectionView):
            line = node.cursor_line()
            subject = line.subject if line is not None else None
        target = action_target(console_of(self.app), self.target, subject)
        if target is None:
            self.notify("No action applies here", timeout=3)
            return
        self.run_worker(act(self.app, target), exclusive=True, group="action")

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        page = self._build()
        self._start(page.loaders)
        self.notify("Fetching live data again", timeout=2)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        view = event.data_table.parent
        key = event.row_key.value
        if not isinstance(view, SectionView) or key is None:
            return
        target = view.target_of(key)
        if target is not None:
            trail = (*self.trail, self.crumb, KIND_LABELS.get(target.kind, target.kind.value))
            push_drill(self.app, target, trail)


def push_drill(
    app: App[Any], target: Target, trail: Sequence[str], callback: Any = None
) -> DrillScreen:
    screen = DrillScreen(target, trail)
    app.push_screen(screen, callback)
    return screen
