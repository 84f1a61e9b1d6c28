"""What changed between two snapshots of one kind: the event timeline.

After a page the operator asks "what changed in the last hour?". `diff(previous,
current)` answers for one region and kind with typed, timestamped events in plain
words: agents and services going down and up, restarts, services disabled and
enabled (with the reason), router failovers (the active moved), routers losing
their active and getting it back, split brain beginning and ending, hypervisors
going down and up, servers going to ERROR and tenant scores jumping.

Events are not debounced: the timeline records what each poll saw, including a
split brain of a few seconds during a failover (findings are where that waits).
Without a previous snapshot, or from a stale one (its last poll failed, the items
are the old ones), nothing is said: no change is known. Times are the server's
clock of the current snapshot when it gave one. `Timeline` keeps the previous
snapshot of each (region, kind) and the recent events, for the UI.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.findings import Scope, Severity, Subject, observed_time, plural
from osconsole.health.liveness import agent_name, service_name
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


@dataclass(frozen=True, slots=True)
class Event:
    """One change, in the operator's words, at the server's time of the snapshot that saw it."""

    kind: EventKind
    time: float
    subject: Subject
    description: str
    severity: Severity = Severity.INFO

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
    """(before, now) of every item in both snapshots, in the current snapshot's order."""
    before = previous.items
    for item_id, now in current.items.items():
        old = before.get(item_id)
        if old is not None:
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
            events.append(Event(EventKind.AGENT_DOWN, at, subject, f"{name} is dead", severity))
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
            events.append(Event(EventKind.SERVICE_DOWN, at, subject, f"{name} is {how}", severity))
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
        return [Event(EventKind.ROUTER_FAILOVER, at, subject, text, Severity.WARNING)]
    if before and not now and new.admin_state_up:
        text = f"{name} lost its active agent (was active on {', '.join(before)})"
        return [Event(EventKind.ROUTER_ACTIVE_LOST, at, subject, text, Severity.CRITICAL)]
    if now and not before and old.admin_state_up:
        text = f"{name} is active again on {', '.join(now)}"
        return [Event(EventKind.ROUTER_ACTIVE_BACK, at, subject, text)]
    return []


def _routers(
    prev: Snapshot[Router], cur: Snapshot[Router], at: float, t: Thresholds
) -> list[Event]:
    if cur.extra.get("ovn") or prev.extra.get("ovn"):
        return []
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
            events.append(Event(EventKind.HYPERVISOR_DOWN, at, subject, text, severity))
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


class Timeline:
    """The previous snapshot of each (region, kind) and the most recent events, oldest first.

    `observe` every snapshot as it arrives; a stale one is kept out of the comparison
    base (its items are the old ones anyway), so the next fresh poll is compared with
    the last fresh one.
    """

    def __init__(self, thresholds: Thresholds | None = None, keep: int = 5000) -> None:
        self.thresholds = thresholds or Thresholds()
        self.events: deque[Event] = deque(maxlen=keep)
        self._previous: dict[Scope, Snapshot[Any]] = {}

    def observe(self, snapshot: Snapshot[Any]) -> list[Event]:
        """The events `snapshot` brings (also appended to `events`)."""
        if snapshot.stale:
            return []
        scope = (snapshot.ref, snapshot.kind)
        found = diff(self._previous.get(scope), snapshot, self.thresholds)
        self._previous[scope] = snapshot
        self.events.extend(found)
        return found

    def since(self, time: float) -> list[Event]:
        """Events at or after `time` (server time), oldest first."""
        return [e for e in self.events if e.time >= time]
