"""RegionStrip: every region's health in one line, in words first.

"RegionOne ok 4s | RegionTwo STALE 2m (compute 503) | RegionThree connecting"
"RegionFour DEGRADED 5s AUTH FAILING 3m (authentication: Keystone did not answer...)"

On-call panes are 80 columns; the strip keeps to one line there by dropping
detail in a fixed order (latency and errors first, then the ok regions folded
into "2 more ok"), so the regions that need attention are always the ones left.
From 160 columns it may use a few lines for the latency of each region's slowest
service and its error counts. The text carries the meaning; colour only adds to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from osconsole.views import RegionStatus
from osconsole.widgets.pane import age_text

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


def region_text(status: RegionStatus, name: str, level: int, style: Style | str = "") -> Text:
    """One region at a level of detail: 0 word and age, 1 + detail, 2 + latency and errors."""
    word = status_word(status.status)
    text = Text(name + " ")
    text.append(word, style=style)
    if status.age is not None and status.status != "connecting":
        text.append(f" {age_text(status.age)}")
    if status.auth_failing is not None:  # at every level: polls stop when the token expires
        text.append(f" AUTH FAILING {age_text(status.auth_failing)}", style=style)
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
) -> list[Text]:
    """The strip's lines: the most detail that fits in `max_lines` lines of `width`."""
    if not statuses:
        return [Text("no regions yet")]
    styles = styles or {}
    clouds = {s.ref.cloud for s in statuses}
    names = [s.ref.region if len(clouds) == 1 else str(s.ref) for s in statuses]

    def level(detail: int, fold_ok: bool) -> list[Text]:
        parts = [
            region_text(s, n, detail, styles.get(s.status, ""))
            for s, n in zip(statuses, names, strict=True)
            if not (fold_ok and s.status == "ok")
        ]
        folded = sum(1 for s in statuses if s.status == "ok") if fold_ok else 0
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


class RegionStrip(Widget):
    """The regions' status line above the panes; show() replaces what it says."""

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

    def lines(self, width: int) -> list[Text]:
        max_lines = WIDE_LINES if width >= WIDE else 1
        return strip_lines(self._statuses, max(width, 1), max_lines, self._styles())

    @property
    def plain(self) -> str:
        """What the strip says at its current width (for tests and logs)."""
        return "\n".join(line.plain for line in self.lines(self.content_size.width or 80))

    def _styles(self) -> dict[str, Style]:
        if not self.is_mounted:
            return {}
        return {
            status: self.get_component_rich_style(f"strip--{status}", partial=True)
            for status in STATUS_WORDS
        }

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines(width))

    def render(self) -> Text:
        return Text("\n").join(self.lines(self.content_size.width))
