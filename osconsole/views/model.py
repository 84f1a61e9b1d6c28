"""What a view is: cells (words, with a tone that only adds emphasis), columns,
rows with what they stand for, a table with its counts and freshness, a region's
status; and the formatting of ages and cut text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from osconsole.health.findings import Severity
from osconsole.model import (
    Kind,
    RegionRef,
)


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
    # Hidden when the pane is narrower than this many cells (its text stays in the pane's
    # detail line); None: always shown, as the name, the severity and the reason are.
    drop_below: int | None = None
    # At most this many cells while the pane drops columns (it is narrow), so that the
    # problem after it stays in sight; the detail line shows the whole text.
    narrow_max: int | None = None


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
    auth_failing: float | None = None  # seconds renewing its token has failed (None: fine)


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
