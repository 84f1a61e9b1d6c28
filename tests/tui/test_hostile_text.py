"""A tenant cannot drive the console: names and reasons from the cloud are shown as
plain text on every screen, never parsed as markup, never sent as control sequences.

What the terminal would receive is read from the screen's compositor (every strip of
every layer, toasts included), so a control character anywhere on screen is seen.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from textual.app import App
from textual.fuzzy import Matcher
from textual.pilot import Pilot

from osconsole.actions import ActionTarget, actions_for, server_target
from osconsole.actions.model import TargetKind
from osconsole.clean import UNSAFE
from osconsole.cloud.connect import Connection, connect
from osconsole.cloud.reconnect import CloudProblem
from osconsole.config import CloudSettings, Settings, Thresholds
from osconsole.live import LiveState
from osconsole.model import Kind, RegionRef, Router, Snapshot
from osconsole.poller import Poller
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.sim.world import L3_AGENT, Region, World
from osconsole.tui.actions import PickAction, highlighted
from osconsole.tui.app import ConsoleApp
from osconsole.tui.drill import DrillScreen, build_page, open_drill_down
from osconsole.tui.findings import FindingsScreen
from osconsole.tui.help import HelpScreen
from osconsole.tui.messages import ConnectionFailed, SnapshotArrived
from osconsole.tui.polling import PollingApp
from osconsole.tui.wall import WallApp
from osconsole.views import Target
from tests.conftest import SIM_URL, T0
from tests.support.bridge import bridged_config
from tests.tui.fixtures import CLOUD, WatchedConsole, quick, show_snapshots, wait_for

TITLE_AND_CLEAR = "\x1b]0;TITLE\x07\x1b[2J\x1b[5;1H"
MARKUP_NAME = "web[/]-router-1"
ESCAPE_NAME = f"web-{TITLE_AND_CLEAR}router-2"
ESCAPE_SHOWN = "web-\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[5;1Hrouter-2"
GRID = (200, 50)


def screen_lines(app: App[Any]) -> list[str]:
    """The text of every line of the screen as the terminal would be sent it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def assert_inert(app: App[Any]) -> str:
    """Nothing on screen is a control, bidi or surrogate character; returns the screen."""
    lines = screen_lines(app)
    bad = sorted(UNSAFE.intersection("".join(lines)))
    assert not bad, f"{app.screen!r} shows {bad!r}"
    return "\n".join(lines)


def split_brain(region: Region, router: Router | Any) -> None:
    """Every live L3 agent of `router` reports it active."""
    for agent_id in router.bindings:
        router.bindings[agent_id] = "active"


def ha_routers(region: Region) -> list[Any]:
    return [r for r in region.routers if r.ha and len(r.bindings) >= 2]


# -- the crash of the issue: a split brain on a router named with markup ---------------------


async def test_a_split_brain_on_routers_named_with_markup_and_escapes_is_notified_as_text(
    console: ConsoleApp, world: World
) -> None:
    """`web[/]-router-1` made notify() raise MarkupError and killed the console; an
    ESC in a name drew on the operator's terminal. Both routers fall into a split
    brain; after the debounce the console says so, in their names as written."""
    region = world.regions["RegionOne"]
    first, second = ha_routers(region)[:2]
    first.name, second.name = MARKUP_NAME, ESCAPE_NAME
    split_brain(region, first)
    split_brain(region, second)
    async with quick(console).run_test(size=GRID) as pilot:
        routers = console.dashboard.pane("routers")
        await wait_for(pilot, lambda: len(routers.shown_keys) >= len(region.routers), 20)
        world.clock.step(console.settings.thresholds.router_debounce_s + 10)
        await pilot.press("r")

        def notified() -> list[str]:
            return [
                n.message
                for n in console._notifications
                if n.title.startswith("New critical incident")
            ]

        def split() -> list[str]:
            return [f.reason for f in console.findings if "split brain" in f.reason]

        await wait_for(pilot, lambda: len(split()) >= 2, 20, "both split brains found")
        await wait_for(pilot, lambda: bool(notified()), 20, "the split brains notified")
        await pilot.pause()
        # One toast for the two incidents (one at a time), names as written in it and in
        # the findings.
        [toast] = notified()
        assert MARKUP_NAME in toast or ESCAPE_SHOWN in toast
        assert "(+1 other new incident)" in toast
        assert any(MARKUP_NAME in r for r in split()) and any(ESCAPE_SHOWN in r for r in split())
        assert console.is_running
        screen = assert_inert(console)
        assert MARKUP_NAME in screen  # the routers pane shows it as written
        assert console.return_code is None


# -- every screen, on random names -----------------------------------------------------------

# Controls, markup, brackets, bidi, line breaks, wide and combining characters, emoji
# joined by ZWJ, lone surrogates (JSON can carry them), and anything else.
PIECES = ["[/]", "[bold", "[/bold]", "[link=x]", "[b]", "]", "[", "\\", "[@click=quit]",
          "\x1b[2J", "\x1b]0;T\x07", "\u202e", "\u2066", "\t", "\n", "\r\n", "\x00", "\x7f",
          "\x9b", "\u4e2d\u6587", "\uff37", "e\u0301", "\u0308", "\U0001f468\u200d\U0001f469",
          "\ud800", "\u00ad", "\ufeff", " "]  # fmt: skip
name_text = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(min_size=1, max_size=3)),
    min_size=1,
    max_size=8,
).map("".join)


def hostile_world(names: list[str]) -> World:
    """A one-region world whose routers, projects, hosts and disabled reasons carry
    `names` (in turn), with a split brain, a dead agent and disabled compute services,
    so the findings, the events and the wall have something to say about them."""
    world = build_world(size="tiny", regions=1, seed=11, clock=SimClock(start=T0))
    region = world.regions["RegionOne"]
    text: Iterator[str] = itertools.cycle(names)
    for router in region.routers:
        router.name = next(text)
    for project in world.projects:
        if project.name not in ("admin", "service"):  # the credentials name these
            project.name = next(text)
    for hv in list(region.hypervisors)[:2]:
        hv.hostname = hv.service.host = next(text)
        hv.service.disabled, hv.service.disabled_reason = True, next(text)
    l3 = [a for a in region.agents if a.agent_type == L3_AGENT]
    others = [a for a in region.agents if a.agent_type != L3_AGENT]
    for agent in others:
        agent.host = next(text)
    others[0].stop(world.now())
    split_brain(region, ha_routers(region)[0])
    assert l3, "the world has L3 agents"
    world.clock.step(120)  # the stopped agent is dead
    return world


async def poll(world: World) -> list[Snapshot[Any]]:
    """One complete poll of the world, through the collectors (where text is cleaned)."""
    sim_app = create_app(world)
    settings = Settings(clouds=[CloudSettings(name=CLOUD)])
    with tempfile.TemporaryDirectory() as tmp:
        transport = httpx.ASGITransport(app=sim_app)
        async with httpx.AsyncClient(transport=transport, base_url=SIM_URL) as client:
            connection = await connect(
                settings,
                openstack_config=bridged_config(world, client, Path(tmp), SIM_URL),
                transport=httpx.ASGITransport(app=sim_app),
            )
            assert not connection.errors, connection.errors
            try:
                poller = Poller(connection.regions, settings, unpaced_sweeps=True, seed=0)
                return await poller.poll_once()
            finally:
                await connection.aclose()


def hostile_settings() -> Settings:
    """Router findings at once (no debounce), so one look raises them and notifies."""
    return Settings(clouds=[CloudSettings(name=CLOUD)], thresholds=Thresholds(router_debounce_s=0))


async def visit(pilot: Pilot[Any], app: App[Any], seen: list[str]) -> None:
    await pilot.pause()
    seen.append(assert_inert(app))


async def render_console(snapshots: list[Snapshot[Any]], now: float) -> list[str]:
    """The dashboard's four panes (with the notifications), the findings, the
    drill-down of the router in a split brain, and the keys screen over it (its
    title holds the router's name)."""
    app = quick(WatchedConsole(hostile_settings(), poll=False, clock=lambda: now))
    seen: list[str] = []
    async with app.run_test(size=GRID) as pilot:
        app.state.expect({s.ref for s in snapshots})
        await show_snapshots(pilot, app, snapshots)
        await wait_for(pilot, lambda: bool(app.findings), what="findings")
        await visit(pilot, app, seen)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindingsScreen))
        await visit(pilot, app, seen)
        await pilot.press("escape")
        split = next(f.subject for f in app.findings if f.subject.kind == Kind.ROUTERS)
        open_drill_down(app, Target(split.ref, Kind.ROUTERS, split.id))
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
        await visit(pilot, app, seen)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await visit(pilot, app, seen)
        assert app.is_running
    return seen


async def render_wall(snapshots: list[Snapshot[Any]], now: float) -> list[str]:
    """The wall: tiles, the critical incidents, the ticker and a pane."""
    app = quick(WallApp(hostile_settings(), poll=False, clock=lambda: now, rotate=0))
    seen: list[str] = []
    async with app.run_test(size=GRID) as pilot:
        app.state.expect({s.ref for s in snapshots})
        for snapshot in snapshots:
            app.post_message(SnapshotArrived(snapshot))
        await pilot.pause()
        await app.refresh_wall()
        app.wall.show_pane("routers")
        await visit(pilot, app, seen)
        assert "CRITICAL INCIDENTS" in seen[-1] and app.is_running
    return seen


async def render_everything(names: list[str]) -> list[str]:
    world = hostile_world(names)
    snapshots = await poll(world)
    now = world.now() + 5
    return [*await render_console(snapshots, now), *await render_wall(snapshots, now)]


# Each example polls a world and runs two Apps (about 3 s): a few examples, always the
# same ones, and no shrinking (a failure prints its example as found).
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(names=st.lists(name_text, min_size=6, max_size=12))
@example(names=[MARKUP_NAME, ESCAPE_NAME, "[bold", "x\u202eexe.txt", "\u4e2d\u6587\ud800", "a\nb"])
def test_random_names_and_reasons_render_on_every_screen_as_inert_text(names: list[str]) -> None:
    screens = asyncio.run(render_everything(names))
    assert len(screens) == 5


# -- drill-downs read some API bodies themselves -----------------------------------------------


async def test_live_drill_down_sections_show_hostile_text_inert(
    world: World, connection: Connection
) -> None:
    """The live sections (servers of a host and of a project, a router's agents and HA
    ports, an agent's routers, a project's rules and floating IPs) read API bodies
    directly: every string of what they show is cleaned."""
    region = world.regions["RegionOne"]
    names = itertools.cycle([ESCAPE_NAME, MARKUP_NAME, "\u202eexe.txt\r\nx"])
    for server in region.servers:
        server.name = next(names)
        server.locked, server.locked_reason = True, next(names)
    for router in region.routers:
        router.name = next(names)
    for port in region.ports:
        port.host, port.status = next(names), next(names)
    for fip in region.floating_ips:
        fip.status = next(names)
    for agent in region.agents:
        agent.host = next(names)
    state = LiveState(Settings())
    poller = Poller(connection.regions, Settings(), unpaced_sweeps=True, seed=0)
    for snapshot in await poller.poll_once():
        state.apply(snapshot)
    ref = next(r.ref for r in connection.regions if r.ref.region == "RegionOne")
    client = next(r.client for r in connection.regions if r.ref == ref)
    router = next(r for r in region.routers if r.bindings)
    project = router.project_id
    targets = [
        Target(ref, Kind.HYPERVISORS, next(iter(region.hypervisors)).id),
        Target(ref, Kind.ROUTERS, router.id),
        Target(ref, Kind.AGENTS, next(iter(router.bindings)), "agent"),
        Target(ref, Kind.TENANTS, project),
    ]
    shown = []
    for target in targets:
        page = build_page(state, target, world.now())
        assert page.loaders, target
        for load in page.loaders.values():
            section = await load(client)
            shown += [section.title, section.note]
            for line in section.lines:
                shown += [cell.text for cell in line.cells]
                if line.subject is not None:  # a server row: what its actions will name
                    label = server_target(ref, line.subject)
                    assert label is not None
                    shown.append(label.label())
    assert any(ESCAPE_SHOWN in text for text in shown)
    assert any(MARKUP_NAME in text for text in shown)
    assert not UNSAFE.intersection("".join(shown))


# -- connection errors quote Keystone -----------------------------------------------------------

KEYSTONE_SAYS = (
    f"cloud 'c': The request you have made requires authentication [/] {TITLE_AND_CLEAR}"
)


class _Connector:
    """What the app reads its connection problems from (a Reconnector's `problems`)."""

    def __init__(self, error: str) -> None:
        self.problems = {"c": CloudProblem("c", error, retry_at=None)}


def keystone_says(app: PollingApp) -> None:
    """The connector fails to connect cloud 'c' with Keystone's (hostile) words."""
    app.connector = _Connector(KEYSTONE_SAYS)  # type: ignore[assignment]
    app.post_message(ConnectionFailed([KEYSTONE_SAYS]))


async def test_a_connection_error_quoting_keystone_is_shown_inert_on_the_console() -> None:
    app = quick(WatchedConsole(hostile_settings(), poll=False))
    async with app.run_test(size=(120, 30)) as pilot:
        keystone_says(app)
        await wait_for(pilot, lambda: bool(app._notifications), what="the error notified")
        await pilot.pause()
        screen = assert_inert(app)
        assert "Not connected: cloud 'c'" in screen and "[/]" in screen
        assert app.is_running


async def test_a_connection_error_quoting_keystone_is_shown_inert_on_the_wall() -> None:
    app = quick(WallApp(hostile_settings(), poll=False, rotate=0))
    async with app.run_test(size=(120, 30)) as pilot:
        keystone_says(app)
        await pilot.pause()
        await pilot.pause()
        screen = assert_inert(app)
        assert "[/]" in screen and app.is_running


# -- action dialogs ------------------------------------------------------------------------------


async def test_the_action_picker_shows_a_hostile_name_and_its_dangerous_mark() -> None:
    """The picker's title holds the object's name; its options say `[changes the cloud]`
    (which markup swallowed: the warning was invisible)."""
    target = ActionTarget(RegionRef(CLOUD, "RegionOne"), TargetKind.ROUTER, "r1", MARKUP_NAME)
    offered = actions_for(target, readonly=False)
    assert any(a.dangerous for a in offered)
    app: App[Any] = App()
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(PickAction(target, offered))
        await pilot.pause()
        screen = assert_inert(app)
        assert f"router {MARKUP_NAME} (r1)" in screen
        assert "[changes the cloud]" in screen


def test_palette_hits_highlight_a_hostile_name_without_parsing_it() -> None:
    """Matcher.highlight parses its candidate as markup (MarkupError on `[/]`)."""
    title = f"Move router: router {MARKUP_NAME} (r1)"
    content = highlighted(Matcher("web"), title)
    assert content.plain == title
    assert [title[s.start : s.end] for s in content.spans] == ["w", "e", "b"]
