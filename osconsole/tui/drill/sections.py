"""What a drill-down screen shows, as plain data: sections of lines, and the pages
that group them. No Textual here: the pages are built and tested as pure data, and
the screen only draws them.

A page is built from the latest snapshots (shown at once) and carries loaders that
fetch the live facts of its object; a loader returns a whole new section, which
replaces the snapshot one when it arrives.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from osconsole.clean import clean_text
from osconsole.cloud.http import ApiFailure, RegionClient
from osconsole.health.findings import Assessment, Severity
from osconsole.model import Kind, Snapshot
from osconsole.views import Cell, Column, Target, Tone, format_age, problem_words

MAX_LINES = 1000  # a live listing longer than this shows its first lines and says so
KIND_LABELS = {
    Kind.HYPERVISORS: "Hypervisors",
    Kind.ROUTERS: "Routers",
    Kind.AGENTS: "Agents",
    Kind.SERVICES: "Services",
    Kind.TENANTS: "Tenants",
}
SEVERITY_TONES = {
    Severity.UNKNOWN: Tone.DIM,
    Severity.OK: Tone.OK,
    Severity.INFO: Tone.INFO,
    Severity.WARNING: Tone.WARNING,
    Severity.CRITICAL: Tone.CRITICAL,
}


def verdict_cell(assessment: Assessment) -> Cell:
    """The object's assessment, as the pane's row says it: "OK", "CRITICAL: SPLIT-BRAIN",
    "UNKNOWN: ? not checked yet", "OK: NO ACTIVE (pending until 12:03:04 UTC)"."""
    words = problem_words(assessment)
    severity = assessment.severity
    if not words:
        return Cell(severity.name)
    tone = SEVERITY_TONES[severity] if severity is not Severity.OK else Tone.DIM
    return Cell(f"{severity.name}: {words}", tone)


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a section; Enter on it opens `target` when there is one."""

    key: str
    cells: tuple[Cell, ...]
    target: Target | None = None
    # The API object behind the row (a server's /servers/detail item), for its actions.
    subject: Any = field(default=None, compare=False)

    def text(self) -> str:
        return " ".join(c.text for c in self.cells)


@dataclass(frozen=True, slots=True)
class Section:
    """A titled table: facts (two columns, no header) or a listing."""

    key: str
    title: str
    columns: tuple[Column, ...]
    lines: tuple[Line, ...] = ()
    note: str = ""  # where the data comes from, or why it is empty
    note_tone: str = Tone.NONE
    header: bool = True
    live: bool = False  # fetched by a loader (not from a snapshot)

    def text(self) -> str:
        """Everything the section says, for tests and the log."""
        return "\n".join([self.title, self.note, *(line.text() for line in self.lines)])


Loader = Callable[[RegionClient], Awaitable[Section]]


@dataclass(frozen=True, slots=True)
class Page:
    """One object's drill-down: its sections (from snapshots) and their live loaders."""

    title: str  # "Hypervisor rone-cmp00012"
    crumb: str  # the breadcrumb's last part: "rone-cmp00012"
    sections: tuple[Section, ...]
    loaders: Mapping[str, Loader] = field(default_factory=dict)


# -- cells and facts ---------------------------------------------------------------------

FACT_COLUMNS = (Column("field", "Field"), Column("value", "Value"))


def fact(label: str, value: str | Cell, target: Target | None = None) -> Line:
    cell = value if isinstance(value, Cell) else Cell(value)
    return Line(label, (Cell(label, Tone.DIM), cell), target)


def facts(key: str, title: str, lines: Sequence[Line], note: str = "") -> Section:
    return Section(key, title, FACT_COLUMNS, tuple(lines), note=note, header=False)


def word(ok: bool, good: str, bad: str, bad_tone: str = Tone.CRITICAL) -> Cell:
    """A state in words: `good` plainly, `bad` (upper case by convention) with a tone."""
    return Cell(good) if ok else Cell(bad, bad_tone)


def yes_no(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")


def age_cell(seconds: float | None, late_after: float | None = None) -> Cell:
    late = seconds is not None and late_after is not None and seconds > late_after
    sort = -1.0 if seconds is None else seconds
    return Cell(format_age(seconds), Tone.WARNING if late else Tone.NONE, sort)


def aged(age: float | None, snapshot: Snapshot[Any] | None, now: float) -> float | None:
    """An age measured when `snapshot` was taken, carried forward to `now`."""
    if age is None or snapshot is None:
        return age
    return age + max(0.0, now - snapshot.fetched_at)


def when(ts: float | None, now: float | None) -> str:
    """'2024-05-01 12:00:03Z (3.2h ago)'; '-' when unknown."""
    if ts is None:
        return "-"
    stamp = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return stamp if now is None else f"{stamp} ({format_age(now - ts)} ago)"


def short_id(value: str, width: int = 8) -> str:
    return value[:width]


def freshness(snapshot: Snapshot[Any] | None, now: float, what: str = "last poll") -> str:
    """'last poll 12s ago' / 'STALE: last poll 5m ago (compute 503)' / 'no poll yet'."""
    if snapshot is None:
        return "no poll of this yet"
    text = f"{what} {format_age(snapshot.age(now))} ago"
    if snapshot.stale:
        why = f" ({snapshot.error})" if snapshot.error else ""
        return f"STALE: {text}{why}"
    return text


def failure_text(exc: BaseException) -> str:
    """An error as an operator reads it: the API's own words, never a traceback."""
    if isinstance(exc, ApiFailure):
        return clean_text(exc)
    return f"unexpected {type(exc).__name__}: {clean_text(exc)} (details in the log)"


def capped(lines: list[Line], note: str) -> tuple[tuple[Line, ...], str]:
    """At most MAX_LINES lines; the note says when some were left out."""
    if len(lines) <= MAX_LINES:
        return tuple(lines), note
    more = f"showing the first {MAX_LINES:,} of {len(lines):,}"
    return tuple(lines[:MAX_LINES]), f"{note}; {more}" if note else more


TRAIL_SEP = " \u203a "  # a single right-pointing angle quotation mark


def fit_trail(parts: Sequence[str], width: int, sep: str = TRAIL_SEP) -> str:
    """The breadcrumb in `width` cells: the oldest parts give way first ("… > b > c")."""
    text = sep.join(parts)
    if width <= 0 or len(text) <= width:
        return text
    kept = list(parts)
    while len(kept) > 1:
        kept.pop(0)
        text = sep.join(["…", *kept])
        if len(text) <= width:
            return text
    return text[: max(0, width - 1)] + "…"
