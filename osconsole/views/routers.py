"""The L3 HA routers pane: one row per router of every region, worst first."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from osconsole.health import ovn as ovn_rules
from osconsole.health.assess import Verdicts
from osconsole.health.findings import Assessment
from osconsole.health.ovn import GatewayChassis
from osconsole.health.routers import is_ha, replica_hosts
from osconsole.model import (
    Kind,
    RegionRef,
    Router,
    Snapshot,
    TenantSignals,
)
from osconsole.text import format_age
from osconsole.views.build import (
    BIG_BUILD,
    IncrementalRows,
    _Cells,
    _row_key,
    _SnapshotRows,
    _table_of,
    _without_gc_pauses,
    gc_paused,
    region_labels,
)
from osconsole.views.model import Cell, Column, Row, TableView, Target, Tone, shown_age
from osconsole.views.severity import SEVERITY_COLUMN, TONES, rank, severity_cell, words_cell

# -- routers ---------------------------------------------------------------------------

ROUTER_COLUMNS = (
    Column("region", "Region", drop_below=70),
    SEVERITY_COLUMN,
    Column("router", "Router", narrow_max=32),
    Column("project", "Project", drop_below=90),
    Column("ha", "HA", drop_below=110),
    Column("actives", "Actives", numeric=True),
    Column("active_on", "Active on", narrow_max=32, drop_below=100),
    Column("agents", "Agents", drop_below=110),
    Column("replicas", "Replicas", numeric=True, drop_below=120),
    Column("checked", "Checked", numeric=True, drop_below=130),
    Column("finding", "Problems"),
)


Chassis = Mapping[str, GatewayChassis]  # an OVN region's gateway chassis by host


def actives_text(router: Router, ovn: bool = False) -> tuple[str, int]:
    """The Actives cell, a fact of the last sweep (the judging is the assessment's):
    "1", "2 SPLIT", "0 NONE", "1 DEAD", "2 (1 DEAD)", "-" (legacy, or an OVN router
    without a gateway), "?" (not swept); and how many replicas report active. On
    ML2/OVN, from the gateway port of the last poll: "1" or "0 NONE"."""
    if ovn:
        gateway = router.gateway
        if gateway is None:
            return "-", 0
        return ("1", 1) if gateway.active else ("0 NONE", 0)
    bindings = router.bindings
    if bindings is None:
        return "?", 0
    if not is_ha(router):
        return "-", 0
    live = sum(1 for b in bindings if b.ha_state == "active" and b.agent_alive)
    dead = sum(1 for b in bindings if b.ha_state == "active" and not b.agent_alive)
    count = live + dead
    if live >= 2:
        return f"{count} SPLIT", count
    if not count:
        return "0 NONE", 0
    if dead:
        return (f"{count} DEAD" if dead == count else f"{count} ({dead} DEAD)"), count
    return str(count), count


def active_on_text(router: Router, ovn: bool, chassis: Chassis | None = None) -> str:
    """Where the router is active: the hosts of its active bindings (ML2/OVS), or the
    chassis its gateway is on (ML2/OVN), "(DEAD)" after a dead one; "none", or "?"
    when not swept yet (ML2/OVS)."""
    if ovn:
        gateway = router.gateway
        if gateway is None:
            return "no gateway"
        if not gateway.host:
            return "none"
        holder = (chassis or {}).get(gateway.host)
        dead = holder is not None and not holder.alive
        down = "" if gateway.status == "ACTIVE" else f" ({gateway.status})"
        return gateway.host + ("(DEAD)" if dead else "") + down
    if router.bindings is None:
        return "?"
    hosts = [
        b.host + ("" if b.agent_alive else "(DEAD)")
        for b in router.bindings
        if b.ha_state == "active" or (b.ha_state is None and len(router.bindings) == 1)
    ]
    return ", ".join(sorted(hosts)) or "none"


def _agents_text(router: Router, ovn: bool) -> str:
    """Each binding as "net01:active" or "net02:standby(DEAD)"; legacy ones as the host;
    on ML2/OVN the candidate gateway chassis, highest priority first."""
    if router.bindings is None:
        return "not checked yet"
    if not router.bindings:
        return "no L3 agent"
    parts = []
    for b in router.bindings:
        text = b.host if b.ha_state is None else f"{b.host}:{b.ha_state}"
        if not b.agent_alive:
            text += "(DEAD)"
        elif not b.agent_admin_up:
            text += "(ADMIN-DOWN)"
        parts.append(text)
    return ", ".join(parts)


def project_names(snapshots: Iterable[Snapshot[TenantSignals]]) -> dict[str, str]:
    """Project id -> name, from tenants snapshots, for panes that only know ids."""
    return {
        pid: signals.project_name
        for snap in snapshots
        for pid, signals in snap.items.items()
        if signals.project_name and signals.project_name != pid
    }


@_without_gc_pauses
def routers_view(
    snapshots: Sequence[Snapshot[Router]],
    now: float,
    names: Mapping[str, str] | None = None,
    verdicts: Verdicts | None = None,
) -> TableView:
    """One row per router of every region, worst first, then by region and name.

    `names` maps project ids to names (see `project_names`); ids show otherwise.
    Severity and words: each router's assessment (`verdicts`). Checked is the age of
    the router's last `l3-agents` sweep on the server's clock, carried forward to
    `now`. (A one-off build; the console keeps a RouterRows between polls instead.)
    """
    return RouterRows().view(snapshots, now, names, verdicts)


CHECKED = [c.key for c in ROUTER_COLUMNS].index("checked")


class RouterRows(IncrementalRows):
    """The routers view, rebuilt poll after poll for the items that changed.

    The Checked cell depends on the time as well: when the time moved, only that
    cell is recomputed (routers swept together share it), and only the rows whose
    Checked cell really changed are new objects.
    """

    def __init__(self) -> None:
        super().__init__()
        self._names: dict[str, str] = {}
        self._names_seen = 0  # bumped when the project names change: every row is redone

    def view(
        self,
        snapshots: Sequence[Snapshot[Router]],
        now: float,
        names: Mapping[str, str] | None = None,
        verdicts: Verdicts | None = None,
    ) -> TableView:
        """As `routers_view`."""
        names = names or {}
        verdicts = verdicts or Verdicts()
        labels = region_labels(s.ref for s in snapshots)
        with self._lock:
            if names != self._names:
                self._names = dict(names)
                self._names_seen += 1
            self._begin(snapshots)
            for snap in snapshots:
                self._take_routers(snap, labels[snap.ref], now, verdicts.scope(snap.ref, snap.kind))
            rows, counts = self._ordered(), self._severities()
        return _table_of(
            "routers", "Routers", ROUTER_COLUMNS, rows, snapshots, labels, now, counts=counts
        )

    def _take_routers(
        self, snap: Snapshot[Router], region: str, now: float, judged: Mapping[str, Assessment]
    ) -> None:
        ovn = bool(snap.extra.get("ovn"))
        listed = ovn_rules.gateway_chassis(snap) if ovn else None
        chassis = None if listed is None else {c.host: c for c in listed}
        server_now = now if snap.server_time is None else snap.server_time + now - snap.fetched_at
        checked = _CheckedCells(server_now, self._cells)
        make = functools.partial(
            _router_row, snap.ref, region, ovn, chassis, checked, self._names, self._cells
        )
        # A chassis dying changes the rows of routers that did not change: redo them all.
        alive = None if listed is None else tuple((c.host, c.alive) for c in listed)
        context = (region, ovn, alive, self._names_seen, snap.stale)
        known = self._snaps.get((snap.ref, snap.kind))
        remade = known is None or known.context != context  # every row made just now
        entry = self._take(snap, context, make, judged)
        if entry.moment != server_now and not remade:
            self._recheck(entry, snap.items, checked, snap.stale)
        entry.moment = server_now

    def _recheck(
        self,
        entry: _SnapshotRows,
        items: Mapping[str, Router],
        checked: _CheckedCells,
        stale: bool,
    ) -> None:
        """The time moved: new rows only where the Checked cell says something new."""
        with gc_paused(len(entry.ids) > BIG_BUILD):
            self._recheck_rows(entry, items, checked, stale)

    def _recheck_rows(
        self,
        entry: _SnapshotRows,
        items: Mapping[str, Router],
        checked: _CheckedCells,
        stale: bool,
    ) -> None:
        rows = self._rows
        for item_id, store_key in entry.ids.items():
            row = rows[store_key]
            cell = checked(items[item_id].bindings_checked_at)
            if stale:
                cell = dataclasses.replace(cell, tone=Tone.DIM)
            old = row.cells[CHECKED]
            if cell is not old and cell != old:
                cells = (*row.cells[:CHECKED], cell, *row.cells[CHECKED + 1 :])
                rows[store_key] = Row(row.key, cells, row.severity, row.target)
                self._replaced.append(store_key)


def _router_row(
    ref: RegionRef,
    region: str,
    ovn: bool,
    chassis: Chassis | None,
    checked: _CheckedCells,
    names: Mapping[str, str],
    cells: _Cells,
    r: Router,
    judged: Assessment,
) -> tuple[Any, Row]:
    active_on = active_on_text(r, ovn, chassis)
    row = Row(
        _row_key(ref, r.id),
        _router_cells(
            region, r, judged, ovn, active_on, checked(r.bindings_checked_at), names, cells
        ),
        judged.severity,
        Target(ref, Kind.ROUTERS, r.id),
    )
    return (rank(judged), region, r.name or r.id, r.id), row


class _CheckedCells:
    """The Checked cell of each sweep time: routers swept together share one."""

    __slots__ = ("_cells", "_made", "_now")

    def __init__(self, server_now: float, cells: _Cells) -> None:
        self._now = server_now
        self._cells = cells
        self._made: dict[float | None, Cell] = {}

    def __call__(self, checked_at: float | None) -> Cell:
        cell = self._made.get(checked_at)
        if cell is None:
            age = None if checked_at is None else self._now - checked_at
            sort = math.inf if age is None else shown_age(age)
            cell = self._made[checked_at] = self._cells(format_age(age), sort=sort)
        return cell


def _router_cells(
    region: str,
    r: Router,
    judged: Assessment,
    ovn: bool,
    active_on: str,
    checked: Cell,
    names: Mapping[str, str],
    cells: _Cells,
) -> tuple[Cell, ...]:
    tone = TONES[judged.severity]
    actives, active_count = actives_text(r, ovn)
    if ovn:  # the candidate gateway chassis are an OVN router's replicas
        replicas = len(r.bindings) if r.bindings is not None else 0
        replicas_text = "?" if r.bindings is None else str(replicas)
        ha_text = "OVN"
    else:
        replicas = len(replica_hosts(r))
        replicas_text = str(replicas) if is_ha(r) else "-"
        ha_text = "?" if r.ha is None else ("HA" if r.ha else "legacy")
    on_tone = Tone.NONE if "DEAD" not in active_on and active_on != "none" else tone
    return (
        cells(region),
        severity_cell(judged, cells),
        Cell(r.name or r.id),
        cells(names.get(r.project_id, r.project_id)),
        cells(ha_text),
        cells(actives, Tone.NONE if actives.isdigit() else tone, active_count),
        cells(active_on, on_tone),
        cells(_agents_text(r, ovn)),
        cells(replicas_text, sort=replicas),
        checked,
        words_cell(judged, cells),
    )
