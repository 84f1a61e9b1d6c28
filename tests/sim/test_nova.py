"""The simulated Nova: sample shapes per microversion, paging, liveness, policy,
filters and server actions, checked against the world the simulator serves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from osconsole.sim import nova
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock, iso
from osconsole.sim.generate import ADMIN_PASSWORD, build_world
from osconsole.sim.world import Hypervisor, Region, Server, World
from tests.conftest import T0, password_token
from tests.sim.shapes import assert_same_shape, load_sample

API = "/RegionOne/compute/v2.1"
FREE_FORM = ("addresses", "metadata", "extra_specs", "properties", "scheduler_hints")
USAGE_KEYS = {
    "vcpus",
    "memory_mb",
    "local_gb",
    "vcpus_used",
    "memory_mb_used",
    "local_gb_used",
    "free_ram_mb",
    "free_disk_gb",
    "current_workload",
    "running_vms",
    "disk_available_least",
    "cpu_info",
}


def at(headers: dict[str, str], version: str) -> dict[str, str]:
    return {**headers, "OpenStack-API-Version": f"compute {version}"}


def region_one(world: World) -> Region:
    return world.regions["RegionOne"]


def hv_with_servers(world: World) -> Hypervisor:
    return next(hv for hv in region_one(world).hypervisors if hv.running_vms >= 2)


def newer(version: str, than: str) -> bool:
    return nova.Microversion.parse(version).at_least(than)


def hv_key(hv: Hypervisor, version: str) -> str:
    return hv.id if newer(version, "2.53") else str(hv.int_id)


def live_on(region: Region, host: str) -> list[Server]:
    return [s for s in region.servers if s.host == host and not s.deleted]


def typical_server(
    world: World, project_id: str | None = None, *, not_project: str | None = None
) -> Server:
    """An ACTIVE, scheduled server with a secured port: the sample's kind of server."""
    region = region_one(world)
    secured = {p.device_id for p in region.ports if p.security_groups}
    return next(
        s
        for s in region.servers
        if s.status == "ACTIVE"
        and s.task_state is None
        and s.host
        and s.id in secured
        and (project_id is None or s.project_id == project_id)
        and s.project_id != not_project
    )


def member_project(world: World) -> str:
    return world.users["member"].project_id


# -- versions and microversions ---------------------------------------------


async def test_versions_document_points_at_the_simulator(sim: httpx.AsyncClient) -> None:
    response = await sim.get("/RegionOne/compute/")
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("nova/versions/versions-get-resp.json"))
    current = body["versions"][1]
    assert current["links"][0]["href"] == "http://sim.test/RegionOne/compute/v2.1/"
    assert (current["min_version"], current["version"]) == ("2.1", "2.100")


@pytest.mark.parametrize("path", ["/v2.1", "/v2.1/"])
async def test_v21_version_document(sim: httpx.AsyncClient, path: str) -> None:
    response = await sim.get(f"/RegionTwo/compute{path}")
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample("nova/versions/v21-version-get-resp.json"))
    assert body["version"]["links"][0]["href"] == "http://sim.test/RegionTwo/compute/v2.1/"
    assert body["version"]["version"] == "2.100"
    assert response.headers["OpenStack-API-Version"] == "compute 2.1"


@pytest.mark.parametrize(
    ("sent", "served"),
    [
        ({}, "2.1"),
        ({"OpenStack-API-Version": "compute 2.53"}, "2.53"),
        ({"OpenStack-API-Version": "compute latest"}, "2.100"),
        ({"X-OpenStack-Nova-API-Version": "2.88"}, "2.88"),
    ],
)
async def test_microversion_headers(
    sim: httpx.AsyncClient, admin_headers: dict[str, str], sent: dict, served: str
) -> None:
    response = await sim.get(f"{API}/os-hypervisors", headers={**admin_headers, **sent})
    assert response.status_code == 200
    assert response.headers["OpenStack-API-Version"] == f"compute {served}"
    assert response.headers["X-OpenStack-Nova-API-Version"] == served
    assert response.headers["Vary"] == "OpenStack-API-Version, X-OpenStack-Nova-API-Version"


async def test_errors_carry_version_headers(
    sim: httpx.AsyncClient, member_headers: dict[str, str]
) -> None:
    response = await sim.get(f"{API}/os-hypervisors", headers=at(member_headers, "2.60"))
    assert response.status_code == 403
    assert response.headers["OpenStack-API-Version"] == "compute 2.60"


@pytest.mark.parametrize("asked", ["2.101", "2.0", "3.1"])
async def test_out_of_range_microversion_is_406(
    sim: httpx.AsyncClient, admin_headers: dict[str, str], asked: str
) -> None:
    response = await sim.get(f"{API}/servers", headers=at(admin_headers, asked))
    assert response.status_code == 406
    assert "Minimum is 2.1 and maximum is 2.100" in response.json()["notAcceptable"]["message"]


# -- auth and policy --------------------------------------------------------

ROUTES = [
    ("GET", "/os-hypervisors"),
    ("GET", "/os-hypervisors/detail"),
    ("GET", "/os-hypervisors/1"),
    ("GET", "/os-hypervisors/statistics"),
    ("GET", "/os-services"),
    ("PUT", "/os-services/disable"),
    ("GET", "/servers"),
    ("GET", "/servers/detail"),
    ("GET", "/servers/00000000-0000-4000-8000-000000000000"),
    ("POST", "/servers/00000000-0000-4000-8000-000000000000/action"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_a_token(sim: httpx.AsyncClient, method: str, path: str) -> None:
    response = await sim.request(method, f"{API}{path}", json={} if method != "GET" else None)
    assert response.status_code == 401
    bad = await sim.request(method, f"{API}{path}", headers={"X-Auth-Token": "nope"})
    assert bad.status_code == 401


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "servers" not in r[1]])
async def test_admin_only_routes_forbid_members(
    sim: httpx.AsyncClient, member_headers: dict[str, str], method: str, path: str
) -> None:
    body = {"host": "x", "binary": "nova-compute"} if method == "PUT" else None
    response = await sim.request(method, f"{API}{path}", headers=member_headers, json=body)
    assert response.status_code == 403
    assert "Policy doesn't allow" in response.json()["forbidden"]["message"]


# -- os-hypervisors shapes --------------------------------------------------

HYPERVISOR_SAMPLES = [
    # (version, route, query, sample)
    ("2.1", "list", "", "hypervisors-list-resp.json"),
    ("2.1", "detail", "", "hypervisors-detail-resp.json"),
    ("2.1", "show", "", "hypervisors-show-resp.json"),
    ("2.1", "statistics", "", "hypervisors-statistics-resp.json"),
    ("2.28", "list", "", "v2.28/hypervisors-list-resp.json"),
    ("2.28", "detail", "", "v2.28/hypervisors-detail-resp.json"),
    ("2.28", "show", "", "v2.28/hypervisors-show-resp.json"),
    ("2.28", "statistics", "", "v2.28/hypervisors-statistics-resp.json"),
    ("2.33", "list", "limit=1", "v2.33/hypervisors-list-resp.json"),
    ("2.33", "detail", "limit=1", "v2.33/hypervisors-detail-resp.json"),
    ("2.53", "list", "limit=1", "v2.53/hypervisors-list-resp.json"),
    ("2.53", "detail", "limit=1", "v2.53/hypervisors-detail-resp.json"),
    ("2.53", "show", "", "v2.53/hypervisors-show-resp.json"),
    ("2.53", "show", "with_servers=true", "v2.53/hypervisors-show-with-servers-resp.json"),
    ("2.53", "search", "", "v2.53/hypervisors-search-resp.json"),
    ("2.53", "search", "with_servers=true", "v2.53/hypervisors-with-servers-resp.json"),
    ("2.53", "search", "with_servers=false", "v2.53/hypervisors-without-servers-resp.json"),
    ("2.53", "search-detail", "with_servers=1", "v2.53/hypervisors-detail-with-servers-resp.json"),
    ("2.53", "statistics", "", "v2.53/hypervisors-statistics-resp.json"),
    ("2.88", "list", "limit=1", "v2.88/hypervisors-list-resp.json"),
    ("2.88", "detail", "limit=1", "v2.88/hypervisors-detail-resp.json"),
    ("2.88", "show", "", "v2.88/hypervisors-show-resp.json"),
    ("2.88", "show", "with_servers=true", "v2.88/hypervisors-show-with-servers-resp.json"),
    ("2.88", "search", "", "v2.88/hypervisors-search-resp.json"),
    ("2.88", "search", "with_servers=true", "v2.88/hypervisors-with-servers-resp.json"),
    ("2.88", "search-detail", "with_servers=1", "v2.88/hypervisors-detail-with-servers-resp.json"),
]


def hypervisor_url(world: World, version: str, route: str, query: str) -> str:
    hv = hv_with_servers(world)
    pattern = f"hypervisor_hostname_pattern={hv.hostname}"
    path = {
        "list": "/os-hypervisors",
        "detail": "/os-hypervisors/detail",
        "statistics": "/os-hypervisors/statistics",
        "show": f"/os-hypervisors/{hv_key(hv, version)}",
        "search": "/os-hypervisors",
        "search-detail": "/os-hypervisors/detail",
    }[route]
    if route.startswith("search"):
        query = f"{pattern}&{query}" if query else pattern
    return f"{API}{path}" + (f"?{query}" if query else "")


@pytest.mark.parametrize(("version", "route", "query", "sample"), HYPERVISOR_SAMPLES)
async def test_hypervisor_shapes(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    version: str,
    route: str,
    query: str,
    sample: str,
) -> None:
    url = hypervisor_url(world, version, route, query)
    response = await sim.get(url, headers=at(admin_headers, version))
    assert response.status_code == 200, response.text
    assert_same_shape(response.json(), load_sample(f"nova/os-hypervisors/{sample}"))


async def test_hypervisor_ids_and_links_follow_the_microversion(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    first = region.hypervisors.ordered()[0]
    old = (await sim.get(f"{API}/os-hypervisors/detail", headers=admin_headers)).json()
    assert "hypervisors_links" not in old  # not paged before 2.33
    assert [h["id"] for h in old["hypervisors"]] == [h.int_id for h in region.hypervisors]
    assert old["hypervisors"][0]["service"]["id"] == first.service.int_id
    assert isinstance(old["hypervisors"][0]["cpu_info"], str)
    new = await sim.get(f"{API}/os-hypervisors/detail?limit=2", headers=at(admin_headers, "2.53"))
    body = new.json()
    assert [h["id"] for h in body["hypervisors"]] == [h.id for h in region.hypervisors][:2]
    assert body["hypervisors"][0]["service"]["id"] == first.service.id
    href = body["hypervisors_links"][0]["href"]
    assert href.startswith("http://sim.test/RegionOne/compute/v2.1/os-hypervisors/detail?")
    assert f"marker={body['hypervisors'][1]['id']}" in href


async def test_hypervisor_with_servers_lists_its_instances(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    hv = hv_with_servers(world)
    region = region_one(world)
    expected = {s.id: s.name for s in live_on(region, hv.hostname)}
    url = f"{API}/os-hypervisors/{hv.id}?with_servers=true"
    body = (await sim.get(url, headers=at(admin_headers, "2.53"))).json()["hypervisor"]
    assert {s["uuid"]: s["name"] for s in body["servers"]} == expected
    for server in live_on(region, hv.hostname):
        region.delete_server(server, world.now())
    old = (await sim.get(url, headers=at(admin_headers, "2.74"))).json()["hypervisor"]
    assert "servers" not in old  # before 2.75 an empty list is left out
    new = (await sim.get(url, headers=at(admin_headers, "2.75"))).json()["hypervisor"]
    assert new["servers"] == []


async def test_hypervisor_pattern_rules(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    headers = at(admin_headers, "2.53")
    found = await sim.get(
        f"{API}/os-hypervisors?hypervisor_hostname_pattern=CMP0000", headers=headers
    )
    names = [h["hypervisor_hostname"] for h in found.json()["hypervisors"]]
    assert names == [h.hostname for h in region_one(world).hypervisors]
    paged = f"{API}/os-hypervisors?hypervisor_hostname_pattern=cmp&limit=1"
    assert (await sim.get(paged, headers=headers)).status_code == 400
    none = await sim.get(f"{API}/os-hypervisors?hypervisor_hostname_pattern=zzz", headers=headers)
    assert none.status_code == 404
    assert none.json()["itemNotFound"]["message"] == "No hypervisor matching 'zzz' could be found."


async def test_hypervisor_show_errors(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    assert (await sim.get(f"{API}/os-hypervisors/999", headers=admin_headers)).status_code == 404
    assert (await sim.get(f"{API}/os-hypervisors/abc", headers=admin_headers)).status_code == 404
    headers = at(admin_headers, "2.53")
    assert (await sim.get(f"{API}/os-hypervisors/1", headers=headers)).status_code == 400
    unknown = f"{API}/os-hypervisors/00000000-0000-4000-8000-000000000000"
    assert (await sim.get(unknown, headers=headers)).status_code == 404
    stats = await sim.get(f"{API}/os-hypervisors/statistics", headers=at(admin_headers, "2.88"))
    assert stats.status_code == 404


async def test_unknown_hypervisor_marker_is_400(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    url = f"{API}/os-hypervisors?marker=00000000-0000-4000-8000-000000000000"
    assert (await sim.get(url, headers=at(admin_headers, "2.53"))).status_code == 400
    old = await sim.get(f"{API}/os-hypervisors?marker=9999", headers=at(admin_headers, "2.33"))
    assert old.status_code == 400
    assert old.json()["badRequest"]["message"] == "marker [9999] not found"


# -- usage and liveness -----------------------------------------------------


async def test_usage_below_2_88_sums_the_world_and_2_88_hides_it(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    url = f"{API}/os-hypervisors/detail"
    old = (await sim.get(url, headers=at(admin_headers, "2.87"))).json()["hypervisors"]
    assert len(old) == len(region.hypervisors)
    for served in old:
        hv = region.hypervisors.get(served["id"])
        assert hv is not None
        servers = live_on(region, hv.hostname)
        ram = sum(s.flavor.ram for s in servers)
        assert served["vcpus_used"] == sum(s.flavor.vcpus for s in servers)
        assert served["memory_mb_used"] == ram + hv.reserved_host_memory_mb
        assert served["local_gb_used"] == sum(s.flavor.disk for s in servers)
        assert served["running_vms"] == len(servers)
        assert served["free_ram_mb"] == hv.memory_mb - ram - hv.reserved_host_memory_mb
        assert served["vcpus"] == hv.vcpus
        assert isinstance(served["cpu_info"], dict)
    new = (await sim.get(url, headers=at(admin_headers, "2.88"))).json()["hypervisors"]
    for served in new:
        assert not USAGE_KEYS & set(served)
        assert served["uptime"].lstrip().split()[1] == "up"
    stats = await sim.get(f"{API}/os-hypervisors/statistics", headers=admin_headers)
    totals = stats.json()["hypervisor_statistics"]
    enabled = [hv for hv in region.hypervisors if not hv.service.disabled]
    assert totals["count"] == len(enabled)
    assert totals["running_vms"] == sum(hv.running_vms for hv in enabled)


async def test_hypervisor_goes_down_when_its_service_stops_heartbeating(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    victim = hv_with_servers(world)
    victim.service.stopped_at = world.now()
    url = f"{API}/os-hypervisors/detail"
    headers = at(admin_headers, "2.88")
    # While dying (not yet down), detail would hang at 2.88+: the list call answers.
    listed = (await sim.get(f"{API}/os-hypervisors", headers=headers)).json()["hypervisors"]
    assert {h["state"] for h in listed} == {"up"}  # still within service_down_time
    world.clock.step(61)
    body = (await sim.get(url, headers=headers)).json()["hypervisors"]
    down = [h for h in body if h["state"] == "down"]
    assert [h["id"] for h in down] == [victim.id]
    assert down[0]["uptime"] is None
    assert all(h["uptime"] for h in body if h["state"] == "up")
    services = (
        await sim.get(f"{API}/os-services?host={victim.hostname}", headers=admin_headers)
    ).json()
    assert [s["state"] for s in services["services"]] == ["down"]
    assert services["services"][0]["updated_at"] == iso(victim.service.stopped_at, micro=True)
    server = live_on(region, victim.hostname)[0]
    shown = await sim.get(f"{API}/servers/{server.id}", headers=at(admin_headers, "2.16"))
    assert shown.json()["server"]["host_status"] == "UNKNOWN"


# -- paging over a bigger world ---------------------------------------------


@pytest.fixture
def small_world() -> World:
    return build_world(size="small", regions=1, seed=3, clock=SimClock(start=T0))


@pytest.fixture
async def small_sim(small_world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(small_world))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
        yield client


@pytest.fixture
async def small_admin(small_sim: httpx.AsyncClient) -> dict[str, str]:
    return {"X-Auth-Token": await password_token(small_sim, "admin", ADMIN_PASSWORD)}


async def follow(client: httpx.AsyncClient, url: str, headers: dict, key: str) -> list[list]:
    """Every page of a paged Nova listing, following `next` links to the end."""
    pages = []
    while url:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body[key])
        links = body.get(f"{key}_links", [])
        url = links[0]["href"] if links else ""
    return pages


@pytest.mark.parametrize(("version", "limit"), [("2.33", 7), ("2.53", 7), ("2.88", 8)])
async def test_hypervisor_paging_returns_each_once(
    small_sim: httpx.AsyncClient,
    small_world: World,
    small_admin: dict[str, str],
    version: str,
    limit: int,
) -> None:
    region = small_world.regions["RegionOne"]
    assert len(region.hypervisors) == 40
    url = f"{API}/os-hypervisors/detail?limit={limit}"
    pages = await follow(small_sim, url, at(small_admin, version), "hypervisors")
    ids = [h["id"] for page in pages for h in page]
    expected = [hv.id if newer(version, "2.53") else hv.int_id for hv in region.hypervisors]
    assert ids == expected
    assert all(len(page) == limit for page in pages[:-1])
    if 40 % limit == 0:
        assert pages[-1] == []  # Nova links on every full page, so the last one is empty


async def test_max_limit_caps_every_page(
    small_sim: httpx.AsyncClient,
    small_world: World,
    small_admin: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nova, "MAX_LIMIT", 15)
    headers = at(small_admin, "2.53")
    for url in (f"{API}/os-hypervisors", f"{API}/os-hypervisors?limit=500"):
        body = (await small_sim.get(url, headers=headers)).json()
        assert len(body["hypervisors"]) == 15
        assert "limit=15" in body["hypervisors_links"][0]["href"]
    servers = (await small_sim.get(f"{API}/servers?all_tenants=1", headers=headers)).json()
    assert len(servers["servers"]) == 15
    assert servers["servers_links"][0]["rel"] == "next"


async def test_server_paging_in_nova_default_order(
    small_sim: httpx.AsyncClient, small_world: World, small_admin: dict[str, str]
) -> None:
    region = small_world.regions["RegionOne"]
    url = f"{API}/servers/detail?all_tenants=true&limit=60"
    pages = await follow(small_sim, url, at(small_admin, "2.53"), "servers")
    ids = [s["id"] for page in pages for s in page]
    live = sorted(
        (s for s in region.servers if not s.deleted),
        key=lambda s: (s.created_at, s.id),
        reverse=True,
    )
    assert ids == [s.id for s in live]
    assert len(ids) == len(set(ids)) == 400
    bad = await small_sim.get(f"{API}/servers?all_tenants=1&marker=nope", headers=small_admin)
    assert bad.status_code == 400


# -- os-services ------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "sample"),
    [
        ("2.1", "services-list-get-resp.json"),
        ("2.11", "v2.11/services-list-get-resp.json"),
        ("2.53", "v2.53/services-list-get-resp.json"),
        ("2.69", "v2.53/services-list-get-resp.json"),  # 2.69 differs for down cells only
    ],
)
async def test_service_list_shapes(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    version: str,
    sample: str,
) -> None:
    response = await sim.get(f"{API}/os-services", headers=at(admin_headers, version))
    body = response.json()
    assert_same_shape(body, load_sample(f"nova/os-services/{sample}"))
    region = region_one(world)
    assert len(body["services"]) == len(region.compute_services)
    want = [s.id if newer(version, "2.53") else s.int_id for s in region.compute_services]
    assert [s["id"] for s in body["services"]] == want


async def test_service_filters(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    computes = [s for s in region.compute_services if s.binary == "nova-compute"]
    body = (await sim.get(f"{API}/os-services?binary=nova-compute", headers=admin_headers)).json()
    assert [s["host"] for s in body["services"]] == [s.host for s in computes]
    host = "rone-ctl01"
    body = (await sim.get(f"{API}/os-services?host={host}", headers=admin_headers)).json()
    assert sorted(s["binary"] for s in body["services"]) == ["nova-conductor", "nova-scheduler"]
    assert {s["zone"] for s in body["services"]} == {"internal"}


V253 = "nova/os-services/v2.53"


async def test_service_disable_with_reason_is_seen_everywhere(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    hv = hv_with_servers(world)
    svc = hv.service
    headers = at(admin_headers, "2.53")
    request = load_sample(f"{V253}/service-disable-log-put-req.json")
    response = await sim.put(f"{API}/os-services/{svc.id}", headers=headers, json=request)
    assert response.status_code == 200
    assert_same_shape(response.json(), load_sample(f"{V253}/service-disable-log-put-resp.json"))
    assert response.json()["service"]["disabled_reason"] == "maintenance"
    listed = (await sim.get(f"{API}/os-services?host={hv.hostname}", headers=headers)).json()
    assert listed["services"][0]["status"] == "disabled"
    assert listed["services"][0]["disabled_reason"] == "maintenance"
    shown = (await sim.get(f"{API}/os-hypervisors/{hv.id}", headers=headers)).json()
    assert shown["hypervisor"]["status"] == "disabled"
    assert shown["hypervisor"]["service"]["disabled_reason"] == "maintenance"
    server = live_on(region, hv.hostname)[0]
    detail = (await sim.get(f"{API}/servers/{server.id}", headers=headers)).json()
    assert detail["server"]["host_status"] == "MAINTENANCE"

    enable = load_sample(f"{V253}/service-enable-put-req.json")
    response = await sim.put(f"{API}/os-services/{svc.id}", headers=headers, json=enable)
    assert_same_shape(response.json(), load_sample(f"{V253}/service-enable-put-resp.json"))
    assert (svc.disabled, svc.disabled_reason) == (False, None)
    disable = load_sample(f"{V253}/service-disable-put-req.json")
    response = await sim.put(f"{API}/os-services/{svc.id}", headers=headers, json=disable)
    assert_same_shape(response.json(), load_sample(f"{V253}/service-disable-put-resp.json"))
    assert response.json()["service"]["disabled_reason"] is None


async def test_service_force_down_2_53(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    hv = hv_with_servers(world)
    headers = at(admin_headers, "2.53")
    request = load_sample(f"{V253}/service-force-down-put-req.json")
    response = await sim.put(f"{API}/os-services/{hv.service.id}", headers=headers, json=request)
    assert_same_shape(response.json(), load_sample(f"{V253}/service-force-down-put-resp.json"))
    assert response.json()["service"]["state"] == "down"
    shown = (await sim.get(f"{API}/os-hypervisors/{hv.id}", headers=headers)).json()
    assert shown["hypervisor"]["state"] == "down"
    server = live_on(region_one(world), hv.hostname)[0]
    detail = (await sim.get(f"{API}/servers/{server.id}", headers=headers)).json()
    assert detail["server"]["host_status"] == "DOWN"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"disabled_reason": "why"}, 400),
        ({"status": "enabled", "disabled_reason": "why"}, 400),
        ({}, 400),
        ({"status": "off"}, 400),
        ({"status": "disabled", "colour": "red"}, 400),
        ({"forced_down": "maybe"}, 400),
    ],
)
async def test_service_update_validation(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], body: dict, status: int
) -> None:
    svc = hv_with_servers(world).service
    response = await sim.put(
        f"{API}/os-services/{svc.id}", headers=at(admin_headers, "2.53"), json=body
    )
    assert response.status_code == status
    assert not svc.disabled


async def test_service_update_targets(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    headers = at(admin_headers, "2.53")
    body = {"status": "disabled"}
    scheduler = next(s for s in region_one(world).compute_services if s.binary != "nova-compute")
    response = await sim.put(f"{API}/os-services/{scheduler.id}", headers=headers, json=body)
    assert response.status_code == 400
    unknown = f"{API}/os-services/00000000-0000-4000-8000-000000000000"
    assert (await sim.put(unknown, headers=headers, json=body)).status_code == 404
    legacy = await sim.put(f"{API}/os-services/disable", headers=headers, json=body)
    assert legacy.status_code == 400
    assert legacy.json()["badRequest"]["message"] == "Invalid uuid disable"


@pytest.mark.parametrize("version", ["2.1", "2.11"])
async def test_legacy_service_actions(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], version: str
) -> None:
    folder = "nova/os-services" + ("/v2.11" if version == "2.11" else "")
    hv = hv_with_servers(world)
    headers = at(admin_headers, version)
    target = {"host": hv.hostname, "binary": "nova-compute"}
    for action, name in [
        ("disable-log-reason", "service-disable-log"),
        ("enable", "service-enable"),
        ("disable", "service-disable"),
    ]:
        request = {**load_sample(f"{folder}/{name}-put-req.json"), **target}
        response = await sim.put(f"{API}/os-services/{action}", headers=headers, json=request)
        assert response.status_code == 200, response.text
        assert_same_shape(response.json(), load_sample(f"{folder}/{name}-put-resp.json"))
        if action == "disable-log-reason":
            listed = await sim.get(f"{API}/os-services?host={hv.hostname}", headers=headers)
            assert listed.json()["services"][0]["disabled_reason"] == "test2"
    assert hv.service.disabled and hv.service.disabled_reason is None
    force = {**target, "forced_down": True}
    response = await sim.put(f"{API}/os-services/force-down", headers=headers, json=force)
    if version == "2.1":
        assert response.status_code == 404
        return
    sample = load_sample(f"{folder}/service-force-down-put-resp.json")
    assert_same_shape(response.json(), sample)
    listed = (await sim.get(f"{API}/os-services?host={hv.hostname}", headers=headers)).json()
    assert listed["services"][0]["state"] == "down"
    assert listed["services"][0]["forced_down"] is True


async def test_legacy_service_errors(sim: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    missing = {"host": "rone-cmp00001", "binary": "nova-compute"}
    response = await sim.put(
        f"{API}/os-services/disable-log-reason", headers=admin_headers, json=missing
    )
    assert response.status_code == 400
    nowhere = {"host": "nowhere", "binary": "nova-compute"}
    response = await sim.put(f"{API}/os-services/disable", headers=admin_headers, json=nowhere)
    assert response.status_code == 404
    response = await sim.put(f"{API}/os-services/reboot", headers=admin_headers, json=missing)
    assert response.status_code == 404


# -- servers: shapes --------------------------------------------------------

ADMIN_VERSIONS = [
    ("2.1", ""),
    ("2.3", "v2.3/"),
    ("2.9", "v2.9/"),
    ("2.16", "v2.16/"),
    ("2.19", "v2.19/"),
    ("2.47", "v2.47/"),
    ("2.52", "v2.52/"),
    ("2.63", "v2.63/"),
    ("2.69", "v2.63/"),  # the 2.69 samples show a down cell, which the simulator has not
    ("2.73", "v2.73/"),
]
# The 2.90+ samples were made by a non-admin: no OS-EXT-SRV-ATTR:host, no host_status.
MEMBER_VERSIONS = [
    ("2.90", "v2.90/"),
    ("2.94", "v2.94/"),
    ("2.96", "v2.96/"),
    ("2.98", "v2.98/"),
    ("2.100", "v2.100/"),
]


@pytest.mark.parametrize(("version", "folder"), ADMIN_VERSIONS + MEMBER_VERSIONS)
async def test_server_detail_shapes(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    member_headers: dict[str, str],
    version: str,
    folder: str,
) -> None:
    as_member = (version, folder) in MEMBER_VERSIONS
    server = typical_server(world, member_project(world) if as_member else None)
    headers = at(member_headers if as_member else admin_headers, version)
    sample = load_sample(f"nova/servers/{folder}servers-details-resp.json")
    query = f"name=^{server.name}$" + ("" if as_member else "&all_tenants=1")
    if "servers_links" in sample:
        query += "&limit=1"  # a full page brings the next link the sample shows
    body = (await sim.get(f"{API}/servers/detail?{query}", headers=headers)).json()
    assert [s["id"] for s in body["servers"]] == [server.id]
    assert_same_shape(body, sample, free_form=FREE_FORM)
    shown = (await sim.get(f"{API}/servers/{server.id}", headers=headers)).json()["server"]
    expected = {*sample["servers"][0]} | ({"server_groups"} if newer(version, "2.71") else set())
    assert set(shown) == expected


LIST_VERSIONS = ["2.1", "2.3", "2.9", "2.16", "2.19", "2.47", "2.52", "2.90", "2.94", "2.96"]


@pytest.mark.parametrize("version", [*LIST_VERSIONS, "2.98", "2.100"])
async def test_server_list_shapes(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], version: str
) -> None:
    folder = "" if version == "2.1" else f"v{version}/"
    body = (
        await sim.get(f"{API}/servers?all_tenants=1&limit=2", headers=at(admin_headers, version))
    ).json()
    assert len(body["servers"]) == 2
    assert_same_shape(body, load_sample(f"nova/servers/{folder}servers-list-resp.json"))
    link = body["servers"][0]["links"][0]["href"]
    assert link == f"http://sim.test{API}/servers/{body['servers'][0]['id']}"


async def test_server_detail_content(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    server = typical_server(world)
    region = region_one(world)
    old = (await sim.get(f"{API}/servers/{server.id}", headers=admin_headers)).json()["server"]
    assert old["flavor"]["id"] == nova.FLAVOR_IDS[server.flavor.name]
    assert old["flavor"]["links"][0]["href"].endswith(
        f"/RegionOne/compute/flavors/{old['flavor']['id']}"
    )
    assert old["OS-EXT-SRV-ATTR:host"] == server.host
    assert old["OS-EXT-SRV-ATTR:hypervisor_hostname"] == server.node
    assert old["addresses"][server.network_name][0] == {
        "OS-EXT-IPS-MAC:mac_addr": server.mac,
        "OS-EXT-IPS:type": "fixed",
        "addr": server.ip,
        "version": 4,
    }
    assert old["hostId"] == nova.host_id(server.project_id, server.host)
    assert old["tenant_id"] == server.project_id
    new = await sim.get(f"{API}/servers/{server.id}", headers=at(admin_headers, "2.47"))
    flavor = new.json()["server"]["flavor"]
    assert (flavor["vcpus"], flavor["ram"], flavor["disk"]) == (
        server.flavor.vcpus,
        server.flavor.ram,
        server.flavor.disk,
    )
    assert flavor["original_name"] == server.flavor.name
    assert region.servers.get(server.id) is server


async def test_floating_ip_shows_in_addresses(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    fip = next(f for f in region.floating_ips if f.port_id)
    port = region.ports.get(fip.port_id)
    assert port is not None
    server = region.servers.get(port.device_id)
    assert server is not None and server.host
    body = (await sim.get(f"{API}/servers/{server.id}", headers=admin_headers)).json()
    entries = body["server"]["addresses"][server.network_name]
    assert [(e["addr"], e["OS-EXT-IPS:type"]) for e in entries] == [
        (server.ip, "fixed"),
        (fip.floating_ip, "floating"),
    ]


async def test_error_server_has_a_fault(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    member_headers: dict[str, str],
) -> None:
    server = next(s for s in region_one(world).servers if s.status == "ERROR" and s.host is None)
    admin = (await sim.get(f"{API}/servers/{server.id}", headers=admin_headers)).json()["server"]
    assert admin["fault"]["message"] == nova.NO_VALID_HOST
    assert admin["addresses"] == {}
    assert "details" in admin["fault"]
    assert "progress" not in admin
    if server.project_id == member_project(world):
        mine = (await sim.get(f"{API}/servers/{server.id}", headers=member_headers)).json()
        assert "details" not in mine["server"]["fault"]


async def test_admin_only_fields_hidden_from_members(
    sim: httpx.AsyncClient, world: World, member_headers: dict[str, str]
) -> None:
    server = typical_server(world, member_project(world))
    body = (await sim.get(f"{API}/servers/{server.id}", headers=at(member_headers, "2.89"))).json()
    assert not [k for k in body["server"] if k.startswith("OS-EXT-SRV-ATTR")]
    assert "host_status" not in body["server"]
    body = (await sim.get(f"{API}/servers/{server.id}", headers=at(member_headers, "2.90"))).json()
    assert [k for k in body["server"] if k.startswith("OS-EXT-SRV-ATTR")] == [
        "OS-EXT-SRV-ATTR:hostname"
    ]


# -- servers: filters -------------------------------------------------------


async def server_ids(client: httpx.AsyncClient, query: str, headers: dict) -> list[str]:
    response = await client.get(f"{API}/servers?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["servers"]]


def live(region: Region, **where: object) -> set[str]:
    return {
        s.id
        for s in region.servers
        if not s.deleted and all(getattr(s, k) == v for k, v in where.items())
    }


async def test_project_scoping_and_all_tenants(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    member_headers: dict[str, str],
) -> None:
    region = region_one(world)
    mine = member_project(world)
    assert set(await server_ids(sim, "", member_headers)) == live(region, project_id=mine)
    # project_id is only honoured together with all_tenants
    other = next(s.project_id for s in region.servers if s.project_id != mine)
    ids = await server_ids(sim, f"project_id={other}", member_headers)
    assert set(ids) == live(region, project_id=mine)
    forbidden = await sim.get(f"{API}/servers?all_tenants=1", headers=member_headers)
    assert forbidden.status_code == 403
    assert await server_ids(sim, "", admin_headers) == []  # the admin project owns nothing
    assert set(await server_ids(sim, "all_tenants", admin_headers)) == live(region)
    assert set(await server_ids(sim, f"all_tenants=1&project_id={other}", admin_headers)) == live(
        region, project_id=other
    )
    assert set(await server_ids(sim, f"all_tenants=1&tenant_id={other}", admin_headers)) == live(
        region, project_id=other
    )


async def test_host_node_and_name_filters(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    member_headers: dict[str, str],
) -> None:
    region = region_one(world)
    hv = hv_with_servers(world)
    ids = await server_ids(sim, f"all_tenants=1&host={hv.hostname}", admin_headers)
    assert set(ids) == live(region, host=hv.hostname)
    ids = await server_ids(sim, f"all_tenants=1&node={hv.hostname}", admin_headers)
    assert set(ids) == live(region, node=hv.hostname)
    # a member's host filter is dropped, not applied
    mine = live(region, project_id=member_project(world))
    assert set(await server_ids(sim, f"host={hv.hostname}", member_headers)) == mine
    ids = await server_ids(sim, "all_tenants=1&name=-WORKER-", admin_headers)
    assert set(ids) == {s.id for s in region.servers if "-worker-" in s.name}


async def test_status_filter(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    ids = await server_ids(sim, "all_tenants=1&status=ACTIVE", admin_headers)
    # Nova filters on vm_state: ACTIVE includes active servers busy with a task
    assert set(ids) == live(region, vm_state="active")
    ids = await server_ids(sim, "all_tenants=1&status=shutoff&status=BUILD", admin_headers)
    assert set(ids) == live(region, status="SHUTOFF") | live(region, status="BUILD")
    assert await server_ids(sim, "all_tenants=1&status=BOGUS", admin_headers) == []
    strict = await sim.get(
        f"{API}/servers?all_tenants=1&status=BOGUS", headers=at(admin_headers, "2.38")
    )
    assert strict.status_code == 400


async def test_changes_since_includes_deleted_servers(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    member_headers: dict[str, str],
) -> None:
    region = region_one(world)
    server = typical_server(world, member_project(world))
    before = world.clock.step(30)
    world.clock.step(5)
    region.delete_server(server, world.now())
    assert server.id not in await server_ids(sim, "all_tenants=1", admin_headers)
    since = iso(before, zulu=True)
    url = f"{API}/servers/detail?all_tenants=1&changes-since={since}"
    body = (await sim.get(url, headers=admin_headers)).json()
    assert [(s["id"], s["status"]) for s in body["servers"]] == [(server.id, "DELETED")]
    assert body["servers"][0]["OS-SRV-USG:terminated_at"] == iso(server.deleted_at, micro=True)
    mine = await sim.get(f"{API}/servers?changes-since={since}", headers=member_headers)
    assert [s["id"] for s in mine.json()["servers"]] == [server.id]
    deleted = await server_ids(sim, "all_tenants=1&deleted=true", admin_headers)
    assert deleted == [server.id]
    assert set(await server_ids(sim, "all_tenants=1&status=DELETED", admin_headers)) == {server.id}
    forbidden = await sim.get(f"{API}/servers?status=DELETED", headers=member_headers)
    assert forbidden.status_code == 403
    gone = await sim.get(f"{API}/servers/{server.id}", headers=admin_headers)
    assert gone.status_code == 404
    bad = await sim.get(f"{API}/servers?changes-since=yesterday", headers=admin_headers)
    assert bad.status_code == 400


# -- servers: actions -------------------------------------------------------


async def act(
    client: httpx.AsyncClient, server_id: str, body: dict, headers: dict
) -> httpx.Response:
    return await client.post(f"{API}/servers/{server_id}/action", headers=headers, json=body)


async def test_lock_with_reason_reads_back_at_2_73(
    sim: httpx.AsyncClient, world: World, member_headers: dict[str, str]
) -> None:
    server = typical_server(world, member_project(world))
    headers = at(member_headers, "2.73")
    too_early = await act(
        sim, server.id, {"lock": {"locked_reason": "maintenance"}}, at(member_headers, "2.72")
    )
    assert too_early.status_code == 400
    response = await act(sim, server.id, {"lock": {"locked_reason": "maintenance"}}, headers)
    assert response.status_code == 202
    assert response.content == b""
    shown = (await sim.get(f"{API}/servers/{server.id}", headers=headers)).json()["server"]
    assert (shown["locked"], shown["locked_reason"]) == (True, "maintenance")
    older = await sim.get(f"{API}/servers/{server.id}", headers=at(member_headers, "2.72"))
    assert older.json()["server"]["locked"] is True
    assert "locked_reason" not in older.json()["server"]
    locked = await server_ids(sim, "locked=true", headers)
    assert locked == [server.id]
    assert (await act(sim, server.id, {"unlock": None}, headers)).status_code == 202
    shown = (await sim.get(f"{API}/servers/{server.id}", headers=headers)).json()["server"]
    assert (shown["locked"], shown["locked_reason"]) == (False, None)


async def test_pause_unpause_transitions(
    sim: httpx.AsyncClient, world: World, member_headers: dict[str, str]
) -> None:
    server = typical_server(world, member_project(world))
    start = world.clock.step(10)
    assert (await act(sim, server.id, {"pause": None}, member_headers)).status_code == 202
    shown = (await sim.get(f"{API}/servers/{server.id}", headers=member_headers)).json()["server"]
    assert (shown["status"], shown["OS-EXT-STS:vm_state"], shown["OS-EXT-STS:power_state"]) == (
        "PAUSED",
        "paused",
        3,
    )
    assert server.updated_at >= start
    since = await server_ids(sim, f"changes-since={iso(start)}", member_headers)
    assert since == [server.id]
    again = await act(sim, server.id, {"pause": None}, member_headers)
    assert again.status_code == 409
    assert again.json()["conflictingRequest"]["message"] == (
        f"Cannot 'pause' instance {server.id} while it is in vm_state paused"
    )
    assert (await act(sim, server.id, {"unpause": None}, member_headers)).status_code == 202
    assert (server.status, server.power_state) == ("ACTIVE", 1)
    assert (await act(sim, server.id, {"unpause": None}, member_headers)).status_code == 409


async def test_suspend_resume_transitions(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    region = region_one(world)
    server = typical_server(world)
    assert (await act(sim, server.id, {"resume": None}, admin_headers)).status_code == 409
    assert (await act(sim, server.id, {"suspend": None}, admin_headers)).status_code == 202
    assert (server.status, server.vm_state, server.power_state) == ("SUSPENDED", "suspended", 7)
    assert (await act(sim, server.id, {"pause": None}, admin_headers)).status_code == 409
    assert (await act(sim, server.id, {"resume": None}, admin_headers)).status_code == 202
    assert server.status == "ACTIVE"
    shutoff = next(s for s in region.servers if s.status == "SHUTOFF")
    refused = await act(sim, shutoff.id, {"suspend": None}, admin_headers)
    assert refused.status_code == 409
    assert "vm_state stopped" in refused.json()["conflictingRequest"]["message"]
    building = next(s for s in region.servers if s.status == "BUILD")
    refused = await act(sim, building.id, {"pause": None}, admin_headers)
    assert "vm_state building" in refused.json()["conflictingRequest"]["message"]


async def test_locked_server_refuses_members_but_not_admins(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    member_headers: dict[str, str],
) -> None:
    server = typical_server(world, member_project(world))
    assert (await act(sim, server.id, {"lock": None}, admin_headers)).status_code == 202
    refused = await act(sim, server.id, {"pause": None}, member_headers)
    assert refused.status_code == 409
    assert refused.json()["conflictingRequest"]["message"] == f"Instance {server.id} is locked"
    assert server.status == "ACTIVE"
    # the admin's lock cannot be undone by the owner (unlock_override is admin-only)
    assert (await act(sim, server.id, {"unlock": None}, member_headers)).status_code == 403
    assert (await act(sim, server.id, {"pause": None}, admin_headers)).status_code == 202
    assert server.status == "PAUSED"
    assert (await act(sim, server.id, {"unlock": None}, admin_headers)).status_code == 202
    assert (await act(sim, server.id, {"unpause": None}, member_headers)).status_code == 202


async def test_action_errors(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    member_headers: dict[str, str],
) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    response = await act(sim, missing, {"pause": None}, admin_headers)
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["message"] == f"Instance {missing} could not be found."
    theirs = typical_server(world, not_project=member_project(world))
    assert (await act(sim, theirs.id, {"pause": None}, member_headers)).status_code == 404
    assert (await sim.get(f"{API}/servers/{theirs.id}", headers=member_headers)).status_code == 404
    unknown = await act(sim, theirs.id, {"explode": None}, admin_headers)
    assert unknown.status_code == 400
    assert (await act(sim, theirs.id, {"pause": {"now": 1}}, admin_headers)).status_code == 400
    two = await act(sim, theirs.id, {"pause": None, "lock": None}, admin_headers)
    assert two.status_code == 400
    assert theirs.status == "ACTIVE" and not theirs.locked


async def test_detail_hangs_then_fails_while_a_compute_host_is_dying(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    """Seen on a real Nova 34: detail asks every host for its uptime at 2.88+."""
    region = world.regions["RegionOne"]
    region.faults.update(hang_seconds=0.05)
    service = next(s for s in region.compute_services if s.binary == "nova-compute")
    service.stopped_at = world.now()
    headers = {**admin_headers, "OpenStack-API-Version": "compute 2.88"}
    base = "/RegionOne/compute/v2.1/os-hypervisors"
    dying = await sim.get(f"{base}/detail", headers=headers)
    assert dying.status_code == 500 and service.host in dying.text
    assert (await sim.get(base, headers=headers)).status_code == 200  # the list call is fine
    old = {**admin_headers, "OpenStack-API-Version": "compute 2.87"}
    assert (await sim.get(f"{base}/detail", headers=old)).status_code == 200
    world.clock.step(61)  # now marked down: detail answers again
    assert (await sim.get(f"{base}/detail", headers=headers)).status_code == 200
