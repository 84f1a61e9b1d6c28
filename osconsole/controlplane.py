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
from osconsole.health.plane import PlaneLook
from osconsole.model import RegionRef

FINDINGS_WINDOW = WINDOWS["5m"]


def plane_looks(
    regions: Iterable[RegionSession],
    now: float,
) -> list[PlaneLook]:
    """Each region's look for the rules: API figures over the last 5 minutes.

    Safe to call from a worker thread while the loop records calls: the history's
    rings are read, never resized, and each service's slots are copied first.
    """
    looks = []
    for session in regions:
        services = list(session.client.history.services.items())
        api = {name: history.window(now, FINDINGS_WINDOW) for name, history in services}
        looks.append(PlaneLook(ref=session.ref, at=now, api=api))
    return looks


def region_plane(session: RegionSession, now: float) -> Mapping[str, Any]:
    """The snapshot JSON's control-plane entries of one region."""
    return {"availability": summary_dict(session.client.history, now)}


def by_region(looks: Iterable[PlaneLook]) -> dict[RegionRef, PlaneLook]:
    return {look.ref: look for look in looks}
