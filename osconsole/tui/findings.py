"""What is wrong now and what changed: the findings bar, the findings list (grouped
by incident, with acknowledge) and the event timeline (grouped by cause).

The health work (rules, debounce, event diffs) is pure and runs in the repaint's
worker thread; these widgets only show its results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from osconsole.events import Event
from osconsole.health.findings import Finding, Severity, counts
from osconsole.health.incidents import Incident
from osconsole.tui.context import Console, console_of
from osconsole.tui.messages import VerdictsChanged
from osconsole.views import Target

WORDS = {
    Severity.CRITICAL: "CRITICAL",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
    Severity.OK: "ok",
}
STYLES = {Severity.CRITICAL: "bold reverse red", Severity.WARNING: "bold yellow"}


def clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def what(finding: Finding) -> str:
    """The finding's reason, and whether it is still confirmed: one whose subject could
    not be read since it was last seen stays listed, and says so."""
    if finding.confirmed:
        return finding.reason
    return f"{finding.reason} (unconfirmed: not read since {clock(finding.last_seen)} UTC)"


def bar_text(
    findings: Sequence[Finding], mode: str = "", incidents: Sequence[Incident] = ()
) -> Text:
    """One line: the session's mode ("RO", "GET-ONLY"), counts per severity
    (acknowledged ones apart) and the worst incident (or finding)."""
    live = [f for f in findings if not f.acknowledged]
    numbers = counts(findings)
    text = Text()
    if mode:
        text.append(f" {mode} ", "bold reverse")
    text.append(" Findings: ")
    if not live:
        text.append("none" if not findings else "all acknowledged")
    for severity in (Severity.CRITICAL, Severity.WARNING, Severity.INFO):
        if numbers[severity]:
            text.append(f"{numbers[severity]} {WORDS[severity]}", STYLES.get(severity, ""))
            text.append("  ")
    acked = len(findings) - len(live)
    if acked:
        text.append(f"({acked} acknowledged)  ")
    open_incidents = [i for i in incidents if not i.acknowledged]
    if open_incidents:
        top = open_incidents[0]
        symptoms = f" (+{len(top.symptoms)})" if top.symptoms else ""
        text.append(f"| {top.ref.region}: {top.title}{symptoms} (since {clock(top.since)} UTC)")
    elif live:
        worst = live[0]
        text.append(f"| {worst.subject.region}: {what(worst)} (since {clock(worst.since)} UTC)")
    text.append("   f: findings  e: events", "dim")
    return text


class FindingsBar(Static):
    """The dashboard's line of what is wrong right now, critical first."""

    DEFAULT_CSS = "FindingsBar { height: 1; padding: 0; background: $boost; }"

    mode = ""  # "RO" for a read-only session, "GET-ONLY" for a GET-only credential
    findings: Sequence[Finding] = ()
    incidents: Sequence[Incident] = ()

    def show(self, findings: Sequence[Finding], incidents: Sequence[Incident] = ()) -> None:
        self.findings, self.incidents = findings, incidents
        self.update(bar_text(findings, self.mode, incidents))

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.update(bar_text(self.findings, mode, self.incidents))


class FindingsScreen(Screen[None]):
    """Every current finding, grouped by incident (its cause, then its symptoms marked
    "↳"); Enter opens a finding's subject, `k` acknowledges it (or not), and on an
    incident's first line acknowledges the whole incident."""

    TITLE = "Findings"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("k", "acknowledge", "Acknowledge"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(" Findings by incident (worst first; acknowledged ones are kept but quiet)")
        yield DataTable(cursor_type="row", id="findings")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (
            ("severity", "Severity"),
            ("where", "Where"),
            ("what", "What"),
            ("since", "Since (UTC)"),
            ("ack", "Ack"),
        ):
            table.add_column(label, key=key)
        self.refresh_rows()
        table.focus()

    @property
    def console(self) -> Console:
        return console_of(self.app)

    @on(VerdictsChanged)
    def _judged_again(self) -> None:
        self.refresh_rows()

    def refresh_rows(self) -> None:
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        listed: set[str] = set()
        for incident in self.console.incidents:
            for f in incident.findings:
                listed.add(f.key)
                first = f is incident.cause
                said = incident.title if first and incident.symptoms else what(f)
                self._add(table, f, said if first else f"  ↳ {what(f)}")
        for f in self.console.findings:  # acknowledged since the last judging
            if f.key not in listed:
                self._add(table, f, what(f))
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _add(self, table: DataTable[Any], f: Finding, text: str) -> None:
        table.add_row(
            Text(WORDS[f.severity], STYLES.get(f.severity, "")),
            Text(f"{f.subject.cloud}/{f.subject.region}"),  # str cells are markup
            Text(text),
            clock(f.since),
            "yes" if f.acknowledged else "",
            key=f.key,
        )

    def _selected(self) -> Finding | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((f for f in self.console.findings if f.key == key), None)

    def action_acknowledge(self) -> None:
        finding = self._selected()
        if finding is None:
            return
        quiet = not finding.acknowledged
        incident = next((i for i in self.console.incidents if i.cause.key == finding.key), None)
        for f in incident.findings if incident is not None else (finding,):
            self.console.acknowledge(f.key, quiet)
        self.refresh_rows()

    @on(DataTable.RowSelected)
    def _open(self) -> None:
        from osconsole.tui.drill import open_drill_down

        finding = self._selected()
        if finding is not None:
            subject = finding.subject
            open_drill_down(self.app, Target(subject.ref, subject.kind, subject.id))


class TimelineScreen(Screen[None]):
    """The event timeline, newest first: failovers, agents down and up, split brain..."""

    TITLE = "Events"
    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Static(" Events, newest first (server time, UTC)")
        yield DataTable(cursor_type="row", id="events")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (
            ("time", "Time"),
            ("where", "Where"),
            ("sev", "Severity"),
            ("what", "What"),
        ):
            table.add_column(label, key=key)
        self.show(console_of(self.app).timeline.events)
        table.focus()

    @on(VerdictsChanged)
    def _judged_again(self) -> None:
        self.show(console_of(self.app).timeline.events)

    def show(self, events: Iterable[Event]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for event in reversed(list(events)):
            table.add_row(
                clock(event.time),
                Text(f"{event.subject.cloud}/{event.subject.region}"),  # str cells are markup
                Text(WORDS[event.severity], STYLES.get(event.severity, "")),
                Text(event.description),
            )


__all__ = ["FindingsBar", "FindingsScreen", "TimelineScreen", "bar_text"]
