"""What each pane shows, as plain data: rows keyed across regions, worst first.

The console, the wall and any future viewer render these; nothing here knows
Textual. A row's meaning is always in its text ("DOWN", "2 SPLIT"), never in its
colour alone: `tone` only adds emphasis for terminals that have colour.

The view functions below are pure (the time is passed in): 10,000 hypervisors and
20,000 routers must stay cheap, so each is one pass over the items, shares
identical cells, and sorts once. The console rebuilds them on every poll through
incremental builders (HypervisorRows, RouterRows, LivenessRows): the same results,
but only the rows of items that changed are made again, and the others are the
very objects of the previous view.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import heapq
import math
import threading
from bisect import insort
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from itertools import compress, filterfalse
from operator import attrgetter, is_not
from typing import TYPE_CHECKING, Any, NamedTuple, ParamSpec, TypeVar

from osconsole.config import Thresholds
from osconsole.health.tenants import TenantScore, score
from osconsole.model import (
    Agent,
    Capacity,
    Hypervisor,
    Kind,
    RegionRef,
    Router,
    RouterBinding,
    Service,
    Snapshot,
    TenantSignals,
)
from osconsole.text import format_age, format_ratio

if TYPE_CHECKING:
    from osconsole.cloud.http import ServiceStats

P = ParamSpec("P")
R = TypeVar("R")


class Severity(IntEnum):
    """How bad a row is; panes sort worst first by default."""

    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3


class Tone:
    """Semantic emphasis of a cell; themes map these to colours."""

    NONE = ""
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    DIM = "dim"


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    tone: str = Tone.NONE
    sort: Any = None  # the value columns sort by (None: the text)

    @property
    def sort_value(self) -> Any:
        return self.text if self.sort is None else self.sort


@dataclass(frozen=True, slots=True)
class AgeCell(Cell):
    """An age that keeps counting between polls: `text` is the age when the view was
    built, and a viewer shows `format_age(now - origin)` at its own `now` (the same
    clock as the view's), so a heartbeat 20 s old at the poll reads 35 s 15 s later."""

    origin: float = 0.0  # the moment (viewer's clock) the age counts from


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int | None = None  # None: fit the content
    numeric: bool = False  # right-aligned
    ticks: bool = False  # its cells are AgeCells: redrawn as time passes


@dataclass(frozen=True, slots=True)
class Target:
    """What a row stands for, so Enter can drill down into it."""

    ref: RegionRef
    kind: Kind
    id: str
    detail: str = ""  # e.g. "agent" / "nova" / "cinder" within the liveness pane


@dataclass(frozen=True, slots=True)
class Row:
    key: str  # unique in its table across regions: "cloud/region/id"
    cells: tuple[Cell, ...]
    severity: Severity
    target: Target

    def text(self) -> str:
        """All cell texts, for the `/` filter."""
        return " ".join(c.text for c in self.cells)


@dataclass(frozen=True, slots=True)
class TableView:
    """One pane's content: its columns, its rows (worst first), and its freshness."""

    kind: str  # "hypervisors", "routers", "tenants", "liveness"
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    oldest_age: float | None = None  # seconds; the stalest region's data
    stale_regions: tuple[str, ...] = ()
    stale_since: tuple[tuple[str, float], ...] = ()  # (region, fetched_at of its stale data)
    built_at: float | None = None  # the `now` it was built for (the viewer's clock)
    notes: tuple[str, ...] = ()
    counts: dict[Severity, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RegionStatus:
    """One region in the region strip."""

    ref: RegionRef
    status: str  # "ok", "degraded", "stale", "down", "connecting"
    age: float | None  # seconds since the oldest kind of this region was fetched
    latency: dict[str, tuple[float | None, float | None]]  # service -> (p50 ms, p95 ms)
    errors: dict[str, int]  # service -> error count
    detail: str = ""  # the latest error or note, shortened
    backoff: dict[str, float] = field(default_factory=dict)  # service -> s left (Retry-After)


# -- formatting ------------------------------------------------------------------


def shown_age(seconds: float) -> float:
    """`seconds` rounded as format_age shows them (whole seconds, minutes, tenths of
    hours or days): an age's sort value then changes only when its text does, so a
    view rebuilt a second later keeps the rows whose age still reads the same."""
    if seconds < 0 or round(seconds) < 120:
        return round(seconds)
    if round(seconds / 60) < 120:
        return round(seconds / 60) * 60
    if round(seconds / 3600, 1) < 48:
        return round(seconds / 360) * 360
    return round(seconds / 8640) * 8640


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` characters, the cut marked with an ellipsis."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


# -- shared pieces -----------------------------------------------------------------

TONES = {
    Severity.OK: Tone.NONE,
    Severity.INFO: Tone.INFO,
    Severity.WARNING: Tone.WARNING,
    Severity.CRITICAL: Tone.CRITICAL,
}
UNKNOWN_SORT = -1.0  # numeric columns: unknown values sort below every known one


class _Cells:
    """Cells made once per view and shared by every row with the same content.

    Most cells repeat (the region, "up", "enabled", "HA", ages of one sweep); a
    frozen Cell is safe to share, and a dict lookup costs a fraction of building
    one, which counts at 20,000 rows per poll.

    An incremental builder keeps one between polls and calls next_build() before each
    build: the cells of the previous build are still shared (an age that still reads
    the same is the very same cell, which lets RouterRows and the pane compare by
    identity), older ones are forgotten, so ages that move do not pile up.
    """

    __slots__ = ("_before", "_made")

    def __init__(self) -> None:
        self._made: dict[tuple[str, str, Any], Cell] = {}
        self._before: dict[tuple[str, str, Any], Cell] = {}

    def next_build(self) -> None:
        self._before, self._made = self._made, {}

    def __call__(self, text: str, tone: str = Tone.NONE, sort: Any = None) -> Cell:
        key = (text, tone, sort)
        cell = self._made.get(key)
        if cell is None:
            cell = self._before.get(key) or Cell(text, tone, sort)
            self._made[key] = cell
        return cell


BIG_BUILD = 2_000  # rows made at once from which the garbage collector is paused


@contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """The cyclic garbage collector paused meanwhile (when `pause`).

    A whole view is a burst of up to a few hundred thousand new objects (rows, cells,
    targets) that form no reference cycles; left on, the collector keeps rescanning
    them (and every snapshot's items) while they are made, which doubles the time of
    a 20,000-row view. Only for big builds: the next collection then scans the whole
    burst at once, a stall that a poll changing 1% of the rows should not pay for.
    It is switched back on as found, even on error.
    """
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()


def _without_gc_pauses(build: Callable[P, R]) -> Callable[P, R]:
    """Build a whole view (a one-off) with the garbage collector paused."""

    @functools.wraps(build)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with gc_paused():
            return build(*args, **kwargs)

    return paused


def region_labels(refs: Iterable[RegionRef]) -> dict[RegionRef, str]:
    """The Region column's text: the region's name, or "cloud/region" when several
    clouds are watched (two clouds may both have a RegionOne)."""
    unique = set(refs)
    several = len({ref.cloud for ref in unique}) > 1
    return {ref: str(ref) if several else ref.region for ref in unique}


def _row_key(ref: RegionRef, item_id: str) -> str:
    return f"{ref.cloud}/{ref.region}/{item_id}"


_SEVERITY = attrgetter("severity")


def _counts(rows: Iterable[Row]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    counts.update(Counter(map(_SEVERITY, rows)))
    return counts


def _title(name: str, counts: Mapping[Severity, int], total: int) -> str:
    """The pane's title: "Hypervisors 3 critical, 2 warning / 1,234" ("... OK / 1,234")."""
    parts = [
        f"{counts[sev]:,} {sev.name.lower()}"
        for sev in (Severity.CRITICAL, Severity.WARNING)
        if counts.get(sev)
    ]
    return f"{name} {', '.join(parts) or 'OK'} / {total:,}"


def _freshness_notes(
    snapshots: Sequence[Snapshot[Any]], labels: Mapping[RegionRef, str], now: float
) -> tuple[str, ...]:
    """Every snapshot's notes prefixed with its region; a stale one says why first."""
    notes: list[str] = []
    for snap in snapshots:
        label = labels[snap.ref]
        if snap.stale:
            why = f": {snap.error}" if snap.error else ""
            age = format_age(snap.age(now))
            notes.append(f"{label}: STALE {snap.kind.value}, {age} old{why}")
        notes.extend(f"{label}: {note}" for note in snap.notes)
    return tuple(notes)


def _stale_since(
    snapshots: Sequence[Snapshot[Any]], labels: Mapping[RegionRef, str]
) -> tuple[tuple[str, float], ...]:
    """Each stale region and when its oldest stale data was fetched (the pane shows
    the age, counting)."""
    since: dict[str, float] = {}
    for snap in snapshots:
        if snap.stale:
            label = labels[snap.ref]
            since[label] = min(since.get(label, snap.fetched_at), snap.fetched_at)
    return tuple(sorted(since.items()))


def stale_row(row: Row) -> Row:
    """A row of a snapshot whose last poll failed: every cell dimmed (the pane's header
    says in words which regions are stale, and since when)."""
    cells = tuple(dataclasses.replace(cell, tone=Tone.DIM) for cell in row.cells)
    return Row(row.key, cells, row.severity, row.target)


def _stale_rows(make: Callable[[Any], tuple[Any, Row]]) -> Callable[[Any], tuple[Any, Row]]:
    def made_stale(item: Any) -> tuple[Any, Row]:
        rank, row = make(item)
        return rank, stale_row(row)

    return made_stale


def _held_rows(
    make: Callable[[Any], tuple[Any, Row]], held: Mapping[str, float]
) -> Callable[[Any], tuple[Any, Row]]:
    """Rows of items held from an earlier poll (Snapshot.held) dimmed as stale ones."""

    def made(item: Any) -> tuple[Any, Row]:
        rank, row = make(item)
        return (rank, stale_row(row)) if item.id in held else (rank, row)

    return made


def _table(
    kind: str,
    name: str,
    columns: tuple[Column, ...],
    ranked: list[tuple[Any, Row]],
    snapshots: Sequence[Snapshot[Any]],
    labels: Mapping[RegionRef, str],
    now: float,
    *,
    total: int | None = None,
    notes: Sequence[str] = (),
) -> TableView:
    """Sort (key, row) pairs once, worst first, and add counts and freshness."""
    ranked.sort(key=lambda pair: pair[0])
    rows = tuple(row for _, row in ranked)
    return _table_of(kind, name, columns, rows, snapshots, labels, now, total=total, notes=notes)


def _table_of(
    kind: str,
    name: str,
    columns: tuple[Column, ...],
    rows: tuple[Row, ...],
    snapshots: Sequence[Snapshot[Any]],
    labels: Mapping[RegionRef, str],
    now: float,
    *,
    total: int | None = None,
    notes: Sequence[str] = (),
    counts: Mapping[Severity, int] | None = None,
) -> TableView:
    """Rows already worst first, with their counts (counted here unless given) and
    freshness."""
    counts = _counts(rows) if counts is None else {**dict.fromkeys(Severity, 0), **counts}
    return TableView(
        kind=kind,
        title=_title(name, counts, len(rows) if total is None else total),
        columns=columns,
        rows=rows,
        oldest_age=max((s.age(now) for s in snapshots), default=None),
        stale_regions=tuple(sorted({labels[s.ref] for s in snapshots if s.stale})),
        stale_since=_stale_since(snapshots, labels),
        built_at=now,
        notes=(*notes, *_freshness_notes(snapshots, labels, now)),
        counts=counts,
    )


# -- rows kept between polls ---------------------------------------------------------


class _SnapshotRows:
    """What one snapshot's rows were built from, to tell which items changed since."""

    __slots__ = ("context", "ids", "item_ids", "items", "moment", "snap", "values")

    def __init__(self, context: Any) -> None:
        self.snap: Snapshot[Any] | None = None
        self.context = context  # what every row depends on besides its item
        self.items: Mapping[str, Any] = {}
        self.item_ids: list[str] = []  # the items' ids and values, in the snapshot's order
        self.values: list[Any] = []
        self.ids: dict[str, str] = {}  # item id -> the row's key in the store
        self.moment: Any = None  # the time the time-dependent cells were made for


class IncrementalRows:
    """A view's rows kept between polls: a poll that changes 1% of the items costs
    about 1% of a full build.

    A row is rebuilt only when its item changed (the very same object is skipped in
    C, an equal one after one comparison) or when its snapshot's context (region
    label, thresholds, project names) did; the order is repaired by bisection when
    few rows moved. Rows of unchanged items are the same objects as in the previous
    view, which lets the pane skip them by identity. Safe to call from a worker
    thread; one build at a time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cells = _Cells()
        self._snaps: dict[tuple[RegionRef, Kind], _SnapshotRows] = {}
        self._rows: dict[str, Row] = {}
        self._ranks: dict[str, Any] = {}
        self._order: list[str] = []
        self._moved: set[str] = set()  # new rows and rows whose rank changed
        self._gone: set[str] = set()
        self._replaced: list[str] = []  # rows that are new objects in their old place
        self._shown: list[Row] | None = None  # the rows of the last view, in its order
        self._positions: dict[str, int] | None = None  # store key -> place in _shown
        self._counts: Counter[Severity] = Counter()

    def _begin(self, snapshots: Iterable[Snapshot[Any]]) -> None:
        """A new build: forget the rows of snapshots no longer shown (a region dropped),
        and cells older than the previous build."""
        self._cells.next_build()
        kept = {(s.ref, s.kind) for s in snapshots}
        for key in [key for key in self._snaps if key not in kept]:
            entry = self._snaps.pop(key)
            self._drop(entry, list(entry.ids))

    def _take(
        self,
        snap: Snapshot[Any],
        context: Any,
        make: Callable[[Any], tuple[Any, Row]],
        tag: str = "",
    ) -> _SnapshotRows:
        """Bring `snap`'s rows up to date; `make(item)` builds one (rank, row).

        `context` must include `snap.stale` and `snap.held`: a snapshot going stale (or
        fresh again) redoes its rows, dimmed (stale_row) while it is stale; so do the
        items it holds from an earlier poll."""
        if snap.stale:
            make = _stale_rows(make)
        elif snap.held:
            make = _held_rows(make, snap.held)
        key = (snap.ref, snap.kind)
        entry = self._snaps.get(key)
        if entry is None:
            entry = self._snaps[key] = _SnapshotRows(context)
        elif entry.snap is snap and entry.context == context:
            return entry
        items = snap.items
        ids, values = list(items), list(items.values())
        if entry.context == context:
            before = entry.items
            if ids == entry.item_ids:  # the same ids in the same order: compare in place
                maybe = compress(ids, map(is_not, values, entry.values))
            else:
                maybe = compress(ids, map(is_not, map(before.get, ids), values))
            changed = [i for i in maybe if before.get(i) != items[i]]
        else:
            entry.context = context
            changed = list(items)
        self._make(entry, items, changed, make, tag)
        if len(entry.ids) != len(items):
            self._drop(entry, [i for i in entry.ids if i not in items])
        entry.items, entry.item_ids, entry.values = items, ids, values
        entry.snap = snap
        return entry

    def _make(
        self,
        entry: _SnapshotRows,
        items: Mapping[str, Any],
        changed: Sequence[str],
        make: Callable[[Any], tuple[Any, Row]],
        tag: str,
    ) -> None:
        with gc_paused(len(changed) > BIG_BUILD):
            self._make_rows(entry, items, changed, make, tag)

    def _make_rows(
        self,
        entry: _SnapshotRows,
        items: Mapping[str, Any],
        changed: Sequence[str],
        make: Callable[[Any], tuple[Any, Row]],
        tag: str,
    ) -> None:
        ids, rows, ranks, moved = entry.ids, self._rows, self._ranks, self._moved
        counts = self._counts
        for item_id in changed:
            rank, row = make(items[item_id])
            store_key = ids.get(item_id)
            if store_key is None:
                store_key = ids[item_id] = tag + row.key
                moved.add(store_key)
            else:
                counts[rows[store_key].severity] -= 1
                if ranks[store_key] != rank:
                    moved.add(store_key)
                else:
                    self._replaced.append(store_key)
            counts[row.severity] += 1
            rows[store_key] = row
            ranks[store_key] = rank

    def _drop(self, entry: _SnapshotRows, item_ids: Iterable[str]) -> None:
        for item_id in item_ids:
            store_key = entry.ids.pop(item_id)
            self._counts[self._rows.pop(store_key).severity] -= 1
            del self._ranks[store_key]
            self._moved.discard(store_key)
            self._gone.add(store_key)

    def _ordered(self) -> tuple[Row, ...]:
        """Every row, worst first: the previous order, repaired where rows moved, or
        the previous rows with the new objects put in their places."""
        moved, gone, replaced = self._moved, self._gone, self._replaced
        if moved or gone or self._shown is None:
            rank = self._ranks.__getitem__
            if len(moved) * 8 < len(self._rows):
                order = list(filterfalse((moved | gone).__contains__, self._order))
                for store_key in moved:
                    insort(order, store_key, key=rank)
            else:
                order = sorted(self._rows, key=rank)
            self._order = order
            self._shown = list(map(self._rows.__getitem__, order))
            self._positions = None
            moved.clear()
            gone.clear()
        elif replaced:
            if self._positions is None:
                self._positions = dict(zip(self._order, range(len(self._order)), strict=True))
            shown, positions, rows = self._shown, self._positions, self._rows
            for store_key in replaced:
                shown[positions[store_key]] = rows[store_key]
        replaced.clear()
        return tuple(self._shown)

    def _severities(self) -> dict[Severity, int]:
        return {severity: self._counts[severity] for severity in Severity}


# -- hypervisors ---------------------------------------------------------------------

HYPERVISOR_COLUMNS = (
    Column("region", "Region"),
    Column("host", "Host"),
    Column("state", "State"),
    Column("status", "Status"),
    Column("vcpu", "vCPU", numeric=True),
    Column("ram", "RAM %", numeric=True),
    Column("disk", "Disk %", numeric=True),
    Column("vms", "VMs", numeric=True),
    Column("reason", "Reason"),
)


def hypervisor_state_severity(h: Hypervisor) -> Severity:
    """Down with VMs on it: critical (they are unreachable and may need evacuating).
    Down without VMs, or down while disabled (maintenance, expected): warning.
    Disabled, or a state we could not read: info. Capacity comes on top (see the view)."""
    if h.state == "down":
        if h.status == "disabled" or not h.running_vms:
            return Severity.WARNING
        return Severity.CRITICAL
    if h.state != "up" or h.status != "enabled":
        return Severity.INFO
    return Severity.OK


def capacity_finding(label: str, ratio: float | None, thresholds: Thresholds) -> str | None:
    """Words for a resource class over-committed (used beyond capacity, which already
    includes the allocation ratio) or nearly full; None when neither or unknown."""
    if ratio is None:
        return None
    if ratio > thresholds.overcommit_ratio:
        return f"{label} over-committed ({format_ratio(ratio)})"
    if ratio >= thresholds.nearly_full_ratio:
        return f"{label} nearly full ({format_ratio(ratio)})"
    return None


@_without_gc_pauses
def hypervisors_view(
    snapshots: Sequence[Snapshot[Hypervisor]],
    now: float,
    thresholds: Thresholds | None = None,
) -> TableView:
    """One row per hypervisor of every region, worst first, then by region and host.

    Severity: see `hypervisor_state_severity`; a class over-committed or nearly full
    (`thresholds.overcommit_ratio`, `thresholds.nearly_full_ratio`) is at least a warning.
    (A one-off build; the console keeps a HypervisorRows between polls instead.)
    """
    return HypervisorRows().view(snapshots, now, thresholds)


class HypervisorRows(IncrementalRows):
    """The hypervisors view, rebuilt poll after poll for the items that changed."""

    def view(
        self,
        snapshots: Sequence[Snapshot[Hypervisor]],
        now: float,
        thresholds: Thresholds | None = None,
    ) -> TableView:
        """As `hypervisors_view`."""
        thresholds = thresholds or Thresholds()
        labels = region_labels(s.ref for s in snapshots)
        with self._lock:
            self._begin(snapshots)
            for snap in snapshots:
                region = labels[snap.ref]
                make = functools.partial(_hypervisor_row, snap.ref, region, thresholds, self._cells)
                self._take(snap, (region, thresholds, snap.stale, snap.held), make)
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
    ref: RegionRef, region: str, thresholds: Thresholds, cells: _Cells, h: Hypervisor
) -> tuple[Any, Row]:
    severity, row_cells = _hypervisor_cells(h, thresholds, cells)
    row = Row(
        _row_key(ref, h.id),
        (cells(region), *row_cells),
        severity,
        Target(ref, Kind.HYPERVISORS, h.id),
    )
    return (-severity, region, h.hostname, h.id), row


def _used(cap: Capacity | None) -> float | None:
    return None if cap is None else cap.used_ratio


def _hypervisor_cells(
    h: Hypervisor, thresholds: Thresholds, cells: _Cells
) -> tuple[Severity, tuple[Cell, ...]]:
    severity = hypervisor_state_severity(h)
    reasons = [h.disabled_reason] if h.disabled_reason else []
    ratios = (_used(h.vcpu), _used(h.memory_mb), _used(h.disk_gb))
    tones = [Tone.NONE, Tone.NONE, Tone.NONE]
    for i, label in enumerate(("vCPU", "RAM", "disk")):
        finding = capacity_finding(label, ratios[i], thresholds)
        if finding is not None:
            tones[i] = Tone.WARNING
            reasons.append(finding)
            severity = max(severity, Severity.WARNING)
    if h.state == "up":
        state = cells("up")
    else:
        state = cells("DOWN" if h.state == "down" else h.state, TONES[severity])
    vms = h.running_vms
    return severity, (
        Cell(h.hostname),
        state,
        cells("enabled") if h.status == "enabled" else cells(h.status, Tone.INFO),
        _vcpu_cell(h.vcpu, ratios[0], tones[0], cells),
        _ratio_cell(ratios[1], tones[1], cells),
        _ratio_cell(ratios[2], tones[2], cells),
        cells("-", sort=UNKNOWN_SORT) if vms is None else cells(str(vms), sort=vms),
        Cell("; ".join(reasons), TONES[severity]) if reasons else cells(""),
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


# -- routers ---------------------------------------------------------------------------

ROUTER_COLUMNS = (
    Column("region", "Region"),
    Column("router", "Router"),
    Column("project", "Project"),
    Column("ha", "HA"),
    Column("actives", "Actives", numeric=True),
    Column("agents", "Agents"),
    Column("replicas", "Replicas", numeric=True),
    Column("checked", "Checked", numeric=True),
    Column("finding", "Finding"),
)
MIN_REPLICAS = 2  # fewer and one more failure leaves the router with nowhere to fail over


class RouterVerdict(NamedTuple):
    """What the routers pane says of one router: severity, findings and the Actives text.
    (A NamedTuple: one is made per router per poll, and it is much cheaper to build.)"""

    severity: Severity
    findings: tuple[str, ...]  # most severe first, e.g. ("SPLIT-BRAIN",)
    actives: str  # "1", "2 SPLIT", "0 NONE", "1 DEAD", "-" (legacy), "?" (not checked), "OVN"
    active_count: int = 0  # replicas reporting active, live agents or not
    ha: bool = False  # judged as an HA router (its `ha` flag, or its bindings' ha_state)


def _is_ha(router: Router) -> bool:
    if router.ha is not None:
        return router.ha
    return any(b.ha_state is not None for b in router.bindings or ())


def _ha_findings(
    bindings: tuple[RouterBinding, ...],
) -> tuple[list[tuple[Severity, str]], str, int]:
    live = dead = 0
    for b in bindings:
        if b.ha_state == "active":
            if b.agent_alive:
                live += 1
            else:
                dead += 1
    count = live + dead
    found: list[tuple[Severity, str]] = []
    if live >= 2:
        found.append((Severity.CRITICAL, "SPLIT-BRAIN"))
    if dead:
        found.append((Severity.CRITICAL, "ACTIVE ON DEAD AGENT"))
    if not count:
        found.append((Severity.CRITICAL, "NO ACTIVE"))
    if live >= 2:
        text = f"{count} SPLIT"
    elif not count:
        text = "0 NONE"
    elif dead:
        text = f"{count} DEAD" if dead == count else f"{count} ({dead} DEAD)"
    else:
        text = str(count)
    return found, text, count


def router_verdict(router: Router, ovn: bool = False) -> RouterVerdict:
    """Judge one router from its last sweep.

    Critical: two or more actives on live agents (SPLIT-BRAIN), an HA router whose
    agents report no active (NO ACTIVE), an active replica on a dead agent, a legacy
    router whose agent is dead, or status ERROR. Warning: an HA router with fewer
    than two replica hosts, or hosted by no L3 agent at all. Info: never swept yet
    ("not checked yet"), or administratively down (then no active is expected).
    OVN routers have no L3 agents: OK, shown as "OVN".
    """
    found: list[tuple[Severity, str]] = []
    if router.status == "ERROR":
        found.append((Severity.CRITICAL, "ERROR"))
    ha = _is_ha(router)
    bindings = router.bindings
    count = 0
    if bindings is None and ovn:
        actives = "OVN"
    elif bindings is None:
        actives = "?"
        found.append((Severity.INFO, "not checked yet"))
    elif not bindings:
        actives = "0 NONE" if ha else "-"
        found.append((Severity.WARNING, "NO L3 AGENT"))
    elif ha:
        ha_found, actives, count = _ha_findings(bindings)
        if not router.admin_state_up:  # an administratively down router has no active
            ha_found = [f for f in ha_found if f[1] != "NO ACTIVE"]
        found += ha_found
    else:
        actives = "-"
        if not any(b.agent_alive for b in bindings):
            found.append((Severity.CRITICAL, "AGENT DEAD"))
    if ha and not ovn and len(router.replica_hosts) < MIN_REPLICAS:
        found.append((Severity.WARNING, f"FEW REPLICAS ({len(router.replica_hosts)})"))
    if not router.admin_state_up:
        found.append((Severity.INFO, "ADMIN-DOWN"))
    if not found:
        return RouterVerdict(Severity.OK, (), actives, count, ha)
    found.sort(key=lambda f: -f[0])
    return RouterVerdict(found[0][0], tuple(words for _, words in found), actives, count, ha)


def _agents_text(router: Router, ovn: bool) -> str:
    """Each binding as "net01:active" or "net02:standby(DEAD)"; legacy ones as the host."""
    if router.bindings is None:
        return "OVN" if ovn else "not checked yet"
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
) -> TableView:
    """One row per router of every region, worst first, then by region and name.

    `names` maps project ids to names (see `project_names`); ids show otherwise.
    Severity: see `router_verdict`. Checked is the age of the router's last
    `l3-agents` sweep on the server's clock, carried forward to `now`.
    (A one-off build; the console keeps a RouterRows between polls instead.)
    """
    return RouterRows().view(snapshots, now, names)


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
    ) -> TableView:
        """As `routers_view`."""
        names = names or {}
        labels = region_labels(s.ref for s in snapshots)
        with self._lock:
            if names != self._names:
                self._names = dict(names)
                self._names_seen += 1
            self._begin(snapshots)
            for snap in snapshots:
                self._take_routers(snap, labels[snap.ref], now)
            rows, counts = self._ordered(), self._severities()
        return _table_of(
            "routers", "Routers", ROUTER_COLUMNS, rows, snapshots, labels, now, counts=counts
        )

    def _take_routers(self, snap: Snapshot[Router], region: str, now: float) -> None:
        ovn = bool(snap.extra.get("ovn"))
        server_now = now if snap.server_time is None else snap.server_time + now - snap.fetched_at
        checked = _CheckedCells(server_now, self._cells)
        make = functools.partial(
            _router_row, snap.ref, region, ovn, checked, self._names, self._cells
        )
        context = (region, ovn, self._names_seen, snap.stale)
        known = self._snaps.get((snap.ref, snap.kind))
        remade = known is None or known.context != context  # every row made just now
        entry = self._take(snap, context, make)
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
    checked: _CheckedCells,
    names: Mapping[str, str],
    cells: _Cells,
    r: Router,
) -> tuple[Any, Row]:
    verdict = router_verdict(r, ovn)
    row = Row(
        _row_key(ref, r.id),
        _router_cells(region, r, verdict, ovn, checked(r.bindings_checked_at), names, cells),
        verdict.severity,
        Target(ref, Kind.ROUTERS, r.id),
    )
    return (-verdict.severity, region, r.name or r.id, r.id), row


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
    verdict: RouterVerdict,
    ovn: bool,
    checked: Cell,
    names: Mapping[str, str],
    cells: _Cells,
) -> tuple[Cell, ...]:
    tone = TONES[verdict.severity]
    replicas = len(r.replica_hosts)
    return (
        cells(region),
        Cell(r.name or r.id),
        cells(names.get(r.project_id, r.project_id)),
        cells("?" if r.ha is None else ("HA" if r.ha else "legacy")),
        cells(
            verdict.actives,
            Tone.NONE if verdict.actives.isdigit() else tone,
            verdict.active_count,
        ),
        cells(_agents_text(r, ovn)),
        cells(str(replicas) if verdict.ha and not ovn else "-", sort=replicas),
        checked,
        cells(", ".join(verdict.findings), tone),
    )


# -- tenants -----------------------------------------------------------------------------

TENANT_COLUMNS = (
    Column("region", "Region"),
    Column("project", "Project"),
    Column("score", "Score", numeric=True),
    Column("servers", "Servers", numeric=True),
    Column("error", "Error", numeric=True),
    Column("stuck", "Stuck", numeric=True),
    Column("churn", "Churn/h", numeric=True),
    Column("spoof", "Spoof", numeric=True),
    Column("open", "Open", numeric=True),
    Column("fips", "FIPs", numeric=True),
    Column("why", "Why"),
)
TENANT_CRITICAL, TENANT_WARNING = 50.0, 20.0


def tenant_severity(points: float) -> Severity:
    """Score cuts, set against the weights of osconsole.health.tenants: 50 or more is
    critical (spoofing with a sensitive port open, or three spoofing ports), 20 or
    more a warning (one spoofing port or one sensitive port open to the world),
    anything above 0 is worth knowing."""
    if points >= TENANT_CRITICAL:
        return Severity.CRITICAL
    if points >= TENANT_WARNING:
        return Severity.WARNING
    return Severity.INFO if points > 0 else Severity.OK


@_without_gc_pauses
def tenants_view(
    snapshots: Sequence[Snapshot[TenantSignals]],
    now: float,
    thresholds: Thresholds | None = None,
) -> TableView:
    """The `thresholds.top_tenants` highest-scoring projects across all regions (one row
    per project and region; projects scoring 0 are left out), highest score first.
    The title's total is every project watched."""
    thresholds = thresholds or Thresholds()
    labels = region_labels(s.ref for s in snapshots)
    flagged: list[tuple[float, str, str, Snapshot[TenantSignals], TenantSignals, TenantScore]]
    flagged = []
    watched = 0
    for snap in snapshots:
        region = labels[snap.ref]
        watched += len(snap.items)
        for signals in snap.items.values():
            result = score(signals, thresholds)
            if result.score > 0:
                flagged.append((result.score, region, signals.project_name, snap, signals, result))
    top = heapq.nsmallest(
        thresholds.top_tenants, flagged, key=lambda f: (-f[0], f[1], f[2], f[4].project_id)
    )
    cells = _Cells()
    stale = {snap.ref for snap in snapshots if snap.stale}
    ranked = [
        ((i,), _tenant_row(snap, labels[snap.ref], signals, result, cells))
        for i, (_, _, _, snap, signals, result) in enumerate(top)
    ]
    ranked = [(rank, stale_row(row) if row.target.ref in stale else row) for rank, row in ranked]
    notes = []
    if len(flagged) > len(top):
        notes.append(f"showing the top {len(top)} of {len(flagged):,} projects with findings")
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
    cells: _Cells,
) -> Row:
    severity = tenant_severity(result.score)
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


# -- liveness --------------------------------------------------------------------------------

LIVENESS_COLUMNS = (
    Column("region", "Region"),
    Column("kind", "Kind"),
    Column("type", "Type/Binary"),
    Column("host", "Host"),
    Column("state", "Alive/State"),
    Column("admin", "Admin"),
    Column("heartbeat", "Heartbeat", numeric=True, ticks=True),
    Column("reason", "Reason"),
)


def agent_severity(agent: Agent, thresholds: Thresholds) -> tuple[Severity, list[str]]:
    """Dead: critical, or a warning when admin-down (someone took it out: expected).
    Alive with a heartbeat older than `thresholds.heartbeat_warning_s`: warning (it is
    about to be declared dead). Admin-down while alive: info."""
    late = _late(agent.heartbeat_age, thresholds)
    if not agent.alive:
        if agent.admin_state_up:
            return Severity.CRITICAL, ["agent dead"]
        return Severity.WARNING, ["dead while admin-down (expected)"]
    if late:
        return Severity.WARNING, [late]
    if not agent.admin_state_up:
        return Severity.INFO, ["admin-down"]
    return Severity.OK, []


def service_severity(service: Service, thresholds: Thresholds) -> tuple[Severity, list[str]]:
    """Down: critical, or a warning when disabled (expected). Forced down is an
    operator's fencing: a warning. Up with a late heartbeat: warning. Disabled: info."""
    reasons = [service.disabled_reason] if service.disabled_reason else []
    late = _late(service.heartbeat_age, thresholds)
    if service.forced_down:
        return Severity.WARNING, [*reasons, "forced down by an operator"]
    if service.state != "up":
        if service.status == "disabled":
            return Severity.WARNING, [*reasons, "down while disabled (expected)"]
        return Severity.CRITICAL, [*reasons, "service down"]
    if late:
        return Severity.WARNING, [*reasons, late]
    if service.status != "enabled":
        return Severity.INFO, reasons or ["disabled"]
    return Severity.OK, reasons


def _late(age: float | None, thresholds: Thresholds) -> str | None:
    if age is None or age <= thresholds.heartbeat_warning_s:
        return None
    return f"heartbeat late (over {thresholds.heartbeat_warning_s:g}s)"


@_without_gc_pauses
def liveness_view(
    agents: Sequence[Snapshot[Agent]],
    services: Sequence[Snapshot[Service]],
    now: float,
    thresholds: Thresholds | None = None,
) -> TableView:
    """Neutron agents and Nova/Cinder services of every region in one table, worst
    first, then by region, kind, host and type. Heartbeat ages are the server's
    (measured against its Date header when polled).
    (A one-off build; the console keeps a LivenessRows between polls instead.)"""
    return LivenessRows().view(agents, services, now, thresholds)


class LivenessRows(IncrementalRows):
    """The liveness view, rebuilt poll after poll for the agents and services that changed."""

    def view(
        self,
        agents: Sequence[Snapshot[Agent]],
        services: Sequence[Snapshot[Service]],
        now: float,
        thresholds: Thresholds | None = None,
    ) -> TableView:
        """As `liveness_view`."""
        thresholds = thresholds or Thresholds()
        snapshots: list[Snapshot[Any]] = [*agents, *services]
        labels = region_labels(s.ref for s in snapshots)
        cells = self._cells
        with self._lock:
            self._begin(snapshots)
            for snap in agents:
                region = labels[snap.ref]
                make = _liveness_rows(_ranked_agent, snap, region, now, thresholds, cells)
                context = (region, thresholds, snap.stale, snap.held)
                self._take(snap, context, make, tag="agent:")
            for snap in services:
                region = labels[snap.ref]
                make = _liveness_rows(_ranked_service, snap, region, now, thresholds, cells)
                context = (region, thresholds, snap.stale, snap.held)
                self._take(snap, context, make, tag="service:")
            rows, counts = self._ordered(), self._severities()
        return _table_of(
            "liveness", "Liveness", LIVENESS_COLUMNS, rows, snapshots, labels, now, counts=counts
        )


def _liveness_rows(
    ranked: Callable[[RegionRef, str, _Heartbeats, _Cells, Any], tuple[Any, Row]],
    snap: Snapshot[Any],
    region: str,
    now: float,
    thresholds: Thresholds,
    cells: _Cells,
) -> Callable[[Any], tuple[Any, Row]]:
    """How one agents or services snapshot's rows are made: heartbeat ages count from
    the poll that read each item (an earlier one for the items it holds)."""
    ages = _Heartbeats(snap.fetched_at, now, thresholds)
    fresh = functools.partial(ranked, snap.ref, region, ages, cells)
    if not snap.held:
        return fresh
    held: dict[float, _Heartbeats] = {}

    def make(item: Any) -> tuple[Any, Row]:
        read_at = snap.held.get(item.id)
        if read_at is None:
            return fresh(item)
        if read_at not in held:
            held[read_at] = _Heartbeats(read_at, now, thresholds)
        return ranked(snap.ref, region, held[read_at], cells, item)

    return make


def _ranked_agent(
    ref: RegionRef, region: str, ages: _Heartbeats, cells: _Cells, a: Agent
) -> tuple[Any, Row]:
    row = _agent_row(ref, region, a, ages, cells)
    return (-row.severity, region, "neutron", a.host, a.agent_type, a.id), row


def _ranked_service(
    ref: RegionRef, region: str, ages: _Heartbeats, cells: _Cells, s: Service
) -> tuple[Any, Row]:
    row = _service_row(ref, region, s, ages, cells)
    return (-row.severity, region, s.project, s.host, s.binary, s.id), row


def _agent_row(ref: RegionRef, region: str, a: Agent, ages: _Heartbeats, cells: _Cells) -> Row:
    severity, reasons = agent_severity(a, ages.thresholds)
    tone = TONES[severity]
    row_cells = (
        cells(region),
        cells("neutron"),
        cells(a.agent_type),
        cells(a.host),
        cells("alive") if a.alive else cells("DEAD", tone),
        cells("up") if a.admin_state_up else cells("ADMIN-DOWN", Tone.INFO),
        ages(a.heartbeat_age),
        cells("; ".join(reasons), tone),
    )
    return Row(_row_key(ref, a.id), row_cells, severity, Target(ref, Kind.AGENTS, a.id, "agent"))


def _service_row(ref: RegionRef, region: str, s: Service, ages: _Heartbeats, cells: _Cells) -> Row:
    severity, reasons = service_severity(s, ages.thresholds)
    tone = TONES[severity]
    if s.forced_down:
        state = cells("FORCED DOWN", tone)
    else:
        state = cells("up") if s.state == "up" else cells(s.state.upper(), tone)
    row_cells = (
        cells(region),
        cells(s.project),
        cells(s.binary),
        cells(s.host),
        state,
        cells("enabled") if s.status == "enabled" else cells(s.status, Tone.INFO),
        ages(s.heartbeat_age),
        cells("; ".join(reasons), tone),
    )
    target = Target(ref, Kind.SERVICES, s.id, s.project)
    return Row(_row_key(ref, s.id), row_cells, severity, target)


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


# -- the region strip ---------------------------------------------------------------------------

DETAIL_WIDTH = 60


def region_statuses(
    stats: Mapping[RegionRef, Mapping[str, ServiceStats]],
    snapshots: Iterable[Snapshot[Any]],
    now: float,
) -> list[RegionStatus]:
    """One status per region (those in `stats` in their order, then any other region
    with snapshots, sorted). `snapshots` are the latest of each (region, kind).

    Status, worst first: "connecting" (no snapshot yet), "down" (every kind's last poll
    failed), "stale" (some kind's did), "degraded" (some kind is incomplete), "ok".
    """
    by_region: dict[RegionRef, list[Snapshot[Any]]] = {}
    for snap in snapshots:
        by_region.setdefault(snap.ref, []).append(snap)
    refs = list(stats) + sorted(
        (ref for ref in by_region if ref not in stats), key=lambda r: (r.cloud, r.region)
    )
    return [_region_status(ref, stats.get(ref, {}), by_region.get(ref, []), now) for ref in refs]


def _region_status(
    ref: RegionRef,
    services: Mapping[str, ServiceStats],
    snaps: list[Snapshot[Any]],
    now: float,
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
    )
