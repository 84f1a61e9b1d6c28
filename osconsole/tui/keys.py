"""Keys every screen shares: `j` and `k` move the cursor, as in vim and k9s.

Operators from k9s press `k` to go up without looking; a key that does anything
else on some screen (it once acknowledged findings) is a trap. The App binds them for
its screens; modal screens, whose bindings stop at themselves, add CURSOR_BINDINGS.
A text box that has the focus takes `j` and `k` as letters before any binding.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding

CURSOR_BINDINGS = [
    Binding("j", "cursor('down')", "Cursor down", show=False),
    Binding("k", "cursor('up')", "Cursor up", show=False),
]


def move_cursor(widget: Any, direction: str) -> bool:
    """Move `widget`'s cursor (a table, a list) one step up or down; False if it has none."""
    method = getattr(widget, f"action_cursor_{direction}", None)
    if widget is None or direction not in ("up", "down") or not callable(method):
        return False
    method()
    return True


class CursorKeys:
    """`action_cursor` for an App or a Screen: the focused widget's cursor moves."""

    focused: Any

    def action_cursor(self, direction: str) -> None:
        move_cursor(self.focused, direction)
