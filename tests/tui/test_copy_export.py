"""`y` / `Y` copy the selected row's id / name with OSC 52 (what Textual writes to the
terminal, through tmux and SSH) from the panes, the findings and a drill-down;
`:export [PATH]` saves the pane, the findings or the events shown, 0600, and says where."""

from __future__ import annotations

import base64
import csv
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from osconsole.tui.command_line import CommandPrompt
from osconsole.tui.drill import DrillScreen
from osconsole.tui.findings import FindingsScreen
from tests.tui.fixtures import fixed_console, load_fixed_world, wait_for


def osc52(text: str) -> str:
    return f"\x1b]52;c;{base64.b64encode(text.encode()).decode()}\a"


def clipboard_writes(app: Any) -> list[str]:
    """What the app writes to the terminal from now on (the OSC 52 sequences among it)."""
    written: list[str] = []
    driver = app._driver
    real = driver.write

    def write(data: str) -> None:
        written.append(data)
        real(data)

    driver.write = write
    return written


def notes(app: Any) -> str:
    return " | ".join(str(n.message) for n in app._notifications)


async def command(pilot: Any, app: Any, text: str) -> None:
    await pilot.press("colon")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPrompt))
    await pilot.press(*text, "enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandPrompt))


async def test_y_and_Y_copy_the_selected_rows_id_and_name_with_osc52() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        written = clipboard_writes(app)
        app.dashboard.action_show_pane("routers")
        await pilot.pause()
        routers = app.dashboard.pane("routers")
        await pilot.press("j")
        row = routers.selected_row
        assert row is not None
        name = row.cells[[c.key for c in routers.view.columns].index("router")].text
        await pilot.press("y")
        await pilot.press("Y")
        assert written[-2:] == [osc52(row.target.id), osc52(name)]
        assert app.clipboard == name and f"Copied id {row.target.id}" in notes(app)

        await pilot.press("f")  # the findings: the subject's id and name
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        finding = app.screen._selected()
        await pilot.press("y", "Y")
        assert written[-2:] == [osc52(finding.subject.id), osc52(finding.subject.name)]


async def test_y_in_a_drill_down_copies_the_selected_line_else_the_object() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        written = clipboard_writes(app)
        app.dashboard.action_show_pane("hypervisors")
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
        screen = app.screen
        screen.set_focus(None)
        await pilot.press("y", "Y")
        assert written[-2:] == [osc52(screen.target.id), osc52(screen.crumb)]
        view, line = next(
            (v, line) for v in screen.views.values() for line in v.section.lines if line.target
        )
        view.table.focus()
        view.table.move_cursor(row=view.section.lines.index(line))
        await pilot.press("y")
        assert written[-1] == osc52(line.target.id)


async def test_nothing_selected_copies_nothing_and_says_so() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        written = clipboard_writes(app)  # no data yet: every pane is empty
        await pilot.press("y")
        assert not any("\x1b]52" in w for w in written)
        assert "Nothing selected" in notes(app)


async def test_export_saves_the_pane_shown_as_json_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        app.dashboard.action_show_pane("routers")
        await pilot.pause()
        routers = app.dashboard.pane("routers")
        await command(pilot, app, "export out/routers.json")
        assert "cannot write" in notes(app)  # no such directory: said, the app runs on
        (tmp_path / "out").mkdir()
        await command(pilot, app, "export out/routers.json")
        path = tmp_path / "out" / "routers.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        body = json.loads(path.read_text())
        ids = {r.target.id for r in routers.view.rows}
        assert body["table"] == "routers" and len(body["rows"]) == len(routers.shown_keys)
        assert {r["id"] for r in body["rows"]} <= ids
        assert str(path) in notes(app)


async def test_export_saves_the_findings_shown_as_csv_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        await command(pilot, app, "export")
        assert isinstance(app.screen, FindingsScreen)  # it stays where it was
        (path,) = tmp_path.glob("osconsole-findings-*.csv")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        rows = list(csv.DictReader(path.open()))
        shown = app.screen.query_one("#findings", DataTable).row_count
        assert len(rows) == shown == len(app.findings)
        assert rows[0]["id"] == app.screen._selected().subject.id
        assert rows[0]["since"].endswith("Z")
