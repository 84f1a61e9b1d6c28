"""`:find TEXT`: every row of every pane, in every region, whose text holds TEXT (a
name, an id, an address): where an operator starts from a ticket that names
"something" without saying what it is. Enter opens the row, as in its pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from osconsole.live import PANE_TITLES, PANES
from osconsole.views import Row, Target
from osconsole.widgets.pane import LivePane

if TYPE_CHECKING:
    from osconsole.tui.app import ConsoleApp

MAX_MATCHES = 500


def matching_rows(panes: dict[str, LivePane], text: str) -> list[tuple[str, Row]]:
    """(pane, row) of every row whose text contains `text` (case-insensitive), pane by
    pane, each pane's worst first."""
    needle = text.strip().lower()
    found: list[tuple[str, Row]] = []
    for name, pane in panes.items():
        view = pane.view
        for row in view.rows if view is not None and needle else ():
            if needle in row.text().lower():
                found.append((name, row))
    return found


class SearchScreen(Screen[None]):
    """Matches of a search across the panes; Enter opens one, Esc goes back."""

    TITLE = "Search"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.targets: dict[str, Target] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="search-title")
        yield DataTable(cursor_type="row", id="matches")
        yield Footer()

    def on_mount(self) -> None:
        console: ConsoleApp = self.app  # type: ignore[assignment]
        panes = {name: console.dashboard.pane(name) for name in PANES}
        found = matching_rows(panes, self.text)
        table = self.query_one(DataTable)
        for key, label in (("pane", "Pane"), ("region", "Region"), ("what", "What")):
            table.add_column(label, key=key)
        for name, row in found[:MAX_MATCHES]:
            key = f"{name}:{row.key}"
            self.targets[key] = row.target
            table.add_row(
                Text(PANE_TITLES[name]),
                Text(row.target.ref.region),
                Text(" | ".join(c.text for c in row.cells if c.text)),
                key=key,
            )
        more = f" (first {MAX_MATCHES} shown)" if len(found) > MAX_MATCHES else ""
        title = f" {len(found)} rows match {self.text!r}{more}; Enter opens one"
        self.query_one("#search-title", Static).update(Text(title))
        table.focus()

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        from osconsole.tui.drill import open_drill_down

        target = self.targets.get(event.row_key.value or "")
        if target is not None:
            open_drill_down(self.app, target)


def open_search(app: ConsoleApp, text: str) -> None:
    app.push_screen(SearchScreen(text))
