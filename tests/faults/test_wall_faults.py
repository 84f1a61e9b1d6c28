"""The fault matrix against the wall (WallApp polling the in-process simulator, under
Textual's pilot): it keeps running, the failing region's tile says so in words (its
status, the data's age, the kind and what happened; STALE on each domain it could
not read) while the other tiles stay ok, and it recovers by itself once the fault
clears. Then Keystone hanging at start, and hostile names on the boards.

As for the console, one representative service per fault, a different one from the
console's (a refused connection excepted: a whole region's on both), so that between
them each fault meets two services; one to three seconds each.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
import pytest

from osconsole.config import Thresholds
from osconsole.live import PANES
from osconsole.sim.world import World
from osconsole.tui.wall import WallApp
from osconsole.widgets.region_strip import status_word
from osconsole.widgets.tiles import DOMAIN_TITLES, GREEN, STALE
from tests.faults.matrix import (
    AUTH_FAILING,
    FAULTS,
    HEALTHY,
    HOSTILE,
    READS,
    REGION,
    WHOLE_REGION,
    clear,
    inject,
    known_bugs,
    raw_controls,
    split_brain,
)
from tests.faults.screens import (
    GRID,
    first_poll,
    key,
    panes_of,
    poll_now,
    settle_wall,
    tile,
    until,
)
from tests.tui.fixtures import wait_for

MakeWall = Callable[..., WallApp]

CASES = [
    ("429", "compute"),
    ("503", "volume"),
    ("html", "network"),
    ("truncate", "compute"),
    ("refuse", WHOLE_REGION),
    ("null", "network"),
    ("dict", "placement"),
    ("no_ids", "placement"),  # Cinder's services have no ids: the fault changes nothing
]
BUGS: dict[tuple[str, str], str] = {}


def healthy(app: WallApp, region: str = REGION) -> bool:
    data = tile(app, region).data
    return data.status == "ok" and not any(d.stale for d in data.domains)


@pytest.mark.parametrize(("fault", "service"), known_bugs(CASES, BUGS))
async def test_the_wall_says_which_region_fails_and_how_and_recovers(
    make_wall: MakeWall, world: World, fault: str, service: str
) -> None:
    app = make_wall()
    kinds = READS[service]
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        await settle_wall(pilot, app)
        assert healthy(app)

        inject(world, FAULTS[fault], service)
        await poll_now(pilot, app, [key(k) for k in kinds])
        await settle_wall(pilot, app)
        assert app.is_running
        data = tile(app).data
        assert data.status != "ok" and data.word != GREEN, data
        shown = tile(app).plain
        assert REGION in shown and status_word(data.status) in shown, shown
        assert re.search(r"data \d+s old", data.status_line), data.status_line
        assert any(k.value in data.detail for k in kinds), data.detail
        for pane in panes_of(kinds):
            domain = next(d for d in data.domains if d.title == DOMAIN_TITLES[pane])
            stale = any(app.state.snapshots[key(k)].stale for k in PANES[pane])
            assert domain.word == STALE if stale else domain.known, domain
            header = app.wall.pane(pane).header_text
            assert REGION in header and FAULTS[fault].described(header), header
        for region in HEALTHY:
            assert healthy(app, region), tile(app, region).data

        clear(world)
        await until(pilot, app, lambda: healthy(app), "RegionTwo's tile ok again", timeout=6)
        await settle_wall(pilot, app)
        assert tile(app).data.word != STALE and app.is_running


async def test_a_wall_started_while_keystone_hangs_says_so_and_connects_once_it_answers(
    make_wall: MakeWall, world: World
) -> None:
    world.identity_faults.update(hang=True)
    app = make_wall(request_timeout=0.5)
    try:
        async with app.run_test(size=GRID) as pilot:
            await wait_for(
                pilot,
                lambda: bool(re.search(AUTH_FAILING, str(app.wall.header.render()))),
                timeout=3,  # discovery and a token request, 0.5 s each at most
                what="authentication failing, said in the header",
            )
            assert app.is_running
            clear(world)
            # The wall has no key to retry with: it must retry by itself.
            await wait_for(pilot, lambda: app.poller is not None, timeout=10, what="a retry")
            await first_poll(pilot, app)
    finally:
        clear(world)  # the hung call answers, so its worker thread ends
        await asyncio.sleep(0.2)


async def test_a_hostile_router_name_is_shown_on_the_boards_as_visible_text(
    make_wall: MakeWall, sim: httpx.AsyncClient, world: World
) -> None:
    router = split_brain(world)
    body = {"kind": "router", "text": HOSTILE, "region": REGION, "id": router.id}
    assert (await sim.post("/_sim/rename", json=body)).status_code == 200
    app = make_wall(thresholds=Thresholds(router_debounce_s=0))
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        await settle_wall(pilot, app)
        assert app.is_running
        board = app.wall.findings.plain
        assert "web[/]-router-1" in board, board  # the split brain, by the router's name
        assert raw_controls(board) == []
        assert raw_controls(app.export_screenshot()) == []
