"""Hypervisor rules case by case, and the compute-host-down scenario polled from the
simulated cloud (hypervisor, nova-compute and OVS agent findings and events)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from osconsole.cloud.http import RegionClient
from osconsole.config import Thresholds
from osconsole.events import EventKind
from osconsole.health import hypervisors as rules
from osconsole.health.assess import assess
from osconsole.health.findings import Severity, Tracker
from osconsole.health.hypervisors import (
    capacity_finding,
    hypervisor_conditions,
    hypervisor_problems,
    hypervisor_state_severity,
)
from osconsole.model import Capacity, Hypervisor, Kind, RegionRef, Snapshot
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import World
from tests.conftest import T0
from tests.health.test_findings import Watch

REF = RegionRef("cloud", "RegionOne")


def hv(**changes: Any) -> Hypervisor:
    base = Hypervisor(
        id="h1",
        hostname="cmp01",
        state="up",
        status="enabled",
        running_vms=12,
        vcpu=Capacity(total=32, used=40, allocation_ratio=4.0),  # 40 of 128
        memory_mb=Capacity(total=65536, used=32768, reserved=512),
        disk_gb=Capacity(total=1000, used=100),
        usage_source="placement",
    )
    return replace(base, **changes)


CASES: list[tuple[str, Hypervisor, list[tuple[str, Severity, str]]]] = [
    ("healthy", hv(), []),
    (
        "down with servers on it",
        hv(state="down"),
        [
            (
                rules.HYPERVISOR_DOWN,
                Severity.CRITICAL,
                "hypervisor cmp01 is down with 12 servers at risk",
            )
        ],
    ),
    (
        "down with one server",
        hv(state="down", running_vms=1),
        [
            (
                rules.HYPERVISOR_DOWN,
                Severity.CRITICAL,
                "hypervisor cmp01 is down with 1 server at risk",
            )
        ],
    ),
    (
        "down and empty",
        hv(state="down", running_vms=0),
        [(rules.HYPERVISOR_DOWN, Severity.WARNING, "hypervisor cmp01 is down (no servers on it)")],
    ),
    (
        "down with an unknown server count",
        hv(state="down", running_vms=None),
        [
            (
                rules.HYPERVISOR_DOWN,
                Severity.WARNING,
                "hypervisor cmp01 is down (servers on it unknown)",
            )
        ],
    ),
    (
        "down while disabled for maintenance",
        hv(state="down", status="disabled", disabled_reason="RAM replacement"),
        [
            (
                rules.HYPERVISOR_DOWN,
                Severity.WARNING,
                "hypervisor cmp01 is down while disabled: RAM replacement (12 servers at risk)",
            )
        ],
    ),
    (
        "disabled with its reason",
        hv(status="disabled", disabled_reason="draining"),
        [(rules.HYPERVISOR_DISABLED, Severity.INFO, "hypervisor cmp01 is disabled: draining")],
    ),
    (
        "disabled without a reason",
        hv(status="disabled"),
        [
            (
                rules.HYPERVISOR_DISABLED,
                Severity.INFO,
                "hypervisor cmp01 is disabled: no reason given",
            )
        ],
    ),
    (
        "over-committed and nearly full, each class named",
        hv(
            vcpu=Capacity(total=32, used=140, allocation_ratio=4.0),
            disk_gb=Capacity(total=1000, used=950),
        ),
        [
            (
                rules.HYPERVISOR_CAPACITY,
                Severity.WARNING,
                "hypervisor cmp01: vCPU over-committed (109%), disk nearly full (95%)",
            )
        ],
    ),
    (
        "no usage known (Nova without Placement)",
        hv(vcpu=None, memory_mb=None, disk_gb=None, usage_source="none"),
        [],
    ),
    ("a capacity of zero says nothing", hv(disk_gb=Capacity(total=0, used=5)), []),
    ("a state Nova could not tell is no finding", hv(state="unknown"), []),
]


@pytest.mark.parametrize(("case", "item", "want"), CASES, ids=[c[0] for c in CASES])
def test_hypervisor_problems(
    case: str, item: Hypervisor, want: list[tuple[str, Severity, str]]
) -> None:
    found = hypervisor_problems(item, Thresholds())
    assert [(p.rule, p.severity, p.reason) for p in found] == want


def test_thresholds_move_the_capacity_cuts() -> None:
    strict = Thresholds(nearly_full_ratio=0.3)
    found = hypervisor_problems(hv(), strict)
    assert [p.reason for p in found] == [
        "hypervisor cmp01: vCPU nearly full (31%), RAM nearly full (50%)"
    ]
    assert (
        capacity_finding("RAM", 1.2, Thresholds(overcommit_ratio=1.5)) == "RAM nearly full (120%)"
    )
    assert capacity_finding("RAM", None, Thresholds()) is None


def test_the_panes_state_severity() -> None:
    assert hypervisor_state_severity(hv()) == Severity.OK
    assert hypervisor_state_severity(hv(state="down")) == Severity.CRITICAL
    assert hypervisor_state_severity(hv(state="down", running_vms=0)) == Severity.WARNING
    assert hypervisor_state_severity(hv(status="disabled")) == Severity.INFO
    assert hypervisor_state_severity(hv(state="unknown")) == Severity.INFO


def snap(at: float, *items: Hypervisor) -> Snapshot[Hypervisor]:
    return Snapshot(REF, Kind.HYPERVISORS, Snapshot.freeze({h.id: h for h in items}), at, at)


def test_an_acknowledged_down_host_stays_quiet_while_its_servers_are_evacuated() -> None:
    tracker = Tracker()
    assess([snap(1000, hv(state="down"))], tracker)
    (finding,) = tracker.findings()
    assert tracker.acknowledge(finding.key)
    update = assess([snap(1030, hv(state="down", running_vms=5))], tracker)
    assert update.findings[0].acknowledged
    assert update.findings[0].reason == "hypervisor cmp01 is down with 5 servers at risk"
    update = assess([snap(1060, hv(state="down", running_vms=0))], tracker)
    assert not update.findings[0].acknowledged  # critical -> warning is a change
    assert update.findings[0].since == 1000


def test_conditions_carry_the_hostname_and_are_immediate() -> None:
    found = hypervisor_conditions(snap(1000, hv(state="down")), Thresholds())
    assert [(c.subject.name, c.subject.kind, c.debounce) for c in found] == [
        ("cmp01", Kind.HYPERVISORS, 0.0)
    ]
    assert hypervisor_conditions(snap(1000), Thresholds()) == []


# -- the compute-host-down scenario -----------------------------------------------------------


async def test_compute_host_down_is_a_hypervisor_down_with_its_servers_at_risk(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    watch = Watch(world, region_one, [Kind.HYPERVISORS, Kind.SERVICES, Kind.AGENTS])
    await watch.poll()
    assert not [f for f in watch.tracker.findings() if f.severity >= Severity.WARNING]
    start_scenario(world, "compute-host-down", region="RegionOne")
    host = next(h for h in region.hypervisors if h.service.stopped_at is not None)
    at_risk = len([s for s in region.servers if s.host == host.hostname and not s.deleted])
    assert at_risk == host.running_vms > 0
    await watch.run(until=120)

    # nova-compute reads down after 60 s and the OVS agent dead after 75 s: the poll
    # at 90 s sees both, and the hypervisor down with its servers.
    down = watch.raised(rules.HYPERVISOR_DOWN)
    assert [(t, f.subject.id, f.severity) for t, f in down] == [(90, host.id, Severity.CRITICAL)]
    # one Nova fact, one since: the compute service's updated_at (its last report), as
    # its nova-compute's service.down says, not the poll that first saw it
    [(_, service_down)] = watch.raised("service.down")
    assert (down[0][1].since, down[0][1].since_from) == (service_down.since, "api")
    assert service_down.since_from == "api" and service_down.since < T0 + 90
    servers = f"{at_risk} server{'s' if at_risk > 1 else ''}"
    assert down[0][1].reason == f"hypervisor {host.hostname} is down with {servers} at risk"
    assert [(t, f.subject.name) for t, f in watch.raised("service.down")] == [
        (90, f"nova-compute on {host.hostname}")
    ]
    assert [(t, f.subject.name) for t, f in watch.raised("agent.down")] == [
        (90, f"Open vSwitch agent on {host.hostname}")
    ]
    # the timeline: one line for the host, its three parts still there as its members
    [line] = watch.events()
    assert (line.time - T0, line.kind, line.severity, line.count) == (
        90,
        EventKind.HOST_DOWN,
        Severity.CRITICAL,
        3,
    )
    parts = "hypervisor, nova-compute, Open vSwitch agent"
    assert line.description == f"compute host {host.hostname} down: {parts}"
    assert [(e.kind, e.description) for e in line.members] == [
        (EventKind.HYPERVISOR_DOWN, down[0][1].reason),
        (EventKind.SERVICE_DOWN, f"nova-compute on {host.hostname} is down"),
        (EventKind.AGENT_DOWN, f"Open vSwitch agent on {host.hostname} is dead"),
    ]
