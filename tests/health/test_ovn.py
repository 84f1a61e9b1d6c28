"""ML2/OVN gateway rules case by case, and each rule on the simulated cloud over time:
a chassis dying (its transients must not page), gateways stuck on a dead chassis, a
router with too few candidates, a region left with one gateway chassis, concentration."""

from __future__ import annotations

from typing import Any

import pytest

from osconsole.cloud.http import RegionClient
from osconsole.config import Thresholds
from osconsole.events import Event, EventKind
from osconsole.health import ovn as rules
from osconsole.health.findings import REGION, Severity
from osconsole.health.ovn import (
    GatewayChassis,
    chassis_problems,
    concentration_problems,
    gateway_chassis,
    gateway_conditions,
    gateway_problems,
)
from osconsole.model import Kind, RegionRef, Router, RouterBinding, RouterGateway, Snapshot
from osconsole.sim.clock import SimClock
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import NEUTRON_AGENT_DOWN_TIME, World
from tests.conftest import T0
from tests.health.test_findings import Watch
from tests.support.ovn import OVN_REGION, gateway_port, holders, mixed_world

REF = RegionRef("cloud", "RegionOne")
UP = RouterGateway("port-1", "gw1", "ACTIVE")


def chassis(host: str, alive: bool = True, gateways: int = 0) -> GatewayChassis:
    return GatewayChassis(f"agent-{host}", host, alive, True, gateways)


LIVE = {c.host: c for c in (chassis("gw1"), chassis("gw2"), chassis("gw3"))}


def candidate(host: str, alive: bool = True, priority: int = 1) -> RouterBinding:
    return RouterBinding(f"agent-{host}", host, None, alive, True, priority)


def router(
    gateway: RouterGateway | None = UP,
    candidates: tuple[RouterBinding, ...] | None = None,
    *,
    rid: str = "r1",
    admin_up: bool = True,
) -> Router:
    return Router(
        rid, f"web-{rid}", "p1", "ACTIVE", admin_up, None, None, (), candidates, None, gateway
    )


def rules_of(problems: list[Any]) -> list[tuple[str, Severity]]:
    return [(p.rule, p.severity) for p in problems]


# -- one router -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gateway", "chassis_map", "expected"),
    [
        (UP, LIVE, []),
        (None, LIVE, []),  # no external gateway: nothing to fail over
        (RouterGateway("p", "", "DOWN"), LIVE, [(rules.NO_GATEWAY, Severity.CRITICAL)]),
        (RouterGateway("p", "gw1", "DOWN"), LIVE, [(rules.NO_GATEWAY, Severity.CRITICAL)]),
        (UP, {**LIVE, "gw1": chassis("gw1", False)}, [(rules.ON_DEAD_CHASSIS, Severity.WARNING)]),
        (
            RouterGateway("p", "gw1", "DOWN"),
            {**LIVE, "gw1": chassis("gw1", False)},
            [(rules.ON_DEAD_CHASSIS, Severity.CRITICAL)],
        ),
        (UP, None, []),  # chassis liveness unknown: no verdict on it
        (UP, {"gw2": chassis("gw2")}, []),  # a host no gateway agent names: nothing known
    ],
)
def test_gateway_problems(
    gateway: RouterGateway | None, chassis_map: Any, expected: list[tuple[str, Severity]]
) -> None:
    assert rules_of(gateway_problems(router(gateway), chassis_map, 2)) == expected


def test_gateway_reasons_in_words() -> None:
    dead = {**LIVE, "gw1": chassis("gw1", False)}
    [stuck] = gateway_problems(router(UP), dead)
    assert stuck.reason == (
        "router web-r1's gateway is active on gw1, whose gateway agent is dead: it forwards "
        "with the flows it has, and no change reaches it"
    )
    [none] = gateway_problems(router(RouterGateway("p", "", "DOWN")), LIVE)
    assert (
        none.reason == "router web-r1 has no active gateway: its gateway port is DOWN on no chassis"
    )
    assert none.label == "NO GATEWAY"


def test_few_live_candidates_need_the_sweep() -> None:
    two = (candidate("gw1"), candidate("gw2"))
    assert gateway_problems(router(UP, two), LIVE, 2) == []
    assert gateway_problems(router(UP, None), LIVE, 2) == []  # not swept yet
    one_dead = (candidate("gw1"), candidate("gw2", alive=False))
    [few] = gateway_problems(router(UP, one_dead), LIVE, 2)
    assert (few.rule, few.severity, few.label) == (
        rules.FEW_CANDIDATES,
        Severity.WARNING,
        "FEW CHASSIS (1)",
    )
    assert few.reason.startswith(
        "router web-r1 has 1 live candidate gateway chassis (gw1); expected 2"
    )
    assert gateway_problems(router(UP, one_dead), LIVE, 1) == []
    # An administratively down router is nobody's emergency.
    down = RouterGateway("p", "", "DOWN")
    assert gateway_problems(router(down, one_dead, admin_up=False), LIVE, 2) == []


def test_worst_first() -> None:
    found = gateway_problems(router(RouterGateway("p", "", "DOWN"), (candidate("gw1"),)), LIVE, 2)
    assert rules_of(found) == [
        (rules.NO_GATEWAY, Severity.CRITICAL),
        (rules.FEW_CANDIDATES, Severity.WARNING),
    ]


# -- the region -------------------------------------------------------------------------------


def test_too_few_live_gateway_chassis() -> None:
    t = Thresholds()
    assert chassis_problems([chassis("gw1"), chassis("gw2", False), chassis("gw3")], t) == []
    [one] = chassis_problems([chassis("gw1", False), chassis("gw2"), chassis("gw3", False)], t)
    assert (one.rule, one.severity) == (rules.FEW_CHASSIS, Severity.WARNING)
    assert one.reason == (
        "1 of 3 gateway chassis alive (gw2); dead: gw1, gw3: fewer than 2, no failover left"
    )
    [none] = chassis_problems([chassis("gw1", False)], t)
    assert none.severity == Severity.CRITICAL and none.label == "NO GATEWAY CHASSIS"
    assert chassis_problems([chassis("gw1"), chassis("gw2")], Thresholds(min_gateway_chassis=3))


def test_concentration_beyond_the_configured_share() -> None:
    t = Thresholds()
    even = [chassis("gw1", gateways=3), chassis("gw2", gateways=3), chassis("gw3", gateways=2)]
    assert concentration_problems(even, t) == []
    heavy = [chassis("gw1", gateways=6), chassis("gw2", gateways=1), chassis("gw3", gateways=1)]
    [(host, problem)] = concentration_problems(heavy, t)
    assert host == "gw1" and problem.severity == Severity.INFO
    assert problem.reason.startswith(
        "gateway chassis gw1 holds 6 of 8 active gateways (75%; over 50%)"
    )
    assert concentration_problems(heavy, Thresholds(gateway_concentration_ratio=0.8)) == []
    # Too few gateways, or a single live chassis: nothing to spread.
    assert concentration_problems([chassis("gw1", gateways=3), chassis("gw2")], t) == []
    alone = [chassis("gw1", gateways=8), chassis("gw2", False)]
    assert concentration_problems(alone, t) == []


def snap(*routers: Router, chassis_extra: dict | None = None, ovn: bool = True) -> Snapshot[Router]:
    extra: dict[str, Any] = {"ovn": ovn}
    if chassis_extra is not None:
        extra["gateway_chassis"] = chassis_extra
    return Snapshot(REF, Kind.ROUTERS, {r.id: r for r in routers}, 1000.0, 1000.0, extra=extra)


def test_gateway_conditions_of_a_snapshot() -> None:
    agents = {
        f"agent-{h}": {"host": h, "alive": h != "gw3", "admin_state_up": True, "started_at": None}
        for h in ("gw1", "gw2", "gw3")
    }
    broken = router(RouterGateway("p", "", "DOWN"), rid="r2")
    found = gateway_conditions(snap(router(UP), broken, chassis_extra=agents), Thresholds())
    assert [(c.rule, c.subject.id, c.debounce) for c in found] == [(rules.NO_GATEWAY, "r2", 60.0)]
    assert [c.gateways for c in gateway_chassis(snap(router(UP), chassis_extra=agents))] == [
        1,
        0,
        0,
    ]
    assert gateway_conditions(snap(broken, ovn=False), Thresholds()) == []
    # Without the chassis' liveness the router rules still run, the region's do not.
    assert [c.rule for c in gateway_conditions(snap(broken), Thresholds())] == [rules.NO_GATEWAY]
    agents = {k: {**v, "alive": False} for k, v in agents.items()}
    region = gateway_conditions(snap(router(UP), chassis_extra=agents), Thresholds())
    assert [(c.rule, c.severity, c.subject.id, c.debounce) for c in region] == [
        (rules.ON_DEAD_CHASSIS, Severity.WARNING, "r1", 60.0),
        (rules.FEW_CHASSIS, Severity.CRITICAL, REF.region, 0.0),
    ]
    assert region[1].subject.kind == REGION  # the region's own, not a made-up router


# -- on the simulated cloud ---------------------------------------------------------------------


@pytest.fixture
def world(clock: SimClock) -> World:
    return mixed_world(clock)


def watch(world: World, client: RegionClient) -> Watch:
    return Watch(world, client, [Kind.AGENTS, Kind.ROUTERS])


def each_event(w: Watch, kind: EventKind) -> list[Event]:
    """The events of `kind`, inside the timeline's grouped lines too."""
    return [m for e in w.events() for m in (e.members or (e,)) if m.kind is kind]


async def test_a_chassis_dying_moves_gateways_and_its_transient_pages_nobody(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions[OVN_REGION]
    w = watch(world, region_one)
    await w.poll()
    assert w.tracker.findings() == ()
    before = {r.id: gateway_port(region, r).host for r in region.routers}
    start_scenario(world, "gateway-chassis-dies", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    moved = {rid for rid, host in before.items() if host == victim.host}

    update = await w.step(2)  # the ports are DOWN with no chassis: seen, not a finding
    snapshot = w.latest[Kind.ROUTERS]
    assert {rid for rid, r in snapshot.items.items() if not r.gateway.active} == moved
    assert not update.raised
    lost = each_event(w, EventKind.ROUTER_ACTIVE_LOST)
    assert {e.subject.id for e in lost} == moved
    await w.step(4)  # 6 s: ACTIVE on the next chassis
    back = each_event(w, EventKind.ROUTER_ACTIVE_BACK)
    assert {e.subject.id for e in back} == moved
    await w.run(until=200)
    assert not w.raised(rules.NO_GATEWAY)
    assert not w.raised(rules.ON_DEAD_CHASSIS)
    # The chassis' gateway agent reads dead after 75 s: one finding, the chassis, at once.
    down = w.raised("agent.down")
    assert [f.subject.id for _, f in down] == [victim.id]
    assert "a gateway chassis" in down[0][1].reason
    assert not w.raised(rules.FEW_CHASSIS)  # two are left
    # The timeline: one line per poll for the gateways leaving the chassis, and its
    # death tied to them once Neutron declares it.
    grouped = [e for e in w.events(EventKind.ROUTERS_FAILED_OVER) if e.origin == victim.host]
    assert grouped and grouped[0].description.startswith(f"from {victim.host}: ")
    [death] = [e for e in w.events(EventKind.AGENT_DOWN) if e.subject.id == victim.id]
    assert "→" in death.description and "seen before it was declared dead" in death.description


async def test_failover_on_a_long_poll_interval_is_one_failover_event(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions[OVN_REGION]
    w = watch(world, region_one)
    await w.poll()
    start_scenario(world, "gateway-chassis-dies", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    await w.step(30)
    failovers = each_event(w, EventKind.ROUTER_FAILOVER)
    assert failovers and all(e.severity == Severity.WARNING for e in failovers)
    for event in failovers:
        router_now = region.routers.get(event.subject.id)
        assert router_now is not None
        new_host = gateway_port(region, router_now).host
        assert event.description == (
            f"router {router_now.name}'s gateway failed over from {victim.host} to {new_host}"
        )


async def test_a_gateway_with_nowhere_to_go_is_critical_after_the_debounce(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions[OVN_REGION]
    w = watch(world, region_one)
    await w.poll()
    start_scenario(world, "gateway-chassis-dies", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    lonely = holders(region)[victim.host][0]
    lonely.gateway_chassis = [victim.id]
    await w.run(until=120, every=10)
    [(at, finding)] = w.raised(rules.NO_GATEWAY)
    assert finding.subject.id == lonely.id and finding.severity == Severity.CRITICAL
    assert at == 70 and finding.since == T0 + 10  # seen at 10 s, lasting 60 s


async def test_gateways_stuck_on_a_dead_chassis_warn_then_critical_when_down(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions[OVN_REGION]
    w = watch(world, region_one)
    await w.poll()
    start_scenario(world, "gateway-failover-stuck", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    stuck = {r.id for r in holders(region)[victim.host]}
    await w.run(until=150, every=10)  # dead at 80 s (the poll after 75 s), findings at 140 s
    warned = w.raised(rules.ON_DEAD_CHASSIS)
    assert {f.subject.id for _, f in warned} == stuck
    assert {t for t, _ in warned} == {140}
    down = [rid for rid in stuck if gateway_port(region, region.routers.get(rid)).status == "DOWN"]
    assert down  # the ports that went DOWN at 90 s are critical (same finding, worse)
    now = {f.subject.id: f.severity for f in w.findings(rules.ON_DEAD_CHASSIS)}
    assert {rid for rid, sev in now.items() if sev == Severity.CRITICAL} == set(down)
    assert not each_event(w, EventKind.ROUTER_FAILOVER)  # nothing moved


async def test_too_few_candidates_from_the_sweep(world: World, region_one: RegionClient) -> None:
    region = world.regions[OVN_REGION]
    poor = next(iter(region.routers))
    poor.gateway_chassis = poor.gateway_chassis[:1]
    w = watch(world, region_one)
    await w.poll()
    await w.run(until=60, every=30)
    [(at, finding)] = w.raised(rules.FEW_CANDIDATES)
    assert (at, finding.subject.id, finding.severity) == (60, poor.id, Severity.WARNING)


async def test_a_region_left_with_one_gateway_chassis(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions[OVN_REGION]
    w = watch(world, region_one)
    await w.poll()
    first, second, _ = region.gateway_agents()
    now = world.now()
    first.stop(now)
    second.stop(now)
    await w.run(until=NEUTRON_AGENT_DOWN_TIME + 5, every=NEUTRON_AGENT_DOWN_TIME + 5)
    [(at, finding)] = w.raised(rules.FEW_CHASSIS)
    assert at == 80 and finding.severity == Severity.WARNING
    assert (finding.subject.kind, finding.subject.id) == (REGION, OVN_REGION)
    assert finding.reason.startswith("1 of 3 gateway chassis alive")


async def test_gateways_piled_on_one_chassis(world: World, region_one: RegionClient) -> None:
    region = world.regions[OVN_REGION]
    target = region.gateway_agents()[0]
    for r in region.routers:
        region.place_gateway(r, target.host, world.now())
    w = watch(world, region_one)
    await w.poll()
    await w.run(until=60, every=30)
    [(at, finding)] = w.raised(rules.CONCENTRATED)
    assert at == 60 and finding.severity == Severity.INFO
    assert (finding.subject.kind, finding.subject.id) == (REGION, OVN_REGION)
    assert finding.reason.startswith(f"gateway chassis {target.host} holds")
