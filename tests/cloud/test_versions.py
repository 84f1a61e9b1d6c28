"""Microversions: negotiated before a service is read, again when a region comes back,
one per service for a whole poll, and state read at an old version dropped.

A region failing at start used to be polled at the base version for ever after:
`/os-hypervisors/detail` at 2.1, with Nova's own (false) usage shown as fresh.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.cloud import compute
from osconsole.cloud.connect import Connection, RegionSession, connect
from osconsole.cloud.http import pin_versions
from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind
from osconsole.poller import Poller
from osconsole.sim import nova
from osconsole.sim.world import World
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config

HYPERVISORS = "/RegionTwo/compute/v2.1/os-hypervisors"


ERRORS = {"error_rate": 1.0}  # every answer a 500 or 503
UNREACHABLE = {"unreachable": True, "hang_seconds": 5.0}  # no answer at all


def fail(world: World, faults: dict[str, Any]) -> None:
    world.regions["RegionTwo"].faults.update(**faults)


def heal(world: World) -> None:
    world.regions["RegionTwo"].faults.update(error_rate=0.0, unreachable=False)


@pytest.fixture(params=[ERRORS, UNREACHABLE], ids=["errors", "unreachable"])
def outage(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.param)


@pytest.fixture
async def two_failing_at_start(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, outage: dict[str, Any]
) -> AsyncIterator[Connection]:
    """Every region connected while RegionTwo's services fail (answer 500/503 to
    everything, or nothing at all within the request timeout)."""
    fail(world, outage)
    connection = await connect(
        Settings(clouds=[CloudSettings(name="osconsole-sim")], request_timeout=0.3),
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )
    try:
        yield connection
    finally:
        await connection.aclose()


def session_of(connection: Connection, region: str) -> RegionSession:
    return next(r for r in connection.regions if r.ref.region == region)


def compute_paths(world: World, since: int) -> list[str]:
    return [
        r.path
        for r in world.requests
        if r.seq > since and r.region == "RegionTwo" and r.service == "compute"
    ]


async def test_a_region_failing_at_start_is_read_at_its_negotiated_version_once_back(
    world: World, two_failing_at_start: Connection
) -> None:
    two = session_of(two_failing_at_start, "RegionTwo")
    assert two.client.microversions == {}
    assert any("compute: version discovery failed" in n for n in two.notes), two.notes
    poller = Poller([two], Settings(), kinds=[Kind.HYPERVISORS], unpaced_sweeps=True)
    key = (two.ref, Kind.HYPERVISORS)

    # Still failing: the poll fails on the negotiation, and nothing is read at 2.1.
    mark = world.request_seq
    failed = await poller.poll(key)
    assert failed.stale and "microversion not negotiated" in (failed.error or "")
    assert compute_paths(world, mark) == ["/RegionTwo/compute/v2.1"]

    heal(world)
    mark = world.request_seq
    snap = await poller.poll(key)
    assert not snap.error and snap.complete, snap.notes
    assert snap.extra["microversion"] == "2.100"
    assert two.client.microversions["compute"] == "2.100"
    paths = compute_paths(world, mark)
    assert paths[0] == "/RegionTwo/compute/v2.1"  # negotiated first
    assert HYPERVISORS in paths and f"{HYPERVISORS}/detail" not in paths
    region = world.regions["RegionTwo"]
    assert {h.usage_source for h in snap.items.values()} == {"placement"}
    for hv in region.hypervisors:
        vcpu = snap.items[hv.id].vcpu
        assert vcpu is not None and vcpu.used == hv.vcpus_used


async def test_a_region_that_comes_back_at_another_version_drops_what_was_read_before(
    world: World,
    two_failing_at_start: Connection,
    outage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heal(world)
    two = session_of(two_failing_at_start, "RegionTwo")
    poller = Poller([two], Settings(), kinds=[Kind.HYPERVISORS, Kind.TENANTS], unpaced_sweeps=True)
    hv_key, tenants_key = (two.ref, Kind.HYPERVISORS), (two.ref, Kind.TENANTS)
    first = await poller.poll(hv_key)
    assert first.extra == {"microversion": "2.100", "usage_cached": len(first.items)}
    await poller.poll(tenants_key)
    assert (await poller.poll(tenants_key)).extra["mode"] == "incremental"

    # An outage, during which the region is rolled back to a Nova below 2.88.
    fail(world, outage)
    assert (await poller.poll(hv_key)).stale
    monkeypatch.setattr(nova, "MAX_VERSION", "2.87")
    heal(world)

    mark = world.request_seq
    back = await poller.poll(hv_key)
    assert not back.error, back.error
    assert back.extra == {"microversion": "2.87", "usage_cached": 0}  # Placement cache dropped
    assert {h.usage_source for h in back.items.values()} == {"nova"}
    assert compute_paths(world, mark)[0] == "/RegionTwo/compute/v2.1"
    assert f"{HYPERVISORS}/detail" in compute_paths(world, mark)
    # The tenants' server records were read at 2.100: listed again in full, at 2.87.
    tenants = await poller.poll(tenants_key)
    assert tenants.extra["mode"] == "full" and not tenants.error


async def test_a_poll_reads_each_service_at_one_version(connection: Connection) -> None:
    client = session_of(connection, "RegionOne").client
    with pin_versions():
        assert await client.version("compute") == "2.100"
        assert compute.at_least(client, "2.88")
        client.microversions["compute"] = "2.60"  # another poll renegotiated meanwhile
        assert await client.version("compute") == "2.100"
        assert compute.at_least(client, "2.88")
    with pin_versions():
        assert await client.version("compute") == "2.60"
        assert not compute.at_least(client, "2.88")


async def test_a_failed_negotiation_is_not_tried_twice_in_one_poll(
    world: World, two_failing_at_start: Connection
) -> None:
    two = session_of(two_failing_at_start, "RegionTwo")
    poller = Poller([two], Settings(), kinds=[Kind.SERVICES])
    mark = world.request_seq
    failed = await poller.poll((two.ref, Kind.SERVICES))
    assert failed.stale
    volume = [r.path for r in world.requests if r.seq > mark and r.service == "volume"]
    assert volume == ["/RegionTwo/volume/"]  # the version document, once; no listing
