"""The NOC wall: `osconsole wall`, read-only, unattended, for days.

One large tile per region (its RED / AMBER / GREEN, status, data age and, per
domain, its critical and warning rows), the critical findings, a ticker of the
latest events, and the four panes of the console shown in turn. Nothing on it can
change a cloud: the settings are read-only whatever the config says (so every HTTP
client refuses any method but GET), no action is bound, nothing takes focus, and
the mouse is ignored. `q` quits.

It polls exactly as the console does (`PollingApp`: connect, Poller, LiveState) and
must not grow while it runs: one interval timer each for repaints, ticks and the
terminal check, created once; the event list is a bounded deque; findings are
replaced, not accumulated; every other structure holds one entry per region and
kind. tests/tui/test_wall.py measures it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, ClassVar

import httpx
from openstack.config import OpenStackConfig
from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Static

from osconsole.acks import AckFile, acks_path
from osconsole.cloud.connect import Connection
from osconsole.config import Settings, Thresholds
from osconsole.events import Event, Timeline
from osconsole.health.findings import Finding, Scope, Tracker
from osconsole.health.rules import evaluate
from osconsole.live import PANE_TITLES, PANES, LiveState
from osconsole.model import RegionRef, Snapshot
from osconsole.themes import console_css
from osconsole.tui.messages import (
    ViewsApplied,
)
from osconsole.tui.polling import PollingApp
from osconsole.views import Severity, TableView, format_age, region_labels
from osconsole.widgets.pane import LivePane
from osconsole.widgets.tiles import (
    AMBER,
    GREEN,
    NO_DATA,
    RED,
    WAIT,
    Counts,
    RegionTile,
    TileData,
    needs_compact,
    region_counts,
    region_tiles,
    tile_columns,
)

log = logging.getLogger(__name__)

ROTATE_DEFAULT = 20.0  # seconds each pane is shown
ROTATE_MIN = 3.0  # faster than this nobody can read a pane (0: no rotation)
REPAINT_CHECK = 0.25  # seconds between checks for new snapshots to show
TICK = 1.0  # ages, the clock and the rotation move every second
EVENTS_KEPT = 200  # the timeline's bound: the ticker never needs more
TICKER_EVENTS = 60  # newest events handed to the ticker (it shows what fits)
WIDE = 160  # columns from which the boards sit beside the pane, not above it
MAX_LINES = 100  # lines a board makes; a wall shows fewer, "+N more" counts the rest


def utc_clock(ts: float) -> str:
    """A moment as "07:06:45" (UTC, said once in each board's heading)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


# -- findings and events, fed every snapshot (no Textual state) ------------------------------


class WallFeed:
    """The wall's memory between polls: a health Tracker and an event Timeline, both fed
    every snapshot in arrival order.

    Bounded for days: the timeline keeps `keep` events (a deque), the tracker only
    what is current (and history over its flap window), and one snapshot per (region,
    kind) is kept for the tracker's look. The tracker looks once per batch, and once
    more before a scope's second snapshot in the same batch, so no poll goes unjudged.
    Not thread-safe: the wall feeds it from one worker thread at a time.
    """

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        keep: int = EVENTS_KEPT,
        acks: AckFile | None = None,
    ) -> None:
        self.tracker = Tracker(thresholds)
        self.timeline = Timeline(thresholds, keep=keep)
        self.findings: tuple[Finding, ...] = ()
        self._looked: dict[Scope, Snapshot[Any]] = {}
        self.acks = acks  # the console's acknowledgements, read (never written) when changed
        self._acks_stamp: float | None = None

    def take(self, arrivals: Iterable[Snapshot[Any]]) -> bool:
        """Feed `arrivals` (oldest first); True when there was anything to feed."""
        pending: set[Scope] = set()
        for snapshot in arrivals:
            scope = (snapshot.ref, snapshot.kind)
            if scope in pending:
                self._look()
                pending.clear()
            self._looked[scope] = snapshot
            pending.add(scope)
            self.timeline.observe(snapshot)
        if pending:
            self._look()
        return bool(pending)

    def _look(self) -> None:
        if self.acks is not None and (stamp := self.acks.stamp()) != self._acks_stamp:
            self._acks_stamp = stamp
            self.tracker.restore(self.acks.load())
        self.findings = evaluate(self._looked.values(), self.tracker).findings

    def newest_events(self, count: int = TICKER_EVENTS) -> tuple[Event, ...]:
        """The latest `count` events, newest first."""
        return tuple(islice(reversed(self.timeline.events), count))

    def sizes(self) -> dict[str, int]:
        """How much it holds (for the long-run test and the log)."""
        return {
            "events": len(self.timeline.events),
            "findings": len(self.findings),
            "looked": len(self._looked),
            "history": len(self.tracker.history),
            "tracks": len(self.tracker._tracks),  # raised, pending and recently cleared
        }


@dataclass(frozen=True, slots=True)
class Digest:
    """What one repaint shows: rebuilt views, their counts per region, and (when
    snapshots arrived) the findings and the newest events."""

    views: dict[str, TableView]
    counts: dict[str, dict[RegionRef, tuple[int, int]]]
    findings: tuple[Finding, ...] | None
    events: tuple[Event, ...] | None


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
        if not self.is_mounted:
            return Style.null()
        return self.get_component_rich_style(component, partial=True)

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
    """The critical findings, worst and newest first, with since when and why."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._findings: tuple[Finding, ...] = ()
        self._now = 0.0
        self._label: Callable[[RegionRef], str] = str

    def show(
        self, findings: Sequence[Finding], now: float, label: Callable[[RegionRef], str]
    ) -> None:
        self._findings, self._now, self._label = tuple(findings), now, label
        self.rebuild()

    def rebuild(self) -> None:
        live = [f for f in self._findings if not f.acknowledged]
        critical = [f for f in live if f.severity >= Severity.CRITICAL]
        warnings = sum(1 for f in live if f.severity == Severity.WARNING)
        acknowledged = len(self._findings) - len(live)
        heading = Text("CRITICAL FINDINGS ", style=self.style("board--heading"))
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
        labels = [self._label(f.subject.ref) for f in shown]
        width = max(map(len, labels), default=0)
        lines = []
        for finding, label in zip(shown, labels, strict=True):
            line = Text(f"{label:<{width}}  ")
            age = format_age(self._now - finding.since)
            line.append(f"since {utc_clock(finding.since)} ({age})", style="bold")
            line.append(f"  {finding.reason}")
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


# -- the screen ----------------------------------------------------------------------------------


def rotation_text(current: str, period: float, remaining: float | None) -> Text:
    """ "ROTATING every 20s, next in 12s:  Hypervisors · [L3 HA routers] · ..." (the
    shown pane in brackets and reversed, so it reads without colour)."""
    if period:
        when = f", next in {max(0, round(remaining or 0))}s" if remaining is not None else ""
        text = Text(f"ROTATING every {period:g}s{when}:  ", style="bold")
    else:
        text = Text("PANE:  ", style="bold")
    for index, pane in enumerate(PANES):
        if index:
            text.append(" · ")
        title = PANE_TITLES[pane]
        text.append(
            f"[{title}]" if pane == current else title, "reverse" if pane == current else ""
        )
    return text


def header_text(
    now: float, tiles: Sequence[TileData], errors: Sequence[str], connecting: bool
) -> Text:
    """ "osconsole wall  READ-ONLY  3 regions: 1 RED · 2 GREEN  07:06:45 UTC  q quits"."""
    text = Text("osconsole wall  ", style="bold")
    text.append(" READ-ONLY ", style="bold reverse")
    words = [t.word for t in tiles]
    order = (RED, AMBER, GREEN, NO_DATA, WAIT)  # every tile counted, in the tiles' words
    summary = " · ".join(f"{words.count(w)} {w}" for w in order if w in words)
    if tiles:
        text.append(f"  {len(tiles)} region{'s' if len(tiles) != 1 else ''}: {summary}")
    elif connecting:
        text.append("  connecting to the clouds...")
    text.append(f"  {utc_clock(now)} UTC  ")
    if errors:
        text.append(f" NOT CONNECTED: {' | '.join(errors)} ", style="bold reverse")
        text.append("  ")
    text.append("q quits", style="dim")
    return text


class WallScreen(Screen[None]):
    """Tiles on top; the boards and the rotating pane below (side by side from WIDE)."""

    DEFAULT_CSS = """
    WallScreen { layout: vertical; }
    WallScreen > #wall-header { height: 1; padding: 0 1; background: $panel; }
    WallScreen > #tiles {
        layout: grid;
        grid-size: 3;
        grid-rows: auto;
        grid-gutter: 0 1;
        height: auto;
    }
    WallScreen #tiles-waiting { height: 3; padding: 1 2; column-span: 3; }
    WallScreen > #body { height: 1fr; }
    WallScreen > #body.-narrow { layout: vertical; }
    WallScreen > #body.-narrow > #boards { layout: horizontal; height: 9; }
    WallScreen > #body.-wide { layout: horizontal; }
    WallScreen > #body.-wide > #boards { layout: vertical; width: 1fr; height: 1fr; }
    WallScreen > #body.-wide > #boards > Board { height: 1fr; }
    WallScreen #boards > #findings { width: 3fr; }
    WallScreen #boards > #ticker { width: 2fr; }
    WallScreen > #body.-wide > #boards > Board { width: 1fr; }
    WallScreen #boards > #findings { border-right: vkey $panel; }
    WallScreen > #body.-wide > #boards > #findings { border-right: none; }
    WallScreen > #body.-narrow > #rotating { height: 1fr; }
    WallScreen > #body.-wide > #rotating { width: 1fr; height: 1fr; }
    WallScreen #rotation { height: 1; padding: 0 1; background: $boost; }
    WallScreen #panes { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        # Held, not queried: the wall looks these up every second for days.
        self.header = Static(id="wall-header", markup=False)
        self.tiles_grid = Container(id="tiles")
        self.body = Container(id="body", classes="-narrow")
        self.findings = FindingsBoard(id="findings")
        self.ticker = EventTicker(id="ticker")
        self.rotation = Static(id="rotation", markup=False)
        self.switcher = ContentSwitcher(id="panes", initial=f"pane-{next(iter(PANES))}")
        self.panes = {pane: _read_only_pane(pane) for pane in PANES}
        self.tiles: dict[RegionRef, RegionTile] = {}
        self._said: dict[str, Text] = {}

    def compose(self) -> ComposeResult:
        yield self.header
        with self.tiles_grid:
            yield Static(
                "Connecting to the clouds (authenticating)...", id="tiles-waiting", markup=False
            )
        with self.body:
            with Container(id="boards"):
                yield self.findings
                yield self.ticker
            with Container(id="rotating"):
                yield self.rotation
                with self.switcher:
                    yield from self.panes.values()

    def on_mount(self) -> None:
        self._layout()

    def _forward_event(self, event: events.Event) -> None:
        """No mouse event reaches a widget (the App drops those of the terminal; this
        also stops any other path): no row to open, no column to sort, nothing to scroll."""
        if isinstance(event, events.MouseEvent):
            return
        super()._forward_event(event)

    def on_resize(self, event: events.Resize) -> None:
        self._layout()

    def _layout(self) -> None:
        width, height = self.size.width, self.size.height
        wide = width >= WIDE
        self.body.set_class(wide, "-wide")
        self.body.set_class(not wide, "-narrow")
        count = len(self.tiles)
        columns = tile_columns(count, width) if count else 1
        if self.tiles_grid.styles.grid_size_columns != columns:
            self.tiles_grid.styles.grid_size_columns = columns
        compact = needs_compact(count, width, height)
        for tile in self.tiles.values():
            tile.set_class(compact, "-compact")

    def pane(self, name: str) -> LivePane:
        return self.panes[name]

    @property
    def shown_pane(self) -> str:
        return (self.switcher.current or "").removeprefix("pane-")

    def show_pane(self, name: str) -> None:
        self.switcher.current = f"pane-{name}"

    def show_view(self, name: str, view: TableView) -> None:
        self.panes[name].show(view)

    def show_ages(self, state: LiveState, now: float) -> None:
        for name, kinds in PANES.items():
            ages = [s.age(now) for kind in kinds for s in state.of_kind(kind)]
            self.panes[name].set_age(max(ages) if ages else None, now)

    def show_tiles(self, tiles: Sequence[TileData]) -> None:
        new = []
        for data in tiles:
            tile = self.tiles.get(data.ref)
            if tile is None:
                tile = self.tiles[data.ref] = RegionTile(data)
                new.append(tile)
            else:
                tile.show(data)
        if new:
            for waiting in self.tiles_grid.query("#tiles-waiting"):
                waiting.remove()
            self.tiles_grid.mount_all(new)
            self.call_after_refresh(self._layout)

    def show_header(self, text: Text) -> None:
        self._say(self.header, text)

    def show_rotation(self, text: Text) -> None:
        self._say(self.rotation, text)

    def _say(self, line: Static, text: Text) -> None:
        """Update a one-line Static only when it says something new."""
        key = line.id or ""
        if self._said.get(key) != text:
            self._said[key] = text
            line.update(text, layout=False)

    def show_waiting(self, text: str) -> None:
        for waiting in self.tiles_grid.query("#tiles-waiting").results(Static):
            waiting.update(text)  # only there before the first tile


def _read_only_pane(name: str) -> LivePane:
    """A console pane that cannot be focused and shows no cursor: nothing to select."""
    pane = LivePane(PANE_TITLES[name], id=f"pane-{name}")
    pane.can_focus = False
    pane.table.can_focus = False
    pane.table.show_cursor = False
    return pane


# -- the App ---------------------------------------------------------------------------------


class WallApp(PollingApp):
    """osconsole wall: every region at a glance, read-only, rotating through the panes."""

    TITLE = "osconsole wall"
    CSS = console_css()
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[Any]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        rotate: float = ROTATE_DEFAULT,
        os_cloud: str | None = None,
        region: str | None = None,
        openstack_config: OpenStackConfig | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        poll: bool = True,
    ) -> None:
        super().__init__(
            read_only(settings),
            os_cloud=os_cloud,
            region=region,
            openstack_config=openstack_config,
            transport=transport,
            clock=clock,
            poll=poll,
        )
        self.rotate_period = rotate
        self.feed = WallFeed(self.settings.thresholds, acks=AckFile(acks_path()))
        self.findings: tuple[Finding, ...] = ()
        self.repaints = 0
        self._counts: dict[str, Counts] = {}
        self._dirty: set[str] = set()
        self._arrivals: list[Snapshot[Any]] = []
        self._lock = asyncio.Lock()
        self._rotated_at: float | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start_views(self) -> None:
        self.push_screen(WallScreen())
        self.set_interval(REPAINT_CHECK, self._repaint_if_dirty)
        self.set_interval(TICK, self.tick)
        self.call_after_refresh(self.tick)

    async def on_event(self, event: events.Event) -> None:
        """The mouse does nothing on the wall: no row to open, no pane to scroll away."""
        if isinstance(event, events.MouseEvent):
            return
        await super().on_event(event)

    @property
    def wall(self) -> WallScreen:
        return next(s for s in self.screen_stack if isinstance(s, WallScreen))

    @property
    def showing(self) -> bool:
        """The wall's screen is up (not yet, or no more while exiting: nothing to draw)."""
        return any(isinstance(s, WallScreen) for s in self.screen_stack)

    # -- data in ----------------------------------------------------------------------------------

    def connected(self, connection: Connection) -> None:
        self.tick()

    def not_connected(self, errors: list[str]) -> None:
        if self.showing:
            self.wall.show_waiting("Not connected: " + " | ".join(errors))
        self.tick()

    def snapshot_arrived(self, snapshot: Snapshot[Any]) -> None:
        self._dirty |= self.state.apply(snapshot)
        self._arrivals.append(snapshot)

    async def _repaint_if_dirty(self) -> None:
        if self._dirty or self._arrivals:
            await self.refresh_wall()

    async def refresh_wall(self) -> None:
        """Show what arrived: findings, events and the dirty views are made in a thread
        (pure work on frozen snapshots), then applied here, changed cells only."""
        async with self._lock:
            if not (self._dirty or self._arrivals):
                return
            dirty, self._dirty = self._dirty, set()
            arrivals, self._arrivals = self._arrivals, []
            now = self.clock()
            frozen = self.state.frozen()
            digest = await asyncio.to_thread(self._digest, frozen, dirty, arrivals, now)
            self._apply(digest, now)

    def _digest(
        self, frozen: LiveState, dirty: set[str], arrivals: list[Snapshot[Any]], now: float
    ) -> Digest:
        fed = self.feed.take(arrivals)
        views = frozen.views(dirty, now)
        return Digest(
            views=views,
            counts={pane: region_counts(view) for pane, view in views.items()},
            findings=self.feed.findings if fed else None,
            events=self.feed.newest_events() if fed else None,
        )

    def _apply(self, digest: Digest, now: float) -> None:
        if not self.showing:
            return
        wall = self.wall
        for pane, view in digest.views.items():
            wall.show_view(pane, view)
        self._counts.update(digest.counts)
        label = self._labeller()
        if digest.findings is not None:
            self.findings = digest.findings
        if digest.events is not None:
            wall.ticker.show(digest.events, label)
        self.tick()
        self.freeze_heap_once()
        self.repaints += 1
        self.post_message(ViewsApplied(frozenset(digest.views)))

    def _labeller(self) -> Callable[[RegionRef], str]:
        labels = region_labels(self.state.regions or [s.ref for s in self.state.snapshots.values()])
        return lambda ref: labels.get(ref, str(ref))

    # -- every second ---------------------------------------------------------------------------

    def tiles_now(self, now: float) -> list[TileData]:
        statuses = self.state.statuses(self.region_stats(), now)
        return region_tiles(statuses, self._counts, self.state.snapshots.values())

    def tick(self) -> None:
        """Ages, the clock and the findings' "since" move; the rotation turns when due."""
        if not self.showing:
            return
        now = self.clock()
        wall = self.wall
        tiles = self.tiles_now(now)
        wall.show_tiles(tiles)
        connecting = self._poll and self.connection is None and not self.errors
        wall.show_header(header_text(now, tiles, self.errors, connecting))
        wall.findings.show(self.findings, now, self._labeller())
        wall.show_ages(self.state, now)
        self._turn(now)

    def _turn(self, now: float) -> None:
        if self._rotated_at is None or now < self._rotated_at:
            self._rotated_at = now
        period = self.rotate_period
        if period and now - self._rotated_at >= period:
            self.action_rotate()
            return
        remaining = period - (now - self._rotated_at) if period else None
        self.wall.show_rotation(rotation_text(self.wall.shown_pane, period, remaining))

    def action_rotate(self) -> None:
        """Show the next pane (the timer does this every `rotate_period` seconds)."""
        names = list(PANES)
        following = names[(names.index(self.wall.shown_pane) + 1) % len(names)]
        self.wall.show_pane(following)
        self._rotated_at = self.clock()
        period = self.rotate_period
        self.wall.show_rotation(rotation_text(following, period, period or None))

    def sizes(self) -> dict[str, int]:
        """How much the wall holds, for the long-run test and the log."""
        rows = {f"rows.{pane}": len(self.wall.pane(pane).shown_keys) for pane in PANES}
        return {
            **self.feed.sizes(),
            **rows,
            "snapshots": len(self.state.snapshots),
            "arrivals": len(self._arrivals),
            "tiles": len(self.wall.tiles),
            "timers": len(self._timers),
        }


def read_only(settings: Settings) -> Settings:
    """`settings` with every change refused, whatever the config file said."""
    clouds = [c.model_copy(update={"readonly": True}) for c in settings.clouds]
    return settings.model_copy(update={"readonly": True, "clouds": clouds})


# -- starting it -----------------------------------------------------------------------------


def run_wall_app(
    settings: Settings,
    *,
    os_cloud: str | None,
    region: str | None,
    rotate: float,
    demo: bool,
    warnings: list[str],
    log_path: Path,
) -> int:
    """Run the wall in this terminal (with the demo cloud if asked); a clean exit."""
    from osconsole.sim.background import DemoCloud, DemoCloudError, start_demo

    cloud: DemoCloud | None = None
    openstack_config = None
    if demo:
        print("osconsole wall: starting the demo cloud (3 simulated regions)...", file=sys.stderr)
        try:
            cloud, settings, openstack_config = start_demo(settings)
        except DemoCloudError as exc:
            print(f"osconsole wall: {exc}", file=sys.stderr)
            return 1
        os_cloud = None
    try:
        app = WallApp(
            settings,
            rotate=rotate,
            os_cloud=os_cloud,
            region=region,
            openstack_config=openstack_config,
        )
        if demo:
            app.feed.acks = AckFile(acks_path(demo=True))
        for warning in warnings:
            log.warning(warning)
        app.startup_notes = warnings
        app.run(mouse=False)
        return app.return_code or 0
    finally:
        if cloud is not None:
            cloud.stop()
        print(f"osconsole wall: log at {log_path}", file=sys.stderr)


SERVE_WARNING = (
    "osconsole wall --serve: textual-serve has NO authentication. Anyone who can reach "
    "{url} sees every region of your clouds, polled with an admin credential. Keep it on "
    "loopback and put it behind a reverse proxy that authenticates (and terminates TLS)."
)


def wall_command(
    *,
    config: str | None = None,
    os_cloud: str | None = None,
    region: str | None = None,
    rotate: float = ROTATE_DEFAULT,
    theme: str | None = None,
    python: str = sys.executable,
) -> str:
    """The shell command textual-serve runs for each browser: `osconsole wall` with
    the same options, minus the serving ones."""
    argv = [python, "-m", "osconsole"]
    if theme:
        argv += ["--theme", theme]
    argv.append("wall")
    for flag, value in (("--config", config), ("--os-cloud", os_cloud), ("--region", region)):
        if value:
            argv += [flag, value]
    argv += ["--rotate", f"{rotate:g}"]
    return shlex.join(argv)


def serve_wall(
    *,
    config: str | None,
    os_cloud: str | None,
    region: str | None,
    rotate: float,
    theme: str | None,
    demo: bool,
    host: str,
    port: int,
    public_url: str | None,
    loopback: bool,
) -> int:
    """Serve the wall to browsers with textual-serve: each browser gets its own
    `osconsole wall` process. With --demo, one demo cloud serves them all."""
    try:
        from textual_serve.server import Server
    except ImportError:
        print(
            "osconsole wall --serve needs textual-serve: pip install 'textual-serve>=1.1'",
            file=sys.stderr,
        )
        return 2
    from osconsole.sim.background import DemoCloud, DemoCloudError

    url = public_url or f"http://{host}:{port}"
    print(SERVE_WARNING.format(url=url), file=sys.stderr)
    if not loopback:
        print(
            f"osconsole wall --serve: {host} is not a loopback address: the wall is open to "
            "your network without any login.",
            file=sys.stderr,
        )
    cloud: DemoCloud | None = None
    try:
        if demo:
            print("osconsole wall: starting the demo cloud...", file=sys.stderr)
            try:
                cloud = DemoCloud().start()
            except DemoCloudError as exc:
                print(f"osconsole wall: {exc}", file=sys.stderr)
                return 1
            os.environ["OS_CLIENT_CONFIG_FILE"] = str(cloud.clouds_yaml)
            os_cloud = cloud.cloud_name
        command = wall_command(
            config=config, os_cloud=os_cloud, region=region, rotate=rotate, theme=theme
        )
        server = Server(
            command, host=host, port=port, title="osconsole wall", public_url=public_url
        )
        server.serve()
        return 0
    finally:
        if cloud is not None:
            cloud.stop()


__all__ = [
    "ROTATE_DEFAULT",
    "Board",
    "Digest",
    "EventTicker",
    "FindingsBoard",
    "PollingApp",
    "WallApp",
    "WallFeed",
    "WallScreen",
    "header_text",
    "read_only",
    "rotation_text",
    "run_wall_app",
    "serve_wall",
    "wall_command",
]
