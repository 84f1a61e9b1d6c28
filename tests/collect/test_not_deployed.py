"""A service the catalog does not have is not deployed, not failing.

Against real clouds without Cinder every snapshot used to exit 1 (`partial: cinder
services unavailable: no volumev3 endpoint`); a region with Neutron but no Nova was
not watched at all. The simulator leaves services out of its catalog for these.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind
from osconsole.sim.keystone import leave_out_of_catalog
from osconsole.sim.world import World
from osconsole.snapshot import EXIT_OK, take_snapshot
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config


@pytest.fixture
def run(world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path):  # type: ignore[no-untyped-def]
    async def run(kinds: list[Kind] | None = None):  # type: ignore[no-untyped-def]
        return await take_snapshot(
            Settings(clouds=[CloudSettings(name="osconsole-sim")], request_timeout=2.0),
            kinds=kinds or list(Kind),
            openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
            transport=httpx.ASGITransport(app=sim_app),
        )

    return run


def _by(outcome: Any) -> dict[tuple[str, Kind], Any]:
    return {(s.ref.region, s.kind): s for s in outcome.snapshots}


async def test_a_cloud_without_cinder_gives_complete_snapshots(run: Any, world: World) -> None:
    leave_out_of_catalog(world, "volumev3")
    outcome = await run()
    assert outcome.exit_code == EXIT_OK, outcome.problems
    assert outcome.problems == []
    for name, region in world.regions.items():
        services = _by(outcome)[(name, Kind.SERVICES)]
        assert services.complete and not services.error
        assert "no volume service (Cinder) in this region" in services.notes
        assert {s.project for s in services.items.values()} == {"nova"}
        assert len(services.items) == len(region.compute_services)
    assert not [r for r in world.requests if r.service == "volume"]  # never asked
    regions = {r["region"]: r for r in outcome.document["regions"]}
    assert "volume: no volume service (Cinder) in this region" in regions["RegionOne"]["notes"]


async def test_a_region_with_neutron_but_no_nova_shows_what_it_has(run: Any, world: World) -> None:
    leave_out_of_catalog(world, "compute", ["RegionTwo"])
    leave_out_of_catalog(world, "placement", ["RegionTwo"])
    outcome = await run()
    assert outcome.exit_code == EXIT_OK, outcome.problems
    snaps = _by(outcome)
    hypervisors = snaps[("RegionTwo", Kind.HYPERVISORS)]
    assert hypervisors.complete and not hypervisors.error and not hypervisors.stale
    assert hypervisors.items == {}
    assert hypervisors.notes == ("not deployed: no compute service (Nova) in this region",)
    assert hypervisors.extra["not_deployed"] == "no compute service (Nova) in this region"
    region = world.regions["RegionTwo"]
    assert set(snaps[("RegionTwo", Kind.AGENTS)].items) == set(region.agents.ids())
    assert set(snaps[("RegionTwo", Kind.ROUTERS)].items) == set(region.routers.ids())
    services = snaps[("RegionTwo", Kind.SERVICES)]
    assert {s.project for s in services.items.values()} == {"cinder"}
    assert "no compute service (Nova) in this region" in services.notes
    tenants = snaps[("RegionTwo", Kind.TENANTS)]
    assert tenants.complete and not tenants.error, tenants.notes
    assert "servers: no compute service (Nova) in this region" in tenants.notes
    assert any(t.spoofing_ports or t.open_ingress_rules for t in tenants.items.values())
    assert not [r for r in world.requests if r.region == "RegionTwo" and r.service == "compute"]
    # The other regions are untouched.
    assert len(snaps[("RegionOne", Kind.HYPERVISORS)].items) == len(
        world.regions["RegionOne"].hypervisors
    )


async def test_a_region_without_any_service_of_ours_is_not_deployed_everywhere(
    run: Any, world: World
) -> None:
    for service in ("compute", "network", "placement", "volumev3"):
        leave_out_of_catalog(world, service, ["RegionThree"])
    outcome = await run(kinds=[Kind.HYPERVISORS])
    assert outcome.problems == [
        "cloud 'osconsole-sim': region 'RegionThree' has no compute, network, placement or "
        "volume endpoint in the catalog (the catalog has: RegionOne, RegionTwo)"
    ]


async def test_a_region_without_placement_reads_usage_from_nova(run: Any, world: World) -> None:
    leave_out_of_catalog(world, "placement", ["RegionOne"])
    outcome = await run(kinds=[Kind.HYPERVISORS])
    assert outcome.exit_code == EXIT_OK, outcome.problems
    snap = _by(outcome)[("RegionOne", Kind.HYPERVISORS)]
    assert snap.extra["microversion"] == "2.87"
    region = world.regions["RegionOne"]
    for hv in region.hypervisors:
        seen = snap.items[hv.id]
        assert seen.usage_source == "nova"
        assert seen.vcpu is not None and seen.vcpu.used == hv.vcpus_used
    assert _by(outcome)[("RegionTwo", Kind.HYPERVISORS)].extra["microversion"] == "2.100"
