"""The README's key table names every key the help screen (`?`) lists for the
dashboard, the findings and the events (the help reads the live bindings)."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.screen import Screen

from osconsole.tui.help import _describe
from tests.tui.fixtures import fixed_console, load_fixed_world, wait_for

README = Path(__file__).parents[2] / "README.md"
NOT_IN_THE_TABLE = {"ctrl+c"}  # quits too, as in every terminal program; `q` is listed


def key_table() -> str:
    text = README.read_text()
    start = text.index("| key | does |")
    return text[start : text.index("\n\n", start)]


def screen_keys(screen: Screen) -> set[str]:
    """The keys `?` lists that the screen and the App bind (not the table's own)."""
    return {
        _describe(key)
        for key, active in screen.active_bindings.items()
        if isinstance(active.node, Screen | App)
        and active.binding.description
        and active.enabled
        and not key.startswith("super+")
    }


async def test_the_readme_names_every_key_of_the_help_screen() -> None:
    table = key_table()
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        keys = screen_keys(app.screen)
        for screen_key in ("f", "e"):
            await pilot.press(screen_key)
            await wait_for(pilot, lambda: app.screen is not app.dashboard)
            keys |= screen_keys(app.screen)
            app.pop_screen()
            await pilot.pause()
    panes = {"1", "2", "3", "4"} if "`1`..`4`" in table else set()
    missing = {k for k in keys - NOT_IN_THE_TABLE - panes if f"`{k}`" not in table}
    assert not missing, f"keys the help screen lists but the README does not: {sorted(missing)}"
