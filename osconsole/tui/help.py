"""`?`: the keys of the screen you are on, read from its live bindings.

Generated from the bindings themselves, so it can never disagree with what the
keys do (and in read-only mode, unbound actions simply are not listed).
"""

from __future__ import annotations

from rich.table import Table
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

EXTRA_KEYS = [
    ("enter", "Open the selected row (drill down)"),
    ("escape", "Back"),
]


def _describe(key: str) -> str:
    names = {"question_mark": "?", "slash": "/", "escape": "esc", "greater_than_sign": ">",
             "colon": ":", "exclamation_mark": "!"}  # fmt: skip
    return names.get(key, key)


def keys_table(screen: Screen) -> Table:
    """Every enabled binding reachable from `screen`: one row per action, all its keys."""
    table = Table(box=None, show_header=True, header_style="bold", expand=False)
    table.add_column("Keys", no_wrap=True)
    table.add_column("What it does")
    # The operator's keys (screen and app) first, then the focused widget's movement keys.
    ordered = sorted(
        screen.active_bindings.items(),
        key=lambda item: not isinstance(item[1].node, Screen | App),
    )
    keys_of: dict[str, list[str]] = {}
    for key, active in ordered:
        binding: Binding = active.binding
        if not binding.description or not active.enabled or key.startswith("super+"):
            continue
        keys = keys_of.setdefault(binding.description, [])
        if _describe(key) not in keys:
            keys.append(_describe(key))
    for key, description in EXTRA_KEYS:
        keys = keys_of.setdefault(description, [])
        if key not in keys:
            keys.append(key)
    for description, keys in keys_of.items():
        # Visible keys first: "q, ctrl+c", not "ctrl+c, q".
        keys.sort(key=lambda k: ("+" in k, len(k)))
        table.add_row(", ".join(keys), description)
    return table


class HelpScreen(ModalScreen[None]):
    """The keys of the screen underneath."""

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss", "Close", show=False),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; padding: 0 1; background: $surface;
    }
    HelpScreen Static { width: 100%; height: auto; }
    """

    def __init__(self, underneath: Screen) -> None:
        super().__init__()
        self.underneath = underneath

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            title = self.underneath.title or "osconsole"  # may hold a router's name
            yield Static(Content.assemble((f"Keys: {title}", "bold"), "  (esc to close)"))
            yield Static(keys_table(self.underneath))
