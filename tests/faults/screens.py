"""What the fault matrix reads off the console and the wall, and how it waits for them.

Polls are started with `Poller.refresh()` (what `r` does, and what the next scheduled
poll does) rather than waited for in real time. Each wait ends as soon as what it
waits for has happened, and a screen is made to catch up with the App's state before
it is read, so an assertion about a wrong screen fails at once instead of timing out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.pilot import Pilot

from osconsole.live import PANES
from osconsole.model import Kind, RegionRef
from osconsole.tui.polling import PollingApp
from osconsole.tui.wall import WallApp
from osconsole.views import RegionStatus
from osconsole.widgets.region_strip import RegionStrip
from osconsole.widgets.tiles import RegionTile
from tests.faults.matrix import CLOUD, REGION
from tests.tui.fixtures import WatchedConsole, wait_for

GRID = (200, 50)  # the console's 2x2 grid, and a strip wide enough for every detail
POLL_TIMEOUT = 10.0  # a poll of the tiny world takes a fraction of a second

Key = tuple[RegionRef, Kind]


def key(kind: Kind, region: str = REGION) -> Key:
    return (RegionRef(CLOUD, region), kind)


def panes_of(kinds: Iterable[Kind]) -> list[str]:
    """The panes that show `kinds`, in the console's order."""
    wanted = set(kinds)
    return [pane for pane, shown in PANES.items() if wanted & set(shown)]


async def first_poll(pilot: Pilot[Any], app: PollingApp) -> None:
    """Wait until every region has reported every kind once."""

    def done() -> bool:
        arrived, expected = app.state.first_poll_progress
        return bool(expected) and arrived >= expected

    await wait_for(pilot, done, timeout=POLL_TIMEOUT, what="the first poll")


async def poll_now(pilot: Pilot[Any], app: PollingApp, keys: Iterable[Key]) -> None:
    """Poll everything now and wait until each of `keys` has a new snapshot."""
    keys = list(keys)
    before = {k: app.state.snapshots.get(k) for k in keys}
    assert app.poller is not None, "not polling"
    app.poller.refresh()
    await wait_for(
        pilot,
        lambda: all(app.state.snapshots.get(k) is not before[k] for k in keys),
        timeout=POLL_TIMEOUT,
        what=f"a new poll of {[(r.region, k.value) for r, k in keys]}",
    )


async def until(
    pilot: Pilot[Any], app: PollingApp, shown: Callable[[], bool], what: str, timeout: float = 6
) -> None:
    """Poll again and again (as the next scheduled polls would) until `shown()`."""
    for _ in range(int(timeout / 0.5)):
        assert app.poller is not None, "not polling"
        app.poller.refresh()
        try:
            await wait_for(pilot, shown, timeout=0.5, what=what)
            return
        except AssertionError:
            continue
    raise AssertionError(f"not shown in {timeout:g}s: {what}")


# -- the console -------------------------------------------------------------------------------


async def settle(pilot: Pilot[Any], app: WatchedConsole) -> None:
    """Repaint every pane from the state as it is now and wait until it is on screen.
    Twice: a repaint already under way when asked may have begun before the last poll
    arrived; the second one begins after it."""
    for _ in range(2):
        await _repainted(pilot, app)
    await pilot.pause()


async def _repainted(pilot: Pilot[Any], app: WatchedConsole) -> None:
    applied = len(app.views_applied)
    app.repaint(set(PANES))
    await wait_for(pilot, lambda: len(app.views_applied) > applied, what="a repaint")


def strip(app: WatchedConsole) -> RegionStrip:
    return app.dashboard.query_one("#regions", RegionStrip)


def strip_status(app: WatchedConsole, region: str = REGION) -> RegionStatus:
    return next(s for s in strip(app).statuses if s.ref.region == region)


def region_rows(app: WatchedConsole, pane: str, region: str = REGION) -> list[str]:
    """The row keys of `region` in a pane ("osconsole-sim/RegionTwo/<id>")."""
    return [k for k in app.dashboard.pane(pane).shown_keys if f"/{region}/" in k]


# -- the wall ------------------------------------------------------------------------------------


async def settle_wall(pilot: Pilot[Any], app: WallApp) -> None:
    """Show what arrived and redraw the tiles with the ages of now."""
    await app.refresh_wall()
    app.tick()
    await pilot.pause()


def tile(app: WallApp, region: str = REGION) -> RegionTile:
    return next(t for t in app.wall.tiles.values() if t.data.ref.region == region)
