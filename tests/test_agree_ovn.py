"""On an ML2/OVN region, the one judge's verdicts are what every surface shows: the
routers pane's rows and counts, the findings, the wall's counts and `osconsole
snapshot`'s one look. Polled from the simulator through a gateway chassis whose
ovn-controller stopped (its gateways stay on it, a quarter of their ports go DOWN)
and a router whose gateway has nowhere to go. (tests/test_agree.py runs the gateway
scenarios through every surface as well, on a mixed cloud.)"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from osconsole.cloud.http import RegionClient
from osconsole.health import ovn
from osconsole.health.assess import assess_once
from osconsole.health.findings import REGION, Finding, Severity, Tracker
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
        if f.subject.kind == Kind.ROUTERS:
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
    verdicts = watch.updates[-1][1]

    routers = watch.latest[Kind.ROUTERS]
    view = routers_view([routers], world.now(), verdicts=verdicts)
    pane = {row.target.id: Severity(int(row.severity)) for row in view.rows}
    pane = {rid: sev for rid, sev in pane.items() if sev >= Severity.WARNING}
    console = worst_by_router(verdicts.findings)
    one_look = assess_once(watch.latest.values(), Tracker(watch.tracker.thresholds))

    stuck = {r.id for r in holders(region)[victim.host]}
    down = {rid for rid in stuck if gateway_port(region, region.routers.get(rid)).status == "DOWN"}
    expected = {rid: Severity.WARNING for rid in stuck} | {
        rid: Severity.CRITICAL for rid in down | {others[0].id}
    }
    assert down and pane == expected
    assert console == pane
    assert worst_by_router(one_look.findings) == pane
    ref = RegionRef(routers.ref.cloud, OVN_REGION)
    critical = sum(1 for s in pane.values() if s == Severity.CRITICAL)
    assert region_counts(view)[ref] == (critical, len(pane) - critical, 0)

    # The dead chassis is one incident: the routers stuck on it, and those left with too
    # few candidates because it was one of theirs, under it.
    [incident] = [i for i in verdicts.incidents if i.cause.subject.id == victim.id]
    grouped = {f.subject.id: f.rule for f in incident.symptoms if f.subject.kind is Kind.ROUTERS}
    assert stuck <= grouped.keys()
    for rid in grouped.keys() - stuck:
        assert grouped[rid] == ovn.FEW_CANDIDATES
        assert victim.id in region.routers.get(rid).gateway_chassis
    count = len(grouped)
    assert incident.title.endswith(f"→ {count} routers without a healthy gateway or candidates")
    assert others[0].id not in {f.subject.id for f in incident.findings}  # not its doing


async def test_too_few_gateway_chassis_is_the_regions_own_problem(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions[OVN_REGION]
    watch = Watch(world, region_one, [Kind.AGENTS, Kind.ROUTERS])
    await watch.poll()
    first, second, _ = region.gateway_agents()
    first.stop(world.now())
    second.stop(world.now())
    await watch.run(until=120, every=40)
    verdicts = watch.updates[-1][1]

    [finding] = [f for f in verdicts.findings if f.rule == ovn.FEW_CHASSIS]
    ref = finding.subject.ref
    assert (finding.subject.kind, finding.subject.id) == (REGION, OVN_REGION)
    assert verdicts.regions[ref].severity is Severity.WARNING
    assert [p.rule for p in verdicts.regions[ref].active] == [ovn.FEW_CHASSIS]
    # Not a row of the routers pane (no made-up router), and no router is judged for it.
    view = routers_view([watch.latest[Kind.ROUTERS]], world.now(), verdicts=verdicts)
    assert {row.target.id for row in view.rows} == {r.id for r in region.routers}
    # Two chassis died: each its own incident, the region's finding stands alone.
    alone = [i for i in verdicts.incidents if i.cause is finding]
    assert alone and not alone[0].symptoms
