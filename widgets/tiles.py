"""Region tiles for the NOC wall: one region's health, legible from across a room.

A tile says in words what its colour says: the region's RED / AMBER / GREEN, its
status (ok, DEGRADED, STALE, DOWN), how old its data is, and for each domain
(Hypervisors, Routers, Tenants, Liveness) how many rows are critical and warning
(and how many could not be judged yet, "? 120"), with the domain's own RED / AMBER /
GREEN, or STALE when its last poll failed. A line for the control plane counts the
region's own findings (API availability and response times, lead times, probes: the
one judge's, as the console's region strip words them), and a last line gives the
boot p95 of the last hour and how many boots, deletes and ports are stuck, `?` when
unknown.
The region's critical and warning counts (the control plane's included) are drawn in
large digits.

`region_tiles` (pure, no Textual) makes the tiles' data from the very views the
panes show, so a count on the wall is the number of rows an operator finds in the
console. Without colour (NO_COLOR, a monochrome projector) RED is bold reverse and
AMBER bold underline, and the words are always there.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Digits, Static

from osconsole.health.findings import Finding, Severity
from osconsole.health.plane import Aspect, PlaneLook, strip_words
from osconsole.leadtimes import LeadTimeSummary
from osconsole.live import PANE_TITLES, PANES
from osconsole.model import Kind, RegionRef, Snapshot
from osconsole.views import RegionStatus, TableView, format_age, region_labels
from osconsole.widgets.region_strip import status_word
from osconsole.widgets.styling import component_style

GREEN, AMBER, RED = "GREEN", "AMBER", "RED"
STALE, NO_DATA, WAIT = "STALE", "NO DATA", "WAIT"
DOMAIN_TITLES = {**PANE_TITLES, "routers": "Routers"}  # short enough for a 36-column tile
TILE_MIN_WIDTH = 39  # columns a tile needs for its domain lines (35) and its frame
TILE_HEIGHT = 14  # with its digits (10 without, in compact tiles)
PLANE_TITLE = "Ctrl plane"
BOOTS_TITLE = "Boots 1h"

Counts = Mapping[RegionRef, tuple[int, int, int]]
"""(critical rows, warning rows, unknown rows) of each region in one pane."""


# -- what a tile says (pure) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainHealth:
    """One domain of one region: its critical and warning rows and its freshness."""

    title: str
    critical: int = 0
    warning: int = 0
    unknown: int = 0  # rows the judge could not judge yet (routers not swept...)
    known: bool = False  # some poll of it has arrived
    stale: bool = False  # its last poll failed: the counts are from older data

    @property
    def rag(self) -> str:
        """RED when critical or blind (stale), AMBER on warnings, GREEN otherwise."""
        if self.stale or self.critical:
            return RED
        return AMBER if self.warning else GREEN

    @property
    def word(self) -> str:
        """What the tile prints for it: the RAG word, or why there is none."""
        if not self.known:
            return NO_DATA
        return STALE if self.stale else self.rag


@dataclass(frozen=True, slots=True)
class TileLeadTimes:
    """The region's boots of the last hour, from its latest tenants poll: the p95 (None:
    no boot finished in the hour) and how many boots, deletes and ports hang now."""

    p95_s: float | None
    stuck: int
    stale: bool = False  # that poll failed: these figures are from the one before

    @classmethod
    def of(cls, summary: LeadTimeSummary, stale: bool) -> TileLeadTimes:
        return cls(summary.boot.p95_s, summary.stuck, stale)

    @property
    def p95_word(self) -> str:
        return "none" if self.p95_s is None else f"{self.p95_s:.0f}s"


@dataclass(frozen=True, slots=True)
class TileData:
    """One region's tile."""

    ref: RegionRef
    label: str
    status: str  # RegionStatus.status: ok, degraded, stale, down, connecting
    age: float | None
    detail: str
    domains: tuple[DomainHealth, ...]
    plane: DomainHealth = DomainHealth(PLANE_TITLE)  # the region's own findings
    plane_word: str = ""  # its worst open finding in a word ("boots STUCK +1")
    lead_times: TileLeadTimes | None = None  # None: unknown (no tenants poll timed)

    @property
    def critical(self) -> int:
        return sum(d.critical for d in (*self.domains, self.plane))

    @property
    def warning(self) -> int:
        return sum(d.warning for d in (*self.domains, self.plane))

    @property
    def word(self) -> str:
        """The region's RED / AMBER / GREEN (WAIT before its first poll; NO DATA while
        no domain has data: nothing read is not healthy)."""
        if self.status == "connecting":
            return WAIT
        known = [d.rag for d in (*self.domains, self.plane) if d.known]
        if self.status in ("down", "stale") or RED in known:
            return RED
        if self.domains and not known:
            return NO_DATA
        if self.status == "degraded" or AMBER in known:
            return AMBER
        return GREEN

    @property
    def status_line(self) -> str:
        """ "DOWN · data 2m old · compute: 503 ..." (the age only once there is data)."""
        parts = [f"polls {status_word(self.status)}"]
        if self.age is not None and self.status != "connecting":
            parts.append(f"data {format_age(self.age)} old")
        if self.detail and self.status != "ok":
            parts.append(self.detail)
        return " · ".join(parts)


COUNTED = (Severity.CRITICAL, Severity.WARNING, Severity.UNKNOWN)


def region_counts(view: TableView) -> dict[RegionRef, tuple[int, int, int]]:
    """(critical, warning, unknown) rows of each region in a pane's view, from the rows'
    severities (the assessments): one pass over its rows."""
    tally = Counter((row.target.ref, row.severity) for row in view.rows if row.severity in COUNTED)
    refs = {ref for ref, _ in tally}
    return {ref: tuple(tally[(ref, sev)] for sev in COUNTED) for ref in refs}  # type: ignore[misc]


PLANE_ASPECTS = frozenset(a.value for a in Aspect)


def plane_counts(findings: Iterable[Finding]) -> dict[RegionRef, tuple[int, int, int]]:
    """(critical, warning, 0) control-plane findings of each region, acknowledged ones
    included as they are in the panes' row counts."""
    tally = Counter(
        (f.subject.ref, f.severity) for f in findings if f.subject.kind in PLANE_ASPECTS
    )
    refs = {ref for ref, _ in tally}
    return {
        ref: (tally[(ref, Severity.CRITICAL)], tally[(ref, Severity.WARNING)], 0) for ref in refs
    }


def region_tiles(
    statuses: Sequence[RegionStatus],
    counts: Mapping[str, Counts],
    snapshots: Iterable[Snapshot[Any]],
    findings: Sequence[Finding] = (),
    plane: Iterable[PlaneLook] = (),
) -> list[TileData]:
    """One tile per region of `statuses` (in their order), each domain counted from
    `counts` (pane -> region -> (critical, warning)) and judged fresh or stale from the
    latest `snapshots` of its kinds; the control plane from the judge's `findings`,
    known for the regions with a `plane` look; the lead times from the latest tenants
    snapshot."""
    latest: dict[tuple[RegionRef, Kind], Snapshot[Any]] = {(s.ref, s.kind): s for s in snapshots}
    labels = region_labels(s.ref for s in statuses)
    looked = {look.ref for look in plane}
    planes = plane_counts(findings)
    words = strip_words(findings)
    tiles = []
    for status in statuses:
        domains = []
        for pane, kinds in PANES.items():
            snaps = [latest[(status.ref, k)] for k in kinds if (status.ref, k) in latest]
            critical, warning, unknown = counts.get(pane, {}).get(status.ref, (0, 0, 0))
            domains.append(
                DomainHealth(
                    title=DOMAIN_TITLES[pane],
                    critical=critical,
                    warning=warning,
                    unknown=unknown,
                    known=bool(snaps),
                    stale=any(s.stale for s in snaps),
                )
            )
        critical, warning, _ = planes.get(status.ref, (0, 0, 0))
        tenants = latest.get((status.ref, Kind.TENANTS))
        summary = tenants.extra.get("lead_times") if tenants is not None else None
        tiles.append(
            TileData(
                ref=status.ref,
                label=labels[status.ref],
                status=status.status,
                age=status.age,
                detail=status.detail,
                domains=tuple(domains),
                plane=DomainHealth(
                    PLANE_TITLE,
                    critical,
                    warning,
                    known=status.ref in looked or bool(critical or warning),
                ),
                plane_word=words.get(status.ref, ""),
                lead_times=TileLeadTimes.of(summary, tenants.stale)
                if tenants is not None and isinstance(summary, LeadTimeSummary)
                else None,
            )
        )
    return tiles


def tile_columns(tiles: int, width: int) -> int:
    """How many tiles side by side: as many as fit at TILE_MIN_WIDTH, at least one."""
    return max(1, min(tiles, width // TILE_MIN_WIDTH))


def needs_compact(tiles: int, width: int, height: int, share: float = 0.45) -> bool:
    """Drop the digits when full tiles would take more than `share` of the screen."""
    rows = math.ceil(tiles / tile_columns(tiles, width)) if tiles else 0
    return rows * TILE_HEIGHT > height * share


# -- the widget ----------------------------------------------------------------------------

WORD_CLASSES = {RED: "-red", AMBER: "-amber", GREEN: "-green", WAIT: "-wait"}
WORD_COMPONENTS = {
    RED: "tile--red",
    STALE: "tile--red",
    AMBER: "tile--amber",
    GREEN: "tile--green",
    WAIT: "tile--muted",
    NO_DATA: "tile--muted",
}


class RegionTile(Widget):
    """One region: its word, status and age, big counts, and a line per domain."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "tile--red",
        "tile--amber",
        "tile--green",
        "tile--muted",
        "tile--name",
    }

    DEFAULT_CSS = """
    RegionTile {
        height: 14;
        border: round $panel;
        padding: 0 1;
        layout: vertical;
    }
    RegionTile.-red { border: heavy $error; }
    RegionTile.-amber { border: round $warning; }
    RegionTile.-green { border: round $success; }
    RegionTile.-compact { height: 10; }
    RegionTile.-compact > #tile-counts { display: none; }
    RegionTile > #tile-head, RegionTile > #tile-domains {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    RegionTile > #tile-head { height: 2; }
    RegionTile > #tile-counts { height: 4; }
    RegionTile .tile-count { width: 1fr; height: 4; }
    RegionTile .tile-count > Digits { width: auto; color: $text-muted; text-style: bold; }
    RegionTile .tile-count > Digits.-critical { color: $text-error; }
    RegionTile .tile-count > Digits.-warning { color: $text-warning; }
    RegionTile .tile-label { height: 1; color: $text-muted; }
    RegionTile > #tile-domains { height: 6; }
    RegionTile > .tile--red { color: $text-error; text-style: bold reverse; }
    RegionTile > .tile--amber { color: $text-warning; text-style: bold; }
    RegionTile > .tile--green { color: $text-success; text-style: bold; }
    RegionTile > .tile--muted { color: $text-muted; }
    RegionTile > .tile--name { text-style: bold; }
    RegionTile:nocolor > .tile--amber { text-style: bold underline; }
    """

    def __init__(self, data: TileData, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._data = data
        self._shown: TileData | None = None
        self._head = Static(id="tile-head", markup=False)
        self._critical = Digits("0", id="tile-critical")
        self._warning = Digits("0", id="tile-warning")
        self._domains = Static(id="tile-domains", markup=False)

    @property
    def data(self) -> TileData:
        return self._data

    @property
    def plain(self) -> str:
        """Everything the tile says, as text (for tests and logs)."""
        head, domains = self._texts()
        d = self._data
        counts = f"{d.critical} critical {d.warning} warning"
        return "\n".join((head.plain, counts, domains.plain))

    def compose(self) -> ComposeResult:
        yield self._head
        with Horizontal(id="tile-counts"):
            with Vertical(classes="tile-count"):
                yield self._critical
                yield Static("critical", classes="tile-label", markup=False)
            with Vertical(classes="tile-count"):
                yield self._warning
                yield Static("warning", classes="tile-label", markup=False)
        yield self._domains

    def on_mount(self) -> None:
        self._shown = None
        self.call_after_refresh(self._apply)  # once the component styles are resolved

    def show(self, data: TileData) -> None:
        """Say what `data` says; nothing is redrawn when it says the same."""
        self._data = data
        if self.is_mounted:
            self._apply()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._shown = None  # a theme change: restyle the words
        if self.is_mounted:
            self.call_after_refresh(self._apply)

    def _apply(self) -> None:
        data = self._data
        if data == self._shown:
            return
        self._shown = data
        for word, css_class in WORD_CLASSES.items():
            self.set_class(data.word == word, css_class)
        head, domains = self._texts()
        self._head.update(head, layout=False)
        self._domains.update(domains, layout=False)
        self._count(self._critical, data.critical, "-critical")
        self._count(self._warning, data.warning, "-warning")

    def _count(self, digits: Digits, value: int, nonzero: str) -> None:
        text = str(value)
        if digits.value != text:
            digits.update(text)
        digits.set_class(value > 0, nonzero)

    def _style(self, word: str) -> Style:
        return component_style(self, WORD_COMPONENTS[word])

    def _texts(self) -> tuple[Text, Text]:
        """The head (name and word, then the status line) and the domain lines."""
        data = self._data
        head = Text(no_wrap=True, overflow="ellipsis")
        name_style = component_style(self, "tile--name")
        head.append(data.label, style=name_style)
        head.append("  ")
        head.append(f" {data.word} ", style=self._style(data.word))
        head.append("\n" + data.status_line)
        domains = Text(no_wrap=True, overflow="ellipsis")
        for domain in (*data.domains, data.plane):
            domains.append(f"{domain.title:<11}")
            domains.append(f"{domain.critical:>4} crit", style=self._count_style(domain.critical))
            domains.append(f"{domain.warning:>4} warn", style=self._count_style(domain.warning))
            domains.append(" ")
            domains.append(domain.word, style=self._style(domain.word))
            if domain.unknown:
                domains.append(f" ? {domain.unknown}", style=self._style(NO_DATA))
            if domain is data.plane and data.plane_word:
                domains.append(f" {data.plane_word}", style="bold")
            domains.append("\n")
        self._lead_line(domains, data.lead_times)
        return head, domains

    def _lead_line(self, text: Text, lead: TileLeadTimes | None) -> None:
        """ "Boots 1h   p95  45s   0 stuck" ("?" when unknown, STALE when old)."""
        text.append(f"{BOOTS_TITLE:<11}")
        if lead is None:
            text.append(f"p95 {'?':>4}{'?':>4} stuck", style=self._style(NO_DATA))
            return
        text.append(f"p95 {lead.p95_word:>4}")
        text.append(f"{lead.stuck:>4} stuck", style=self._count_style(lead.stuck))
        if lead.stale:
            text.append(" ")
            text.append(STALE, style=self._style(STALE))

    def _count_style(self, value: int) -> Style | str:
        return "bold" if value else self._style(NO_DATA)
