"""Fault injection through `/_sim/faults`: errors, latency, hangs and cut-short bodies,
then what a proxy or a broken API does (Retry-After, HTML pages, bodies cut off
mid-stream, wrongly shaped JSON, refused connections, hangs until cleared), and
objects renamed with hostile text through `/_sim/rename`.

Each fault is switched on through the control API, the way a test or the demo does,
and checked per region and service: a fault in one must not touch another.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from osconsole.sim.generate import ADMIN_PASSWORD
from osconsole.sim.serve import SimServer
from osconsole.sim.world import Faults, RequestRecord, World


def agents_path(region: str) -> str:
    return f"/{region}/network/v2.0/agents"


async def set_faults(sim: httpx.AsyncClient, region: str, **faults: object) -> None:
    response = await sim.put(f"/_sim/faults/{region}", json=faults)
    assert response.status_code == 200, response.text


async def password_token(sim: httpx.AsyncClient) -> httpx.Response:
    user = {"name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}
    return await sim.post("/identity/v3/auth/tokens", json=body)


async def test_error_rate_breaks_one_region_only(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    await set_faults(sim, "RegionOne", error_rate=1.0)

    statuses = []
    for _ in range(5):
        broken = await sim.get(agents_path("RegionOne"), headers=admin_headers)
        assert broken.status_code in (500, 503)
        statuses.append(broken.status_code)
        error = broken.json()["NeutronError"]  # in the service's own error shape
        assert error["type"] in ("HTTPInternalServerError", "HTTPServiceUnavailable")
    compute = await sim.get("/RegionOne/compute/v2.1/servers", headers=admin_headers)
    assert compute.status_code in (500, 503)
    assert set(compute.json()) <= {"computeFault", "serviceUnavailable"}

    healthy = await sim.get(agents_path("RegionTwo"), headers=admin_headers)
    assert healthy.status_code == 200
    assert len(healthy.json()["agents"]) == len(world.regions["RegionTwo"].agents)

    logged = [(r.region, r.status) for r in world.requests if r.service == "network"]
    assert logged == [*(("RegionOne", s) for s in statuses), ("RegionTwo", 200)]

    assert (await sim.delete("/_sim/faults/RegionOne")).status_code == 200
    assert (await sim.get(agents_path("RegionOne"), headers=admin_headers)).status_code == 200


async def test_latency_delays_every_answer(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await set_faults(sim, "RegionTwo", latency_ms=50)
    started = time.perf_counter()
    response = await sim.get(agents_path("RegionTwo"), headers=admin_headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.05


async def test_unreachable_region_hangs_then_answers_504(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    await set_faults(sim, "RegionThree", unreachable=True, hang_seconds=0.2)
    started = time.perf_counter()
    response = await sim.get(agents_path("RegionThree"), headers=admin_headers)
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 504
    assert world.requests[-1].status == 504

    # A client whose timeout is shorter than the hang gives up first (socket-free check).
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.get(agents_path("RegionThree"), headers=admin_headers), 0.05)
    assert (world.requests[-1].region, world.requests[-1].status) == ("RegionThree", 499)

    assert (await sim.get(agents_path("RegionOne"), headers=admin_headers)).status_code == 200


async def test_timeout_rate_hangs_requests(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await set_faults(sim, "RegionOne", timeout_rate=1.0, hang_seconds=0.2)
    started = time.perf_counter()
    response = await sim.get("/RegionOne/compute/v2.1/servers", headers=admin_headers)
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 504


async def test_malformed_rate_cuts_json_bodies_short(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await set_faults(sim, "RegionTwo", malformed_rate=1.0)
    response = await sim.get(agents_path("RegionTwo"), headers=admin_headers)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert response.content.startswith(b'{"agents":[')
    intact = await sim.get(agents_path("RegionOne"), headers=admin_headers)
    assert intact.json()["agents"]

    await set_faults(sim, "identity", malformed_rate=1.0)
    version = await sim.get("/identity/v3")
    assert version.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(version.content)


async def test_identity_faults_hit_token_requests_only(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    await set_faults(sim, "identity", error_rate=1.0)
    refused = await password_token(sim)
    assert refused.status_code in (500, 503)
    assert refused.json()["error"]["code"] == refused.status_code
    assert "X-Subject-Token" not in refused.headers
    # Tokens already issued keep working in the regions.
    assert (await sim.get(agents_path("RegionOne"), headers=admin_headers)).status_code == 200

    await set_faults(sim, "identity", error_rate=0.0, unreachable=True, hang_seconds=0.2)
    started = time.perf_counter()
    hung = await password_token(sim)
    assert time.perf_counter() - started >= 0.2
    assert hung.status_code == 504

    assert (await sim.delete("/_sim/faults/identity")).status_code == 200
    issued = await password_token(sim)
    assert issued.status_code == 201
    assert issued.headers["X-Subject-Token"] in world.tokens


# -- what a proxy or a broken API does (sim/faults.py) ------------------------------------

COLLECTIONS = {  # one GET per service, and the key of the collection it answers
    "compute": ("/compute/v2.1/os-hypervisors", "hypervisors"),
    "network": ("/network/v2.0/agents", "agents"),
    "placement": ("/placement/resource_providers", "resource_providers"),
    "volume": ("/volume/v3/os-services", "services"),
}


def in_regions(world: World) -> list[RequestRecord]:
    """The logged requests to the regions' services (token requests aside)."""
    return [r for r in world.requests if r.region]


def collection_path(region: str, service: str) -> str:
    return f"/{region}{COLLECTIONS[service][0]}"


async def service_faults(
    sim: httpx.AsyncClient, region: str, service: str, **faults: object
) -> None:
    response = await sim.put(f"/_sim/faults/{region}/{service}", json=faults)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("service", list(COLLECTIONS))
async def test_status_fault_answers_with_retry_after_in_the_services_own_shape(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], service: str, status: int
) -> None:
    await service_faults(sim, "RegionOne", service, status=status, retry_after=29.5)
    answer = await sim.get(collection_path("RegionOne", service), headers=admin_headers)
    assert answer.status_code == status
    assert answer.headers["Retry-After"] == "30"  # whole seconds, rounded up
    body = answer.json()
    if service == "network":
        assert body["NeutronError"]["type"] in ("HTTPTooManyRequests", "HTTPServiceUnavailable")
    elif service == "placement":
        assert body["errors"][0]["status"] == status
    else:
        assert body == {
            ("overLimit" if status == 429 else "serviceUnavailable"): {
                "code": status,
                "message": "Too Many Requests" if status == 429 else "Service Unavailable",
            }
        }
    # Only that service of that region: the others answer.
    for other in COLLECTIONS:
        if other != service:
            path = collection_path("RegionOne", other)
            assert (await sim.get(path, headers=admin_headers)).status_code == 200, other
    path = collection_path("RegionTwo", service)
    assert (await sim.get(path, headers=admin_headers)).status_code == 200
    assert in_regions(world)[0].status == status  # logged as answered

    await set_faults(sim, "RegionOne", status=503)  # without retry_after: no header
    region_wide = await sim.get(collection_path("RegionOne", "network"), headers=admin_headers)
    assert region_wide.status_code == (status if service == "network" else 503)
    if service != "network":
        assert "Retry-After" not in region_wide.headers


async def test_deleting_a_regions_faults_clears_its_services_own_too(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    await service_faults(sim, "RegionTwo", "placement", html=True)
    await set_faults(sim, "RegionTwo", latency_ms=1)
    path = collection_path("RegionTwo", "placement")
    assert (await sim.get(path, headers=admin_headers)).status_code == 502
    reset = await sim.delete("/_sim/faults/RegionTwo")
    assert reset.status_code == 200
    assert reset.json()["RegionTwo/placement"]["html"] is False
    assert world.regions["RegionTwo"].faults.latency_ms == 0
    assert (await sim.get(path, headers=admin_headers)).status_code == 200

    await service_faults(sim, "RegionTwo", "placement", html=True)
    await set_faults(sim, "RegionTwo", error_rate=1.0)
    only = await sim.delete("/_sim/faults/RegionTwo/placement")
    assert list(only.json()) == ["RegionTwo/placement"]
    assert world.regions["RegionTwo"].faults.error_rate == 1.0


async def test_html_fault_answers_a_proxys_502_page(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await service_faults(sim, "RegionOne", "compute", html=True)
    answer = await sim.get(collection_path("RegionOne", "compute"), headers=admin_headers)
    assert answer.status_code == 502
    assert answer.headers["content-type"] == "text/html"
    assert answer.text.startswith("<html>") and "502 Bad Gateway" in answer.text
    assert int(answer.headers["content-length"]) == len(answer.content)
    with pytest.raises(json.JSONDecodeError):
        answer.json()


@pytest.mark.parametrize("service", list(COLLECTIONS))
async def test_truncate_cuts_a_successful_body_mid_stream(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], service: str
) -> None:
    path = collection_path("RegionOne", service)
    whole = await sim.get(path, headers=admin_headers)
    await service_faults(sim, "RegionOne", service, truncate=True)
    with pytest.raises(httpx.RemoteProtocolError) as cut:
        await sim.get(path, headers=admin_headers)
    half = len(whole.content) // 2
    assert str(cut.value) == (
        "peer closed connection without sending complete message body "
        f"(received {half} bytes, expected {len(whole.content)})"
    )
    assert world.requests[-1].status == 200  # the answer had begun
    # Errors are not successful bodies: they arrive whole.
    refused = await sim.get(path, headers={"X-Auth-Token": "not-a-token"})
    assert refused.status_code == 401 and refused.json()


async def test_in_process_a_cut_body_fails_as_it_is_read_after_the_answer_began(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    """As over a socket: the status and headers arrive, then the body stops short."""
    path = collection_path("RegionOne", "network")
    whole = await sim.get(path, headers=admin_headers)
    await service_faults(sim, "RegionOne", "network", truncate=True)
    request = sim.build_request("GET", path, headers=admin_headers)
    response = await sim.send(request, stream=True)
    try:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(len(whole.content))
        with pytest.raises(httpx.RemoteProtocolError, match="without sending complete"):
            await response.aread()
        assert response.num_bytes_downloaded == len(whole.content) // 2
    finally:
        await response.aclose()
    await service_faults(sim, "RegionOne", "network", truncate=False)
    assert (await sim.get(path, headers=admin_headers)).content == whole.content


@pytest.mark.parametrize("service", list(COLLECTIONS))
async def test_shape_faults_misshape_the_collection(
    sim: httpx.AsyncClient, admin_headers: dict[str, str], service: str
) -> None:
    path = collection_path("RegionThree", service)
    key = COLLECTIONS[service][1]
    items = (await sim.get(path, headers=admin_headers)).json()[key]
    assert items and all(("id" in i or "uuid" in i) for i in items if service != "volume")

    await service_faults(sim, "RegionThree", service, shape="null")
    answer = await sim.get(path, headers=admin_headers)
    assert answer.status_code == 200 and answer.json()[key] is None
    assert int(answer.headers["content-length"]) == len(answer.content)

    await service_faults(sim, "RegionThree", service, shape="dict")
    as_dict = (await sim.get(path, headers=admin_headers)).json()[key]
    assert as_dict == {str(i): item for i, item in enumerate(items)}

    await service_faults(sim, "RegionThree", service, shape="no_ids")
    bare = (await sim.get(path, headers=admin_headers)).json()[key]
    assert len(bare) == len(items)
    assert not any("id" in i or "uuid" in i for i in bare)
    assert [i.get("host") for i in bare] == [i.get("host") for i in items]

    denied = await sim.get(path, headers={"X-Auth-Token": "not-a-token"})
    assert denied.status_code == 401 and denied.json()  # errors keep their shape


async def test_shape_dict_turns_a_single_object_into_a_list(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    provider = world.regions["RegionOne"].hypervisors.ordered()[0].id
    path = f"/RegionOne/placement/resource_providers/{provider}/inventories"
    inventories = (await sim.get(path, headers=admin_headers)).json()["inventories"]
    await service_faults(sim, "RegionOne", "placement", shape="dict")
    assert (await sim.get(path, headers=admin_headers)).json()["inventories"] == list(
        inventories.values()
    )


async def test_refuse_is_a_connection_error_for_that_region_only(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    await set_faults(sim, "RegionTwo", refuse=True)
    for service in COLLECTIONS:
        with pytest.raises(httpx.ConnectError, match="Connection refused"):
            await sim.get(collection_path("RegionTwo", service), headers=admin_headers)
    assert {(r.region, r.status) for r in in_regions(world)} == {("RegionTwo", 499)}
    assert (await sim.get(agents_path("RegionOne"), headers=admin_headers)).status_code == 200
    assert (await password_token(sim)).status_code == 201


async def test_hang_holds_requests_until_the_fault_is_cleared(
    sim: httpx.AsyncClient, world: World
) -> None:
    await set_faults(sim, "identity", hang=True)
    pending = asyncio.ensure_future(password_token(sim))
    for _ in range(10):
        await asyncio.sleep(0.01)
    assert not pending.done()
    assert world.requests == []  # not answered, so not logged yet

    await set_faults(sim, "identity", hang=False)
    issued = await asyncio.wait_for(pending, timeout=5)
    assert issued.status_code == 201  # the body was read while waiting, and still used
    assert issued.headers["X-Subject-Token"] in world.tokens


async def test_hang_ends_when_the_client_gives_up(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    await service_faults(sim, "RegionOne", "network", hang=True)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sim.get(agents_path("RegionOne"), headers=admin_headers), 0.1)
    assert [(r.region, r.status) for r in in_regions(world)] == [("RegionOne", 499)]
    assert (await sim.get(agents_path("RegionTwo"), headers=admin_headers)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"status": 200},
        {"status": 99},
        {"status": 429.5},
        {"status": True},
        {"retry_after": -1},
        {"shape": "square"},
        {"shape": 1},
        {"html": "yes"},
        {"hang": 1},
    ],
)
async def test_new_faults_refuse_bad_values(
    sim: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    for target in ("RegionOne", "RegionOne/network"):
        response = await sim.put(f"/_sim/faults/{target}", json=body)
        assert response.status_code == 400, (target, body)
        assert isinstance(response.json()["error"], str)
    assert world.regions["RegionOne"].service_faults["network"] == Faults()


async def test_unknown_services_and_regions_are_named(sim: httpx.AsyncClient) -> None:
    response = await sim.put("/_sim/faults/RegionOne/dns", json={"html": True})
    assert response.status_code == 400
    assert response.json()["error"].startswith("unknown service 'dns'")
    response = await sim.put("/_sim/faults/RegionNine/network", json={"html": True})
    assert response.json()["error"].startswith("unknown region 'RegionNine'")
    assert (await sim.put("/_sim/faults/identity/network", json={})).status_code == 400


async def test_faults_over_a_socket_close_the_connection(world: World) -> None:
    """Over a real socket the connection itself is dropped, as a proxy would."""
    with SimServer(world) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            headers = {"X-Auth-Token": (await password_token(client)).headers["X-Subject-Token"]}
            path = collection_path("RegionOne", "network")
            whole = await client.get(path, headers=headers)
            assert whole.status_code == 200

            world.regions["RegionOne"].service_faults["network"].update(truncate=True)
            with pytest.raises(httpx.RemoteProtocolError) as cut:
                await client.get(path, headers=headers)
            expected = len(whole.content)
            assert f"(received {expected // 2} bytes, expected {expected})" in str(cut.value)

            world.regions["RegionOne"].service_faults["network"].update(truncate=False)
            world.regions["RegionOne"].faults.update(refuse=True)
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                await client.get(path, headers=headers)
            world.regions["RegionOne"].faults.update(refuse=False)
            assert (await client.get(path, headers=headers)).status_code == 200

            world.identity_faults.update(hang=True)
            with pytest.raises(httpx.ReadTimeout):
                await client.post("/identity/v3/auth/tokens", json={}, timeout=0.2)
            world.identity_faults.update(hang=False)
            assert (await password_token(client)).status_code == 201
    logged = [r.status for r in world.requests if r.path == path]
    assert logged == [200, 200, 499, 200]


# -- hostile text --------------------------------------------------------------------------

HOSTILE = "\x1b]0;TITLE\x07\x1b[2J\x1b[5;1Hweb[/]-router-1"


@pytest.mark.parametrize(
    ("kind", "listing", "key", "field"),
    [
        ("router", "/RegionOne/network/v2.0/routers", "routers", "name"),
        ("server", "/RegionOne/compute/v2.1/servers/detail?all_tenants=1", "servers", "name"),
        ("project", "/identity/v3/projects", "projects", "name"),
        ("host", "/RegionOne/compute/v2.1/os-services", "services", "disabled_reason"),
    ],
)
async def test_rename_gives_an_object_any_text(
    sim: httpx.AsyncClient,
    world: World,
    admin_headers: dict[str, str],
    kind: str,
    listing: str,
    key: str,
    field: str,
) -> None:
    body = {"kind": kind, "text": HOSTILE, "region": "RegionOne"}
    renamed = await sim.post("/_sim/rename", json=body)
    assert renamed.status_code == 200, renamed.text
    answer = renamed.json()
    assert (answer["kind"], answer["field"], answer["text"]) == (kind, field, HOSTILE)
    found = (await sim.get(listing, headers=admin_headers)).json()[key]
    if kind == "host":
        (row,) = [s for s in found if s["host"] == answer["id"] and s["binary"] == "nova-compute"]
        assert row["status"] == "disabled"
    else:
        (row,) = [item for item in found if item["id"] == answer["id"]]
    assert row[field] == HOSTILE  # sent as the API would: JSON-escaped, intact

    again = await sim.post("/_sim/rename", json={**body, "id": answer["id"], "text": "plain"})
    assert again.json()["id"] == answer["id"]


async def test_renaming_a_router_moves_its_revision_for_incremental_readers(
    sim: httpx.AsyncClient, world: World
) -> None:
    router = world.regions["RegionTwo"].routers.ordered()[-1]
    revision = router.revision
    world.clock.step(5)
    body = {"kind": "router", "region": "RegionTwo", "id": router.id, "text": "x"}
    assert (await sim.post("/_sim/rename", json=body)).status_code == 200
    assert (router.name, router.revision, router.updated_at) == ("x", revision + 1, world.now())


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"kind": "network", "text": "x", "region": "RegionOne"}, 400),
        ({"kind": "router", "text": 5, "region": "RegionOne"}, 400),
        ({"kind": "router", "text": "x"}, 400),
        ({"kind": "router", "text": "x", "region": "RegionNine"}, 400),
        ({"kind": "router", "text": "x", "region": "RegionOne", "id": "nope"}, 404),
        ({"kind": "project", "text": "x", "id": 7}, 400),
    ],
)
async def test_rename_refuses_what_it_cannot_do(
    sim: httpx.AsyncClient, body: dict[str, object], status: int
) -> None:
    response = await sim.post("/_sim/rename", json=body)
    assert response.status_code == status
    assert isinstance(response.json()["error"], str)
