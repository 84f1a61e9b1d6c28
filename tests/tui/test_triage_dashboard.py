"""The dashboard in triage: focus stays on what is shown, j/k move, pause keeps time."""

from __future__ import annotations

from osconsole.model import Kind
from osconsole.tui.drill import DrillScreen
from osconsole.widgets.pane import LivePane
from osconsole.widgets.region_strip import RegionStrip
from tests.tui.fixtures import (
    APP_NOW,
    WatchedConsole,
    console_settings,
    fixed_console,
    load_fixed_world,
    quick,
    wait_for,
)


def focused_pane_id(app: object) -> str | None:
    node = app.focused  # type: ignore[attr-defined]
    while node is not None and not isinstance(node, LivePane):
        node = node.parent
    return None if node is None else node.id


async def test_escape_and_enter_act_on_the_pane_on_screen_never_a_hidden_one() -> None:
    """The keys of the report: 4, /ctl01 Enter, 1, Esc, Enter."""
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        liveness = app.dashboard.pane("liveness")
        await pilot.press("4", "slash", *"ctl01", "enter")
        assert liveness.filter_text == "ctl01"
        await pilot.press("1")
        assert focused_pane_id(app) == "pane-hypervisors"
        await pilot.press("escape")
        assert focused_pane_id(app) == "pane-hypervisors"  # not the hidden Liveness
        assert liveness.filter_text == "ctl01"  # Esc cleared nothing behind the operator
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
        assert app.screen.target.kind is Kind.HYPERVISORS


async def test_switching_panes_while_typing_a_filter_leaves_it_with_its_pane() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("slash", *"rone")
        hypervisors = app.dashboard.pane("hypervisors")
        assert hypervisors.filter_text == "rone"
        app.dashboard.action_show_pane("routers")
        await pilot.pause()
        assert focused_pane_id(app) == "pane-routers"
        await pilot.press("escape")  # the routers pane has no filter: nothing else moves
        assert hypervisors.filter_text == "rone"
        assert focused_pane_id(app) == "pane-routers"


async def test_narrowing_from_the_grid_shows_the_pane_that_had_the_focus() -> None:
    app = fixed_console()
    async with app.run_test(size=(200, 50)) as pilot:
        await load_fixed_world(pilot, app)
        app.dashboard.pane("routers").focus()
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.dashboard.current == "routers"
        assert app.dashboard.pane("routers").has_class("-active")
        assert focused_pane_id(app) == "pane-routers"


async def test_j_and_k_move_the_cursor_in_a_pane_and_a_drill_down() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        table = app.dashboard.pane("hypervisors").table
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
        await pilot.pause()
        drill_table = app.focused
        before = drill_table.cursor_row  # type: ignore[union-attr]
        await pilot.press("j")
        assert drill_table.cursor_row == before + 1  # type: ignore[union-attr]


async def test_ages_keep_counting_while_paused_and_the_strip_says_paused() -> None:
    clock = [APP_NOW]
    app = quick(WatchedConsole(console_settings(), poll=False, clock=lambda: clock[0]))
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        strip = app.dashboard.query_one(RegionStrip)
        pane = app.dashboard.pane("hypervisors")
        app._tick()
        assert "data 5s old" in pane.header_text
        assert "PAUSED" not in strip.plain
        await pilot.press("p")
        clock[0] += 22
        app._tick()  # what the one-second interval does
        await pilot.pause()
        assert "PAUSED" in pane.header_text and "data 27s old" in pane.header_text
        assert strip.plain.startswith("PAUSED | ")
        assert "27s" in strip.plain
        await pilot.press("p")
        await pilot.pause()
        assert "PAUSED" not in strip.plain
