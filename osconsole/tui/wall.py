"""The NOC wall: `osconsole wall`, read-only, unattended, for days.

One large tile per region (its RED / AMBER / GREEN, status, data age, per domain
its critical and warning rows, its control plane's findings and its boots' lead
times), the critical incidents, a ticker of the
latest events, and the four panes of the console shown in turn. Nothing on it can
change a cloud: the settings are read-only whatever the config says (so every HTTP
client refuses any method but GET), no action is bound, nothing takes focus, and
the mouse is ignored. `q` quits.

It polls, judges and repaints exactly as the console does (`PollingApp`: connect,
Poller, LiveState's one pipeline: the same judge, tracker and timeline, and the same
repaint scheduling), and must not grow while it runs: one interval timer each for
ticks and the terminal check, created once; the event list is a bounded deque;
incidents are replaced, not accumulated; every other structure holds one entry per
region and kind.
tests/tui/test_wall.py measures it.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx
from openstack.config import OpenStackConfig
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static

from osconsole.acks import AckFile, acks_path
from osconsole.cloud.connect import Connection
from osconsole.config import Settings
from osconsole.health.incidents import Incident
from osconsole.live import PANE_TITLES, PANES, LiveState
from osconsole.model import RegionRef
from osconsole.themes import console_css
from osconsole.tui.polling import PollingApp, Repaint
from osconsole.views import TableView, region_labels
from osconsole.widgets.boards import EventTicker, FindingsBoard, utc_clock
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
TICK = 1.0  # ages, the clock and the rotation move every second
EVENTS_KEPT = 200  # the timeline's bound: the ticker never needs more
TICKER_EVENTS = 60  # newest events handed to the ticker (it shows what fits)
WIDE = 160  # columns from which the boards sit beside the pane, not above it


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
        self.state = LiveState(self.settings, keep_events=EVENTS_KEPT)
        self.incidents: tuple[Incident, ...] = ()
        self.acks = AckFile(acks_path())  # the console's acknowledgements, read when changed
        self._acks_stamp: float | None = None
        self._counts: dict[str, Counts] = {}
        self._rotated_at: float | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start_views(self) -> None:
        self.push_screen(WallScreen())
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

    async def refresh_wall(self) -> None:
        """Show what arrived now (the judge and the dirty views are made in a thread, as
        PollingApp's repaints do; tests and the long-run check use it)."""
        await self.repaint_now()

    def before_judging(self) -> None:
        """The console's acknowledgements, when its file changed: the wall shows them
        too (it never writes them)."""
        stamp = self.acks.stamp()
        if stamp != self._acks_stamp:
            self._acks_stamp = stamp
            self.state.tracker.restore(self.acks.load())
            self.state.rejudge()

    def show(self, repaint: Repaint) -> None:
        """Views, tile counts, incidents and the newest events of one repaint."""
        wall = self.wall
        for pane, view in repaint.views.items():
            wall.show_view(pane, view)
            self._counts[pane] = region_counts(view)
        if repaint.judged_new:
            self.incidents = repaint.verdicts.incidents
            wall.ticker.show(self.state.newest_events(TICKER_EVENTS), self._labeller())
        self.tick()

    def _labeller(self) -> Callable[[RegionRef], str]:
        labels = region_labels(self.state.regions or [s.ref for s in self.state.snapshots.values()])
        return lambda ref: labels.get(ref, str(ref))

    # -- every second ---------------------------------------------------------------------------

    def tiles_now(self, now: float) -> list[TileData]:
        statuses = self.state.statuses(self.region_stats(), now)
        state = self.state
        return region_tiles(
            statuses, self._counts, state.snapshots.values(), state.findings, state.plane
        )

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
        wall.findings.show(self.incidents, now, self._labeller())
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
        state = self.state
        return {
            "events": len(state.timeline.events),
            "findings": len(state.findings),
            "looked": len(state._looked),
            "history": len(state.tracker.history),
            "tracks": len(state.tracker._tracks),  # raised, pending and recently cleared
            **rows,
            "snapshots": len(self.state.snapshots),
            "arrivals": state.pending_arrivals,
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
            app.acks = AckFile(acks_path(demo=True))
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
    "PollingApp",
    "WallApp",
    "WallScreen",
    "header_text",
    "read_only",
    "rotation_text",
    "run_wall_app",
    "serve_wall",
    "wall_command",
]
