"""`:` commands with completion and history, the palette's commands, the host view,
the region filter, problems only and the search across panes."""

from __future__ import annotations

from typing import Any

import pytest
from textual.command import CommandPalette
from textual.widgets import DataTable

from osconsole.model import Kind
from osconsole.tui.command_line import CommandError, CommandPrompt, completions, parse
from osconsole.tui.drill import DrillScreen
from osconsole.tui.findings import FindingsScreen, TimelineScreen
from osconsole.tui.search import SearchScreen
from osconsole.views import Severity
from tests.tui.fixtures import fixed_console, load_fixed_world, wait_for

REGIONS = ["RegionOne", "RegionTwo", "RegionThree"]


def test_parse_commands_aliases_and_arguments() -> None:
    assert parse(":routers").name == "routers"
    assert parse("hv").name == "hypervisors"
    assert (parse(":region  RegionTwo ").name, parse(":region RegionTwo").arg) == (
        "region",
        "RegionTwo",
    )
    assert parse(":host rone-cmp00001").arg == "rone-cmp00001"


@pytest.mark.parametrize(
    ("text", "says"),
    [(":", "type a command"), (":rooters", "did you mean routers"), (":region", "NAME|all"),
     (":findings now", "takes no argument")],
)  # fmt: skip
def test_bad_commands_say_why(text: str, says: str) -> None:
    with pytest.raises(CommandError, match=says):
        parse(text)


def test_completion_of_names_regions_and_hosts() -> None:
    assert completions(":r", REGIONS, []) == ["routers", "region"]
    assert completions("region regiont", REGIONS, []) == ["region RegionTwo", "region RegionThree"]
    assert completions(":region a", REGIONS, []) == ["region all"]
    assert completions("host rtwo", REGIONS, ["rone-cmp1", "rtwo-cmp2", "rtwo-net1"]) == [
        "host rtwo-cmp2",
        "host rtwo-net1",
    ]


async def command(pilot: Any, app: Any, *keys: str) -> None:
    await pilot.press("colon")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPrompt))
    await pilot.press(*keys)


async def test_colon_commands_switch_panes_complete_and_remember() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        await command(pilot, app, *"rou", "tab", "enter")  # Tab completes "routers"
        await wait_for(pilot, lambda: app.dashboard.current == "routers")
        await command(pilot, app, *"region regiont", "tab")
        assert app.screen.input.value == "region RegionTwo"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.dashboard.region_filter == "RegionTwo")
        routers = app.dashboard.pane("routers")
        assert routers.shown_keys and all("/RegionTwo/" in k for k in routers.shown_keys)
        assert "region RegionTwo" in routers.header_text
        await command(pilot, app, "up")  # history: the last command
        assert app.screen.input.value == "region RegionTwo"
        await pilot.press("up")
        assert app.screen.input.value == "routers"
        await pilot.press("escape")
        await command(pilot, app, *"region all", "enter")
        await wait_for(pilot, lambda: app.dashboard.region_filter is None)
        await command(pilot, app, *"findings", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        await command(pilot, app, *"events", "enter")  # from another screen too
        await wait_for(pilot, lambda: isinstance(app.screen, TimelineScreen))
        await command(pilot, app, *"nonsense", "enter")
        await pilot.pause()
        assert any("no command 'nonsense'" in str(n.message) for n in app._notifications)
        await command(pilot, app, *"quit", "enter")
    assert app.return_code in (0, None)


async def test_host_view_from_a_command_and_from_a_host_line() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 40)) as pilot:
        await load_fixed_world(pilot, app)
        down = next(f for f in app.findings if f.rule == "hypervisor.down")
        host = down.reason.split()[1]  # "hypervisor rtwo-cmp00001 is down ..."
        await command(pilot, app, *f"host {host}", "enter")
        await wait_for(pilot, lambda: "findings" in getattr(app.screen, "views", {}))
        screen = app.screen
        keys = list(screen.views)
        assert keys[:2] == ["findings", "hypervisor"]
        assert {"service", "usage", "agents", "routers", "servers"} <= set(keys)
        findings = screen.views["findings"].section.lines
        assert any("is down" in line.cells[1].text for line in findings)
        assert screen.page.title == f"Host {host}"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DrillScreen))

        # Enter on a "Host" line of an agent's page opens the same view.
        net_host = next(iter(app.state.of_kind(Kind.AGENTS))).items
        agent = next(a for a in net_host.values() if a.agent_type == "L3 agent")
        from osconsole.tui.drill import open_drill_down
        from osconsole.views import Target

        ref = next(s.ref for s in app.state.of_kind(Kind.AGENTS) if agent.id in s.items)
        open_drill_down(app, Target(ref, Kind.AGENTS, agent.id, "agent"))
        await wait_for(pilot, lambda: "agent" in getattr(app.screen, "views", {}))
        facts = app.screen.views["agent"]
        host_row = next(i for i, line in enumerate(facts.section.lines) if line.key == "Host")
        facts.table.focus()
        facts.table.move_cursor(row=host_row)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: app.screen.page and app.screen.page.title == f"Host {agent.host}"
        )
        routers = app.screen.views["routers"].section
        assert routers.title.startswith("HA routers hosted here")


async def test_problems_only_and_search_across_panes() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        pane = app.dashboard.pane("liveness")
        await pilot.press("4")
        everything = len(pane.shown_keys)
        await pilot.press("exclamation_mark")
        shown = pane.shown_keys
        assert 0 < len(shown) < everything
        assert all(pane.view.rows[[r.key for r in pane.view.rows].index(k)].severity
                   >= Severity.WARNING for k in shown)  # fmt: skip
        assert "problems only" in pane.header_text
        await pilot.press("exclamation_mark")
        assert len(pane.shown_keys) == everything
        await command(pilot, app, *"find net002", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
        table = app.screen.query_one(DataTable)
        assert table.row_count >= 2  # an agent row and the routers it hosts, at least
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))


async def test_the_palette_lists_every_command_of_the_screen() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 40)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.pause(0.3)
        from osconsole.tui.palette import console_commands

        titles = [title for title, _, _ in console_commands(app)]
        for wanted in ("Pause polling", "Refresh now: poll every region", "Show Liveness",
                       "Findings", "Events (timeline)", "Region: RegionTwo only"):  # fmt: skip
            assert wanted in titles
        await pilot.press(*"Show Liveness")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.dashboard.current == "liveness")
