"""RegionStrip: every region's health in one line, in words first.

"RegionOne ok 4s | RegionTwo STALE 2m (compute 503) | RegionThree connecting"
"RegionFour DEGRADED 5s AUTH FAILING 3m (authentication: Keystone did not answer...)"

On-call panes are 80 columns; the strip keeps to one line there by dropping
detail in a fixed order (latency and errors first, then the ok regions folded
into "2 more ok"), so the regions that need attention are always the ones left.
From 160 columns it may use a few lines for the latency of each region's slowest
service and its error counts. The text carries the meaning; colour only adds to it.
A region whose control plane has an open finding says so in a word ("rabbitmq
PARTITION", from health.plane.strip_words). Focused (`g` on the dashboard), left and
right choose a region and Enter opens its drill-down (RegionStrip.Selected).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget

from osconsole.model import RegionRef
from osconsole.views import RegionStatus
from osconsole.widgets.pane import age_text
from osconsole.widgets.styling import component_style

STATUS_WORDS = {
    "ok": "ok",
    "degraded": "DEGRADED",
    "stale": "STALE",
    "down": "DOWN",
    "connecting": "connecting",
}
WIDE = 160  # columns from which the strip may take several lines
WIDE_LINES = 3
SEPARATOR = " | "


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status.upper())


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f}ms"


def slowest_service(status: RegionStatus) -> str:
    """'compute p50 40ms p95 120ms' for the service with the worst p95 ('' if none)."""
    known = {name: pair for name, pair in status.latency.items() if pair != (None, None)}
    if not known:
        return ""
    name = max(known, key=lambda n: known[n][1] or known[n][0] or 0.0)
    p50, p95 = known[name]
    return f"{name} p50 {_ms(p50)} p95 {_ms(p95)}"


def error_counts(status: RegionStatus) -> str:
    """'errors compute 2, network 1' ('' when no call failed)."""
    failing = [(name, count) for name, count in status.errors.items() if count]
    if not failing:
        return ""
    failing.sort(key=lambda item: (-item[1], item[0]))
    return "errors " + ", ".join(f"{name} {count}" for name, count in failing)


def backoff_text(status: RegionStatus) -> str:
    """'backing off compute 25s' while services asked us to wait (Retry-After)."""
    if not status.backoff:
        return ""
    waits = ", ".join(f"{name} {math.ceil(left):.0f}s" for name, left in status.backoff.items())
    return f"backing off {waits}"


def region_text(
    status: RegionStatus, name: str, level: int, style: Style | str = "", plane: str = ""
) -> Text:
    """One region at a level of detail: 0 word and age (and any back-off, and the
    control plane's word), 1 + detail, 2 + latency and errors."""
    word = status_word(status.status)
    text = Text(name + " ")
    text.append(word, style=style)
    if status.age is not None and status.status != "connecting":
        text.append(f" {age_text(status.age)}")
    if status.auth_failing is not None:  # at every level: polls stop when the token expires
        text.append(f" AUTH FAILING {age_text(status.auth_failing)}", style=style)
    if plane:
        text.append(f" {plane}", style="bold")
    if status.backoff:
        text.append(f" {backoff_text(status)}")
    if level >= 1 and status.detail and status.status != "ok":
        text.append(f" ({status.detail})")
    if level >= 2:
        for extra in (slowest_service(status), error_counts(status)):
            if extra:
                text.append(f" {extra}")
    return text


def pack(parts: Sequence[Text], width: int) -> list[Text]:
    """Parts joined by ' | ' into as few lines of `width` cells as they fit in."""
    lines: list[Text] = []
    line = Text()
    for part in parts:
        if line.cell_len and line.cell_len + len(SEPARATOR) + part.cell_len > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append(SEPARATOR, style="dim")
        line.append_text(part)
    if line.cell_len or not lines:
        lines.append(line)
    return lines


def strip_lines(
    statuses: Sequence[RegionStatus],
    width: int,
    max_lines: int = 1,
    styles: Mapping[str, Style | str] | None = None,
    words: Mapping[RegionRef, str] | None = None,
    selected: RegionRef | None = None,
) -> list[Text]:
    """The strip's lines: the most detail that fits in `max_lines` lines of `width`;
    `words` the control plane's per region, `selected` never folded and marked."""
    if not statuses:
        return [Text("no regions yet")]
    styles = styles or {}
    clouds = {s.ref.cloud for s in statuses}
    names = [s.ref.region if len(clouds) == 1 else str(s.ref) for s in statuses]

    def level(detail: int, fold_ok: bool) -> list[Text]:
        parts = []
        for s, n in zip(statuses, names, strict=True):
            plane = (words or {}).get(s.ref, "")
            if fold_ok and s.status == "ok" and not plane and s.ref != selected:
                continue
            part = region_text(s, n, detail, styles.get(s.status, ""), plane)
            if s.ref == selected:
                part.stylize("reverse", 0, len(n))
            parts.append(part)
        folded = len(statuses) - len(parts) if fold_ok else 0
        if folded:
            parts.append(Text(f"{folded} more ok" if parts else f"all {folded} ok"))
        return parts

    for detail, fold_ok in ((2, False), (1, False), (1, True), (0, True)):
        lines = pack(level(detail, fold_ok), width)
        if _fits(lines, width, max_lines):
            return lines
    lines = _first_parts(level(0, True), width, max_lines)
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return lines


def _fits(lines: list[Text], width: int, max_lines: int) -> bool:
    return len(lines) <= max_lines and all(line.cell_len <= width for line in lines)


def _first_parts(parts: list[Text], width: int, max_lines: int) -> list[Text]:
    """As many parts as fit, then '+N more': a region never disappears silently."""
    for shown in range(len(parts) - 1, 0, -1):
        lines = pack([*parts[:shown], Text(f"+{len(parts) - shown} more")], width)
        if _fits(lines, width, max_lines):
            return lines
    return pack(parts, width)[:max_lines]


class RegionStrip(Widget, can_focus=True):
    """The regions' status line above the panes; show() replaces what it says."""

    BINDINGS: ClassVar = [
        Binding("left", "move(-1)", "Previous region", show=False),
        Binding("right", "move(1)", "Next region", show=False),
        Binding("enter", "open", "Open region"),
    ]

    class Selected(Message):
        """Enter on a region: open its drill-down."""

        def __init__(self, ref: RegionRef) -> None:
            super().__init__()
            self.ref = ref

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "strip--ok",
        "strip--degraded",
        "strip--stale",
        "strip--down",
        "strip--connecting",
    }

    DEFAULT_CSS = """
    RegionStrip {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    RegionStrip > .strip--ok { color: $text-success; }
    RegionStrip > .strip--degraded { color: $text-warning; text-style: bold; }
    RegionStrip > .strip--stale { color: $text-warning; text-style: bold reverse; }
    RegionStrip > .strip--down { color: $text-error; text-style: bold reverse; }
    RegionStrip > .strip--connecting { color: $text-muted; text-style: italic; }
    RegionStrip:nocolor > .strip--degraded { text-style: bold underline; }
    """

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._statuses: tuple[RegionStatus, ...] = ()
        self._words: dict[RegionRef, str] = {}
        self.cursor: RegionRef | None = None  # the region Enter opens, while focused
        self._paused = False

    def set_paused(self, paused: bool) -> None:
        """Polling is paused: the strip says so first (the ages keep counting)."""
        if paused != self._paused:
            self._paused = paused
            self.refresh(layout=True)

    @property
    def statuses(self) -> tuple[RegionStatus, ...]:
        return self._statuses

    def show(self, statuses: Sequence[RegionStatus]) -> None:
        """Say what each region's status is now (in place; one line at 80 columns)."""
        statuses = tuple(statuses)
        if statuses == self._statuses:
            return
        width = self.content_size.width
        before = len(self.lines(width)) if width else 0
        self._statuses = statuses
        # A layout pass repaints every scrollbar on screen: only when the height changes.
        self.refresh(layout=not width or len(self.lines(width)) != before)

    def set_words(self, words: Mapping[RegionRef, str]) -> None:
        """The control plane's word per region (none: nothing wrong there)."""
        words = dict(words)
        if words != self._words:
            self._words = words
            self.refresh(layout=True)

    def lines(self, width: int) -> list[Text]:
        max_lines = WIDE_LINES if width >= WIDE else 1
        selected = self.cursor if self.has_focus else None
        styles = self._styles()
        if not self._paused:
            return strip_lines(
                self._statuses, max(width, 1), max_lines, styles, self._words, selected
            )
        mark = Text("PAUSED", style="bold reverse")
        rest = max(width - len(mark) - len(SEPARATOR), 1)
        lines = strip_lines(self._statuses, rest, max_lines, styles, self._words, selected)
        lines[0] = Text.assemble(mark, (SEPARATOR, "dim"), lines[0])
        return lines

    def _refs(self) -> list[RegionRef]:
        return [s.ref for s in self._statuses]

    def on_focus(self) -> None:
        if self.cursor not in self._refs():
            self.cursor = next(iter(self._refs()), None)
        self.refresh(layout=True)

    def on_blur(self) -> None:
        self.refresh(layout=True)

    def action_move(self, step: int) -> None:
        refs = self._refs()
        if refs:
            at = refs.index(self.cursor) if self.cursor in refs else 0
            self.cursor = refs[(at + step) % len(refs)]
            self.refresh(layout=True)

    def action_open(self) -> None:
        if self.cursor in self._refs():
            self.post_message(self.Selected(self.cursor))  # type: ignore[arg-type]

    @property
    def plain(self) -> str:
        """What the strip says at its current width (for tests and logs)."""
        return "\n".join(line.plain for line in self.lines(self.content_size.width or 80))

    def _styles(self) -> dict[str, Style]:
        if not self.is_mounted:
            return {}
        return {status: component_style(self, f"strip--{status}") for status in STATUS_WORDS}

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        return Text("\n").join(self.lines(self.content_size.width))
