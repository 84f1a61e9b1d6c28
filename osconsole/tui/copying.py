"""Copy and export: `y` copies the selected row's id, `Y` its name, to the clipboard
(OSC 52, which Textual writes: it goes through tmux and SSH to the operator's
terminal); `:export [PATH]` saves the pane on screen, the findings or the events as
CSV or JSON (osconsole.export). Both only read: they are there in read-only too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.widgets import DataTable

from osconsole.events import Event
from osconsole.export import ExportError, Table, events_table, findings_table, pane_table, write
from osconsole.tui.dashboard import DashboardScreen
from osconsole.tui.drill.screen import DrillScreen
from osconsole.tui.drill.widgets import SectionView
from osconsole.tui.findings import FindingsScreen, TimelineScreen
from osconsole.tui.tables import selected_key
from osconsole.views import Row

if TYPE_CHECKING:
    from osconsole.tui.app import ConsoleApp

# The column that names a pane's row (its id is the row's target).
NAME_COLUMNS = {
    "hypervisors": "host",
    "routers": "router",
    "tenants": "project",
    "liveness": "host",
}


def row_name(kind: str, columns: Any, row: Row) -> str:
    wanted = NAME_COLUMNS.get(kind)
    keys = [column.key for column in columns]
    index = keys.index(wanted) if wanted in keys else 0
    return row.cells[index].text if index < len(row.cells) else ""


def _focused_section(screen: DrillScreen) -> SectionView | None:
    node = screen.focused
    while node is not None and not isinstance(node, SectionView):
        node = node.parent  # type: ignore[assignment]
    return node


def _shown_events(screen: TimelineScreen) -> list[Event]:
    table = screen.query_one("#events", DataTable)
    by_key = {str(id(e)): e for e in screen.console.timeline.events}
    return [by_key[k.value] for k in table.rows if k.value in by_key]


def selected(app: ConsoleApp) -> tuple[str, str] | None:
    """(id, name) of what is selected on the screen shown, None if nothing is."""
    screen = app.screen
    if isinstance(screen, DashboardScreen):
        pane = screen.focused_pane()
        row, view = pane.selected_row, pane.view
        if row is None or view is None:
            return None
        return row.target.id, row_name(view.kind, view.columns, row)
    if isinstance(screen, FindingsScreen):
        finding = screen._selected()
        return None if finding is None else (finding.subject.id, finding.subject.name)
    if isinstance(screen, TimelineScreen):
        key = selected_key(screen.query_one("#events", DataTable))
        event = next((e for e in _shown_events(screen) if str(id(e)) == key), None)
        return None if event is None else (event.subject.id, event.subject.name)
    if isinstance(screen, DrillScreen):
        section = _focused_section(screen)
        line = section.cursor_line() if section is not None else None
        if line is not None and line.target is not None:
            return line.target.id, line.cells[0].text if line.cells else ""
        return screen.target.id, screen.crumb
    return None


def copy(app: ConsoleApp, what: str) -> None:
    """Put the selected row's id (`what` "id") or name ("name") on the clipboard."""
    found = selected(app)
    text = "" if found is None else found[0] if what == "id" else found[1]
    if not text:
        app.notify(f"Nothing selected: no {what} to copy", timeout=3)
        return
    app.copy_to_clipboard(text)
    app.notify(f"Copied {what} {text} (OSC 52)", title="Clipboard", timeout=3, markup=False)


def current_table(app: ConsoleApp) -> Table | None:
    """What `:export` saves from the screen shown: the rows it shows, in its order."""
    screen = app.screen
    if isinstance(screen, DashboardScreen):
        pane = screen.focused_pane()
        view = pane.view
        return None if view is None else pane_table(view.kind, view, pane.shown_keys)
    if isinstance(screen, FindingsScreen):
        shown = [
            k.value
            for table_id in ("#findings", "#acknowledged")
            for k in screen.query_one(table_id, DataTable).rows
        ]
        by_key = {f.key: f for f in screen.console.findings}
        return findings_table([by_key[k] for k in shown if k in by_key])
    if isinstance(screen, TimelineScreen):
        return events_table(_shown_events(screen))
    return None


def export(app: ConsoleApp, given: str) -> None:
    """`:export [PATH]`: save what is shown; say where it went, or why it could not."""
    table = current_table(app)
    if table is None:
        app.notify(
            ":export saves a pane, the findings (f) or the events (e): open one first",
            title=":export",
            severity="warning",
            markup=False,
        )
        return
    try:
        path = write(table, given, app.clock())
    except ExportError as exc:
        app.notify(str(exc), title=":export", severity="error", timeout=8, markup=False)
        return
    app.notify(
        f"{len(table.rows)} {table.name} rows saved to {path}", title=":export", markup=False
    )


__all__ = ["copy", "current_table", "export", "selected"]
