"""The routers collector on an ML2/OVN region: gateways from one paged port listing,
candidate chassis from the budgeted `l3-agents` sweep, detection per region."""

from __future__ import annotations

import pytest

from osconsole.cloud.connect import Connection
from osconsole.cloud.http import RegionClient
from osconsole.collect.base import SweepBudget
from osconsole.collect.routers import (
    OVN_NOTE,
    RouterCollector,
    gateway_hosts,
    is_suspicious,
    router_gateways,
)
from osconsole.config import Intervals, Settings
from osconsole.model import Router, RouterBinding, RouterGateway
from osconsole.sim.clock import SimClock
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import World
from tests.support.ovn import OVN_REGION, OVS_REGION, advance, gateway_port, mixed_world

SETTINGS = Settings(intervals=Intervals(routers=10.0))


@pytest.fixture
def world(clock: SimClock) -> World:
    return mixed_world(clock)


def client_of(connection: Connection, region: str) -> RegionClient:
    return next(r.client for r in connection.regions if r.ref.region == region)


def make(client: RegionClient, budget: SweepBudget | None = None) -> RouterCollector:
    return RouterCollector(client, SETTINGS, budget or SweepBudget(None))


def paths(world: World, after: int) -> list[str]:
    return [f"{r.path}?{r.query}" for r in world.requests if r.seq > after]


async def test_every_gateway_from_one_listing_and_every_candidate_swept(
    world: World, connection: Connection
) -> None:
    region = world.regions[OVN_REGION]
    collector = make(client_of(connection, OVN_REGION))
    seq = world.request_seq
    snap = await collector.poll(None)
    agent_listings = [p for p in paths(world, seq) if "/v2.0/agents?" in p]
    assert all("agent_type=" in p for p in agent_listings)  # never every agent of the region
    assert snap.extra["ovn"] is True and snap.complete
    assert snap.notes[0] == OVN_NOTE
    assert set(snap.items) == set(region.routers.ids())
    for router in region.routers:
        item = snap.items[router.id]
        port = gateway_port(region, router)
        assert item.gateway == RouterGateway(port.id, port.host, "ACTIVE")
        assert [b.agent_id for b in item.bindings] == router.gateway_chassis
        assert all(b.ha_state is None and b.agent_alive for b in item.bindings)
        assert [b.priority for b in item.bindings] == sorted(
            (b.priority for b in item.bindings), reverse=True
        )
        assert item.replica_hosts == ()
    chassis = snap.extra["gateway_chassis"]
    assert sorted(c["host"] for c in chassis.values()) == ["rone-gw001", "rone-gw002", "rone-gw003"]
    assert snap.extra["l3_agents"] == {}

    # Steady state: the gateway agents, the routers and the gateway ports, once each.
    seq = world.request_seq
    again = await collector.poll(snap)
    sent = paths(world, seq)
    assert again.complete and again.extra["swept"] == 0
    gateway_listings = [p for p in sent if "device_owner=network%3Arouter_gateway" in p]
    assert len(gateway_listings) == 1 and "fields=binding%3Ahost_id" in gateway_listings[0]
    assert not any(p.endswith("/l3-agents?") for p in sent)
    assert len(sent) == 3


async def test_detected_per_region_never_by_configuration(
    world: World, connection: Connection
) -> None:
    ovn = await make(client_of(connection, OVN_REGION)).poll(None)
    ovs = await make(client_of(connection, OVS_REGION)).poll(None)
    assert ovn.extra["ovn"] is True and "gateway_chassis" in ovn.extra
    assert ovs.extra["ovn"] is False and "gateway_chassis" not in ovs.extra
    assert all(r.gateway is None and r.ha for r in ovs.items.values())
    assert ovs.extra["l3_agents"]


async def test_a_gateway_that_moved_is_swept_first(world: World, connection: Connection) -> None:
    region = world.regions[OVN_REGION]
    budget = SweepBudget(rate=1 / 10.0, burst=1000)  # one sweep per poll
    collector = make(client_of(connection, OVN_REGION), budget)
    snap = None
    for _ in range(len(region.routers)):  # cold start: one router swept per poll
        snap = await collector.poll(snap)
    assert snap is not None and snap.complete
    start_scenario(world, "gateway-chassis-dies", region=OVN_REGION)
    advance(world, 6)
    victim = next(a for a in region.gateway_agents() if a.stopped_at is not None)
    moved = {r.id for r in region.routers if victim.id == r.gateway_chassis[0]}
    snap = await collector.poll(snap)
    assert snap.extra["swept"] == 1
    swept = [
        rid
        for rid, r in snap.items.items()
        if r.bindings_checked_at == max(x.bindings_checked_at or 0 for x in snap.items.values())
    ]
    assert set(swept) <= moved
    for rid in moved:
        assert snap.items[rid].gateway.host not in ("", victim.host)


async def test_gateway_ports_unreadable_keep_the_last_gateways(
    world: World, connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from osconsole.cloud import network
    from osconsole.cloud.http import Timeout

    collector = make(client_of(connection, OVN_REGION))
    first = await collector.poll(None)

    async def timeout(client: RegionClient) -> None:
        raise Timeout("network", "GET", "/v2.0/ports", 10.0)

    monkeypatch.setattr(network, "gateway_ports", timeout)
    second = await collector.poll(first)
    assert not second.complete
    assert any(n.startswith("gateway ports unreadable") for n in second.notes)
    assert {rid: r.gateway for rid, r in second.items.items()} == {
        rid: r.gateway for rid, r in first.items.items()
    }


# -- pure helpers -----------------------------------------------------------------------


def test_router_gateways_from_ports() -> None:
    ports = [
        {"id": "p1", "device_id": "r1", "binding:host_id": "gw1", "status": "ACTIVE"},
        {"id": "p2", "device_id": "r2", "binding:host_id": "", "status": "DOWN"},
        {"id": "p3", "device_id": "r3", "binding:host_id": None, "status": None},
        {"id": "p4", "device_id": "r4", "binding:host_id": "gw2", "status": "DOWN"},
        {"id": "p5", "device_id": "r4", "binding:host_id": "gw3", "status": "ACTIVE"},
        {"id": "junk"},
    ]
    found = router_gateways(ports)
    assert found == {
        "r1": RouterGateway("p1", "gw1", "ACTIVE"),
        "r2": RouterGateway("p2", "", "DOWN"),
        "r3": RouterGateway("p3", "", "UNKNOWN"),
        "r4": RouterGateway("p5", "gw3", "ACTIVE"),  # an active one first
    }
    assert [g.active for g in found.values()] == [True, False, False, True]
    assert gateway_hosts(found) == {"r1": ("gw1",), "r2": (), "r3": (), "r4": ("gw3",)}


def test_suspicious_ovn_routers() -> None:
    def router(gateway: RouterGateway, alive: tuple[bool, ...] | None) -> Router:
        bindings = None
        if alive is not None:
            bindings = tuple(
                RouterBinding(f"a{i}", f"gw{i}", None, a, True, 32767 - i)
                for i, a in enumerate(alive)
            )
        return Router("r", "r", "p", "ACTIVE", True, None, None, bindings=bindings, gateway=gateway)

    up = RouterGateway("p", "gw0", "ACTIVE")
    assert not is_suspicious(router(up, (True, True)))
    assert not is_suspicious(router(up, None))
    assert is_suspicious(router(RouterGateway("p", "", "DOWN"), None))
    assert is_suspicious(router(up, (True, False)))
    assert is_suspicious(router(up, (True,)))
