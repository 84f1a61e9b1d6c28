"""Refilling a small DataTable (findings, events) without losing the operator's place.

DataTable.clear() puts the cursor on the first row and the scroll back to column 0;
the findings list changed every few seconds, so an operator who had scrolled right
to read a long reason was thrown back. Here rows whose keys come in the same order
only have their changed cells updated; when rows come or go, the table is refilled
and the cursor follows its row (by key) and the scroll offset is put back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import DataTable

Rows = Sequence[tuple[str, Sequence[Any]]]


def _same(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b)


def sync_rows(table: DataTable[Any], rows: Rows) -> None:
    """Make `table` show `rows` ((key, cells) in order), keeping cursor and scroll."""
    keys = [key for key, _ in rows]
    shown = [row_key.value for row_key in table.rows]
    if keys == shown:
        columns = [column.key for column in table.ordered_columns]
        for key, cells in rows:
            for column, cell in zip(columns, cells, strict=False):
                if not _same(table.get_cell(key, column), cell):
                    table.update_cell(key, column, cell)
        return
    cursor_key = shown[table.cursor_row] if 0 <= table.cursor_row < len(shown) else None
    cursor_row, x = table.cursor_row, table.scroll_x
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if not rows:
        return
    row = keys.index(cursor_key) if cursor_key in keys else min(cursor_row, len(rows) - 1)
    table.move_cursor(row=max(row, 0), animate=False)
    if x:  # the new rows' width is known after the next refresh
        table.call_after_refresh(table.scroll_to, x, None, animate=False, immediate=True)


def selected_key(table: DataTable[Any]) -> str | None:
    """The key of the cursor's row (None in an empty table)."""
    if not table.row_count:
        return None
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
