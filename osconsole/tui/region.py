"""The region drill-down: the control plane's own health in one region.

Enter on a region in the region strip (or `ConsoleApp.open_region`, which `:region
NAME` calls) opens it: per service, the success ratio and p50/p95/p99 over 5 min,
1 h and 1 day with the errors by status, and two sparklines of the last hour (p95 and
the share answered, per minute); the lead times of boots and deletes per hour with
what is stuck; the probes of RabbitMQ, Galera and memcached; the region's open
control-plane findings. What the screen shows is gathered into `RegionFigures`
(plain data, the figures' owners only read) and turned into sections by pure
functions, so tests can feed it fixed figures; every text from the cloud or a
probe is cleaned and drawn as text, never markup. It follows the figures every
REFRESH_S seconds, as the object drill-downs follow the poller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from osconsole.availability import WINDOWS, Point, RequestHistory, WindowStats
from osconsole.clean import clean_text
from osconsole.health.findings import SINCE_FIRST_SEEN, Finding
from osconsole.health.plane import Aspect
from osconsole.leadtimes import LeadStat, LeadTimeSummary
from osconsole.model import Kind, RegionRef
from osconsole.probes.base import ProbeResult
from osconsole.text import format_age
from osconsole.tui.drill.sections import (
    SEVERITY_TONES,
    Line,
    Section,
    fact,
    facts,
)
from osconsole.tui.drill.widgets import Breadcrumb, SectionView
from osconsole.views import Cell, Column, Tone

log = logging.getLogger(__name__)

REFRESH_S = 2.0
SERVICES = ("identity", "compute", "network", "placement", "volume")  # shown in this order
ASPECTS = {a.value for a in Aspect}


@dataclass(frozen=True, slots=True)
class RegionFigures:
    """What the region drill-down shows, read at `now` (the console's clock)."""

    ref: RegionRef
    now: float
    history: RequestHistory | None = None  # None: not connected to the region yet
    lead_times: LeadTimeSummary | None = None
    lead_times_note: str = ""  # where they come from, or why there are none
    probes: Mapping[str, ProbeResult] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()


def gather(app: Any, ref: RegionRef) -> RegionFigures:
    """The figures of `ref` from a console: its region client's history, the latest
    tenants snapshot's lead times, the probes' latest results and the open findings."""
    now = float(app.clock())
    history = None
    for session in getattr(app.connection, "regions", None) or ():
        if session.ref == ref:
            history = session.client.history
    tenants = app.state.snapshots.get((ref, Kind.TENANTS))
    summary = tenants.extra.get("lead_times") if tenants is not None else None
    if tenants is None:
        note = "no tenants poll of this region yet"
    elif not isinstance(summary, LeadTimeSummary):
        note = "the tenants poll had no server listing to time"
    else:
        note = f"from the tenants poll {format_age(tenants.age(now))} ago"
        if tenants.stale:
            note = f"STALE: {note} ({clean_text(tenants.error)})"
    probes = app.probes.latest.get(ref, {}) if getattr(app, "probes", None) else {}
    findings = tuple(
        f
        for f in getattr(app, "findings", ())
        if f.subject.ref == ref and f.subject.kind in ASPECTS
    )
    return RegionFigures(
        ref,
        now,
        history,
        summary if isinstance(summary, LeadTimeSummary) else None,
        note,
        dict(probes),
        findings,
    )


# -- the sections, as plain data -------------------------------------------------------------

WINDOW_COLUMNS = (
    Column("window", "Window"),
    Column("calls", "Calls", numeric=True),
    Column("ok", "Answered", numeric=True),
    Column("p50", "p50", numeric=True),
    Column("p95", "p95", numeric=True),
    Column("p99", "p99", numeric=True),
    Column("errors", "Errors by status"),
)


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}ms" if value < 10_000 else f"{value / 1000:.0f}s"


def percent(ratio: float | None) -> str:
    """Answered share with a decimal ("99.2%"): 100% only when nothing failed."""
    if ratio is None:
        return "-"
    return "100%" if ratio >= 1.0 else f"{min(ratio * 100, 99.9):.1f}%"


def by_status(stats: WindowStats) -> str:
    worst = sorted(stats.by_status.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{clean_text(label)} x{count}" for label, count in worst) or "none"


def window_line(name: str, stats: WindowStats) -> Line:
    ratio = stats.success_ratio
    tone = Tone.NONE if ratio is None or ratio >= 0.99 else Tone.WARNING
    if ratio is not None and ratio < 0.5:
        tone = Tone.CRITICAL
    cells = (
        Cell(name),
        Cell(f"{stats.requests:,}"),
        Cell(percent(ratio), tone),
        Cell(ms(stats.p50_ms)),
        Cell(ms(stats.p95_ms)),
        Cell(ms(stats.p99_ms)),
        Cell(by_status(stats) if stats.requests else "-", Tone.WARNING if stats.failures else ""),
    )
    return Line(name, cells)


def service_names(history: RequestHistory | None) -> list[str]:
    if history is None:
        return []
    seen = list(history.services)
    return [s for s in SERVICES if s in seen] + sorted(s for s in seen if s not in SERVICES)


def service_section(service: str, history: RequestHistory, now: float) -> Section:
    windows = history.services[service]
    lines = tuple(window_line(name, windows.window(now, s)) for name, s in WINDOWS.items())
    return Section(f"api-{service}", f"{clean_text(service)} API", WINDOW_COLUMNS, lines)


@dataclass(frozen=True, slots=True)
class Trend:
    """A service's last hour for the sparklines: the minutes it had calls in."""

    p95_ms: tuple[float, ...]
    failed: tuple[float, ...]  # percent of the minute's calls that failed
    minutes: int  # minutes with calls, of the last hour

    def caption(self) -> str:
        if not self.minutes:
            return "no call in the last hour"
        worst = 100.0 - max(self.failed)
        return (
            f"{self.minutes} of 60 min had calls; p95 up to {ms(max(self.p95_ms))}; "
            f"worst minute {worst:.0f}% answered"
        )


def trend(points: Sequence[Point]) -> Trend:
    """Minutes without calls are left out (unknown is not 0 ms, nor 100%). Failures,
    not availability, are drawn: a sparkline scales to its own range, so a flat 100%
    would be drawn as low as an outage, while a flat 0% failed reads as it is."""
    called = [p for p in points if p.requests]
    return Trend(
        tuple(p.p95_ms or 0.0 for p in called),
        tuple(100.0 * p.failures / p.requests for p in called),
        len(called),
    )


LEAD_COLUMNS = (
    Column("hour", "Hour (UTC)"),
    Column("boots", "Boots", numeric=True),
    Column("boot_p50", "Boot p50", numeric=True),
    Column("boot_p95", "Boot p95", numeric=True),
    Column("deletes", "Deletes", numeric=True),
    Column("delete_p50", "Delete p50", numeric=True),
    Column("delete_p95", "Delete p95", numeric=True),
)


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}s"


def lead_text(stat: LeadStat) -> str:
    if not stat.count:
        return "none finished"
    return f"{stat.count} finished, p50 {seconds(stat.p50_s)}, p95 {seconds(stat.p95_s)}"


def lead_sections(figures: RegionFigures) -> list[Section]:
    summary = figures.lead_times
    if summary is None:
        return [facts("lead", "Lead times, last hour", (), note=figures.lead_times_note)]
    stuck = lambda n: Cell(str(n), Tone.WARNING if n else Tone.NONE)  # noqa: E731
    usual = summary.usual_boot_s
    lines = [
        fact("Boots", lead_text(summary.boot)),
        fact("Usual boot", "-" if usual is None else f"{usual:.0f}s (median of the day)"),
        fact("Stuck in BUILD", stuck(summary.boot.stuck)),
        fact("Deletes", lead_text(summary.delete)),
        fact("Stuck deleting", stuck(summary.delete.stuck)),
        fact(
            "Ports stuck in BUILD",
            "unknown (no full ports listing yet)"
            if summary.port_stuck is None
            else stuck(summary.port_stuck),
        ),
        fact("Volume create", "unknown (no collector lists volumes yet)"),
    ]
    hours = [
        Line(
            str(h.hour),
            (
                Cell(datetime.fromtimestamp(h.hour * 3600, UTC).strftime("%m-%d %H:00")),
                Cell(str(h.boot.count)),
                Cell(seconds(h.boot.p50_s)),
                Cell(seconds(h.boot.p95_s)),
                Cell(str(h.delete.count)),
                Cell(seconds(h.delete.p50_s)),
                Cell(seconds(h.delete.p95_s)),
            ),
        )
        for h in reversed(summary.hours)
    ]
    per_hour = Section(
        "lead-hours",
        "Lead times per hour",
        LEAD_COLUMNS,
        tuple(hours),
        note="" if hours else "no boot or delete finished in the last day",
    )
    return [facts("lead", "Lead times, last hour", lines, note=figures.lead_times_note), per_hour]


PROBE_COLUMNS = (
    Column("probe", "Probe"),
    Column("status", "Status"),
    Column("figures", "Figures"),
    Column("target", "Target"),
)


def _names(values: Any) -> str:
    return ", ".join(clean_text(v) for v in values) if values else "none"


def _of(used: Any, limit: Any) -> str:
    return f"{used if used is not None else '?'}/{limit if limit is not None else '?'}"


def probe_figures(name: str, result: ProbeResult) -> str:
    """The figures an operator reads first, in one line."""
    f = result.figures
    if not result.ok:
        return clean_text(result.error or result.status)
    if name == "rabbitmq":
        idle = f.get("queues_without_consumers") or {}
        return (
            f"{_of(f.get('nodes_running'), f.get('nodes'))} nodes running, partitions "
            f"{_names(f.get('partitions'))}, alarms {_names(f.get('alarms'))}, "
            f"{f.get('queues', '?')} queues, {len(idle)} without consumers "
            f"({_names(f'{q} {n}' for q, n in sorted(idle.items()))}), "
            f"{f.get('unacked', '?')} unacked"
        )
    if name == "mysql":
        galera = ""
        if f.get("galera"):
            size = f.get("cluster_size")
            expected = f.get("expected_cluster_size")
            of = f" of {expected}" if expected is not None else ""
            galera = (
                f"Galera {clean_text(f.get('cluster_status'))}, {size}{of} nodes, "
                f"{clean_text(f.get('local_state'))}, "
            )
        connections = _of(f.get("connections"), f.get("max_connections"))
        return f"{galera}{connections} connections"
    ratio = f.get("hit_ratio")
    hits = "-" if ratio is None else f"{ratio * 100:.1f}%"
    return (
        f"up {format_age(f.get('uptime_s'))}, {f.get('evictions', '?')} evictions, "
        f"hits {hits}, {_of(f.get('connections'), f.get('max_connections'))} connections"
    )


def probe_section(figures: RegionFigures) -> Section:
    lines = []
    for name, result in sorted(figures.probes.items()):
        tone = Tone.NONE if result.ok else Tone.CRITICAL
        status = result.status if result.ok else result.status.upper()
        cells = (
            Cell(clean_text(name)),
            Cell(status, tone),
            Cell(probe_figures(name.split()[0], result)),
            Cell(clean_text(result.target)),
        )
        lines.append(Line(name, cells))
    note = "" if lines else "no probe configured for this region (probes: in config.yaml)"
    return Section("probes", "Probes", PROBE_COLUMNS, tuple(lines), note=note)


FINDING_COLUMNS = (
    Column("severity", "Severity"),
    Column("subject", "About"),
    Column("reason", "Why"),
    Column("since", "Since", numeric=True),
)


def findings_section(figures: RegionFigures) -> Section:
    lines = tuple(
        Line(
            f.key,
            (
                Cell(f.severity.name, SEVERITY_TONES.get(f.severity, Tone.NONE)),
                Cell(clean_text(f.subject.name)),
                Cell(clean_text(f.reason)),
                Cell(  # first seen: it has lasted at least that long
                    ("≥" if f.since_from == SINCE_FIRST_SEEN else "")
                    + format_age(figures.now - f.since)
                ),
            ),
        )
        for f in figures.findings
    )
    note = "" if lines else "none open"
    return Section("findings", "Control-plane findings", FINDING_COLUMNS, lines, note=note)


# -- the screen ---------------------------------------------------------------------------------


class ServiceTrend(Vertical):
    """Two sparklines of one service's last hour, labelled, and what they mean in words."""

    DEFAULT_CSS = """
    ServiceTrend { height: auto; padding: 0 1; margin-bottom: 1; }
    ServiceTrend > Horizontal { height: 1; }
    ServiceTrend .trend-label { width: 15; color: $text-muted; }
    ServiceTrend Sparkline { width: 1fr; max-width: 60; }
    ServiceTrend .failed > .sparkline--min-color { color: $success; }
    ServiceTrend .failed > .sparkline--max-color { color: $error; }
    ServiceTrend .latency > .sparkline--min-color { color: $success; }
    ServiceTrend .latency > .sparkline--max-color { color: $warning; }
    ServiceTrend > .trend-caption { color: $text-muted; }
    """

    def __init__(self, service: str, shown: Trend) -> None:
        super().__init__(id=f"trend-{service}")
        self.shown = shown

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("p95 per min", classes="trend-label", markup=False)
            yield Sparkline(self.shown.p95_ms, classes="latency")
        with Horizontal():
            yield Static("failed per min", classes="trend-label", markup=False)
            yield Sparkline(self.shown.failed, classes="failed")
        yield Static(self.shown.caption(), classes="trend-caption", markup=False)

    def show(self, shown: Trend) -> None:
        if shown == self.shown:
            return
        self.shown = shown
        latency, failed = self.query(Sparkline)
        latency.data, failed.data = shown.p95_ms, shown.failed
        self.query_one(".trend-caption", Static).update(shown.caption())


class RegionScreen(Screen[None]):
    """One region's control plane: APIs, lead times, probes, findings."""

    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back"),
        Binding("tab", "app.focus_next", "Next section"),
        Binding("shift+tab", "app.focus_previous", "Previous section", show=False),
    ]
    AUTO_FOCUS = "#plane"
    DEFAULT_CSS = """
    RegionScreen { layout: vertical; }
    RegionScreen > Breadcrumb { height: 1; padding: 0 1; background: $boost; text-style: bold; }
    RegionScreen > #plane { height: 1fr; overflow-x: hidden; }
    RegionScreen .api-note { padding: 0 1; margin-bottom: 1; }
    """

    def __init__(
        self, ref: RegionRef, figures: Callable[[], RegionFigures], label: str | None = None
    ) -> None:
        super().__init__()
        self.ref = ref
        self.figures = figures
        self.label = label or ref.region
        self.views: dict[str, SectionView] = {}
        self.trends: dict[str, ServiceTrend] = {}
        self._services: list[str] = []

    def compose(self) -> ComposeResult:
        figures = self.figures()
        self.title = f"Region {self.label}"
        yield Breadcrumb(("Dashboard", f"Region {self.label}"), id="trail")
        with VerticalScroll(id="plane"):  # focused first: the keys scroll the page
            yield from self._widgets(figures)
        yield Footer(compact=True)

    def _widgets(self, figures: RegionFigures) -> ComposeResult:
        history = figures.history
        self._services = service_names(history)
        if history is None:
            text = "API figures: not connected to this region yet"
        elif not self._services:
            text = "API figures: no call made yet"
        else:
            text = "API figures: the calls this console made, as it saw them"
        yield Static(text, classes="api-note", markup=False)
        for service in self._services:
            assert history is not None
            section = service_section(service, history, figures.now)
            self.views[section.key] = SectionView(section)
            yield self.views[section.key]
            shown = trend(history.services[service].minutes(figures.now))
            self.trends[service] = ServiceTrend(service, shown)
            yield self.trends[service]
        for section in (*lead_sections(figures), probe_section(figures), findings_section(figures)):
            self.views[section.key] = SectionView(section)
            yield self.views[section.key]

    def on_mount(self) -> None:
        self.set_interval(REFRESH_S, self.follow)

    def follow(self) -> None:
        """Redraw from the latest figures (a service seen for the first time: recompose)."""
        if getattr(self.app, "paused", False):
            return
        try:
            figures = self.figures()
        except Exception:  # a bug here must not take the console down: logged
            log.exception("region drill-down of %s failed", self.ref)
            return
        history = figures.history
        if service_names(history) != self._services:
            self.views.clear()
            self.trends.clear()
            self.refresh(recompose=True)
            return
        sections = [*lead_sections(figures), probe_section(figures), findings_section(figures)]
        for service in self._services:
            assert history is not None
            sections.append(service_section(service, history, figures.now))
            self.trends[service].show(trend(history.services[service].minutes(figures.now)))
        for section in sections:
            view = self.views.get(section.key)
            if view is not None:
                view.show(section)

    def action_back(self) -> None:
        self.dismiss()


def find_region(refs: Sequence[RegionRef], name: RegionRef | str) -> RegionRef | None:
    """The region a name stands for: a RegionRef, "RegionOne" (when one cloud has it)
    or "cloud/RegionOne"."""
    if isinstance(name, RegionRef):
        return name if name in refs else None
    exact = [r for r in refs if str(r) == name or f"{r.cloud}/{r.region}" == name]
    matching = exact or [r for r in refs if r.region == name]
    return matching[0] if len(matching) == 1 else None


def open_region(app: App[Any], ref: RegionRef, label: str | None = None) -> RegionScreen:
    """Push the drill-down of `ref`, following the console's own figures."""
    screen = RegionScreen(ref, lambda: gather(app, ref), label)
    app.push_screen(screen)
    return screen
