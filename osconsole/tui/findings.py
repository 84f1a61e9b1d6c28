"""What is wrong now and what changed: the findings bar, the findings list (open ones
grouped by incident, and acknowledged ones apart) and the event timeline (grouped by
cause).

The health work (rules, debounce, event diffs) is pure and runs in the repaint's
worker thread; these widgets only show its results.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from osconsole.events import Event
from osconsole.health.findings import SINCE_FIRST_SEEN, Finding, Severity, counts, since_word
from osconsole.health.incidents import Incident
from osconsole.tui.acknowledge import AcknowledgeDialog, AckRequest
from osconsole.tui.context import Console, console_of
from osconsole.tui.messages import VerdictsChanged
from osconsole.tui.tables import selected_key, sync_rows
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
        when = f"{since_word(top.since_from)} {clock(top.since)} UTC"
        text.append(f"| {top.ref.region}: {top.title}{symptoms} ({when})")
    elif live:
        worst = live[0]
        when = f"{since_word(worst.since_from)} {clock(worst.since)} UTC"
        text.append(f"| {worst.subject.region}: {what(worst)} ({when})")
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


def matches(cells: Sequence[Text], needle: str) -> bool:
    """Whether a row's text holds `needle` (lower case); an empty needle matches all."""
    return not needle or any(needle in cell.plain.lower() for cell in cells)


class FilteredScreen(Screen[None]):
    """A list screen with `/`: a box whose text keeps only the rows that hold it
    (case-insensitive, in any cell); Enter keeps the filter, Esc clears it (and, with no
    filter, goes back)."""

    FILTER_CSS = """
    #list-filter { dock: bottom; height: 3; display: none; }
    #list-filter.-shown { display: block; }
    #row-detail { height: auto; max-height: 4; padding: 0 1; background: $boost; }
    """

    filter_text = ""

    def filter_box(self) -> Input:
        return Input(placeholder="filter rows (Enter to keep, Esc to clear)", id="list-filter")

    def detail_line(self) -> Static:
        """The selected row in full, labelled and wrapped: what narrow columns cut."""
        return Static("", id="row-detail", markup=False)

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.show_detail()

    def on_descendant_focus(self) -> None:
        self.show_detail()  # the other table's row

    def show_detail(self) -> None:
        focused = self.focused
        table = focused if isinstance(focused, DataTable) else self.query_one(DataTable)
        text = ""
        if table.row_count and 0 <= table.cursor_row < table.row_count:
            labels = [column.label.plain for column in table.ordered_columns]
            cells = table.get_row_at(table.cursor_row)
            text = "  ".join(
                f"{label}: {cell.plain if isinstance(cell, Text) else cell}"
                for label, cell in zip(labels, cells, strict=False)
                if str(cell)
            )
        self.query_one("#row-detail", Static).update(Text(text))

    def action_filter(self) -> None:
        box = self.query_one("#list-filter", Input)
        with box.prevent(Input.Changed):
            box.value = self.filter_text
        box.add_class("-shown")
        box.focus()

    @on(Input.Changed, "#list-filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.refresh_rows()

    @on(Input.Submitted, "#list-filter")
    def _filter_done(self) -> None:
        self.query_one("#list-filter", Input).remove_class("-shown")
        self.query_one(DataTable).focus()

    def action_back(self) -> None:
        """Esc: clear the filter if there is one, else go back."""
        box = self.query_one("#list-filter", Input)
        if not self.filter_text and not box.has_class("-shown"):
            self.app.pop_screen()
            return
        with box.prevent(Input.Changed):
            box.value = ""
        box.remove_class("-shown")
        self.filter_text = ""
        self.refresh_rows()
        self.query_one(DataTable).focus()

    def kept(self, rows: list[tuple[str, list[Text]]]) -> list[tuple[str, list[Text]]]:
        needle = self.filter_text.lower()
        return [(key, cells) for key, cells in rows if matches(cells, needle)]

    def filter_note(self) -> str:
        return f"  (filter: {self.filter_text!r}, Esc clears)" if self.filter_text else ""

    def refresh_rows(self) -> None:
        raise NotImplementedError


class FindingsScreen(FilteredScreen):
    """Every current finding, open ones first, grouped by incident (its cause, then its
    symptoms marked "↳"), and acknowledged ones apart (who, when, why, until when);
    Enter opens its subject, `a` acknowledges after a confirmation (on an incident's
    first line, the whole incident), `u` takes an acknowledgement back, `/` filters."""

    TITLE = "Findings"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
        Binding("a", "acknowledge", "Acknowledge"),
        Binding("u", "unacknowledge", "Un-acknowledge"),
    ]
    DEFAULT_CSS = (
        FilteredScreen.FILTER_CSS
        + """
    FindingsScreen > #findings { height: 1fr; }
    FindingsScreen > #acknowledged { height: auto; max-height: 40%; }
    FindingsScreen > .title { height: 1; background: $boost; }
    """
    )

    def compose(self) -> ComposeResult:
        yield Static(" Open findings, worst first", classes="title", id="open-title")
        yield DataTable(cursor_type="row", id="findings")
        yield Static(" Acknowledged: none", classes="title", id="acked-title")
        yield DataTable(cursor_type="row", id="acknowledged")
        yield self.detail_line()
        yield self.filter_box()
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns in (("#findings", OPEN_COLUMNS), ("#acknowledged", ACK_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for key, label in columns:
                table.add_column(label, key=key)
        self.refresh_rows()
        self.query_one("#findings", DataTable).focus()

    @property
    def console(self) -> Console:
        return console_of(self.app)

    @on(VerdictsChanged)
    def _judged_again(self) -> None:
        self.refresh_rows()

    def refresh_rows(self) -> None:
        """Show the console's findings now (cursor and scroll stay where they were)."""
        findings = self.console.findings
        live = [f for f in findings if not f.acknowledged]
        acked = [f for f in findings if f.acknowledged]
        open_rows = self.kept(self._by_incident(live))
        sync_rows(self.query_one("#findings", DataTable), open_rows)
        acked_rows = self.kept([(f.key, acked_cells(f)) for f in acked])
        sync_rows(self.query_one("#acknowledged", DataTable), acked_rows)
        shown = f"{len(open_rows)} of {len(live)}" if self.filter_text else f"{len(live)}"
        self.query_one("#open-title", Static).update(
            Text(
                f" Open findings, worst first: {shown}"
                + ("" if live else " (nothing needs a look)")
                + self.filter_note()
            )
        )
        self.show_detail()
        self.query_one("#acked-title", Static).update(
            f" Acknowledged: {len(acked) or 'none'}  (u takes one back)"
        )

    def _by_incident(self, live: Sequence[Finding]) -> list[tuple[str, list[Text]]]:
        """The open findings, each incident's cause then its symptoms ("↳")."""
        open_keys = {f.key for f in live}
        rows: list[tuple[str, list[Text]]] = []
        for incident in self.console.incidents:
            for f in incident.findings:
                if f.key not in open_keys:
                    continue
                open_keys.discard(f.key)
                if f is incident.cause:
                    said = incident.title if incident.symptoms else what(f)
                else:
                    said = f"  ↳ {what(f)}"
                rows.append((f.key, open_cells(f, said)))
        rows += [(f.key, open_cells(f)) for f in live if f.key in open_keys]
        return rows

    def _selected(self) -> Finding | None:
        focused = self.focused
        table = focused if isinstance(focused, DataTable) else self.query_one("#findings")
        key = selected_key(table)  # type: ignore[arg-type]
        return next((f for f in self.console.findings if f.key == key), None)

    def action_acknowledge(self) -> None:
        finding = self._selected()
        if finding is None or finding.acknowledged:
            self.notify("Select an open finding to acknowledge", timeout=3)
            return

        def done(request: AckRequest | None) -> None:
            if request is None:
                self.notify("Not acknowledged", timeout=2)
                return
            incident = next((i for i in self.console.incidents if i.cause.key == finding.key), None)
            for f in incident.findings if incident is not None else (finding,):
                if not f.acknowledged:
                    self.console.acknowledge(f.key, note=request.note, for_s=request.for_s)
            self.refresh_rows()

        self.app.push_screen(AcknowledgeDialog(finding), done)

    def action_unacknowledge(self) -> None:
        finding = self._selected()
        if finding is None or not finding.acknowledged:
            self.notify("Select an acknowledged finding to take back", timeout=3)
            return
        self.console.unacknowledge(finding.key)
        self.refresh_rows()

    @on(DataTable.RowSelected)
    def _open(self) -> None:
        from osconsole.tui.drill import open_drill_down

        finding = self._selected()
        if finding is not None:
            subject = finding.subject
            open_drill_down(self.app, Target(subject.ref, subject.kind, subject.id))


OPEN_COLUMNS = (
    ("severity", "Severity"),
    ("where", "Where"),
    ("what", "What"),
    ("since", "Since (UTC)"),
)
ACK_COLUMNS = (
    ("severity", "Severity"),
    ("where", "Where"),
    ("what", "What"),
    ("by", "By"),
    ("when", "When (UTC)"),
    ("until", "Until"),
    ("note", "Note"),
)


def open_cells(f: Finding, said: str | None = None) -> list[Text]:
    """A finding's cells (`said`: its What, when not its own reason); every text is data
    (Text), never parsed as markup."""
    return [
        Text(WORDS[f.severity], STYLES.get(f.severity, "")),
        Text(f"{f.subject.cloud}/{f.subject.region}"),
        Text(what(f) if said is None else said),
        Text(
            clock(f.since) if f.since_from != SINCE_FIRST_SEEN else f"first seen {clock(f.since)}"
        ),
    ]


def acked_cells(f: Finding) -> list[Text]:
    ack = f.ack
    until = "it changes" if ack is None or ack.expires is None else clock(ack.expires)
    return [
        Text(WORDS[f.severity]),
        Text(f"{f.subject.cloud}/{f.subject.region}"),
        Text(what(f)),
        Text(ack.by if ack else ""),
        Text(clock(ack.at) if ack else ""),
        Text(until),
        Text(ack.note if ack else ""),
    ]


class TimelineScreen(FilteredScreen):
    """The event timeline, newest first: failovers, agents down and up, split brain...;
    `/` filters."""

    TITLE = "Events"
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter"),
    ]
    DEFAULT_CSS = FilteredScreen.FILTER_CSS

    def compose(self) -> ComposeResult:
        yield Static(" Events, newest first (server time, UTC)", id="events-title")
        yield DataTable(cursor_type="row", id="events")
        yield self.detail_line()
        yield self.filter_box()
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
        self.refresh_rows()

    def refresh_rows(self) -> None:
        self.show(console_of(self.app).timeline.events)

    def show(self, events: Iterable[Event]) -> None:
        """The events, newest first, those the filter keeps (cursor and scroll stay
        where they were)."""
        rows = self.kept([(str(id(e)), event_cells(e)) for e in events][::-1])
        sync_rows(self.query_one(DataTable), rows)
        self.show_detail()
        self.query_one("#events-title", Static).update(
            Text(" Events, newest first (server time, UTC)" + self.filter_note())
        )


def event_cells(event: Event) -> list[Text]:
    return [
        Text(clock(event.time)),
        Text(f"{event.subject.cloud}/{event.subject.region}"),
        Text(WORDS[event.severity], STYLES.get(event.severity, "")),
        Text(event.description),
    ]


__all__ = ["FindingsBar", "FindingsScreen", "TimelineScreen", "bar_text"]
