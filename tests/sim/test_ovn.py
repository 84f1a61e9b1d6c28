"""The simulated ML2/OVN region: its agents, gateway ports, gateway chassis as
`l3-agents`, the API reference shapes, and the gateway chassis scenarios."""

from __future__ import annotations

import httpx
import pytest

from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world, region_backends
from osconsole.sim.scenarios import SCENARIOS, GatewayChassisDies, Plan, runner, start_scenario
from osconsole.sim.world import (
    HIGHEST_CHASSIS_PRIORITY,
    NEUTRON_AGENT_DOWN_TIME,
    OVN_CONTROLLER,
    OVN_GATEWAY,
    OVN_METADATA,
    ROUTER_GATEWAY_OWNER,
    World,
)
from tests.sim.shapes import assert_same_shape, load_sample
from tests.support.ovn import (
    OVN_REGION,
    advance,
    chassis_by_host,
    gateway_port,
    holders,
    mixed_world,
)

API = f"/{OVN_REGION}/network/v2.0"
AGENT_FREE = ("configurations", "resource_versions")


@pytest.fixture
def world(clock: SimClock) -> World:
    return mixed_world(clock)


async def get_json(sim: httpx.AsyncClient, path: str, headers: dict, **params: object) -> dict:
    response = await sim.get(path, headers=headers, params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


# -- the region as the API shows it ------------------------------------------------------


async def test_ovn_agents_by_their_types_and_no_l3_agents(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    body = await get_json(sim, f"{API}/agents", admin_headers)
    assert_same_shape(body, load_sample("neutron/agents/agents-list-response.json"), AGENT_FREE)
    types = {a["agent_type"] for a in body["agents"]}
    assert types == {OVN_CONTROLLER, OVN_GATEWAY, OVN_METADATA}
    gateways = [a for a in body["agents"] if a["agent_type"] == OVN_GATEWAY]
    assert [a["host"] for a in gateways] == ["rone-gw001", "rone-gw002", "rone-gw003"]
    assert all(a["alive"] and a["binary"] == "ovn-controller" for a in gateways)
    l3 = await get_json(sim, f"{API}/agents", admin_headers, agent_type="L3 agent")
    assert l3["agents"] == []
    # The ML2/OVS region beside it keeps its L3 agents.
    ovs = await get_json(sim, "/RegionTwo/network/v2.0/agents", admin_headers)
    assert "L3 agent" in {a["agent_type"] for a in ovs["agents"]}


async def test_ovn_extensions_have_no_l3_ha(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    body = await get_json(sim, f"{API}/extensions", admin_headers)
    aliases = {e["alias"] for e in body["extensions"]}
    assert "l3-ha" not in aliases and "dvr" not in aliases
    assert {"router", "agent", "l3_agent_scheduler", "binding"} <= aliases
    missing = await sim.get(f"{API}/extensions/l3-ha", headers=admin_headers)
    assert missing.status_code == 404
    ovs = await get_json(sim, "/RegionTwo/network/v2.0/extensions", admin_headers)
    assert "l3-ha" in {e["alias"] for e in ovs["extensions"]}


async def test_ovn_routers_have_no_ha_attributes(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    body = await get_json(sim, f"{API}/routers", admin_headers)
    sample = load_sample("neutron/routers/routers-list-response.json")
    for router in sample["routers"]:
        del router["ha"], router["distributed"]  # added by l3-ha and dvr, absent on OVN
    assert_same_shape(body, sample)
    assert len(body["routers"]) == len(world.regions[OVN_REGION].routers)


async def test_gateway_ports_in_one_listing_with_their_chassis(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = world.regions[OVN_REGION]
    fields = ["id", "device_id", "binding:host_id", "status"]
    body = await get_json(
        sim, f"{API}/ports", admin_headers, device_owner=ROUTER_GATEWAY_OWNER, fields=fields
    )
    assert len(body["ports"]) == len(region.routers)
    assert all(set(p) == set(fields) for p in body["ports"])
    chassis = chassis_by_host(region)
    for port in body["ports"]:
        router = region.routers.get(port["device_id"])
        assert router is not None
        assert port["status"] == "ACTIVE"
        # bound to the highest-priority candidate chassis
        assert chassis[port["binding:host_id"]].id == router.gateway_chassis[0]
    full = await get_json(sim, f"{API}/ports", admin_headers, device_owner=ROUTER_GATEWAY_OWNER)
    bound = load_sample("neutron/ports/ports-bind-list-response.json")["ports"][0]
    binding = {k: v for k, v in bound.items() if k.startswith("binding:")}
    sample = load_sample("neutron/ports/ports-list-response.json")
    admin_sample = {"ports": [dict(p, **binding) for p in sample["ports"]]}
    assert_same_shape(full, admin_sample, ("binding:vif_details", "binding:profile"))


async def test_l3_agents_list_the_candidate_gateway_chassis(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = world.regions[OVN_REGION]
    router = next(iter(region.routers))
    body = await get_json(sim, f"{API}/routers/{router.id}/l3-agents", admin_headers)
    # The reference sample is ML2/OVS's: OVN answers the same agent bodies without
    # `ha_state` and with each chassis's `ha_chassis_priority`.
    sample = load_sample("neutron/agents/router-l3-agent-list-response.json")
    for agent in sample["agents"]:
        del agent["ha_state"]
        agent["ha_chassis_priority"] = 1
    assert_same_shape(body, sample, AGENT_FREE)
    assert [a["id"] for a in body["agents"]] == router.gateway_chassis
    assert all(a["agent_type"] == OVN_GATEWAY for a in body["agents"])
    priorities = [a["ha_chassis_priority"] for a in body["agents"]]
    assert priorities == [HIGHEST_CHASSIS_PRIORITY - i for i in range(len(priorities))]
    assert all("ha_state" not in a for a in body["agents"])


def test_backends_per_region_or_for_all() -> None:
    assert region_backends("ovn", 3) == ["ovn", "ovn", "ovn"]
    assert region_backends("ovs, OVN", 2) == ["ovs", "ovn"]
    assert region_backends(["ovn", "ovs"], 2) == ["ovn", "ovs"]
    with pytest.raises(ValueError, match="unknown backend 'linuxbridge'"):
        region_backends("ovs,linuxbridge", 2)
    with pytest.raises(ValueError, match="2 backends given for 3 regions"):
        region_backends("ovs,ovn", 3)
    world = build_world(size="tiny", regions=3, seed=7, backends="ovs,ovs,ovn")
    assert [r.backend for r in world.regions.values()] == ["ovs", "ovs", "ovn"]
    assert not world.regions["RegionThree"].l3_agents()
    assert not world.regions["RegionThree"].ha_ports_by_router


# -- scenarios ------------------------------------------------------------------------


def test_gateway_chassis_dies_gateways_move_within_seconds(world: World) -> None:
    region = world.regions[OVN_REGION]
    t0 = world.now()
    start_scenario(world, "gateway-chassis-dies", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    assert victim.stopped_at == t0
    routers = [r for r in region.routers if gateway_port(region, r).host == victim.host]
    assert len(routers) == 3  # the busiest chassis
    assert all(gateway_port(region, r).status == "ACTIVE" for r in routers)  # not noticed yet

    advance(world, 1)  # BFD: DOWN, no chassis, for a moment
    for router in routers:
        port = gateway_port(region, router)
        assert (port.host, port.status) == ("", "DOWN")
    now = advance(world, 4)  # 5 s: ACTIVE on the next chassis of each priority list
    assert victim.is_alive(now)  # its agent is not dead yet
    for router in routers:
        port = gateway_port(region, router)
        expected = next(
            a.host for aid in router.gateway_chassis if (a := region.agents.get(aid)) != victim
        )
        assert (port.host, port.status) == (expected, "ACTIVE")
    assert victim.host not in holders(region)
    now = advance(world, NEUTRON_AGENT_DOWN_TIME - 4)  # 76 s
    assert not victim.is_alive(now)
    lines = [e.description for e in runner(world).events]
    assert lines[1].startswith(f"gateway chassis {victim.host} went down")
    assert "3 of 3 gateways moved to another chassis" in lines
    assert any(line.endswith("now reads dead (no heartbeat for 75 s)") for line in lines)


def test_a_router_with_no_other_chassis_keeps_no_gateway(world: World) -> None:
    region = world.regions[OVN_REGION]
    start_scenario(world, "gateway-chassis-dies", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    lonely = holders(region)[victim.host][0]
    lonely.gateway_chassis = [victim.id]  # scheduled on that chassis only
    advance(world, 10)
    port = gateway_port(region, lonely)
    assert (port.host, port.status) == ("", "DOWN")
    assert any("no live gateway chassis left" in e.description for e in runner(world).events)


def test_gateway_chassis_back_takes_its_gateways_back_one_late(world: World) -> None:
    region = world.regions[OVN_REGION]
    plan = Plan([OVN_REGION], "t", lambda key: False, {OVN_REGION: "ovn"})
    incident = GatewayChassisDies(plan, OVN_REGION, recover_after=120.0)
    t0 = world.now()
    incident.kill(world, region, t0)
    incident.lose(world, region, t0 + 1)
    incident.move(world, region, t0 + 5)
    victim = region.agents.get(incident.victim or "")
    assert victim is not None
    first = [r for r in region.routers if r.gateway_chassis[0] == victim.id]
    assert first and all(gateway_port(region, r).host != victim.host for r in first)
    incident.recover(world, region, t0 + 120)
    late = [r for r in first if gateway_port(region, r).host != victim.host]
    assert [r.id for r in late] == [incident.late]  # one still shows the old host
    incident.settle(world, region, t0 + 122)
    assert all(gateway_port(region, r).host == victim.host for r in first)
    assert all(gateway_port(region, r).status == "ACTIVE" for r in first)


def test_gateway_failover_stuck_stays_bound_to_the_dead_chassis(world: World) -> None:
    region = world.regions[OVN_REGION]
    start_scenario(world, "gateway-failover-stuck", region=OVN_REGION)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    routers = [r for r in region.routers if gateway_port(region, r).host == victim.host]
    now = advance(world, NEUTRON_AGENT_DOWN_TIME + 5)
    assert not victim.is_alive(now)
    assert all(gateway_port(region, r).host == victim.host for r in routers)
    assert all(gateway_port(region, r).status == "ACTIVE" for r in routers)
    advance(world, 10)  # 90 s: a quarter of the ports DOWN, still bound there
    ports = [gateway_port(region, r) for r in routers]
    assert all(p.host == victim.host for p in ports)
    assert [p.status for p in ports].count("DOWN") == max(1, round(len(routers) * 0.25))


@pytest.mark.parametrize("name", ["gateway-chassis-dies", "gateway-failover-stuck", "demo"])
def test_ovn_scenarios_one_big_step_equals_many_small_ones(name: str) -> None:
    worlds = [mixed_world(SimClock(start=1_700_000_000.0)) for _ in range(2)]
    for world in worlds:
        start_scenario(world, name)
    advance(worlds[0], 800)
    for _ in range(800):
        advance(worlds[1], 1)
    lines = [[(e.time, e.region, e.description) for e in runner(w).events] for w in worlds]
    assert lines[0] == lines[1]
    ports = [
        {
            p.id: (p.host, p.status)
            for p in w.regions[OVN_REGION].ports
            if p.device_owner == ROUTER_GATEWAY_OWNER
        }
        for w in worlds
    ]
    assert ports[0] == ports[1]


def test_the_demo_runs_gateway_incidents_in_its_ovn_region() -> None:
    world = build_world(size="tiny", regions=3, seed=7, backends="ovs,ovs,ovn")
    start_scenario(world, "demo")
    advance(world, 720)
    three = [e.description for e in runner(world).events if e.region == "RegionThree"]
    assert any("gateway chassis" in line for line in three)
    assert not any("L3 agent" in line or "split brain" in line for line in three)
    assert "gateway-chassis-dies" in SCENARIOS and "gateway-failover-stuck" in SCENARIOS
