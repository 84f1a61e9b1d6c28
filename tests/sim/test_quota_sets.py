"""The simulated Nova and Cinder quota sets: the shapes of the API reference samples,
usage counted from the world, and who may read them.

The samples are read from tests/api_samples/, copied there unchanged (Apache-2.0):
nova/os-quota-sets/ from openstack/nova doc/api_samples/os-quota-sets/ at 00a030403f;
cinder/quotas-show-usage-response.json and cinder/quotas-show-response.json from
openstack/cinder api-ref/source/v3/samples/ at 5551408f and f2cd3ee8.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from osconsole.sim.world import Region, World, compute_usage
from tests.sim.shapes import assert_same_shape, load_sample

NOVA = "/RegionOne/compute/v2.1"
CINDER = "/RegionOne/volume/v3"
TYPED = ("volumes", "snapshots", "gigabytes")  # Cinder's per-volume-type resources


def region_one(world: World) -> Region:
    return world.regions["RegionOne"]


def tenant_ids(world: World) -> list[str]:
    return [p.id for p in world.projects if p.name not in ("admin", "service")]


def at(headers: dict[str, str], version: str) -> dict[str, str]:
    return {**headers, "OpenStack-API-Version": f"compute {version}"}


async def get_json(sim: httpx.AsyncClient, url: str, headers: dict[str, str], **params: str) -> Any:
    response = await sim.get(url, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


# -- Nova ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "folder"),
    [("2.1", ""), ("2.35", ""), ("2.36", "v2.36/"), ("2.56", "v2.36/"), ("2.57", "v2.57/"),
     ("latest", "v2.57/")],
)  # fmt: skip
async def test_nova_quota_sets_have_the_samples_shape_at_each_microversion(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], version: str, folder: str
) -> None:
    project_id = tenant_ids(world)[0]
    headers = at(admin_headers, version)
    url = f"{NOVA}/os-quota-sets/{project_id}"
    samples = f"nova/os-quota-sets/{folder}"
    detail = await get_json(sim, f"{url}/detail", headers)
    assert_same_shape(detail, load_sample(f"{samples}quotas-show-detail-get-resp.json"))
    limits = await get_json(sim, url, headers)
    assert_same_shape(limits, load_sample(f"{samples}quotas-show-get-resp.json"))
    assert detail["quota_set"]["id"] == limits["quota_set"]["id"] == project_id
    assert {k: v["limit"] for k, v in detail["quota_set"].items() if k != "id"} == {
        k: v for k, v in limits["quota_set"].items() if k != "id"
    }


async def test_nova_usage_is_counted_from_the_projects_servers(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    for project_id in tenant_ids(world):
        body = await get_json(sim, f"{NOVA}/os-quota-sets/{project_id}/detail", admin_headers)
        quota = body["quota_set"]
        live = [s for s in region.servers if s.project_id == project_id and not s.deleted]
        assert quota["instances"]["in_use"] == len(live) > 0
        assert quota["cores"]["in_use"] == sum(s.flavor.vcpus for s in live)
        assert quota["ram"]["in_use"] == sum(s.flavor.ram for s in live)
        limits = region.compute_quota(project_id)
        for resource in ("instances", "cores", "ram"):
            assert quota[resource]["limit"] == limits[resource]
            # The generated world leaves room under every limit.
            assert quota[resource]["in_use"] < 0.9 * limits[resource]
    victim = next(s for s in region.servers if not s.deleted)
    before = compute_usage(s for s in region.servers if s.project_id == victim.project_id)
    region.delete_server(victim, world.now())
    body = await get_json(sim, f"{NOVA}/os-quota-sets/{victim.project_id}/detail", admin_headers)
    assert body["quota_set"]["instances"]["in_use"] == before["instances"] - 1
    assert body["quota_set"]["cores"]["in_use"] == before["cores"] - victim.flavor.vcpus


async def test_nova_quota_sets_are_the_admins_or_the_projects_own(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], member_headers: dict
) -> None:
    member_project = world.users["member"].project_id
    other = next(p for p in tenant_ids(world) if p != member_project)
    own = await sim.get(f"{NOVA}/os-quota-sets/{member_project}/detail", headers=member_headers)
    assert own.status_code == 200
    theirs = await sim.get(f"{NOVA}/os-quota-sets/{other}/detail", headers=member_headers)
    assert theirs.status_code == 403
    assert "os_compute_api:os-quota-sets:detail" in theirs.text
    assert theirs.headers["OpenStack-API-Version"].startswith("compute ")
    # Nova does not check that the project exists: an unknown one has the defaults.
    body = await get_json(sim, f"{NOVA}/os-quota-sets/no-such-project/detail", admin_headers)
    assert body["quota_set"]["cores"] == {"in_use": 0, "limit": 20, "reserved": 0}


# -- Cinder ----------------------------------------------------------------------------------


def untyped(quota_set: dict[str, Any], types: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The quota set without its per-volume-type keys, and those keys: their names
    carry the deployment's volume types (data), so they are compared apart."""
    typed = {f"{r}_{t}" for r in TYPED for t in types}
    rest = {k: v for k, v in quota_set.items() if k not in typed}
    return rest, {k: v for k, v in quota_set.items() if k in typed}


async def test_cinder_quota_sets_have_the_samples_shape(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    url = f"{CINDER}/{world.admin_project_id}/os-quota-sets/{tenant_ids(world)[0]}"

    with_usage = (await get_json(sim, url, admin_headers, usage="true"))["quota_set"]
    wanted = load_sample("cinder/quotas-show-usage-response.json")["quota_set"]
    served, served_typed = untyped(with_usage, region.volume_types)
    expected, sample_typed = untyped(wanted, ["lvmdriver-1"])
    assert_same_shape(served, expected)
    assert set(served_typed) == {f"{r}_ceph" for r in TYPED}
    for key, value in served_typed.items():
        assert_same_shape(value, sample_typed[key.replace("_ceph", "_lvmdriver-1")])

    limits = (await get_json(sim, url, admin_headers))["quota_set"]
    wanted = load_sample("cinder/quotas-show-response.json")["quota_set"]
    served, served_typed = untyped(limits, region.volume_types)
    expected, sample_typed = untyped(wanted, ["ceph", "lvm-thin", "lvmdriver-1"])
    assert_same_shape(served, expected)
    assert served_typed.keys() <= sample_typed.keys()
    assert_same_shape(served_typed, {k: sample_typed[k] for k in served_typed})
    assert {k: v["limit"] for k, v in with_usage.items() if k != "id"} == {
        k: v for k, v in limits.items() if k != "id"
    }


async def test_cinder_usage_is_counted_from_the_projects_volumes_and_snapshots(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    seen = 0
    for project_id in tenant_ids(world):
        url = f"{CINDER}/{world.admin_project_id}/os-quota-sets/{project_id}"
        quota = (await get_json(sim, url, admin_headers, usage="true"))["quota_set"]
        volumes = [v for v in region.volumes if v.project_id == project_id]
        snapshots = [s for s in region.volume_snapshots if s.project_id == project_id]
        gigabytes = sum(v.size for v in volumes) + sum(s.size for s in snapshots)
        assert quota["volumes"]["in_use"] == quota["volumes_ceph"]["in_use"] == len(volumes)
        assert quota["snapshots"]["in_use"] == len(snapshots)
        assert quota["gigabytes"]["in_use"] == quota["gigabytes_ceph"]["in_use"] == gigabytes
        limits = region.volume_quota(project_id)
        for resource in TYPED:
            assert quota[resource]["limit"] == limits[resource]
            assert quota[resource]["in_use"] < 0.9 * limits[resource]
        seen += len(volumes) + len(snapshots)
    assert seen > 0, "the tiny world should have volumes"


async def test_cinder_quota_sets_are_the_admins_or_the_projects_own(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], member_headers: dict
) -> None:
    member_project = world.users["member"].project_id
    other = next(p for p in tenant_ids(world) if p != member_project)
    member = member_headers
    base = f"{CINDER}/{member_project}/os-quota-sets"
    assert (await sim.get(f"{base}/{member_project}", headers=member)).status_code == 200
    theirs = await sim.get(f"{base}/{other}", headers=member)
    assert theirs.status_code == 403 and "volume_extension:quotas:show" in theirs.text
    admin_url = f"{CINDER}/{world.admin_project_id}/os-quota-sets/{other}"
    bad = await sim.get(admin_url, headers=admin_headers, params={"usage": "sometimes"})
    assert bad.status_code == 400
    # The URL's project must be the caller's, as for every project-scoped Cinder URL.
    assert (await sim.get(f"{base}/{member_project}", headers=admin_headers)).status_code == 400
