"""The actions operators reach for in a host-down incident, against the simulator:
force a compute service down before evacuating, add an HA replica on a live L3
agent, remove the replica of a dead one; each with the exact request, audited, and
absent in read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from osconsole.actions import (
    ACTIONS,
    ActionRunner,
    ActionTarget,
    Facts,
    PlanError,
    Request,
    TargetKind,
    actions_for,
    build_plan,
    choices,
    router_target,
)
from osconsole.cloud import network
from osconsole.cloud.connect import RegionSession
from osconsole.collect.liveness import parse_agent
from osconsole.model import RegionRef
from osconsole.sim.world import World
from tests.test_actions import (
    REGION,
    add_l3_agent,
    assert_one_line,
    audit_file,
    compute_service_target,
    ha_port_hosts,
    mutations,
    neutron_router,
    runner,
    session,
)

__all__ = ["audit_file", "runner", "session"]  # fixtures, used by name
FORCE = "compute-service-force-down"
UNFORCE = "compute-service-unforce-down"


async def test_force_a_compute_service_down_then_clear_it(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    svc = next(s for s in world.regions[REGION].compute_services if s.binary == "nova-compute")
    target = await compute_service_target(session, svc.host)
    assert target.forced_down is False
    offered = [a.name for a in runner.offered(target)]
    assert FORCE in offered and UNFORCE not in offered
    plan = runner.plan(FORCE, target)
    assert plan.requests == (
        Request("compute", "PUT", f"/os-services/{svc.id}", {"forced_down": True}, "2.100"),
    )
    assert any("fenced" in note for note in plan.notes)
    since = len(world.requests)
    outcome = await runner.run(plan)
    assert outcome.ok, outcome.message
    assert svc.forced_down
    assert mutations(world, since) == [
        ("PUT", f"/RegionOne/compute/v2.1/os-services/{svc.id}", 200)
    ]
    assert_one_line(audit_file, plan, "succeeded")
    again = await compute_service_target(session, svc.host)
    assert again.forced_down is True and again.status  # Nova says so in its answer
    assert [a.name for a in runner.offered(again)].count(UNFORCE) == 1
    assert FORCE not in [a.name for a in runner.offered(again)]
    assert (await runner.run(runner.plan(UNFORCE, again))).ok and not svc.forced_down


async def test_before_2_53_forcing_down_names_host_and_binary_and_before_2_11_is_refused(
    world: World, runner: ActionRunner, session: RegionSession
) -> None:
    svc = next(s for s in world.regions[REGION].compute_services if s.binary == "nova-compute")
    session.client.microversions["compute"] = "2.11"
    target = await compute_service_target(session, svc.host)
    plan = runner.plan(FORCE, target)
    body = {"host": svc.host, "binary": "nova-compute", "forced_down": True}
    assert plan.requests == (Request("compute", "PUT", "/os-services/force-down", body, "2.11"),)
    assert (await runner.run(plan)).ok and svc.forced_down
    session.client.microversions["compute"] = "2.10"
    with pytest.raises(PlanError, match=r"needs 2\.11"):
        runner.plan(FORCE, target)


async def test_add_a_missing_replica_then_remove_the_one_of_a_dead_agent(
    world: World, runner: ActionRunner, session: RegionSession, audit_file: Path
) -> None:
    region = world.regions[REGION]
    sim_router = next(r for r in region.routers if r.ha)
    spare = add_l3_agent(world, "rone-net004")
    target = router_target(session.ref, await neutron_router(session, sim_router.id))
    offered = [a.name for a in runner.offered(target)]
    assert "router-add-to-agent" in offered and "router-remove-from-agent" in offered

    add = runner.plan("router-add-to-agent", target, {"to_agent": spare.id})
    assert add.requests == (
        Request(
            "network", "POST", f"/v2.0/agents/{spare.id}/l3-routers", {"router_id": sim_router.id}
        ),
    )
    since = len(world.requests)
    assert (await runner.run(add)).ok
    assert sim_router.bindings[spare.id] == "standby"
    assert "rone-net004" in ha_port_hosts(world, sim_router.id)
    base = "/RegionOne/network/v2.0/agents"
    assert mutations(world, since) == [("POST", f"{base}/{spare.id}/l3-routers", 201)]
    assert_one_line(audit_file, add, "succeeded")

    dead = region.agents.get(next(a for a in sim_router.bindings if a != spare.id))
    assert dead is not None
    dead.stop(world.now())
    world.clock.step(120)
    target = router_target(session.ref, await neutron_router(session, sim_router.id))
    bodies, now = await network.agents(session.client)
    agents = [a for a in (parse_agent(b, now) for b in bodies) if a]
    remove_action = next(a for a in runner.offered(target) if a.name == "router-remove-from-agent")
    assert choices(remove_action.params[0], target, agents) == [(dead.id, f"{dead.host} (DEAD)")]
    remove = runner.plan("router-remove-from-agent", target, {"from_agent": dead.id})
    since = len(world.requests)
    assert (await runner.run(remove)).ok
    assert dead.id not in sim_router.bindings and spare.id in sim_router.bindings
    assert mutations(world, since) == [
        ("DELETE", f"{base}/{dead.id}/l3-routers/{sim_router.id}", 204)
    ]


def test_the_last_replica_is_never_removed_and_read_only_offers_none(
    world: World,
) -> None:
    ref = RegionRef("c", REGION)
    router = ActionTarget(ref, TargetKind.ROUTER, "r1", "web", ha=True, hosted_by=("a1",))
    with pytest.raises(PlanError, match="only replica"):
        build_plan(ACTIONS["router-remove-from-agent"], router, {"from_agent": "a1"}, Facts())
    service = ActionTarget(ref, TargetKind.COMPUTE_SERVICE, "s1", "cmp1", host="cmp1")
    names = {a.name for a in actions_for(service)} | {a.name for a in actions_for(router)}
    assert {FORCE, "router-add-to-agent", "router-remove-from-agent"} <= names
    assert actions_for(service, readonly=True) == [] and actions_for(router, readonly=True) == []
