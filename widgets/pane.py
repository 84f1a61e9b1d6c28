"""LivePane: one TableView as a header line and a DataTable, updated row by row.

A poll of 20,000 routers changes a few hundred rows; repainting the whole table
every time would cost more than the poll, in time and in bytes sent down an SSH
link. The views keep the rows of unchanged items as the very same objects from
poll to poll (views.IncrementalRows), so each show() finds the rows that differ
by identity in C-level passes, compares only those cell by cell, touches only the
cells whose text or tone changed, and repaints only those rows' lines (nothing
when they are scrolled out of sight). The row order is rebuilt in one pass when
it moved, and only the visible lines whose row changed are repainted.
The DataTable subclass below adds the bulk operations DataTable lacks (add rows,
drop rows, take an order, update cells without repainting the whole table); they
use its row bookkeeping directly, which tests/widgets/test_pane.py checks against
DataTable's public getters.

Meaning is always in the text ("DOWN", "STALE: RegionTwo"); tones only add
emphasis, through component classes that themes can restyle and that keep
bold/reverse/underline when NO_COLOR strips the colours.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from itertools import compress, filterfalse
from operator import attrgetter, is_not, itemgetter, ne
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey, RowKey
from textual.widgets.data_table import Row as TableRow

from osconsole.health.findings import Severity
from osconsole.text import format_age
from osconsole.views import (
    BIG_BUILD,
    AgeCell,
    Cell,
    Column,
    Row,
    TableView,
    Target,
    Tone,
    gc_paused,
)
from osconsole.widgets.styling import component_style

EMPTY = Cell("")

TONE_CLASSES: dict[str, str] = {
    Tone.OK: "pane--ok",
    Tone.INFO: "pane--info",
    Tone.WARNING: "pane--warning",
    Tone.CRITICAL: "pane--critical",
    Tone.DIM: "pane--dim",
}
SEVERITY_TONES = {
    Severity.CRITICAL: Tone.CRITICAL,
    Severity.WARNING: Tone.WARNING,
    Severity.UNKNOWN: Tone.DIM,
}

_KEY = attrgetter("key")
_TEXT = attrgetter("text")
_SORT_VALUE = attrgetter("sort_value")


def age_text(seconds: float | None) -> str:
    """A compact age in the operator's units: 12s, 4m, 3h, 2d ("?" when unknown)."""
    if seconds is None or math.isnan(seconds):
        return "?"
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def fitted(cells: Sequence[Cell], width: int) -> Sequence[Cell]:
    """`cells` cut or padded with empty cells to the table's `width` columns."""
    if len(cells) == width:
        return cells
    return (*cells[:width], *[EMPTY] * (width - len(cells)))


def sort_order(keys: Sequence[str], values: Sequence[Any], descending: bool) -> list[str]:
    """`keys` ordered by their sort `values` (same positions); missing values always last.

    A column of only numbers or only text sorts in C. Mixed columns ("-" among
    numbers) cannot be compared directly, so values are bucketed by kind: numbers,
    text, others, missing. Sorts are stable: ties keep the worst-first order of `keys`.
    """
    kinds = set(map(type, values))
    if kinds <= {int, float} and not any(map(ne, values, values)):  # no NaN
        return _sorted_by(keys, values, descending)
    if kinds == {str}:
        return _sorted_by(keys, list(map(str.casefold, values)), descending)
    buckets: tuple[list[tuple[str, Any]], ...] = ([], [], [], [])
    for key, value in zip(keys, values, strict=True):
        if value is None or value != value:  # None or NaN
            buckets[3].append((key, None))
        elif isinstance(value, int | float):
            buckets[0].append((key, value))
        elif isinstance(value, str):
            buckets[1].append((key, value.casefold()))
        else:
            buckets[2].append((key, value))
    order: list[str] = []
    for bucket in buckets[:3]:
        try:
            bucket.sort(key=itemgetter(1), reverse=descending)
        except TypeError:
            bucket.sort(key=lambda item: str(item[1]), reverse=descending)
        order.extend(map(itemgetter(0), bucket))
    order.extend(map(itemgetter(0), buckets[3]))
    return order


def _sorted_by(keys: Sequence[str], values: Sequence[Any], descending: bool) -> list[str]:
    positions = sorted(range(len(keys)), key=values.__getitem__, reverse=descending)
    return list(map(keys.__getitem__, positions))


class ToneStyles:
    """Tone -> Rich style, read lazily from the pane's component classes.

    Cells look their style up at render time, so a theme change costs one cache
    clear instead of restyling every cell of a 20,000-row table.
    """

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._styles: dict[str, Style] = {}

    def get(self, tone: str) -> Style:
        style = self._styles.get(tone)
        if style is None:
            component = TONE_CLASSES.get(tone)
            if not component or not self._widget.is_mounted:
                return Style.null()
            style = component_style(self._widget, component)
            self._styles[tone] = style
        return style

    def reload(self) -> bool:
        """Forget the cached styles; True when the component styles really changed."""
        before = dict(self._styles)
        self._styles.clear()
        return any(self.get(tone) != style for tone, style in before.items())


class ToneCell:
    """A cell's text and tone; becomes a styled Text only when it is on screen."""

    __slots__ = ("right", "styles", "text", "tone")

    def __init__(self, text: str, tone: str, right: bool, styles: ToneStyles) -> None:
        self.text = text
        self.tone = tone
        self.right = right
        self.styles = styles

    def __rich__(self) -> Text:
        return Text(
            self.text,
            style=self.styles.get(self.tone),
            justify="right" if self.right else "left",
            no_wrap=True,
            end="",
        )

    def __repr__(self) -> str:
        return f"ToneCell({self.text!r}, {self.tone!r})"


class Now:
    """The pane's clock, as the App last ticked it (None before the first tick)."""

    __slots__ = ("now",)

    def __init__(self) -> None:
        self.now: float | None = None


class TickingCell(ToneCell):
    """An AgeCell on screen: its age is read at the pane's clock when it is drawn, so
    it keeps counting between polls without a new view (only visible lines are drawn)."""

    __slots__ = ("clock", "origin")

    def __init__(self, cell: AgeCell, right: bool, styles: ToneStyles, clock: Now) -> None:
        super().__init__(cell.text, cell.tone, right, styles)
        self.origin = cell.origin
        self.clock = clock

    def __rich__(self) -> Text:
        if self.clock.now is not None:
            self.text = format_age(self.clock.now - self.origin)
        return super().__rich__()


class TableKey(str, RowKey):
    """A RowKey that is also its own string, so dicts hash it in C, not in Python.

    Re-indexing 20,000 rows hashes every key; RowKey.__hash__ is a Python method and
    was a third of the cost. Equal to (and hashed like) RowKey(key) and key itself.
    """

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"TableKey({str.__repr__(self)})"


class LineKeys(Sequence[tuple[RowKey, int]]):
    """DataTable's line index (y -> (row key, line within the row)) for rows one line
    high, read from the row order: no 20,000 tuples made each time the order moves."""

    __slots__ = ("keys",)

    def __init__(self, keys: list[TableKey]) -> None:
        self.keys = keys

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, y: int) -> tuple[RowKey, int]:  # type: ignore[override]
        return self.keys[y], 0

    def clear(self) -> None:
        """DataTable.clear() empties its list; the order here is dropped by reset()."""


class RowTable(DataTable[ToneCell]):
    """A DataTable that adds and drops rows in bulk and takes its row order whole.

    DataTable.remove_row re-indexes every row (O(n) per removal) and add_row
    validates the cursor each time; a poll applies hundreds of each, then one
    set_order() re-indexes once. DataTable also rebuilds its screen-order list and
    its line offsets in Python after every change, even a cell update (20,000 rows:
    ~100 ms per poll); here they follow the order set_order() took, in C, and only
    when that order changes. And where DataTable repaints the whole table for each
    cell it updates, set_cells() and set_order() repaint only the visible lines that
    changed: a poll whose changes are out of sight sends nothing to the terminal.
    Every row is one line high.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._keys: dict[str, TableKey] = {}
        self._order_keys: list[TableKey] = []
        self._order_locations: object = None  # the _row_locations set_order() built
        self._order_rows: tuple[list[TableKey], list[TableRow]] | None = None
        self._lines = LineKeys([])
        self.follow_cursor = False  # the operator moved the cursor: keep it on its row
        self.caps: dict[ColumnKey, int] = {}  # widest a column may grow (a narrow pane)
        super().__init__(cursor_type="row", zebra_stripes=False, fixed_columns=1, **kwargs)

    def put_rows(self, rows: Iterable[tuple[str, list[ToneCell]]]) -> None:
        """Add rows (placed by the next set_order); their widths are the caller's job."""
        column_keys = [column.key for column in self.ordered_columns]
        for key, cells in rows:
            row_key = TableKey(key)
            self._keys[key] = row_key
            self._data[row_key] = dict(zip(column_keys, cells, strict=False))
            self.rows[row_key] = TableRow(row_key, 1)

    def drop_rows(self, keys: Iterable[str]) -> None:
        """Remove rows (the next set_order re-indexes the others)."""
        for key in keys:
            row_key = self._keys.pop(key)
            del self._data[row_key]
            del self.rows[row_key]

    def set_order(self, keys: Sequence[str]) -> None:
        """Show exactly these rows, in this order: one O(n) rebuild of the row index.

        Only the visible lines from the first one whose row changed are repainted.
        """
        before = self._order_keys
        order = list(map(self._keys.__getitem__, keys))
        self._row_locations = type(self._row_locations)(
            dict(zip(order, range(len(order)), strict=True))
        )
        self._order_keys = order
        self._order_locations = self._row_locations
        self._new_content()
        if len(order) != len(before):  # the table's height changes
            self._require_update_dimensions = True
            self.check_idle()
        first, last = self._visible_rows()
        for index in range(first, last):
            if index >= len(order) or index >= len(before) or order[index] is not before[index]:
                self._refresh_lines(index, last - index)
                break

    def set_cells(self, changes: Iterable[tuple[str, Mapping[ColumnKey, ToneCell]]]) -> None:
        """Replace cells of rows (row key, {column key: cell}); only their lines are
        repainted, and only where they are visible. Column keys are the ColumnKey
        objects add_column returned (a plain string would be compared in Python).

        DataTable.update_cell repaints the whole table for each cell (20,000 rows,
        1% changed: 800 full repaints and every line sent again)."""
        first, last = self._visible_rows()
        keys, data, locations = self._keys, self._data, self._row_locations
        touched = False
        for key, cells in changes:
            row_key = keys[key]
            data[row_key].update(cells)
            touched = True
            index = locations.get(row_key)
            if index is not None and first <= index < last:
                self._refresh_lines(index, 1)
        if touched:
            self._new_content()

    def _new_content(self) -> None:
        """Rows or cells changed: DataTable's render caches are keyed by its update count,
        so every entry made before is dead. Dropped at once rather than left to fill the
        LRU caches (10,000 cells per table) over the next hours."""
        self._update_count += 1
        self._cell_render_cache.clear()
        self._row_render_cache.clear()
        self._row_renderable_cache.clear()
        self._line_cache.clear()

    def redraw_visible(self) -> None:
        """Draw the visible lines again (their cells may read the time): the render
        caches are keyed by the update count, so nothing drawn before is reused."""
        self._new_content()
        first, last = self._visible_rows()
        self._refresh_lines(first, last - first)

    def _visible_rows(self) -> tuple[int, int]:
        """[first, last) row indexes that may be on screen (rows are one line high)."""
        top = round(self.scroll_offset.y)
        return max(0, top - 1), top + self.size.height + 1

    def _refresh_lines(self, index: int, count: int) -> None:
        header = self.header_height if self.show_header else 0
        width = max(self.size.width, self.virtual_size.width)
        self._refresh_region(Region(0, index + header, width, count))

    def _get_row_region(self, row_index: int) -> Region:
        """The row's region in O(1) (DataTable sums the heights of every row above)."""
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        header = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        width += self._row_label_column_width
        return Region(0, row_index + header, max(self.size.width, width), 1)

    def _in_order(self) -> bool:
        """The rows are in the order set_order() took (DataTable did not move them)."""
        return self._row_locations is self._order_locations and len(self._order_keys) == len(
            self.rows
        )

    @property
    def ordered_rows(self) -> list[TableRow]:
        if not self._in_order():
            return super().ordered_rows
        cached = self._order_rows
        if cached is None or cached[0] is not self._order_keys:
            cached = (self._order_keys, list(map(self.rows.__getitem__, self._order_keys)))
            self._order_rows = cached
        return cached[1]

    @property
    def _y_offsets(self) -> Sequence[tuple[RowKey, int]]:  # type: ignore[override]
        if not self._in_order():
            return super()._y_offsets
        if self._lines.keys is not self._order_keys:
            self._lines = LineKeys(self._order_keys)
        return self._lines

    def widen(self, column_key: ColumnKey, width: int) -> None:
        """Let an auto-width column grow to `width` cells (columns never shrink).

        Only a column that really grows moves the others: then every line is redrawn."""
        column = self.columns[column_key]
        width = min(width, self.caps.get(column_key, width))
        if column.auto_width and width > column.content_width:
            column.content_width = width
            self._new_content()
            self._require_update_dimensions = True
            self.check_idle()
            self.refresh()

    def reset(self) -> None:
        """Forget every row and column (a view of another kind)."""
        self.clear(columns=True)
        self.caps = {}
        self._keys.clear()
        self._order_keys = []
        self._order_rows = None
        self.follow_cursor = False

    def action_cursor_up(self) -> None:
        self.follow_cursor = True
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self.follow_cursor = True
        super().action_cursor_down()

    def action_page_up(self) -> None:
        self.follow_cursor = True
        super().action_page_up()

    def action_page_down(self) -> None:
        self.follow_cursor = True
        super().action_page_down()

    def action_scroll_bottom(self) -> None:
        self.follow_cursor = True
        super().action_scroll_bottom()

    def action_scroll_top(self) -> None:
        """Back to the top: the cursor stays on the worst row again, whatever it is."""
        self.follow_cursor = False
        super().action_scroll_top()

    def on_click(self, event: events.Click) -> None:
        self.follow_cursor = True


def _width(texts: Iterable[str]) -> int:
    texts = list(texts)
    if not texts:
        return 0
    if "".join(texts).isascii():
        return max(map(len, texts))
    return max(map(cell_len, texts))


class LivePane(Widget):
    """One pane of the dashboard: a TableView's header line and its rows, kept live."""

    class Selected(Message):
        """Enter on a row: drill down into what it stands for."""

        def __init__(self, pane: LivePane, target: Target) -> None:
            super().__init__()
            self.pane = pane
            self.target = target

        @property
        def control(self) -> LivePane:
            return self.pane

    COMPONENT_CLASSES: ClassVar[set[str]] = set(TONE_CLASSES.values()) | {"pane--paused"}

    DEFAULT_CSS = """
    LivePane {
        height: 1fr;
        layout: vertical;
    }
    LivePane > #pane-header {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    LivePane:focus-within > #pane-header {
        background: $primary-muted;
        text-style: bold;
    }
    LivePane > #pane-table {
        height: 1fr;
    }
    LivePane > #pane-detail {
        display: none;
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $boost;
    }
    LivePane > #pane-detail.-some.-focused { display: block; }
    LivePane > .pane--critical { color: $text-error; text-style: bold reverse; }
    LivePane > .pane--warning { color: $text-warning; text-style: bold; }
    LivePane > .pane--ok { color: $text-success; }
    LivePane > .pane--info { color: $text-primary; }
    LivePane > .pane--dim { color: $text-muted; }
    LivePane > .pane--paused { text-style: bold reverse; }
    LivePane:nocolor > .pane--warning { text-style: bold underline; }
    LivePane:nocolor > .pane--dim { text-style: dim; }
    """

    paused: reactive[bool] = reactive(False)
    """Polling is paused: the header says PAUSED (the data keeps its age)."""

    def __init__(
        self,
        title: str = "",
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.pane_title = title
        self.tones = ToneStyles(self)
        self._view: TableView | None = None
        self._columns: tuple[Column, ...] = ()
        self._table_columns: list[ColumnKey | None] = []  # their keys in the table (None: hidden)
        self._visible: list[int] = []  # indexes of the columns in the table
        self._detail = ""  # the detail line's text, as last drawn
        self._column_index: dict[str, int] = {}
        self._view_rows: Sequence[Row] = ()  # the view's rows, one per key, worst first
        self._base: list[str] = []  # their keys
        self._by_key: dict[str, Row] | None = None  # rows by key, made when first needed
        self._changed: list[tuple[str, Row]] | None = None  # (key, row) that are new objects
        self._shown: dict[str, Row] = {}  # rows in the table, as last drawn
        self._order: list[str] = []  # the table's row order
        self._plain = False  # the table shows the view's rows in its order: no filter, no sort
        self._filter = ""
        self._region: str | None = None  # only this region's rows (the app's region filter)
        self._problems_only = False  # only rows of warning or worse
        self._lower: dict[str, tuple[Row, str]] = {}  # key -> (row, Row.text().lower())
        self._sort: tuple[str, bool] | None = None  # (column key, descending)
        self._age: float | None = None
        self._clock = Now()  # ticking cells and stale ages read it
        self._ticks = False  # some column's cells are ages that keep counting
        self._header = Text()
        self._ready = False  # composed: show() may touch the table (is_mounted is late)
        self._table = RowTable(id="pane-table")
        self._detail_line = Static(id="pane-detail", markup=False)

    def compose(self) -> ComposeResult:
        yield Static(id="pane-header", markup=False)
        yield self._table
        yield self._detail_line

    def on_mount(self) -> None:
        self._ready = True
        if self._view is not None:
            self.show(self._view)
        else:
            self._update_header()
        self.call_after_refresh(self._update_header)  # with the component styles

    # -- public API ------------------------------------------------------------------------

    @property
    def table(self) -> RowTable:
        return self._table

    @property
    def view(self) -> TableView | None:
        return self._view

    @property
    def filter_text(self) -> str:
        return self._filter

    @property
    def sort_column(self) -> tuple[str, bool] | None:
        """(column key, descending), or None for the default worst-first order."""
        return self._sort

    @property
    def header_text(self) -> str:
        return self._header.plain

    @property
    def shown_keys(self) -> list[str]:
        """Row keys in the table, top to bottom (after filter and sort)."""
        return list(self._order)

    @property
    def selected_row(self) -> Row | None:
        """The cursor's row (None when the table is empty): as drawn, so that a poll
        never builds the rows-by-key map for it."""
        key = self._cursor_key()
        return self._shown.get(key) if key is not None else None

    @property
    def selected_target(self) -> Target | None:
        """What the cursor row stands for (None when the table is empty)."""
        row = self.selected_row
        return row.target if row is not None else None

    def focus(self, scroll_visible: bool = True) -> LivePane:
        """Focus goes to the table: it has the cursor and the keys."""
        self.table.focus(scroll_visible)
        return self

    def show(self, view: TableView) -> None:
        """Show `view`: rows by key, only changed cells redrawn, filter and sort kept."""
        retired = [self._view, self._view_rows, self._by_key, self._lower]
        self._view = view
        if not self._ready:
            return  # applied on mount
        with self.app.batch_update():
            self._take(view)
            self._sync()
            self._update_header()
            self._update_detail()
        # Freeing what the previous poll alone used (a whole view when its rows were
        # all new) can cost as much as applying the new one: do it once the screen
        # shows the new data, not before.
        self.call_after_refresh(retired.clear)

    def set_age(self, seconds: float | None, now: float | None = None) -> None:
        """The data got older between polls (the App ticks this every second, with its
        clock's `now`: stale ages and heartbeat ages keep counting)."""
        self._age = seconds
        if now is not None:
            self._clock.now = now
        if self._ready:
            self._update_header()
            if now is not None and self._ticks and self.display and self._shown:
                self.table.redraw_visible()

    def set_filter(self, text: str) -> None:
        """Show only rows whose text contains `text` (case-insensitive); "" shows all."""
        self._filter = text.strip()
        self._resync()

    @property
    def region_shown(self) -> str | None:
        """The one region whose rows are shown (None: every region's)."""
        return self._region

    @property
    def problems_only(self) -> bool:
        return self._problems_only

    def set_region(self, region: str | None) -> None:
        """Show only the rows of one region (None: every region)."""
        self._region = region or None
        self._resync()

    def set_problems_only(self, on: bool) -> None:
        """Show only the rows that need a look (warning or worse)."""
        self._problems_only = on
        self._resync()

    def _resync(self) -> None:
        if self._ready:
            with self.app.batch_update():
                self._sync()
                self._update_header()

    def sort_by(self, column_key: str) -> None:
        """Sort by a column; again reverses; a third time goes back to worst first."""
        if column_key not in self._column_index:
            raise KeyError(column_key)
        column = self._columns[self._column_index[column_key]]
        first_descending = column.numeric
        if self._sort is None or self._sort[0] != column_key:
            self._sort = (column_key, first_descending)
        elif self._sort[1] == first_descending:
            self._sort = (column_key, not first_descending)
        else:
            self._sort = None
        if self._ready:
            with self.app.batch_update():
                self._sync()
                self._update_header()

    def select_key(self, key: str) -> bool:
        """Put the cursor on the row `key` (e.g. back from a drill-down); False if hidden."""
        if key not in self._shown:
            return False
        table = self.table
        table.follow_cursor = True
        table.move_cursor(row=table.get_row_index(key))
        return True

    # -- width and the detail line ---------------------------------------------------------

    def on_resize(self) -> None:
        """Narrower or wider than a column's `drop_below`: the table takes the columns
        that fit (rows are put again once; the ui_refresh benchmark never resizes)."""
        if not self._ready or not self._columns:
            return
        if self._hidden(self._columns) == {
            self._columns[i].key for i, key in enumerate(self._table_columns) if key is None
        }:
            return
        cursor_key = self._cursor_key()
        with self.app.batch_update():
            self._reset_columns(self._columns)
            self._changed = None
            self._sync()
            if cursor_key is not None:
                self.select_key(cursor_key)
            self._update_detail()

    def on_descendant_focus(self) -> None:
        self._detail_line.add_class("-focused")  # the pane looked at only
        self._update_detail()

    def on_descendant_blur(self) -> None:
        self._detail_line.remove_class("-focused")

    @on(DataTable.RowHighlighted, "#pane-table")
    def _highlighted(self) -> None:
        self._update_detail()

    def detail_text(self) -> str:
        """The selected row in full, every column labelled (hidden ones too): what the
        table cuts or drops, the detail line under it shows, wrapped."""
        row = self.selected_row
        if row is None:
            return ""
        cells = fitted(row.cells, len(self._columns))
        return "  ".join(
            f"{column.label}: {cell.text}"
            for column, cell in zip(self._columns, cells, strict=True)
            if cell.text
        )

    def _update_detail(self) -> None:
        if not self._ready:
            return
        detail = self._detail_line
        if not detail.has_class("-focused"):
            return  # shown in the focused pane only: the others skip it on every poll
        text = self.detail_text()
        if text != self._detail:
            self._detail = text
            detail.update(Text(text))
            detail.set_class(bool(text), "-some")

    # -- applying a view -------------------------------------------------------------------

    @property
    def _rows(self) -> dict[str, Row]:
        """The view's rows by key (built on demand: a plain poll never needs it)."""
        if self._by_key is None:
            self._by_key = dict(zip(self._base, self._view_rows, strict=True))
        return self._by_key

    def _take(self, view: TableView) -> None:
        """Take the view's rows; when their keys come in the same order as before (most
        polls), note which rows are new objects, found by position in C."""
        same_columns = view.columns == self._columns
        if not same_columns:
            self._reset_columns(view.columns)
        self._age = view.oldest_age
        if view.built_at is not None and (self._clock.now or view.built_at) <= view.built_at:
            self._clock.now = view.built_at  # until the next tick
        self._by_key = None
        rows: Sequence[Row] = view.rows
        self._changed = self._in_place(rows) if same_columns else None
        if self._changed is None:
            keys = list(map(_KEY, rows))
            if len(set(keys)) != len(keys):  # duplicate keys: the last row wins, shown once
                by_key = dict(zip(keys, rows, strict=True))
                keys, rows = list(by_key), list(by_key.values())
            self._base = keys
        self._view_rows = rows
        self._update_filter_cache()

    def _in_place(self, rows: Sequence[Row]) -> list[tuple[str, Row]] | None:
        """(key, row) of the rows that are new objects, when every key is where it was
        (rows kept from the last poll are the same objects in the same places); else None."""
        before = self._view_rows
        if len(rows) != len(before):
            return None
        moved = list(compress(range(len(rows)), map(is_not, rows, before)))
        if any(rows[i].key != before[i].key for i in moved):
            return None
        return [(rows[i].key, rows[i]) for i in moved]

    def _update_filter_cache(self) -> None:
        if not self._filter:
            self._lower = {}
        elif self._changed is not None and len(self._lower) == len(self._base):
            for key, row in self._changed:
                self._lower[key] = (row, row.text().lower())
        else:
            self._refresh_filter_cache()

    def _hidden(self, columns: Sequence[Column]) -> set[str]:
        """Columns too many for the pane's width (before the first layout: none)."""
        width = self.size.width
        return {c.key for c in columns if width and c.drop_below and width < c.drop_below}

    def _reset_columns(self, columns: tuple[Column, ...]) -> None:
        """A different kind of view, or a width that shows other columns: the table
        starts over (once)."""
        table = self.table
        table.reset()
        hidden = self._hidden(columns)
        self._table_columns = [
            None
            if column.key in hidden
            else table.add_column(
                Text(column.label, justify="right" if column.numeric else "left"),
                width=column.width,
                key=column.key,
            )
            for column in columns
        ]
        self._visible = [i for i, key in enumerate(self._table_columns) if key is not None]
        table.caps = {
            key: column.narrow_max
            for column, key in zip(columns, self._table_columns, strict=True)
            if hidden and key is not None and column.narrow_max
        }
        self._columns = columns
        self._ticks = any(column.ticks for column in columns)
        self._column_index = {column.key: index for index, column in enumerate(columns)}
        self._shown = {}
        self._order = []
        self._plain = False
        if self._sort is not None and self._sort[0] not in self._column_index:
            self._sort = None

    def _sync(self) -> None:
        """Make the table show the wanted rows in the wanted order, touching only changes."""
        plain = not self._filter and self._sort is None and not self._narrowed
        if plain and self._plain and self._changed is not None:
            self._sync_in_place(self._changed)
        else:
            self._sync_all()
        self._plain = plain
        self._changed = None

    def _sync_in_place(self, changed: list[tuple[str, Row]]) -> None:
        """Same rows in the same order as drawn: only the rows that are new objects
        (rows of unchanged items are the very objects drawn before) are compared."""
        table, shown, changed_cells = self.table, self._shown, self._changed_cells
        changes: list[tuple[str, dict[ColumnKey, ToneCell]]] = []
        with gc_paused(len(changed) > BIG_BUILD):  # e.g. every age moved: new cells in bulk
            for key, row in changed:
                cells = changed_cells(table, shown[key], row)
                shown[key] = row
                if cells:
                    changes.append((key, cells))
            table.set_cells(changes)
        self._order = self._base

    def _sync_all(self) -> None:
        """Any change of rows, order, filter or sort: C-level passes over every row, and
        Python only loops over the rows that differ from what is drawn."""
        table = self.table
        order = self._wanted_order()
        rows = self._rows
        wanted = rows if order is self._base else {k: rows[k] for k in order}
        shown = self._shown
        removed = list(filterfalse(wanted.__contains__, shown))
        differ = compress(wanted, map(is_not, map(shown.get, wanted), wanted.values()))
        added: list[str] = []
        changes: list[tuple[str, dict[ColumnKey, ToneCell]]] = []
        for key in differ:
            drawn = shown.get(key)
            if drawn is None:
                added.append(key)
                continue
            cells = self._changed_cells(table, drawn, wanted[key])
            if cells:
                changes.append((key, cells))
        cursor_key, cursor_row = self._cursor_key(), table.cursor_row
        if removed:
            table.drop_rows(removed)
        if added:
            new = [rows[key] for key in added]
            with gc_paused(len(new) > BIG_BUILD):  # a first poll: 30,000 rows at once
                table.put_rows((row.key, self._cells(row)) for row in new)
            self._widen(table, new)
        if added or removed or order != self._order:
            table.set_order(order)
        table.set_cells(changes)
        self._shown = dict(wanted)  # its own: _sync_in_place changes it in place
        self._order = order
        self._place_cursor(table, cursor_key, cursor_row)

    def _changed_cells(self, table: RowTable, drawn: Row, row: Row) -> dict[ColumnKey, ToneCell]:
        """New table cells for the cells whose text or tone differ from what is drawn.
        Cells shared by both rows (most of them) are skipped in C."""
        width = len(self._columns)
        drawn_cells, cells = drawn.cells, row.cells
        if len(drawn_cells) != width or len(cells) != width:
            drawn_cells, cells = fitted(drawn_cells, width), fitted(cells, width)
        changed: dict[ColumnKey, ToneCell] = {}
        for index in compress(range(width), map(is_not, drawn_cells, cells)):
            before, cell = drawn_cells[index], cells[index]
            if (
                cell.text != before.text
                or cell.tone != before.tone
                or getattr(cell, "origin", None) != getattr(before, "origin", None)
            ):
                key = self._table_columns[index]
                if key is None:  # hidden at this width
                    continue
                changed[key] = self._cell(self._columns[index], cell)
                table.widen(key, cell_len(cell.text))
        return changed

    def _cells(self, row: Row) -> list[ToneCell]:
        cells = fitted(row.cells, len(self._columns))
        if len(self._visible) < len(cells):
            columns = self._columns
            return [self._cell(columns[i], cells[i]) for i in self._visible]
        return [self._cell(column, cell) for column, cell in zip(self._columns, cells, strict=True)]

    def _cell(self, column: Column, cell: Cell) -> ToneCell:
        if isinstance(cell, AgeCell):
            return TickingCell(cell, column.numeric, self.tones, self._clock)
        return ToneCell(cell.text, cell.tone, column.numeric, self.tones)

    def _widen(self, table: RowTable, rows: Sequence[Row]) -> None:
        width = len(self._columns)
        by_column = zip(*(fitted(row.cells, width) for row in rows), strict=True)
        for key, cells in zip(self._table_columns, by_column, strict=False):
            if key is not None:
                table.widen(key, _width(map(_TEXT, cells)))

    def _cursor_key(self) -> str | None:
        if not self._order or not self._ready:
            return None
        row = self.table.cursor_row
        return self._order[row] if 0 <= row < len(self._order) else None

    def _place_cursor(self, table: RowTable, key: str | None, row: int) -> None:
        """Keep the cursor on its row; an untouched cursor stays on the top (worst) row."""
        if not self._order:
            return
        if table.follow_cursor and key is not None and key in self._shown:
            row = table.get_row_index(key)
        row = min(max(row, 0), len(self._order) - 1)
        if row != table.cursor_row:
            table.move_cursor(row=row, animate=False)

    # -- filter and sort -------------------------------------------------------------------

    @property
    def _narrowed(self) -> bool:
        return self._region is not None or self._problems_only

    def _wanted_order(self) -> list[str]:
        keys = self._base
        if self._narrowed:
            rows, region = self._rows, self._region
            worst = Severity.WARNING if self._problems_only else Severity.OK
            keys = [
                key
                for key in keys
                if rows[key].severity >= worst
                and (region is None or rows[key].target.ref.region == region)
            ]
        if self._filter:
            needle = self._filter.lower()
            if len(self._lower) != len(self._base):
                self._refresh_filter_cache()
            lower = self._lower
            keys = [key for key in keys if needle in lower[key][1]]
        if self._sort is not None:
            column_key, descending = self._sort
            keys = sort_order(keys, self._sort_values(column_key, keys), descending)
        return keys

    def _refresh_filter_cache(self) -> None:
        """Lower-cased Row.text() per row, recomputed only for rows that are new objects."""
        cache = self._lower
        fresh: dict[str, tuple[Row, str]] = {}
        for key, row in self._rows.items():
            hit = cache.get(key)
            fresh[key] = hit if hit is not None and hit[0] is row else (row, row.text().lower())
        self._lower = fresh

    def _sort_values(self, column_key: str, keys: Sequence[str]) -> list[Any]:
        """Each row's Cell.sort_value in `column_key`, in the order of `keys`."""
        index = self._column_index[column_key]
        width = len(self._columns)
        rows = map(self._rows.__getitem__, keys)
        cells = map(itemgetter(index), (fitted(row.cells, width) for row in rows))
        return list(map(_SORT_VALUE, cells))

    # -- header ----------------------------------------------------------------------------

    def _update_header(self) -> None:
        """Redraw the header line only when it says something new; it is one line high
        whatever it says, so no layout pass (that would also repaint every scrollbar)."""
        header = self._build_header()
        if header == self._header:  # same words and styles
            return
        self._header = header
        self.query_one("#pane-header", Static).update(header, layout=False)

    def _build_header(self) -> Text:
        """Title, then the states that must never be cut off (PAUSED, STALE, age), then
        counts, filter, sort and notes: at 80 columns the end is what gets ellipsised."""
        view = self._view
        tones = self.tones
        parts: list[Text] = [Text(view.title if view else self.pane_title, style="bold")]
        if self.paused:
            paused_style = component_style(self, "pane--paused")
            parts.append(Text("PAUSED", style=paused_style))
        if view is not None and view.stale_regions:
            parts.append(Text(f"STALE: {self._stale_words(view)}", style=tones.get(Tone.CRITICAL)))
        age = "no data yet" if self._age is None else f"data {age_text(self._age)} old"
        parts.append(Text(age))
        if view is not None:
            for severity in (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN):
                count = view.counts.get(severity, 0)
                if count:
                    style = tones.get(SEVERITY_TONES[severity])
                    parts.append(Text(f"{count:,} {severity.name}", style=style))
        total = len(self._base)
        narrowed = [f"region {self._region}"] if self._region else []
        narrowed += ["problems only"] if self._problems_only else []
        if self._filter:
            narrowed.append(f"filter: {self._filter}")
        if narrowed:
            parts.append(Text(f"{', '.join(narrowed)} ({len(self._order):,} of {total:,})"))
        elif view is not None:
            parts.append(Text(f"{total:,} rows"))
        if self._sort is not None:
            column_key, descending = self._sort
            label = self._columns[self._column_index[column_key]].label
            parts.append(Text(f"sorted by {label} {'desc' if descending else 'asc'}"))
        if view is not None and view.notes:
            parts.append(Text("; ".join(view.notes), style=tones.get(Tone.DIM)))
        header = Text(" | ").join(parts)
        header.no_wrap = True
        header.overflow = "ellipsis"
        return header

    def _stale_words(self, view: TableView) -> str:
        """Each stale region with the age of its data: "RegionTwo 3m, RegionThree 40s"."""
        since = dict(view.stale_since)
        now = self._clock.now
        return ", ".join(
            region
            if now is None or region not in since
            else f"{region} {age_text(now - since[region])}"
            for region in view.stale_regions
        )

    def watch_paused(self) -> None:
        if self._ready:
            self._update_header()

    # -- events ----------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self._rows.get(event.row_key.value) if event.row_key.value else None
        if row is not None:
            self.post_message(self.Selected(self, row.target))

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if event.column_key.value in self._column_index:
            self.sort_by(event.column_key.value)

    def notify_style_update(self) -> None:
        """A theme or NO_COLOR change: restyle cells once CSS has settled."""
        super().notify_style_update()
        if self._ready:
            self.call_next(self._restyle)

    def _restyle(self) -> None:
        if self.tones.reload():
            self.table.notify_style_update()
            self._update_header()
