"""LivePane under Textual's pilot: rows applied by key, cursor, filter, sort, Enter, header.

Views are built here by hand (three regions of routers) so each test states
exactly which rows changed; the pane must touch only those.
"""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.color import Color

from osconsole.model import Kind, RegionRef
from osconsole.themes import CONSOLE_TCSS, THEMES, console_css, register_themes, theme_name
from osconsole.views import Cell, Column, Row, Severity, TableView, Target, Tone
from osconsole.widgets.pane import (
    LivePane,
    RowTable,
    ToneCell,
    age_text,
    fitted,
    sort_order,
)

COLUMNS = (
    Column("region", "Region"),
    Column("name", "Name"),
    Column("state", "State"),
    Column("ram", "RAM", numeric=True),
)
REGIONS = ("RegionOne", "RegionTwo", "RegionThree")
SEVERITY_WORDS = {Severity.CRITICAL: "DOWN", Severity.WARNING: "DEGRADED", Severity.OK: "ok"}
SEVERITY_TONES = {Severity.CRITICAL: Tone.CRITICAL, Severity.WARNING: Tone.WARNING}


def router(n: int, severity: Severity = Severity.OK, ram: int | None = None) -> Row:
    region = REGIONS[n % 3]
    ref = RegionRef("cloud", region)
    ram = n * 10 if ram is None else ram
    cells = (
        Cell(region),
        Cell(f"router-{n:03d}"),
        Cell(SEVERITY_WORDS[severity], SEVERITY_TONES.get(severity, Tone.OK)),
        Cell(f"{ram} MB", sort=ram) if ram >= 0 else Cell("-"),
    )
    return Row(f"cloud/{region}/r{n}", cells, severity, Target(ref, Kind.ROUTERS, f"r{n}"))


def make_view(rows: list[Row], **kwargs: Any) -> TableView:
    """Rows worst first, then by region and name, as the views module orders them."""
    ordered = sorted(rows, key=lambda r: (-r.severity, r.cells[0].text, r.cells[1].text))
    return TableView("routers", "L3 HA routers", COLUMNS, tuple(ordered), **kwargs)


class Harness(App[None]):
    """One LivePane filling a screen; records the targets it selects."""

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[Target] = []

    def compose(self) -> ComposeResult:
        yield LivePane("L3 HA routers", id="pane")

    def on_mount(self) -> None:
        register_themes(self)

    def on_live_pane_selected(self, message: LivePane.Selected) -> None:
        self.selected.append(message.target)


def texts(pane: LivePane, key: str) -> list[str]:
    return [cell.text for cell in pane.table.get_row(key)]


def table_keys(pane: LivePane) -> list[str]:
    """The table's row order, read through DataTable's own public API."""
    return [row.key.value for row in pane.table.ordered_rows]


# -- applying views by key ------------------------------------------------------------------------


async def test_update_changes_three_rows_adds_one_removes_one_by_key() -> None:
    rows = [router(n) for n in range(10)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(make_view(rows, oldest_age=3))
        await pilot.pause()
        table = pane.table
        before = {row.key: table.get_row(row.key) for row in rows}

        updated = list(rows)
        updated[2] = router(2, Severity.CRITICAL)
        updated[5] = router(5, ram=999)
        updated[7] = router(7, Severity.WARNING)
        del updated[9]
        updated.append(router(10))
        view = make_view(updated, oldest_age=1)
        pane.show(view)
        await pilot.pause()

        assert table.row_count == 10
        assert table_keys(pane) == [row.key for row in view.rows] == pane.shown_keys
        assert "cloud/RegionOne/r9" not in table.rows
        assert texts(pane, "cloud/RegionTwo/r10") == ["RegionTwo", "router-010", "ok", "100 MB"]
        assert texts(pane, "cloud/RegionThree/r2")[2] == "DOWN"
        assert table.get_cell("cloud/RegionThree/r2", "state").tone == Tone.CRITICAL
        assert texts(pane, "cloud/RegionThree/r5")[3] == "999 MB"
        assert texts(pane, "cloud/RegionTwo/r7")[2] == "DEGRADED"
        # Unchanged cells are the very objects drawn before: nothing was refilled.
        for key in ("cloud/RegionOne/r0", "cloud/RegionTwo/r1", "cloud/RegionOne/r3"):
            assert all(a is b for a, b in zip(table.get_row(key), before[key], strict=True))
        # In a changed row, only the changed cell was replaced.
        new_r5, old_r5 = table.get_row("cloud/RegionThree/r5"), before["cloud/RegionThree/r5"]
        assert [a is b for a, b in zip(new_r5, old_r5, strict=True)] == [True, True, True, False]
        # The index DataTable keeps agrees with the order drawn on screen.
        assert [table.get_row_index(key) for key in pane.shown_keys] == list(range(10))
        first_line = table.render_line(1).text
        assert "router-002" in first_line and "DOWN" in first_line


async def test_show_before_mount_is_applied_on_mount() -> None:
    class Early(Harness):
        def compose(self) -> ComposeResult:
            pane = LivePane("early", id="pane")
            pane.show(make_view([router(1), router(2, Severity.CRITICAL)], oldest_age=2))
            yield pane

    async with Early().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        await pilot.pause()
        assert table_keys(pane) == ["cloud/RegionThree/r2", "cloud/RegionTwo/r1"]
        assert "data 2s old" in pane.header_text


async def test_new_columns_start_the_table_over() -> None:
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(make_view([router(1), router(2)]))
        other = TableView(
            "tenants",
            "Tenants",
            (Column("region", "Region"), Column("project", "Project")),
            (
                Row(
                    "c/RegionOne/p",
                    (Cell("RegionOne"), Cell("demo")),
                    Severity.OK,
                    Target(RegionRef("c", "RegionOne"), Kind.TENANTS, "p"),
                ),
            ),
        )
        pane.show(other)
        await pilot.pause()
        assert [c.key.value for c in pane.table.ordered_columns] == ["region", "project"]
        assert table_keys(pane) == ["c/RegionOne/p"]
        assert texts(pane, "c/RegionOne/p") == ["RegionOne", "demo"]


async def test_short_rows_are_padded_and_a_duplicate_key_shows_its_last_row_once() -> None:
    rows = [router(1), router(2)]
    short = Row("k/short", (Cell("RegionOne"),), Severity.OK, rows[0].target)
    last = router(1, ram=5)
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(TableView("routers", "t", COLUMNS, (*rows, short, last)))
        await pilot.pause()
        assert pane.shown_keys == ["cloud/RegionTwo/r1", "cloud/RegionThree/r2", "k/short"]
        assert texts(pane, "cloud/RegionTwo/r1")[3] == "5 MB"
        assert texts(pane, "k/short") == ["RegionOne", "", "", ""]
        full = Row("k/short", router(3).cells, Severity.OK, rows[0].target)
        pane.show(TableView("routers", "t", COLUMNS, (*rows, full)))
        await pilot.pause()
        assert texts(pane, "k/short") == ["RegionOne", "router-003", "ok", "30 MB"]
        assert texts(pane, "cloud/RegionTwo/r1")[3] == "10 MB"


def spy_on_repaints(table: RowTable) -> list[tuple[Any, ...]]:
    """The regions the table asks to repaint from now on (() for the whole table)."""
    calls: list[tuple[Any, ...]] = []
    refresh = table.refresh

    def spy(*regions: Any, **kwargs: Any) -> Any:
        calls.append(regions)
        return refresh(*regions, **kwargs)

    table.refresh = spy  # type: ignore[method-assign]
    return calls


async def test_a_changed_row_repaints_its_line_only_and_a_row_out_of_sight_nothing() -> None:
    rows = [router(n) for n in range(200)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        view = make_view(rows)
        pane.show(view)
        await pilot.pause()
        table = pane.table
        repaints = spy_on_repaints(table)
        header = spy_on_repaints(pane.query_one("#pane-header"))  # type: ignore[arg-type]
        updated = list(view.rows)
        updated[3] = router(int(updated[3].key.split("r")[-1]), ram=4242)  # on screen
        updated[150] = router(int(updated[150].key.split("r")[-1]), ram=4343)  # far below
        pane.show(TableView("routers", "L3 HA routers", COLUMNS, tuple(updated)))
        await pilot.pause()
        assert texts(pane, updated[3].key)[3] == "4242 MB"
        assert texts(pane, updated[150].key)[3] == "4343 MB"
        assert len(repaints) == 1 and len(repaints[0]) == 1
        (region,) = repaints[0]
        assert (region.y, region.height) == (1 + 3, 1)  # below the header row
        assert header == []  # the header says the same: not drawn again

        # Rows that move are repainted from the first visible line that changed.
        repaints.clear()
        moved = list(updated)
        moved[5], moved[6] = moved[6], moved[5]
        pane.show(TableView("routers", "L3 HA routers", COLUMNS, tuple(moved)))
        await pilot.pause()
        assert pane.shown_keys[5:7] == [moved[5].key, moved[6].key]
        assert [(r.y, r.height) for (r,) in repaints] == [(1 + 5, table.size.height + 1 - 5)]


# -- cursor ---------------------------------------------------------------------------------------


async def test_cursor_stays_on_its_row_through_an_update_that_resorts() -> None:
    rows = [router(n) for n in range(8)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(make_view(rows))
        assert pane.select_key(pane.shown_keys[6]) and pane.table.cursor_row == 6
        assert not pane.select_key("cloud/RegionOne/nope")
        pane.focus()
        await pilot.press("ctrl+home", "down", "down", "down")
        key = pane.shown_keys[3]
        assert pane.selected_target is not None and pane.selected_target.id == key.split("/")[-1]

        # Two rows below the cursor turn critical: they move to the top.
        updated = list(rows)
        updated[4] = router(4, Severity.CRITICAL)
        updated[7] = router(7, Severity.CRITICAL)
        pane.show(make_view(updated))
        await pilot.pause()
        assert pane.table.cursor_row == 5
        assert pane.shown_keys[pane.table.cursor_row] == key

        pane.sort_by("ram")  # a re-sort by column keeps it too
        await pilot.pause()
        assert pane.shown_keys[pane.table.cursor_row] == key


async def test_untouched_cursor_stays_on_the_worst_row() -> None:
    rows = [router(n) for n in range(8)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(make_view(rows))
        updated = list(rows)
        updated[4] = router(4, Severity.CRITICAL)
        pane.show(make_view(updated))
        await pilot.pause()
        assert pane.table.cursor_row == 0
        assert pane.selected_target == updated[4].target


async def test_cursor_on_a_removed_row_is_clamped() -> None:
    rows = [router(n) for n in range(5)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(make_view(rows))
        pane.focus()
        await pilot.press("ctrl+end")
        assert pane.table.cursor_row == 4
        last = pane.shown_keys[4]
        pane.show(make_view([r for r in rows if r.key != last]))
        await pilot.pause()
        assert pane.table.cursor_row == 3
        assert last not in pane.shown_keys


# -- filter and sort ------------------------------------------------------------------------------


async def test_filter_shows_matching_rows_and_follows_new_data() -> None:
    rows = [router(n) for n in range(9)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(make_view(rows))
        table = pane.table
        kept = {key: table.get_row(key) for key in pane.shown_keys}
        pane.set_filter("regiontwo")
        await pilot.pause()
        expected = [r.key for r in make_view(rows).rows if r.cells[0].text == "RegionTwo"]
        assert table_keys(pane) == expected and len(expected) == 3
        assert "filter: regiontwo (3 of 9)" in pane.header_text
        # Rows that stay are not rebuilt by filtering.
        assert all(table.get_row(key)[1] is kept[key][1] for key in expected)

        updated = [*rows, router(10)]  # r10 is in RegionTwo
        pane.show(make_view(updated))
        await pilot.pause()
        assert "cloud/RegionTwo/r10" in table_keys(pane)
        assert "filter: regiontwo (4 of 10)" in pane.header_text

        pane.set_filter("DOWN")  # matches any cell text, case-insensitively
        await pilot.pause()
        assert table_keys(pane) == []
        pane.show(make_view([router(3, Severity.CRITICAL), *updated[4:]]))
        await pilot.pause()
        assert table_keys(pane) == ["cloud/RegionOne/r3"]

        pane.set_filter("")
        await pilot.pause()
        assert table.row_count == 7
        assert "filter" not in pane.header_text and "7 rows" in pane.header_text


async def test_filter_follows_a_row_whose_text_changes_in_place() -> None:
    rows = [router(n) for n in range(10)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        view = make_view(rows)
        pane.show(view)
        pane.set_filter("4242 MB")
        await pilot.pause()
        assert pane.shown_keys == []
        updated = list(view.rows)
        updated[3] = router(int(updated[3].key.split("r")[-1]), ram=4242)  # same place
        pane.show(TableView("routers", "L3 HA routers", COLUMNS, tuple(updated)))
        await pilot.pause()
        assert pane.shown_keys == [updated[3].key]
        pane.set_filter("")
        await pilot.pause()
        assert pane.shown_keys == [row.key for row in updated]


async def test_sort_by_toggles_desc_asc_then_back_to_worst_first() -> None:
    rows = [router(0, ram=300), router(1, Severity.CRITICAL, ram=100), router(2, ram=-1)]
    rows += [router(3, ram=200)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        view = make_view(rows)
        pane.show(view)
        worst_first = [r.key for r in view.rows]

        pane.sort_by("ram")
        assert pane.shown_keys == [
            "cloud/RegionOne/r0",
            "cloud/RegionOne/r3",
            "cloud/RegionTwo/r1",
            "cloud/RegionThree/r2",  # "-" has no value: last in both directions
        ]
        assert "sorted by RAM desc" in pane.header_text
        pane.sort_by("ram")
        assert pane.shown_keys == [
            "cloud/RegionTwo/r1",
            "cloud/RegionOne/r3",
            "cloud/RegionOne/r0",
            "cloud/RegionThree/r2",
        ]
        assert "sorted by RAM asc" in pane.header_text
        pane.sort_by("ram")
        assert pane.shown_keys == worst_first
        assert "sorted" not in pane.header_text

        pane.sort_by("name")  # text columns start ascending
        assert pane.shown_keys[0] == "cloud/RegionOne/r0"
        assert "sorted by Name asc" in pane.header_text
        pane.show(make_view([*rows, router(4, ram=50)]))  # new data keeps the sort
        await pilot.pause()
        assert pane.shown_keys[-1] == "cloud/RegionTwo/r4"
        assert table_keys(pane) == pane.shown_keys


async def test_clicking_a_column_header_sorts_by_it() -> None:
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        pane.show(make_view([router(n) for n in range(4)]))
        await pilot.pause()
        table = pane.table
        x = sum(c.get_render_width(table) for c in table.ordered_columns[:3]) + 2
        await pilot.click(table, offset=(x, 0))
        await pilot.pause()
        assert pane.sort_column == ("ram", True)
        assert "sorted by RAM desc" in pane.header_text


# -- selection, header ----------------------------------------------------------------------------


async def test_enter_posts_selected_with_the_rows_target() -> None:
    rows = [router(n) for n in range(5)]
    async with Harness().run_test(size=(120, 40)) as pilot:
        app = pilot.app
        pane = app.query_one(LivePane)
        view = make_view(rows)
        pane.show(view)
        pane.focus()
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert app.selected == [view.rows[2].target]
        assert app.selected[0] == Target(RegionRef("cloud", "RegionThree"), Kind.ROUTERS, "r2")
        assert pane.selected_target == view.rows[2].target


async def test_header_says_age_stale_regions_paused_and_counts_in_words() -> None:
    rows = [router(1, Severity.CRITICAL), router(2, Severity.WARNING), router(3)]
    view = make_view(
        rows,
        oldest_age=12.4,
        stale_regions=("RegionTwo",),
        counts={Severity.CRITICAL: 1, Severity.WARNING: 1, Severity.OK: 1},
        notes=("Placement unreachable in RegionTwo",),
    )
    async with Harness().run_test(size=(200, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        assert "no data yet" in pane.header_text
        pane.show(view)
        header = pane.header_text
        assert header.startswith("L3 HA routers")
        for words in ("1 CRITICAL", "1 WARNING", "data 12s old", "STALE: RegionTwo", "3 rows"):
            assert words in header
        assert "Placement unreachable in RegionTwo" in header
        assert "PAUSED" not in header
        pane.paused = True
        await pilot.pause()
        assert pane.header_text.startswith("L3 HA routers | PAUSED | STALE: RegionTwo | data 12s")
        pane.set_age(125)
        assert "data 2m old" in pane.header_text
        pane.paused = False
        await pilot.pause()
        assert "PAUSED" not in pane.header_text


def test_age_text_is_compact_and_says_unknown() -> None:
    assert [age_text(s) for s in (0, 4.9, 59, 60, 3599, 3600, 86400 * 3)] == [
        "0s",
        "4s",
        "59s",
        "1m",
        "59m",
        "1h",
        "3d",
    ]
    assert age_text(None) == "?"


# -- tones and themes -----------------------------------------------------------------------------


async def test_tones_keep_text_attributes_and_follow_the_theme() -> None:
    async with Harness().run_test(size=(120, 40)) as pilot:
        app = pilot.app
        pane = app.query_one(LivePane)
        pane.show(make_view([router(1, Severity.CRITICAL), router(2, Severity.WARNING)]))
        await pilot.pause()
        app.theme = theme_name("dark")
        await pilot.pause()
        critical = pane.table.get_cell("cloud/RegionTwo/r1", "state")
        assert isinstance(critical, ToneCell)
        style = critical.__rich__().style
        assert isinstance(style, Style) and style.bold and style.reverse
        assert style.color is not None
        assert style.color.triplet.hex == "#ff5f5f"
        assert pane.tones.get(Tone.WARNING).bold and not pane.tones.get(Tone.WARNING).reverse

        app.theme = theme_name("high-contrast")
        await pilot.pause()
        await pilot.pause()
        assert critical.__rich__().style.color.triplet.hex == "#ff0000"
        warning = pane.tones.get(Tone.WARNING)
        assert warning.color is not None and warning.color.triplet.hex == "#ffff00"
        # What is on screen follows, not only what the next render would produce.
        # (Line 2: the warning row; line 1 has the cursor, whose colours win.)
        (drawn,) = [seg for seg in pane.table.render_line(2) if "DEGRADED" in seg.text]
        assert drawn.style is not None and drawn.style.bold
        assert drawn.style.color is not None and drawn.style.color.triplet.hex == "#ffff00"


async def test_no_color_keeps_tones_apart_by_attributes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    async with Harness().run_test(size=(120, 40)) as pilot:
        app = pilot.app
        assert app.no_color
        pane = app.query_one(LivePane)
        pane.show(make_view([router(1, Severity.CRITICAL), router(2, Severity.WARNING)]))
        await pilot.pause()
        critical, warning = pane.tones.get(Tone.CRITICAL), pane.tones.get(Tone.WARNING)
        ok, dim = pane.tones.get(Tone.OK), pane.tones.get(Tone.DIM)
        attributes = [
            (bool(s.bold), bool(s.reverse), bool(s.underline), bool(s.dim))
            for s in (critical, warning, ok, dim)
        ]
        assert len(set(attributes)) == 4, attributes
        assert attributes[0] == (True, True, False, False)
        assert attributes[1] == (True, False, True, False)


async def test_high_contrast_stylesheet_underlines_warnings() -> None:
    class Styled(Harness):
        CSS_PATH = CONSOLE_TCSS

    async with Styled().run_test(size=(120, 40)) as pilot:
        app = pilot.app
        app.theme = theme_name("high-contrast")
        pane = app.query_one(LivePane)
        pane.show(make_view([router(2, Severity.WARNING)]))
        await pilot.pause()
        await pilot.pause()
        warning = pane.tones.get(Tone.WARNING)
        assert warning.bold and warning.underline
        assert warning.color is not None and warning.color.triplet.hex == "#ffff00"
        app.theme = theme_name("dark")
        await pilot.pause()
        await pilot.pause()
        assert not pane.tones.get(Tone.WARNING).underline


def xterm_256() -> set[str]:
    """The colours of the 6x6x6 cube and the grey ramp of the xterm palette."""
    levels = (0, 95, 135, 175, 215, 255)
    cube = {f"#{r:02x}{g:02x}{b:02x}" for r in levels for g in levels for b in levels}
    greys = {f"#{v:02x}{v:02x}{v:02x}" for v in range(8, 239, 10)}
    return cube | greys


@pytest.mark.parametrize("setting", sorted(THEMES))
def test_theme_colours_are_exact_in_256_colours(setting: str) -> None:
    theme = THEMES[setting]
    assert theme.name == f"osconsole-{setting}"
    fields = (
        "primary",
        "secondary",
        "accent",
        "warning",
        "error",
        "success",
        "foreground",
        "background",
        "surface",
        "panel",
        "boost",
    )
    values = [getattr(theme, name) for name in fields if getattr(theme, name)]
    values += [v for v in theme.variables.values() if v.startswith("#")]
    assert values
    palette = xterm_256()
    assert {Color.parse(v).hex.lower()[:7] for v in values} <= palette


def test_the_stylesheet_ships_in_the_package_and_defines_both_layouts() -> None:
    css = console_css()
    assert CONSOLE_TCSS.read_text() == css
    assert ".grid {" in css and ".tabs {" in css and "grid-size: 2 2" in css


async def test_grid_and_tabs_layouts_place_the_four_panes() -> None:
    from textual.containers import Container

    class Dashboard(App[None]):
        CSS_PATH = CONSOLE_TCSS

        def compose(self) -> ComposeResult:
            with Container(id="panes", classes="grid"):
                for name in ("hypervisors", "routers", "tenants", "liveness"):
                    yield LivePane(name, id=name, classes="-active" if name == "routers" else "")

    async with Dashboard().run_test(size=(160, 50)) as pilot:
        panes = list(pilot.app.query(LivePane))
        regions = [p.region for p in panes]
        assert len({r.x for r in regions}) == 2 and len({r.y for r in regions}) == 2
        container = pilot.app.query_one("#panes")
        container.set_classes("tabs")
        await pilot.pause()
        shown = [p.id for p in panes if p.display]
        assert shown == ["routers"]
        assert pilot.app.query_one("#routers").region.height >= 45


# -- the pure helpers -----------------------------------------------------------------------------


def test_fitted_pads_and_cuts_rows_to_the_columns() -> None:
    short = (Cell("RegionOne"),)
    assert [c.text for c in fitted(short, 2)] == ["RegionOne", ""]
    full = router(1).cells
    assert fitted(full, 4) is full
    assert [c.text for c in fitted(full, 2)] == ["RegionTwo", "router-001"]


def test_sort_order_buckets_mixed_values_and_keeps_missing_last() -> None:
    keys = list("abcdef")
    values = [3, "x", None, 1.5, "W", float("nan")]
    assert sort_order(keys, values, descending=False) == ["d", "a", "e", "b", "c", "f"]
    assert sort_order(keys, values, descending=True) == ["a", "d", "b", "e", "c", "f"]
    # Homogeneous columns (the fast path): stable, so ties keep the worst-first order.
    assert sort_order(["c", "a", "b"], [1, 1, 1], descending=True) == ["c", "a", "b"]
    assert sort_order(["c", "a", "b"], [2, 1.5, 3], descending=True) == ["b", "c", "a"]
    assert sort_order(["c", "a", "b"], ["b", "A", "c"], descending=False) == ["a", "c", "b"]


# -- performance (a printed figure, not an assertion) ---------------------------------------------


def _perf_rows(count: int, generation: int) -> list[Row]:
    rows = []
    for n in range(count):
        region = REGIONS[n % 3]
        rows.append(
            Row(
                f"cloud/{region}/r{n}",
                (
                    Cell(region),
                    Cell(f"router-{n:05d}"),
                    Cell("ok", Tone.OK),
                    Cell(f"{n % 977} MB", sort=n % 977),
                ),
                Severity.OK,
                Target(RegionRef("cloud", region), Kind.ROUTERS, f"r{n}"),
            )
        )
    return rows


async def test_twenty_thousand_rows_with_one_percent_changed() -> None:
    count = 20_000
    rows = _perf_rows(count, 0)
    async with Harness().run_test(size=(120, 40)) as pilot:
        pane = pilot.app.query_one(LivePane)
        started = time.perf_counter()
        pane.show(make_view(rows))
        initial = time.perf_counter() - started
        await pilot.pause()
        timings = []
        rng = random.Random(4)
        for generation in range(1, 4):
            fresh = _perf_rows(count, generation)  # a new poll: every Cell a new object
            changed = rng.sample(range(count), count // 100)
            for n in changed:
                fresh[n] = router(n, Severity.CRITICAL if n % 2 else Severity.WARNING)
            view = make_view(fresh)
            started = time.perf_counter()
            pane.show(view)
            timings.append(time.perf_counter() - started)
            await pilot.pause()
            assert table_keys(pane)[:200] == [row.key for row in view.rows[:200]]
            assert pane.table.row_count == count
        print(
            f"\nLivePane: 20,000 rows: first show {initial * 1000:.0f} ms; "
            f"1% changed (re-sorted): best {min(timings) * 1000:.1f} ms, "
            f"median {sorted(timings)[1] * 1000:.1f} ms"
        )
