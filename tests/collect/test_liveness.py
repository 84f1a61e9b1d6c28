"""Services and agents: state, heartbeat ages against the server's clock, bad records."""

from __future__ import annotations

from osconsole.cloud.http import RegionClient
from osconsole.collect.base import SweepBudget
from osconsole.collect.liveness import AgentCollector, ServiceCollector, parse_agent, parse_service
from osconsole.config import Settings
from osconsole.sim.world import World


def _collector(cls, client: RegionClient):  # type: ignore[no-untyped-def]
    return cls(client, Settings(), SweepBudget(None))


async def test_every_nova_and_cinder_service_is_seen_with_its_state(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    snap = await _collector(ServiceCollector, region_one).poll(None)
    assert snap.complete, snap.notes
    nova = {s.id.split(":", 1)[1]: s for s in snap.items.values() if s.project == "nova"}
    cinder = [s for s in snap.items.values() if s.project == "cinder"]
    assert set(nova) == set(region.compute_services.ids())
    assert len(cinder) == len(region.volume_services)
    assert all(s.state == "up" for s in snap.items.values())
    assert snap.requests == 2
    for service in snap.items.values():
        assert service.heartbeat_age is not None and 0 <= service.heartbeat_age <= 11


async def test_a_stopped_compute_service_goes_down_and_ages(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    victim = next(s for s in region.compute_services if s.binary == "nova-compute")
    victim.stopped_at = world.now()
    world.clock.step(90)
    snap = await _collector(ServiceCollector, region_one).poll(None)
    seen = snap.items[f"nova:{victim.id}"]
    assert seen.state == "down"
    assert 89 <= (seen.heartbeat_age or 0) <= 91
    others = [s for s in snap.items.values() if s.id != f"nova:{victim.id}"]
    assert all(s.state == "up" for s in others)


async def test_cinder_failing_still_gives_nova_as_a_partial_snapshot(
    world: World, region_one: RegionClient
) -> None:
    world.regions["RegionOne"].volume_services.clear()
    region_one.microversions.pop("volume", None)
    original = region_one.endpoint

    async def no_volume(service: str) -> str:
        if service == "volume":
            return (await original("compute")) + "/nowhere"
        return await original(service)

    region_one.endpoint = no_volume  # type: ignore[method-assign]
    snap = await _collector(ServiceCollector, region_one).poll(None)
    assert not snap.complete
    assert any(note.startswith("cinder services unavailable") for note in snap.notes)
    assert any(s.project == "nova" for s in snap.items.values())


async def test_agents_heartbeat_age_follows_the_server_clock(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    dead = next(a for a in region.agents if a.agent_type == "L3 agent")
    dead.stopped_at = world.now()
    world.clock.step(100)
    snap = await _collector(AgentCollector, region_one).poll(None)
    assert set(snap.items) == set(region.agents.ids())
    assert snap.items[dead.id].alive is False
    assert 99 <= (snap.items[dead.id].heartbeat_age or 0) <= 101
    alive = [a for a in snap.items.values() if a.id != dead.id]
    assert all(a.alive and 0 <= (a.heartbeat_age or -1) <= 31 for a in alive)
    assert snap.extra["ovn"] is False
    assert snap.requests == 1


def test_unreadable_records_are_skipped_not_fatal() -> None:
    assert parse_agent({"id": "x"}, 0.0) is None
    assert parse_service({"binary": "nova-compute"}, "nova", 0.0) is None
    agent = parse_agent(
        {
            "id": " a1",
            "agent_type": "L3 agent",
            "host": "net1",
            "alive": True,
            "heartbeat_timestamp": "2026-01-01 00:00:40",
        },
        server_time=parse_service_time("2026-01-01T00:00:00Z"),
    )
    assert agent is not None and agent.id == "a1"
    assert agent.heartbeat_age == -40  # heartbeat in the future: clock skew is shown, not hidden
    assert agent.heartbeat_at is not None and agent.admin_state_up is True


def parse_service_time(text: str) -> float:
    from osconsole.collect.parse import utc_timestamp

    value = utc_timestamp(text)
    assert value is not None
    return value


def test_cinder_rows_without_id_are_named_by_host_and_binary() -> None:
    row = {"binary": "cinder-volume", "host": "stor1@ceph", "state": "up", "status": "enabled"}
    service = parse_service(row, "cinder", None)
    assert service is not None and service.id == "cinder:stor1@ceph:cinder-volume"
    assert service.heartbeat_age is None


# -- a part not read: its last rows held ----------------------------------------------------


async def test_a_failing_nova_keeps_its_last_rows_held_while_cinder_is_read(
    world: World, region_one: RegionClient
) -> None:
    """The rows of the part that failed stay, as last read and when, instead of
    vanishing; the part that answered is read as usual."""
    now = [1000.0]
    collector = ServiceCollector(region_one, Settings(), SweepBudget(None), lambda: now[0])
    first = await collector.poll(None)
    nova = {k for k, s in first.items.items() if s.project == "nova"}
    assert nova and first.complete and first.held == {}

    world.regions["RegionOne"].service_faults["compute"].update(status=503)
    world.clock.step(30)
    now[0] = 1030.0
    second = await collector.poll(first)
    assert not second.complete and not second.stale
    assert dict(second.held) == dict.fromkeys(nova, 1000.0)
    assert all(second.items[k] is first.items[k] for k in nova)  # as they were read
    assert f"{len(nova)} nova service(s) not read, shown as last read" in second.notes
    cinder = [s for s in second.items.values() if s.project == "cinder"]
    assert cinder and all(s.id not in second.held for s in cinder)
    assert all(s.heartbeat_age is not None and s.heartbeat_age <= 11 for s in cinder)

    now[0] = 1060.0
    third = await collector.poll(second)  # still failing: still read at 1000
    assert dict(third.held) == dict.fromkeys(nova, 1000.0)

    world.regions["RegionOne"].service_faults["compute"].update(status=0)
    now[0] = 1090.0
    fourth = await collector.poll(third)
    assert fourth.complete and fourth.held == {} and nova <= set(fourth.items)


async def test_agents_whose_records_are_unreadable_are_held_as_last_read(
    world: World, region_one: RegionClient
) -> None:
    collector = _collector(AgentCollector, region_one)
    first = await collector.poll(None)
    world.regions["RegionOne"].service_faults["network"].update(shape="no_ids")
    second = await collector.poll(first)
    # Which agents the records without ids are is unknown: every one not read stays.
    assert not second.complete
    assert set(second.held) == set(first.items) == set(second.items)
    assert second.held[next(iter(first.items))] == first.fetched_at
    assert f"{len(first.items)} agent record(s) unreadable, skipped" in second.notes
    assert f"{len(first.items)} agent(s) not read, shown as last read" in second.notes
