"""Every rule over every fresh snapshot: `look(snapshots)` gives the conditions of one
look at the cloud, which `osconsole.health.assess` (the one judge) hands to the
tracker and turns into one assessment per object.

The tenants rule lives here because it ranks across regions: the
`thresholds.top_tenants` highest scores of `osconsole.health.tenants.score` (the
pane's ranking), each a finding whose severity follows the pane's cuts
(`tenant_severity`) and whose reason is the score and all its reasons. At once:
the signals are already counted over an hour or a threshold.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from typing import Any

from osconsole.config import Thresholds
from osconsole.health import hypervisors, liveness, ovn, routers
from osconsole.health.findings import (
    Condition,
    Coverage,
    History,
    Look,
    Memo,
    Scope,
    Severity,
    Subject,
    observed_time,
)
from osconsole.health.tenants import RULES as TENANT_RULES
from osconsole.health.tenants import score
from osconsole.model import Kind, Snapshot, TenantSignals

TENANT_SCORE = "tenant.score"
TENANT_CRITICAL, TENANT_WARNING = 50.0, 20.0
L3_AGENT_TYPE = "L3 agent"


def tenant_severity(points: float) -> Severity:
    """Score cuts, set against the weights of osconsole.health.tenants: 50 or more is
    critical (spoofing with a sensitive port open, or three spoofing ports), 20 or more
    a warning (one spoofing port or one sensitive port open to the world), anything
    above 0 is worth knowing (views.tenant_severity)."""
    if points >= TENANT_CRITICAL:
        return Severity.CRITICAL
    if points >= TENANT_WARNING:
        return Severity.WARNING
    return Severity.INFO if points > 0 else Severity.OK


def latest(snapshots: Iterable[Snapshot[Any]]) -> dict[Scope, Snapshot[Any]]:
    """The newest snapshot of each (region, kind)."""
    found: dict[Scope, Snapshot[Any]] = {}
    for snap in snapshots:
        scope = (snap.ref, snap.kind)
        if scope not in found or snap.fetched_at >= found[scope].fetched_at:
            found[scope] = snap
    return found


def _coverage(snap: Snapshot[Any]) -> Coverage:
    """What a fresh snapshot read in full: everything, or (partial) its items less
    those read only in part."""
    if snap.complete and not snap.partly_read and not snap.held:
        return Coverage(observed_time(snap))
    return Coverage(observed_time(snap), frozenset(snap.items) - snap.partly_read - set(snap.held))


def _live_l3_from_agents(snap: Snapshot[Any] | None) -> int | None:
    if snap is None or snap.stale:
        return None
    return sum(
        1
        for a in snap.items.values()
        if a.agent_type == L3_AGENT_TYPE and a.alive and a.admin_state_up
    )


def _essence(signals: TenantSignals, thresholds: Thresholds) -> str:
    """Which of the tenant rules fire, not their counts: counts moving every poll
    (churn, servers in ERROR) do not un-acknowledge, a new kind of reason does."""
    fired = (rule.__name__.strip("_") for rule in TENANT_RULES if rule(signals, thresholds))
    return ", ".join(fired)


def tenant_conditions(
    snapshots: Sequence[Snapshot[TenantSignals]], thresholds: Thresholds
) -> list[Condition]:
    """The top `thresholds.top_tenants` projects by score across `snapshots`, one
    condition each (projects scoring 0 are left out)."""
    flagged = []
    for snap in snapshots:
        for signals in snap.items.values():
            result = score(signals, thresholds)
            if result.score > 0:
                flagged.append((result.score, snap.ref.region, signals, snap, result))
    top = heapq.nsmallest(
        thresholds.top_tenants,
        flagged,
        key=lambda f: (-f[0], f[1], f[2].project_name, f[2].project_id),
    )
    found = []
    for points, _, signals, snap, result in top:
        name = signals.project_name or signals.project_id
        subject = Subject(snap.ref, Kind.TENANTS, signals.project_id, name)
        reason = f"project {name} scores {points:.0f}: {'; '.join(result.reasons)}"
        if result.unread:
            reason += f" (not read: {', '.join(result.unread)})"
        found.append(
            Condition(
                rule=TENANT_SCORE,
                severity=tenant_severity(points),
                subject=subject,
                reason=reason,
                observed_at=observed_time(snap),
                essence=f"project {name}: {_essence(signals, thresholds)}",
            )
        )
    return found


def look(
    snapshots: Iterable[Snapshot[Any]],
    thresholds: Thresholds | None = None,
    history: History | None = None,
    memo: Memo | None = None,
) -> Look:
    """Every rule over every fresh snapshot (the newest of each region and kind).

    Stale snapshots are left out: their scopes are not fresh, so the tracker neither
    raises nor clears anything from them. `history` (fed by the assessor) adds flapping
    and restarts; without it those rules are skipped. `memo` keeps the problems of
    unchanged routers and hypervisors from the previous look.
    """
    thresholds = thresholds or Thresholds()
    newest = latest(snapshots)
    fresh = {scope: snap for scope, snap in newest.items() if not snap.stale}
    conditions: list[Condition] = []
    tenants: list[Snapshot[TenantSignals]] = []
    for (ref, kind), snap in fresh.items():
        found: list[Condition] = []
        if kind == Kind.ROUTERS:
            live = routers.live_l3_agents(snap.extra)
            if live is None:
                live = _live_l3_from_agents(newest.get((ref, Kind.AGENTS)))
            found = routers.router_conditions(snap, thresholds, live, memo)
            found += ovn.gateway_conditions(snap, thresholds)
        elif kind == Kind.AGENTS:
            found = liveness.agent_conditions(snap, thresholds, history)
        elif kind == Kind.SERVICES:
            found = liveness.service_conditions(snap, thresholds, history)
        elif kind == Kind.HYPERVISORS:
            found = hypervisors.hypervisor_conditions(snap, thresholds, memo)
        elif kind == Kind.TENANTS:
            tenants.append(snap)
        # Items held from an earlier poll were not looked at: they say nothing new.
        conditions += [c for c in found if c.subject.id not in snap.held]
    conditions += tenant_conditions(tenants, thresholds)
    coverage = {scope: _coverage(snap) for scope, snap in fresh.items()}
    return Look(tuple(conditions), coverage)
