"""The tenants pane: the projects the judge flags, highest score first; those read
only in part with nothing found are not listed, but counted unknown in the title."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.assess import Verdicts
from osconsole.health.findings import Assessment, Severity
from osconsole.health.tenants import TenantScore, score
from osconsole.model import (
    Kind,
    Snapshot,
    TenantSignals,
)
from osconsole.views.build import (
    _Cells,
    _row_key,
    _table,
    _without_gc_pauses,
    region_labels,
    stale_row,
)
from osconsole.views.model import Cell, Column, Row, TableView, Target, Tone
from osconsole.views.severity import SEVERITY_COLUMN, TONES, UNKNOWN_SORT, severity_cell

# -- tenants -----------------------------------------------------------------------------

TENANT_COLUMNS = (
    Column("region", "Region", drop_below=70),
    SEVERITY_COLUMN,
    Column("project", "Project", narrow_max=32),
    Column("score", "Score", numeric=True),
    Column("servers", "Servers", numeric=True),
    Column("error", "Error", numeric=True, drop_below=140),
    Column("stuck", "Stuck", numeric=True, drop_below=130),
    Column("churn", "Churn/h", numeric=True, drop_below=120),
    Column("spoof", "Spoof", numeric=True, drop_below=150),
    Column("open", "Open", numeric=True, drop_below=160),
    Column("fips", "FIPs", numeric=True, drop_below=110),
    Column("why", "Why"),
)


@_without_gc_pauses
def tenants_view(
    snapshots: Sequence[Snapshot[TenantSignals]],
    now: float,
    thresholds: Thresholds | None = None,
    verdicts: Verdicts | None = None,
) -> TableView:
    """The projects the judge flags (the `thresholds.top_tenants` highest scores across
    all regions, see `osconsole.health.rules.tenant_conditions`), one row per project
    and region, highest score first. The title's total is every project watched."""
    thresholds = thresholds or Thresholds()
    verdicts = verdicts or Verdicts()
    labels = region_labels(s.ref for s in snapshots)
    flagged: list[tuple[float, str, str, Snapshot[TenantSignals], TenantSignals, Assessment]]
    flagged = []
    watched = scored = unlisted = 0  # unlisted: unknown (read in part), nothing found
    for snap in snapshots:
        region = labels[snap.ref]
        watched += len(snap.items)
        judged = verdicts.scope(snap.ref, snap.kind)
        for project_id, signals in snap.items.items():
            assessment = judged.get(project_id)
            if assessment is not None and not assessment.problems:
                unlisted += 1
                continue
            result = score(signals, thresholds)
            if result.score <= 0:
                continue
            scored += 1
            if assessment is not None:
                flagged.append(
                    (result.score, region, signals.project_name, snap, signals, assessment)
                )
    flagged.sort(key=lambda f: (-f[0], f[1], f[2], f[4].project_id))
    cells = _Cells()
    stale = {snap.ref for snap in snapshots if snap.stale}
    ranked = [
        (
            (i,),
            _tenant_row(snap, labels[snap.ref], signals, score(signals, thresholds), judged, cells),
        )
        for i, (_, _, _, snap, signals, judged) in enumerate(flagged)
    ]
    ranked = [(rank, stale_row(row) if row.target.ref in stale else row) for rank, row in ranked]
    notes = []
    if scored > len(flagged):
        notes.append(f"showing the top {len(flagged)} of {scored:,} projects with findings")
    return _table(
        "tenants",
        "Tenants",
        TENANT_COLUMNS,
        ranked,
        snapshots,
        labels,
        now,
        total=watched,
        notes=notes,
        unlisted={Severity.UNKNOWN: unlisted},
    )


def _why(reasons: tuple[str, ...], unread: tuple[str, ...] = ()) -> str:
    caveat = f" (not read: {', '.join(unread)})" if unread else ""
    if len(reasons) <= 1:
        return (reasons[0] if reasons else "") + caveat
    return f"{reasons[0]} (+{len(reasons) - 1} more){caveat}"


def _number(cells: _Cells, n: int | None, tone: str = Tone.NONE) -> Cell:
    if n is None:
        return cells("?", Tone.DIM, UNKNOWN_SORT)  # not read: unknown, not zero
    return cells(str(n), tone if n else Tone.NONE, n)


def _count(ids: tuple[Any, ...] | None) -> int | None:
    return None if ids is None else len(ids)


def _tenant_row(
    snap: Snapshot[TenantSignals],
    region: str,
    s: TenantSignals,
    result: TenantScore,
    judged: Assessment,
    cells: _Cells,
) -> Row:
    severity = judged.severity
    tone = TONES[severity]
    if s.created_last_hour is None or s.deleted_last_hour is None:
        churn = cells("?", Tone.DIM, UNKNOWN_SORT)
    else:
        total = s.created_last_hour + s.deleted_last_hour
        churn = cells(f"+{s.created_last_hour}/-{s.deleted_last_hour}", sort=total)
    if s.floating_ips is None:
        fips = _number(cells, None)
    else:
        text = str(s.floating_ips)
        if s.floating_ips_created_last_hour:
            text += f" (+{s.floating_ips_created_last_hour})"
        fips = cells(text, sort=s.floating_ips)
    row_cells = (
        cells(region),
        severity_cell(judged, cells),
        cells(s.project_name or s.project_id),
        cells(f"{result.score:.0f}", tone, result.score),
        _number(cells, s.servers),
        _number(cells, _count(s.error_servers), Tone.WARNING),
        _number(cells, _count(s.stuck_servers), Tone.WARNING),
        churn,
        _number(cells, _count(s.spoofing_ports), Tone.CRITICAL),
        _number(cells, _count(s.open_ingress_rules)),
        fips,
        Cell(_why(result.reasons, result.unread), tone),
    )
    return Row(
        _row_key(snap.ref, s.project_id),
        row_cells,
        severity,
        Target(snap.ref, Kind.TENANTS, s.project_id),
    )
