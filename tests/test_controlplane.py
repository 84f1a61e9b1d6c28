"""The control plane's figures from real calls to the simulator: no extra request, and
findings that appear when a region's APIs fail and clear when they recover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from osconsole.availability import RequestHistory
from osconsole.cloud.connect import Connection
from osconsole.config import CloudSettings, Settings
from osconsole.controlplane import plane_looks, region_plane
from osconsole.health.assess import assess
from osconsole.health.availability import API_AVAILABILITY
from osconsole.health.findings import Tracker
from osconsole.model import Kind
from osconsole.poller import Poller
from osconsole.sim.world import World
from osconsole.snapshot import take_snapshot
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config


class Stepped:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_every_call_is_in_the_history_and_no_call_is_added(
    connection: Connection, world: World
) -> None:
    poller = Poller(connection.regions, Settings(), kinds=[Kind.AGENTS, Kind.SERVICES])
    world.requests.clear()
    before = {r.ref: r.client.requests_sent for r in connection.regions}
    for session in connection.regions:  # what connecting sent is counted from here on
        session.client.history = RequestHistory()
    for _ in range(3):
        await poller.poll_once()
    sent = {r.ref: r.client.requests_sent - before[r.ref] for r in connection.regions}
    regional = [r for r in world.requests if r.region]
    assert len(regional) == sum(sent.values())  # the history sent nothing of its own
    for session in connection.regions:
        windows = region_plane(session, session.client.history.clock())["availability"]
        recorded = sum(w["1h"]["requests"] for w in windows.values())
        assert recorded == sent[session.ref] > 0
        assert set(windows) == {"compute", "network", "volume"}


async def test_a_failing_region_raises_an_api_finding_that_clears(
    connection: Connection, world: World
) -> None:
    clock = Stepped(1_700_000_000.0)
    for session in connection.regions:
        session.client.history = RequestHistory(clock)
    settings = Settings()
    poller = Poller(connection.regions, settings, kinds=[Kind.AGENTS])
    tracker = Tracker(settings.thresholds)

    def look() -> list[str]:
        looks = plane_looks(connection.regions, clock.now)
        return [f.key for f in assess(poller.latest.values(), tracker, looks).findings]

    world.regions["RegionTwo"].faults.update(error_rate=1.0)
    region = "region.unreachable@osconsole-sim/RegionTwo/region/RegionTwo"
    for _ in range(settings.thresholds.api_min_requests):
        await poller.poll_once()
    # The region's own finding at once (nothing it was asked answered); the API's
    # availability has not lasted its debounce yet.
    assert look() == [region]
    clock.now += settings.thresholds.api_debounce_s
    await poller.poll_once()
    found = look()
    assert sorted(found) == [f"{API_AVAILABILITY}@osconsole-sim/RegionTwo/api/network", region]

    world.regions["RegionTwo"].faults.update(error_rate=0.0)
    clock.now += 6 * 60  # the failures leave the 5-minute window
    for _ in range(settings.thresholds.api_min_requests):
        await poller.poll_once()
    assert look() == []


async def test_the_snapshot_json_has_each_regions_availability(
    world: World, sim: Any, sim_app: Any, tmp_path: Path
) -> None:
    world.regions["RegionThree"].faults.update(error_rate=1.0)
    outcome = await take_snapshot(
        Settings(clouds=[CloudSettings(name="osconsole-sim")], request_timeout=2.0),
        kinds=[Kind.AGENTS, Kind.TENANTS],
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )
    document = json.loads(outcome.json_text)
    regions = {r["region"]: r for r in document["regions"]}
    network = regions["RegionOne"]["availability"]["network"]["5m"]
    assert network["requests"] >= 1 and network["errors"] == 0
    assert network["success_ratio"] == 1.0 and network["p95_ms"] is not None
    broken = regions["RegionThree"]["availability"]["network"]["5m"]
    assert broken["errors"] == broken["requests"] >= 1
    assert broken["success_ratio"] == 0.0
    assert set(broken["by_status"]) <= {"500", "503"}
    lead_times = regions["RegionOne"]["lead_times"]
    assert set(lead_times) >= {"boot", "delete", "volume_create"}
    assert set(lead_times["boot"]) == {"count", "p50_s", "p95_s", "stuck"}
    assert lead_times["volume_create"] is None  # not measured: unknown, not zero
    assert regions["RegionThree"]["lead_times"] is None  # its tenants poll failed
