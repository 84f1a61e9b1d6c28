"""The dashboard under Textual's pilot: keys, layouts, filter, sort, live updates,
pause, help, quit, stale regions, first-poll progress and connection failure.

Two kinds of App: `console` polls the in-process simulator for real (live updates,
failing regions, refresh); `fixed_console()` does not poll and is fed the
deterministic snapshots of tests/tui/fixtures.py, so assertions name exact rows.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from textual.app import ComposeResult
from textual.containers import Container, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static, Tab, Tabs

from osconsole.config import CloudSettings, Settings
from osconsole.health.findings import Severity
from osconsole.live import PANES
from osconsole.model import Agent, Kind, Snapshot
from osconsole.sim.world import L3_AGENT, World
from osconsole.tui.app import ConsoleApp
from osconsole.tui.dashboard import DashboardScreen
from osconsole.tui.help import HelpScreen
from osconsole.tui.messages import SnapshotArrived
from osconsole.widgets.pane import LivePane
from osconsole.widgets.region_strip import RegionStrip
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.tui.fixtures import (
    CLOUD,
    REPAINT_DELAY,
    STALE_REGION,
    WatchedConsole,
    deterministic_snapshots,
    fixed_console,
    load_fixed_world,
    post_snapshots,
    quick,
    show_snapshots,
    snapshot_of,
    wait_for,
)

TABS = (80, 24)
WIDE = (120, 40)
GRID = (200, 50)


def dashboard(app: ConsoleApp) -> DashboardScreen:
    assert isinstance(app.screen, DashboardScreen), app.screen
    return app.screen


def pane(app: ConsoleApp, name: str) -> LivePane:
    return app.dashboard.pane(name)


def shown(app: ConsoleApp) -> list[str]:
    """The panes that take space on the screen."""
    return [name for name in PANES if pane(app, name).region.area]


def column(p: LivePane, key: str) -> list[str]:
    """The texts of one column, top to bottom, as the table holds them."""
    return [p.table.get_cell(row, key).text for row in p.shown_keys]


def strip(app: ConsoleApp) -> str:
    return app.screen.query_one("#regions", RegionStrip).plain


def progress(app: ConsoleApp) -> Static:
    return app.dashboard.query_one("#progress", Static)


def plain(content: object) -> str:
    """What a widget's content says, as text (a Rich table rendered at 120 columns)."""
    console = Console(width=120, file=io.StringIO(), color_system=None)
    console.print(content)
    return console.file.getvalue()


def rows_of(kind: Kind, region: str | None = None) -> int:
    _, snapshots = deterministic_snapshots()
    return sum(
        len(s.items)
        for s in snapshots
        if s.kind == kind and (region is None or s.ref.region == region)
    )


# -- navigation and layouts ----------------------------------------------------------------


async def test_number_keys_switch_panes_in_the_tabs_layout() -> None:
    app = fixed_console()
    async with app.run_test(size=TABS) as pilot:
        await load_fixed_world(pilot, app)
        screen = dashboard(app)
        assert screen.query_one("#panes", Container).has_class("tabs")
        assert screen.query_one("#pane-tabs", Tabs).region.area
        assert shown(app) == ["hypervisors"]
        order = (("2", "routers"), ("4", "liveness"), ("3", "tenants"), ("1", "hypervisors"))
        for key, name in order:
            await pilot.press(key)
            await pilot.pause()
            assert shown(app) == [name]
            assert screen.query_one("#pane-tabs", Tabs).active == f"tab-{name}"
            assert screen.focused_pane() is pane(app, name)
            assert app.focused is pane(app, name).table


async def test_tab_cycles_through_the_panes_and_wraps() -> None:
    app = fixed_console()
    async with app.run_test(size=TABS) as pilot:
        await load_fixed_world(pilot, app)
        seen = []
        for _ in PANES:
            await pilot.press("tab")
            await pilot.pause()
            seen.append(dashboard(app).focused_pane().id)
        assert seen == ["pane-routers", "pane-tenants", "pane-liveness", "pane-hypervisors"]
        assert shown(app) == ["hypervisors"]


async def test_tab_labels_count_the_rows_that_need_attention() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        tabs = app.dashboard.query_one("#pane-tabs", Tabs)
        labels = {tab.id: str(tab.label) for tab in tabs.query("Tab")}
        # One compute host down; two tenants warned; a dead L3 agent and a dead
        # nova-compute. The split brain and the router with no active are seen once: they
        # are pending their debounce, not findings yet, and their rows say so.
        assert labels == {
            "tab-hypervisors": "1 Hypervisors (1!)",
            "tab-routers": "2 L3 HA routers",
            "tab-tenants": "3 Tenants (2!)",
            "tab-liveness": "4 Liveness (2!)",
        }
        routers = app.dashboard.pane("routers").view
        assert routers is not None
        pending = [r for r in routers.rows if "(pending until" in r.text()]
        assert {r.severity for r in pending} == {Severity.OK} and len(pending) == 2
        assert any("SPLIT-BRAIN (pending until" in r.text() for r in pending)


async def test_tab_labels_are_set_again_only_when_they_change() -> None:
    """A new label is a layout pass, which repaints every scrollbar on screen."""
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        tab = app.dashboard.query_one("#tab-liveness", Tab)
        label = tab.label
        same = snapshot_of(Kind.AGENTS, "RegionOne")
        await show_snapshots(pilot, app, [dataclasses.replace(same, fetched_at=same.fetched_at)])
        assert tab.label is label
        changed, _ = with_dead_agent(snapshot_of(Kind.AGENTS, "RegionTwo"))
        await show_snapshots(pilot, app, [changed])
        assert str(tab.label) == "4 Liveness (3!)"


async def test_grid_layout_shows_four_panes_at_200x50_and_keys_move_focus() -> None:
    app = fixed_console()
    async with app.run_test(size=GRID) as pilot:
        await load_fixed_world(pilot, app)
        screen = dashboard(app)
        assert screen.query_one("#panes", Container).has_class("grid")
        assert not screen.query_one("#pane-tabs", Tabs).region.area
        assert shown(app) == list(PANES)
        corners = {(pane(app, n).region.x, pane(app, n).region.y) for n in PANES}
        assert len({x for x, _ in corners}) == 2 and len({y for _, y in corners}) == 2
        for name in PANES.keys() - {"hypervisors"}:
            assert len(pane(app, name).shown_keys) > 0  # hidden or not, every pane is filled
        await pilot.press("3")
        await pilot.pause()
        assert screen.focused_pane() is pane(app, "tenants")
        assert shown(app) == list(PANES)


async def test_resizing_switches_layout_and_keeps_filter_sort_and_cursor() -> None:
    app = fixed_console()
    async with app.run_test(size=GRID) as pilot:
        await load_fixed_world(pilot, app)
        routers = pane(app, "routers")
        await pilot.press("2", "slash", *"web-router-1", "enter", "s", "s")
        await pilot.press("down")
        await pilot.pause()
        keys, sort = routers.shown_keys, routers.sort_column
        cursor = routers.selected_target
        assert cursor is not None and routers.filter_text == "web-router-1"
        await pilot.resize_terminal(*TABS)
        await pilot.pause()
        assert dashboard(app).query_one("#panes", Container).has_class("tabs")
        assert shown(app) == ["routers"]
        assert routers.shown_keys == keys
        assert routers.sort_column == sort
        assert routers.selected_target == cursor


# -- filter and sort -------------------------------------------------------------------------


async def test_slash_filters_the_focused_pane_and_escape_clears_it() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        hypervisors = pane(app, "hypervisors")
        total = rows_of(Kind.HYPERVISORS)
        box = app.dashboard.query_one("#filter", Input)
        await pilot.press("slash")
        assert box.has_class("-shown") and app.focused is box
        await pilot.press(*"CMP00003")  # case-insensitive
        await pilot.press("enter")
        await pilot.pause()
        assert not box.has_class("-shown")
        assert app.focused is hypervisors.table
        names = column(hypervisors, "host")
        assert sorted(names) == ["rone-cmp00003", "rthree-cmp00003", "rtwo-cmp00003"]
        assert hypervisors.table.row_count == 3
        assert f"filter: CMP00003 (3 of {total})" in hypervisors.header_text
        assert len(pane(app, "routers").shown_keys) == rows_of(Kind.ROUTERS)  # only this pane
        await pilot.press("escape")
        await pilot.pause()
        assert hypervisors.filter_text == ""
        assert len(hypervisors.shown_keys) == total
        assert "filter:" not in hypervisors.header_text
        assert f"{total} rows" in hypervisors.header_text


async def test_filter_narrows_while_typing_and_escape_in_the_box_clears_it() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("4", "slash", *"DEAD")
        await pilot.pause()
        liveness = pane(app, "liveness")
        assert column(liveness, "state") == ["DEAD"]
        assert column(liveness, "host") == ["rone-net002"]
        await pilot.press("escape")
        await pilot.pause()
        assert not app.dashboard.query_one("#filter", Input).has_class("-shown")
        assert len(liveness.shown_keys) == rows_of(Kind.AGENTS) + rows_of(Kind.SERVICES)
        assert app.focused is liveness.table


async def test_s_cycles_sort_columns_and_shift_s_reverses() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        hypervisors = pane(app, "hypervisors")
        worst_first = hypervisors.shown_keys
        assert column(hypervisors, "state")[0] == "DOWN"
        await pilot.press("s")
        await pilot.pause()
        assert hypervisors.sort_column == ("region", False)
        regions = column(hypervisors, "region")
        assert regions == sorted(regions, key=str.casefold)
        await pilot.press("s")
        await pilot.pause()
        assert hypervisors.sort_column == ("severity", False)  # worst first, as the default
        assert column(hypervisors, "severity")[0] == "CRIT"
        await pilot.press("s")
        await pilot.pause()
        assert hypervisors.sort_column == ("host", False)
        assert column(hypervisors, "host") == sorted(column(hypervisors, "host"))
        assert "sorted by Host asc" in hypervisors.header_text
        await pilot.press("S")
        await pilot.pause()
        assert hypervisors.sort_column == ("host", True)
        hosts = column(hypervisors, "host")
        assert hosts == sorted(hosts, reverse=True)
        assert "sorted by Host desc" in hypervisors.header_text
        columns = len(hypervisors.view.columns) if hypervisors.view else 0
        await pilot.press(*"s" * (columns - 2))  # past the last column: worst first again
        await pilot.pause()
        assert hypervisors.sort_column is None
        assert hypervisors.shown_keys == worst_first


# -- live updates ------------------------------------------------------------------------------


async def test_a_dead_agent_updates_its_row_in_place_and_the_cursor_follows_it(
    console: ConsoleApp, world: World
) -> None:
    async with quick(console).run_test(size=WIDE) as pilot:
        liveness = pane(console, "liveness")
        # Every agent and service of every region: rows move while regions still report.
        total = sum(
            len(r.agents) + len(r.compute_services) + len(r.volume_services)
            for r in world.regions.values()
        )
        await wait_for(pilot, lambda: len(liveness.shown_keys) == total, what="first poll")
        await pilot.press("4")
        # The first Neutron agent from the top: every row above it is a Cinder service.
        index = column(liveness, "kind").index("neutron")
        key = liveness.shown_keys[index]
        region, agent_id = key.split("/")[1:]
        agent = world.regions[region].agents.get(agent_id)
        assert agent is not None and index > 0
        await pilot.press(*["down"] * index)
        assert liveness.selected_target is not None and liveness.selected_target.id == agent.id
        rows_before = len(liveness.shown_keys)
        table_row = liveness.table.rows[key]
        untouched = liveness.shown_keys[-1]
        untouched_row = liveness.table.rows[untouched]

        agent.stop(world.now())
        world.clock.step(80)  # past Neutron's agent_down_time (75 s)
        await pilot.press("r")
        await wait_for(
            pilot, lambda: liveness.table.get_cell(key, "state").text == "DEAD", what="DEAD"
        )
        assert liveness.shown_keys[0] == key  # worst first: the dead agent leads
        assert len(liveness.shown_keys) == rows_before
        assert liveness.table.rows[key] is table_row  # the same row, updated in place
        assert liveness.table.rows[untouched] is untouched_row
        assert liveness.table.get_cell(key, "reason").text == "agent dead"
        target = liveness.selected_target
        assert target is not None and target.id == agent.id  # the cursor followed its row
        assert liveness.table.cursor_row == 0
        assert "1 CRITICAL" in liveness.header_text


async def test_region_strip_marks_a_failing_region_stale_while_others_stay_fresh(
    console: ConsoleApp, world: World
) -> None:
    async with quick(console).run_test(size=GRID) as pilot:  # wide: every region by name
        await wait_for(pilot, lambda: progress(console).has_class("-done"), what="first poll")
        assert re.findall(r"Region\w+ ok", strip(console)) == [
            "RegionOne ok",
            "RegionTwo ok",
            "RegionThree ok",
        ]
        hypervisors = pane(console, "hypervisors")
        two = f"{CLOUD}/RegionTwo/"
        kept = [k for k in hypervisors.shown_keys if k.startswith(two)]
        assert len(kept) == len(world.regions["RegionTwo"].hypervisors)

        world.regions["RegionTwo"].faults.update(error_rate=1.0)
        assert console.poller is not None
        console.poller.refresh(Kind.HYPERVISORS)
        await wait_for(pilot, lambda: "RegionTwo STALE" in strip(console), what="STALE")
        text = strip(console)
        assert "RegionOne ok" in text and "RegionThree ok" in text
        assert "HTTP 5" in text  # why, in words
        statuses = console.dashboard.query_one("#regions", RegionStrip).statuses
        assert [s.status for s in statuses] == ["ok", "stale", "ok"]
        await wait_for(pilot, lambda: "STALE: RegionTwo" in hypervisors.header_text)
        assert [k for k in hypervisors.shown_keys if k.startswith(two)] == kept  # last data kept

        world.regions["RegionTwo"].faults.update(error_rate=0.0)
        console.poller.refresh(Kind.HYPERVISORS)
        await wait_for(pilot, lambda: "RegionTwo ok" in strip(console), what="recovered")
        await wait_for(pilot, lambda: "STALE" not in hypervisors.header_text)


async def test_r_polls_every_region_now(console: ConsoleApp, world: World) -> None:
    async with quick(console).run_test(size=WIDE) as pilot:
        await wait_for(pilot, lambda: progress(console).has_class("-done"), what="first poll")
        hypervisors = pane(console, "hypervisors")
        host = min(world.regions["RegionOne"].hypervisors_by_host)
        key = f"{CLOUD}/RegionOne/{world.regions['RegionOne'].hypervisors_by_host[host].id}"
        service = world.regions["RegionOne"].hypervisors_by_host[host].service
        service.disabled = True
        service.disabled_reason = "maintenance"
        await pilot.press("r")  # hypervisors poll every 30 s: only `r` brings it now
        await wait_for(pilot, lambda: hypervisors.table.get_cell(key, "status").text == "disabled")


# -- pause, help, quit -----------------------------------------------------------------------


def with_dead_agent(snapshot: Snapshot[Agent]) -> tuple[Snapshot[Agent], str]:
    """`snapshot` where its first live L3 agent has died; and that agent's row key."""
    agent = next(a for a in snapshot.items.values() if a.alive and a.agent_type == L3_AGENT)
    dead = dataclasses.replace(agent, alive=False)
    items = Snapshot.freeze({**snapshot.items, agent.id: dead})
    return dataclasses.replace(snapshot, items=items), f"{snapshot.ref}/{agent.id}"


async def test_p_pauses_repaints_and_resumes_them() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        liveness = pane(app, "liveness")
        changed, key = with_dead_agent(snapshot_of(Kind.AGENTS, "RegionTwo"))
        assert liveness.table.get_cell(key, "state").text == "alive"

        await pilot.press("p")
        assert app.paused
        for name in PANES:
            assert "PAUSED" in pane(app, name).header_text
        applied = len(app.views_applied)
        await post_while_paused(pilot, app, changed)
        assert len(app.views_applied) == applied  # no repaint while paused
        assert liveness.table.get_cell(key, "state").text == "alive"

        await pilot.press("p")
        assert not app.paused
        await wait_for(pilot, lambda: len(app.views_applied) > applied, what="repaint")
        assert liveness.table.get_cell(key, "state").text == "DEAD"
        assert "PAUSED" not in liveness.header_text


async def post_while_paused(pilot: Any, app: WatchedConsole, snapshot: Snapshot[Any]) -> None:
    """Post `snapshot` and let the coalescing timer fire (it must then do nothing)."""
    app.post_message(SnapshotArrived(snapshot))
    await pilot.pause(REPAINT_DELAY * 3)


async def test_a_quiet_console_repaints_at_once_and_one_right_behind_waits_its_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("osconsole.tui.polling.REPAINT_DELAY", 1.0)
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.pause(1.0)  # a quiet spell
        waits: list[float] = []
        set_timer = app.set_timer

        def timer(delay: float, callback: Any, **kwargs: Any) -> Any:
            waits.append(delay)
            return set_timer(delay, callback, **kwargs)

        app.set_timer = timer  # type: ignore[method-assign]
        liveness = pane(app, "liveness")
        changed, key = with_dead_agent(snapshot_of(Kind.AGENTS, "RegionTwo"))
        applied = len(app.views_applied)
        post_snapshots(app, [changed])
        await wait_for(pilot, lambda: len(app.views_applied) > applied, what="repaint")
        assert waits == []  # shown at once
        assert liveness.table.get_cell(key, "state").text == "DEAD"

        # Right behind it: coalesced until a second after the previous repaint began.
        post_snapshots(app, [snapshot_of(Kind.AGENTS, "RegionTwo")])
        await pilot.pause()
        assert len(waits) == 1 and 0 < waits[0] <= 1.0
        assert liveness.table.get_cell(key, "state").text == "DEAD"
        await wait_for(pilot, lambda: len(app.views_applied) > applied + 1, what="repaint")
        assert liveness.table.get_cell(key, "state").text == "alive"


async def test_pause_also_pauses_the_poller(console: ConsoleApp) -> None:
    async with quick(console).run_test(size=WIDE) as pilot:
        await wait_for(pilot, lambda: console.poller is not None, what="connected")
        await pilot.press("p")
        assert console.poller is not None and console.poller.paused
        await pilot.press("p")
        assert not console.poller.paused


async def test_question_mark_lists_the_keys_and_escape_closes_it() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = help_text(app)
        for line in KEY_LINES:
            assert re.search(line, text), line
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


KEY_LINES = (
    r"Keys: osconsole",
    r"\n / +Filter",
    r"\n s +Sort",
    r"\n S +Reverse sort",
    r"\n 2 +L3 HA routers",
    r"\n tab +Next pane",
    r"\n r +Refresh now",
    r"\n p +Pause",
    r"\n \? +Keys",
    r"\n q, ctrl\+c(, ctrl\+q)? +Quit",
)


def help_text(app: ConsoleApp) -> str:
    return "\n".join(plain(s.content) for s in app.screen.query(Static))


async def test_question_mark_lists_q_for_quit() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert re.search(r"\n q(, ctrl\+c)?(, ctrl\+q)? +Quit", help_text(app))


async def test_the_keys_screen_shows_its_whole_table() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        box = app.screen.query_one(VerticalScroll)
        keys = app.screen.query(Static).last()
        assert keys.region.width >= 40 and keys.region.height >= 20
        assert keys.region.right <= box.region.right  # no column cut off


async def test_q_quits() -> None:
    app = fixed_console()
    async with app.run_test(size=TABS) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


# -- before data, and without a cloud ---------------------------------------------------------


async def test_first_poll_progress_line_counts_polls_until_every_region_reported() -> None:
    app = fixed_console()
    refs, snapshots = deterministic_snapshots()
    async with app.run_test(size=TABS) as pilot:
        line = progress(app)
        assert "Connecting to the clouds" in str(line.render())
        assert line.region.area
        app.state.expect(refs)
        expected = len(refs) * len(Kind)
        assert len(snapshots) == expected
        first = next(s for s in snapshots if s.ref == refs[0])
        await show_snapshots(pilot, app, [first])
        assert str(line.render()) == f"First poll: 1 of {expected} region/kind polls done..."
        assert re.findall(r"Region\w+ \w+", strip(app)) == [
            "RegionOne ok",
            "RegionTwo connecting",
            "RegionThree connecting",
        ]
        await show_snapshots(pilot, app, snapshots[1:])
        assert line.has_class("-done")
        assert not line.region.area
        assert "connecting" not in strip(app)


async def test_live_console_shows_progress_then_hides_it(console: ConsoleApp, world: World) -> None:
    # One region answers slowly, so the first poll is seen in progress (the others are
    # shown as soon as they report).
    world.regions["RegionThree"].faults.update(latency_ms=150)
    async with quick(console).run_test(size=TABS) as pilot:
        line = progress(console)
        assert line.region.area and not line.has_class("-done")
        assert re.match(r"(Connecting to the clouds|First poll: \d+ of 15)", str(line.render()))
        await wait_for(pilot, lambda: "First poll" in str(line.render()), what="progress")
        assert line.region.area and re.match(r"First poll: \d+ of 15", str(line.render()))
        await wait_for(pilot, lambda: line.has_class("-done"), what="first poll done")
        await pilot.pause()
        assert not line.region.area


@pytest.fixture
async def lost_console(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> ConsoleApp:
    """A console asked to watch a cloud clouds.yaml does not know."""
    settings = Settings(clouds=[CloudSettings(name="no-such-cloud")])
    return ConsoleApp(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )


async def test_an_unknown_cloud_says_so_and_the_console_keeps_running(
    lost_console: ConsoleApp,
) -> None:
    app = lost_console
    async with quick(app).run_test(size=TABS) as pilot:
        line = progress(app)
        await wait_for(pilot, lambda: str(line.render()).startswith("Not connected:"))
        assert "no-such-cloud" in str(line.render())
        assert line.region.area
        assert app.errors and all("no-such-cloud" in e for e in app.errors)
        assert any(n.title == "Cannot connect" for n in app._notifications)
        assert app.is_running
        await pilot.press("2")  # still answers keys
        await pilot.pause()
        assert shown(app) == ["routers"]
        assert pane(app, "routers").header_text.endswith("no data yet")
    assert app.return_code in (0, None)


async def test_stale_kinds_keep_their_rows_and_say_stale_in_the_header() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        hypervisors = pane(app, "hypervisors")
        stale_rows = [k for k in hypervisors.shown_keys if f"/{STALE_REGION}/" in k]
        assert len(stale_rows) == rows_of(Kind.HYPERVISORS, STALE_REGION) > 0
        assert f"STALE: {STALE_REGION}" in hypervisors.header_text
        assert f"{STALE_REGION} STALE" in strip(app)
        assert "STALE" not in pane(app, "tenants").header_text


# -- notifications: per incident, one at a time, never over a dialog ---------------------------


class Dialog(ModalScreen[None]):
    """Stands for any dialog (an action's confirmation) that a toast must not cover."""

    def compose(self) -> ComposeResult:
        yield Static("Send it? y/n")


async def test_one_toast_for_the_new_incidents_at_80x24() -> None:
    """The fixed world raises three critical findings of two causes at once (a dead L3
    agent; a compute host down: its hypervisor and its nova-compute): one toast, which
    names the first incident and counts the other."""
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        critical = [f for f in app.findings if f.severity is Severity.CRITICAL]
        assert len(critical) == 3
        toasts = list(app._notifications)
        assert len(toasts) == 1
        assert toasts[0].title.startswith("New critical incident in Region")
        assert "(+1 other new incident)" in toasts[0].message
        assert "compute host rtwo-cmp00001 down: hypervisor down, nova-compute down" in {
            i.title for i in app.incidents
        }


async def test_no_toast_over_a_dialog() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(Dialog())
        await load_fixed_world(pilot, app)
        assert list(app._notifications) == []
        assert "CRITICAL" in app.dashboard.query_one("#findings-bar", Static).render().plain
