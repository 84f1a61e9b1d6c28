"""One region's control-plane figures, gathered for the rules, the snapshot and the UI.

The figures live where they are made: each region client's RequestHistory (every
call's outcome), the tenants snapshot's lead times, the probes' latest results. This
module only reads them, at one moment, into the shapes the rules (`health.plane`)
and the snapshot JSON take; it sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from osconsole.availability import WINDOWS, summary_dict
from osconsole.cloud.connect import RegionSession
from osconsole.health.findings import observed_time
from osconsole.health.plane import PlaneLook
from osconsole.leadtimes import LeadTimeSummary
from osconsole.model import Kind, RegionRef, Snapshot
from osconsole.probes.runner import ProbeRunner

FINDINGS_WINDOW = WINDOWS["5m"]


def plane_looks(
    regions: Iterable[RegionSession],
    now: float,
    snapshots: Iterable[Snapshot[Any]] = (),
    probes: ProbeRunner | None = None,
) -> list[PlaneLook]:
    """Each region's look for the rules: API figures over the last 5 minutes, and the
    lead times of its latest tenants snapshot when that is fresh (not stale).

    Safe to call from a worker thread while the loop records calls: the history's
    rings are read, never resized, and each service's slots are copied first.
    """
    fresh_tenants = {
        s.ref: s
        for s in snapshots
        if s.kind is Kind.TENANTS
        and not s.stale
        and isinstance(s.extra.get("lead_times"), LeadTimeSummary)
    }
    looks = []
    for session in regions:
        services = list(session.client.history.services.items())
        api = {name: history.window(now, FINDINGS_WINDOW) for name, history in services}
        tenants = fresh_tenants.get(session.ref)
        summary = None if tenants is None else tenants.extra.get("lead_times")
        looks.append(
            PlaneLook(
                ref=session.ref,
                at=now,
                api=api,
                lead_times=summary,
                lead_times_at=None if summary is None else observed_time(tenants),
                probes=dict(probes.latest.get(session.ref, {})) if probes else {},
                probes_before=dict(probes.before.get(session.ref, {})) if probes else {},
            )
        )
    return looks


def region_plane(
    session: RegionSession,
    now: float,
    snapshots: Iterable[Snapshot[Any]] = (),
    probes: ProbeRunner | None = None,
) -> Mapping[str, Any]:
    """The snapshot JSON's control-plane entries of one region: `availability`, and
    `lead_times` (None when the tenants kind was not polled or failed: unknown), and
    `probes` (each configured probe's latest result; {} when none is configured)."""
    lead_times = None
    for snap in snapshots:
        summary = snap.extra.get("lead_times") if snap.ref == session.ref else None
        if snap.kind is Kind.TENANTS and isinstance(summary, LeadTimeSummary):
            lead_times = summary.as_dict()
    latest = probes.latest.get(session.ref, {}) if probes else {}
    return {
        "availability": summary_dict(session.client.history, now),
        "lead_times": lead_times,
        "probes": {name: result.as_dict() for name, result in sorted(latest.items())},
    }


def by_region(looks: Iterable[PlaneLook]) -> dict[RegionRef, PlaneLook]:
    return {look.ref: look for look in looks}
