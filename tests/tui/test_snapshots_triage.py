"""What triage screens look like at 80x24 (an on-call tmux pane), compared with
accepted screenshots: a drill-down, the host view, the findings list, the event
timeline, the action dialog and its confirmation, the light and high-contrast
themes, and the dashboard with long names at 80x24 and 200x50. The data is the
deterministic world of tests/tui/fixtures.py (see tests/tui/test_snapshots.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from osconsole.actions.catalog import action_named, actions_for, build_plan
from osconsole.actions.model import Facts
from osconsole.events import Event, EventKind
from osconsole.health.findings import Severity, Subject
from osconsole.model import Kind, RegionRef
from osconsole.tui.actions import ConfirmPlan, PickAction, action_target
from osconsole.tui.command_line import CommandPrompt
from osconsole.tui.drill import DrillScreen
from tests.tui.fixtures import (
    CLOUD,
    FIXED,
    WatchedConsole,
    deterministic_snapshots,
    fixed_console,
    load_fixed_world,
    show_snapshots,
    wait_for,
)

SnapCompare = Callable[..., bool]
SMALL = (80, 24)
LONG = "-a-very-long-name-an-operator-gave-it-for-the-2031-migration-project"


def driven(
    app: WatchedConsole, *keys: str, then: Callable[[Pilot[Any]], Awaitable[None]] | None = None
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """run_before: the first poll shown, `keys` pressed, then `then`."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await load_fixed_world(pilot, app)
        await pilot.press(*keys)
        if then is not None:
            await then(pilot)
        await pilot.pause()

    return run_before


async def drilled(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
    screen = app.screen
    await wait_for(pilot, lambda: all(v.state != "loading" for v in screen.views.values()))


def test_a_drill_down(snap_compare: SnapCompare) -> None:
    app = fixed_console()
    assert snap_compare(
        app, terminal_size=SMALL, run_before=driven(app, "1", "enter", then=drilled)
    )


def test_the_host_view(snap_compare: SnapCompare) -> None:
    app = fixed_console()

    async def host(pilot: Pilot[Any]) -> None:
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPrompt))
        await pilot.press(*"host rtwo-cmp00001", "enter")
        await drilled(pilot)

    assert snap_compare(app, terminal_size=SMALL, run_before=driven(app, then=host))


def test_the_findings_list(snap_compare: SnapCompare) -> None:
    app = fixed_console()
    assert snap_compare(app, terminal_size=SMALL, run_before=driven(app, "f"))


def test_the_event_timeline(snap_compare: SnapCompare) -> None:
    app = fixed_console()
    ref = RegionRef(CLOUD, "RegionOne")
    said = (
        (EventKind.AGENT_DOWN, "L3 agent on rone-net002 is dead", Severity.CRITICAL),
        (
            EventKind.ROUTER_FAILOVER,
            "router initech-web-router-2 lost its active",
            Severity.CRITICAL,
        ),
        (EventKind.AGENT_UP, "DHCP agent on rone-net001 is alive again", Severity.INFO),
    )

    async def events(pilot: Pilot[Any]) -> None:
        for i, (kind, text, severity) in enumerate(said):
            subject = Subject(ref, Kind.AGENTS, f"agent-{i}", "agent")
            app.timeline.events.append(Event(kind, FIXED - 90 + 30 * i, subject, text, severity))
        await pilot.press("e")

    assert snap_compare(app, terminal_size=SMALL, run_before=driven(app, then=events))


@pytest.mark.parametrize("confirm", [False, True], ids=["dialog", "confirmation"])
def test_the_action_dialog(snap_compare: SnapCompare, confirm: bool) -> None:
    """The dialogs the `a` key opens on a hypervisor, fed what the runner would give
    them (the console here is not connected, so nothing could be sent): the actions
    offered and the plan of "force down" (Nova 2.53), built by the same pure code."""
    app = fixed_console()

    async def act(pilot: Pilot[Any]) -> None:
        await drilled(pilot)
        screen = app.screen
        target = action_target(app, screen.target)
        assert target is not None
        if confirm:
            action = action_named("compute-service-force-down")
            plan = build_plan(action, target, {}, Facts(compute_microversion="2.53"))
            app.push_screen(ConfirmPlan(plan))
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPlan))
        else:
            app.push_screen(PickAction(target, actions_for(target)))
            await wait_for(pilot, lambda: isinstance(app.screen, PickAction))

    assert snap_compare(app, terminal_size=SMALL, run_before=driven(app, "1", "enter", then=act))


@pytest.mark.parametrize("theme", ["light", "high-contrast"])
def test_the_themes(snap_compare: SnapCompare, theme: str) -> None:
    app = fixed_console()

    async def themed(pilot: Pilot[Any]) -> None:
        app.theme = f"osconsole-{theme}"

    assert snap_compare(app, terminal_size=SMALL, run_before=driven(app, then=themed))


def long_named(snapshots: list[Any]) -> list[Any]:
    """The same snapshots with the first routers and hypervisors renamed long."""
    renamed = []
    for snapshot in snapshots:
        items = dict(snapshot.items)
        for key in list(items)[:2]:
            item = items[key]
            if snapshot.kind is Kind.ROUTERS:
                items[key] = replace(item, name=item.name + LONG)
            elif snapshot.kind is Kind.HYPERVISORS:
                items[key] = replace(item, hostname=item.hostname + LONG)
        renamed.append(replace(snapshot, items=items))
    return renamed


@pytest.mark.parametrize(
    ("size", "key"), [((80, 24), "2"), ((200, 50), "")], ids=["80x24", "200x50"]
)
def test_the_dashboard_with_long_names(
    snap_compare: SnapCompare, size: tuple[int, int], key: str
) -> None:
    app = fixed_console()

    async def run_before(pilot: Pilot[Any]) -> None:
        refs, snapshots = deterministic_snapshots()
        app.state.expect(refs)
        await show_snapshots(pilot, app, long_named(snapshots))
        if key:
            await pilot.press(key)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
