"""What each pane shows, as plain data: rows keyed across regions, worst first.

The console, the wall and any future viewer render these; nothing here knows
Textual. A row's meaning is always in its text ("DOWN", "2 SPLIT"), never in its
colour alone: `tone` only adds emphasis for terminals that have colour.

Nothing here judges: every row's severity, its Severity column and its words are
the object's assessment (`osconsole.health.assess`, the one judge), and the facts
shown are those of the snapshots it judged (`Verdicts.snapshots`).

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
import math
import threading
from bisect import insort
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress, filterfalse
from operator import attrgetter, is_not
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from osconsole.config import Thresholds
from osconsole.health.assess import Verdicts
from osconsole.health.findings import (
    ACKNOWLEDGED,
    OK_ASSESSMENT,
    PENDING,
    Assessment,
    Severity,
    clock_time,
)
from osconsole.health.hypervisors import capacity_finding
from osconsole.health.routers import is_ha, replica_hosts
from osconsole.health.tenants import TenantScore, score
from osconsole.model import (
    Agent,
    Capacity,
    Hypervisor,
    Kind,
    RegionRef,
    Router,
    Service,
    Snapshot,
    TenantSignals,
)
from osconsole.text import format_age, format_ratio

if TYPE_CHECKING:
    from osconsole.cloud.http import ServiceStats

P = ParamSpec("P")
R = TypeVar("R")


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
    Severity.UNKNOWN: Tone.DIM,
    Severity.OK: Tone.NONE,
    Severity.INFO: Tone.INFO,
    Severity.WARNING: Tone.WARNING,
    Severity.CRITICAL: Tone.CRITICAL,
}
UNKNOWN_SORT = -1.0  # numeric columns: unknown values sort below every known one
SEVERITY_WORDS = {
    Severity.CRITICAL: "CRIT",
    Severity.WARNING: "WARN",
    Severity.UNKNOWN: "?",
    Severity.INFO: "info",
    Severity.OK: "ok",
}
SEVERITY_COLUMN = Column("severity", "Sev")


PENDING_WORD = "pend"  # OK or unknown so far, with a problem waiting out its debounce


def _pending_only(assessment: Assessment) -> bool:
    return assessment.severity <= Severity.OK and bool(assessment.problems)


def severity_cell(assessment: Assessment, cells: Callable[..., Cell] = Cell) -> Cell:
    """The Severity column: the assessment's word, sorted worst first ("pend" when its
    only problems are pending: not findings yet, but about to be)."""
    severity = assessment.severity
    if _pending_only(assessment):
        return cells(PENDING_WORD, Tone.DIM, -severity.rank - 0.5)
    return cells(SEVERITY_WORDS[severity], TONES[severity], -severity.rank)


def problem_words(assessment: Assessment) -> str:
    """The words column: the labels of its problems (findings first, acknowledged ones
    marked, pending ones with the time they fire), or why it could not be judged."""
    words = []
    for p in assessment.problems:
        if p.state == PENDING:
            when = "" if p.fires_at is None else f" until {clock_time(p.fires_at)}"
            words.append(f"{p.label} (pending{when})")
        elif p.state == ACKNOWLEDGED:
            words.append(f"{p.label} (ack)")
        else:
            words.append(p.label)
        if not p.confirmed:
            words[-1] += " (unconfirmed)"
    if assessment.unknown:
        words.append(f"? {assessment.unknown}")
    return ", ".join(words)


def words_cell(assessment: Assessment, cells: Callable[..., Cell]) -> Cell:
    text = problem_words(assessment)
    if not text:
        return cells("")
    tone = TONES[assessment.severity]
    if assessment.severity is Severity.OK:
        tone = Tone.DIM  # only pending problems: not a finding yet
    return Cell(text, tone)


def rank(assessment: Assessment) -> float:
    """Sort key part: worst first (critical, warning, unknown, info, ok), rows with a
    pending problem above their severity's others."""
    return -assessment.severity.rank - (0.5 if _pending_only(assessment) else 0.0)


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
    """The pane's title: "Hypervisors 3 critical, 2 warning, 40 unknown / 1,234"; OK
    only when every row was judged and none is worse than info."""
    parts = [
        f"{counts[sev]:,} {sev.word}"
        for sev in (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN)
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


def _stale_rows(
    make: Callable[[Any, Assessment], tuple[Any, Row]],
) -> Callable[[Any, Assessment], tuple[Any, Row]]:
    def made_stale(item: Any, judged: Assessment) -> tuple[Any, Row]:
        rank, row = make(item, judged)
        return rank, stale_row(row)

    return made_stale


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

    __slots__ = ("context", "ids", "item_ids", "items", "judged", "moment", "snap", "values")

    def __init__(self, context: Any) -> None:
        self.snap: Snapshot[Any] | None = None
        self.judged: Mapping[str, Assessment] = {}  # the assessments that are not OK
        self.context = context  # what every row depends on besides its item
        self.items: Mapping[str, Any] = {}
        self.item_ids: list[str] = []  # the items' ids and values, in the snapshot's order
        self.values: list[Any] = []
        self.ids: dict[str, str] = {}  # item id -> the row's key in the store
        self.moment: Any = None  # the time the time-dependent cells were made for


def _rejudged(
    changed: list[str],
    before: Mapping[str, Assessment],
    now: Mapping[str, Assessment],
    items: Mapping[str, Any],
) -> list[str]:
    """`changed` plus the items whose assessment changed (shared assessments, such as
    every router's "not checked yet", are compared by identity first)."""
    moved = [
        i
        for i in before.keys() | now.keys()
        if (a := before.get(i)) is not (b := now.get(i)) and a != b and i in items
    ]
    return list(dict.fromkeys([*changed, *moved])) if moved else changed


class IncrementalRows:
    """A view's rows kept between polls: a poll that changes 1% of the items costs
    about 1% of a full build.

    A row is rebuilt only when its item changed (the very same object is skipped in
    C, an equal one after one comparison), its assessment did, or its snapshot's
    context (region label, thresholds, project names) did; the order is repaired by bisection when
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
        make: Callable[[Any, Assessment], tuple[Any, Row]],
        judged: Mapping[str, Assessment],
        tag: str = "",
    ) -> _SnapshotRows:
        """Bring `snap`'s rows up to date; `make(item, assessment)` builds one (rank,
        row); `judged` holds the items' assessments that are not OK.

        `context` must include `snap.stale`: a snapshot going stale (or fresh again)
        redoes its rows, dimmed (stale_row) while it is stale."""
        if snap.stale:
            make = _stale_rows(make)
        key = (snap.ref, snap.kind)
        entry = self._snaps.get(key)
        if entry is None:
            entry = self._snaps[key] = _SnapshotRows(context)
        elif entry.snap is snap and entry.context == context and entry.judged is judged:
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
            if judged is not entry.judged:
                changed = _rejudged(changed, entry.judged, judged, items)
        else:
            entry.context = context
            changed = list(items)
        entry.judged = judged
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
        make: Callable[[Any, Assessment], tuple[Any, Row]],
        tag: str,
    ) -> None:
        with gc_paused(len(changed) > BIG_BUILD):
            self._make_rows(entry, items, changed, make, tag)

    def _make_rows(
        self,
        entry: _SnapshotRows,
        items: Mapping[str, Any],
        changed: Sequence[str],
        make: Callable[[Any, Assessment], tuple[Any, Row]],
        tag: str,
    ) -> None:
        ids, rows, ranks, moved = entry.ids, self._rows, self._ranks, self._moved
        counts, judged = self._counts, entry.judged
        for item_id in changed:
            rank, row = make(items[item_id], judged.get(item_id, OK_ASSESSMENT))
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
    SEVERITY_COLUMN,
    Column("host", "Host"),
    Column("state", "State"),
    Column("status", "Status"),
    Column("vcpu", "vCPU", numeric=True),
    Column("ram", "RAM %", numeric=True),
    Column("disk", "Disk %", numeric=True),
    Column("vms", "VMs", numeric=True),
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
                self._take(snap, (region, thresholds, snap.stale), make, judged)
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


# -- routers ---------------------------------------------------------------------------

ROUTER_COLUMNS = (
    Column("region", "Region"),
    SEVERITY_COLUMN,
    Column("router", "Router"),
    Column("project", "Project"),
    Column("ha", "HA"),
    Column("actives", "Actives", numeric=True),
    Column("agents", "Agents"),
    Column("replicas", "Replicas", numeric=True),
    Column("checked", "Checked", numeric=True),
    Column("finding", "Problems"),
)


def actives_text(router: Router, ovn: bool = False) -> tuple[str, int]:
    """The Actives cell, a fact of the last sweep (the judging is the assessment's):
    "1", "2 SPLIT", "0 NONE", "1 DEAD", "2 (1 DEAD)", "-" (legacy), "?" (not swept),
    "OVN"; and how many replicas report active."""
    bindings = router.bindings
    if bindings is None:
        return ("OVN" if ovn else "?"), 0
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
        server_now = now if snap.server_time is None else snap.server_time + now - snap.fetched_at
        checked = _CheckedCells(server_now, self._cells)
        make = functools.partial(
            _router_row, snap.ref, region, ovn, checked, self._names, self._cells
        )
        context = (region, ovn, self._names_seen, snap.stale)
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
    checked: _CheckedCells,
    names: Mapping[str, str],
    cells: _Cells,
    r: Router,
    judged: Assessment,
) -> tuple[Any, Row]:
    row = Row(
        _row_key(ref, r.id),
        _router_cells(region, r, judged, ovn, checked(r.bindings_checked_at), names, cells),
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
    checked: Cell,
    names: Mapping[str, str],
    cells: _Cells,
) -> tuple[Cell, ...]:
    tone = TONES[judged.severity]
    actives, active_count = actives_text(r, ovn)
    replicas = len(replica_hosts(r))
    ha = is_ha(r)
    return (
        cells(region),
        severity_cell(judged, cells),
        Cell(r.name or r.id),
        cells(names.get(r.project_id, r.project_id)),
        cells("?" if r.ha is None else ("HA" if r.ha else "legacy")),
        cells(actives, Tone.NONE if actives.isdigit() else tone, active_count),
        cells(_agents_text(r, ovn)),
        cells(str(replicas) if ha and not ovn else "-", sort=replicas),
        checked,
        words_cell(judged, cells),
    )


# -- tenants -----------------------------------------------------------------------------

TENANT_COLUMNS = (
    Column("region", "Region"),
    SEVERITY_COLUMN,
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
    watched = scored = 0
    for snap in snapshots:
        region = labels[snap.ref]
        watched += len(snap.items)
        judged = verdicts.scope(snap.ref, snap.kind)
        for project_id, signals in snap.items.items():
            result = score(signals, thresholds)
            if result.score <= 0:
                continue
            scored += 1
            assessment = judged.get(project_id)
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


# -- liveness --------------------------------------------------------------------------------

LIVENESS_COLUMNS = (
    Column("region", "Region"),
    SEVERITY_COLUMN,
    Column("kind", "Kind"),
    Column("type", "Type/Binary"),
    Column("host", "Host"),
    Column("state", "Alive/State"),
    Column("admin", "Admin"),
    Column("heartbeat", "Heartbeat", numeric=True, ticks=True),
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
                ages = _Heartbeats(snap.fetched_at, now, thresholds)
                make = functools.partial(_ranked_agent, snap.ref, region, ages, cells)
                judged = verdicts.scope(snap.ref, snap.kind)
                self._take(snap, (region, thresholds, snap.stale), make, judged, tag="agent:")
            for snap in services:
                region = labels[snap.ref]
                ages = _Heartbeats(snap.fetched_at, now, thresholds)
                make = functools.partial(_ranked_service, snap.ref, region, ages, cells)
                judged = verdicts.scope(snap.ref, snap.kind)
                self._take(snap, (region, thresholds, snap.stale), make, judged, tag="service:")
            rows, counts = self._ordered(), self._severities()
        return _table_of(
            "liveness", "Liveness", LIVENESS_COLUMNS, rows, snapshots, labels, now, counts=counts
        )


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
