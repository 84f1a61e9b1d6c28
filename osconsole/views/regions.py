"""The region strip: each region's poll status, data age, latency and errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from osconsole.model import (
    Kind,
    RegionRef,
    Snapshot,
)
from osconsole.views.model import RegionStatus, shorten

if TYPE_CHECKING:
    from osconsole.cloud.http import ServiceStats

# -- the region strip ---------------------------------------------------------------------------

DETAIL_WIDTH = 60


def region_statuses(
    stats: Mapping[RegionRef, Mapping[str, ServiceStats]],
    snapshots: Iterable[Snapshot[Any]],
    now: float,
    auth_failures: Mapping[RegionRef, tuple[str, float]] | None = None,
) -> list[RegionStatus]:
    """One status per region (those in `stats` in their order, then any other region
    with snapshots, sorted). `snapshots` are the latest of each (region, kind);
    `auth_failures` why and since when (epoch) renewing a region's token fails.

    Status, worst first: "connecting" (no snapshot yet), "down" (every kind's last poll
    failed), "stale" (some kind's did), "degraded" (some kind is incomplete, or the
    token cannot be renewed: polls go on only until it expires), "ok".
    """
    auth_failures = auth_failures or {}
    by_region: dict[RegionRef, list[Snapshot[Any]]] = {}
    for snap in snapshots:
        by_region.setdefault(snap.ref, []).append(snap)
    refs = list(stats) + sorted(
        (ref for ref in by_region if ref not in stats), key=lambda r: (r.cloud, r.region)
    )
    return [
        _region_status(ref, stats.get(ref, {}), by_region.get(ref, []), now, auth_failures.get(ref))
        for ref in refs
    ]


def _region_status(
    ref: RegionRef,
    services: Mapping[str, ServiceStats],
    snaps: list[Snapshot[Any]],
    now: float,
    auth_failure: tuple[str, float] | None = None,
) -> RegionStatus:
    snaps = sorted(snaps, key=lambda s: list(Kind).index(s.kind))
    if not snaps:
        status = "connecting"
    elif all(s.stale for s in snaps):
        status = "down"
    elif any(s.stale for s in snaps):
        status = "stale"
    elif not all(s.complete for s in snaps):
        status = "degraded"
    else:
        status = "ok"
    errors = [f"{s.kind.value}: {s.error}" for s in snaps if s.error]
    partial = [f"{s.kind.value}: {s.notes[0]}" for s in snaps if not s.complete and s.notes]
    detail = (errors or partial or [""])[0]
    if auth_failure is not None:
        status = "degraded" if status == "ok" else status
        detail = f"auth: {auth_failure[0]}"
    return RegionStatus(
        ref=ref,
        status=status,
        age=max((s.age(now) for s in snaps), default=None),
        latency={
            name: (stat.percentile(0.5), stat.percentile(0.95))
            for name, stat in sorted(services.items())
        },
        errors={name: stat.errors for name, stat in sorted(services.items())},
        detail=shorten(detail, DETAIL_WIDTH),
        backoff={
            name: stat.backoff_until - now
            for name, stat in sorted(services.items())
            if stat.backoff_until is not None and stat.backoff_until > now
        },
        auth_failing=None if auth_failure is None else max(0.0, now - auth_failure[1]),
    )
