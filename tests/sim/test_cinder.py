"""The simulated Cinder API: version documents and os-services, against the API
reference samples and the world's volume services."""

from __future__ import annotations

import httpx
import pytest

from osconsole.sim.clock import iso
from osconsole.sim.world import Region, VolumeService, World
from tests.sim.shapes import assert_same_shape, load_sample

ROOT = "/RegionOne/volume"
SAMPLES = "cinder/os-services"


def _v(version: str) -> dict[str, str]:
    return {"OpenStack-API-Version": f"volume {version}"}


def _region(world: World) -> Region:
    return world.regions["RegionOne"]


def _services_url(world: World) -> str:
    return f"{ROOT}/v3/{world.admin_project_id}/os-services"


def _volume_service(world: World) -> VolumeService:
    return next(s for s in _region(world).volume_services if s.binary == "cinder-volume")


def _sample_row(binary: str) -> dict:
    """The sample's row for a binary: cinder-volume rows carry the backend fields."""
    rows = load_sample(f"{SAMPLES}/v3.49/services-list-response.json")["services"]
    wanted = "cinder-volume" if binary == "cinder-volume" else "cinder-scheduler"
    return next(r for r in rows if r["binary"] == wanted)


# -- version documents ---------------------------------------------------------------


async def test_root_lists_v3_with_300_and_no_token(sim: httpx.AsyncClient) -> None:
    response = await sim.get(f"{ROOT}/")
    assert response.status_code == 300
    (version,) = response.json()["versions"]
    assert version["id"] == "v3.0"
    assert version["status"] == "CURRENT"
    assert (version["min_version"], version["version"]) == ("3.0", "3.71")
    links = {link["rel"]: link["href"] for link in version["links"]}
    assert links["self"] == "http://sim.test/RegionOne/volume/v3/"
    assert version["media-types"][0]["type"] == "application/vnd.openstack.volume+json;version=3"


async def test_v3_document_needs_a_token(
    sim: httpx.AsyncClient, member_headers: dict[str, str]
) -> None:
    assert (await sim.get(f"{ROOT}/v3/")).status_code == 401
    response = await sim.get(f"{ROOT}/v3/", headers=member_headers)
    assert response.status_code == 200
    assert response.json() == (await sim.get(f"{ROOT}/")).json()
    assert response.headers["OpenStack-API-Version"] == "volume 3.0"


# -- os-services list ----------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.49", "latest"])
async def test_list_at_3_49_matches_sample_row_by_row(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], version: str
) -> None:
    response = await sim.get(_services_url(world), headers={**admin_headers, **_v(version)})
    assert response.status_code == 200
    rows = response.json()["services"]
    assert_same_shape(response.json(), load_sample(f"{SAMPLES}/v3.49/services-list-response.json"))
    for row in rows:
        assert_same_shape(row, _sample_row(row["binary"]))
        assert set(row) == set(_sample_row(row["binary"]))
    expected = {"3.49": "volume 3.49", "latest": "volume 3.71"}[version]
    assert response.headers["OpenStack-API-Version"] == expected
    assert response.headers["Vary"] == "OpenStack-API-Version"


async def test_list_matches_the_world(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    now = world.now()
    response = await sim.get(_services_url(world), headers={**admin_headers, **_v("3.49")})
    rows = response.json()["services"]
    services = _region(world).volume_services
    assert [(r["binary"], r["host"]) for r in rows] == [(s.binary, s.host) for s in services]
    for row, svc in zip(rows, services, strict=True):
        assert row["zone"] == svc.zone
        assert row["cluster"] == svc.cluster
        assert row["state"] == "up"
        assert row["status"] == "enabled"
        assert row["updated_at"] == iso(svc.heartbeat(now), micro=True)
        assert not row["updated_at"].endswith("Z")
        if svc.binary == "cinder-volume":
            assert row["backend_state"] == "up"
            assert row["frozen"] is False


async def test_below_3_49_no_backend_state_and_below_3_7_no_cluster(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    sample = _sample_row("cinder-volume")
    rows = (await sim.get(_services_url(world), headers={**admin_headers, **_v("3.48")})).json()[
        "services"
    ]
    volume = next(r for r in rows if r["binary"] == "cinder-volume")
    assert set(volume) == set(sample) - {"backend_state"}
    rows = (await sim.get(_services_url(world), headers=admin_headers)).json()["services"]
    volume = next(r for r in rows if r["binary"] == "cinder-volume")
    assert set(volume) == set(sample) - {"backend_state", "cluster"}
    scheduler = next(r for r in rows if r["binary"] == "cinder-scheduler")
    assert set(scheduler) == set(_sample_row("cinder-scheduler")) - {"cluster"}


async def test_filters_host_and_binary(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    svc = _volume_service(world)
    bare_host = svc.host.split("@")[0]
    url = _services_url(world)
    rows = (await sim.get(f"{url}?host={bare_host}", headers=admin_headers)).json()["services"]
    # A bare host matches its backends (host@backend), as Cinder's host filter does.
    expected = [
        (s.binary, s.host)
        for s in _region(world).volume_services
        if s.host == bare_host or s.host.startswith(bare_host + "@")
    ]
    assert [(r["binary"], r["host"]) for r in rows] == expected
    assert len(expected) >= 2
    rows = (await sim.get(f"{url}?host={svc.host}", headers=admin_headers)).json()["services"]
    assert [(r["binary"], r["host"]) for r in rows] == [("cinder-volume", svc.host)]
    rows = (await sim.get(f"{url}?binary=cinder-scheduler", headers=admin_headers)).json()[
        "services"
    ]
    count = sum(1 for s in _region(world).volume_services if s.binary == "cinder-scheduler")
    assert len(rows) == count and {r["binary"] for r in rows} == {"cinder-scheduler"}


async def test_project_less_url_serves_the_same_list(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    with_project = await sim.get(_services_url(world), headers=admin_headers)
    without = await sim.get(f"{ROOT}/v3/os-services", headers=admin_headers)
    assert without.status_code == 200
    assert without.json() == with_project.json()


async def test_another_project_in_the_url_is_400(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await sim.get(f"{ROOT}/v3/someone-else/os-services", headers=admin_headers)
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == "Malformed request url"


async def test_auth_policy_and_version_errors(
    sim: httpx.AsyncClient, world: World, member_headers: dict[str, str], admin_headers: dict
) -> None:
    url = f"{ROOT}/v3/os-services"
    assert (await sim.get(url)).status_code == 401
    forbidden = await sim.get(url, headers=member_headers)
    assert forbidden.status_code == 403
    assert "volume_extension:services:index" in forbidden.json()["forbidden"]["message"]
    assert forbidden.headers["OpenStack-API-Version"] == "volume 3.0"
    too_new = await sim.get(url, headers={**admin_headers, **_v("3.72")})
    assert too_new.status_code == 406
    put = await sim.put(
        f"{url}/disable", headers=member_headers, json={"host": "h", "binary": "cinder-volume"}
    )
    assert put.status_code == 403


async def test_state_goes_down_60s_after_the_volume_service_stops(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    svc = _volume_service(world)
    url = f"{_services_url(world)}?host={svc.host}&binary=cinder-volume"
    headers = {**admin_headers, **_v("3.49")}
    stopped = world.now()
    svc.stopped_at = stopped
    world.clock.step(30)
    (row,) = (await sim.get(url, headers=headers)).json()["services"]
    assert (row["state"], row["backend_state"]) == ("up", "up")
    world.clock.step(31)
    (row,) = (await sim.get(url, headers=headers)).json()["services"]
    assert row["state"] == "down"
    assert row["backend_state"] is None
    assert row["updated_at"] == iso(stopped, micro=True)
    others = (await sim.get(_services_url(world), headers=headers)).json()["services"]
    assert all(r["state"] == "up" for r in others if r["host"] != svc.host)


# -- enable / disable ----------------------------------------------------------------


async def test_disable_with_reason_matches_sample_and_shows_in_list(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    svc = _volume_service(world)
    request = {"host": svc.host, "binary": "cinder-volume", "disabled_reason": "disk swap"}
    response = await sim.put(
        f"{_services_url(world)}/disable-log-reason", headers=admin_headers, json=request
    )
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample(f"{SAMPLES}/service-disable-log-reason-response.json"))
    assert body == {
        "disabled_reason": "disk swap",
        "disabled": True,
        "host": svc.host,
        "service": "",
        "binary": "cinder-volume",
        "status": "disabled",
    }
    assert svc.disabled and svc.disabled_reason == "disk swap"
    url = f"{_services_url(world)}?host={svc.host}&binary=cinder-volume"
    (row,) = (await sim.get(url, headers=admin_headers)).json()["services"]
    assert (row["status"], row["disabled_reason"]) == ("disabled", "disk swap")


async def test_disable_then_enable_match_samples(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    svc = next(s for s in _region(world).volume_services if s.binary == "cinder-scheduler")
    request = {"host": svc.host, "binary": svc.binary}
    disabled = await sim.put(f"{ROOT}/v3/os-services/disable", headers=admin_headers, json=request)
    assert_same_shape(disabled.json(), load_sample(f"{SAMPLES}/service-disable-response.json"))
    assert disabled.json()["status"] == "disabled" and svc.disabled
    rows = (await sim.get(f"{ROOT}/v3/os-services?host={svc.host}", headers=admin_headers)).json()[
        "services"
    ]
    assert [r["status"] for r in rows if r["binary"] == svc.binary] == ["disabled"]
    enabled = await sim.put(f"{ROOT}/v3/os-services/enable", headers=admin_headers, json=request)
    assert_same_shape(enabled.json(), load_sample(f"{SAMPLES}/service-enable-response.json"))
    assert enabled.json() == {
        "disabled": False,
        "host": svc.host,
        "service": "",
        "binary": svc.binary,
        "status": "enabled",
    }
    assert not svc.disabled


async def test_enable_keeps_the_stored_reason_as_cinder_does(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    svc = _volume_service(world)
    request = {"host": svc.host, "binary": svc.binary}
    await sim.put(
        f"{ROOT}/v3/os-services/disable-log-reason",
        headers=admin_headers,
        json={**request, "disabled_reason": "maintenance"},
    )
    await sim.put(f"{ROOT}/v3/os-services/enable", headers=admin_headers, json=request)
    url = f"{ROOT}/v3/os-services?host={svc.host}&binary={svc.binary}"
    (row,) = (await sim.get(url, headers=admin_headers)).json()["services"]
    assert (row["status"], row["disabled_reason"]) == ("enabled", "maintenance")


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("disable", {"host": "no-such-host", "binary": "cinder-volume"}, 404),
        ("disable", {"binary": "cinder-volume"}, 400),
        ("disable", {"host": "h"}, 400),
        ("disable", {"host": "h", "binary": "cinder-volume", "color": "red"}, 400),
        (
            "disable-log-reason",
            {"host": "h", "binary": "cinder-volume", "disabled_reason": " "},
            400,
        ),
        ("reboot", {"host": "h", "binary": "cinder-volume"}, 400),
    ],
)
async def test_bad_updates(
    sim: httpx.AsyncClient, admin_headers: dict[str, str], action: str, body: dict, status: int
) -> None:
    response = await sim.put(f"{ROOT}/v3/os-services/{action}", headers=admin_headers, json=body)
    assert response.status_code == status
    key = "itemNotFound" if status == 404 else "badRequest"
    assert response.json()[key]["code"] == status
