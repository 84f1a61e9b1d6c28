"""What changed between two snapshots of one kind: the event timeline.

After a page the operator asks "what changed in the last hour?". `diff(previous,
current)` answers for one region and kind with typed, timestamped events in plain
words: agents and services going down and up, restarts, services disabled and
enabled (with the reason), router failovers (the active moved), routers losing
their active and getting it back, split brain beginning and ending, hypervisors
going down and up, servers going to ERROR and tenant scores jumping. On ML2/OVN a
router's gateway moving to another chassis is its failover (the gateway port's host
changed), a gateway on no chassis its active lost.

Events are not debounced: the timeline records what each poll saw, including a
split brain of a few seconds during a failover (findings are where that waits).
The timeline groups what one cause did: routers failing over from one host in one
poll are one line, tied to their L3 agent's death when the timeline saw it ("L3
agent on net02 dead → 12 routers failed over"; on ML2/OVN the gateways leaving one
chassis, tied to its gateway agent's death), a dead compute host is one line
whatever order its kinds' polls saw its parts in ("compute host cmp03 down:
hypervisor, nova-compute, Open vSwitch agent"), and a storm (more than STORM events
of one kind in one poll) is one line with its count, whatever its size.
Without a previous snapshot, or from a stale one (its last poll failed, the items
are the old ones), nothing is said: no change is known. Times are the server's
clock of the current snapshot when it gave one. `Timeline` keeps the previous
snapshot of each (region, kind) and the recent events, for the UI.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.findings import Scope, Severity, Subject, observed_time, plural
from osconsole.health.liveness import agent_name, service_name
from osconsole.health.ovn import active_chassis
from osconsole.health.routers import is_ha, router_name
from osconsole.health.tenants import score
from osconsole.model import Agent, Hypervisor, Kind, Router, Service, Snapshot, TenantSignals


class EventKind(StrEnum):
    AGENT_DOWN = "agent.down"
    AGENT_UP = "agent.up"
    AGENT_RESTARTED = "agent.restarted"
    SERVICE_DOWN = "service.down"
    SERVICE_UP = "service.up"
    SERVICE_DISABLED = "service.disabled"
    SERVICE_ENABLED = "service.enabled"
    ROUTER_FAILOVER = "router.failover"
    ROUTER_ACTIVE_LOST = "router.active_lost"
    ROUTER_ACTIVE_BACK = "router.active_back"
    SPLIT_BRAIN_BEGINS = "router.split_brain_begins"
    SPLIT_BRAIN_ENDS = "router.split_brain_ends"
    HYPERVISOR_DOWN = "hypervisor.down"
    HYPERVISOR_UP = "hypervisor.up"
    SERVER_ERROR = "tenant.server_error"
    TENANT_SCORE_JUMP = "tenant.score_jump"
    ROUTERS_FAILED_OVER = "router.failovers"  # several routers, from one host, one poll
    HOST_DOWN = "host.down"  # a compute host's hypervisor, nova-compute and agents going down
    STORM = "storm"  # many events of one kind in one poll


@dataclass(frozen=True, slots=True)
class Event:
    """One change, in the operator's words, at the server's time of the snapshot that saw it."""

    kind: EventKind
    time: float
    subject: Subject
    description: str
    severity: Severity = Severity.INFO
    origin: str = ""  # the host it is about or moved away from (grouping by cause)
    count: int = 1  # events this line stands for (a group, a storm)
    members: tuple[Event, ...] = ()  # the first MEMBERS_KEPT of them

    @property
    def region(self) -> str:
        return self.subject.region

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "time": self.time,
            "subject": self.subject.as_dict(),
            "description": self.description,
            "severity": self.severity.name.lower(),
            "count": self.count,
        }


Differ = Callable[[Snapshot[Any], Snapshot[Any], float, Thresholds], list[Event]]


def diff(
    previous: Snapshot[Any] | None,
    current: Snapshot[Any],
    thresholds: Thresholds | None = None,
) -> list[Event]:
    """Events between two snapshots of the same region and kind, in a stable order."""
    if previous is None or current.stale or previous.kind != current.kind:
        return []
    if previous.ref != current.ref:
        raise ValueError(f"cannot compare {previous.ref} with {current.ref}")
    differ = DIFFERS.get(current.kind)
    if differ is None:
        return []
    return differ(previous, current, observed_time(current), thresholds or Thresholds())


def _pairs(previous: Snapshot[Any], current: Snapshot[Any]) -> Iterable[tuple[Any, Any]]:
    """(before, now) of every item in both snapshots that is not the very same object
    (collectors keep unchanged items), in the current snapshot's order."""
    before = previous.items
    for item_id, now in current.items.items():
        old = before.get(item_id)
        if old is not None and old is not now:  # the very same (frozen) item: no change
            yield old, now


# -- liveness ----------------------------------------------------------------------------


def _agents(prev: Snapshot[Agent], cur: Snapshot[Agent], at: float, t: Thresholds) -> list[Event]:
    events = []
    for old, new in _pairs(prev, cur):
        subject = Subject(cur.ref, Kind.AGENTS, new.id, agent_name(new))
        name = subject.name
        restarted = (
            old.started_at is not None
            and new.started_at is not None
            and new.started_at != old.started_at
        )
        if old.alive and not new.alive:
            severity = Severity.CRITICAL if new.admin_state_up else Severity.WARNING
            text = f"{name} is dead"
            events.append(Event(EventKind.AGENT_DOWN, at, subject, text, severity, new.host))
        elif not old.alive and new.alive:
            words = f"{name} is alive again" + (" (restarted)" if restarted else "")
            events.append(Event(EventKind.AGENT_UP, at, subject, words))
        elif restarted:
            events.append(Event(EventKind.AGENT_RESTARTED, at, subject, f"{name} restarted"))
    return events


def _reason(reason: str | None) -> str:
    return f": {reason}" if reason else " (no reason given)"


def _services(
    prev: Snapshot[Service], cur: Snapshot[Service], at: float, t: Thresholds
) -> list[Event]:
    events = []
    for old, new in _pairs(prev, cur):
        subject = Subject(cur.ref, Kind.SERVICES, new.id, service_name(new))
        name = subject.name
        was_up, is_up = old.state == "up" and not old.forced_down, new.state == "up"
        is_up = is_up and not new.forced_down
        if was_up and not is_up:
            how = "forced down by an operator" if new.forced_down else "down"
            severity = Severity.CRITICAL if new.status == "enabled" else Severity.WARNING
            text = f"{name} is {how}"
            events.append(Event(EventKind.SERVICE_DOWN, at, subject, text, severity, new.host))
        elif is_up and not was_up:
            events.append(Event(EventKind.SERVICE_UP, at, subject, f"{name} is up again"))
        if old.status == "enabled" and new.status == "disabled":
            text = f"{name} was disabled{_reason(new.disabled_reason)}"
            events.append(Event(EventKind.SERVICE_DISABLED, at, subject, text))
        elif old.status == "disabled" and new.status == "enabled":
            events.append(Event(EventKind.SERVICE_ENABLED, at, subject, f"{name} was enabled"))
    return events


# -- routers ------------------------------------------------------------------------------


def _live_actives(router: Router) -> tuple[str, ...]:
    return tuple(
        sorted(
            b.host or b.agent_id
            for b in router.bindings or ()
            if b.ha_state == "active" and b.agent_alive
        )
    )


def _router_events(old: Router, new: Router, subject: Subject, at: float) -> list[Event]:
    before, now = _live_actives(old), _live_actives(new)
    if before == now:
        return []
    name = f"router {router_name(new)}"
    if len(now) >= 2 > len(before):
        text = f"{name} is active on {len(now)} agents: {', '.join(now)} (split brain begins)"
        return [Event(EventKind.SPLIT_BRAIN_BEGINS, at, subject, text, Severity.CRITICAL)]
    if len(before) >= 2 > len(now):
        where = f"active on {now[0]} only" if now else "no agent is active"
        text = f"{name}: split brain over, {where}"
        return [Event(EventKind.SPLIT_BRAIN_ENDS, at, subject, text)]
    if len(before) == 1 and len(now) == 1:
        text = f"{name} failed over from {before[0]} to {now[0]}"
        return [Event(EventKind.ROUTER_FAILOVER, at, subject, text, Severity.WARNING, before[0])]
    if before and not now and new.admin_state_up:
        text = f"{name} lost its active agent (was active on {', '.join(before)})"
        lost = EventKind.ROUTER_ACTIVE_LOST
        return [Event(lost, at, subject, text, Severity.CRITICAL, ", ".join(before))]
    if now and not before and old.admin_state_up:
        text = f"{name} is active again on {', '.join(now)}"
        return [Event(EventKind.ROUTER_ACTIVE_BACK, at, subject, text)]
    return []


def _gateway_events(old: Router, new: Router, subject: Subject, at: float) -> list[Event]:
    """ML2/OVN: the chassis a router's gateway is active on, before and now."""
    if old.gateway is None or new.gateway is None:
        return []
    before, now = active_chassis(old), active_chassis(new)
    if before == now:
        return []
    name = f"router {router_name(new)}"
    if before and now:
        text = f"{name}'s gateway failed over from {before} to {now}"
        return [Event(EventKind.ROUTER_FAILOVER, at, subject, text, Severity.WARNING, before)]
    if before and new.admin_state_up:
        text = f"{name} lost its active gateway (was on {before}; port {new.gateway.status})"
        lost = EventKind.ROUTER_ACTIVE_LOST
        return [Event(lost, at, subject, text, Severity.CRITICAL, before)]
    if now and old.admin_state_up:
        text = f"{name}'s gateway is active again on {now}"
        return [Event(EventKind.ROUTER_ACTIVE_BACK, at, subject, text)]
    return []


def _routers(
    prev: Snapshot[Router], cur: Snapshot[Router], at: float, t: Thresholds
) -> list[Event]:
    if cur.extra.get("ovn") or prev.extra.get("ovn"):
        if not (cur.extra.get("ovn") and prev.extra.get("ovn")):
            return []  # the region changed backends: nothing comparable
        return [
            e
            for old, new in _pairs(prev, cur)
            for e in _gateway_events(
                old, new, Subject(cur.ref, Kind.ROUTERS, new.id, router_name(new)), at
            )
        ]
    events = []
    for old, new in _pairs(prev, cur):
        if old.bindings is None or new.bindings is None or not (is_ha(old) and is_ha(new)):
            continue
        subject = Subject(cur.ref, Kind.ROUTERS, new.id, router_name(new))
        events += _router_events(old, new, subject, at)
    return events


# -- hypervisors --------------------------------------------------------------------------


def _hypervisors(
    prev: Snapshot[Hypervisor], cur: Snapshot[Hypervisor], at: float, t: Thresholds
) -> list[Event]:
    events = []
    for old, new in _pairs(prev, cur):
        subject = Subject(cur.ref, Kind.HYPERVISORS, new.id, new.hostname)
        name = f"hypervisor {new.hostname}"
        if old.state != "down" and new.state == "down":
            vms = new.running_vms
            if vms:
                text, severity = (
                    f"{name} is down with {plural(vms, 'server')} at risk",
                    Severity.CRITICAL,
                )
            else:
                text, severity = f"{name} is down", Severity.WARNING
            host = new.service_host or new.hostname
            events.append(Event(EventKind.HYPERVISOR_DOWN, at, subject, text, severity, host))
        elif old.state == "down" and new.state == "up":
            events.append(Event(EventKind.HYPERVISOR_UP, at, subject, f"{name} is up again"))
    return events


# -- tenants ------------------------------------------------------------------------------


def _tenants(
    prev: Snapshot[TenantSignals], cur: Snapshot[TenantSignals], at: float, t: Thresholds
) -> list[Event]:
    events = []
    before = prev.items
    for project_id, new in cur.items.items():
        old = before.get(project_id) or TenantSignals(project_id, new.project_name)
        name = new.project_name or project_id
        subject = Subject(cur.ref, Kind.TENANTS, project_id, name)
        if old.error_servers is None or new.error_servers is None:  # unknown: no news
            errors = []
        else:
            known = set(old.error_servers)
            errors = [s for s in new.error_servers if s not in known]
        if errors:
            more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
            shown = ", ".join(errors[:3]) + more
            text = f"project {name}: {plural(len(errors), 'server')} went to ERROR ({shown})"
            events.append(Event(EventKind.SERVER_ERROR, at, subject, text, Severity.WARNING))
        events += _score_jump(old, new, subject, at, t)
    return events


def _score_jump(
    old: TenantSignals, new: TenantSignals, subject: Subject, at: float, t: Thresholds
) -> list[Event]:
    if old == new or old.unread != new.unread:  # a signal read or lost is no jump
        return []
    was, now = score(old, t), score(new, t)
    if abs(now.score - was.score) <= t.tenant_score_jump:
        return []
    name = f"project {subject.name}"
    if now.score > was.score:
        why = f": {now.reasons[0]}" if now.reasons else ""
        text = f"{name}: score rose from {was.score:.0f} to {now.score:.0f}{why}"
        severity = Severity.WARNING
    else:
        text = f"{name}: score fell from {was.score:.0f} to {now.score:.0f}"
        severity = Severity.INFO
    return [Event(EventKind.TENANT_SCORE_JUMP, at, subject, text, severity)]


DIFFERS: Mapping[Kind, Differ] = {
    Kind.AGENTS: _agents,
    Kind.SERVICES: _services,
    Kind.ROUTERS: _routers,
    Kind.HYPERVISORS: _hypervisors,
    Kind.TENANTS: _tenants,
}


# -- the timeline ---------------------------------------------------------------------------


GROUP_MIN = 2  # routers moving away from one host in one poll: one line from here
STORM = 10  # more events of one kind in one poll than this: one line
MEMBERS_KEPT = 20  # events a grouped line keeps (its count says how many there were)
CAUSE_WINDOW = 600.0  # seconds within which an agent's death explains router moves
MOVED = (EventKind.ROUTER_FAILOVER, EventKind.ROUTER_ACTIVE_LOST)
MOVERS = ("L3 agent", "OVN Controller Gateway agent")  # agents whose death moves routers


def _moved_words(events: list[Event]) -> str:
    failed = sum(1 for e in events if e.kind is EventKind.ROUTER_FAILOVER)
    lost = len(events) - failed
    words = []
    if failed:
        words.append(f"{plural(failed, 'router')} failed over")
    if lost:
        words.append(f"{plural(lost, 'router')} lost {'its' if lost == 1 else 'their'} active")
    return ", ".join(words)


HOST_PARTS = (EventKind.HYPERVISOR_DOWN, EventKind.SERVICE_DOWN, EventKind.AGENT_DOWN)


def _compute_part(event: Event) -> bool:
    """A hypervisor or its nova-compute: what makes a host's deaths a compute host's."""
    if event.kind is EventKind.SERVICE_DOWN:
        return event.subject.name.startswith("nova-compute")
    return event.kind is EventKind.HYPERVISOR_DOWN


def _part(event: Event) -> str:
    """A host-down member in one word or two: "hypervisor", "nova-compute", "L3 agent"."""
    if event.kind is EventKind.HYPERVISOR_DOWN:
        return "hypervisor"
    return event.subject.name.split(" on ", 1)[0]


def _host_words(host: str, members: list[Event]) -> str:
    parts = list(dict.fromkeys(_part(e) for e in members))
    return f"compute host {host} down: {', '.join(parts)}"


def _grouped(kind: EventKind, members: list[Event], subject: Subject, text: str) -> Event:
    return Event(
        kind,
        members[0].time,
        subject,
        text,
        max(e.severity for e in members),
        members[0].origin,
        sum(e.count for e in members),
        tuple(members[:MEMBERS_KEPT]),
    )


class Timeline:
    """The previous snapshot of each (region, kind) and the most recent events, oldest first.

    `observe` every snapshot as it arrives; a stale one is kept out of the comparison
    base (its items are the old ones anyway), so the next fresh poll is compared with
    the last fresh one. Events of one cause are grouped (see the module docstring).
    """

    def __init__(self, thresholds: Thresholds | None = None, keep: int = 5000) -> None:
        self.thresholds = thresholds or Thresholds()
        self.events: deque[Event] = deque(maxlen=keep)
        self._previous: dict[Scope, Snapshot[Any]] = {}

    def observe(self, snapshot: Snapshot[Any]) -> list[Event]:
        """The events `snapshot` brings, grouped (also appended to `events`)."""
        if snapshot.stale:
            return []
        scope = (snapshot.ref, snapshot.kind)
        found = diff(self._previous.get(scope), snapshot, self.thresholds)
        self._previous[scope] = snapshot
        grouped = [self._with_host(e) for e in self._group(found)]
        self.events.extend(grouped)
        return grouped

    def _with_host(self, event: Event) -> Event:
        """A compute host's hypervisor, nova-compute and agents going down (each kind seen
        by its own poll) are one line: a part joins the host's recent line, which
        leaves the timeline and comes back with it ("compute host cmp03 down:
        hypervisor, nova-compute, Open vSwitch agent"); the parts are its members."""
        if event.kind not in HOST_PARTS or not event.origin:
            return event
        ref, host = event.subject.ref, event.origin
        for index in range(len(self.events) - 1, -1, -1):
            earlier = self.events[index]
            if event.time - earlier.time > CAUSE_WINDOW:
                return event
            same_host = earlier.origin == host and earlier.subject.ref == ref
            if not same_host or earlier.kind not in (*HOST_PARTS, EventKind.HOST_DOWN):
                continue
            parts = [*(earlier.members or (earlier,)), event]
            if not any(_compute_part(e) for e in parts):
                return event  # agents or control services alone: no compute host
            del self.events[index]
            subject = Subject(ref, Kind.HYPERVISORS, f"host:{host}", f"compute host {host}")
            return _grouped(EventKind.HOST_DOWN, parts, subject, _host_words(host, parts))
        return event

    def _group(self, found: list[Event]) -> list[Event]:
        if len(found) < GROUP_MIN:
            return [self._explained(e) for e in found]
        by_origin: dict[str, list[Event]] = {}
        rest: list[Event] = []
        for event in found:
            if event.kind in MOVED:
                by_origin.setdefault(event.origin, []).append(event)
            else:
                rest.append(event)
        out: list[Event] = []
        for origin, moved in by_origin.items():
            if len(moved) < GROUP_MIN:
                rest.extend(moved)
                continue
            ref = moved[0].subject.ref
            cause = self._death_of(ref, origin, moved[0].time)
            head = f"{cause.subject.name} dead → " if cause else f"from {origin}: "
            subject = Subject(ref, Kind.ROUTERS, f"from:{origin}", f"routers on {origin}")
            kind = EventKind.ROUTERS_FAILED_OVER
            out.append(_grouped(kind, moved, subject, head + _moved_words(moved)))
        by_kind: dict[EventKind, list[Event]] = {}
        for event in rest:
            by_kind.setdefault(event.kind, []).append(event)
        for kind, same in by_kind.items():
            if len(same) <= STORM:
                out.extend(self._explained(e) for e in same)
                continue
            shown = "; ".join(e.description for e in same[:2])
            text = f"{len(same):,} at once ({kind.value}): {shown} and {len(same) - 2:,} more"
            out.append(_grouped(EventKind.STORM, same, same[0].subject, text))
        return out

    def _death_of(self, ref: Any, host: str, at: float) -> Event | None:
        """The recent death of the L3 agent (or OVN gateway chassis) on `host` in region
        `ref`, if seen."""
        for event in reversed(self.events):
            if at - event.time > CAUSE_WINDOW:
                return None
            if (
                event.kind is EventKind.AGENT_DOWN
                and event.origin == host
                and event.subject.ref == ref
                and event.subject.name.startswith(MOVERS)
            ):
                return event
        return None

    def _explained(self, event: Event) -> Event:
        """An L3 agent's (or gateway chassis') death, with the routers it already moved
        (VRRP or BFD fail over in seconds; Neutron declares the agent dead 75 s later)."""
        if event.kind is not EventKind.AGENT_DOWN or not event.subject.name.startswith(MOVERS):
            return event
        moved: list[Event] = []
        for earlier in reversed(self.events):
            if event.time - earlier.time > CAUSE_WINDOW:
                break
            if earlier.subject.ref != event.subject.ref or earlier.origin != event.origin:
                continue
            if earlier.kind in MOVED or earlier.kind is EventKind.ROUTERS_FAILED_OVER:
                moved.extend(earlier.members or (earlier,))
        if not moved:
            return event
        text = f"{event.description} → {_moved_words(moved)} (seen before it was declared dead)"
        return replace(event, description=text, members=tuple(moved[:MEMBERS_KEPT]))

    def since(self, time: float) -> list[Event]:
        """Events at or after `time` (server time), oldest first."""
        return [e for e in self.events if e.time >= time]
