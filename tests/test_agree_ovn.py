"""On an ML2/OVN region, every surface says the same of each router: the routers pane,
the console's findings (once debounced), the wall's counts and `osconsole snapshot`'s
findings. Polled from the simulator through a gateway chassis whose ovn-controller
stopped (its gateways stay on it, a quarter of their ports go DOWN) and a router whose
gateway has nowhere to go."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from osconsole.cloud.http import RegionClient
from osconsole.health.findings import Finding, Severity
from osconsole.health.rules import findings_now
from osconsole.model import Kind, RegionRef
from osconsole.sim.clock import SimClock
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import World
from osconsole.views import routers_view
from tests.health.test_findings import Watch
from tests.support.ovn import OVN_REGION, gateway_port, holders, mixed_world
from widgets.tiles import region_counts


@pytest.fixture
def world(clock: SimClock) -> World:
    return mixed_world(clock)


def worst_by_router(findings: Iterable[Finding]) -> dict[str, Severity]:
    worst: dict[str, Severity] = {}
    for f in findings:
        if f.subject.kind == Kind.ROUTERS and not f.subject.id.startswith("ovn:"):
            worst[f.subject.id] = max(worst.get(f.subject.id, Severity.OK), f.severity)
    return worst


async def test_pane_findings_wall_and_snapshot_agree_on_an_ovn_region(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions[OVN_REGION]
    watch = Watch(world, region_one, [Kind.AGENTS, Kind.ROUTERS])
    await watch.poll()
    start_scenario(world, "gateway-failover-stuck", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    others = [r for r in region.routers if gateway_port(region, r).host != victim.host]
    region.place_gateway(others[0], "", world.now())  # nowhere to go
    await watch.run(until=180, every=15)

    snapshots = list(watch.latest.values())
    routers = watch.latest[Kind.ROUTERS]
    view = routers_view([routers], world.now())
    pane = {row.target.id: Severity(int(row.severity)) for row in view.rows}
    pane = {rid: sev for rid, sev in pane.items() if sev >= Severity.WARNING}
    console = worst_by_router(watch.tracker.findings())
    one_look = worst_by_router(findings_now(snapshots))

    stuck = {r.id for r in holders(region)[victim.host]}
    down = {rid for rid in stuck if gateway_port(region, region.routers.get(rid)).status == "DOWN"}
    expected = {rid: Severity.WARNING for rid in stuck} | {
        rid: Severity.CRITICAL for rid in down | {others[0].id}
    }
    assert down and pane == expected
    assert console == pane
    assert one_look == pane
    ref = RegionRef(routers.ref.cloud, OVN_REGION)
    critical = sum(1 for s in pane.values() if s == Severity.CRITICAL)
    assert region_counts(view)[ref] == (critical, len(pane) - critical)
