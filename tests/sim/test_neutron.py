"""The simulated Neutron: sample shapes, policy, list behaviour and L3 HA scheduling."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from osconsole.sim.clock import iso, parse_iso
from osconsole.sim.world import (
    DHCP_AGENT,
    HA_INTERFACE_OWNER,
    L3_AGENT,
    NEUTRON_AGENT_DOWN_TIME,
    Agent,
    Region,
    Router,
    World,
)
from tests.sim.shapes import assert_same_shape, load_sample

NET = "/RegionOne/network"
API = f"{NET}/v2.0"
AGENT_FREE = ("configurations", "resource_versions")


def region_one(world: World) -> Region:
    return world.regions["RegionOne"]


def ha_router(region: Region) -> Router:
    return next(r for r in region.routers if r.ha and len(r.bindings) >= 2)


def active_agent_id(router: Router) -> str:
    return next(aid for aid, state in router.bindings.items() if state == "active")


async def get_json(sim: httpx.AsyncClient, path: str, headers: dict, **params: object) -> dict:
    response = await sim.get(path, headers=headers, params=params or None)
    assert response.status_code == 200, response.text
    return response.json()


async def l3_states(sim: httpx.AsyncClient, router_id: str, headers: dict) -> dict[str, str]:
    body = await get_json(sim, f"{API}/routers/{router_id}/l3-agents", headers)
    return {a["id"]: a["ha_state"] for a in body["agents"]}


def add_l3_agent(world: World, host: str) -> Agent:
    """One more network node, so a router can move to an agent not hosting it yet."""
    now = world.now()
    agent = Agent(
        id=f"00000000-0000-4000-8000-{len(region_one(world).agents):012d}",
        agent_type=L3_AGENT,
        host=host,
        zone="nova",
        phase=3.0,
        created_at=now - 86400,
        started_at=now - 3600,
        configurations={"agent_mode": "legacy", "routers": 0},
    )
    region_one(world).agents.add(agent.id, agent)
    return agent


# -- versions, extensions, auth --------------------------------------------------


async def test_versions_document_needs_no_token(sim: httpx.AsyncClient) -> None:
    response = await sim.get(f"{NET}/")
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("neutron/networks/versions-list-response.json"))
    assert body["versions"][0]["links"][0]["href"] == f"http://sim.test{API}"


@pytest.mark.parametrize("path", [API, f"{API}/"])
async def test_version_show_shape(sim: httpx.AsyncClient, admin_headers: dict, path: str) -> None:
    body = await get_json(sim, path, admin_headers)
    assert_same_shape(body, load_sample("neutron/networks/version-show-response.json"))
    hrefs = {r["collection"]: r["links"][0]["href"] for r in body["resources"]}
    assert hrefs["ports"] == f"http://sim.test{API}/ports"


async def test_extensions_list_what_clients_check(
    sim: httpx.AsyncClient, admin_headers: dict
) -> None:
    body = await get_json(sim, f"{API}/extensions", admin_headers)
    aliases = {e["alias"] for e in body["extensions"]}
    wanted = {
        "agent", "l3_agent_scheduler", "l3-ha", "dvr", "router", "standard-attr-timestamp",
        "security-group", "port-security", "allowed-address-pairs", "quota_details", "binding",
        "external-net", "extraroute", "router_availability_zone", "agent_resources_synced",
        "pagination", "sorting", "fip-port-details",
    }  # fmt: skip
    assert wanted <= aliases
    for ext in body["extensions"]:
        assert set(ext) == {"name", "alias", "description", "updated", "links"}
        assert ext["name"] and ext["description"]
    one = await get_json(sim, f"{API}/extensions/l3-ha", admin_headers)
    assert one["extension"]["name"] == "HA Router extension"
    missing = await sim.get(f"{API}/extensions/nope", headers=admin_headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", API),
        ("GET", f"{API}/extensions"),
        ("GET", f"{API}/agents"),
        ("GET", f"{API}/agents/x"),
        ("PUT", f"{API}/agents/x"),
        ("GET", f"{API}/agents/x/l3-routers"),
        ("POST", f"{API}/agents/x/l3-routers"),
        ("DELETE", f"{API}/agents/x/l3-routers/y"),
        ("GET", f"{API}/routers"),
        ("GET", f"{API}/routers/x"),
        ("GET", f"{API}/routers/x/l3-agents"),
        ("GET", f"{API}/ports"),
        ("GET", f"{API}/security-group-rules"),
        ("GET", f"{API}/floatingips"),
        ("GET", f"{API}/quotas/x/details"),
    ],
)
async def test_every_route_needs_a_token(sim: httpx.AsyncClient, method: str, path: str) -> None:
    response = await sim.request(method, path, headers={"X-Auth-Token": "bogus"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


# -- agents -------------------------------------------------------------------------


async def test_agents_list_and_show_shapes(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    body = await get_json(sim, f"{API}/agents", admin_headers)
    assert_same_shape(body, load_sample("neutron/agents/agents-list-response.json"), AGENT_FREE)
    assert [a["id"] for a in body["agents"]] == list(region.agents.ids())
    assert "agents_links" not in body  # no limit: everything, no links
    agent = region.l3_agents()[0]
    shown = await get_json(sim, f"{API}/agents/{agent.id}", admin_headers)
    assert_same_shape(shown, load_sample("neutron/agents/agent-show-response.json"), AGENT_FREE)
    assert shown["agent"]["host"] == agent.host
    assert shown["agent"]["configurations"]["routers"] == agent.configurations["routers"]
    missing = await sim.get(f"{API}/agents/no-such-agent", headers=admin_headers)
    assert missing.status_code == 404
    assert missing.json()["NeutronError"]["type"] == "HTTPNotFound"


async def test_agent_update(sim: httpx.AsyncClient, admin_headers: dict, world: World) -> None:
    agent = region_one(world).l3_agents()[1]
    request = load_sample("neutron/agents/agent-update-request.json")
    request["agent"]["admin_state_up"] = False
    response = await sim.put(f"{API}/agents/{agent.id}", headers=admin_headers, json=request)
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("neutron/agents/agent-update-response.json"), AGENT_FREE)
    assert body["agent"]["description"] == "My OVS agent for OpenStack"
    assert agent.admin_state_up is False and agent.description == "My OVS agent for OpenStack"
    read_only = await sim.put(
        f"{API}/agents/{agent.id}", headers=admin_headers, json={"agent": {"host": "elsewhere"}}
    )
    assert read_only.status_code == 400
    assert agent.host != "elsewhere"


async def test_agent_filters_and_fields(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    l3 = await get_json(sim, f"{API}/agents", admin_headers, agent_type=L3_AGENT)
    assert {a["id"] for a in l3["agents"]} == {a.id for a in region.l3_agents()}
    either = await get_json(sim, f"{API}/agents", admin_headers, agent_type=[L3_AGENT, DHCP_AGENT])
    expected = {a.id for a in region.agents if a.agent_type in (L3_AGENT, DHCP_AGENT)}
    assert {a["id"] for a in either["agents"]} == expected
    host = region.l3_agents()[0].host
    on_host = await get_json(sim, f"{API}/agents", admin_headers, host=host, fields="binary")
    assert sorted(a["binary"] for a in on_host["agents"]) == sorted(
        a.binary for a in region.agents_on_host(host)
    )
    assert all(set(a) == {"binary"} for a in on_host["agents"])
    binary = await get_json(sim, f"{API}/agents", admin_headers, binary="neutron-l3-agent")
    assert len(binary["agents"]) == len(region.l3_agents())
    bad = await sim.get(f"{API}/agents", headers=admin_headers, params={"alive": "maybe"})
    assert bad.status_code == 400


async def test_heartbeat_age_and_alive_flip(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    victim = region.l3_agents()[0]
    victim.stopped_at = world.now()
    world.clock.step(10)
    body = await get_json(sim, f"{API}/agents", admin_headers)
    now = world.now()
    for agent in body["agents"]:
        age = now - parse_iso(agent["heartbeat_timestamp"])
        if agent["id"] == victim.id:
            assert 10 <= age < 11
        else:
            assert 0 <= age <= 31  # agents report every 30 s
        assert agent["alive"] is True
    world.clock.step(NEUTRON_AGENT_DOWN_TIME - 10 + 1)  # 76 s since the last beat
    dead = await get_json(sim, f"{API}/agents", admin_headers, alive="false")
    assert [a["id"] for a in dead["agents"]] == [victim.id]
    alive = await get_json(sim, f"{API}/agents", admin_headers, alive="true")
    assert len(alive["agents"]) == len(region.agents) - 1


# -- routers ------------------------------------------------------------------------


async def test_router_list_and_show_shapes(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    body = await get_json(sim, f"{API}/routers", admin_headers)
    assert_same_shape(body, load_sample("neutron/routers/routers-list-response.json"))
    assert [r["id"] for r in body["routers"]] == list(region.routers.ids())
    router = ha_router(region)
    shown = await get_json(sim, f"{API}/routers/{router.id}", admin_headers)
    assert_same_shape(shown, load_sample("neutron/routers/router-show-response.json"))
    assert shown["router"]["ha"] is True
    zones = {a.zone for a in region.agents if a.id in router.bindings}
    assert set(shown["router"]["availability_zones"]) == zones
    gateway = shown["router"]["external_gateway_info"]
    assert gateway["network_id"] == region.external_network_id


async def test_router_filters(sim: httpx.AsyncClient, admin_headers: dict, world: World) -> None:
    region = region_one(world)
    project_id = next(iter(region.routers)).project_id
    body = await get_json(sim, f"{API}/routers", admin_headers, project_id=project_id)
    expected = [r.id for r in region.routers if r.project_id == project_id]
    assert [r["id"] for r in body["routers"]] == expected
    by_tenant = await get_json(sim, f"{API}/routers", admin_headers, tenant_id=project_id)
    assert [r["id"] for r in by_tenant["routers"]] == expected
    down = await get_json(sim, f"{API}/routers", admin_headers, status="DOWN")
    assert down["routers"] == []
    for attribute in ("ha", "distributed"):
        response = await sim.get(
            f"{API}/routers", headers=admin_headers, params={attribute: "true"}
        )
        assert response.status_code == 400
        assert response.json()["NeutronError"]["type"] == "HTTPBadRequest"
        assert attribute in response.json()["NeutronError"]["message"]


async def test_router_sorting_and_reverse_paging(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    body = await get_json(
        sim, f"{API}/routers", admin_headers, sort_key="name", sort_dir="desc", fields="name"
    )
    names = [r["name"] for r in body["routers"]]
    assert names == sorted((r.name for r in region.routers), reverse=True)
    ids = list(region.routers.ids())
    back = await get_json(
        sim, f"{API}/routers", admin_headers, limit=2, marker=ids[5], page_reverse="True"
    )
    assert [r["id"] for r in back["routers"]] == ids[3:5]


# -- L3 agent scheduling ----------------------------------------------------------------


async def test_router_l3_agents_shape(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    router = ha_router(region)
    body = await get_json(sim, f"{API}/routers/{router.id}/l3-agents", admin_headers)
    sample = load_sample("neutron/agents/router-l3-agent-list-response.json")
    assert_same_shape(body, sample, AGENT_FREE)
    assert [a["id"] for a in body["agents"]] == list(router.bindings)
    states = [a["ha_state"] for a in body["agents"]]
    assert states.count("active") == 1 and states.count("standby") == len(states) - 1
    assert all(a["agent_type"] == L3_AGENT for a in body["agents"])


async def test_l3_agents_null_ha_state_for_legacy_router(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    router = ha_router(region_one(world))
    router.ha = False
    router.bindings = {active_agent_id(router): "active"}
    states = await l3_states(sim, router.id, admin_headers)
    assert list(states.values()) == [None]


async def test_l3_agents_rewrite_dead_bindings(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    router = ha_router(region)
    active = active_agent_id(router)
    region.agents.get(active).stopped_at = world.now()
    world.clock.step(NEUTRON_AGENT_DOWN_TIME + 5)
    states = await l3_states(sim, router.id, admin_headers)
    assert states[active] == "standby"
    assert set(states.values()) == {"standby"}
    for agent_id in router.bindings:
        region.agents.get(agent_id).stopped_at = region.agents.get(agent_id).stopped_at or (
            world.now()
        )
    world.clock.step(NEUTRON_AGENT_DOWN_TIME + 5)
    states = await l3_states(sim, router.id, admin_headers)
    assert set(states.values()) == {"unknown"}
    assert len(states) == len(router.bindings)


async def test_two_live_actives_stay_as_they_are(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    router = ha_router(region_one(world))
    first, second = list(router.bindings)[:2]
    router.bindings[first] = router.bindings[second] = "active"
    states = await l3_states(sim, router.id, admin_headers)
    assert states[first] == states[second] == "active"


async def test_agent_l3_routers_shape(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    agent = region.l3_agents()[0]
    body = await get_json(sim, f"{API}/agents/{agent.id}/l3-routers", admin_headers)
    assert_same_shape(body, load_sample("neutron/agents/agent-l3-routers-list-response.json"))
    assert [r["id"] for r in body["routers"]] == [r.id for r in region.routers_on_agent(agent.id)]
    assert body["routers"] and all("ha_state" not in r for r in body["routers"])
    assert "routers_links" not in body
    nowhere = await get_json(sim, f"{API}/agents/unknown/l3-routers", admin_headers)
    assert nowhere == {"routers": []}


async def ha_port_hosts(sim: httpx.AsyncClient, headers: dict, router_id: str) -> list[str]:
    body = await get_json(
        sim, f"{API}/ports", headers, device_owner=HA_INTERFACE_OWNER, device_id=router_id
    )
    return sorted(p["binding:host_id"] for p in body["ports"])


async def test_move_router_between_agents(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    router = ha_router(region)
    source = region.agents.get(active_agent_id(router))
    target = add_l3_agent(world, "r1-net999")
    source_count = source.configurations["routers"]
    hosts_before = await ha_port_hosts(sim, admin_headers, router.id)
    assert source.host in hosts_before

    url = f"{API}/agents/{source.id}/l3-routers/{router.id}"
    assert (await sim.delete(url, headers=admin_headers)).status_code == 204
    states = await l3_states(sim, router.id, admin_headers)
    assert source.id not in states and "active" not in states.values()
    hosts = await ha_port_hosts(sim, admin_headers, router.id)
    assert source.host not in hosts and len(hosts) == len(hosts_before) - 1
    assert source.configurations["routers"] == source_count - 1
    again = await sim.delete(url, headers=admin_headers)
    assert again.status_code == 409

    add = f"{API}/agents/{target.id}/l3-routers"
    response = await sim.post(add, headers=admin_headers, json={"router_id": router.id})
    assert response.status_code == 201 and response.json() is None
    states = await l3_states(sim, router.id, admin_headers)
    assert states[target.id] == "standby"
    hosts = await ha_port_hosts(sim, admin_headers, router.id)
    assert target.host in hosts and len(hosts) == len(hosts_before)
    assert len(region.ha_ports_by_router[router.id]) == len(router.bindings)
    assert target.configurations["routers"] == 1
    routers = await get_json(sim, add, admin_headers)
    assert [r["id"] for r in routers["routers"]] == [router.id]
    twice = await sim.post(add, headers=admin_headers, json={"router_id": router.id})
    assert twice.status_code == 409


async def test_scheduling_errors(sim: httpx.AsyncClient, admin_headers: dict, world: World) -> None:
    region = region_one(world)
    router = ha_router(region)
    dhcp = next(a for a in region.agents if a.agent_type == DHCP_AGENT)
    not_l3 = await sim.post(
        f"{API}/agents/{dhcp.id}/l3-routers", headers=admin_headers, json={"router_id": router.id}
    )
    assert not_l3.status_code == 404
    agent = region.l3_agents()[0]
    no_router = await sim.post(
        f"{API}/agents/{agent.id}/l3-routers", headers=admin_headers, json={"router_id": "nope"}
    )
    assert no_router.status_code == 404
    no_body = await sim.post(f"{API}/agents/{agent.id}/l3-routers", headers=admin_headers)
    assert no_body.status_code == 400


# -- ports ---------------------------------------------------------------------------


def port_samples() -> tuple[dict, dict]:
    """(member, admin) port list shapes: the sample, plus the binding keys policy shows."""
    sample = load_sample("neutron/ports/ports-list-response.json")
    bound = load_sample("neutron/ports/ports-bind-list-response.json")["ports"][0]
    member = {"ports": [dict(p, **{"binding:vnic_type": "normal"}) for p in sample["ports"]]}
    binding = {k: v for k, v in bound.items() if k.startswith("binding:")}
    admin = {"ports": [dict(p, **binding) for p in sample["ports"]]}
    return member, admin


async def test_ports_shapes_by_role(
    sim: httpx.AsyncClient, admin_headers: dict, member_headers: dict, world: World
) -> None:
    region = region_one(world)
    member_sample, admin_sample = port_samples()
    admin = await get_json(sim, f"{API}/ports", admin_headers)
    assert_same_shape(admin, admin_sample, ("binding:vif_details", "binding:profile"))
    assert len(admin["ports"]) == len(region.ports)
    member = await get_json(sim, f"{API}/ports", member_headers)
    assert_same_shape(member, member_sample)
    project_id = world.users["member"].project_id
    assert {p["id"] for p in member["ports"]} == {
        p.id for p in region.ports if p.project_id == project_id
    }
    assert all("binding:host_id" not in p for p in member["ports"])


async def test_ports_paging_returns_every_port_once(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    seen: list[str] = []
    url: str | None = f"{API}/ports?limit=7"
    pages = 0
    while url:
        response = await sim.get(url, headers=admin_headers)
        assert response.status_code == 200
        body = response.json()
        seen += [p["id"] for p in body["ports"]]
        nxt = [link for link in body.get("ports_links", []) if link["rel"] == "next"]
        url = None
        if nxt:
            parts = urlsplit(nxt[0]["href"])
            url = f"{parts.path}?{parts.query}"
        pages += 1
        assert pages < 100
    assert pages >= 3
    assert seen == list(region.ports.ids())


async def test_ports_fields_and_filters(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    body = await get_json(sim, f"{API}/ports", admin_headers, fields=["id", "device_owner"])
    assert all(set(p) == {"id", "device_owner"} for p in body["ports"])
    assert len(body["ports"]) == len(region.ports)

    owners = ["compute:nova", "network:router_interface"]
    body = await get_json(sim, f"{API}/ports", admin_headers, device_owner=owners)
    assert len(body["ports"]) == sum(1 for p in region.ports if p.device_owner in owners)

    port = next(p for p in region.ports if p.device_owner == "compute:nova" and p.host)
    for params in (
        {"mac_address": port.mac},
        {"device_id": port.device_id},
        {"fixed_ips": f"ip_address={port.ip}", "network_id": port.network_id},
    ):
        body = await get_json(sim, f"{API}/ports", admin_headers, **params)
        assert port.id in {p["id"] for p in body["ports"]}, params
    on_host = await get_json(sim, f"{API}/ports", admin_headers, **{"binding:host_id": port.host})
    assert {p["id"] for p in on_host["ports"]} == {
        p.id for p in region.ports if p.host == port.host
    }

    unknown = await sim.get(
        f"{API}/ports", headers=admin_headers, params={"limit": 2, "marker": "no-such-port"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["NeutronError"]["type"] == "HTTPNotFound"
    bogus = await sim.get(f"{API}/ports", headers=admin_headers, params={"colour": "blue"})
    assert bogus.status_code == 400


async def test_port_security_and_address_pairs_rendered(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    port = next(p for p in region.ports if p.device_owner == "compute:nova")
    port.port_security_enabled = False
    port.allowed_address_pairs = [{"ip_address": "10.9.0.0/24", "mac_address": port.mac}]
    body = await get_json(sim, f"{API}/ports", admin_headers, id=port.id)
    (shown,) = body["ports"]
    assert shown["port_security_enabled"] is False
    assert shown["allowed_address_pairs"] == port.allowed_address_pairs
    assert shown["fixed_ips"] == [{"ip_address": port.ip, "subnet_id": port.subnet_id}]


async def test_changed_since_returns_recent_objects_only(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    world.clock.step(60)
    since = iso(world.now(), zulu=True)
    port = region.ports.ordered()[3]
    router = region.routers.ordered()[2]
    fip = region.floating_ips.ordered()[0]
    rule = region.security_group_rules.ordered()[1]
    for obj in (port, router, fip, rule):
        obj.updated_at = world.now() + 1
    for collection, obj in (
        ("ports", port),
        ("routers", router),
        ("floatingips", fip),
        ("security_group_rules", rule),
    ):
        path = f"{API}/{collection.replace('_', '-')}"
        body = await get_json(sim, path, admin_headers, changed_since=since)
        assert [o["id"] for o in body[collection]] == [obj.id], collection
    bad = await sim.get(f"{API}/ports", headers=admin_headers, params={"changed_since": "soon"})
    assert bad.status_code == 400
    agents = await sim.get(f"{API}/agents", headers=admin_headers, params={"changed_since": since})
    assert agents.status_code == 400  # agents have no standard attributes


# -- security group rules and floating IPs ------------------------------------------


async def test_security_group_rules(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    body = await get_json(sim, f"{API}/security-group-rules", admin_headers)
    sample = load_sample("neutron/security-groups/security-group-rules-list-response.json")
    assert_same_shape(body, sample)
    assert len(body["security_group_rules"]) == len(region.security_group_rules)
    open_world = await get_json(
        sim,
        f"{API}/security-group-rules",
        admin_headers,
        direction="ingress",
        ethertype="IPv4",
        remote_ip_prefix="0.0.0.0/0",
        protocol="tcp",
    )
    expected = {
        r.id
        for r in region.security_group_rules
        if r.direction == "ingress" and r.remote_ip_prefix == "0.0.0.0/0" and r.protocol == "tcp"
    }
    assert {r["id"] for r in open_world["security_group_rules"]} == expected
    ssh = await get_json(sim, f"{API}/security-group-rules", admin_headers, port_range_min=22)
    assert {r["id"] for r in ssh["security_group_rules"]} == {
        r.id for r in region.security_group_rules if r.port_range_min == 22
    }
    group = next(iter(region.security_group_rules)).security_group_id
    by_group = await get_json(
        sim, f"{API}/security-group-rules", admin_headers, security_group_id=group
    )
    assert len(by_group["security_group_rules"]) == sum(
        1 for r in region.security_group_rules if r.security_group_id == group
    )


async def test_floating_ips(sim: httpx.AsyncClient, admin_headers: dict, world: World) -> None:
    region = region_one(world)
    body = await get_json(sim, f"{API}/floatingips", admin_headers)
    assert_same_shape(body, load_sample("neutron/floatingips/floating-ips-list-response.json"))
    assert len(body["floatingips"]) == len(region.floating_ips)
    attached = next(f for f in region.floating_ips if f.port_id)
    port = region.ports.get(attached.port_id)
    shown = await get_json(sim, f"{API}/floatingips", admin_headers, port_id=attached.port_id)
    (fip,) = shown["floatingips"]
    assert fip["port_details"]["device_id"] == port.device_id
    assert fip["port_details"]["mac_address"] == port.mac
    assert fip["floating_ip_address"] == attached.floating_ip
    down = await get_json(sim, f"{API}/floatingips", admin_headers, status="DOWN")
    assert {f["id"] for f in down["floatingips"]} == {
        f.id for f in region.floating_ips if f.status == "DOWN"
    }
    assert all(f["port_details"] is None for f in down["floatingips"])
    page = await get_json(sim, f"{API}/floatingips", admin_headers, limit=1)
    assert len(page["floatingips"]) == 1
    assert {link["rel"] for link in page["floatingips_links"]} == {"next", "previous"}


# -- quota details ----------------------------------------------------------------------


async def test_quota_details_count_the_world(
    sim: httpx.AsyncClient, admin_headers: dict, world: World
) -> None:
    region = region_one(world)
    project_id = world.users["member"].project_id
    body = await get_json(sim, f"{API}/quotas/{project_id}/details", admin_headers)
    sample = load_sample("neutron/quota_details/quota-details-show-for-project-response.json")
    entry = sample["quota"]["port"]
    sample["quota"].update(router=entry, floatingip=entry)
    assert_same_shape(body, sample)
    quota = body["quota"]
    assert quota["port"]["used"] == sum(1 for p in region.ports if p.project_id == project_id)
    assert quota["router"]["used"] == sum(1 for r in region.routers if r.project_id == project_id)
    assert quota["floatingip"]["used"] == sum(
        1 for f in region.floating_ips if f.project_id == project_id
    )
    assert quota["security_group_rule"]["used"] == sum(
        1 for r in region.security_group_rules if r.project_id == project_id
    )
    assert quota["port"]["limit"] == region.quotas[project_id]["port"]
    assert quota["router"]["used"] > 0


# -- non-admin policy -------------------------------------------------------------------


async def test_non_admin_policy(sim: httpx.AsyncClient, member_headers: dict, world: World) -> None:
    region = region_one(world)
    project_id = world.users["member"].project_id
    agent = region.l3_agents()[0]
    router = next(r for r in region.routers if r.project_id == project_id)
    other = next(r for r in region.routers if r.project_id != project_id)

    # Agents: the list hides them, one agent "does not exist" (Neutron's policy hook).
    assert await get_json(sim, f"{API}/agents", member_headers) == {"agents": []}
    assert (await sim.get(f"{API}/agents/{agent.id}", headers=member_headers)).status_code == 404
    put = await sim.put(
        f"{API}/agents/{agent.id}", headers=member_headers, json={"agent": {"description": "x"}}
    )
    assert put.status_code == 404 and agent.description is None
    # The L3 scheduler enforces its policy up front: 403.
    for method, path in (
        ("GET", f"{API}/routers/{router.id}/l3-agents"),
        ("GET", f"{API}/agents/{agent.id}/l3-routers"),
        ("POST", f"{API}/agents/{agent.id}/l3-routers"),
        ("DELETE", f"{API}/agents/{agent.id}/l3-routers/{router.id}"),
    ):
        response = await sim.request(method, path, headers=member_headers, json={})
        assert response.status_code == 403, path
        assert response.json()["NeutronError"]["type"] == "HTTPForbidden"

    routers = await get_json(sim, f"{API}/routers", member_headers)
    assert [r["id"] for r in routers["routers"]] == [
        r.id for r in region.routers if r.project_id == project_id
    ]
    assert all("ha" not in r and "distributed" not in r for r in routers["routers"])
    sample = load_sample("neutron/routers/routers-list-response.json")
    for r in sample["routers"]:
        del r["ha"], r["distributed"]
    assert_same_shape(routers, sample)
    hidden = await sim.get(f"{API}/routers/{other.id}", headers=member_headers)
    assert hidden.status_code == 404
    marker = await sim.get(
        f"{API}/routers", headers=member_headers, params={"limit": 1, "marker": other.id}
    )
    assert marker.status_code == 404

    rules = await get_json(sim, f"{API}/security-group-rules", member_headers)
    assert {r["project_id"] for r in rules["security_group_rules"]} == {project_id}
    fips = await get_json(sim, f"{API}/floatingips", member_headers)
    assert all(f["project_id"] == project_id for f in fips["floatingips"])
    own = await sim.get(f"{API}/quotas/{project_id}/details", headers=member_headers)
    assert own.status_code == 200
    theirs = await sim.get(f"{API}/quotas/{other.project_id}/details", headers=member_headers)
    assert theirs.status_code == 403
