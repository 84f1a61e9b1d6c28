"""Lead times against the simulator's slow-boots scenario: the collector's figures agree
with a computation straight from the API listing, and the slow-boot finding appears
while boots are slow and clears once they have left the hour."""

from __future__ import annotations

from typing import Any

import pytest

from osconsole.cloud import compute
from osconsole.cloud.connect import Connection
from osconsole.cloud.http import ApiFailure
from osconsole.collect.parse import iso_utc
from osconsole.config import Settings
from osconsole.controlplane import plane_looks
from osconsole.health.assess import assess
from osconsole.health.findings import Tracker
from osconsole.health.leadtimes import BOOT_SLOW, STUCK
from osconsole.leadtimes import HOUR, LeadTimeSummary, _quantile, boot_sample
from osconsole.model import Kind
from osconsole.poller import Poller
from osconsole.sim.clock import SimClock
from osconsole.sim.plane_incidents import SlowBoots
from osconsole.sim.scenarios import SCENARIOS, Plan, ScenarioFactory, Step, start_scenario
from osconsole.sim.world import World

REGION = "RegionOne"
STEP = 10.0  # below the deletes' 20 s: every delete is seen deleting
DURATIONS = [30.0] * 6 + [120.0, 240.0, 240.0]


@pytest.fixture
def short_slow_boots(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow-boots scenario, shorter (fewer boots, slower deletes, fewer polls)."""

    def steps(plan: Plan) -> list[Step]:
        incident = SlowBoots(plan, REGION, durations=DURATIONS, delete_after=10, delete_s=20)
        return incident.steps(0.0)

    monkeypatch.setitem(SCENARIOS, "slow-boots", ScenarioFactory("slow-boots", "", steps))


async def test_lead_times_agree_with_the_listing_and_the_finding_comes_and_goes(
    connection: Connection, world: World, clock: SimClock, short_slow_boots: None
) -> None:
    session = next(r for r in connection.regions if r.ref.region == REGION)
    settings = Settings()
    poller = Poller([session], settings, kinds=[Kind.TENANTS], clock=clock.now)
    tracker = Tracker(settings.thresholds)
    started = clock.now()
    await poller.poll_once()
    run = start_scenario(world, "slow-boots", region=REGION)
    end = started + max(s.offset for s in run.scenario.steps) + 2 * STEP
    raised = False
    while clock.now() < end:
        clock.step(STEP)
        (snapshot,) = await poller.poll_once()
        looks = plane_looks([session], clock.now(), [snapshot])
        keys = [f.rule for f in assess([snapshot], tracker, looks).findings]
        raised = raised or BOOT_SLOW in keys
    assert raised, "boots slowed from 30 s to 4 minutes: a finding"

    summary = snapshot.extra["lead_times"]
    assert isinstance(summary, LeadTimeSummary)
    # Straight from the API: every server changed since the start, deleted ones too.
    bodies, _ = await compute.servers(session.client, changes_since=iso_utc(started))
    now = summary.at
    boots = [b[1] for b in map(boot_sample, bodies) if b is not None and b[0] > now - HOUR]
    durations = DURATIONS
    assert sorted(boots) == sorted(durations)  # the world's boot times, through the API
    assert summary.boot.count == len(boots)
    assert summary.boot.p50_s == _quantile(boots, 0.5)
    assert summary.boot.p95_s == _quantile(boots, 0.95) == 240.0
    assert summary.usual_boot_s == 30.0
    deleted = [b for b in bodies if b.get("status") == "DELETED"]
    assert summary.delete.count == len(deleted) == len(durations)
    assert summary.delete.p50_s == summary.delete.p95_s == 20.0

    clock.step(HOUR)  # the slow boots leave the last hour
    (snapshot,) = await poller.poll_once()
    looks = plane_looks([session], clock.now(), [snapshot])
    assert [f for f in assess([snapshot], tracker, looks).findings if f.rule == BOOT_SLOW] == []


async def test_a_generated_world_has_no_stuck_boot_until_its_boots_really_hang(
    connection: Connection, world: World, clock: SimClock
) -> None:
    """The generated boots in flight began moments ago: nothing is stuck (an operator must
    never see a false STUCK); once they hang past the threshold, each of them is."""
    settings = Settings()
    building = {
        name: {s.id for s in region.servers if s.status == "BUILD" and not s.deleted}
        for name, region in world.regions.items()
    }
    assert any(building.values()), "the tiny world has boots in flight"
    poller = Poller(connection.regions, settings, kinds=[Kind.TENANTS], clock=clock.now)
    tracker = Tracker(settings.thresholds)
    snapshots = await poller.poll_once()
    looks = plane_looks(connection.regions, clock.now(), snapshots)
    rules = {f.rule for f in assess(snapshots, tracker, looks).findings}
    assert STUCK not in rules
    for snapshot in snapshots:
        summary = snapshot.extra["lead_times"]
        assert (summary.boot.stuck, summary.delete.stuck) == (0, 0), snapshot.ref.region

    clock.step(settings.thresholds.stuck_server_s + STEP)  # nothing moves: they hang
    snapshots = await poller.poll_once()
    for snapshot in snapshots:
        stuck = set(snapshot.extra["lead_times"].stuck_boot_ids)
        assert stuck == building[snapshot.ref.region], snapshot.ref.region
        # The project rule (no update past the threshold) agrees on the same servers.
        by_projects = {i for sig in snapshot.items.values() for i in sig.stuck_servers}
        assert stuck <= by_projects


async def test_a_port_in_build_too_long_is_stuck_from_the_same_listing(
    connection: Connection, world: World, clock: SimClock
) -> None:
    """The ports listing the tenants collector reads anyway says which ports hang in
    BUILD (its `status` asked in the same request), until they leave it."""
    settings = Settings()
    session = next(r for r in connection.regions if r.ref.region == REGION)
    region = world.regions[REGION]
    hanging, fresh = list(region.ports)[:2]
    now = clock.now()
    hanging.status, hanging.updated_at = "BUILD", now - settings.thresholds.stuck_server_s - 60
    fresh.status, fresh.updated_at = "BUILD", now - 60
    poller = Poller([session], settings, kinds=[Kind.TENANTS], clock=clock.now)
    (snapshot,) = await poller.poll_once()
    summary = snapshot.extra["lead_times"]
    assert summary.stuck_port_ids == (hanging.id,)
    tracker = Tracker(settings.thresholds)
    looks = plane_looks([session], clock.now(), [snapshot])
    found = [f for f in assess([snapshot], tracker, looks).findings if f.rule == STUCK]
    assert [(f.subject.id, f.reason) for f in found] == [
        ("port", "1 port in BUILD for more than 30 min")
    ]

    clock.step(STEP)
    hanging.status, hanging.updated_at = "ACTIVE", clock.now()
    clock.step(STEP)
    (snapshot,) = await poller.poll_once()
    assert snapshot.extra["ports_mode"] == "incremental"
    assert snapshot.extra["lead_times"].stuck_port_ids == ()


async def test_no_lead_times_from_a_poll_whose_servers_listing_failed(
    connection: Connection, world: World, clock: SimClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nova's listing failing while Neutron answers: the servers last seen in BUILD are
    not known to be still building, so they never age into a false STUCK; the lead
    times are unknown until the listing answers again."""
    settings = Settings()
    session = next(r for r in connection.regions if r.ref.region == REGION)
    assert any(s.status == "BUILD" for s in world.regions[REGION].servers)
    poller = Poller([session], settings, kinds=[Kind.TENANTS], clock=clock.now)
    (snapshot,) = await poller.poll_once()
    assert isinstance(snapshot.extra["lead_times"], LeadTimeSummary)

    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise ApiFailure("compute", "GET", "/servers/detail", "HTTP 503", 503)

    monkeypatch.setattr(compute, "servers", failing)
    clock.step(settings.thresholds.stuck_server_s + STEP)
    (snapshot,) = await poller.poll_once()
    assert not snapshot.stale and "lead_times" not in snapshot.extra
    tracker = Tracker(settings.thresholds)
    looks = plane_looks([session], clock.now(), [snapshot])
    assert [f for f in assess([snapshot], tracker, looks).findings if f.rule == STUCK] == []
