"""What the dashboard looks like, compared with accepted screenshots (SVG in __snapshots__).

Every screen is fed the deterministic snapshots of tests/tui/fixtures.py (polled
once from the simulator with every clock fixed) into a console that does not poll
and whose clock stands still, so the screens only change when the UI does.
Regenerate after an intended change with `pytest tests/tui/test_snapshots.py
--snapshot-update`, then look at the SVGs (snapshot_report.html shows the diff).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest
from textual.pilot import Pilot

from osconsole.model import Kind
from osconsole.tui.dashboard import PANE_KEYS
from tests.tui.fixtures import (
    WatchedConsole,
    deterministic_snapshots,
    fixed_console,
    load_fixed_world,
    ovn_snapshots,
    show_snapshots,
    wait_for,
)

SnapCompare = Callable[..., bool]
TAB_SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
GRID_SIZE = (200, 50)


def driven(app: WatchedConsole, *keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """run_before: the first poll of every region shown, then `keys` pressed."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await load_fixed_world(pilot, app)
        await pilot.press(*keys)

    return run_before


@pytest.mark.parametrize("size", TAB_SIZES.values(), ids=TAB_SIZES.keys())
@pytest.mark.parametrize(("key", "pane"), PANE_KEYS.items(), ids=PANE_KEYS.values())
def test_each_pane_in_the_tabs_layout(
    snap_compare: SnapCompare, size: tuple[int, int], key: str, pane: str
) -> None:
    app = fixed_console()
    assert snap_compare(app, terminal_size=size, run_before=driven(app, key))


@pytest.mark.parametrize(("key", "pane"), [("1", "hypervisors"), ("4", "liveness")])
def test_the_grid_layout(snap_compare: SnapCompare, key: str, pane: str) -> None:
    app = fixed_console()
    assert snap_compare(app, terminal_size=GRID_SIZE, run_before=driven(app, key))


def test_a_filtered_sorted_pane_while_paused(snap_compare: SnapCompare) -> None:
    app = fixed_console()
    keys = ("2", "slash", *"RegionOne", "enter", "s", "s", "S", "p")
    assert snap_compare(app, terminal_size=(120, 40), run_before=driven(app, *keys))


def test_the_first_poll_in_progress(snap_compare: SnapCompare) -> None:
    """One region has reported its hypervisors: the others say "connecting"."""
    app = fixed_console()
    refs, snapshots = deterministic_snapshots()

    async def run_before(pilot: Pilot[Any]) -> None:
        app.state.expect(refs)
        await show_snapshots(pilot, app, first_of(snapshots, refs[0].region, Kind.HYPERVISORS))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def first_of(snapshots: Iterable[Any], region: str, kind: Kind) -> list[Any]:
    return [s for s in snapshots if s.ref.region == region and s.kind == kind]


def test_the_keys_screen(snap_compare: SnapCompare) -> None:
    app = fixed_console()
    assert snap_compare(app, terminal_size=(120, 40), run_before=driven(app, "question_mark"))


# -- an ML2/OVN region beside an ML2/OVS one -------------------------------------------------

OVN_SIZES = {"80x24": (80, 24), "200x50": GRID_SIZE}


def _worst_ovn_router(app: WatchedConsole) -> str:
    pane = app.dashboard.pane("routers")
    assert pane.view is not None
    return next(r.key for r in pane.view.rows if r.target.ref.region == "RegionOne")


@pytest.mark.parametrize("size", OVN_SIZES.values(), ids=OVN_SIZES.keys())
def test_the_routers_pane_on_an_ovn_region(
    snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    app = fixed_console()

    async def run_before(pilot: Pilot[Any]) -> None:
        await load_fixed_world(pilot, app, ovn_snapshots)
        app.dashboard.action_show_pane("routers")
        app.clear_notifications()  # the new-critical toast would hide the rows
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", OVN_SIZES.values(), ids=OVN_SIZES.keys())
def test_a_router_drill_down_on_an_ovn_region(
    snap_compare: SnapCompare, size: tuple[int, int]
) -> None:
    from osconsole.tui.drill import DrillScreen

    app = fixed_console()

    async def run_before(pilot: Pilot[Any]) -> None:
        await load_fixed_world(pilot, app, ovn_snapshots)
        app.dashboard.action_show_pane("routers")
        await pilot.pause()
        assert app.dashboard.pane("routers").select_key(_worst_ovn_router(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen), what="drill-down")
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
