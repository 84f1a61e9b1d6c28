"""The liveness pane: Neutron agents and Nova/Cinder services in one table."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.assess import Verdicts
from osconsole.health.findings import Assessment
from osconsole.model import (
    Agent,
    Kind,
    RegionRef,
    Service,
    Snapshot,
)
from osconsole.text import format_age
from osconsole.views.build import (
    IncrementalRows,
    _Cells,
    _row_key,
    _table_of,
    _without_gc_pauses,
    region_labels,
)
from osconsole.views.model import AgeCell, Cell, Column, Row, TableView, Target, Tone
from osconsole.views.severity import SEVERITY_COLUMN, TONES, rank, severity_cell, words_cell

# -- liveness --------------------------------------------------------------------------------

LIVENESS_COLUMNS = (
    Column("region", "Region", drop_below=100),
    SEVERITY_COLUMN,
    Column("kind", "Kind", drop_below=110),
    Column("type", "Type/Binary"),
    Column("host", "Host", narrow_max=32),
    Column("state", "Alive/State"),
    Column("admin", "Admin", drop_below=90),
    Column("heartbeat", "Heartbeat", numeric=True, ticks=True, drop_below=90),
    Column("reason", "Problems"),
)


@_without_gc_pauses
def liveness_view(
    agents: Sequence[Snapshot[Agent]],
    services: Sequence[Snapshot[Service]],
    now: float,
    thresholds: Thresholds | None = None,
    verdicts: Verdicts | None = None,
) -> TableView:
    """Neutron agents and Nova/Cinder services of every region in one table, worst
    first, then by region, kind, host and type. Heartbeat ages are the server's
    (measured against its Date header when polled).
    (A one-off build; the console keeps a LivenessRows between polls instead.)"""
    return LivenessRows().view(agents, services, now, thresholds, verdicts)


class LivenessRows(IncrementalRows):
    """The liveness view, rebuilt poll after poll for the agents and services that changed."""

    def view(
        self,
        agents: Sequence[Snapshot[Agent]],
        services: Sequence[Snapshot[Service]],
        now: float,
        thresholds: Thresholds | None = None,
        verdicts: Verdicts | None = None,
    ) -> TableView:
        """As `liveness_view`."""
        thresholds = thresholds or Thresholds()
        verdicts = verdicts or Verdicts()
        snapshots: list[Snapshot[Any]] = [*agents, *services]
        labels = region_labels(s.ref for s in snapshots)
        cells = self._cells
        with self._lock:
            self._begin(snapshots)
            for snap in agents:
                region = labels[snap.ref]
                make = _liveness_rows(_ranked_agent, snap, region, now, thresholds, cells)
                judged = verdicts.scope(snap.ref, snap.kind)
                context = (region, thresholds, snap.stale, snap.held)
                self._take(snap, context, make, judged, tag="agent:")
            for snap in services:
                region = labels[snap.ref]
                make = _liveness_rows(_ranked_service, snap, region, now, thresholds, cells)
                judged = verdicts.scope(snap.ref, snap.kind)
                context = (region, thresholds, snap.stale, snap.held)
                self._take(snap, context, make, judged, tag="service:")
            rows, counts = self._ordered(), self._severities()
        return _table_of(
            "liveness", "Liveness", LIVENESS_COLUMNS, rows, snapshots, labels, now, counts=counts
        )


def _liveness_rows(
    ranked: Callable[..., tuple[Any, Row]],
    snap: Snapshot[Any],
    region: str,
    now: float,
    thresholds: Thresholds,
    cells: _Cells,
) -> Callable[[Any, Assessment], tuple[Any, Row]]:
    """How one agents or services snapshot's rows are made: heartbeat ages count from
    the poll that read each item (an earlier one for the items it holds)."""
    ages = _Heartbeats(snap.fetched_at, now, thresholds)
    fresh = functools.partial(ranked, snap.ref, region, ages, cells)
    if not snap.held:
        return fresh
    held: dict[float, _Heartbeats] = {}

    def make(item: Any, judged: Assessment) -> tuple[Any, Row]:
        read_at = snap.held.get(item.id)
        if read_at is None:
            return fresh(item, judged)
        if read_at not in held:
            held[read_at] = _Heartbeats(read_at, now, thresholds)
        return ranked(snap.ref, region, held[read_at], cells, item, judged)

    return make


def _ranked_agent(
    ref: RegionRef, region: str, ages: _Heartbeats, cells: _Cells, a: Agent, j: Assessment
) -> tuple[Any, Row]:
    row = _agent_row(ref, region, a, j, ages, cells)
    return (rank(j), region, "neutron", a.host, a.agent_type, a.id), row


def _ranked_service(
    ref: RegionRef, region: str, ages: _Heartbeats, cells: _Cells, s: Service, j: Assessment
) -> tuple[Any, Row]:
    row = _service_row(ref, region, s, j, ages, cells)
    return (rank(j), region, s.project, s.host, s.binary, s.id), row


def _agent_row(
    ref: RegionRef, region: str, a: Agent, judged: Assessment, ages: _Heartbeats, cells: _Cells
) -> Row:
    tone = TONES[judged.severity]
    row_cells = (
        cells(region),
        severity_cell(judged, cells),
        cells("neutron"),
        cells(a.agent_type),
        cells(a.host),
        cells("alive") if a.alive else cells("DEAD", tone),
        cells("up") if a.admin_state_up else cells("ADMIN-DOWN", Tone.INFO),
        ages(a.heartbeat_age),
        words_cell(judged, cells),
    )
    target = Target(ref, Kind.AGENTS, a.id, "agent")
    return Row(_row_key(ref, a.id), row_cells, judged.severity, target)


def _service_row(
    ref: RegionRef,
    region: str,
    s: Service,
    judged: Assessment,
    ages: _Heartbeats,
    cells: _Cells,
) -> Row:
    tone = TONES[judged.severity]
    if s.forced_down:
        state = cells("FORCED DOWN", tone)
    else:
        state = cells("up") if s.state == "up" else cells(s.state.upper(), tone)
    row_cells = (
        cells(region),
        severity_cell(judged, cells),
        cells(s.project),
        cells(s.binary),
        cells(s.host),
        state,
        cells("enabled") if s.status == "enabled" else cells(s.status, Tone.INFO),
        ages(s.heartbeat_age),
        words_cell(judged, cells),
    )
    target = Target(ref, Kind.SERVICES, s.id, s.project)
    return Row(_row_key(ref, s.id), row_cells, judged.severity, target)


class _Heartbeats:
    """Heartbeat cells of one snapshot: ages that keep counting from the poll on.

    A heartbeat `age` old at the poll (server clock) happened at `fetched_at - age` on
    the viewer's clock; its cell sorts by that moment (older first when descending),
    which does not move with time, and reads its age at `now`."""

    __slots__ = ("fetched_at", "now", "thresholds")

    def __init__(self, fetched_at: float, now: float, thresholds: Thresholds) -> None:
        self.fetched_at = fetched_at
        self.now = now
        self.thresholds = thresholds

    def __call__(self, age: float | None) -> Cell:
        if age is None:
            return Cell(format_age(None), Tone.NONE, -math.inf)
        late = age > self.thresholds.heartbeat_warning_s  # the judge's, as of the poll
        origin = self.fetched_at - age
        tone = Tone.WARNING if late else Tone.NONE
        return AgeCell(format_age(self.now - origin), tone, -origin, origin)
