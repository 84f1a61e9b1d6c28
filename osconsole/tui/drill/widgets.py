"""The widgets of a drill-down screen: the breadcrumb, and one SectionView per
section (a title with its state, a note, a table whose rows may open further).

A section's table is small (tens to a few hundred rows), so a change of rows
redraws it whole; when only cells changed (ages tick, states flip) only those
cells are touched, so the cursor and the scroll position stay where they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from osconsole.tui.context import console_of
from osconsole.tui.drill.sections import Line, Section, fit_trail
from osconsole.views import Cell, Column, Target, Tone, format_age
from osconsole.widgets.pane import TONE_CLASSES, ToneCell, ToneStyles

EMPTY = Cell("")


def app_now(app: App[Any]) -> float:
    """The console's clock (injectable for tests and replay)."""
    return float(console_of(app).clock())


class DrillTable(DataTable[ToneCell]):
    """A section's rows; Enter opens the row's object where it has one."""

    BINDINGS: ClassVar = [Binding("enter", "select_cursor", "Open", show=True)]

    def __init__(self) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False)
        self.drillable = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "select_cursor":
            return self.drillable
        return True


class Breadcrumb(Static):
    """Where the operator is; when too long, the oldest parts give way."""

    def __init__(self, parts: Sequence[str], **kwargs: Any) -> None:
        super().__init__(markup=False, **kwargs)
        self.parts = tuple(parts)

    def render(self) -> Text:
        return Text(fit_trail(self.parts, self.size.width - 2), no_wrap=True, overflow="ellipsis")

    def set_parts(self, parts: Sequence[str]) -> None:
        self.parts = tuple(parts)
        self.refresh()


class SectionView(Vertical):
    """One section: its title with its state (loading…, live, FAILED), its note, its table."""

    COMPONENT_CLASSES: ClassVar[set[str]] = set(TONE_CLASSES.values())
    DEFAULT_CSS = """
    SectionView { height: auto; margin-bottom: 1; }
    SectionView > .section-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    SectionView:focus-within > .section-title { background: $primary-muted; }
    SectionView > .section-note { height: auto; padding: 0 1; }
    SectionView > DrillTable { height: auto; max-height: 14; }
    SectionView > .pane--critical { color: $text-error; text-style: bold reverse; }
    SectionView > .pane--warning { color: $text-warning; text-style: bold; }
    SectionView > .pane--ok { color: $text-success; }
    SectionView > .pane--info { color: $text-primary; }
    SectionView > .pane--dim { color: $text-muted; }
    SectionView:nocolor > .pane--warning { text-style: bold underline; }
    """

    def __init__(self, section: Section) -> None:
        super().__init__(id=f"section-{section.key}")
        self.section = section
        self.state = "live" if section.live else "snapshot"  # loading / live / failed
        self.error = ""
        self.fetched_at: float | None = None
        self.tones = ToneStyles(self)
        self._targets: dict[str, Target] = {}
        self._drawn: tuple[tuple[Column, ...], tuple[Line, ...]] | None = None
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Static(classes="section-title", markup=False)
        yield Static(classes="section-note", markup=False)
        yield DrillTable()

    def on_mount(self) -> None:
        self._ready = True  # is_mounted is still False while on_mount runs
        self._draw()

    @property
    def table(self) -> DrillTable:
        return self.query_one(DrillTable)

    def target_of(self, key: str) -> Target | None:
        return self._targets.get(key)

    def cursor_line(self) -> Line | None:
        """The row under the cursor, if the table has focus-worthy rows."""
        table = self.table
        if not table.row_count or not 0 <= table.cursor_row < table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((line for line in self.section.lines if line.key == key), None)

    def show(self, section: Section, state: str | None = None) -> None:
        self.section = section
        if state is not None:
            self.state = state
        if self._ready:
            self._draw()

    def fetching(self) -> None:
        self.state, self.error = "loading", ""
        self._draw_text()

    def failed(self, error: str) -> None:
        self.state, self.error = "failed", error
        self._draw_text()

    def tick(self, now: float) -> None:
        """Ages move: redraw the title's 'live 12s ago'."""
        if self.state == "live" and self.fetched_at is not None:
            self._draw_text(now)

    def text(self) -> str:
        """What the section says (title, note, error, rows), for tests and logs."""
        lines = (line.text() for line in self.section.lines)
        return "\n".join([self._title(app_now(self.app)), self._note().plain, *lines])

    # -- drawing ------------------------------------------------------------------------------

    def _title(self, now: float) -> str:
        section = self.section
        parts = [section.title]
        if self.state == "loading":
            parts.append("loading…")
        elif self.state == "failed":
            parts.append("LIVE FETCH FAILED")
        elif self.state == "live" and self.fetched_at is not None:
            parts.append(f"live, {format_age(now - self.fetched_at)} ago")
        if section.header and section.lines:
            count = len(section.lines)
            parts.append(f"{count:,} row" if count == 1 else f"{count:,} rows")
        return " | ".join(parts)

    def _note(self) -> Text:
        parts: list[Text] = []
        if self.error:
            shown = "; showing the last poll" if self.section.lines else ""
            parts.append(Text(f"ERROR: {self.error}{shown}", style=self.tones.get(Tone.CRITICAL)))
        if self.section.note:
            parts.append(Text(self.section.note, style=self.tones.get(self.section.note_tone)))
        return Text("\n").join(parts)

    def _draw_text(self, now: float | None = None) -> None:
        if not self._ready:
            return
        now = app_now(self.app) if now is None else now
        self.query_one(".section-title", Static).update(self._title(now))
        note = self._note()
        note_widget = self.query_one(".section-note", Static)
        note_widget.update(note)
        note_widget.display = bool(note.plain)

    def _draw(self) -> None:
        self._draw_text()
        section = self.section
        self._targets = {line.key: line.target for line in section.lines if line.target}
        table = self.table
        table.display = bool(section.lines)
        table.show_header = section.header
        if table.drillable != bool(self._targets):
            table.drillable = bool(self._targets)
            table.refresh_bindings()
        drawn = (section.columns, section.lines)
        if drawn == self._drawn:
            return
        if self._drawn is not None and self._same_shape(section):
            self._update_cells(section)
        else:
            self._rebuild(section)
        self._drawn = drawn

    def _same_shape(self, section: Section) -> bool:
        columns, lines = self._drawn or ((), ())
        return columns == section.columns and [x.key for x in lines] == [
            x.key for x in section.lines
        ]

    def _cell(self, column: Column, text: str, tone: str) -> ToneCell:
        return ToneCell(text, tone, column.numeric, self.tones)

    def _update_cells(self, section: Section) -> None:
        """Same rows in the same order: touch only the cells that changed (no flicker,
        cursor and scroll kept)."""
        _, before = self._drawn or ((), ())
        table = self.table
        for old, new in zip(before, section.lines, strict=True):
            for column, was, cell in zip(section.columns, old.cells, new.cells, strict=False):
                if (was.text, was.tone) != (cell.text, cell.tone):
                    value = self._cell(column, cell.text, cell.tone)
                    table.update_cell(new.key, column.key, value, update_width=True)

    def _rebuild(self, section: Section) -> None:
        """Other rows or columns: redraw the table, the cursor kept on its row by key."""
        table = self.table
        keep = None
        if table.row_count and 0 <= table.cursor_row < table.row_count:
            keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear(columns=True)
        for column in section.columns:
            label = Text(column.label, justify="right" if column.numeric else "left")
            table.add_column(label, key=column.key, width=column.width)
        width = len(section.columns)
        for line in section.lines:
            cells = (*line.cells[:width], *[EMPTY] * (width - len(line.cells)))
            pairs = zip(section.columns, cells, strict=True)
            table.add_row(*(self._cell(c, x.text, x.tone) for c, x in pairs), key=line.key)
        if keep is not None and keep in table.rows:
            table.move_cursor(row=table.get_row_index(keep), animate=False)
