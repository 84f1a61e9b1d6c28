"""The simulated Placement API: shapes against the API reference samples, numbers
against the world, and the auth/microversion behaviour of a real Placement."""

from __future__ import annotations

import httpx
import pytest

from osconsole.sim.world import Hypervisor, Region, World
from tests.sim.shapes import assert_same_shape, load_sample

BASE = "/RegionOne/placement"
LATEST = {"OpenStack-API-Version": "placement latest"}


def _v(version: str) -> dict[str, str]:
    return {"OpenStack-API-Version": f"placement {version}"}


def _region(world: World) -> Region:
    return world.regions["RegionOne"]


def _busy_hypervisor(world: World) -> Hypervisor:
    """A compute node with servers on it, so usages are not all zero."""
    return max(_region(world).hypervisors, key=lambda hv: hv.vcpus_used)


def _project_sums(region: Region, project_id: str, user_id: str | None = None) -> dict:
    totals = {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0, "consumers": 0}
    for server in region.servers:
        if server.deleted or server.project_id != project_id:
            continue
        if user_id is not None and server.user_id != user_id:
            continue
        if server.host not in region.hypervisors_by_host:
            continue
        totals["VCPU"] += server.flavor.vcpus
        totals["MEMORY_MB"] += server.flavor.ram
        totals["DISK_GB"] += server.flavor.disk
        totals["consumers"] += 1
    return totals


# -- root and microversions ----------------------------------------------------------


async def test_root_needs_no_token_and_matches_sample(sim: httpx.AsyncClient) -> None:
    response = await sim.get(f"{BASE}/")
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("placement/root/get-root.json"))
    version = body["versions"][0]
    assert (version["id"], version["min_version"], version["max_version"]) == (
        "v1.0",
        "1.0",
        "1.39",
    )
    assert version["status"] == "CURRENT"
    assert response.headers["OpenStack-API-Version"] == "placement 1.0"
    assert response.headers["Vary"] == "openstack-api-version"


async def test_microversion_is_echoed_and_latest_is_the_maximum(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await sim.get(f"{BASE}/resource_providers", headers={**admin_headers, **LATEST})
    assert response.headers["OpenStack-API-Version"] == "placement 1.39"
    assert response.headers["Vary"] == "openstack-api-version"
    assert response.headers["Cache-Control"] == "no-cache"
    response = await sim.get(f"{BASE}/resource_providers", headers={**admin_headers, **_v("1.14")})
    assert response.headers["OpenStack-API-Version"] == "placement 1.14"
    response = await sim.get(f"{BASE}/resource_providers", headers=admin_headers)
    assert response.headers["OpenStack-API-Version"] == "placement 1.0"


@pytest.mark.parametrize("version", ["1.40", "2.0", "0.9"])
async def test_version_out_of_range_is_406_with_the_range(
    sim: httpx.AsyncClient, admin_headers: dict[str, str], version: str
) -> None:
    response = await sim.get(f"{BASE}/resource_providers", headers={**admin_headers, **_v(version)})
    assert response.status_code == 406
    error = response.json()["errors"][0]
    assert error["status"] == 406
    assert (error["min_version"], error["max_version"]) == ("1.0", "1.39")
    assert "OpenStack-API-Version" not in response.headers


async def test_garbage_version_is_400(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await sim.get(
        f"{BASE}/resource_providers", headers={**admin_headers, **_v("one.two")}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == 400


# -- auth and policy -----------------------------------------------------------------


async def test_no_token_is_401_in_keystone_shape(sim: httpx.AsyncClient) -> None:
    response = await sim.get(f"{BASE}/resource_providers")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 401


async def test_bad_token_is_401(sim: httpx.AsyncClient) -> None:
    response = await sim.get(f"{BASE}/resource_providers", headers={"X-Auth-Token": "nope"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/resource_providers",
        "/resource_providers/{uuid}",
        "/resource_providers/{uuid}/inventories",
        "/resource_providers/{uuid}/usages",
        "/usages?project_id={project}",
    ],
)
async def test_member_is_403_admin_only_policy(
    sim: httpx.AsyncClient, world: World, member_headers: dict[str, str], path: str
) -> None:
    hv = _region(world).hypervisors.ordered()[0]
    url = BASE + path.format(uuid=hv.id, project=world.admin_project_id)
    response = await sim.get(url, headers={**member_headers, **LATEST})
    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["status"] == 403
    assert error["code"] == "placement.undefined_code"
    assert "Policy does not allow placement:" in error["detail"]
    assert response.headers["OpenStack-API-Version"] == "placement 1.39"


async def test_read_only_app_credential_token_can_read(
    sim: httpx.AsyncClient, world: World
) -> None:
    from osconsole.sim.generate import READONLY_APP_CRED_SECRET

    cred = next(c for c in world.app_credentials.values() if c.access_rules)
    auth = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred.id, "secret": READONLY_APP_CRED_SECRET},
            }
        }
    }
    issued = await sim.post("/identity/v3/auth/tokens", json=auth)
    headers = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
    response = await sim.get(f"{BASE}/resource_providers", headers=headers)
    assert response.status_code == 200
    assert len(response.json()["resource_providers"]) == len(_region(world).hypervisors)


# -- resource providers --------------------------------------------------------------


async def test_list_matches_sample_and_world(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    response = await sim.get(f"{BASE}/resource_providers", headers={**admin_headers, **LATEST})
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("placement/resource_providers/get-resource_providers.json"))
    region = _region(world)
    providers = body["resource_providers"]
    assert [p["uuid"] for p in providers] == [hv.id for hv in region.hypervisors]
    for provider in providers:
        hv = region.hypervisors.get(provider["uuid"])
        assert hv is not None
        assert provider["name"] == hv.hostname
        assert provider["generation"] == hv.generation
        # Compute nodes are roots of their own trees.
        assert provider["parent_provider_uuid"] is None
        assert provider["root_provider_uuid"] == hv.id
        links = {link["rel"]: link["href"] for link in provider["links"]}
        self_href = f"{BASE}/resource_providers/{hv.id}"
        assert links["self"] == self_href
        for rel in ("inventories", "usages", "aggregates", "traits", "allocations"):
            assert links[rel] == f"{self_href}/{rel}"


async def test_list_at_1_0_has_no_tree_fields_and_fewer_links(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await sim.get(f"{BASE}/resource_providers", headers=admin_headers)
    provider = response.json()["resource_providers"][0]
    assert "parent_provider_uuid" not in provider
    assert "root_provider_uuid" not in provider
    assert [link["rel"] for link in provider["links"]] == ["self", "inventories", "usages"]


async def test_each_region_serves_its_own_providers(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    for name, region in world.regions.items():
        response = await sim.get(f"/{name}/placement/resource_providers", headers=admin_headers)
        uuids = {p["uuid"] for p in response.json()["resource_providers"]}
        assert uuids == set(region.hypervisors.ids())


async def test_filters_name_and_uuid(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    hv = _region(world).hypervisors.ordered()[1]
    for query in (f"name={hv.hostname}", f"uuid={hv.id}"):
        response = await sim.get(f"{BASE}/resource_providers?{query}", headers=admin_headers)
        assert [p["uuid"] for p in response.json()["resource_providers"]] == [hv.id]
    response = await sim.get(f"{BASE}/resource_providers?name=no-such-host", headers=admin_headers)
    assert response.json() == {"resource_providers": []}


async def test_in_tree_finds_the_root(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    hv = _region(world).hypervisors.ordered()[2]
    headers = {**admin_headers, **_v("1.14")}
    response = await sim.get(f"{BASE}/resource_providers?in_tree={hv.id}", headers=headers)
    assert [p["uuid"] for p in response.json()["resource_providers"]] == [hv.id]


async def test_resources_filter_follows_free_capacity(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = _region(world)

    def free_vcpus(hv: Hypervisor) -> float:
        inv = hv.inventories()["VCPU"]
        return (inv["total"] - inv["reserved"]) * inv["allocation_ratio"] - hv.vcpus_used

    amount = min(hv.vcpus for hv in region.hypervisors)  # within every max_unit
    expected = [hv.id for hv in region.hypervisors if free_vcpus(hv) >= amount]
    headers = {**admin_headers, **_v("1.4")}
    response = await sim.get(f"{BASE}/resource_providers?resources=VCPU:{amount}", headers=headers)
    assert response.status_code == 200
    assert [p["uuid"] for p in response.json()["resource_providers"]] == expected
    too_big = max(hv.vcpus for hv in region.hypervisors) + 1  # above every max_unit
    response = await sim.get(f"{BASE}/resource_providers?resources=VCPU:{too_big}", headers=headers)
    assert response.json()["resource_providers"] == []


@pytest.mark.parametrize(
    ("query", "version"),
    [
        ("uuid=not-a-uuid", "1.0"),
        ("color=blue", "1.0"),
        ("resources=VCPU:1", "1.3"),  # resources arrived in 1.4
        ("resources=VCPU", "1.4"),
        ("resources=VCPU:0", "1.4"),
        ("resources=CUSTOM_NOPE:1", "1.4"),
        ("in_tree=xyz", "1.14"),
    ],
)
async def test_bad_queries_are_400(
    sim: httpx.AsyncClient, admin_headers: dict[str, str], query: str, version: str
) -> None:
    response = await sim.get(
        f"{BASE}/resource_providers?{query}", headers={**admin_headers, **_v(version)}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == 400


async def test_show_matches_sample_and_world(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    hv = _busy_hypervisor(world)
    response = await sim.get(
        f"{BASE}/resource_providers/{hv.id}", headers={**admin_headers, **LATEST}
    )
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("placement/resource_providers/get-resource_provider.json"))
    assert (body["uuid"], body["name"], body["generation"]) == (hv.id, hv.hostname, hv.generation)
    assert body["root_provider_uuid"] == hv.id


async def test_unknown_provider_is_404_in_placement_shape(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for suffix in ("", "/inventories", "/usages", "/allocations"):
        response = await sim.get(
            f"{BASE}/resource_providers/{missing}{suffix}", headers={**admin_headers, **LATEST}
        )
        assert response.status_code == 404
        error = response.json()["errors"][0]
        assert error["status"] == 404 and error["title"] == "Not Found"
        assert missing in error["detail"]
        assert error["code"] == "placement.undefined_code"
        assert response.headers["OpenStack-API-Version"] == "placement 1.39"
    # Below 1.23 errors carry no code.
    response = await sim.get(f"{BASE}/resource_providers/{missing}", headers=admin_headers)
    assert "code" not in response.json()["errors"][0]


# -- inventories, usages, allocations ------------------------------------------------


async def test_inventories_match_sample_and_hypervisor(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    hv = _busy_hypervisor(world)
    response = await sim.get(
        f"{BASE}/resource_providers/{hv.id}/inventories", headers=admin_headers
    )
    body = response.json()
    assert_same_shape(body, load_sample("placement/inventories/get-inventories.json"))
    assert body["resource_provider_generation"] == hv.generation
    inventories = body["inventories"]
    assert inventories["VCPU"]["total"] == hv.vcpus
    assert inventories["VCPU"]["allocation_ratio"] == hv.cpu_allocation_ratio
    assert inventories["MEMORY_MB"]["total"] == hv.memory_mb
    assert inventories["MEMORY_MB"]["reserved"] == hv.reserved_host_memory_mb
    assert inventories["DISK_GB"]["total"] == hv.local_gb


async def test_capacity_arithmetic_is_computable_and_covers_usage(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    """(total - reserved) * allocation_ratio is what the console shows as capacity."""
    for hv in _region(world).hypervisors:
        base = f"{BASE}/resource_providers/{hv.id}"
        inventories = (await sim.get(f"{base}/inventories", headers=admin_headers)).json()
        usages = (await sim.get(f"{base}/usages", headers=admin_headers)).json()["usages"]
        for name, inv in inventories["inventories"].items():
            assert isinstance(inv["allocation_ratio"], float)
            capacity = (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]
            assert isinstance(capacity, float) and capacity > 0
            assert usages[name] == hv.usages()[name]
        memory = inventories["inventories"]["MEMORY_MB"]
        expected = (hv.memory_mb - hv.reserved_host_memory_mb) * hv.ram_allocation_ratio
        assert (memory["total"] - memory["reserved"]) * memory["allocation_ratio"] == expected


async def test_single_inventory_matches_sample(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    hv = _busy_hypervisor(world)
    base = f"{BASE}/resource_providers/{hv.id}/inventories"
    response = await sim.get(f"{base}/VCPU", headers=admin_headers)
    body = response.json()
    assert_same_shape(body, load_sample("placement/inventories/get-inventory.json"))
    assert body["total"] == hv.vcpus and body["resource_provider_generation"] == hv.generation
    missing = await sim.get(f"{base}/VGPU", headers=admin_headers)
    assert missing.status_code == 404


async def test_provider_usages_match_sample_and_servers(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = _region(world)
    hv = _busy_hypervisor(world)
    response = await sim.get(f"{BASE}/resource_providers/{hv.id}/usages", headers=admin_headers)
    body = response.json()
    assert_same_shape(
        body, load_sample("placement/resource_provider_usages/get-resource_provider_usages.json")
    )
    placed = [s for s in region.servers if not s.deleted and s.host == hv.hostname]
    assert placed, "the busiest hypervisor should host servers"
    assert body["usages"] == {
        "VCPU": sum(s.flavor.vcpus for s in placed),
        "MEMORY_MB": sum(s.flavor.ram for s in placed),
        "DISK_GB": sum(s.flavor.disk for s in placed),
    }
    assert body["resource_provider_generation"] == hv.generation


async def test_provider_allocations_match_sample_and_add_up_to_usages(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = _region(world)
    hv = _busy_hypervisor(world)
    response = await sim.get(
        f"{BASE}/resource_providers/{hv.id}/allocations", headers=admin_headers
    )
    body = response.json()
    sample = load_sample(
        "placement/resource_provider_allocations/get-resource_provider_allocations.json"
    )
    # Keys of `allocations` are consumer uuids and of `resources` resource classes (data).
    assert_same_shape(body, sample, free_form=("allocations",))
    first = next(iter(body["allocations"].values()))
    assert_same_shape(first, next(iter(sample["allocations"].values())), free_form=("resources",))
    placed = {s.id for s in region.servers if not s.deleted and s.host == hv.hostname}
    assert set(body["allocations"]) == placed
    vcpus = sum(a["resources"]["VCPU"] for a in body["allocations"].values())
    assert vcpus == hv.vcpus_used


async def test_deleting_a_server_frees_usage_and_bumps_generation(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = _region(world)
    hv = _busy_hypervisor(world)
    server = next(s for s in region.servers if not s.deleted and s.host == hv.hostname)
    url = f"{BASE}/resource_providers/{hv.id}/usages"
    before = (await sim.get(url, headers=admin_headers)).json()
    region.delete_server(server, world.now())
    after = (await sim.get(url, headers=admin_headers)).json()
    assert after["usages"]["VCPU"] == before["usages"]["VCPU"] - server.flavor.vcpus
    assert after["usages"]["MEMORY_MB"] == before["usages"]["MEMORY_MB"] - server.flavor.ram
    assert after["resource_provider_generation"] > before["resource_provider_generation"]


# -- project usages ------------------------------------------------------------------


def _busiest_project(world: World) -> str:
    region = _region(world)
    counts: dict[str, int] = {}
    for server in region.servers:
        counts[server.project_id] = counts.get(server.project_id, 0) + 1
    return max(counts, key=lambda p: counts[p])


async def test_project_usages_below_1_38_match_sample_and_servers(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    project = _busiest_project(world)
    response = await sim.get(
        f"{BASE}/usages?project_id={project}", headers={**admin_headers, **_v("1.37")}
    )
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("placement/usages/get-usages.json"))
    sums = _project_sums(_region(world), project)
    assert body["usages"] == {k: sums[k] for k in ("VCPU", "MEMORY_MB", "DISK_GB")}


async def test_project_usages_at_1_38_group_by_consumer_type(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    project = _busiest_project(world)
    response = await sim.get(
        f"{BASE}/usages?project_id={project}", headers={**admin_headers, **_v("1.38")}
    )
    body = response.json()
    sample = load_sample("placement/usages/get-usages-1.38.json")
    # Keys of `usages` are consumer types (data): compare each group with the sample's.
    assert_same_shape(body, sample, free_form=("usages",))
    assert_same_shape(body["usages"]["INSTANCE"], sample["usages"]["INSTANCE"])
    sums = _project_sums(_region(world), project)
    assert body["usages"] == {
        "INSTANCE": {
            "consumer_count": sums["consumers"],
            "VCPU": sums["VCPU"],
            "MEMORY_MB": sums["MEMORY_MB"],
            "DISK_GB": sums["DISK_GB"],
        }
    }
    migration = await sim.get(
        f"{BASE}/usages?project_id={project}&consumer_type=MIGRATION",
        headers={**admin_headers, **_v("1.38")},
    )
    assert migration.json() == {"usages": {}}


async def test_project_usages_filter_by_user(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = _region(world)
    project = _busiest_project(world)
    user = next(s.user_id for s in region.servers if s.project_id == project)
    response = await sim.get(
        f"{BASE}/usages?project_id={project}&user_id={user}", headers={**admin_headers, **LATEST}
    )
    sums = _project_sums(region, project, user)
    assert response.json()["usages"]["INSTANCE"]["consumer_count"] == sums["consumers"]
    other = await sim.get(
        f"{BASE}/usages?project_id={project}&user_id=someone-else",
        headers={**admin_headers, **LATEST},
    )
    assert other.json() == {"usages": {}}


async def test_project_usages_add_up_to_provider_usages(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = _region(world)
    total = 0
    for project in {s.project_id for s in region.servers}:
        response = await sim.get(
            f"{BASE}/usages?project_id={project}", headers={**admin_headers, **_v("1.9")}
        )
        total += response.json()["usages"].get("VCPU", 0)
    assert total == sum(hv.vcpus_used for hv in region.hypervisors)


async def test_project_usages_need_1_9_and_a_project(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    project = _busiest_project(world)
    old = await sim.get(
        f"{BASE}/usages?project_id={project}", headers={**admin_headers, **_v("1.8")}
    )
    assert old.status_code == 404
    assert old.json()["errors"][0]["status"] == 404
    missing = await sim.get(f"{BASE}/usages", headers={**admin_headers, **LATEST})
    assert missing.status_code == 400
    assert "project_id" in missing.json()["errors"][0]["detail"]
