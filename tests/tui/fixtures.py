"""Helpers for the console's pilot and snapshot tests.

Snapshot tests need screens that are the same on every run, so the data is polled
once from the simulator with every clock fixed: the world's (a SimClock that is only
stepped), the poller's (fetched_at) and the App's (ages). The world gets a few
incidents first, so that the screens show what operators look for (a dead L3 agent,
a split brain, a compute host down, a stale region), not only green rows.

FIXED lies far in the future because keystoneauth checks token expiry against the
wall clock: tokens the simulator issues at FIXED stay valid for any real test run.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
from textual.pilot import Pilot

from osconsole.cloud.connect import connect
from osconsole.config import CloudSettings, Settings
from osconsole.live import PANES
from osconsole.model import Kind, RegionRef, Snapshot
from osconsole.poller import Poller
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.sim.world import L3_AGENT, World
from osconsole.tui.app import ConsoleApp
from osconsole.tui.messages import SnapshotArrived, ViewsApplied
from osconsole.tui.polling import REPAINT_DELAY
from tests.conftest import SIM_URL
from tests.support import waiting
from tests.support.bridge import bridged_config

FIXED = 4_000_000_000.0  # 2096-10-02: the moment every deterministic snapshot is taken
APP_NOW = FIXED + 5  # the App's clock: every pane's data is "5s old"
CLOUD = "osconsole-sim"
AppT = TypeVar("AppT", bound=ConsoleApp)
LEAD_IN = 120.0  # the world runs this long before FIXED, so stopped things are dead
STALE_REGION = "RegionThree"
STALE_KINDS = (Kind.HYPERVISORS, Kind.ROUTERS)


def console_settings(cloud: str = CLOUD) -> Settings:
    return Settings(clouds=[CloudSettings(name=cloud)], sweep_budget=1000)


async def wait_for(
    pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 10.0, what: str = ""
) -> None:
    """Let the App run until `predicate()` holds (fails after `timeout` seconds): the
    shared `tests.support.waiting.wait_for`, pausing through the pilot."""
    await waiting.wait_for(predicate, timeout, what=what, pilot=pilot)


class WatchedConsole(ConsoleApp):
    """The console, counting ViewsApplied so tests can wait for a repaint to land."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.views_applied: list[frozenset[str]] = []

    def on_views_applied(self, message: ViewsApplied) -> None:
        self.views_applied.append(message.panes)


def fixed_console() -> WatchedConsole:
    """A console that does not poll, whose clock stands at APP_NOW."""
    return quick(WatchedConsole(console_settings(), poll=False, clock=lambda: APP_NOW))


def quick(app: AppT) -> AppT:
    """No animations: the pilot waits for each one (0.3 s per tab switch)."""
    app.animation_level = "none"
    return app


def post_snapshots(app: ConsoleApp, snapshots: Iterable[Snapshot[Any]]) -> None:
    for snapshot in snapshots:
        app.post_message(SnapshotArrived(snapshot))


async def show_snapshots(
    pilot: Pilot[Any], app: WatchedConsole, snapshots: Iterable[Snapshot[Any]]
) -> None:
    """Post `snapshots` the way the poller does and wait until the panes show them."""
    before = len(app.views_applied)
    post_snapshots(app, snapshots)
    await wait_for(pilot, lambda: len(app.views_applied) > before, what="ViewsApplied")
    await pilot.pause()


async def load_fixed_world(
    pilot: Pilot[Any],
    app: WatchedConsole,
    polled: Callable[[], tuple[list[RegionRef], list[Snapshot[Any]]]] | None = None,
) -> None:
    """The deterministic snapshots, as the first poll of every region and kind.

    They arrive in one burst, so one repaint shows them all; should a repaint ever
    start in the middle of the burst, the wait goes on until the panes hold every row.
    """
    refs, snapshots = (polled or deterministic_snapshots)()
    app.state.expect(refs)
    await show_snapshots(pilot, app, snapshots)
    expected = {
        pane: sum(len(s.items) for s in snapshots if s.kind in kinds)
        for pane, kinds in PANES.items()
        if pane != "tenants"  # the tenants pane shows only projects with findings
    }
    await wait_for(
        pilot,
        lambda: all(len(app.dashboard.pane(p).shown_keys) == n for p, n in expected.items()),
        what="every row shown",
    )


# -- the deterministic world ------------------------------------------------------------


def incident_world() -> World:
    """The tiny 3-region world with a few incidents, LEAD_IN seconds before FIXED.

    RegionOne: its second L3 agent dies (it hosted some actives) and one router
    is active on two live agents. RegionTwo: the first compute host's nova-compute
    dies. The clock is then stepped to FIXED, so both are past their down time.
    """
    world = build_world(size="tiny", regions=3, seed=7, clock=SimClock(start=FIXED - LEAD_IN))
    start = world.now()
    one = world.regions["RegionOne"]
    l3 = sorted((a for a in one.agents if a.agent_type == L3_AGENT), key=lambda a: a.host)
    l3[1].stop(start)
    dead = l3[1].id
    split = next(r for r in one.routers if r.ha and r.bindings.get(dead) == "standby")
    for agent_id in split.bindings:
        if agent_id != dead:
            split.bindings[agent_id] = "active"
    two = world.regions["RegionTwo"]
    host = min(two.hypervisors_by_host)
    two.hypervisors_by_host[host].service.stop(start)
    world.clock.step(LEAD_IN)
    return world


async def poll_world(
    world: World, stale_region: str | None = STALE_REGION
) -> tuple[list[RegionRef], list[Snapshot[Any]]]:
    """Every region and kind polled once at FIXED; then `stale_region`'s STALE_KINDS
    fail (error rate 1.0) and are polled again, so they keep their items, marked stale."""
    sim_app = create_app(world)
    settings = console_settings()
    with tempfile.TemporaryDirectory() as tmp:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sim_app), base_url=SIM_URL
        ) as client:
            connection = await connect(
                settings,
                openstack_config=bridged_config(world, client, Path(tmp), SIM_URL),
                transport=httpx.ASGITransport(app=sim_app),
            )
            assert not connection.errors, connection.errors
            try:
                poller = Poller(
                    connection.regions, settings, unpaced_sweeps=True, clock=lambda: FIXED, seed=0
                )
                await poller.poll_once()
                if stale_region is not None:
                    world.regions[stale_region].faults.update(error_rate=1.0)
                    for kind in STALE_KINDS:
                        await poller.poll((RegionRef(CLOUD, stale_region), kind))
                refs = [r.ref for r in connection.regions]
                kinds = list(Kind)
                ordered = sorted(
                    poller.latest.values(),
                    key=lambda s: (refs.index(s.ref), kinds.index(s.kind)),
                )
                return refs, ordered
            finally:
                await connection.aclose()


@cache
def deterministic_snapshots() -> tuple[list[RegionRef], list[Snapshot[Any]]]:
    """The incident world's snapshots (built once per test session, in a thread so
    that async tests, whose loop is running, can call it too)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, poll_world(incident_world())).result()


def ovn_incident_world() -> World:
    """RegionOne on ML2/OVN beside RegionTwo on ML2/OVS, LEAD_IN seconds before FIXED:
    ovn-controller stops on the gateway chassis holding the most gateways (they stay
    on it, its agent dead by FIXED), and one router's gateway is held by no chassis."""
    world = build_world(
        size="tiny",
        regions=2,
        seed=7,
        clock=SimClock(start=FIXED - LEAD_IN),
        backends="ovn,ovs",
    )
    start = world.now()
    one = world.regions["RegionOne"]
    held: dict[str, list[str]] = {}
    for router in one.routers:
        port = one.gateway_port(router)
        if port is not None and port.host:
            held.setdefault(port.host, []).append(router.id)
    chassis = sorted(one.gateway_agents(), key=lambda a: (-len(held.get(a.host, ())), a.host))
    chassis[0].stop(start)
    unbound = next(r for r in one.routers if r.id not in held.get(chassis[0].host, ()))
    one.place_gateway(unbound, "", start)
    world.clock.step(LEAD_IN)
    return world


@cache
def ovn_snapshots() -> tuple[list[RegionRef], list[Snapshot[Any]]]:
    """The OVN incident world's snapshots, every region fresh (built once per session)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, poll_world(ovn_incident_world(), None)).result()


def snapshot_of(kind: Kind, region: str = "RegionOne") -> Snapshot[Any]:
    _, snapshots = deterministic_snapshots()
    return next(s for s in snapshots if s.kind == kind and s.ref.region == region)


__all__ = [
    "APP_NOW",
    "CLOUD",
    "FIXED",
    "REPAINT_DELAY",
    "STALE_REGION",
    "WatchedConsole",
    "console_settings",
    "deterministic_snapshots",
    "fixed_console",
    "incident_world",
    "load_fixed_world",
    "ovn_incident_world",
    "ovn_snapshots",
    "post_snapshots",
    "quick",
    "show_snapshots",
    "snapshot_of",
    "wait_for",
]
