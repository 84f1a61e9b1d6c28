"""The NOC wall's boards: a heading and one line per item, as many as fit ("+N more"
for the rest): the critical incidents, with since when and what, and the ticker of
the latest events. They show what they are given; the wall (osconsole.tui.wall)
feeds them from the one live pipeline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from osconsole.events import Event
from osconsole.health.findings import Severity, since_word
from osconsole.health.incidents import Incident
from osconsole.model import RegionRef
from osconsole.text import format_age
from osconsole.widgets.styling import component_style

MAX_LINES = 100  # lines a board makes; a wall shows fewer, "+N more" counts the rest


def utc_clock(ts: float) -> str:
    """A moment as "07:06:45" (UTC, said once in each board's heading)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


# -- boards: the findings and the event ticker -------------------------------------------------


class Board(Widget):
    """A heading and one line per item, as many as fit; "+N more" says what does not."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "board--heading",
        "board--critical",
        "board--warning",
        "board--muted",
    }
    DEFAULT_CSS = """
    Board {
        height: 1fr;
        padding: 0 1;
        background: $surface;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    Board > .board--heading { text-style: bold; color: $text; }
    Board > .board--critical { color: $text-error; text-style: bold reverse; }
    Board > .board--warning { color: $text-warning; text-style: bold; }
    Board > .board--muted { color: $text-muted; }
    Board:nocolor > .board--warning { text-style: bold underline; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._heading = Text()
        self._lines: tuple[Text, ...] = ()
        self._total = 0  # items, of which only the first MAX_LINES have a line

    @property
    def plain(self) -> str:
        """The heading and every line made (also those that do not fit), as text."""
        return "\n".join(t.plain for t in (self._heading, *self._lines))

    def style(self, component: str) -> Style:
        return component_style(self, component)

    def put(self, heading: Text, lines: Sequence[Text], total: int | None = None) -> None:
        """Show `heading` and `lines`; `total` counts items beyond the lines made."""
        lines = tuple(lines)
        total = len(lines) if total is None else total
        if heading == self._heading and lines == self._lines and total == self._total:
            return
        self._heading, self._lines, self._total = heading, lines, total
        self.refresh()

    def render(self) -> Text:
        room = max(0, self.content_size.height - 1)
        lines = list(self._lines)
        if self._total > room:
            hidden = self._total - room + 1
            lines = [*lines[: max(0, room - 1)], Text(f"+{hidden} more", style="italic")]
        text = Text("\n").join([self._heading, *lines])
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def notify_style_update(self) -> None:
        super().notify_style_update()
        if self.is_mounted:
            self.call_after_refresh(self.rebuild)

    def rebuild(self) -> None:
        """Make the lines again (a theme change restyles them)."""


class FindingsBoard(Board):
    """The critical incidents (findings grouped by cause), worst and newest first, with
    since when and what: a dead host is one line, however many symptoms it has."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._incidents: tuple[Incident, ...] = ()
        self._now = 0.0
        self._label: Callable[[RegionRef], str] = str

    def show(
        self, incidents: Sequence[Incident], now: float, label: Callable[[RegionRef], str]
    ) -> None:
        self._incidents, self._now, self._label = tuple(incidents), now, label
        self.rebuild()

    def rebuild(self) -> None:
        live = [i for i in self._incidents if not i.acknowledged]
        critical = [i for i in live if i.severity >= Severity.CRITICAL]
        warnings = sum(1 for i in live if i.severity == Severity.WARNING)
        acknowledged = len(self._incidents) - len(live)
        heading = Text("CRITICAL INCIDENTS ", style=self.style("board--heading"))
        if critical:
            heading.append(f" {len(critical)} ", style=self.style("board--critical"))
        else:
            heading.append("none", style=self.style("board--heading"))
        if warnings:
            heading.append(f" · {warnings} warning{'s' if warnings != 1 else ''} (see tiles)")
        if acknowledged:
            heading.append(f" · {acknowledged} acknowledged")
        heading.append(" · times UTC", style=self.style("board--muted"))
        shown = critical[:MAX_LINES]
        labels = [self._label(i.ref) for i in shown]
        width = max(map(len, labels), default=0)
        lines = []
        for incident, label in zip(shown, labels, strict=True):
            line = Text(f"{label:<{width}}  ")
            age = format_age(self._now - incident.since)
            when = f"{since_word(incident.since_from)} {utc_clock(incident.since)} ({age})"
            line.append(when, style="bold")
            symptoms = f" (+{len(incident.symptoms)})" if incident.symptoms else ""
            line.append(f"  {incident.title}{symptoms}")
            lines.append(line)
        self.put(heading, lines, len(critical))


SEVERITY_WORDS = {
    Severity.CRITICAL: ("CRIT", "board--critical"),
    Severity.WARNING: ("WARN", "board--warning"),
    Severity.INFO: ("info", "board--muted"),
    Severity.OK: ("ok", "board--muted"),
}


class EventTicker(Board):
    """The latest events, newest first, one line each."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._events: tuple[Event, ...] = ()
        self._label: Callable[[RegionRef], str] = str

    def show(self, latest: Sequence[Event], label: Callable[[RegionRef], str]) -> None:
        self._events, self._label = tuple(latest), label
        self.rebuild()

    def rebuild(self) -> None:
        heading = Text("EVENTS ", style=self.style("board--heading"))
        heading.append("newest first · times UTC", style=self.style("board--muted"))
        labels = [self._label(e.subject.ref) for e in self._events]
        width = max(map(len, labels), default=0)
        lines = []
        for event, label in zip(self._events, labels, strict=True):
            word, component = SEVERITY_WORDS[Severity(int(event.severity))]
            line = Text(f"{utc_clock(event.time)}  {label:<{width}}  ")
            line.append(f"{word:<4}", style=self.style(component))
            line.append(f"  {event.description}")
            lines.append(line)
        if not lines:
            lines.append(Text("no change seen yet (events come from the second poll on)"))
        self.put(heading, lines)
