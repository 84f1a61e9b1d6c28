"""Incidents: findings that share a cause, as one thing to look at with its symptoms.

One dead compute host is a hypervisor down, its nova-compute down and its Neutron
agents dead; one dead L3 agent is that agent and every router that lost its active
on it (or was left with too few replicas); a region whose APIs stopped answering is
that region. The operator must see, be paged for and acknowledge that one cause, not
a dozen findings. Grouping (pure, from the current findings and the snapshots they
were judged on):

- by host: in a region, a hypervisor down, a nova-compute down or forced down, and
  Neutron agents dead on one host are one incident. Its cause is the hypervisor (or
  the compute service) when one is down, else the L3 agent, else the first agent.
- the routers of a dead L3 agent join its host's incident: those whose last sweep
  binds them to that agent, and, when the region has one dead L3 agent, the routers
  left with too few replicas (Neutron rescheduled them away from it).
- on ML2/OVN, the routers of a dead gateway chassis join its host's incident: those
  whose gateway is (still) bound to it or that have it as a candidate, and, when it
  is the region's one dead gateway chassis, the region's "too few gateway chassis".
- a region's own finding (its APIs stopped answering) gathers every finding of the
  region that is held from stale data.
- any other finding is an incident of its own, without symptoms.

Every finding is in exactly one incident. An incident's severity is its worst
finding's, its `since` the earliest, and it is acknowledged when all of its
findings are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from osconsole.health import liveness, ovn, routers
from osconsole.health.findings import REGION, Finding, Scope, Severity, plural
from osconsole.model import Kind, RegionRef, Snapshot

L3_AGENT = "L3 agent"
REGION_RULES = frozenset({"region.unreachable", "region.stale"})  # assess's own
HOST_RULES = frozenset({"hypervisor.down", liveness.SERVICE_DOWN, liveness.SERVICE_FORCED_DOWN})
ROUTER_RULES = frozenset(
    {routers.NO_ACTIVE, routers.ACTIVE_ON_DEAD, routers.FEW_REPLICAS, routers.AGENT_DEAD}
)


@dataclass(frozen=True, slots=True)
class Incident:
    """One cause and the findings it explains. `key` is stable while it lasts: the
    host's or the region's, else its one finding's key."""

    key: str
    title: str
    cause: Finding
    symptoms: tuple[Finding, ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        return (self.cause, *self.symptoms)

    @property
    def severity(self) -> Severity:
        return max(f.severity for f in self.findings)

    @property
    def since(self) -> float:
        return min(f.since for f in self.findings)

    @property
    def since_from(self) -> str:
        """Where the earliest since comes from (its finding's `since_from`)."""
        return min(self.findings, key=lambda f: f.since).since_from

    @property
    def acknowledged(self) -> bool:
        return all(f.acknowledged for f in self.findings)

    @property
    def ref(self) -> RegionRef:
        return self.cause.subject.ref

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "severity": self.severity.word,
            "since": self.since,
            "cause": self.cause.key,
            "symptoms": [f.key for f in self.symptoms],
        }


def sort_key(incident: Incident) -> tuple[bool, int, float, str]:
    """Unacknowledged first, then the worst, then the newest (as findings sort)."""
    return (incident.acknowledged, -incident.severity, -incident.since, incident.key)


def _host_of(finding: Finding, snaps: Mapping[Scope, Snapshot[Any]]) -> str | None:
    """The host a finding's object lives on, for hypervisors, services and agents."""
    subject = finding.subject
    if subject.kind not in (Kind.HYPERVISORS, Kind.SERVICES, Kind.AGENTS):
        return None
    snap = snaps.get(subject.scope)
    item = snap.items.get(subject.id) if snap is not None else None
    if item is None:
        return None
    if subject.kind is Kind.HYPERVISORS:
        return str(item.service_host or item.hostname)
    if subject.kind is Kind.SERVICES and item.binary != "nova-compute":
        return None  # a control service down is its own incident, not a host's
    return str(item.host)


def _is_host_cause(finding: Finding) -> bool:
    if finding.subject.kind is Kind.AGENTS:
        return finding.rule == liveness.AGENT_DOWN
    return finding.rule in HOST_RULES


def _dead_l3_agents(
    members: Sequence[Finding], snaps: Mapping[Scope, Snapshot[Any]]
) -> list[tuple[str, str]]:
    """(agent id, host) of the dead L3 agents among `members`."""
    found = []
    for f in members:
        if f.subject.kind is Kind.AGENTS and f.rule == liveness.AGENT_DOWN:
            snap = snaps.get(f.subject.scope)
            agent = snap.items.get(f.subject.id) if snap else None
            if agent is not None and agent.agent_type == L3_AGENT:
                found.append((agent.id, agent.host))
    return found


def _dead_gateway_chassis(
    members: Sequence[Finding], snaps: Mapping[Scope, Snapshot[Any]]
) -> list[tuple[str, str]]:
    """(agent id, host) of the dead OVN gateway chassis among `members`."""
    found = []
    for f in members:
        if f.subject.kind is Kind.AGENTS and f.rule == liveness.AGENT_DOWN:
            snap = snaps.get(f.subject.scope)
            agent = snap.items.get(f.subject.id) if snap else None
            if agent is not None and agent.agent_type == liveness.OVN_GATEWAY_AGENT:
                found.append((agent.id, agent.host))
    return found


def _gateways_of(
    chassis: Sequence[tuple[str, str]], ref: RegionRef, snaps: Mapping[Scope, Snapshot[Any]]
) -> tuple[frozenset[str], frozenset[str]]:
    """Routers whose gateway is bound to one of `chassis`, and those that have one of
    them as a candidate."""
    snap = snaps.get((ref, Kind.ROUTERS))
    if snap is None or not chassis:
        return frozenset(), frozenset()
    ids = {agent_id for agent_id, _ in chassis}
    hosts = {host for _, host in chassis}
    routers_ = snap.items.values()
    on = frozenset(r.id for r in routers_ if r.gateway is not None and r.gateway.host in hosts)
    candidate = frozenset(
        r.id for r in routers_ if any(b.agent_id in ids for b in r.bindings or ())
    )
    return on, candidate


def _routers_of(
    agent_id: str, ref: RegionRef, snaps: Mapping[Scope, Snapshot[Any]]
) -> frozenset[str]:
    snap = snaps.get((ref, Kind.ROUTERS))
    if snap is None:
        return frozenset()
    return frozenset(
        r.id for r in snap.items.values() if any(b.agent_id == agent_id for b in r.bindings or ())
    )


def _cause_rank(finding: Finding) -> tuple[int, int]:
    order = {Kind.HYPERVISORS: 0, Kind.SERVICES: 1, Kind.AGENTS: 2}
    first = (L3_AGENT, liveness.OVN_GATEWAY_AGENT)
    l3 = 0 if finding.subject.name.startswith(first) else 1
    return (order.get(finding.subject.kind, 3), l3)  # type: ignore[call-overload]


def _title(
    host: str, members: Sequence[Finding], routed: Sequence[Finding], gateways: bool = False
) -> str:
    kinds = {f.subject.kind for f in members}
    agents = [f for f in members if f.subject.kind is Kind.AGENTS]
    if Kind.HYPERVISORS in kinds or Kind.SERVICES in kinds:
        parts = []
        if Kind.HYPERVISORS in kinds:
            parts.append("hypervisor down")
        if Kind.SERVICES in kinds:
            parts.append("nova-compute down")
        if agents:
            parts.append(f"{plural(len(agents), 'Neutron agent')} dead")
        title = f"compute host {host} down: {', '.join(parts)}"
    elif len(agents) == 1:
        title = f"{agents[0].subject.name} dead"
    else:
        title = f"host {host}: {plural(len(agents), 'Neutron agent')} dead"
    routed = [f for f in routed if f.subject.kind is Kind.ROUTERS]
    if routed:
        count = len({f.subject.id for f in routed})
        lacking = "a healthy gateway or candidates" if gateways else "a healthy active or replicas"
        title += f" → {plural(count, 'router')} without {lacking}"
    return title


def group(findings: Iterable[Finding], snaps: Mapping[Scope, Snapshot[Any]]) -> list[Incident]:
    """The incidents of `findings` (see the module docstring), worst first."""
    findings = list(findings)
    taken: set[str] = set()
    incidents: list[Incident] = []

    # Regions that stopped answering: everything they hold from stale data.
    for f in findings:
        if f.subject.kind != REGION or f.rule not in REGION_RULES:
            continue
        stale = {scope for scope, snap in snaps.items() if snap.stale and scope[0] == f.subject.ref}
        held = [g for g in findings if g is not f and g.subject.scope in stale]
        incidents.append(Incident(f"region@{f.subject.ref}", f.reason, f, tuple(held)))
        taken.add(f.key)
        taken.update(g.key for g in held)

    # Hosts: a hypervisor, its nova-compute and its agents.
    by_host: dict[tuple[RegionRef, str], list[Finding]] = {}
    for f in findings:
        if f.key in taken or not _is_host_cause(f):
            continue
        host = _host_of(f, snaps)
        if host is not None:
            by_host.setdefault((f.subject.ref, host), []).append(f)
    dead_l3_by_region: dict[RegionRef, int] = {}
    for (ref, _), members in by_host.items():
        dead_l3_by_region[ref] = dead_l3_by_region.get(ref, 0) + len(
            _dead_l3_agents(members, snaps)
        )
    dead_gateways_by_region: dict[RegionRef, int] = {}
    for (ref, _), members in by_host.items():
        dead_gateways_by_region[ref] = dead_gateways_by_region.get(ref, 0) + len(
            _dead_gateway_chassis(members, snaps)
        )
    router_findings = [f for f in findings if f.subject.kind is Kind.ROUTERS]
    few_chassis = [f for f in findings if f.rule == ovn.FEW_CHASSIS]
    for (ref, host), members in by_host.items():
        dead = _dead_l3_agents(members, snaps)
        hosted: set[str] = set()
        for agent_id, _ in dead:
            hosted |= _routers_of(agent_id, ref, snaps)
        routed = [
            r
            for r in router_findings
            if r.key not in taken
            and r.subject.ref == ref
            and r.rule in ROUTER_RULES
            and (
                r.subject.id in hosted
                or (r.rule == routers.FEW_REPLICAS and dead and dead_l3_by_region[ref] == 1)
            )
        ]
        gateways = _dead_gateway_chassis(members, snaps)
        if gateways:
            on, candidate = _gateways_of(gateways, ref, snaps)
            routed += [
                r
                for r in router_findings
                if r.key not in taken
                and r.subject.ref == ref
                and (
                    (r.rule in (ovn.NO_GATEWAY, ovn.ON_DEAD_CHASSIS) and r.subject.id in on)
                    or (r.rule == ovn.FEW_CANDIDATES and r.subject.id in candidate)
                )
            ]
            if dead_gateways_by_region[ref] == 1:
                routed += [f for f in few_chassis if f.key not in taken and f.subject.ref == ref]
        members.sort(key=_cause_rank)
        cause = members[0]
        symptoms = (*members[1:], *routed)
        key = f"host@{ref}/{host}"  # stable while its findings come and go
        title = _title(host, members, routed, bool(gateways))
        incidents.append(Incident(key, title, cause, symptoms))
        taken.update(f.key for f in members)
        taken.update(r.key for r in routed)

    # Everything else stands alone.
    for f in findings:
        if f.key not in taken:
            incidents.append(Incident(f.key, f.reason, f))
    incidents.sort(key=sort_key)
    return incidents


def paging(incidents: Iterable[Incident]) -> set[str]:
    """Keys of the incidents worth paging for: critical and not acknowledged."""
    return {i.key for i in incidents if i.severity is Severity.CRITICAL and not i.acknowledged}


def raised(before: Iterable[str], incidents: Iterable[Incident]) -> list[Incident]:
    """Incidents worth paging for that were not among the keys `before`: one
    notification (and one bell) per incident, never one per finding."""
    known, now = set(before), paging(incidents)
    return [i for i in incidents if i.key in now and i.key not in known]
