"""The findings list in triage: `k` moves (never acknowledges), acknowledging is
confirmed and recorded, acknowledged findings are apart and kept across restarts,
and the list keeps its place when findings change."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import DataTable

from osconsole.acks import acks_path
from osconsole.tui.acknowledge import AcknowledgeDialog
from osconsole.tui.findings import FindingsScreen
from tests.tui.fixtures import fixed_console, load_fixed_world, wait_for


def tables(app: Any) -> tuple[DataTable[Any], DataTable[Any]]:
    screen = app.screen
    return screen.query_one("#findings", DataTable), screen.query_one("#acknowledged", DataTable)


async def test_j_and_k_move_the_cursor_and_acknowledge_nothing() -> None:
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        open_list, _ = tables(app)
        await pilot.press("j", "j", "j")
        assert open_list.cursor_row == 3
        await pilot.press("k", "k", "k")
        assert open_list.cursor_row == 0
        assert not any(f.acknowledged for f in app.findings)
        assert "3 CRITICAL" in str(app.dashboard.query_one("#findings-bar").render())


async def test_acknowledging_asks_first_records_who_and_keeps_it_apart_across_restarts() -> None:
    """`a` on an incident's first line acknowledges the incident: its cause and every
    symptom, each recorded (who, note, expiry) and kept across restarts."""
    app = fixed_console()
    async with app.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        incident = app.incidents[0]  # the list's first line: the worst incident's cause
        members = {f.key for f in incident.findings}
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AcknowledgeDialog))
        await pilot.press("escape")  # cancelled: nothing acknowledged
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        assert not any(f.acknowledged for f in app.findings)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AcknowledgeDialog))
        await pilot.press(*"CHG-7 on it", "enter", *"2h", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        acked = [f for f in app.findings if f.acknowledged]
        assert {f.key for f in acked} == members
        for f in acked:
            assert f.ack is not None and f.ack.note == "CHG-7 on it" and f.ack.by
            assert f.ack.expires == f.ack.at + 7200
        open_list, acked_list = tables(app)
        assert not members & {k.value for k in open_list.rows}
        assert {k.value for k in acked_list.rows} == members
        critical = sum(1 for f in app.findings if f.severity.name == "CRITICAL")
        still = critical - sum(1 for f in acked if f.severity.name == "CRITICAL")
        bar = str(app.dashboard.query_one("#findings-bar").render())
        assert f"{still} CRITICAL" in bar and f"({len(members)} acknowledged)" in bar
        await wait_for(pilot, lambda: acks_path().exists(), what="the file written")
    kept = json.loads(acks_path().read_text())["acknowledged"]
    assert {k["key"] for k in kept} == members and kept[0]["note"] == "CHG-7 on it"

    again = fixed_console()  # a restart: the same findings come back acknowledged
    async with again.run_test(size=(100, 30)) as pilot:
        await load_fixed_world(pilot, again)
        assert all(f.acknowledged for f in again.findings if f.key in members)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(again.screen, FindingsScreen))
        _, acked_list = tables(again)
        await pilot.press("tab")  # to the acknowledged list
        assert again.focused is acked_list
        for _ in members:
            await pilot.press("u")
        assert not any(f.acknowledged for f in again.findings)


async def test_the_list_keeps_its_horizontal_scroll_when_findings_change() -> None:
    app = fixed_console()
    async with app.run_test(size=(60, 24)) as pilot:
        await load_fixed_world(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        open_list, _ = tables(app)
        await pilot.pause()
        open_list.scroll_to(x=30, animate=False, immediate=True)
        await pilot.pause()
        assert open_list.scroll_x == 30
        changed = (replace(app.findings[0], reason="a new reason " * 4), *app.findings[2:])
        app.state.verdicts = replace(app.state.verdicts, findings=changed, incidents=())
        app.screen.refresh_rows()
        await pilot.pause()
        await pilot.pause()
        assert open_list.scroll_x == 30
        again = (replace(changed[0], reason="another reason " * 4), *changed[1:])
        app.state.verdicts = replace(app.state.verdicts, findings=again, incidents=())
        app.screen.refresh_rows()  # the same rows, one cell changed
        await pilot.pause()
        assert open_list.scroll_x == 30


def test_the_state_dir_is_temporary(home: Path) -> None:
    assert str(acks_path()).startswith(str(home))
