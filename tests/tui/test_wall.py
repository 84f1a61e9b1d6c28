"""The NOC wall: tiles, findings, events and rotation against the simulator; read-only
in depth; flat in memory and tasks over many polls; and what it looks like.

Live tests connect a WallApp to the in-process simulator as tests/tui/conftest.py
connects the console. Snapshot and long-run tests feed it the deterministic
snapshots of tests/tui/fixtures.py, in three looks: the cloud healthy, then the
incidents beginning (90 s before FIXED), then the incidents still there (at FIXED),
so the ticker has events and the debounced router findings are reported.
"""

from __future__ import annotations

import asyncio
import gc
import shlex
import sys
import tracemalloc
import types
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.cells import cached_cell_len
from textual.pilot import Pilot
from textual.widgets import DataTable

from osconsole import cli
from osconsole.cloud.http import SAFE_METHODS
from osconsole.config import CloudSettings, Settings
from osconsole.health.findings import Severity
from osconsole.health.plane import PlaneLook
from osconsole.leadtimes import LeadStat, LeadTimeSummary
from osconsole.live import PANES, LiveState
from osconsole.model import Kind, RegionRef, Router, Snapshot
from osconsole.sim.world import L3_AGENT, World
from osconsole.tui import wall as wall_module
from osconsole.tui.messages import SnapshotArrived
from osconsole.tui.wall import (
    WallApp,
    read_only,
    rotation_text,
    serve_wall,
    wall_command,
)
from osconsole.views import RegionStatus
from osconsole.widgets.tiles import (
    AMBER,
    GREEN,
    NO_DATA,
    RED,
    STALE,
    WAIT,
    DomainHealth,
    RegionTile,
    TileData,
    needs_compact,
    region_tiles,
    tile_columns,
)
from tests.conftest import SIM_URL
from tests.support import waiting
from tests.support.bridge import bridged_config
from tests.tui.fixtures import (
    APP_NOW,
    CLOUD,
    FIXED,
    console_settings,
    deterministic_snapshots,
    quick,
    wait_for,
)

SnapCompare = Callable[..., bool]
ONSET = FIXED - 90  # the incidents begin (longer ago than the router debounce of 60 s)
HEALTHY = FIXED - 180  # the look before them


# -- helpers -----------------------------------------------------------------------------------


def mutations(world: World) -> list[tuple[str, str, int]]:
    """Requests that could change something (token requests excepted)."""
    return [
        (r.method, r.path, r.status)
        for r in world.requests
        if r.method not in SAFE_METHODS and r.service != "identity"
    ]


def tile_of(app: WallApp, region: str) -> TileData:
    return next(t.data for t in app.wall.tiles.values() if t.data.ref.region == region)


def domain(tile: TileData, title: str) -> DomainHealth:
    return next(d for d in tile.domains if d.title == title)


def timed(snapshot: Snapshot[Any], at: float) -> Snapshot[Any]:
    return replace(snapshot, fetched_at=at, server_time=at)


def _healed_router(router: Router) -> Router:
    """The router as it was before its agent died or its split brain began."""
    if not router.bindings:
        return router
    bindings = [replace(b, agent_alive=True) for b in router.bindings]
    actives = [i for i, b in enumerate(bindings) if b.ha_state == "active"]
    for i in actives[1:]:
        bindings[i] = replace(bindings[i], ha_state="standby")
    if not actives:
        dead = [i for i, b in enumerate(router.bindings) if not b.agent_alive]
        if dead:
            bindings[dead[0]] = replace(bindings[dead[0]], ha_state="active")
    return replace(router, bindings=tuple(bindings))


def healed(snapshot: Snapshot[Any]) -> Snapshot[Any]:
    """`snapshot` with its incidents undone: every agent alive, service and hypervisor up."""
    heal: dict[Kind, Callable[[Any], Any]] = {
        Kind.AGENTS: lambda a: replace(a, alive=True),
        Kind.SERVICES: lambda s: replace(s, state="up"),
        Kind.HYPERVISORS: lambda h: replace(h, state="up"),
        Kind.ROUTERS: _healed_router,
    }
    fix = heal.get(snapshot.kind)
    if fix is None:
        return snapshot
    return replace(snapshot, items=Snapshot.freeze({k: fix(v) for k, v in snapshot.items.items()}))


def three_looks() -> tuple[list[RegionRef], list[list[Snapshot[Any]]]]:
    refs, snapshots = deterministic_snapshots()
    return refs, [
        [healed(timed(s, HEALTHY)) for s in snapshots],
        [timed(s, ONSET) for s in snapshots],
        list(snapshots),
    ]


async def feed(pilot: Pilot[Any], app: WallApp, snapshots: Iterable[Snapshot[Any]]) -> None:
    """Post `snapshots` as the poller does and wait until the wall shows them."""
    for snapshot in snapshots:
        app.post_message(SnapshotArrived(snapshot))
    await pilot.pause()
    await app.refresh_wall()
    await pilot.pause()


def fixed_wall(**kwargs: Any) -> WallApp:
    """A wall that does not poll, whose clock stands at APP_NOW."""
    return quick(WallApp(console_settings(), poll=False, clock=lambda: APP_NOW, **kwargs))


async def show_three_looks(pilot: Pilot[Any], app: WallApp) -> None:
    refs, looks = three_looks()
    app.state.expect(refs)
    for look in looks:
        await feed(pilot, app, look)


@pytest.fixture
async def wall(world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path) -> WallApp:
    """A WallApp watching the simulated 3-region cloud; the config does NOT say read-only."""
    settings = Settings(clouds=[CloudSettings(name=CLOUD)], sweep_budget=1000)
    return quick(
        WallApp(
            settings,
            openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
            transport=httpx.ASGITransport(app=sim_app),
        )
    )


def first_poll_shown(app: WallApp) -> Callable[[], bool]:
    def shown() -> bool:
        arrived, expected = app.state.first_poll_progress
        tiles = app.wall.tiles.values()
        return (
            bool(expected)
            and arrived >= expected
            and len(app.wall.tiles) == expected // len(Kind)
            and all(d.known for t in tiles for d in t.data.domains)
            and not app.state.pending_arrivals
            and not app._repainting  # taken, judged and shown
        )

    return shown


# -- against the simulator ---------------------------------------------------------------------


async def test_tiles_show_each_region_with_its_words(wall: WallApp, world: World) -> None:
    async with wall.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, first_poll_shown(wall), what="first poll on the tiles")
        assert [t.data.label for t in wall.wall.tiles.values()] == list(world.regions)
        tenants = wall.wall.pane("tenants").view
        assert tenants is not None
        for name, region in world.regions.items():
            tile = tile_of(wall, name)
            assert tile.status == "ok"
            assert "polls ok" in tile.status_line
            # The tiny world is healthy: every hypervisor up, every agent alive.
            assert all(h.service.is_up(world.now()) for h in region.hypervisors)
            assert all(a.is_alive(world.now()) for a in region.agents)
            for title in ("Hypervisors", "Routers", "Liveness"):
                assert domain(tile, title).word == GREEN, (name, title)
            # The tenants domain counts exactly the pane's rows of that region.
            warned = [
                r
                for r in tenants.rows
                if r.target.ref.region == name and r.severity == Severity.WARNING
            ]
            tenants_health = domain(tile, "Tenants")
            assert tenants_health.warning == len(warned)
            assert tenants_health.word == (AMBER if warned else GREEN)
            assert tile.word == (AMBER if warned else GREEN)
            shown = next(t for t in wall.wall.tiles.values() if t.data.ref.region == name).plain
            assert name in shown and tile.word in shown
        hypervisors = wall.wall.pane("hypervisors")
        assert len(hypervisors.shown_keys) == sum(
            len(r.hypervisors) for r in world.regions.values()
        )
        # Read-only whatever the config said: the settings, every cloud and every client.
        assert wall.settings.readonly and all(c.readonly for c in wall.settings.clouds)
        assert wall.connection is not None
        assert all(r.readonly and r.client.readonly for r in wall.connection.regions)
        assert "READ-ONLY" in str(wall.wall.header.render())
    assert mutations(world) == []


async def test_a_region_in_trouble_goes_red_while_the_others_stay_green(
    wall: WallApp, world: World
) -> None:
    async with wall.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, first_poll_shown(wall), what="first poll on the tiles")
        world.regions["RegionTwo"].faults.update(error_rate=1.0)
        assert wall.poller is not None
        wall.poller.refresh()

        def region_two_down() -> bool:
            tile = tile_of(wall, "RegionTwo")
            return tile.status == "down" and all(d.stale for d in tile.domains)

        await wait_for(pilot, region_two_down, what="RegionTwo down on its tile")
        await pilot.pause(0.05)
        trouble = tile_of(wall, "RegionTwo")
        assert trouble.word == RED
        assert [d.word for d in trouble.domains] == [STALE] * len(PANES)
        text = next(t for t in wall.wall.tiles.values() if t.data.ref.region == "RegionTwo").plain
        assert "RED" in text and "DOWN" in text and "STALE" in text
        for name in ("RegionOne", "RegionThree"):
            tile = tile_of(wall, name)
            assert tile.status == "ok"
            for title in ("Hypervisors", "Routers", "Liveness"):
                assert domain(tile, title).word == GREEN, (name, title)
            assert tile.word != RED
    assert mutations(world) == []


async def test_critical_incidents_appear_after_an_agent_dies(wall: WallApp, world: World) -> None:
    async with wall.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, first_poll_shown(wall), what="first poll on the tiles")
        assert "CRITICAL INCIDENTS none" in wall.wall.findings.plain
        region = world.regions["RegionTwo"]
        agent = min((a for a in region.agents if a.agent_type == L3_AGENT), key=lambda a: a.host)
        agent.stop(world.now())
        world.clock.step(80)
        assert wall.poller is not None
        wall.poller.refresh()
        # One line for the agent and whatever its death did to its routers.
        gone = f"{L3_AGENT} on {agent.host} dead"
        await wait_for(pilot, lambda: gone in wall.wall.findings.plain, what="the incident")
        incident = next(i for i in wall.incidents if i.title.startswith(gone))
        assert incident.severity == Severity.CRITICAL
        assert incident.ref.region == "RegionTwo"
        lines = wall.wall.findings.plain.splitlines()
        assert lines[0].startswith("CRITICAL INCIDENTS")
        assert sum(gone in line for line in lines) == 1
        dead = f"{L3_AGENT} on {agent.host} is dead"
        assert any(line.startswith("RegionTwo") and "since" in line for line in lines[1:])
        assert domain(tile_of(wall, "RegionTwo"), "Liveness").word == RED
        # The event ticker saw it die (between two polls of the agents).
        await wait_for(pilot, lambda: dead in wall.wall.ticker.plain, what="the event")
        assert "CRIT" in next(line for line in wall.wall.ticker.plain.splitlines() if dead in line)
    assert mutations(world) == []


async def test_control_plane_findings_and_lead_times_reach_the_tiles(
    wall: WallApp, world: World
) -> None:
    """A boot hanging in RegionThree: the one judge's lead.stuck finding is on that
    region's tile (its control-plane line, its counts and word) and in its lead times."""
    async with wall.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, first_poll_shown(wall), what="first poll on the tiles")
        for name in world.regions:
            tile = tile_of(wall, name)
            assert (tile.plane.word, tile.plane_word) == (GREEN, ""), name
            assert tile.lead_times is not None and tile.lead_times.stuck == 0, name
        region = world.regions["RegionThree"]
        server = next(s for s in region.servers if s.status == "ACTIVE" and not s.deleted)
        now = world.now()
        server.status, server.vm_state, server.task_state = "BUILD", "building", "spawning"
        server.launched_at, server.created_at, server.updated_at = None, now - 7200, now
        before = tile_of(wall, "RegionThree").warning
        assert wall.poller is not None
        wall.poller.refresh()
        await wait_for(
            pilot, lambda: tile_of(wall, "RegionThree").plane.warning == 1, what="boots stuck"
        )
        tile = tile_of(wall, "RegionThree")
        assert tile.plane.word == AMBER and tile.plane_word == "boots STUCK"
        assert tile.warning == before + 1 and tile.word in (AMBER, RED)
        assert tile.lead_times is not None and tile.lead_times.stuck == 1
        text = next(t for t in wall.wall.tiles.values() if t.data.ref.region == "RegionThree")
        plane_line = next(line for line in text.plain.splitlines() if line.startswith("Ctrl"))
        assert "1 warn AMBER boots STUCK" in plane_line
        assert "1 stuck" in text.plain
        assert tile_of(wall, "RegionOne").plane_word == ""
        assert "warning" in wall.wall.findings.plain  # "N warnings (see tiles)": they are
    assert mutations(world) == []


async def test_nothing_can_be_changed_from_the_wall(wall: WallApp, world: World) -> None:
    async with wall.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, first_poll_shown(wall), what="first poll on the tiles")
        actions = {active.binding.action for active in wall.screen.active_bindings.values()}
        assert actions <= {
            "quit",
            "app.focus_next",
            "app.focus_previous",
            "screen.copy_text",
        }, actions
        assert wall.focused is None
        # Keys an operator might try, and the mouse on a row and on a column header.
        await pilot.press(*"12345dDeElLrRpsS/", "enter", "space", "tab", "ctrl+p", "escape")
        pane = wall.wall.pane(wall.wall.shown_pane)
        await pilot.click(pane.table, offset=(3, 0))  # the header: would sort
        await pilot.click(pane.table, offset=(3, 2), times=2)  # a row: would open it
        await pilot.pause()
        assert pane.sort_column is None
        assert wall.screen is wall.wall and wall.focused is None
        assert wall.is_running
    assert mutations(world) == []


async def test_a_cloud_that_cannot_be_reached_says_so(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    settings = Settings(clouds=[CloudSettings(name="no-such-cloud")])
    app = quick(
        WallApp(
            settings,
            openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
            transport=httpx.ASGITransport(app=sim_app),
        )
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(app.errors), what="the connection to fail")
        await pilot.pause()
        header = str(app.wall.header.render())
        assert "NOT CONNECTED" in header and "no-such-cloud" in header
        assert "Not connected" in str(app.wall.query_one("#tiles-waiting").render())
        assert not app.wall.tiles


# -- rotation and keys (no polling) ---------------------------------------------------------------


async def test_rotation_shows_the_next_pane_when_its_time_has_passed() -> None:
    now = [APP_NOW]
    app = quick(WallApp(console_settings(), poll=False, clock=lambda: now[0], rotate=20))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        wall = app.wall
        assert wall.shown_pane == "hypervisors"
        now[0] += 19
        app.tick()
        assert wall.shown_pane == "hypervisors"
        assert "next in 1s" in str(wall.query_one("#rotation").render())
        now[0] += 2
        app.tick()
        assert wall.shown_pane == "routers"
        assert "[L3 HA routers]" in str(wall.query_one("#rotation").render())
        for expected in ("tenants", "liveness", "hypervisors"):
            now[0] += 20
            app.tick()
            assert wall.shown_pane == expected
        await pilot.pause()
        assert wall.pane("hypervisors").display and not wall.pane("routers").display


async def test_no_rotation_with_rotate_zero() -> None:
    now = [APP_NOW]
    app = quick(WallApp(console_settings(), poll=False, clock=lambda: now[0], rotate=0))
    async with app.run_test(size=(120, 40)):
        now[0] += 3600
        app.tick()
        assert app.wall.shown_pane == "hypervisors"
        assert str(app.wall.query_one("#rotation").render()).startswith("PANE:")


async def test_q_quits() -> None:
    app = fixed_wall()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


# -- runs for days -----------------------------------------------------------------------------

WARMUP_POLLS = 16  # fills the event deque (a line or two a look) and the flap window (15 looks)
KEPT_IN_TEST = 10
MEASURED_POLLS = 24
POLL_EVERY = 60.0  # seconds of the wall's clock between two looks at every region
MEMORY_BOUND = 160 * 1024  # bytes the wall may grow by over MEASURED_POLLS polls


def churning(snapshots: list[Snapshot[Any]], look: int, at: float) -> list[Snapshot[Any]]:
    """One look at every region at `at`; every agent of RegionOne dies on odd looks and
    comes back on even ones, so rows, events and findings change at every look."""
    out = []
    for snapshot in snapshots:
        snapshot = timed(snapshot, at)
        if snapshot.kind is Kind.AGENTS and snapshot.ref.region == "RegionOne":
            items = {k: replace(a, alive=look % 2 == 0) for k, a in snapshot.items.items()}
            snapshot = replace(snapshot, items=Snapshot.freeze(items))
        out.append(snapshot)
    return out


async def one_look(app: WallApp, snapshots: list[Snapshot[Any]]) -> None:
    """Post a look as the poller does, let the App apply it, then show it (quicker than
    pilot.pause, which waits for the CPU to idle)."""
    for snapshot in snapshots:
        app.post_message(SnapshotArrived(snapshot))
    await waiting.wait_for(
        lambda: all(app.state.snapshots.get((s.ref, s.kind)) is s for s in snapshots),
        what="the look applied",
        step=0,
    )
    await app.refresh_wall()
    app.tick()
    await asyncio.sleep(0.002)  # a screen refresh may run


async def repaints_done(app: WallApp) -> None:
    """No repaint under way or scheduled (a scheduled one is a task while it waits)."""
    await waiting.wait_for(
        lambda: not (app._repainting or app._repaint_scheduled), what="repaints done", step=0
    )
    await asyncio.sleep(0.01)


def forget_render_caches(app: WallApp) -> None:
    """Empty the bounded render caches (DataTable's 10,000 cells, rich's 4,096 cell
    widths): they fill over thousands of polls, which would hide a leak in the figures."""
    cached_cell_len.cache_clear()
    for table in app.wall.query(DataTable):
        table._clear_caches()
    gc.collect()


async def test_many_polls_leave_memory_and_tasks_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    # The timeline groups a look's events by cause (every agent of a region dying is
    # one line): a smaller bound is full after the warm-up, as EVENTS_KEPT is in days.
    monkeypatch.setattr(wall_module, "EVENTS_KEPT", KEPT_IN_TEST)
    refs, snapshots = deterministic_snapshots()
    now = [FIXED]
    # Traced from the start: a traced object that replaces an untraced one would count
    # as growth though nothing grew.
    tracemalloc.start()
    try:
        app = quick(WallApp(console_settings(), poll=False, clock=lambda: now[0], rotate=30))
        async with app.run_test(size=(120, 40)):
            app.state.expect(refs)

            async def polls(first: int, count: int) -> None:
                for look in range(first, first + count):
                    now[0] = FIXED + look * POLL_EVERY
                    await one_look(app, churning(snapshots, look, now[0]))

            await polls(0, WARMUP_POLLS)
            await repaints_done(app)
            forget_render_caches(app)
            tasks = len(asyncio.all_tasks())
            sizes = app.sizes()
            before = tracemalloc.get_traced_memory()[0]
            await polls(WARMUP_POLLS, MEASURED_POLLS)
            await repaints_done(app)
            forget_render_caches(app)
            grown = tracemalloc.get_traced_memory()[0] - before
            print(f"wall: {grown / 1024:+.1f} KiB over {MEASURED_POLLS} polls, {tasks} tasks")
            assert len(asyncio.all_tasks()) == tasks
            assert app.sizes() == sizes
            assert sizes["events"] == KEPT_IN_TEST  # the ticker's deque is full and stays so
            assert sizes["timers"] <= 3  # tick, terminal check and at most one repaint due
            assert app.repaints >= WARMUP_POLLS + MEASURED_POLLS
            assert grown < MEMORY_BOUND, f"the wall grew by {grown:,} bytes"
    finally:
        tracemalloc.stop()


# -- what it looks like ------------------------------------------------------------------------


# RegionTwo's boots of the last hour in the pictures: slow (p95 4 min against a usual
# 31 s) and one stuck, so its tile's control-plane line has findings to show.
SLOW_BOOTS = LeadTimeSummary(
    FIXED, LeadStat(6, 34.0, 240.0, 1), LeadStat(4, 5.0, 7.0, 0), usual_boot_s=31.0
)


def with_slow_boots(snapshot: Snapshot[Any]) -> Snapshot[Any]:
    if snapshot.kind is not Kind.TENANTS or snapshot.ref.region != "RegionTwo":
        return snapshot
    return replace(snapshot, extra={**snapshot.extra, "lead_times": SLOW_BOOTS})


def plane_of_tenants(snapshots: Iterable[Snapshot[Any]] = ()) -> list[PlaneLook]:
    """The control-plane looks a connected wall makes, from the tenants snapshots' lead
    times alone (the deterministic wall has no region client to read API figures from)."""
    return [
        PlaneLook(s.ref, APP_NOW, lead_times=s.extra.get("lead_times"), lead_times_at=s.server_time)
        for s in snapshots
        if s.kind is Kind.TENANTS and not s.stale
    ]


def three_looks_shown(app: WallApp, *rotations: int) -> Callable[[Pilot[Any]], Awaitable[None]]:
    app.plane_looks = plane_of_tenants  # type: ignore[method-assign]

    async def run_before(pilot: Pilot[Any]) -> None:
        refs, looks = three_looks()
        app.state.expect(refs)
        for look in looks:
            await feed(pilot, app, map(with_slow_boots, look))
        for _ in rotations:
            app.action_rotate()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(200, 50), (120, 40)], ids=["200x50", "120x40"])
def test_the_wall(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = fixed_wall()
    assert snap_compare(app, terminal_size=size, run_before=three_looks_shown(app))


def test_the_wall_showing_the_routers(snap_compare: SnapCompare) -> None:
    app = fixed_wall()
    assert snap_compare(app, terminal_size=(200, 50), run_before=three_looks_shown(app, 1))


async def test_the_deterministic_wall_says_what_the_snapshots_hold() -> None:
    """What the snapshot SVGs show, in words: the incidents of fixtures.incident_world."""
    app = fixed_wall()
    async with app.run_test(size=(200, 50)) as pilot:
        await show_three_looks(pilot, app)
        one, two, three = (tile_of(app, r) for r in ("RegionOne", "RegionTwo", "RegionThree"))
        assert domain(one, "Routers").critical == 2  # a split brain, a router without active
        assert domain(one, "Liveness").word == RED  # its second L3 agent died
        assert domain(two, "Hypervisors").word == RED  # its first compute host is down
        assert [domain(three, t).word for t in ("Hypervisors", "Routers")] == [STALE, STALE]
        assert three.status == "stale" and three.word == RED
        findings = app.wall.findings.plain
        assert "split brain" in findings and "since" in findings
        assert "is dead" in app.wall.ticker.plain
        assert "split brain begins" in app.wall.ticker.plain


# -- pure parts --------------------------------------------------------------------------------


def test_domain_and_region_words() -> None:
    ref = RegionRef("c", "r")
    fine = DomainHealth("Routers", known=True)
    warned = DomainHealth("Tenants", warning=2, known=True)
    stale = DomainHealth("Hypervisors", known=True, stale=True)
    assert (fine.word, warned.word, stale.word) == (GREEN, AMBER, STALE)
    assert stale.rag == RED and DomainHealth("Liveness").word == NO_DATA

    def tile(status: str, *domains: DomainHealth) -> TileData:
        return TileData(ref, "r", status, 3.0, "", domains)

    assert tile("ok", fine, fine).word == GREEN
    assert tile("ok", fine, warned).word == AMBER
    assert tile("degraded", fine).word == AMBER
    assert tile("stale", fine, stale).word == RED
    assert tile("connecting").word == WAIT
    assert tile("ok", fine, warned, DomainHealth("x", critical=1, known=True)).critical == 1
    assert tile("down", stale).status_line == "polls DOWN · data 3s old"


def test_a_tile_says_its_boot_p95_and_stuck_count_and_question_marks_when_unknown() -> None:
    ref = RegionRef("c", "r")
    status = RegionStatus(ref, "ok", 3.0, {}, {})
    boot = LeadStat(count=12, p50_s=31.0, p95_s=45.4, stuck=1)
    summary = LeadTimeSummary(APP_NOW, boot, LeadStat(3, 5.0, 6.0, 1), usual_boot_s=30.0)
    tenants = Snapshot(ref, Kind.TENANTS, {}, APP_NOW, extra={"lead_times": summary})

    def lead_line(*snapshots: Snapshot[Any]) -> str:
        (data,) = region_tiles([status], {}, snapshots)
        return RegionTile(data).plain.splitlines()[-1]

    assert lead_line(tenants) == "Boots 1h   p95  45s   2 stuck"
    assert lead_line(replace(tenants, stale=True)).endswith("2 stuck STALE")
    assert lead_line() == "Boots 1h   p95    ?   ? stuck"  # no tenants poll: unknown
    assert lead_line(replace(tenants, extra={})) == "Boots 1h   p95    ?   ? stuck"
    idle = replace(summary, boot=LeadStat(0, None, None, 0), delete=LeadStat(0, None, None, 0))
    assert lead_line(replace(tenants, extra={"lead_times": idle})).endswith("p95 none   0 stuck")


def test_tiles_fold_into_columns_and_drop_digits_when_many() -> None:
    assert tile_columns(3, 120) == 3 and tile_columns(3, 80) == 2 and tile_columns(1, 30) == 1
    assert not needs_compact(3, 200, 50)
    assert needs_compact(20, 200, 50)


def test_the_pipeline_judges_every_snapshot_even_two_of_one_scope_in_a_batch() -> None:
    """Two looks at RegionOne's routers in one batch: the tracker sees both, so the
    debounced split brain (60 s) is reported, as it would be one look at a time."""
    _, snapshots = deterministic_snapshots()
    routers = next(s for s in snapshots if s.kind is Kind.ROUTERS and s.ref.region == "RegionOne")
    state = LiveState(Settings(), keep_events=5)
    for snap in (healed(timed(routers, HEALTHY)), timed(routers, ONSET), routers):
        state.apply(snap)
    assert state.pending_arrivals == 3
    state.judge()
    assert state.pending_arrivals == 0
    assert any("split brain" in f.reason for f in state.findings)
    assert any("split brain begins" in e.description for e in state.newest_events(60))
    many = [healed(timed(routers, HEALTHY + i)) if i % 2 else timed(routers, HEALTHY + i)
            for i in range(40)]  # fmt: skip
    for snap in many:
        state.apply(snap)
    state.judge()
    assert len(state.timeline.events) == 5  # bounded
    newest = state.newest_events(60)
    assert [e.time for e in newest] == sorted((e.time for e in newest), reverse=True)


def test_the_wall_is_read_only_whatever_the_config_says() -> None:
    settings = Settings(clouds=[CloudSettings(name="a"), CloudSettings(name="b", readonly=True)])
    assert not settings.readonly
    locked = read_only(settings)
    assert locked.readonly and all(c.readonly for c in locked.clouds)
    assert WallApp(settings, poll=False).settings.readonly


def test_rotation_text_says_the_shown_pane_in_words() -> None:
    text = rotation_text("routers", 20, 12).plain
    assert text.startswith("ROTATING every 20s, next in 12s")
    assert "[L3 HA routers]" in text and "[Hypervisors]" not in text


# -- the command line --------------------------------------------------------------------------


def test_the_served_command_is_the_wall_without_serving_options() -> None:
    command = wall_command(
        config="/etc/o s/c.yaml", os_cloud="prod", region="R1", rotate=15, theme="light"
    )
    argv = shlex.split(command)
    assert argv[:3] == [sys.executable, "-m", "osconsole"]
    assert argv[3:] == [
        "--theme", "light", "wall", "--config", "/etc/o s/c.yaml",
        "--os-cloud", "prod", "--region", "R1", "--rotate", "15",
    ]  # fmt: skip
    assert not {"--serve", "--host", "--port"} & set(argv)


def test_serve_warns_and_serves_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    served: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, command: str, **kwargs: Any) -> None:
            served.update(command=command, **kwargs)

        def serve(self) -> None:
            served["served"] = True

    module = types.ModuleType("textual_serve.server")
    module.Server = FakeServer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "textual_serve", types.ModuleType("textual_serve"))
    monkeypatch.setitem(sys.modules, "textual_serve.server", module)
    code = serve_wall(
        config=None, os_cloud="prod", region=None, rotate=20, theme=None, demo=False,
        host="127.0.0.1", port=8123, public_url=None, loopback=True,
    )  # fmt: skip
    assert code == 0 and served["served"]
    assert served["host"] == "127.0.0.1" and served["port"] == 8123
    assert shlex.split(served["command"])[3:] == ["wall", "--os-cloud", "prod", "--rotate", "20"]
    err = capsys.readouterr().err
    assert "NO authentication" in err and "http://127.0.0.1:8123" in err
    assert "not a loopback" not in err
    serve_wall(
        config=None, os_cloud=None, region=None, rotate=20, theme=None, demo=False,
        host="0.0.0.0", port=8123, public_url="https://wall.example.org", loopback=False,
    )  # fmt: skip
    err = capsys.readouterr().err
    assert "not a loopback" in err and "https://wall.example.org" in err


def test_the_wall_command_refuses_bad_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["wall", "--rotate", "1"]) == cli.EXIT_USAGE
    assert "--rotate" in capsys.readouterr().err
    bad = tmp_path / "config.yaml"
    bad.write_text("intervals: {hypervisors: often}\n")
    assert cli.main(["wall", "--config", str(bad)]) == cli.EXIT_USAGE
    assert str(bad) in capsys.readouterr().err
