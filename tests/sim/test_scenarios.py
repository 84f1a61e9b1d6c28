"""Scenarios: timed world mutations on the simulation clock, stepped explicitly."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from osconsole.sim import scenarios
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.sim.scenarios import (
    DEMO_CYCLE,
    SCENARIOS,
    runner,
    start_scenario,
    stop_scenario,
)
from osconsole.sim.world import DHCP_AGENT, OVS_AGENT, Region, Router, World, compute_usage
from tests.conftest import T0


def advance(world: World, seconds: float) -> float:
    """Step the clock and tick the world, as the control API does."""
    world.clock.step(seconds)
    return world.tick()


def live_actives(region: Region, router: Router, now: float) -> list[str]:
    return [
        aid
        for aid, state in router.bindings.items()
        if state == "active" and region.agents.get(aid).is_alive(now)  # type: ignore[union-attr]
    ]


def masters_by_agent(region: Region) -> dict[str, list[str]]:
    return {
        a.id: [r.id for r in region.routers if r.bindings.get(a.id) == "active"]
        for a in region.l3_agents()
    }


def timeline(world: World) -> list[tuple[float, str | None, str, str]]:
    return [(e.time - T0, e.region, e.scenario, e.description) for e in runner(world).events]


def snapshot(world: World) -> dict[str, Any]:
    """Everything scenarios change, to compare two worlds."""
    out: dict[str, Any] = {}
    for name, region in world.regions.items():
        out[name] = {
            "bindings": {r.id: dict(r.bindings) for r in region.routers},
            "agents": {a.id: (a.stopped_at, a.started_at) for a in region.agents},
            "services": {s.id: s.stopped_at for s in region.compute_services},
            "servers": {
                s.id: (s.status, s.host, s.updated_at, s.deleted_at) for s in region.servers
            },
            "ports": {
                p.id: (p.updated_at, p.revision, p.port_security_enabled, p.allowed_address_pairs)
                for p in region.ports
            },
            "rules": sorted(region.security_group_rules.ids()),
            "usage": {h.id: (h.running_vms, h.vcpus_used) for h in region.hypervisors},
        }
    return out


def fresh_world() -> World:
    return build_world(size="tiny", regions=3, seed=7, clock=SimClock(start=T0))


# -- l3-agent-dies -------------------------------------------------------------------


def test_l3_agent_dies_busiest_agent_stops_and_keepalived_takes_over(world: World) -> None:
    region = world.regions["RegionOne"]
    masters = masters_by_agent(region)
    counts = sorted(len(v) for v in masters.values())
    assert counts[-1] > counts[-2], "the tiny world has one busiest L3 agent in RegionOne"
    victim_id = max(masters, key=lambda aid: len(masters[aid]))
    victim = region.agents.get(victim_id)
    assert victim is not None
    routers = [region.routers.get(rid) for rid in masters[victim_id]]

    start_scenario(world, "l3-agent-dies", region="RegionOne")

    assert victim.stopped_at == T0
    assert [a.id for a in region.agents if a.stopped_at is not None] == [victim_id]
    for other in ("RegionTwo", "RegionThree"):
        assert all(a.stopped_at is None for a in world.regions[other].agents)
    # The DB keeps the dead agent's bindings active; Neutron still sees it alive.
    assert all(r.bindings[victim_id] == "active" for r in routers)
    assert all(region.reported_ha_state(r, victim, T0) == "active" for r in routers)

    advance(world, 10)  # keepalived takes over
    now = advance(world, 70)  # T0 + 80: the agent reads dead
    assert not victim.is_alive(now)
    for router in routers:
        assert region.reported_ha_state(router, victim, now) in ("standby", "unknown")
    taken = [r for r in routers if len(live_actives(region, r, now)) == 1]
    orphans = [r for r in routers if not live_actives(region, r, now)]
    assert len(orphans) == max(1, round(len(routers) * 0.2))
    assert len(taken) == len(routers) - len(orphans) > len(orphans)
    for router in taken:
        assert router.bindings[victim_id] == "standby"
        assert live_actives(region, router, now) != [victim_id]
    for router in orphans:
        assert router.bindings[victim_id] == "active"  # stored, rewritten on read
        states = [
            region.reported_ha_state(router, region.agents.get(a), now) for a in router.bindings
        ]
        assert "active" not in states

    events = timeline(world)
    assert [(t, r) for t, r, _, _ in events] == [
        (0, "RegionOne"),
        (0, "RegionOne"),
        (10, "RegionOne"),
        *[(10, "RegionOne")] * len(orphans),
        (10, "RegionOne"),
    ]
    assert f"l3 agent {victim.host} ({victim_id}) stopped" in events[1][3]
    assert events[2][3].startswith(f"keepalived took over {len(taken)} of {len(routers)} routers")
    assert events[-1][3] == "scenario l3-agent-dies finished"
    assert not runner(world).runs


def test_l3_agent_dies_everywhere_without_a_region(world: World) -> None:
    start_scenario(world, "l3-agent-dies")
    for region in world.regions.values():
        dead = [a for a in region.agents if a.stopped_at is not None]
        assert len(dead) == 1
        assert dead[0].agent_type == "L3 agent"


def test_targets_are_reproducible_for_the_same_seed() -> None:
    first, second = fresh_world(), fresh_world()
    for world in (first, second):
        start_scenario(world, "split-brain")
        start_scenario(world, "tenant-spoofing", region="RegionTwo")
        advance(world, 60)
    assert timeline(first) == timeline(second)
    assert snapshot(first) == snapshot(second)


# -- split-brain -------------------------------------------------------------------------


def test_split_brain_yields_two_live_actives_then_resolves(world: World) -> None:
    region = world.regions["RegionOne"]
    assert all(len(live_actives(region, r, T0)) == 1 for r in region.routers if r.ha)

    start_scenario(world, "split-brain", region="RegionOne")

    restarted = [a for a in region.l3_agents() if a.started_at == T0]
    assert len(restarted) == 1
    agent = restarted[0]
    dual = [r for r in region.routers if len(live_actives(region, r, T0)) == 2]
    assert dual
    for router in dual:
        assert agent.id in live_actives(region, router, T0)
        # Neutron keeps two actives on live agents as they are.
        states = [
            region.reported_ha_state(router, region.agents.get(a), T0) for a in router.bindings
        ]
        assert states.count("active") == 2

    now = advance(world, 119)
    assert all(len(live_actives(region, r, now)) == 2 for r in dual)
    now = advance(world, 1)
    assert all(len(live_actives(region, r, now)) == 1 for r in dual)
    assert agent.stopped_at is None and agent.is_alive(now)
    resolved = [e for e in runner(world).events if "resolved" in e.description]
    assert [e.time for e in resolved] == [T0 + 120]
    assert f"resolved for {len(dual)} router" in resolved[0].description


def test_stopping_a_scenario_leaves_the_world_as_it_is(world: World) -> None:
    region = world.regions["RegionOne"]
    start_scenario(world, "split-brain", region="RegionOne")
    advance(world, 60)
    assert [r.name for r in stop_scenario(world, "split-brain")] == ["split-brain"]
    now = advance(world, 200)
    assert any(len(live_actives(region, r, now)) == 2 for r in region.routers)
    assert not any("resolved" in e.description for e in runner(world).events)
    assert runner(world).events[-1].description == "scenario split-brain stopped in RegionOne"
    assert stop_scenario(world, "split-brain") == []


# -- compute-host-down ------------------------------------------------------------------


def test_compute_host_down_stops_nova_compute_and_ovs_but_not_servers(world: World) -> None:
    region = world.regions["RegionOne"]
    before = {s.id: (s.status, s.updated_at, s.host) for s in region.servers}

    start_scenario(world, "compute-host-down", region="RegionOne")

    down = [hv for hv in region.hypervisors if hv.service.stopped_at is not None]
    assert len(down) == 1
    hv = down[0]
    assert hv.running_vms > 0
    ovs = [a for a in region.agents_on_host(hv.hostname) if a.agent_type == OVS_AGENT]
    assert [a.stopped_at for a in ovs] == [T0]
    assert [a for a in region.agents if a.stopped_at is not None] == ovs

    now = advance(world, 60)
    assert hv.service.is_up(now)  # Nova does not know yet
    now = advance(world, 1)
    assert not hv.service.is_up(now)
    assert ovs[0].is_alive(now)
    now = advance(world, 15)
    assert not ovs[0].is_alive(now)
    assert {s.id: (s.status, s.updated_at, s.host) for s in region.servers} == before
    dead_for = "(no heartbeat for 75 s)"
    notes = [
        (e.time - T0, e.description) for e in runner(world).events if "now reads" in e.description
    ]
    assert notes == [
        (61, f"nova-compute on {hv.hostname} now reads down (no report for 60 s)"),
        (76, f"open vswitch agent {hv.hostname} ({ovs[0].id}) now reads dead {dead_for}"),
    ]


# -- tenant-spoofing ---------------------------------------------------------------------


def test_tenant_spoofing_misconfigures_and_churns_servers(world: World) -> None:
    region = world.regions["RegionOne"]
    servers_before = set(region.servers.ids())
    rules_before = set(region.security_group_rules.ids())

    start_scenario(world, "tenant-spoofing", region="RegionOne")

    spoofing = [
        p
        for p in region.ports
        if any(pair["ip_address"] == "0.0.0.0/0" for pair in p.allowed_address_pairs)
    ]
    assert len(spoofing) == 1
    assert spoofing[0].updated_at == T0 and spoofing[0].revision == 2
    project_id = spoofing[0].project_id

    advance(world, 5)
    opened = [p for p in region.ports if not p.port_security_enabled and p.updated_at == T0 + 5]
    assert len(opened) == 1
    assert opened[0].project_id == project_id and opened[0].security_groups == []

    advance(world, 5)
    group = spoofing[0].security_groups[0]
    world_open = {
        r.port_range_min
        for r in region.security_group_rules
        if r.security_group_id == group
        and r.direction == "ingress"
        and r.remote_ip_prefix == "0.0.0.0/0"
        and r.protocol == "tcp"
    }
    assert {22, 3389} <= world_open
    new_rules = [
        region.security_group_rules.get(i)
        for i in set(region.security_group_rules.ids()) - rules_before
    ]
    assert new_rules and all(r.created_at == r.updated_at == T0 + 10 for r in new_rules)

    now = advance(world, 60)  # churn steps at 15, 19, ..., 67
    churned = [region.servers.get(i) for i in set(region.servers.ids()) - servers_before]
    assert len(churned) == 14
    assert all(s.project_id == project_id and "-churn-" in s.name for s in churned)
    deleted = [s for s in churned if s.deleted]
    assert len(deleted) == 11
    assert all(
        s.status == "DELETED" and s.updated_at == s.deleted_at > s.created_at for s in deleted
    )
    # changes-since: what changed after T0 + 50 is exactly what was created or deleted since.
    recent = {s.id for s in region.servers if s.updated_at >= T0 + 50}
    assert recent == {
        s.id for s in churned if s.created_at >= T0 + 50 or (s.deleted_at or 0) >= T0 + 50
    }
    ports_by_device = {p.device_id: p for p in region.ports}
    assert all(s.id not in ports_by_device for s in deleted)
    assert all(ports_by_device[s.id].ip == s.ip for s in churned if not s.deleted)
    assert now == T0 + 70

    advance(world, 70)  # the last churn step is at 15 + 29 * 4 = 131
    churned = [region.servers.get(i) for i in set(region.servers.ids()) - servers_before]
    assert len(churned) == 30
    errors = [s for s in churned if s.status == "ERROR" or (s.deleted and s.host is None)]
    assert errors and all(s.host is None for s in errors)
    for hv in region.hypervisors:
        live = [s for s in region.servers if s.host == hv.hostname and not s.deleted]
        assert hv.running_vms == len(live)
    assert not runner(world).runs


# -- quota-squeeze ----------------------------------------------------------------------


def squeezed(region: Region) -> list[str]:
    return sorted({s.project_id for s in region.servers if "-quota-" in s.name})


def test_quota_squeeze_fills_the_cores_quota_to_95_percent_and_never_over(world: World) -> None:
    region = world.regions["RegionOne"]
    room = {}
    for project_id in {s.project_id for s in region.servers}:
        used = compute_usage(s for s in region.servers if s.project_id == project_id)
        target = math.ceil(0.95 * region.compute_quota(project_id)["cores"])
        room[project_id] = target - used["cores"]
    closest = min((r, p) for p, r in room.items() if r > 0)[1]
    ports_before = len(region.ports)

    start_scenario(world, "quota-squeeze", region="RegionOne")
    advance(world, 150)

    assert squeezed(region) == [closest]
    mine = [s for s in region.servers if s.project_id == closest]
    launched = [s for s in mine if "-quota-" in s.name]
    assert launched and all(s.created_at > T0 and not s.deleted for s in launched)
    used, limits = compute_usage(mine), region.compute_quota(closest)
    assert all(used[r] <= limits[r] for r in ("instances", "cores", "ram"))
    assert used["cores"] >= 0.95 * limits["cores"]
    ports = {p.device_id: p for p in region.ports}
    assert all(ports[s.id].ip == s.ip for s in launched)
    assert len(region.ports) == ports_before + len(launched)
    stop = f"stops launching at nova cores {used['cores']}/{limits['cores']}"
    assert any(e.description.endswith(stop) for e in runner(world).events)
    assert not runner(world).runs


def test_the_demo_squeezes_a_quota_then_gives_it_back(world: World) -> None:
    start_scenario(world, "demo")
    region = world.regions["RegionTwo"]  # the demo's second region
    advance(world, 140 + 100)
    (project_id,) = squeezed(region)
    used = compute_usage(s for s in region.servers if s.project_id == project_id)
    assert used["cores"] >= 0.95 * region.compute_quota(project_id)["cores"]
    advance(world, 300)
    assert not [s for s in region.servers if "-quota-" in s.name and not s.deleted]


# -- agent-flap -------------------------------------------------------------------------


def test_agent_flap_alternates_dead_and_alive(world: World) -> None:
    region = world.regions["RegionTwo"]
    start_scenario(world, "agent-flap", region="RegionTwo")
    flapping = [a for a in region.agents if a.stopped_at is not None]
    assert len(flapping) == 1
    agent = flapping[0]
    assert agent.agent_type in (DHCP_AGENT, OVS_AGENT)

    flips: list[tuple[float, bool]] = []
    alive = agent.is_alive(T0)
    started = []
    for _ in range(600):
        now = advance(world, 1)
        if agent.is_alive(now) != alive:
            alive = not alive
            flips.append((now - T0, alive))
            if alive:
                started.append(agent.started_at - T0)
    assert flips == [(76, False), (165, True), (331, False), (420, True), (586, False)]
    assert started == [165, 420]
    assert runner(world).runs[0].cycle == 2


# -- demo and the clock -----------------------------------------------------------------


def test_demo_spreads_incidents_and_recovers_within_a_cycle(world: World) -> None:
    start_scenario(world, "demo")
    now = advance(world, DEMO_CYCLE - 5)
    events = runner(world).events
    assert {e.region for e in events} >= set(world.regions)
    starts = ("stopped;", "went down", "restarted", "address pair", "flapping")
    firsts = sorted({e.time - T0 for e in events if any(w in e.description for w in starts)})
    assert len(firsts) >= 8
    assert max(b - a for a, b in itertools.pairwise(firsts)) <= 90
    for region in world.regions.values():
        assert all(a.stopped_at is None and a.is_alive(now) for a in region.agents)
        assert all(s.stopped_at is None for s in region.compute_services)
        assert all(len(live_actives(region, r, now)) == 1 for r in region.routers if r.ha)
        assert not [s for s in region.servers if "-churn-" in s.name and not s.deleted]
        assert not [s for s in region.servers if "-quota-" in s.name and not s.deleted]
        assert not [r for r in region.security_group_rules if r.created_at > T0]
        assert not [p for p in region.ports if not p.port_security_enabled and p.updated_at > T0]
    advance(world, 5)  # the next cycle starts again at once
    assert runner(world).runs[0].cycle == 1
    assert "stopped;" in runner(world).events[-1].description


def test_demo_in_one_region_keeps_incidents_apart(world: World) -> None:
    region = world.regions["RegionTwo"]
    start_scenario(world, "demo", region="RegionTwo")
    seen_dead: set[str] = set()
    for _ in range(int(DEMO_CYCLE) - 5):
        now = advance(world, 1)
        dead_l3 = [a for a in region.l3_agents() if not a.is_alive(now)]
        assert len(dead_l3) <= 1, "the demo's L3 incidents do not overlap"
        seen_dead.update(a.id for a in region.agents if a.stopped_at is not None)
    assert {e.region for e in runner(world).events} == {"RegionTwo"}
    assert len(seen_dead) >= 4
    assert all(a.stopped_at is None for a in region.agents)
    assert all(len(live_actives(region, r, now)) == 1 for r in region.routers if r.ha)
    for other in ("RegionOne", "RegionThree"):
        assert all(a.started_at < T0 for a in world.regions[other].agents)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_one_big_step_equals_many_one_second_steps(name: str) -> None:
    at_once, second_by_second = fresh_world(), fresh_world()
    for world in (at_once, second_by_second):
        start_scenario(world, name)
    advance(at_once, 800)
    for _ in range(800):
        advance(second_by_second, 1)
    assert timeline(at_once) == timeline(second_by_second)
    assert len(timeline(at_once)) > 3
    assert snapshot(at_once) == snapshot(second_by_second)


def test_a_loop_far_behind_skips_whole_cycles(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenarios, "MAX_CATCH_UP", 3600.0)
    start_scenario(world, "demo")
    now = advance(world, 3 * 86_400)
    skipped = [e for e in runner(world).events if e.description.startswith("skipped")]
    assert len(skipped) == 1
    # Cycle 0 is played out, then whole cycles up to an hour behind are skipped.
    expected = int((3 * 86_400 - 3600 - DEMO_CYCLE) // DEMO_CYCLE)
    assert skipped[0].description == f"skipped {expected} cycles to catch up with the clock"
    assert runner(world).runs[0].cycle > 3 * 86_400 // DEMO_CYCLE - 1
    assert runner(world).events[-1].time > now - DEMO_CYCLE


def test_start_refuses_unknown_names_regions_and_doubles(world: World) -> None:
    with pytest.raises(KeyError):
        start_scenario(world, "meteor-strike")
    with pytest.raises(ValueError, match="unknown region"):
        start_scenario(world, "demo", region="RegionNine")
    start_scenario(world, "agent-flap", region="RegionOne")
    with pytest.raises(ValueError, match="already running"):
        start_scenario(world, "agent-flap", region="RegionOne")
    start_scenario(world, "agent-flap", region="RegionTwo")
    assert [(r.name, r.region) for r in runner(world).runs] == [
        ("agent-flap", "RegionOne"),
        ("agent-flap", "RegionTwo"),
    ]
    assert world.tickers.count(runner(world)) == 1
