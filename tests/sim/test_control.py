"""The `/_sim/` control API: state, request log, clock, faults, token TTL and scenarios."""

from __future__ import annotations

import httpx
import pytest

from osconsole.sim.app import create_app
from osconsole.sim.clock import iso
from osconsole.sim.generate import ADMIN_PASSWORD
from osconsole.sim.scenarios import SCENARIOS, runner
from osconsole.sim.world import L3_AGENT, SERVICES, World
from tests.conftest import T0

AGENTS = "/RegionTwo/network/v2.0/agents"


async def token_for(sim: httpx.AsyncClient) -> httpx.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": "admin",
                        "domain": {"id": "default"},
                        "password": ADMIN_PASSWORD,
                    }
                },
            }
        }
    }
    return await sim.post("/identity/v3/auth/tokens", json=body)


# -- state ---------------------------------------------------------------------------------


async def test_state_counts_every_region(sim: httpx.AsyncClient, world: World) -> None:
    response = await sim.get("/_sim/state")
    assert response.status_code == 200
    body = response.json()
    assert body["now"] == T0
    assert body["now_iso"] == iso(T0, zulu=True, micro=True)
    assert body["now_iso"].endswith(".000000Z")
    assert body["token_ttl"] == 3600
    assert body["scenarios"] == []
    assert list(body["regions"]) == list(world.regions)
    for name, region in world.regions.items():
        assert body["regions"][name] == {
            "hypervisors": len(region.hypervisors),
            "routers": len(region.routers),
            "servers": len(region.servers),
            "servers_deleted": 0,
            "ports": len(region.ports),
            "floating_ips": len(region.floating_ips),
            "security_group_rules": len(region.security_group_rules),
            "agents": len(region.agents),
            "agents_dead": 0,
        }
    assert body["projects"] == len(world.projects)
    assert body["regions"]["RegionOne"]["hypervisors"] == 6


# -- the request log -----------------------------------------------------------------------


async def test_request_log_records_earlier_calls(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    version = await sim.get("/identity/v3")
    agents = await sim.get(AGENTS, headers=admin_headers)
    missing = await sim.get("/RegionOne/compute/v2.1/no-such-thing", headers=admin_headers)
    assert agents.status_code == 200

    body = (await sim.get("/_sim/requests", params={"since": 0})).json()
    seen = [
        (r["method"], r["path"], r["region"], r["service"], r["status"]) for r in body["requests"]
    ]
    assert seen == [
        ("POST", "/identity/v3/auth/tokens", None, "identity", 201),
        ("GET", "/identity/v3", None, "identity", version.status_code),
        ("GET", AGENTS, "RegionTwo", "network", 200),
        (
            "GET",
            "/RegionOne/compute/v2.1/no-such-thing",
            "RegionOne",
            "compute",
            missing.status_code,
        ),
    ]
    assert [r["seq"] for r in body["requests"]] == [1, 2, 3, 4]
    assert body["last_seq"] == 4 and body["truncated"] is False
    assert all(r["time"] == T0 for r in body["requests"])

    since = (await sim.get("/_sim/requests", params={"since": 2})).json()
    assert [r["seq"] for r in since["requests"]] == [3, 4]
    by_region = (await sim.get("/_sim/requests", params={"region": "RegionTwo"})).json()
    assert [r["path"] for r in by_region["requests"]] == [AGENTS]
    by_service = (await sim.get("/_sim/requests", params={"service": "identity"})).json()
    assert [r["seq"] for r in by_service["requests"]] == [1, 2]
    page = (await sim.get("/_sim/requests", params={"since": 0, "limit": 3})).json()
    assert [r["seq"] for r in page["requests"]] == [1, 2, 3]
    assert page["truncated"] is True and page["last_seq"] == 3


async def test_request_log_clear_keeps_counting(sim: httpx.AsyncClient, world: World) -> None:
    await sim.get("/identity/v3")
    await sim.get("/identity/v3")
    cleared = await sim.post("/_sim/requests/clear")
    assert cleared.json() == {"cleared": 2, "last_seq": 2}
    assert world.requests == []
    await sim.get("/identity/v3")
    body = (await sim.get("/_sim/requests")).json()
    assert [r["seq"] for r in body["requests"]] == [3]
    assert (await sim.get("/_sim/requests", params={"since": "x"})).status_code == 400


# -- clock and token TTL ---------------------------------------------------------------


async def test_clock_step_moves_time_and_runs_scenarios(
    sim: httpx.AsyncClient, world: World
) -> None:
    response = await sim.post("/_sim/clock/step", json={"seconds": 30})
    assert response.status_code == 200
    assert response.json()["now"] == T0 + 30 == world.now()
    assert response.json()["events"] == []
    await sim.post("/_sim/scenarios/l3-agent-dies", json={"region": "RegionOne"})
    stepped = (await sim.post("/_sim/clock/step", json={"seconds": 10})).json()
    assert [e["time"] for e in stepped["events"]] == [T0 + 40] * len(stepped["events"])
    assert stepped["events"][0]["description"].startswith("keepalived took over")
    for bad in ({"seconds": -1}, {"seconds": "10"}, {"seconds": True}, {}):
        answer = await sim.post("/_sim/clock/step", json=bad)
        assert answer.status_code == 400
        assert isinstance(answer.json()["error"], str)
    assert world.now() == T0 + 40


async def test_token_ttl_applies_to_new_tokens(sim: httpx.AsyncClient, world: World) -> None:
    response = await sim.put("/_sim/token_ttl", json={"seconds": 60})
    assert response.status_code == 200 and response.json() == {"token_ttl": 60}
    issued = await token_for(sim)
    token = world.tokens[issued.headers["X-Subject-Token"]]
    assert token.expires_at - token.issued_at == 60
    headers = {"X-Auth-Token": token.id}
    assert (await sim.get(AGENTS, headers=headers)).status_code == 200
    await sim.post("/_sim/clock/step", json={"seconds": 61})
    assert (await sim.get(AGENTS, headers=headers)).status_code == 401
    for bad in (0, -5, "60"):
        assert (await sim.put("/_sim/token_ttl", json={"seconds": bad})).status_code == 400
    assert world.token_ttl == 60


# -- faults ---------------------------------------------------------------------------


async def test_faults_listing_update_and_reset(sim: httpx.AsyncClient, world: World) -> None:
    world.regions["RegionTwo"].faults.latency_ms = 15.0  # as build_world(latency=True) does
    listing = (await sim.get("/_sim/faults")).json()
    services = [f"{r}/{s}" for r in world.regions for s in SERVICES]
    assert list(listing) == ["identity", *world.regions, *services]
    assert listing["RegionTwo"]["latency_ms"] == 15.0
    assert listing["identity"] == {
        "latency_ms": 0.0,
        "jitter_ms": 0.0,
        "error_rate": 0.0,
        "timeout_rate": 0.0,
        "malformed_rate": 0.0,
        "unreachable": False,
        "hang_seconds": 120.0,
        "status": 0,
        "retry_after": 0.0,
        "html": False,
        "truncate": False,
        "shape": "",
        "refuse": False,
        "hang": False,
    }

    changed = await sim.put("/_sim/faults/RegionTwo", json={"error_rate": 0.5, "unreachable": True})
    assert changed.status_code == 200
    assert changed.json()["RegionTwo"]["error_rate"] == 0.5
    faults = world.regions["RegionTwo"].faults
    assert (faults.error_rate, faults.unreachable, faults.latency_ms) == (0.5, True, 15.0)

    reset = await sim.delete("/_sim/faults/RegionTwo")
    assert reset.status_code == 200
    assert (faults.error_rate, faults.unreachable, faults.latency_ms) == (0.0, False, 15.0)

    await sim.put("/_sim/faults/identity", json={"hang_seconds": 0.2})
    assert world.identity_faults.hang_seconds == 0.2


@pytest.mark.parametrize(
    ("region", "body"),
    [
        ("RegionOne", {"packet_loss": 0.1}),
        ("RegionNine", {"error_rate": 0.1}),
        ("RegionOne", {"error_rate": 2}),
        ("RegionOne", {"latency_ms": -1}),
        ("RegionOne", {"latency_ms": "fast"}),
        ("RegionOne", {"unreachable": "yes"}),
        ("RegionOne", ["error_rate"]),
    ],
)
async def test_faults_refuse_unknown_fields_regions_and_values(
    sim: httpx.AsyncClient, world: World, region: str, body: object
) -> None:
    response = await sim.put(f"/_sim/faults/{region}", json=body)
    assert response.status_code == 400
    assert isinstance(response.json()["error"], str)
    faults = world.regions["RegionOne"].faults
    assert (faults.error_rate, faults.latency_ms, faults.unreachable) == (0.0, 0.0, False)


async def test_faults_refuse_a_body_that_is_not_json(sim: httpx.AsyncClient) -> None:
    response = await sim.put("/_sim/faults/RegionOne", content=b"{error_rate: 1")
    assert response.status_code == 400
    assert response.json() == {"error": "the body is not valid JSON"}
    assert (await sim.delete("/_sim/faults/RegionNine")).status_code == 400


# -- scenarios ---------------------------------------------------------------------------


async def test_scenarios_start_list_and_stop(sim: httpx.AsyncClient, world: World) -> None:
    listing = (await sim.get("/_sim/scenarios")).json()
    assert [s["name"] for s in listing["available"]] == list(SCENARIOS)
    assert {s["name"]: s["loops"] for s in listing["available"]}["demo"] is True
    assert listing["running"] == [] and listing["events"] == []

    started = await sim.post("/_sim/scenarios/l3-agent-dies", json={"region": "RegionTwo"})
    assert started.status_code == 201
    assert started.json()["started"]["region"] == "RegionTwo"
    assert started.json()["started"]["next_step_at"] == T0 + 10
    dead = [a for a in world.regions["RegionTwo"].agents if a.stopped_at is not None]
    assert [a.agent_type for a in dead] == [L3_AGENT]
    assert dead[0].id in started.json()["events"][1]["description"]

    demo = await sim.post("/_sim/scenarios/demo")
    assert demo.status_code == 201 and demo.json()["started"]["region"] is None
    again = await sim.post("/_sim/scenarios/demo", json={})
    assert again.status_code == 400 and "already running" in again.json()["error"]

    listing = (await sim.get("/_sim/scenarios")).json()
    assert [(r["name"], r["region"]) for r in listing["running"]] == [
        ("l3-agent-dies", "RegionTwo"),
        ("demo", None),
    ]
    assert listing["last_event_seq"] == runner(world).event_seq == len(listing["events"])
    later = (await sim.get("/_sim/scenarios", params={"since": 2})).json()
    assert [e["seq"] for e in later["events"]] == list(range(3, runner(world).event_seq + 1))
    state = (await sim.get("/_sim/state")).json()
    assert [r["name"] for r in state["scenarios"]] == ["l3-agent-dies", "demo"]

    stopped = await sim.delete("/_sim/scenarios/demo")
    assert stopped.status_code == 200
    assert [r["name"] for r in stopped.json()["stopped"]] == ["demo"]
    assert (await sim.delete("/_sim/scenarios/demo")).status_code == 404
    assert [r.name for r in runner(world).runs] == ["l3-agent-dies"]


async def test_scenarios_refuse_unknown_names_and_regions(sim: httpx.AsyncClient) -> None:
    unknown = await sim.post("/_sim/scenarios/meteor-strike")
    assert unknown.status_code == 404 and "meteor-strike" in unknown.json()["error"]
    assert (await sim.delete("/_sim/scenarios/meteor-strike")).status_code == 404
    region = await sim.post("/_sim/scenarios/demo", json={"region": "RegionNine"})
    assert region.status_code == 400 and "RegionNine" in region.json()["error"]
    assert (await sim.post("/_sim/scenarios/demo", json={"region": 3})).status_code == 400
    assert (await sim.post("/_sim/scenarios/demo", content=b"[")).status_code == 400


# -- routing and access -----------------------------------------------------------------


async def test_unknown_control_paths_and_methods(sim: httpx.AsyncClient) -> None:
    missing = await sim.get("/_sim/nothing")
    assert missing.status_code == 404 and isinstance(missing.json()["error"], str)
    wrong = await sim.get("/_sim/clock/step")
    assert wrong.status_code == 405 and isinstance(wrong.json()["error"], str)
    assert (await sim.delete("/_sim/state")).status_code == 405


async def test_control_api_refuses_non_loopback_clients(world: World) -> None:
    transport = httpx.ASGITransport(app=create_app(world), client=("203.0.113.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as client:
        for method, path, body in [
            ("GET", "/_sim/state", None),
            ("POST", "/_sim/clock/step", {"seconds": 60}),
            ("PUT", "/_sim/faults/RegionOne", {"error_rate": 1.0}),
            ("POST", "/_sim/scenarios/demo", None),
        ]:
            response = await client.request(method, path, json=body)
            assert response.status_code == 403
            assert "loopback" in response.json()["error"]
        # The cloud itself still answers remote clients.
        assert (await client.get("/identity/v3")).status_code == 200
    assert world.now() == T0
    assert world.regions["RegionOne"].faults.error_rate == 0.0
    assert runner(world).runs == []
