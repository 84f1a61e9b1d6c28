"""Events between two snapshots, kind by kind, and the timeline that keeps them.

(The scenario tests in tests/health/ check the same events against the simulator:
l3-agent-dies, split-brain, compute-host-down, agent-flap and tenant-spoofing.)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from osconsole.config import Thresholds
from osconsole.events import EventKind, Timeline, diff
from osconsole.health.findings import Severity
from osconsole.model import (
    Agent,
    Hypervisor,
    Kind,
    RegionRef,
    Router,
    RouterBinding,
    Service,
    Snapshot,
    TenantSignals,
)

REF = RegionRef("cloud", "RegionOne")
T = 1_700_000_000.0


def snap(kind: Kind, at: float, *items: Any, **options: Any) -> Snapshot[Any]:
    key = "project_id" if kind == Kind.TENANTS else "id"
    return Snapshot(
        REF,
        kind,
        Snapshot.freeze({getattr(i, key): i for i in items}),
        fetched_at=at + 0.25,
        server_time=at,
        **options,
    )


def pair(kind: Kind, before: Any, after: Any) -> list[tuple[EventKind, Severity, str]]:
    events = diff(snap(kind, T, before), snap(kind, T + 30, after))
    assert all(e.time == T + 30 and e.region == "RegionOne" for e in events)
    return [(e.kind, e.severity, e.description) for e in events]


# -- agents and services -------------------------------------------------------------------

AGENT = Agent(
    id="a1",
    agent_type="L3 agent",
    binary="neutron-l3-agent",
    host="net01",
    alive=True,
    admin_state_up=True,
    heartbeat_at=T,
    heartbeat_age=3.0,
    started_at=T - 600,
)
DEAD = replace(AGENT, alive=False)


@pytest.mark.parametrize(
    ("case", "before", "after", "want"),
    [
        ("no change", AGENT, AGENT, []),
        (
            "dies",
            AGENT,
            DEAD,
            [(EventKind.AGENT_DOWN, Severity.CRITICAL, "L3 agent on net01 is dead")],
        ),
        (
            "dies while admin-down",
            replace(AGENT, admin_state_up=False),
            replace(DEAD, admin_state_up=False),
            [(EventKind.AGENT_DOWN, Severity.WARNING, "L3 agent on net01 is dead")],
        ),
        (
            "comes back",
            DEAD,
            AGENT,
            [(EventKind.AGENT_UP, Severity.INFO, "L3 agent on net01 is alive again")],
        ),
        (
            "comes back restarted",
            DEAD,
            replace(AGENT, started_at=T + 20),
            [(EventKind.AGENT_UP, Severity.INFO, "L3 agent on net01 is alive again (restarted)")],
        ),
        (
            "restarts while alive",
            AGENT,
            replace(AGENT, started_at=T + 20),
            [(EventKind.AGENT_RESTARTED, Severity.INFO, "L3 agent on net01 restarted")],
        ),
        ("started_at unknown is no restart", AGENT, replace(AGENT, started_at=None), []),
        ("a heartbeat in the future changes nothing", AGENT, replace(AGENT, heartbeat_age=-90), []),
    ],
)
def test_agent_events(case: str, before: Agent, after: Agent, want: list[Any]) -> None:
    assert pair(Kind.AGENTS, before, after) == want


SERVICE = Service(
    id="nova:7",
    project="nova",
    binary="nova-compute",
    host="cmp01",
    zone="nova",
    status="enabled",
    state="up",
    updated_at=T,
    heartbeat_age=2.0,
)


@pytest.mark.parametrize(
    ("case", "before", "after", "want"),
    [
        (
            "goes down",
            SERVICE,
            replace(SERVICE, state="down"),
            [(EventKind.SERVICE_DOWN, Severity.CRITICAL, "nova-compute on cmp01 is down")],
        ),
        (
            "forced down",
            SERVICE,
            replace(SERVICE, state="down", forced_down=True),
            [
                (
                    EventKind.SERVICE_DOWN,
                    Severity.CRITICAL,
                    "nova-compute on cmp01 is forced down by an operator",
                )
            ],
        ),
        (
            "comes back",
            replace(SERVICE, state="down"),
            SERVICE,
            [(EventKind.SERVICE_UP, Severity.INFO, "nova-compute on cmp01 is up again")],
        ),
        (
            "disabled with a reason",
            SERVICE,
            replace(SERVICE, status="disabled", disabled_reason="kernel upgrade"),
            [
                (
                    EventKind.SERVICE_DISABLED,
                    Severity.INFO,
                    "nova-compute on cmp01 was disabled: kernel upgrade",
                )
            ],
        ),
        (
            "disabled without a reason",
            SERVICE,
            replace(SERVICE, status="disabled"),
            [
                (
                    EventKind.SERVICE_DISABLED,
                    Severity.INFO,
                    "nova-compute on cmp01 was disabled (no reason given)",
                )
            ],
        ),
        (
            "disabled and down at once: both, the down one a warning",
            SERVICE,
            replace(SERVICE, status="disabled", state="down", disabled_reason="RMA"),
            [
                (EventKind.SERVICE_DOWN, Severity.WARNING, "nova-compute on cmp01 is down"),
                (
                    EventKind.SERVICE_DISABLED,
                    Severity.INFO,
                    "nova-compute on cmp01 was disabled: RMA",
                ),
            ],
        ),
        (
            "enabled",
            replace(SERVICE, status="disabled"),
            SERVICE,
            [(EventKind.SERVICE_ENABLED, Severity.INFO, "nova-compute on cmp01 was enabled")],
        ),
    ],
)
def test_service_events(case: str, before: Service, after: Service, want: list[Any]) -> None:
    assert pair(Kind.SERVICES, before, after) == want


# -- routers ---------------------------------------------------------------------------------


def router(*states: tuple[str, str | None, bool], ha: bool | None = True, **changes: Any) -> Router:
    bindings = tuple(RouterBinding(f"agent-{h}", h, s, alive, True) for h, s, alive in states)
    base = Router(
        id="r1",
        name="web-1",
        project_id="p1",
        status="ACTIVE",
        admin_state_up=True,
        ha=ha,
        distributed=False,
        replica_hosts=("net01", "net02", "net03"),
        bindings=bindings,
        bindings_checked_at=T,
    )
    return replace(base, **changes)


ON_1 = router(("net01", "active", True), ("net02", "standby", True), ("net03", "standby", True))
ON_2 = router(("net01", "standby", False), ("net02", "active", True), ("net03", "standby", True))
NONE = router(("net01", "standby", False), ("net02", "standby", True), ("net03", "standby", True))
SPLIT = router(("net01", "active", True), ("net02", "standby", True), ("net03", "active", True))


@pytest.mark.parametrize(
    ("case", "before", "after", "want"),
    [
        ("steady", ON_1, ON_1, []),
        (
            "failover",
            ON_1,
            ON_2,
            [
                (
                    EventKind.ROUTER_FAILOVER,
                    Severity.WARNING,
                    "router web-1 failed over from net01 to net02",
                )
            ],
        ),
        (
            "loses its active",
            ON_1,
            NONE,
            [
                (
                    EventKind.ROUTER_ACTIVE_LOST,
                    Severity.CRITICAL,
                    "router web-1 lost its active agent (was active on net01)",
                )
            ],
        ),
        (
            "active on a dead agent does not count",
            ON_1,
            router(("net01", "active", False), ("net02", "standby", True)),
            [
                (
                    EventKind.ROUTER_ACTIVE_LOST,
                    Severity.CRITICAL,
                    "router web-1 lost its active agent (was active on net01)",
                )
            ],
        ),
        (
            "gets one back",
            NONE,
            ON_2,
            [
                (
                    EventKind.ROUTER_ACTIVE_BACK,
                    Severity.INFO,
                    "router web-1 is active again on net02",
                )
            ],
        ),
        (
            "split brain begins",
            ON_1,
            SPLIT,
            [
                (
                    EventKind.SPLIT_BRAIN_BEGINS,
                    Severity.CRITICAL,
                    "router web-1 is active on 2 agents: net01, net03 (split brain begins)",
                )
            ],
        ),
        (
            "split brain ends on one",
            SPLIT,
            replace(ON_1),
            [
                (
                    EventKind.SPLIT_BRAIN_ENDS,
                    Severity.INFO,
                    "router web-1: split brain over, active on net01 only",
                )
            ],
        ),
        (
            "split brain ends on none",
            SPLIT,
            NONE,
            [
                (
                    EventKind.SPLIT_BRAIN_ENDS,
                    Severity.INFO,
                    "router web-1: split brain over, no agent is active",
                )
            ],
        ),
        (
            "an admin-down router losing its active is expected",
            ON_1,
            replace(NONE, admin_state_up=False),
            [],
        ),
        ("never swept before", replace(ON_1, bindings=None), ON_2, []),
        ("not swept now", ON_1, replace(ON_2, bindings=None), []),
        (
            "legacy routers have no active",
            router(("net01", None, True), ha=False),
            router(("net02", None, True), ha=False),
            [],
        ),
    ],
)
def test_router_events(case: str, before: Router, after: Router, want: list[Any]) -> None:
    assert pair(Kind.ROUTERS, before, after) == want


def test_ovn_regions_have_no_router_events() -> None:
    before = snap(Kind.ROUTERS, T, ON_1, extra={"ovn": True})
    assert diff(before, snap(Kind.ROUTERS, T + 30, SPLIT, extra={"ovn": True})) == []


# -- hypervisors -------------------------------------------------------------------------------

HV = Hypervisor(id="h1", hostname="cmp01", state="up", status="enabled", running_vms=7)


@pytest.mark.parametrize(
    ("case", "before", "after", "want"),
    [
        (
            "down with servers",
            HV,
            replace(HV, state="down"),
            [
                (
                    EventKind.HYPERVISOR_DOWN,
                    Severity.CRITICAL,
                    "hypervisor cmp01 is down with 7 servers at risk",
                )
            ],
        ),
        (
            "down and empty",
            replace(HV, running_vms=0),
            replace(HV, state="down", running_vms=0),
            [(EventKind.HYPERVISOR_DOWN, Severity.WARNING, "hypervisor cmp01 is down")],
        ),
        (
            "up again",
            replace(HV, state="down"),
            HV,
            [(EventKind.HYPERVISOR_UP, Severity.INFO, "hypervisor cmp01 is up again")],
        ),
        ("an unknown state becoming up says nothing", replace(HV, state="unknown"), HV, []),
    ],
)
def test_hypervisor_events(
    case: str, before: Hypervisor, after: Hypervisor, want: list[Any]
) -> None:
    assert pair(Kind.HYPERVISORS, before, after) == want


# -- tenants ------------------------------------------------------------------------------------


def tenant(**facts: Any) -> TenantSignals:
    return TenantSignals(project_id="p1", project_name="acme", **facts)


def test_servers_going_to_error_are_named() -> None:
    before = tenant(error_servers=("s1",))
    after = tenant(error_servers=("s1", "s2"))
    assert pair(Kind.TENANTS, before, after) == [
        (EventKind.SERVER_ERROR, Severity.WARNING, "project acme: 1 server went to ERROR (s2)")
    ]
    many = tenant(error_servers=("s1", "s2", "s3", "s4", "s5", "s6"))
    assert pair(Kind.TENANTS, before, many)[0][2] == (
        "project acme: 5 servers went to ERROR (s2, s3, s4 and 2 more)"
    )
    assert pair(Kind.TENANTS, after, before) == []  # one left ERROR: not an event


def test_tenant_score_jumps_beyond_the_threshold_only() -> None:
    calm = tenant(servers=4)
    spoofing = tenant(servers=4, spoofing_ports=("x", "y"))  # 40 points
    assert pair(Kind.TENANTS, calm, spoofing) == [
        (
            EventKind.TENANT_SCORE_JUMP,
            Severity.WARNING,
            "project acme: score rose from 0 to 40: 2 ports allow spoofing (0.0.0.0/0 address "
            "pairs or port security off)",
        )
    ]
    assert pair(Kind.TENANTS, spoofing, calm) == [
        (EventKind.TENANT_SCORE_JUMP, Severity.INFO, "project acme: score fell from 40 to 0")
    ]
    assert pair(Kind.TENANTS, calm, tenant(servers=4, error_servers=("s1",)))[0][0] == (
        EventKind.SERVER_ERROR
    )  # 5 points: no jump
    threshold = Thresholds(tenant_score_jump=50)
    quiet = diff(snap(Kind.TENANTS, T, calm), snap(Kind.TENANTS, T + 30, spoofing), threshold)
    assert quiet == []


def test_a_signal_not_read_is_no_news() -> None:
    """Spoofing ports that could not be read do not make the score fall (or rise back),
    and servers that could not be read did not go to ERROR."""
    spoofing = tenant(servers=4, spoofing_ports=("x", "y"), error_servers=("s1",))
    unread = tenant(servers=None, spoofing_ports=None, error_servers=None)
    assert pair(Kind.TENANTS, spoofing, unread) == []
    assert pair(Kind.TENANTS, unread, spoofing) == []


def test_a_new_project_scoring_high_is_a_jump_from_zero() -> None:
    other = TenantSignals(project_id="p2", project_name="", spoofing_ports=("x",))
    events = diff(snap(Kind.TENANTS, T, tenant()), snap(Kind.TENANTS, T + 30, tenant(), other))
    assert [(e.subject.id, e.subject.name, e.description) for e in events] == [
        (
            "p2",
            "p2",
            "project p2: score rose from 0 to 30: 1 port allows spoofing (0.0.0.0/0 address "
            "pairs or port security off)",
        )
    ]


# -- edges and the timeline -----------------------------------------------------------------------


def test_no_previous_or_stale_current_says_nothing() -> None:
    dead = snap(Kind.AGENTS, T + 30, DEAD)
    assert diff(None, dead) == []
    assert diff(snap(Kind.AGENTS, T, AGENT), replace(dead, stale=True)) == []
    assert diff(snap(Kind.AGENTS, T, AGENT), snap(Kind.AGENTS, T + 30)) == []  # agent gone
    with pytest.raises(ValueError, match="cannot compare"):
        diff(snap(Kind.AGENTS, T, AGENT), replace(dead, ref=RegionRef("cloud", "RegionTwo")))


def test_event_time_is_the_server_clock_or_ours() -> None:
    events = diff(snap(Kind.AGENTS, T, AGENT), replace(snap(Kind.AGENTS, T + 30, DEAD)))
    assert events[0].time == T + 30
    ours = diff(
        snap(Kind.AGENTS, T, AGENT), replace(snap(Kind.AGENTS, T + 30, DEAD), server_time=None)
    )
    assert ours[0].time == T + 30.25
    as_dict = events[0].as_dict()
    assert as_dict["kind"] == "agent.down" and as_dict["severity"] == "critical"
    assert as_dict["subject"] == {
        "cloud": "cloud",
        "region": "RegionOne",
        "kind": "agents",
        "id": "a1",
        "name": "L3 agent on net01",
    }


def test_the_timeline_compares_with_the_last_fresh_snapshot() -> None:
    timeline = Timeline(keep=3)
    assert timeline.observe(snap(Kind.AGENTS, T, AGENT)) == []
    # A failed poll keeps the old items, marked stale: not a comparison base.
    assert timeline.observe(replace(snap(Kind.AGENTS, T, AGENT), stale=True, error="503")) == []
    down = timeline.observe(snap(Kind.AGENTS, T + 60, DEAD))
    assert [e.kind for e in down] == [EventKind.AGENT_DOWN]
    timeline.observe(snap(Kind.AGENTS, T + 90, AGENT))
    timeline.observe(snap(Kind.AGENTS, T + 120, DEAD))
    timeline.observe(snap(Kind.AGENTS, T + 150, AGENT))
    assert [e.time - T for e in timeline.events] == [90, 120, 150]  # the oldest dropped
    assert [e.kind for e in timeline.since(T + 120)] == [EventKind.AGENT_DOWN, EventKind.AGENT_UP]
    # Kinds and regions are compared separately.
    assert timeline.observe(snap(Kind.SERVICES, T + 150, SERVICE)) == []


# -- grouping by cause, and storms ---------------------------------------------------------


def routers_snap(at: float, count: int, active: str) -> Snapshot[Router]:
    """`count` HA routers, each active on `active`, standby on the other two hosts."""
    hosts = [h for h in ("net01", "net02", "net03") if h != active]
    base = router((active, "active", True), *((h, "standby", True) for h in hosts))
    items = [replace(base, id=f"r{n}", name=f"web-{n}") for n in range(count)]
    return snap(Kind.ROUTERS, at, *items)


def test_thousands_of_routers_failing_over_in_one_poll_are_one_line() -> None:
    timeline = Timeline()
    timeline.observe(routers_snap(T, 5000, "net01"))
    [line] = timeline.observe(routers_snap(T + 30, 5000, "net02"))
    assert line.kind is EventKind.ROUTERS_FAILED_OVER
    assert line.count == 5000 and len(line.members) == 20  # a bounded sample, not 5000
    assert line.description == "from net01: 5000 routers failed over"
    assert line.severity is Severity.WARNING
    assert list(timeline.events) == [line]


def test_an_l3_agents_death_and_its_routers_read_as_one_story() -> None:
    timeline = Timeline()
    timeline.observe(snap(Kind.AGENTS, T, AGENT))
    timeline.observe(routers_snap(T, 12, "net01"))
    # VRRP fails over within seconds; Neutron declares the agent dead 75 s later.
    [moved] = timeline.observe(routers_snap(T + 30, 12, "net02"))
    assert moved.description == "from net01: 12 routers failed over"
    [death] = timeline.observe(snap(Kind.AGENTS, T + 90, replace(AGENT, alive=False)))
    assert death.description == (
        "L3 agent on net01 is dead → 12 routers failed over (seen before it was declared dead)"
    )
    # Routers moving away after it was declared dead name it at once.
    timeline.observe(routers_snap(T + 120, 12, "net01"))
    [back] = timeline.observe(routers_snap(T + 150, 12, "net03"))
    assert back.description == "L3 agent on net01 dead → 12 routers failed over"


def test_a_storm_of_one_kind_is_one_line_with_its_count() -> None:
    agents = [replace(AGENT, id=f"a{n}", host=f"cmp{n}", agent_type="Open vSwitch agent")
              for n in range(40)]  # fmt: skip
    timeline = Timeline()
    timeline.observe(snap(Kind.AGENTS, T, *agents))
    [storm] = timeline.observe(
        snap(Kind.AGENTS, T + 90, *(replace(a, alive=False) for a in agents))
    )
    assert storm.kind is EventKind.STORM and storm.count == 40
    assert storm.description.startswith("40 at once (agent.down): Open vSwitch agent on cmp0")
    assert storm.description.endswith("and 38 more")
    assert storm.severity is Severity.CRITICAL


def test_a_dead_compute_host_is_one_line_with_its_parts() -> None:
    """Three CRITICAL lines for one dead host (hypervisor, nova-compute, OVS agent), each
    seen by its own kind's poll, are one line naming the parts; the parts stay its members."""
    ovs = replace(AGENT, id="ovs1", agent_type="Open vSwitch agent", host="cmp01")
    l3 = replace(AGENT, id="l3n", host="net01")  # another host's death stays apart
    timeline = Timeline()
    for kind, item in ((Kind.HYPERVISORS, HV), (Kind.SERVICES, SERVICE), (Kind.AGENTS, ovs)):
        timeline.observe(snap(kind, T, item, *([l3] if kind is Kind.AGENTS else [])))
    timeline.observe(snap(Kind.HYPERVISORS, T + 90, replace(HV, state="down")))
    [line] = timeline.observe(snap(Kind.SERVICES, T + 90, replace(SERVICE, state="down")))
    assert line.description == "compute host cmp01 down: hypervisor, nova-compute"
    dead = (replace(ovs, alive=False), replace(l3, alive=False))
    [line, other] = timeline.observe(snap(Kind.AGENTS, T + 95, *dead))
    assert list(timeline.events) == [line, other]
    assert (line.kind, line.severity, line.count, line.time) == (
        EventKind.HOST_DOWN,
        Severity.CRITICAL,
        3,
        T + 90,
    )
    assert line.description == (
        "compute host cmp01 down: hypervisor, nova-compute, Open vSwitch agent"
    )
    assert [e.kind for e in line.members] == [
        EventKind.HYPERVISOR_DOWN,
        EventKind.SERVICE_DOWN,
        EventKind.AGENT_DOWN,
    ]
    assert (other.kind, other.description) == (EventKind.AGENT_DOWN, "L3 agent on net01 is dead")


def test_agents_dying_on_a_host_without_a_compute_part_are_not_a_compute_host() -> None:
    ovs = replace(AGENT, id="ovs1", agent_type="Open vSwitch agent")  # on net01, as the L3
    timeline = Timeline()
    timeline.observe(snap(Kind.AGENTS, T, AGENT))
    timeline.observe(snap(Kind.AGENTS, T + 60, replace(AGENT, alive=False)))
    timeline.observe(snap(Kind.AGENTS, T + 70, replace(AGENT, alive=False), ovs))
    timeline.observe(
        snap(Kind.AGENTS, T + 90, replace(AGENT, alive=False), replace(ovs, alive=False))
    )
    assert [e.kind for e in timeline.events] == [EventKind.AGENT_DOWN, EventKind.AGENT_DOWN]
    conductor = replace(SERVICE, id="nova:9", binary="nova-conductor", host="net01")
    timeline.observe(snap(Kind.SERVICES, T, conductor))
    timeline.observe(snap(Kind.SERVICES, T + 90, replace(conductor, state="down")))
    assert [e.kind for e in timeline.events][-1] is EventKind.SERVICE_DOWN
