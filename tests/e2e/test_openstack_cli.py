"""The real `openstack` CLI against `osconsole sim` over a socket: fidelity with a real client.

Each command's output is checked against the simulator's world, so a shape the CLI
cannot read, or a filter it relies on that we ignore, fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from osconsole.sim.serve import SimServer
from osconsole.sim.world import World, compute_usage
from tests.support.home import home_env

pytestmark = pytest.mark.e2e
OPENSTACK = Path(sys.executable).with_name("openstack")


def openstack(clouds: Path, *args: str, region: str = "RegionOne") -> Any:
    env = {
        **home_env(),  # the XDG folders of the test, never the real ones
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(clouds.parent),  # no operator's own clouds.yaml can leak in
        "OS_CLIENT_CONFIG_FILE": str(clouds),
    }
    command = [str(OPENSTACK), "--os-cloud", "osconsole-sim", "--os-region-name", region, *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stderr[-2000:]}"
    return json.loads(result.stdout) if "-f" in args else result.stdout


@pytest.fixture(scope="module")
def cli(served: tuple[World, SimServer, Path]) -> tuple[World, Path]:
    if not OPENSTACK.exists():
        pytest.fail(f"python-openstackclient is a test dependency but {OPENSTACK} is missing")
    world, _server, path = served
    return world, path


def test_hypervisor_list(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    rows = openstack(clouds, "hypervisor", "list", "-f", "json")
    region = world.regions["RegionOne"]
    assert {r["ID"] for r in rows} == set(region.hypervisors.ids())
    by_id = {r["ID"]: r for r in rows}
    for hv in region.hypervisors:
        assert by_id[hv.id]["Hypervisor Hostname"] == hv.hostname
        assert by_id[hv.id]["State"] == "up"


def test_compute_service_list(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    rows = openstack(clouds, "compute", "service", "list", "-f", "json")
    region = world.regions["RegionOne"]
    assert {r["ID"] for r in rows} == set(region.compute_services.ids())
    assert {r["Binary"] for r in rows} == {"nova-compute", "nova-scheduler", "nova-conductor"}


def test_network_agent_list(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    rows = openstack(clouds, "network", "agent", "list", "-f", "json")
    region = world.regions["RegionOne"]
    assert {r["ID"] for r in rows} == set(region.agents.ids())
    assert all(r["Alive"] in (True, ":-)") for r in rows)


def test_network_agent_list_for_a_router_shows_ha_state(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    region = world.regions["RegionOne"]
    router = next(r for r in region.routers if r.ha)
    rows = openstack(
        clouds, "network", "agent", "list", "--router", router.id, "--long", "-f", "json"
    )
    assert {r["ID"] for r in rows} == set(router.bindings)
    states = {r["ID"]: r["HA State"] for r in rows}
    assert states == router.bindings


def test_router_list(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    rows = openstack(clouds, "router", "list", "-f", "json")
    region = world.regions["RegionOne"]
    assert {r["ID"] for r in rows} == set(region.routers.ids())
    assert {r["Name"] for r in rows} == {r.name for r in region.routers}


def test_server_list_all_projects(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    rows = openstack(
        clouds, "server", "list", "--all-projects", "--no-name-lookup",
        "-f", "json",
    )  # fmt: skip
    region = world.regions["RegionOne"]
    live = {s.id for s in region.servers if not s.deleted}
    assert {r["ID"] for r in rows} == live
    statuses = {r["ID"]: r["Status"] for r in rows}
    assert all(statuses[s.id] == s.status for s in region.servers if not s.deleted)


def test_compute_service_set_disable_with_reason(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    region = world.regions["RegionTwo"]
    service = next(s for s in region.compute_services if s.binary == "nova-compute")
    openstack(
        clouds,
        "compute", "service", "set", "--disable", "--disable-reason", "e2e: DIMM swap",
        service.host, "nova-compute",
        region="RegionTwo",
    )  # fmt: skip
    assert service.disabled is True
    assert service.disabled_reason == "e2e: DIMM swap"
    rows = openstack(
        clouds, "compute", "service", "list", "--long", "-f", "json", region="RegionTwo"
    )
    seen = next(r for r in rows if r["ID"] == service.id)
    assert seen["Status"] == "disabled"
    assert seen["Disabled Reason"] == "e2e: DIMM swap"


def test_quota_show_usage_of_compute_and_volume(cli: tuple[World, Path]) -> None:
    world, clouds = cli
    region = world.regions["RegionOne"]
    project = next(p for p in world.projects if p.name not in ("admin", "service"))

    def quota(service: str) -> dict[str, tuple[Any, Any]]:
        rows = openstack(clouds, "quota", "show", "--usage", service, project.id, "-f", "json")
        return {r["Resource"]: (r["In Use"], r["Limit"]) for r in rows}

    compute = quota("--compute")
    used = compute_usage(s for s in region.servers if s.project_id == project.id)
    limits = region.compute_quota(project.id)
    for resource in ("instances", "cores", "ram"):
        assert compute[resource] == (used[resource], limits[resource])
    assert used["instances"] > 0
    volume = quota("--volume")
    used = region.project_volume_usage(project.id)
    limits = region.volume_quota(project.id)
    for resource in ("volumes", "snapshots", "gigabytes", "volumes_ceph"):
        assert volume[resource] == (used[resource], limits[resource])
