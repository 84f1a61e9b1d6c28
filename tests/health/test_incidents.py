"""Incidents: one cause, its symptoms under it (issue 9: one dead L3 agent gave a
notification per router; a dead compute host gave separate hypervisor, nova-compute
and OVS findings; a region that stopped answering gave no finding at all)."""

from __future__ import annotations

from dataclasses import replace

from osconsole.health import routers as router_rules
from osconsole.health.assess import REGION_UNREACHABLE, assess, assess_once
from osconsole.health.findings import Severity, Tracker
from osconsole.health.incidents import paging, raised
from osconsole.model import Kind
from tests.health.test_assess import REF, T, hv, l3_agents, snap
from tests.health.test_liveness import agent, service
from tests.health.test_routers import bind, router


def dead_compute_host() -> list:
    host = "rtwo-cmp00018"
    return [
        snap(Kind.HYPERVISORS, T, hv(state="down", hostname=host, service_host=host)),
        snap(
            Kind.SERVICES,
            T,
            service(id="nova:18", host=host, state="down", updated_at=T - 90),
            service(id="nova:1", host="rtwo-ctl01", binary="nova-scheduler"),
        ),
        snap(
            Kind.AGENTS,
            T,
            agent(id="ovs", agent_type="Open vSwitch agent", host=host, alive=False),
            agent(id="l3", host="rtwo-net001"),
        ),
    ]


def test_a_dead_compute_host_is_one_incident_with_its_symptoms() -> None:
    verdicts = assess_once(dead_compute_host(), Tracker())
    assert len(verdicts.findings) == 3
    [incident] = verdicts.incidents
    assert incident.key == f"host@{REF}/rtwo-cmp00018"
    assert incident.cause.subject.kind is Kind.HYPERVISORS
    assert {f.subject.kind for f in incident.symptoms} == {Kind.SERVICES, Kind.AGENTS}
    assert incident.title == (
        "compute host rtwo-cmp00018 down: hypervisor down, nova-compute down, 1 Neutron agent dead"
    )
    assert incident.severity is Severity.CRITICAL
    assert incident.since == T - 90  # nova-compute's updated_at: the earliest, from the API


def dead_l3_agent_with(routers_count: int) -> list:
    dead = agent(id="l3-dead", host="rtwo-net002", alive=False)
    live = [agent(id=f"l3-{n}", host=f"rtwo-net00{n}") for n in (1, 3)]
    orphans = [
        replace(
            router(
                bind("rtwo-net002", "standby", alive=False),
                bind("rtwo-net001", "standby"),
                bind("rtwo-net003", "standby"),
                name=f"web-{n}",
            ),
            id=f"r{n}",
            bindings=(
                replace(bind("rtwo-net002", "active", alive=False), agent_id="l3-dead"),
                bind("rtwo-net001", "standby"),
                bind("rtwo-net003", "standby"),
            ),
        )
        for n in range(routers_count)
    ]
    healthy = router(bind("rtwo-net001", "active"), bind("rtwo-net003", "standby"), name="ok")
    return [
        snap(Kind.AGENTS, T, dead, *live),
        snap(Kind.ROUTERS, T, *orphans, replace(healthy, id="fine"), l3_agents=l3_agents(2)),
    ]


def test_a_dead_l3_agent_and_the_routers_it_left_are_one_incident() -> None:
    verdicts = assess_once(dead_l3_agent_with(12), Tracker())
    router_findings = [f for f in verdicts.findings if f.subject.kind is Kind.ROUTERS]
    assert len(router_findings) == 12
    assert {f.rule for f in router_findings} == {router_rules.ACTIVE_ON_DEAD}
    [incident] = verdicts.incidents
    assert incident.cause.subject.id == "l3-dead"
    assert len(incident.symptoms) == 12
    assert (
        incident.title
        == "L3 agent on rtwo-net002 dead → 12 routers without a healthy active or replicas"
    )
    # One page for all of it, and none for the same incident on the next look.
    assert [i.key for i in raised(set(), verdicts.incidents)] == [incident.key]
    assert raised(paging(verdicts.incidents), verdicts.incidents) == []


def test_a_region_that_stopped_answering_gathers_what_it_holds() -> None:
    tracker = Tracker()
    looks = dead_l3_agent_with(2)
    assess(looks, tracker)
    blind = [replace(s, stale=True, error="timed out", server_time=T + 60) for s in looks]
    verdicts = assess(blind, tracker)
    [incident] = verdicts.incidents
    assert incident.cause.rule == REGION_UNREACHABLE
    assert incident.key == f"region@{REF}"
    # The dead agent's finding, held from stale data (its routers were still pending).
    assert [f.subject.id for f in incident.symptoms] == ["l3-dead"]


def test_unrelated_findings_stand_alone_worst_first() -> None:
    looks = [
        snap(Kind.AGENTS, T, agent(id="dhcp", agent_type="DHCP agent", host="n1", alive=False)),
        snap(Kind.SERVICES, T, service(id="c", binary="nova-conductor", host="ctl", state="down")),
        snap(Kind.HYPERVISORS, T, hv(status="disabled", disabled_reason="RMA")),
    ]
    incidents = assess_once(looks, Tracker()).incidents
    assert [(i.severity, i.symptoms) for i in incidents] == [
        (Severity.CRITICAL, ()),
        (Severity.CRITICAL, ()),
        (Severity.INFO, ()),
    ]
    assert incidents[-1].title == incidents[-1].cause.reason
