"""Building views cheaply: shared cells, the garbage collector paused for big builds,
rows kept between polls (IncrementalRows: a poll changing 1% of 20,000 rows costs
about 1% of a full build), counts, titles and freshness notes."""

from __future__ import annotations

import dataclasses
import functools
import gc
import threading
from bisect import insort
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import compress, filterfalse
from operator import attrgetter, is_not
from typing import Any, ParamSpec, TypeVar

from osconsole.health.findings import (
    OK_ASSESSMENT,
    Assessment,
    Severity,
)
from osconsole.model import (
    Kind,
    RegionRef,
    Snapshot,
)
from osconsole.text import format_age
from osconsole.views.model import Cell, Column, Row, TableView, Tone

P = ParamSpec("P")
R = TypeVar("R")


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


def _title(
    name: str, counts: Mapping[Severity, int], total: int, unread: Sequence[str] = ()
) -> str:
    """The pane's title: "Hypervisors 3 critical, 2 warning, 40 unknown / 1,234"; OK
    only when every row was judged and none is worse than info. Regions whose polls of
    the kind never answered follow ("· RegionTwo not read"): their rows are not absent,
    they are unknown."""
    parts = [
        f"{counts[sev]:,} {sev.word}"
        for sev in (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN)
        if counts.get(sev)
    ]
    title = f"{name} {', '.join(parts) or 'OK'} / {total:,}"
    return f"{title} · {', '.join(unread)} not read" if unread else title


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


def _held_rows(
    make: Callable[[Any, Assessment], tuple[Any, Row]], held: Mapping[str, float]
) -> Callable[[Any, Assessment], tuple[Any, Row]]:
    """Rows of items held from an earlier poll (Snapshot.held) dimmed as stale ones."""

    def made(item: Any, judged: Assessment) -> tuple[Any, Row]:
        rank, row = make(item, judged)
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
    unlisted: Mapping[Severity, int] | None = None,
) -> TableView:
    """Sort (key, row) pairs once, worst first, and add counts and freshness;
    `unlisted` counts objects judged but not listed (the tenants pane's unknown ones)."""
    ranked.sort(key=lambda pair: pair[0])
    rows = tuple(row for _, row in ranked)
    counts = _counts(rows)
    for severity, n in (unlisted or {}).items():
        counts[severity] += n
    return _table_of(
        kind, name, columns, rows, snapshots, labels, now, total=total, notes=notes, counts=counts
    )


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
        title=_title(
            name,
            counts,
            len(rows) if total is None else total,
            sorted({labels[s.ref] for s in snapshots if s.never_read}),
        ),
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
