"""Fault injection through `/_sim/faults`: errors, latency, hangs and cut-short bodies.

Each fault is switched on through the control API, the way a test or the demo does,
and checked per region: a fault in one region must not touch another.
"""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from osconsole.sim.generate import ADMIN_PASSWORD
from osconsole.sim.world import World


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
