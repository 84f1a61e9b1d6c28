"""Reading at 80 columns: each pane drops its least needed columns first when narrow
(never the name, the severity or the problem), takes them back when wide, and shows
the selected row in full, wrapped, in a detail line under the table."""

from __future__ import annotations

from typing import Any

from osconsole.tui.findings import FindingsScreen, clock
from osconsole.views.routers import ROUTER_COLUMNS
from tests.tui.fixtures import fixed_console, load_fixed_world, wait_for


def table_columns(pane: Any) -> list[str]:
    return [str(column.key.value) for column in pane.table.ordered_columns]


def detail(pane: Any) -> Any:
    return pane.query_one("#pane-detail")


async def test_a_narrow_pane_drops_columns_by_priority_and_a_wide_one_takes_them_back() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        app.dashboard.action_show_pane("routers")
        await pilot.pause()
        routers = app.dashboard.pane("routers")
        narrow = table_columns(routers)
        assert {"severity", "router", "actives", "finding"} <= set(narrow)
        assert not {"project", "ha", "agents", "replicas", "checked"} & set(narrow)
        widths = {
            str(c.key.value): c.get_render_width(routers.table)
            for c in routers.table.ordered_columns
        }
        before = sum(w for key, w in widths.items() if key != "finding")
        assert before <= 80 - 25  # the problem column is in sight, with room to read it
        await pilot.press("j", "j")
        row = routers.selected_row
        await pilot.resize_terminal(200, 30)  # tabs: the pane is 200 wide
        await wait_for(pilot, lambda: table_columns(routers) == [c.key for c in ROUTER_COLUMNS])
        assert routers.selected_row is row  # the cursor stays on its row
        assert routers.table.row_count == len(routers.shown_keys)
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: table_columns(routers) == narrow)
        assert routers.selected_row is row


async def test_the_detail_line_shows_the_selected_row_in_full() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        app.dashboard.action_show_pane("routers")
        await pilot.pause()
        routers = app.dashboard.pane("routers")
        await pilot.press("j")
        row = routers.selected_row
        line = detail(routers)
        assert line.display and line.region.height >= 2  # wrapped, not cut
        said = str(line.render())
        project = row.cells[[c.key for c in ROUTER_COLUMNS].index("project")].text
        agents = row.cells[[c.key for c in ROUTER_COLUMNS].index("agents")].text
        assert f"Project: {project}" in said and f"Agents: {agents}" in said  # hidden
        await pilot.press("j")
        assert routers.selected_row is not row
        assert str(detail(routers).render()) == routers.detail_text() != said
        app.dashboard.action_show_pane("hypervisors")  # only the pane looked at has one
        await pilot.pause()
        assert not detail(routers).display


async def test_the_findings_list_at_80_columns_shows_the_selected_finding_in_full() -> None:
    app = fixed_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        await pilot.press("j")
        finding = app.screen._selected()
        line = app.screen.query_one("#row-detail")
        said = str(line.render())
        assert line.region.height >= 2 and f"Since (UTC): {clock(finding.since)}" in said
        table = app.screen.query_one("#findings")
        shown = table.get_row_at(table.cursor_row)[2].plain  # What: cut in the table
        assert len(shown) > 40 and f"What: {shown}" in said  # whole in the detail line
