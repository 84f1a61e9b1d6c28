"""`/` in the findings and events screens: only the rows that hold the text stay,
Enter keeps the filter, Esc clears it (and with no filter goes back)."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input

from osconsole.events import Event, EventKind
from osconsole.health.findings import Severity, Subject
from osconsole.model import Kind, RegionRef
from osconsole.tui.findings import FindingsScreen, TimelineScreen
from tests.tui.fixtures import (
    CLOUD,
    FIXED,
    STALE_REGION,
    fixed_console,
    load_fixed_world,
    wait_for,
)

EVENTS = (
    ("RegionOne", EventKind.AGENT_DOWN, "L3 agent on rone-net01 is down", Severity.CRITICAL),
    ("RegionOne", EventKind.ROUTER_FAILOVER, "router r-db moved to rone-net02", Severity.INFO),
    ("RegionTwo", EventKind.AGENT_UP, "L3 agent on rtwo-net01 is back", Severity.INFO),
)


def events() -> list[Event]:
    return [
        Event(
            kind,
            FIXED - 60 + i,
            Subject(RegionRef(CLOUD, region), Kind.AGENTS, f"a{i}", "x"),
            said,
            severity,
        )
        for i, (region, kind, said, severity) in enumerate(EVENTS)
    ]


def texts(table: DataTable[Any]) -> list[str]:
    return [" ".join(cell.plain for cell in table.get_row(key)) for key in table.rows]


async def test_slash_filters_the_findings_and_esc_clears_it() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        table = app.screen.query_one("#findings", DataTable)
        everything = texts(table)
        wanted = [t for t in everything if STALE_REGION.lower() in t.lower()]
        assert 0 < len(wanted) < len(everything)
        await pilot.press("slash", *STALE_REGION.lower())
        await wait_for(pilot, lambda: texts(table) == wanted)
        await pilot.press("enter")  # kept, the box closes and the list has the focus
        assert not app.screen.query_one("#list-filter", Input).has_class("-shown")
        assert app.screen.focused is table and texts(table) == wanted
        title = str(app.screen.query_one("#open-title").render())
        assert f"{len(wanted)} of {len(everything)}" in title and STALE_REGION.lower() in title
        await pilot.press("escape")  # clears, stays
        assert isinstance(app.screen, FindingsScreen) and texts(table) == everything
        await pilot.press("escape")  # no filter: back
        await wait_for(pilot, lambda: not isinstance(app.screen, FindingsScreen))


async def test_slash_filters_the_events_and_esc_while_typing_clears_it() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        app.timeline.events.extend(events())
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen))
        table = app.screen.query_one("#events", DataTable)
        everything = texts(table)
        assert len(everything) == len(EVENTS)
        needle = "l3 agent"
        wanted = [t for t in everything if needle in t.lower()]
        assert len(wanted) == 2
        await pilot.press("slash", *needle)
        await wait_for(pilot, lambda: texts(table) == wanted)
        await pilot.press("escape")  # while typing: clears and closes the box
        assert isinstance(app.screen, TimelineScreen) and texts(table) == everything
        assert not app.screen.query_one("#list-filter", Input).has_class("-shown")
        await pilot.press("slash", *"no such thing")
        await wait_for(pilot, lambda: not texts(table))
