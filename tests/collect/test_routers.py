"""The routers collector against the simulated cloud, and its pure helpers."""

from __future__ import annotations

from typing import Any

import pytest

from osconsole.cloud import network
from osconsole.cloud.http import ApiFailure, Forbidden, NotFound, RegionClient, Timeout
from osconsole.collect.base import SweepBudget
from osconsole.collect.routers import (
    AgentMark,
    RouterCollector,
    SweepCandidate,
    changed_agent_hosts,
    is_suspicious,
    parse_router,
    refresh_bindings,
    replica_hosts,
    sweep_allowance,
    sweep_order,
)
from osconsole.config import Intervals, Settings
from osconsole.model import Router, RouterBinding, Snapshot
from osconsole.sim.world import L3_AGENT, Agent, Region, World

INTERVAL = 10.0  # the routers interval floor: allowance = rate * 10
SETTINGS = Settings(intervals=Intervals(routers=INTERVAL))

# Routine routers are re-swept only once their last sweep is `full_resync` old.
ROUTINE_DUE = Settings().intervals.full_resync


def paced(allowance: int) -> SweepBudget:
    """A budget allowing `allowance` sweeps per poll, all available at once (no waiting)."""
    return SweepBudget(rate=allowance / INTERVAL, burst=1000)


def make(client: RegionClient, budget: SweepBudget | None = None) -> RouterCollector:
    return RouterCollector(client, SETTINGS, budget or SweepBudget(None))


@pytest.fixture
def region(world: World) -> Region:
    return world.regions["RegionOne"]


def ha_hosts(region: Region, router_id: str) -> tuple[str, ...]:
    ports = (region.ports.get(pid) for pid in region.ha_ports_by_router.get(router_id, []))
    return tuple(sorted(p.host for p in ports if p is not None))


def stored_active_hosts(region: Region, router_id: str) -> list[str]:
    router = region.routers.get(router_id)
    assert router is not None
    return [region.agents.get(a).host for a, s in router.bindings.items() if s == "active"]


def swept_at(snapshot: Snapshot[Any], at: float) -> set[str]:
    return {rid for rid, r in snapshot.items.items() if r.bindings_checked_at == at}


def l3_requests(world: World, after_seq: int) -> int:
    return sum(1 for r in world.requests if r.seq > after_seq and r.path.endswith("/l3-agents"))


# -- against the simulator ----------------------------------------------------------


async def test_unpaced_poll_reads_every_router(world: World, region: Region, region_one) -> None:
    snap = await make(region_one).poll(None)
    assert set(snap.items) == set(region.routers.ids())
    for router in region.routers:
        item = snap.items[router.id]
        assert item.name == router.name and item.project_id == router.project_id
        assert item.ha is True and item.distributed is False
        assert item.replica_hosts == ha_hosts(region, router.id)
        assert len(item.replica_hosts) == len(router.bindings)
        assert list(item.active_hosts) == stored_active_hosts(region, router.id)
        assert len(item.active_hosts) == 1
        assert {b.agent_id for b in item.bindings} == set(router.bindings)
        assert all(b.agent_alive and b.agent_admin_up for b in item.bindings)
        assert item.bindings_checked_at == int(world.now())
    assert snap.complete and snap.server_time == int(world.now())
    assert snap.extra["swept"] == len(region.routers) and snap.extra["ovn"] is False
    assert set(snap.extra["l3_agents"]) == {a.id for a in region.l3_agents()}
    assert not any(n.startswith("swept") for n in snap.notes)


async def test_request_count_of_unpaced_poll(
    world: World, region: Region, region_one, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = 5
    monkeypatch.setattr(network, "PAGE", page)

    def pages(n: int) -> int:  # a full last page carries a next link: one more, empty
        return n // page + 1

    ha_ports = sum(len(v) for v in region.ha_ports_by_router.values())
    seq = world.request_seq
    snap = await make(region_one).poll(None)
    expected = (
        pages(len(region.l3_agents())) + pages(len(region.routers)) + pages(ha_ports)
    ) + len(region.routers)
    assert (len(region.l3_agents()), len(region.routers), ha_ports) == (3, 8, 24)
    assert snap.requests == expected == 1 + 2 + 5 + 8
    assert l3_requests(world, seq) == len(region.routers)
    assert world.request_seq - seq == expected


async def test_paced_polls_sweep_the_allowance_and_carry(world: World, region_one) -> None:
    c = make(region_one, paced(3))
    first = await c.poll(None)
    t1 = int(world.now())
    assert first.extra["swept"] == 3 and first.requests == 3 + 3
    assert sum(r.bindings is None for r in first.items.values()) == 5
    assert "swept 3 of 8 routers; 5 never swept yet" in first.notes
    assert not first.complete

    world.clock.step(ROUTINE_DUE)
    second = await c.poll(first)
    t2 = int(world.now())
    assert swept_at(second, t2).isdisjoint(swept_at(first, t1))  # never swept go first
    assert len(swept_at(second, t2)) == 3
    for rid in swept_at(first, t1):  # carried, with their old sweep time
        assert second.items[rid].bindings == first.items[rid].bindings
    assert "swept 3 of 8 routers; 2 never swept yet" in second.notes

    world.clock.step(ROUTINE_DUE)
    third = await c.poll(second)
    t3 = int(world.now())
    now_swept = swept_at(third, t3)
    never_before = {rid for rid, r in second.items.items() if r.bindings is None}
    assert never_before < now_swept and len(now_swept) == 3
    assert (now_swept - never_before) <= swept_at(first, t1)  # then the least recent
    assert third.complete and "swept 3 of 8 routers; 0 never swept yet" in third.notes


def _add_l3_agent(world: World, region: Region, host: str) -> Agent:
    now = world.now()
    agent = Agent("aaaaaaaa-0000-4000-8000-000000000004", L3_AGENT, host, "nova", 3.0, now, now)
    region.agents.add(agent.id, agent)
    return agent


def _move_replica(region: Region, router_id: str, old: Agent, new: Agent) -> None:
    """Rebind one replica of a router from `old` to `new`, HA port included."""
    router = region.routers.get(router_id)
    assert router is not None
    router.bindings = {(new.id if a == old.id else a): s for a, s in router.bindings.items()}
    for pid in region.ha_ports_by_router[router_id]:
        port = region.ports.get(pid)
        if port is not None and port.host == old.host:
            port.host = new.host


async def test_stopped_agent_routers_are_swept_first(
    world: World, region: Region, region_one
) -> None:
    old = region.l3_agents()[0]
    new = _add_l3_agent(world, region, "rone-net004")
    routers = region.routers.ordered()
    was_active = next(r for r in routers if r.bindings[old.id] == "active")
    # The last in listing order: only its priority, not a tie-break, can pick it.
    was_standby = next(r for r in reversed(routers) if r.bindings[old.id] == "standby")
    for r in (was_active, was_standby):
        _move_replica(region, r.id, old, new)
    c = make(region_one)
    first = await c.poll(None)
    assert first.items[was_active.id].active_hosts == ("rone-net004",)

    c.budget = paced(2)
    new.stopped_at = world.now()
    world.clock.step(80)
    snap = await c.poll(first)
    now = int(world.now())
    assert swept_at(snap, now) == {was_active.id, was_standby.id}
    for rid in (was_active.id, was_standby.id):
        binding = next(b for b in snap.items[rid].bindings if b.agent_id == new.id)
        assert binding.ha_state == "standby" and not binding.agent_alive
    assert snap.items[was_active.id].active_hosts == ()  # the sim rewrote the only active
    for rid in set(snap.items) - {was_active.id, was_standby.id}:
        assert snap.items[rid].bindings == first.items[rid].bindings
        assert snap.items[rid].bindings_checked_at == first.items[rid].bindings_checked_at
    assert snap.extra["l3_agents"][new.id]["alive"] is False

    world.clock.step(ROUTINE_DUE)  # nothing changed since: the suspicious router comes next
    c.budget = paced(1)
    later = await c.poll(snap)
    assert swept_at(later, int(world.now())) == {was_active.id}


async def test_moved_replicas_are_swept_first(world: World, region: Region, region_one) -> None:
    c = make(region_one)
    first = await c.poll(None)
    router = region.routers.ordered()[-1]  # last in listing order: no tie-break picks it
    standby = next(a for a, s in router.bindings.items() if s == "standby")
    host = region.agents.get(standby).host
    del router.bindings[standby]
    for pid in list(region.ha_ports_by_router[router.id]):
        if region.ports.get(pid).host == host:
            region.ports.remove(pid)
            region.ha_ports_by_router[router.id].remove(pid)
    c.budget = paced(1)
    world.clock.step(ROUTINE_DUE)
    snap = await c.poll(first)
    assert swept_at(snap, int(world.now())) == {router.id}
    assert host not in snap.items[router.id].replica_hosts
    assert len(snap.items[router.id].bindings) == len(router.bindings) == 2


async def test_carried_bindings_get_this_polls_liveness(
    world: World, region: Region, region_one
) -> None:
    c = make(region_one)
    first = await c.poll(None)
    c.budget = paced(1)
    agent = region.l3_agents()[1]
    agent.admin_state_up = False
    world.clock.step(ROUTINE_DUE)
    snap = await c.poll(first)
    carried = set(snap.items) - swept_at(snap, int(world.now()))
    assert len(carried) == len(region.routers) - 1
    for rid in carried:
        binding = next(b for b in snap.items[rid].bindings if b.agent_id == agent.id)
        assert binding.agent_admin_up is False and binding.agent_alive is True


async def test_every_agent_dead_shows_unknown(world: World, region: Region, region_one) -> None:
    for agent in region.l3_agents():
        agent.stopped_at = world.now()
    world.clock.step(80)
    snap = await make(region_one).poll(None)
    for router in snap.items.values():
        assert {b.ha_state for b in router.bindings} == {"unknown"}
        assert not any(b.agent_alive for b in router.bindings)
    assert all(not a["alive"] for a in snap.extra["l3_agents"].values())


async def test_two_live_actives_are_seen_and_rechecked(
    world: World, region: Region, region_one
) -> None:
    router = region.routers.ordered()[3]
    first_two = list(router.bindings)[:2]
    router.bindings = {a: ("active" if a in first_two else "standby") for a in router.bindings}
    c = make(region_one)
    first = await c.poll(None)
    hosts = {region.agents.get(a).host for a in first_two}
    assert set(first.items[router.id].active_hosts) == hosts
    assert is_suspicious(first.items[router.id])
    c.budget = paced(1)
    world.clock.step(ROUTINE_DUE)
    snap = await c.poll(first)
    assert swept_at(snap, int(world.now())) == {router.id}


async def test_deleted_router_disappears(world: World, region: Region, region_one) -> None:
    c = make(region_one)
    first = await c.poll(None)
    gone = region.routers.ordered()[0]
    region.routers.remove(gone.id)
    for pid in region.ha_ports_by_router.pop(gone.id):
        region.ports.remove(pid)
    world.clock.step(ROUTINE_DUE)
    snap = await c.poll(first)
    assert gone.id not in snap.items and set(snap.items) == set(region.routers.ids())
    assert snap.requests == 3 + len(region.routers) and snap.complete


async def test_non_ha_router_has_bindings_without_ha_state(
    world: World, region: Region, region_one
) -> None:
    router = region.routers.ordered()[2]
    agent_id = next(iter(router.bindings))
    router.ha = False
    router.bindings = {agent_id: "active"}
    for pid in region.ha_ports_by_router.pop(router.id):
        region.ports.remove(pid)
    snap = await make(region_one).poll(None)
    item = snap.items[router.id]
    assert item.ha is False and item.replica_hosts == ()
    assert [(b.agent_id, b.ha_state) for b in item.bindings] == [(agent_id, None)]
    assert snap.complete


@pytest.mark.parametrize("failure", [NotFound, Timeout])
async def test_failed_sweep_keeps_previous_bindings(
    world: World,
    region: Region,
    region_one,
    monkeypatch: pytest.MonkeyPatch,
    failure: type[ApiFailure],
) -> None:
    c = make(region_one)
    first = await c.poll(None)
    victim = region.routers.ordered()[1].id
    real = network.router_l3_agents

    async def flaky(client: RegionClient, router_id: str) -> Any:
        if router_id == victim:
            raise failure("network", "GET", f"/v2.0/routers/{router_id}/l3-agents", "boom")
        return await real(client, router_id)

    monkeypatch.setattr(network, "router_l3_agents", flaky)
    world.clock.step(ROUTINE_DUE)
    snap = await c.poll(first)
    assert snap.items[victim].bindings == first.items[victim].bindings
    assert snap.items[victim].bindings_checked_at == first.items[victim].bindings_checked_at
    assert swept_at(snap, int(world.now())) == set(snap.items) - {victim}
    assert snap.extra["failed"] == 1 and not snap.complete
    assert any(n.startswith("1 l3-agents request(s) failed") for n in snap.notes)


async def test_refused_sweep_stops_at_once(
    region: Region, region_one, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    async def refused(client: RegionClient, router_id: str) -> Any:
        calls.append(router_id)
        path = f"/v2.0/routers/{router_id}/l3-agents"
        raise Forbidden("network", "GET", path, "HTTP 403: disallowed by policy", 403)

    monkeypatch.setattr(network, "router_l3_agents", refused)
    settings = Settings(intervals=Intervals(routers=INTERVAL), concurrency=2)
    snap = await RouterCollector(region_one, settings, SweepBudget(None)).poll(None)
    assert 1 <= len(calls) <= 2 < len(region.routers)  # no storm of 403s
    assert set(snap.items) == set(region.routers.ids()) and not snap.complete
    assert any("need an admin credential" in n for n in snap.notes)


async def test_routers_listing_failure_fails_the_poll(
    region_one, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(client: RegionClient, **_: Any) -> Any:
        raise ApiFailure("network", "GET", "/v2.0/routers", "HTTP 500", 500)

    monkeypatch.setattr(network, "routers", broken)
    with pytest.raises(ApiFailure):
        await make(region_one).poll(None)


async def test_ha_ports_failure_keeps_last_replica_hosts(
    world: World, region: Region, region_one, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = make(region_one)
    first = await c.poll(None)

    async def broken(client: RegionClient) -> Any:
        raise Timeout("network", "GET", "/v2.0/ports", "no answer within 10s")

    monkeypatch.setattr(network, "ha_ports", broken)
    world.clock.step(ROUTINE_DUE)
    snap = await c.poll(first)
    for rid, router in snap.items.items():
        assert router.replica_hosts == ha_hosts(region, rid)
    assert not snap.complete and any(n.startswith("HA ports unreadable") for n in snap.notes)


async def test_malformed_router_items_are_skipped(
    region: Region, region_one, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = network.routers

    async def with_junk(client: RegionClient, **kwargs: Any) -> Any:
        items, at = await real(client, **kwargs)
        return [*items, {"name": "no-id"}, "not an object"], at

    monkeypatch.setattr(network, "routers", with_junk)
    snap = await make(region_one).poll(None)
    assert set(snap.items) == set(region.routers.ids())
    assert "skipped 2 malformed router item(s) without an id" in snap.notes
    assert not snap.complete


# -- pure helpers -----------------------------------------------------------------


def test_sweep_order_tiers() -> None:
    candidates = [
        SweepCandidate("routine", 100.0),
        SweepCandidate("suspicious", 200.0, suspicious=True),
        SweepCandidate("hosts", 300.0, hosts_changed=True, suspicious=True),
        SweepCandidate("agent", 400.0, agent_changed=True, hosts_changed=True),
        SweepCandidate("never", None, agent_changed=True),
    ]
    assert sweep_order(candidates) == ["never", "agent", "hosts", "suspicious", "routine"]


def test_sweep_order_least_recently_swept_first_within_a_tier() -> None:
    candidates = [
        SweepCandidate("b", 50.0),
        SweepCandidate("n1", None),
        SweepCandidate("a", 10.0),
        SweepCandidate("c", 90.0),
        SweepCandidate("n2", None),
    ]
    assert sweep_order(candidates) == ["n1", "n2", "a", "b", "c"]


def test_sweep_allowance() -> None:
    assert sweep_allowance(None, 30.0) is None
    assert sweep_allowance(10.0, 30.0) == 300
    assert sweep_allowance(0.3, 10.0) == 3
    assert sweep_allowance(0.01, 10.0) == 1  # always some progress


def test_changed_agent_hosts() -> None:
    base = {
        "a": AgentMark("h1", True, True, 100.0),
        "b": AgentMark("h2", True, True, 100.0),
        "c": AgentMark("h3", False, True, 100.0),
        "d": AgentMark("h4", True, True, 100.0),
        "e": AgentMark("h5", True, True, 100.0),
    }
    now = {
        "a": AgentMark("h1", False, True, 100.0),  # died
        "b": AgentMark("h2", True, True, 200.0),  # restarted
        "c": AgentMark("h3", True, True, 100.0),  # came back
        "d": AgentMark("h4", True, False, 100.0),  # disabled only: not a change
        "f": AgentMark("h6", True, True, 100.0),  # new ("e" vanished)
    }
    assert changed_agent_hosts(None, now) == frozenset()
    assert changed_agent_hosts(base, now) == {"h1", "h2", "h3", "h5", "h6"}
    assert changed_agent_hosts(base, base) == frozenset()


def _binding(agent: str, state: str | None, alive: bool = True) -> RouterBinding:
    return RouterBinding(agent, f"host-{agent}", state, alive, True)


def _router(bindings: tuple[RouterBinding, ...] | None, ha: bool = True) -> Router:
    return Router("r", "r", "p", "ACTIVE", True, ha, False, bindings=bindings)


def test_is_suspicious() -> None:
    assert not is_suspicious(_router(None))
    assert not is_suspicious(_router((_binding("a", "active"), _binding("b", "standby"))))
    assert is_suspicious(_router((_binding("a", "standby"), _binding("b", "standby"))))
    assert is_suspicious(_router((_binding("a", "active"), _binding("b", "active"))))
    assert is_suspicious(_router((_binding("a", "active", alive=False), _binding("b", "standby"))))
    assert not is_suspicious(_router((_binding("a", None),), ha=False))
    assert is_suspicious(_router((_binding("a", None, alive=False),), ha=False))


def test_replica_hosts_groups_ports_by_router() -> None:
    ports = [
        {"device_id": "r1", "binding:host_id": "net2"},
        {"device_id": "r1", "binding:host_id": "net1"},
        {"device_id": "r2", "binding:host_id": ""},  # unbound
        {"binding:host_id": "net3"},  # no router
        "junk",
    ]
    assert replica_hosts(ports) == {"r1": ("net1", "net2"), "r2": ()}


def test_parse_router_defensively() -> None:
    assert parse_router({"name": "x"}) is None
    assert parse_router(["r"]) is None
    member_view = parse_router({"id": "r", "tenant_id": "p", "status": "ACTIVE"})
    assert member_view is not None
    assert (member_view.ha, member_view.distributed, member_view.project_id) == (None, None, "p")


def test_refresh_bindings() -> None:
    bindings = (_binding("a", "active"), _binding("gone", "standby"))
    marks = {"a": AgentMark("host-a", False, False, 1.0)}
    fresh = refresh_bindings(bindings, marks)
    assert [(b.agent_id, b.ha_state, b.agent_alive, b.agent_admin_up) for b in fresh] == [
        ("a", "active", False, False),
        ("gone", "standby", False, True),
    ]


async def test_routine_routers_wait_for_their_refresh_age(world: World, region_one) -> None:
    c = make(region_one)
    first = await c.poll(None)
    assert first.extra["swept"] == len(world.regions["RegionOne"].routers)
    world.clock.step(30)
    quiet = await c.poll(first)
    assert quiet.extra["swept"] == 0 and quiet.requests == 3 and quiet.complete
    assert quiet.items == first.items or all(
        quiet.items[rid].bindings == first.items[rid].bindings for rid in first.items
    )
    world.clock.step(ROUTINE_DUE)
    due = await c.poll(quiet)
    assert due.extra["swept"] == len(world.regions["RegionOne"].routers)


def test_sweep_order_leaves_out_routine_routers_swept_recently() -> None:
    fresh = SweepCandidate("fresh", last_swept=990.0)
    old = SweepCandidate("old", last_swept=100.0)
    flagged = SweepCandidate("flagged", last_swept=995.0, agent_changed=True)
    never = SweepCandidate("never", last_swept=None)
    order = sweep_order([fresh, old, flagged, never], now=1000.0, refresh_age=600.0)
    assert order == ["never", "flagged", "old"]
    assert sweep_order([fresh, old]) == ["old", "fresh"]
