"""Operator actions against the simulated cloud: each changes the world as it should,
sends exactly what its plan showed, and leaves exactly one audit line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from osconsole.actions import (
    ACTIONS,
    CATALOG,
    ActionRunner,
    ActionTarget,
    Plan,
    PlanError,
    Request,
    Result,
    StepState,
    TargetKind,
    actions_for,
    agent_target,
    choices,
    hypervisor_target,
    router_target,
    server_target,
    service_target,
)
from osconsole.audit import AuditLog
from osconsole.cloud import compute, network
from osconsole.cloud.connect import Connection, RegionSession
from osconsole.collect.hypervisors import parse_hypervisor
from osconsole.collect.liveness import parse_agent, parse_service
from osconsole.collect.routers import parse_binding, parse_router
from osconsole.model import Agent, Kind, RegionRef, Router
from osconsole.sim.world import L3_AGENT, World
from osconsole.sim.world import Agent as SimAgent
from osconsole.sim.world import Server as SimServer

REGION = "RegionOne"
SAFE = ("GET", "HEAD")


# -- helpers: targets built the way the product builds them, from API answers ----------


def session_of(connection: Connection, region: str = REGION) -> RegionSession:
    return next(s for s in connection.regions if s.ref.region == region)


def mutations(world: World, since: int = 0) -> list[tuple[str, str, int]]:
    """Non-GET requests the simulator received (token requests excepted)."""
    return [
        (r.method, r.path, r.status)
        for r in world.requests[since:]
        if r.method not in SAFE and r.service != "identity"
    ]


def audit_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def compute_service_target(session: RegionSession, host: str) -> ActionTarget:
    bodies, now = await compute.services(session.client, binary="nova-compute")
    service = next(parse_service(b, "nova", now) for b in bodies if b["host"] == host)
    assert service is not None
    target = service_target(session.ref, service)
    assert target is not None
    return target


async def neutron_agent(session: RegionSession, agent_id: str) -> Agent:
    bodies, now = await network.agents(session.client)
    agent = next(parse_agent(b, now) for b in bodies if b["id"] == agent_id)
    assert agent is not None
    return agent


async def neutron_router(session: RegionSession, router_id: str, *, swept: bool = True) -> Router:
    bodies, _ = await network.routers(session.client)
    router = next(parse_router(b) for b in bodies if b["id"] == router_id)
    assert router is not None
    if not swept:
        return router
    items, _ = await network.router_l3_agents(session.client, router_id)
    bindings = tuple(b for b in map(parse_binding, items) if b is not None)
    return Router(**{**_fields(router), "bindings": bindings})


def _fields(router: Router) -> dict[str, Any]:
    return {name: getattr(router, name) for name in Router.__slots__}


async def live_server(session: RegionSession, server_id: str) -> ActionTarget:
    reply = await session.client.request("GET", "compute", f"/servers/{server_id}")
    target = server_target(session.ref, reply.body["server"])
    assert target is not None
    return target


def first_server(world: World, status: str) -> SimServer:
    return next(s for s in world.regions[REGION].servers if s.status == status and not s.deleted)


def add_l3_agent(world: World, host: str) -> SimAgent:
    """One more L3 agent in RegionOne (the tiny world's three host every router)."""
    region = world.regions[REGION]
    model = region.l3_agents()[0]
    agent = SimAgent(
        id=f"00000000-0000-4000-8000-{len(region.agents):012d}",
        agent_type=L3_AGENT,
        host=host,
        zone=model.zone,
        phase=model.phase,
        created_at=model.created_at,
        started_at=model.started_at,
        configurations={"routers": 0},
    )
    region.agents.add(agent.id, agent)
    return agent


@pytest.fixture
def audit_file(tmp_path: Path) -> Path:
    return tmp_path / "state" / "audit.jsonl"


@pytest.fixture
def runner(connection: Connection, audit_file: Path) -> ActionRunner:
    return ActionRunner(AuditLog(audit_file), connection.regions)


@pytest.fixture
def session(connection: Connection) -> RegionSession:
    return session_of(connection)


def assert_one_line(
    audit_file: Path, plan: Plan, result: str, *, user: str = "admin"
) -> dict[str, Any]:
    (line,) = audit_lines(audit_file)
    assert line["cloud"] == plan.ref.cloud and line["region"] == plan.ref.region
    assert line["user"]["name"] == user and len(line["user"]["id"]) == 32
    assert line["action"] == plan.action.name and line["dangerous"] is True
    target = plan.target
    assert line["target"] == {"kind": target.kind.value, "id": target.id, "name": target.name}
    assert line["params"] == dict(plan.params)
    assert [(r["method"], r["path"], r["body"]) for r in line["requests"]] == [
        (r.method, r.path, r.body) for r in plan.requests
    ]
    assert line["result"] == result and line["time"].endswith("Z")
    return line


# -- compute services -------------------------------------------------------------------


async def test_disable_with_a_reason_then_enable_a_compute_service(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    svc = next(s for s in world.regions[REGION].compute_services if s.binary == "nova-compute")
    target = await compute_service_target(session, svc.host)
    assert target.id == svc.id and target.kind == TargetKind.COMPUTE_SERVICE
    assert [a.name for a in runner.offered(target)] == [
        "compute-service-disable",
        "compute-service-force-down",
    ]

    plan = runner.plan("compute-service-disable", target, {"reason": "  DIMM errors, RMA 4411 "})
    assert plan.requests == (
        Request(
            "compute",
            "PUT",
            f"/os-services/{svc.id}",
            {"status": "disabled", "disabled_reason": "DIMM errors, RMA 4411"},
            "2.100",
        ),
    )
    since = len(world.requests)
    outcome = await runner.run(plan)

    assert outcome.ok and outcome.result == Result.SUCCEEDED
    assert outcome.repoll == (Kind.SERVICES, Kind.HYPERVISORS)
    assert svc.disabled and svc.disabled_reason == "DIMM errors, RMA 4411"
    assert mutations(world, since) == [
        ("PUT", f"/RegionOne/compute/v2.1/os-services/{svc.id}", 200)
    ]
    line = assert_one_line(audit_file, plan, "succeeded")
    assert line["allowed"] is True and line["requests"][0]["status"] == 200

    again = await compute_service_target(session, svc.host)
    assert again.status == "disabled"
    assert [a.name for a in runner.offered(again)] == [
        "compute-service-enable",
        "compute-service-force-down",
    ]
    enabled = await runner.run(runner.plan("compute-service-enable", again))
    assert enabled.ok and not svc.disabled and svc.disabled_reason is None
    assert [line["action"] for line in audit_lines(audit_file)] == [
        "compute-service-disable",
        "compute-service-enable",
    ]


@pytest.mark.parametrize("reason", [None, "", "   "])
async def test_a_disable_without_a_reason_is_refused_before_anything_is_sent(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path, reason: Any
) -> None:
    svc = next(s for s in world.regions[REGION].compute_services if s.binary == "nova-compute")
    target = await compute_service_target(session, svc.host)
    since = len(world.requests)
    with pytest.raises(PlanError, match="Reason is required"):
        runner.plan("compute-service-disable", target, {"reason": reason})
    assert world.requests[since:] == [] and not svc.disabled
    assert not audit_file.exists()


async def test_below_2_53_services_are_named_by_host_and_binary(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    session.client.microversions["compute"] = "2.52"
    svc = next(s for s in world.regions[REGION].compute_services if s.binary == "nova-compute")
    target = await compute_service_target(session, svc.host)
    assert target.id == str(svc.int_id)  # no uuid before 2.53

    plan = runner.plan("compute-service-disable", target, {"reason": "fan failure"})
    body = {"host": svc.host, "binary": "nova-compute", "disabled_reason": "fan failure"}
    assert plan.requests == (
        Request("compute", "PUT", "/os-services/disable-log-reason", body, "2.52"),
    )
    assert (await runner.run(plan)).ok
    assert svc.disabled and svc.disabled_reason == "fan failure"

    enable = runner.plan("compute-service-enable", target)
    assert enable.requests[0].path == "/os-services/enable"
    assert enable.requests[0].body == {"host": svc.host, "binary": "nova-compute"}
    assert (await runner.run(enable)).ok and not svc.disabled
    assert len(audit_lines(audit_file)) == 2


async def test_a_hypervisor_is_disabled_through_its_compute_service(
    world: World, runner: ActionRunner, session: RegionSession
) -> None:
    reply = await session.client.request("GET", "compute", "/os-hypervisors/detail")
    body = reply.body["hypervisors"][0]
    hypervisor = parse_hypervisor(body, None, None)
    assert hypervisor is not None
    target = hypervisor_target(session.ref, hypervisor)
    assert target is not None and target.name == body["hypervisor_hostname"]
    outcome = await runner.run(runner.plan("compute-service-disable", target, {"reason": "PSU"}))
    sim_hv = world.regions[REGION].hypervisors.get(body["id"])
    assert outcome.ok and sim_hv is not None and sim_hv.service.disabled


async def test_only_nova_compute_can_be_disabled(
    world: World, runner: ActionRunner, session: RegionSession
) -> None:
    bodies, now = await compute.services(session.client, binary="nova-scheduler")
    scheduler = parse_service(bodies[0], "nova", now)
    assert scheduler is not None
    target = service_target(session.ref, scheduler)
    assert target is not None and runner.offered(target) == []
    with pytest.raises(PlanError, match="only updates nova-compute"):
        runner.plan("compute-service-disable", target, {"reason": "x"})


# -- Neutron agents ---------------------------------------------------------------------


async def test_agent_out_of_scheduling_and_back(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    sim_agent = world.regions[REGION].l3_agents()[0]
    target = agent_target(session.ref, await neutron_agent(session, sim_agent.id))
    assert [a.name for a in runner.offered(target)] == ["agent-disable"]

    plan = runner.plan("agent-disable", target, {"reason": "flapping since 02:10"})
    assert plan.requests == (
        Request(
            "network", "PUT", f"/v2.0/agents/{sim_agent.id}", {"agent": {"admin_state_up": False}}
        ),
    )
    outcome = await runner.run(plan)
    assert outcome.ok and sim_agent.admin_state_up is False
    assert outcome.repoll == (Kind.AGENTS, Kind.ROUTERS)
    line = assert_one_line(audit_file, plan, "succeeded")
    assert line["params"] == {"reason": "flapping since 02:10"}

    down = agent_target(session.ref, await neutron_agent(session, sim_agent.id))
    assert [a.name for a in runner.offered(down)] == ["agent-enable"]
    assert (await runner.run(runner.plan("agent-enable", down))).ok
    assert sim_agent.admin_state_up is True


# -- servers ----------------------------------------------------------------------------


async def test_lock_with_a_reason_and_unlock(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    server = first_server(world, "ACTIVE")
    target = await live_server(session, server.id)
    assert target.locked is False
    assert {a.name for a in runner.offered(target)} == {
        "server-lock",
        "server-pause",
        "server-suspend",
    }

    plan = runner.plan("server-lock", target, {"reason": "crypto mining, ticket 8812"})
    assert plan.requests[0].body == {"lock": {"locked_reason": "crypto mining, ticket 8812"}}
    assert plan.notes == ()
    outcome = await runner.run(plan)
    assert outcome.ok and outcome.repoll == (Kind.TENANTS,)
    assert server.locked and server.locked_reason == "crypto mining, ticket 8812"
    assert_one_line(audit_file, plan, "succeeded")

    locked = await live_server(session, server.id)
    assert locked.locked is True and "server-unlock" in {a.name for a in runner.offered(locked)}
    assert (await runner.run(runner.plan("server-unlock", locked))).ok
    assert not server.locked and server.locked_reason is None


async def test_before_2_73_the_lock_reason_stays_in_the_audit_log(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    session.client.microversions["compute"] = "2.72"
    server = first_server(world, "ACTIVE")
    target = await live_server(session, server.id)
    plan = runner.plan("server-lock", target, {"reason": "abuse report 77"})
    assert plan.requests[0].body == {"lock": None}
    assert "2.73" in plan.notes[0] and any("note: " in line for line in plan.lines())
    assert (await runner.run(plan)).ok
    assert server.locked and server.locked_reason is None
    assert audit_lines(audit_file)[0]["params"] == {"reason": "abuse report 77"}


@pytest.mark.parametrize(
    ("action", "start", "vm_state", "status"),
    [
        ("server-pause", "active", "paused", "PAUSED"),
        ("server-unpause", "paused", "active", "ACTIVE"),
        ("server-suspend", "active", "suspended", "SUSPENDED"),
        ("server-resume", "suspended", "active", "ACTIVE"),
    ],
)
async def test_power_actions_change_the_server(
    world: World,
    runner: ActionRunner,
    session: RegionSession,
    audit_file: Path,
    action: str,
    start: str,
    vm_state: str,
    status: str,
) -> None:
    server = first_server(world, "ACTIVE")
    server.vm_state, server.status = start, start.upper()
    target = await live_server(session, server.id)
    assert action in {a.name for a in runner.offered(target)}
    plan = runner.plan(action, target)
    verb = action.removeprefix("server-")
    assert plan.requests == (
        Request("compute", "POST", f"/servers/{server.id}/action", {verb: None}, "2.100"),
    )
    outcome = await runner.run(plan)
    assert outcome.ok, outcome.message
    assert (server.vm_state, server.status) == (vm_state, status)
    assert_one_line(audit_file, plan, "succeeded")


async def test_pausing_a_shutoff_server_fails_with_novas_message(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    server = first_server(world, "SHUTOFF")
    target = await live_server(session, server.id)
    assert "server-pause" not in {a.name for a in runner.offered(target)}  # not offered...
    plan = runner.plan("server-pause", target)  # ...but the API, not the snapshot, judges
    outcome = await runner.run(plan)

    nova_says = f"Cannot 'pause' instance {server.id} while it is in vm_state stopped"
    assert outcome.result == Result.FAILED and nova_says in outcome.message
    assert outcome.steps[0].state == StepState.FAILED and outcome.steps[0].status == 409
    assert outcome.repoll == (Kind.TENANTS,)  # something was sent: look again
    assert server.vm_state == "stopped"
    line = assert_one_line(audit_file, plan, "failed")
    assert nova_says in line["message"] and line["allowed"] is True
    assert line["requests"][0]["status"] == 409


# -- HA routers -------------------------------------------------------------------------


def ha_port_hosts(world: World, router_id: str) -> set[str]:
    region = world.regions[REGION]
    ports = (region.ports.get(pid) for pid in region.ha_ports_by_router.get(router_id, []))
    return {p.host for p in ports if p is not None}


async def test_moving_an_ha_router_to_another_l3_agent(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    region = world.regions[REGION]
    sim_router = next(iter(region.routers))
    source = region.agents.get(next(iter(sim_router.bindings)))
    assert source is not None
    spare = add_l3_agent(world, "rone-net004")
    router = await neutron_router(session, sim_router.id)
    target = router_target(session.ref, router)
    assert target.hosted_by is not None and source.id in target.hosted_by

    agents = [
        a
        for a in map(lambda b: parse_agent(b, None), (await network.agents(session.client))[0])
        if a
    ]
    move = ACTIONS["router-move"]
    assert choices(move.params[1], target, agents) == [(spare.id, "rone-net004 (alive)")]
    assert {v for v, _ in choices(move.params[0], target, agents)} == set(sim_router.bindings)

    plan = runner.plan("router-move", target, {"from_agent": source.id, "to_agent": spare.id})
    since = len(world.requests)
    outcome = await runner.run(plan)

    assert outcome.ok, outcome.message
    assert outcome.repoll == (Kind.ROUTERS, Kind.AGENTS)
    assert spare.id in sim_router.bindings and source.id not in sim_router.bindings
    assert sim_router.bindings[spare.id] == "standby"
    assert "rone-net004" in ha_port_hosts(world, sim_router.id)
    assert source.host not in ha_port_hosts(world, sim_router.id)
    base = "/RegionOne/network/v2.0/agents"
    assert mutations(world, since) == [
        ("POST", f"{base}/{spare.id}/l3-routers", 201),
        ("DELETE", f"{base}/{source.id}/l3-routers/{sim_router.id}", 204),
    ]
    line = assert_one_line(audit_file, plan, "succeeded")
    assert [r["state"] for r in line["requests"]] == ["succeeded", "succeeded"]


async def test_a_failed_add_removes_nothing(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    region = world.regions[REGION]
    sim_router = next(iter(region.routers))
    source_id = next(iter(sim_router.bindings))
    spare = add_l3_agent(world, "rone-net004")
    spare.admin_state_up = False  # Neutron will not schedule onto it: 404
    before = dict(sim_router.bindings)
    target = router_target(session.ref, await neutron_router(session, sim_router.id))
    plan = runner.plan("router-move", target, {"from_agent": source_id, "to_agent": spare.id})
    since = len(world.requests)
    outcome = await runner.run(plan)

    assert outcome.result == Result.FAILED
    assert "is not a L3 Agent or has been disabled" in outcome.message
    assert [s.state for s in outcome.steps] == [StepState.FAILED, StepState.NOT_SENT]
    assert sim_router.bindings == before
    assert [m[0] for m in mutations(world, since)] == ["POST"]  # no DELETE went out
    line = assert_one_line(audit_file, plan, "failed")
    assert [r["state"] for r in line["requests"]] == ["failed", "not sent"]


async def test_a_failed_removal_is_reported_as_partial_success(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    region = world.regions[REGION]
    sim_router = next(iter(region.routers))
    spare = add_l3_agent(world, "rone-net004")
    stranger = add_l3_agent(world, "rone-net005")  # hosts nothing
    # Not swept yet: the plan cannot know the router is not on `stranger`.
    target = router_target(session.ref, await neutron_router(session, sim_router.id, swept=False))
    assert target.hosted_by is None
    plan = runner.plan("router-move", target, {"from_agent": stranger.id, "to_agent": spare.id})
    outcome = await runner.run(plan)

    assert outcome.result == Result.PARTIAL
    assert [s.state for s in outcome.steps] == [StepState.SUCCEEDED, StepState.FAILED]
    assert f"not hosted by L3 agent {stranger.id}" in outcome.message
    assert f"replica on L3 agent {spare.id}" in outcome.message
    assert f"DELETE /v2.0/agents/{stranger.id}/l3-routers/{sim_router.id}" in outcome.message
    assert spare.id in sim_router.bindings and len(sim_router.bindings) == 4
    assert outcome.repoll == (Kind.ROUTERS, Kind.AGENTS)
    assert_one_line(audit_file, plan, "partial")


async def test_router_move_parameters_are_checked_against_the_bindings(
    world: World, runner: ActionRunner, session: RegionSession
) -> None:
    sim_router = next(iter(world.regions[REGION].routers))
    hosting = list(sim_router.bindings)
    spare = add_l3_agent(world, "rone-net004")
    target = router_target(session.ref, await neutron_router(session, sim_router.id))
    with pytest.raises(PlanError, match="already hosted"):
        runner.plan("router-move", target, {"from_agent": hosting[0], "to_agent": hosting[1]})
    with pytest.raises(PlanError, match="not hosted by"):
        runner.plan("router-move", target, {"from_agent": spare.id, "to_agent": hosting[0]})
    with pytest.raises(PlanError, match="moving off"):
        runner.plan("router-move", target, {"from_agent": spare.id, "to_agent": spare.id})
    with pytest.raises(PlanError, match="To L3 agent is required"):
        runner.plan("router-move", target, {"from_agent": hosting[0]})


# -- plans: cancel, confirmation text, the catalog --------------------------------------


async def test_a_plan_that_is_not_run_sends_nothing(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    server = first_server(world, "ACTIVE")
    target = await live_server(session, server.id)
    since = len(world.requests)
    plans = [
        runner.plan("server-lock", target, {"reason": "looking into it"}),
        runner.plan("server-pause", target),
        runner.plan("server-suspend", target),
    ]
    del plans  # the operator pressed Esc on each confirmation
    assert world.requests[since:] == []
    assert not server.locked and server.vm_state == "active"
    assert not audit_file.exists()


async def test_the_confirmation_shows_cloud_region_method_path_and_body(
    world: World, runner: ActionRunner, session: RegionSession
) -> None:
    svc = next(s for s in world.regions[REGION].compute_services if s.binary == "nova-compute")
    target = await compute_service_target(session, svc.host)
    plan = runner.plan("compute-service-disable", target, {"reason": "disk SMART errors"})
    assert plan.lines() == [
        f"Disable compute service: compute-service {svc.host} ({svc.id})",
        "in osconsole-sim/RegionOne",
        f"1. PUT compute /os-services/{svc.id}  [compute 2.100]",
        '   {"disabled_reason": "disk SMART errors", "status": "disabled"}',
    ]


def test_every_action_that_changes_the_cloud_is_dangerous() -> None:
    ref = RegionRef("c", "r")
    targets = {
        TargetKind.COMPUTE_SERVICE: ActionTarget(
            ref, TargetKind.COMPUTE_SERVICE, "s1", "h", host="h"
        ),
        TargetKind.AGENT: ActionTarget(ref, TargetKind.AGENT, "a1", "a"),
        TargetKind.SERVER: ActionTarget(ref, TargetKind.SERVER, "v1", "v"),
        TargetKind.ROUTER: ActionTarget(ref, TargetKind.ROUTER, "r1", "r", ha=True),
    }
    params = {"reason": "why", "from_agent": "a1", "to_agent": "a2"}
    from osconsole.actions import Facts, build_plan

    for action in CATALOG:
        wanted = {p.name: params[p.name] for p in action.params}
        plan = build_plan(action, targets[action.applies_to], wanted, Facts("2.100"))
        assert plan.mutating and action.dangerous, action.name
        assert action.undo in ACTIONS and action.repoll, action.name
    assert len(CATALOG) == 15
    for target in targets.values():
        assert actions_for(target, readonly=True) == []
        assert actions_for(target)  # unknown state: everything of its kind is offered


def test_a_plan_refuses_unknown_parameters_and_the_wrong_kind() -> None:
    ref = RegionRef("c", "r")
    server = ActionTarget(ref, TargetKind.SERVER, "v1", "v")
    from osconsole.actions import Facts, build_plan

    with pytest.raises(PlanError, match="unknown parameter"):
        build_plan(ACTIONS["server-pause"], server, {"force": "yes"}, Facts())
    with pytest.raises(PlanError, match="acts on a compute-service"):
        build_plan(ACTIONS["compute-service-enable"], server, {}, Facts())
    with pytest.raises(PlanError, match="at most 255"):
        build_plan(ACTIONS["server-lock"], server, {"reason": "x" * 256}, Facts())
    with pytest.raises(PlanError, match="one line"):
        build_plan(ACTIONS["server-lock"], server, {"reason": "a\nb"}, Facts())
    with pytest.raises(PlanError, match="not connected"):
        ActionRunner(AuditLog(Path("/nonexistent/audit.jsonl"))).plan("server-pause", server)
