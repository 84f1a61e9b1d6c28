"""The one judge: the latest snapshots in, one assessment per object out.

Every surface (the panes' rows and header counts, the findings list, the wall's
tiles and board, the drill-downs' verdicts, `osconsole snapshot`'s table and JSON)
shows what `assess` returns and nothing else, so they cannot disagree. One call per
poll (per repaint in the console and the wall, once in `snapshot`):

1. `reconcile`: one source per fact. A hypervisor's state and its nova-compute
   service's state are one Nova fact polled twice (two kinds, two moments); the
   newer look wins for both, so the hypervisors pane can never say DOWN beside a
   Liveness row saying `up`.
2. The rules (`osconsole.health.rules.look`) turn every fresh snapshot into
   conditions, plus the regions' own (`region_conditions`: a region whose APIs
   stopped answering); the `Tracker` debounces, holds (stale data proves nothing)
   and acknowledges them.
3. Every object of every snapshot gets an `Assessment`: its problems are the
   tracker's (active, acknowledged, or pending with the time it fires), its severity
   the highest of those that are findings, OK without any, and UNKNOWN when it could
   not be judged: an object read only in part (a tenant's ports listing failing, a
   hypervisor without its Placement usage) with no active problem, a router never
   swept (its bindings unread), a hypervisor whose state Nova does not know; a region
   is unknown, naming them, when some kinds were never read there (their objects are
   not absent, they are unknown).

4. The findings are grouped by cause into incidents (`osconsole.health.incidents`).

Only objects that are not OK are stored (`Verdicts.of` answers OK for the others):
30,000 objects are judged per poll and nearly all of them are fine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from osconsole.health import incidents, routers
from osconsole.health.findings import (
    OK_ASSESSMENT,
    REGION,
    Assessment,
    Condition,
    Coverage,
    Finding,
    Judged,
    Look,
    Problem,
    Scope,
    Severity,
    Subject,
    Tracker,
    judged,
    observed_time,
)
from osconsole.health.incidents import Incident
from osconsole.health.plane import Aspect, PlaneLook, merged, plane_assessment
from osconsole.health.rules import latest, look
from osconsole.model import Hypervisor, Kind, RegionRef, Service, Snapshot
from osconsole.text import format_age

NOT_SWEPT = "not checked yet"
STATE_UNKNOWN = "state unknown to Nova"
NOT_READ = "not read yet"
USAGE_NOT_READ = "not read: Placement usage"
PARTLY_READ = "read only in part"

REGION_UNREACHABLE = "region.unreachable"
REGION_STALE = "region.stale"
NOVA_COMPUTE = "nova-compute"
SINCE_LAST_ANSWER = "last answer"  # a region's since: its last poll that answered


# -- one source per fact -----------------------------------------------------------------


def _compute_state(service: Service) -> str:
    return "down" if service.forced_down or service.state != "up" else "up"


def _service_key(h: Hypervisor) -> str:
    return h.service_host or h.hostname


def reconcile(snapshots: Iterable[Snapshot[Any]]) -> list[Snapshot[Any]]:
    """The snapshots with each hypervisor's state, status and disabled reason and its
    nova-compute service's taken from whichever of the two was observed later.

    Snapshots and items that need no change are returned as they are (the panes
    compare rows by identity), so the common case costs one pass and no copy.
    """
    snaps = list(snapshots)
    hypervisors = {s.ref: s for s in snaps if s.kind is Kind.HYPERVISORS}
    services = {s.ref: s for s in snaps if s.kind is Kind.SERVICES}
    replaced: dict[int, Snapshot[Any]] = {}
    for ref, hyp in hypervisors.items():
        svc = services.get(ref)
        if svc is None:
            continue
        computes = {s.host: s for s in svc.items.values() if s.binary == NOVA_COMPUTE}
        if not computes:
            continue
        if observed_time(svc) >= observed_time(hyp):
            new = _hypervisors_from_services(hyp, computes)
            if new is not hyp:
                replaced[id(hyp)] = new
        else:
            new = _services_from_hypervisors(svc, hyp)
            if new is not svc:
                replaced[id(svc)] = new
    return [replaced.get(id(s), s) for s in snaps]


def _hypervisors_from_services(
    hyp: Snapshot[Hypervisor], computes: Mapping[str, Service]
) -> Snapshot[Hypervisor]:
    changed: dict[str, Hypervisor] = {}
    for hid, h in hyp.items.items():
        s = computes.get(_service_key(h))
        if s is None:
            continue
        state = _compute_state(s)
        fact = (state, s.status, s.disabled_reason, s.updated_at)
        if (h.state, h.status, h.disabled_reason, h.service_updated_at) != fact:
            changed[hid] = replace(
                h,
                state=state,
                status=s.status,
                disabled_reason=s.disabled_reason,
                service_updated_at=s.updated_at,
            )
    if not changed:
        return hyp
    return replace(hyp, items=Snapshot.freeze({**hyp.items, **changed}))


def _services_from_hypervisors(
    svc: Snapshot[Service], hyp: Snapshot[Hypervisor]
) -> Snapshot[Service]:
    by_host = {_service_key(h): h for h in hyp.items.values() if h.state in ("up", "down")}
    changed: dict[str, Service] = {}
    for sid, s in svc.items.items():
        h = by_host.get(s.host) if s.binary == NOVA_COMPUTE else None
        if h is None or s.forced_down:
            continue
        if (_compute_state(s), s.status, s.disabled_reason) != (
            h.state,
            h.status,
            h.disabled_reason,
        ):
            changed[sid] = replace(
                s, state=h.state, status=h.status, disabled_reason=h.disabled_reason
            )
    if not changed:
        return svc
    return replace(svc, items=Snapshot.freeze({**svc.items, **changed}))


# -- regions -------------------------------------------------------------------------------


def region_subject(ref: RegionRef) -> Subject:
    return Subject(ref, REGION, ref.region, ref.region)


def region_conditions(snapshots: Iterable[Snapshot[Any]]) -> list[Condition]:
    """A region whose APIs stopped answering: every kind's last poll failed (critical:
    the region is blind), or some kinds' (warning, naming them). Since is the last
    poll that answered. At once: the poller already retried with back-off."""
    by_region: dict[RegionRef, list[Snapshot[Any]]] = {}
    for snap in snapshots:
        by_region.setdefault(snap.ref, []).append(snap)
    found = []
    for ref, snaps in by_region.items():
        stale = sorted((s for s in snaps if s.stale), key=lambda s: s.kind.value)
        if not stale:
            continue
        last = min(s.fetched_at for s in stale)
        now = max(s.fetched_at for s in snaps)  # our polls, on our clock (see _with_regions)
        why = next((s.error for s in stale if s.error), "")
        kinds = ", ".join(s.kind.value for s in stale)
        if len(stale) == len(snaps):
            rule, severity, label = REGION_UNREACHABLE, Severity.CRITICAL, "NOT ANSWERING"
            text = f"region {ref.region}: no API answers ({kinds})"
        else:
            rule, severity, label = REGION_STALE, Severity.WARNING, f"STALE {kinds}"
            text = f"region {ref.region}: {kinds} not answering"
        text += f"; last answer {format_age(max(0.0, now - last))} ago"
        text += f": {why}" if why else ""
        essence = f"region {ref.region}: {kinds}"
        problem = Problem(rule, severity, label, text, essence, last, SINCE_LAST_ANSWER)
        found.append(Condition.of(problem, region_subject(ref), now))
    return found


# -- the verdicts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Every object's assessment after one look, and what the tracker made of it.

    `scopes` holds, per (region, kind), the assessments that are not OK, by item id;
    `snapshots` are the reconciled snapshots they judge (what the panes must show);
    `regions` each region's own assessment (its APIs answering, and its control plane:
    each service's availability, lead times, probes)."""

    snapshots: Mapping[Scope, Snapshot[Any]] = field(default_factory=dict)
    scopes: Mapping[Scope, Mapping[str, Assessment]] = field(default_factory=dict)
    regions: Mapping[RegionRef, Assessment] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    raised: tuple[Finding, ...] = ()
    cleared: tuple[Finding, ...] = ()
    incidents: tuple[Incident, ...] = ()  # the findings grouped by cause, worst first

    def of(self, ref: RegionRef, kind: Kind, item_id: str) -> Assessment:
        """The object's assessment: UNKNOWN ("not read yet") when no snapshot has it."""
        found = self.scopes.get((ref, kind), {}).get(item_id)
        if found is not None:
            return found
        snap = self.snapshots.get((ref, kind))
        if snap is None or item_id not in snap.items:
            return Assessment(Severity.UNKNOWN, (), NOT_READ)
        return OK_ASSESSMENT

    def scope(self, ref: RegionRef, kind: Kind) -> Mapping[str, Assessment]:
        return self.scopes.get((ref, kind), {})

    def each(self) -> Iterator[tuple[Subject, Assessment]]:
        """Every object read (regions first), with its assessment, in snapshot order."""
        for ref, assessment in self.regions.items():
            yield region_subject(ref), assessment
        for (ref, kind), snap in self.snapshots.items():
            judged_here = self.scopes.get((ref, kind), {})
            for item_id, item in snap.items.items():
                yield (
                    Subject(ref, Kind(kind), item_id, subject_name(kind, item)),
                    judged_here.get(item_id, OK_ASSESSMENT),
                )


def subject_name(kind: Kind | str, item: Any) -> str:
    """An object's name as the findings name it."""
    from osconsole.health.liveness import agent_name, service_name

    if kind is Kind.HYPERVISORS:
        return item.hostname
    if kind is Kind.ROUTERS:
        return routers.router_name(item)
    if kind is Kind.AGENTS:
        return agent_name(item)
    if kind is Kind.SERVICES:
        return service_name(item)
    if kind is Kind.TENANTS:
        return item.project_name or item.project_id
    return str(getattr(item, "id", ""))


def _unknown_ids(snap: Snapshot[Any]) -> list[tuple[str, list[str]]]:
    """Which objects of a snapshot cannot be fully judged yet, and why: objects read
    only in part (what was not read proves nothing; named in the reason), routers never
    swept (their bindings unread; not on OVN, which has none), hypervisors whose state
    Nova does not know. Later reasons win over earlier ones."""
    found = _partly_read(snap)
    if snap.kind is Kind.ROUTERS and not snap.extra.get("ovn"):
        found.append((NOT_SWEPT, [i for i, r in snap.items.items() if r.bindings is None]))
    if snap.kind is Kind.HYPERVISORS:
        known = ("up", "down")
        found.append((STATE_UNKNOWN, [i for i, h in snap.items.items() if h.state not in known]))
    return found


def _partly_read(snap: Snapshot[Any]) -> list[tuple[str, list[str]]]:
    """Objects read only in part (Snapshot.partly_read; a tenant's signals or quotas
    never read), by the reason naming what was not read."""
    by_why: dict[str, list[str]] = {}
    if snap.kind is Kind.TENANTS:
        for item_id, tenant in snap.items.items():
            parts = (*tenant.unread, *(f"{s} quotas" for s in tenant.quotas_unknown))
            if parts:
                by_why.setdefault(f"not read: {', '.join(parts)}", []).append(item_id)
        return list(by_why.items())
    why = USAGE_NOT_READ if snap.kind is Kind.HYPERVISORS else PARTLY_READ
    ids = [i for i in snap.partly_read if i in snap.items]
    return [(why, ids)] if ids else []


def never_read(snaps: Iterable[Snapshot[Any]], ref: RegionRef) -> str:
    """The kinds a region's polls never read ("hypervisors, services not read"): their
    objects are unknown there, not absent."""
    kinds = sorted(s.kind.value for s in snaps if s.ref == ref and s.never_read)
    return f"{', '.join(kinds)} not read" if kinds else ""


def assess(
    snapshots: Iterable[Snapshot[Any]], tracker: Tracker, plane: Iterable[PlaneLook] = ()
) -> Verdicts:
    """Judge every object of the latest snapshots, and the control plane's looks
    (`osconsole.health.plane`: each service's API, lead times, probes), see the module
    docstring. Judging the same snapshots again changes nothing, so calling it on every
    repaint is safe."""
    from osconsole.health import liveness

    snaps = reconcile(latest(snapshots).values())
    for snap in snaps:
        liveness.observe(tracker.history, snap)
    seen = look(snaps, tracker.thresholds, tracker.history, tracker.memo)
    update = tracker.update(_with_regions(seen, snaps, plane, tracker))
    return _verdicts(snaps, tracker.problems(), update.findings, update.raised, update.cleared)


def assess_once(
    snapshots: Iterable[Snapshot[Any]], tracker: Tracker, plane: Iterable[PlaneLook] = ()
) -> Verdicts:
    """One look with nothing debounced (no earlier look to wait from): `osconsole snapshot`."""
    snaps = reconcile(latest(snapshots).values())
    seen = _with_regions(look(snaps, tracker.thresholds), snaps, plane, tracker)
    undelayed = tuple(replace(c, debounce=0.0) for c in seen.conditions)
    update = tracker.update(replace(seen, conditions=undelayed))
    return _verdicts(snaps, tracker.problems(), update.findings, update.raised, update.cleared)


def _with_regions(
    seen: Look, snaps: list[Snapshot[Any]], plane: Iterable[PlaneLook], tracker: Tracker
) -> Look:
    """The look at the snapshots, with each region's own conditions (its APIs answering
    or not, and its control plane's) and the scopes they cover."""
    fresh = dict(seen.fresh)
    for ref in {s.ref for s in snaps}:
        # Whether a region answers is about our polls: judged on our clock (a poll that
        # failed from the start has no server time to compare with).
        fresh[(ref, REGION)] = Coverage(max(s.fetched_at for s in snaps if s.ref == ref))
    regions = Look((*seen.conditions, *region_conditions(snaps)), fresh)
    return merged(regions, plane_assessment(plane, tracker.thresholds))


def _verdicts(
    snaps: list[Snapshot[Any]],
    problems: Mapping[Scope, Mapping[str, list[Judged]]],
    findings: tuple[Finding, ...],
    raised: tuple[Finding, ...],
    cleared: tuple[Finding, ...],
) -> Verdicts:
    unknowns: dict[str, Assessment] = {}  # one shared assessment per reason
    scopes: dict[Scope, dict[str, Assessment]] = {}
    for snap in snaps:
        scope = (snap.ref, snap.kind)
        found: dict[str, Assessment] = {}
        for why, ids in _unknown_ids(snap):
            shared = unknowns.get(why)
            if shared is None:
                shared = unknowns[why] = Assessment(Severity.UNKNOWN, (), why)
            found.update(dict.fromkeys(ids, shared))
        items = snap.items
        for item_id, mine in problems.get(scope, {}).items():  # few: not looked up per item
            if item_id in items:
                why = found[item_id].unknown if item_id in found else ""
                found[item_id] = judged(tuple(mine), why)
        scopes[scope] = found
    regions = {}
    for ref in dict.fromkeys(s.ref for s in snaps):
        mine = list(problems.get((ref, REGION), {}).get(ref.region, ()))
        for aspect in Aspect:  # its control plane: APIs, lead times, probes
            for found in problems.get((ref, aspect), {}).values():
                mine += found
        regions[ref] = judged(tuple(mine), never_read(snaps, ref))
    by_scope = {(s.ref, s.kind): s for s in snaps}
    return Verdicts(
        snapshots=by_scope,
        scopes=scopes,
        regions=regions,
        findings=findings,
        raised=raised,
        cleared=cleared,
        incidents=tuple(incidents.group(findings, by_scope)),
    )
