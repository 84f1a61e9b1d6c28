"""Stale and unknown shown honestly in the console: rows of a region whose last poll
failed are dimmed and the pane header says since when; heartbeat ages keep counting
between polls; a finding that could not be confirmed says so."""

from __future__ import annotations

from typing import Any

from osconsole.health.findings import Finding, Severity, Subject
from osconsole.health.incidents import Incident
from osconsole.model import Agent, Kind, RegionRef, Snapshot
from osconsole.tui.findings import bar_text, open_cells
from osconsole.widgets.boards import FindingsBoard
from osconsole.widgets.pane import LivePane
from tests.tui.fixtures import (
    APP_NOW,
    CLOUD,
    STALE_REGION,
    WatchedConsole,
    console_settings,
    fixed_console,
    load_fixed_world,
    quick,
    show_snapshots,
)

WIDE = (120, 40)
REF = RegionRef(CLOUD, "RegionOne")


def tones_by_region(pane: LivePane) -> dict[str, set[str]]:
    """Every tone used in each region's rows, as the table holds them."""
    found: dict[str, set[str]] = {}
    for key in pane.shown_keys:
        region = key.split("/")[1]
        found.setdefault(region, set()).update(cell.tone for cell in pane.table.get_row(key))
    return found


async def test_rows_of_a_stale_region_are_dimmed_and_the_header_says_since_when() -> None:
    app = fixed_console()
    async with app.run_test(size=WIDE) as pilot:
        await load_fixed_world(pilot, app)
        pane = app.dashboard.pane("hypervisors")
        # The fixed world's STALE_REGION failed its hypervisors poll 5 s (APP_NOW) ago.
        assert f"STALE: {STALE_REGION} 5s" in pane.header_text
        tones = tones_by_region(pane)
        assert tones[STALE_REGION] == {"dim"}
        assert "dim" not in tones["RegionOne"]


class SteppedClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def agent(age: float) -> Agent:
    return Agent(
        id="a1",
        agent_type="L3 agent",
        binary="neutron-l3-agent",
        host="net1",
        alive=True,
        admin_state_up=True,
        heartbeat_at=APP_NOW - age,
        heartbeat_age=age,
        started_at=APP_NOW - 1000,
    )


def heartbeat(pane: LivePane) -> str:
    (key,) = pane.shown_keys
    return pane.table.get_cell(key, "heartbeat").__rich__().plain.strip()


async def test_heartbeat_ages_keep_counting_between_polls() -> None:
    clock = SteppedClock(APP_NOW)
    app = quick(WatchedConsole(console_settings(), poll=False, clock=clock))
    async with app.run_test(size=WIDE) as pilot:
        snap: Snapshot[Any] = Snapshot(
            REF, Kind.AGENTS, Snapshot.freeze({"a1": agent(10.0)}), fetched_at=APP_NOW
        )
        app.state.expect([REF], [Kind.AGENTS])
        await show_snapshots(pilot, app, [snap])
        await pilot.press("4")
        await pilot.pause()
        pane = app.dashboard.pane("liveness")
        assert heartbeat(pane) == "10s"
        clock.now += 15  # no poll since: the last heartbeat we know of is older
        app._tick()
        await pilot.pause()
        assert heartbeat(pane) == "25s"
        assert "25s" in app.export_screenshot()  # drawn, not only held
        clock.now += 100
        app._tick()
        await pilot.pause()
        assert heartbeat(pane) == "2m"


def test_the_findings_bar_says_a_finding_is_unconfirmed() -> None:
    subject = Subject(REF, Kind.AGENTS, "a1", "net1")
    found = Finding("k", "agent.down", Severity.CRITICAL, subject, "agent dead", 1000, 1060)
    assert "unconfirmed" not in bar_text([found]).plain
    held = Finding(
        "k", "agent.down", Severity.CRITICAL, subject, "agent dead", 1000, 1060, confirmed=False
    )
    assert "agent dead (unconfirmed: not read since 00:17:40 UTC)" in bar_text([held]).plain


def test_a_since_that_is_only_our_first_sighting_is_labelled_first_seen() -> None:
    """lead.stuck said "(since 00:16 UTC)" with no label: our first sighting is no since."""
    subject = Subject(REF, Kind.AGENTS, "a1", "net1")
    seen = Finding("k", "lead.stuck", Severity.CRITICAL, subject, "2 boots STUCK", 1000, 1060)
    told = Finding(
        "k", "agent.down", Severity.CRITICAL, subject, "agent dead", 1000, 1060, since_from="api"
    )
    assert "(first seen 00:16:40 UTC)" in bar_text([seen]).plain
    assert "(since 00:16:40 UTC)" in bar_text([told]).plain
    assert open_cells(seen)[-1].plain == "first seen 00:16:40"
    assert open_cells(told)[-1].plain == "00:16:40"
    board = FindingsBoard()
    board.show([Incident("k", "2 boots STUCK", seen)], 1060, str)
    assert "first seen 00:16:40 (60s)" in board.plain
    assert (
        "(first seen 00:16:40 UTC)" in bar_text([seen], incidents=[Incident("k", "x", seen)]).plain
    )
