"""The hypervisors pane: one row per hypervisor of every region, worst first."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.assess import Verdicts
from osconsole.health.findings import Assessment
from osconsole.health.hypervisors import capacity_finding
from osconsole.model import (
    Capacity,
    Hypervisor,
    Kind,
    RegionRef,
    Snapshot,
)
from osconsole.text import format_ratio
from osconsole.views.build import (
    IncrementalRows,
    _Cells,
    _row_key,
    _table_of,
    _without_gc_pauses,
    region_labels,
)
from osconsole.views.model import Cell, Column, Row, TableView, Target, Tone
from osconsole.views.severity import (
    SEVERITY_COLUMN,
    TONES,
    UNKNOWN_SORT,
    rank,
    severity_cell,
    words_cell,
)

# -- hypervisors ---------------------------------------------------------------------

HYPERVISOR_COLUMNS = (
    Column("region", "Region", drop_below=100),
    SEVERITY_COLUMN,
    Column("host", "Host", narrow_max=32),
    Column("state", "State"),
    Column("status", "Status", drop_below=90),
    Column("vcpu", "vCPU", numeric=True, drop_below=120),
    Column("ram", "RAM %", numeric=True),
    Column("disk", "Disk %", numeric=True, drop_below=110),
    Column("vms", "VMs", numeric=True, drop_below=130),
    Column("reason", "Problems"),
)


@_without_gc_pauses
def hypervisors_view(
    snapshots: Sequence[Snapshot[Hypervisor]],
    now: float,
    thresholds: Thresholds | None = None,
    verdicts: Verdicts | None = None,
) -> TableView:
    """One row per hypervisor of every region, worst first, then by region and host;
    severity and words are each one's assessment (`verdicts`; without them every row
    is OK). (A one-off build; the console keeps a HypervisorRows between polls.)"""
    return HypervisorRows().view(snapshots, now, thresholds, verdicts)


class HypervisorRows(IncrementalRows):
    """The hypervisors view, rebuilt poll after poll for the items that changed."""

    def view(
        self,
        snapshots: Sequence[Snapshot[Hypervisor]],
        now: float,
        thresholds: Thresholds | None = None,
        verdicts: Verdicts | None = None,
    ) -> TableView:
        """As `hypervisors_view`."""
        thresholds = thresholds or Thresholds()
        verdicts = verdicts or Verdicts()
        labels = region_labels(s.ref for s in snapshots)
        with self._lock:
            self._begin(snapshots)
            for snap in snapshots:
                region = labels[snap.ref]
                make = functools.partial(_hypervisor_row, snap.ref, region, thresholds, self._cells)
                judged = verdicts.scope(snap.ref, snap.kind)
                self._take(snap, (region, thresholds, snap.stale, snap.held), make, judged)
            rows, counts = self._ordered(), self._severities()
        return _table_of(
            "hypervisors",
            "Hypervisors",
            HYPERVISOR_COLUMNS,
            rows,
            snapshots,
            labels,
            now,
            counts=counts,
        )


def _hypervisor_row(
    ref: RegionRef,
    region: str,
    thresholds: Thresholds,
    cells: _Cells,
    h: Hypervisor,
    judged: Assessment,
) -> tuple[Any, Row]:
    row = Row(
        _row_key(ref, h.id),
        (
            cells(region),
            severity_cell(judged, cells),
            *_hypervisor_cells(h, judged, thresholds, cells),
        ),
        judged.severity,
        Target(ref, Kind.HYPERVISORS, h.id),
    )
    return (rank(judged), region, h.hostname, h.id), row


def _used(cap: Capacity | None) -> float | None:
    return None if cap is None else cap.used_ratio


def _hypervisor_cells(
    h: Hypervisor, judged: Assessment, thresholds: Thresholds, cells: _Cells
) -> tuple[Cell, ...]:
    ratios = (_used(h.vcpu), _used(h.memory_mb), _used(h.disk_gb))
    tones = [
        Tone.WARNING if capacity_finding(label, ratio, thresholds) else Tone.NONE
        for label, ratio in zip(("vCPU", "RAM", "disk"), ratios, strict=True)
    ]
    tone = TONES[judged.severity]
    if h.state == "up":
        state = cells("up")
    else:
        state = cells("DOWN" if h.state == "down" else h.state, tone)
    vms = h.running_vms
    return (
        Cell(h.hostname),
        state,
        cells("enabled") if h.status == "enabled" else cells(h.status, Tone.INFO),
        _vcpu_cell(h.vcpu, ratios[0], tones[0], cells),
        _ratio_cell(ratios[1], tones[1], cells),
        _ratio_cell(ratios[2], tones[2], cells),
        cells("-", sort=UNKNOWN_SORT) if vms is None else cells(str(vms), sort=vms),
        words_cell(judged, cells),
    )


def _ratio_cell(ratio: float | None, tone: str, cells: _Cells) -> Cell:
    if ratio is None:
        return cells("-", tone, UNKNOWN_SORT)
    return cells(format_ratio(ratio), tone, ratio)


def _vcpu_cell(cap: Capacity | None, ratio: float | None, tone: str, cells: _Cells) -> Cell:
    """vCPUs used of the schedulable capacity (allocation ratio included): "14/768 2%"."""
    if cap is None or ratio is None:
        return cells("-", tone, UNKNOWN_SORT)
    return Cell(f"{cap.used}/{cap.capacity:.0f} {format_ratio(ratio)}", tone, ratio)
