"""The fault matrix against the console (ConsoleApp polling the in-process simulator,
under Textual's pilot): it keeps running, the region strip and the pane headers name
the failing region and kind and say what happened, the last data stays (marked stale,
with its age), the healthy regions stay ok, and it recovers by itself once the fault
clears. Then Retry-After, heartbeat ages of a stale region, hostile names, a Keystone
that hangs, and a region that fails at start.

A console run costs one to three seconds on a busy 2-core machine, so the matrix takes
one representative service per fault (each service meets one or two faults, the whole
region a refused connection); test_snapshot_faults.py runs the full cross product on
the same code below the screen, and test_wall_faults.py pairs each fault with another
service.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from textual.content import Content
from textual.markup import MarkupError

from osconsole.config import Thresholds
from osconsole.live import PANES
from osconsole.model import Kind
from osconsole.sim.world import World
from osconsole.widgets.region_strip import status_word
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
    revoke_tokens,
    split_brain,
    touch_a_server,
)
from tests.faults.screens import (
    GRID,
    first_poll,
    key,
    panes_of,
    poll_now,
    region_rows,
    settle,
    strip,
    strip_status,
    until,
)
from tests.tui.fixtures import WatchedConsole, wait_for

MakeConsole = Callable[..., WatchedConsole]

CASES = [
    ("429", "network"),
    ("503", "compute"),
    ("html", "placement"),
    ("truncate", "volume"),
    ("refuse", WHOLE_REGION),
    ("null", "volume"),
    ("dict", "network"),
    ("no_ids", "compute"),
]
BUGS: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize(("fault", "service"), known_bugs(CASES, BUGS))
async def test_the_console_names_the_failing_region_keeps_its_data_and_recovers(
    make_console: MakeConsole, world: World, fault: str, service: str
) -> None:
    app = make_console()
    kinds = READS[service]
    panes = panes_of(kinds)
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        await settle(pilot, app)
        rows = {pane: region_rows(app, pane) for pane in panes}
        # The tenants pane lists only projects with findings; the others every object.
        assert all(rows[p] for p in panes if p != "tenants"), rows

        inject(world, FAULTS[fault], service)
        touch_a_server(world)
        await poll_now(pilot, app, [key(k) for k in kinds])
        await settle(pilot, app)
        assert app.is_running
        status = strip_status(app)
        assert status.status != "ok", strip(app).plain
        assert re.search(rf"{REGION} {status_word(status.status)} \d+s", strip(app).plain)
        assert [strip_status(app, r).status for r in HEALTHY] == ["ok", "ok"]
        for kind in kinds:
            if app.state.snapshots[key(kind)].stale:  # its last data, with its age
                header = app.dashboard.pane(panes_of([kind])[0]).header_text
                assert re.search(rf"{REGION}: STALE {kind.value}, \d+s old", header), header
        for pane in panes:
            header = app.dashboard.pane(pane).header_text
            assert REGION in header and FAULTS[fault].described(header), header
            assert set(region_rows(app, pane)) >= set(rows[pane]), f"{pane} rows vanished"

        clear(world)
        await until(pilot, app, lambda: strip_status(app).status == "ok", "recovered")
        await settle(pilot, app)
        for pane in panes:
            header = app.dashboard.pane(pane).header_text
            assert f"{REGION}: STALE" not in header and "STALE:" not in header, header
            assert set(region_rows(app, pane)) >= set(rows[pane])
        assert app.is_running


# The App's clock an hour off the host's (a stepped clock in tests): the back-off and the
# data's age are measured on one clock, the App's, and shown right.
@pytest.mark.parametrize("ahead", [0.0, 3600.0], ids=["host clock", "app clock ahead"])
async def test_retry_after_is_honoured_per_region_and_service_and_shown(
    make_console: MakeConsole, world: World, ahead: float
) -> None:
    app = make_console(clock=lambda: time.time() + ahead)
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        world.regions[REGION].service_faults["network"].update(status=429, retry_after=30)
        await poll_now(pilot, app, [key(k) for k in READS["network"]])  # every 429 answered
        asked = [r for r in world.requests if r.region == REGION and r.service == "network"]
        for _ in range(2):  # `r` twice: the others are polled, RegionTwo's Nova, not Neutron
            polled = [key(Kind.AGENTS, region) for region in HEALTHY] + [key(Kind.HYPERVISORS)]
            await poll_now(pilot, app, polled)
        again = [r for r in world.requests if r.region == REGION and r.service == "network"]
        assert again == asked, [(r.seq, r.path, r.status) for r in again[len(asked) :]][:5]
        await settle(pilot, app)
        # The strip says which service of which region waits, and how long still (after
        # the region's state and age, and any word on its control plane).
        shown = strip(app).plain
        line = next(line for line in re.split(r" \| |\n", shown) if line.startswith(REGION))
        assert re.match(rf"{REGION} \w+ \d+s .*backing off network (2\d|30)s\b", line), shown
        other = [r for r in world.requests if r.region == REGION and r.service == "compute"]
        assert other[-1].seq > asked[-1].seq  # RegionTwo's Nova is polled on


async def test_a_stale_regions_heartbeat_ages_keep_counting(
    make_console: MakeConsole, world: World
) -> None:
    clock = [0.0]
    app = make_console(clock=lambda: time.time() + clock[0])
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        await settle(pilot, app)
        liveness = app.dashboard.pane("liveness")
        row = region_rows(app, "liveness")[-1]
        world.regions[REGION].service_faults["network"].update(status=503)
        world.regions[REGION].service_faults["compute"].update(status=503)
        world.regions[REGION].service_faults["volume"].update(status=503)
        await poll_now(pilot, app, [key(Kind.AGENTS), key(Kind.SERVICES)])
        await settle(pilot, app)
        assert strip_status(app).status in ("stale", "down")
        before = drawn(liveness.table.get_cell(row, "heartbeat"))
        assert re.fullmatch(r"\d+s", before), before
        clock[0] += 600  # ten minutes on, the region still failing
        await settle(pilot, app)
        assert row in region_rows(app, "liveness")
        assert drawn(liveness.table.get_cell(row, "heartbeat")) == "10m"


def drawn(cell: Any) -> str:
    """A cell as the table draws it: an age cell reads its age at the pane's clock when
    drawn (its `text` is only what it last drew, and a row off screen is not drawn)."""
    return cell.__rich__().plain


# -- Keystone hanging, a region failing at start ---------------------------------------------


async def test_a_console_started_while_keystone_hangs_says_so_and_connects_once_it_answers(
    make_console: MakeConsole, world: World
) -> None:
    world.identity_faults.update(hang=True)
    app = make_console(request_timeout=0.5)
    try:
        async with app.run_test(size=GRID) as pilot:
            line = app.dashboard.query_one("#progress")
            await wait_for(
                pilot,
                lambda: bool(re.search(AUTH_FAILING, str(line.render()))),
                timeout=3,  # discovery and a token request, 0.5 s each at most
                what="authentication failing, said on screen",
            )
            await pilot.press("2")  # still answers keys
            assert app.is_running
            clear(world)
            await pilot.press("r")
            await first_poll(pilot, app)
            await settle(pilot, app)
            assert [s.status for s in strip(app).statuses] == ["ok"] * 3
    finally:
        clear(world)  # the hung call answers, so its worker thread ends
        await asyncio.sleep(0.2)


async def test_a_hung_token_refresh_is_said_in_the_strip_and_polls_recover_after_it(
    make_console: MakeConsole, world: World
) -> None:
    app = make_console(request_timeout=0.5)
    try:
        async with app.run_test(size=GRID) as pilot:
            await first_poll(pilot, app)
            world.identity_faults.update(hang=True)
            revoke_tokens(world)
            keys = [key(Kind.AGENTS, region) for region in world.regions]
            before = {k: app.state.snapshots[k] for k in keys}
            assert app.poller is not None
            app.poller.refresh()
            # Each call gives up after request_timeout (0.5 s): the polls end, failed.
            await wait_for(
                pilot,
                lambda: all(app.state.snapshots[k] is not before[k] for k in keys),
                timeout=4,
                what="the polls to end while Keystone hangs",
            )
            await settle(pilot, app)
            assert app.is_running
            for status in strip(app).statuses:
                assert status.status != "ok" and re.search(AUTH_FAILING, status.detail), status
            clear(world)
            await until(
                pilot,
                app,
                lambda: [s.status for s in strip(app).statuses] == ["ok"] * 3,
                "every region ok again",
            )
    finally:
        clear(world)
        await asyncio.sleep(0.2)


async def test_a_region_failing_at_start_is_discovered_again_when_it_comes_back(
    make_console: MakeConsole, world: World
) -> None:
    inject(world, FAULTS["refuse"], WHOLE_REGION)
    app = make_console()
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        await settle(pilot, app)
        assert strip_status(app).status == "down"
        clear(world)
        await until(pilot, app, lambda: strip_status(app).status == "ok", "RegionTwo back")
        assert app.connection is not None
        versions = {r.ref.region: dict(r.client.microversions) for r in app.connection.regions}
        assert versions["RegionOne"]  # negotiated at start
        assert versions[REGION] == versions["RegionOne"]


async def test_a_kind_never_read_in_a_region_is_named_in_its_panes_header(
    make_console: MakeConsole, world: World
) -> None:
    """Compute refused from the start in RegionTwo: its hosts are not absent but unknown,
    so the hypervisors header never says a bare OK over the other regions' rows."""
    inject(world, FAULTS["refuse"], "compute")
    app = make_console()
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        await settle(pilot, app)
        header = app.dashboard.pane("hypervisors").header_text
        assert re.search(rf"Hypervisors .* / [\d,]+ · {REGION} not read", header), header
        clear(world)
        await poll_now(pilot, app, [key(Kind.HYPERVISORS)])
        await settle(pilot, app)
        assert "not read" not in app.dashboard.pane("hypervisors").header_text


# -- hostile text -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "pane"), [("router", "routers"), ("host", "hypervisors")])
async def test_hostile_names_and_reasons_are_shown_as_visible_text(
    make_console: MakeConsole, sim: httpx.AsyncClient, world: World, kind: str, pane: str
) -> None:
    app = make_console()
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        body = {"kind": kind, "text": HOSTILE, "region": REGION}
        assert (await sim.post("/_sim/rename", json=body)).status_code == 200
        await poll_now(pilot, app, [key(k) for k in PANES[pane]])
        await settle(pilot, app)
        assert app.is_running
        table = app.dashboard.pane(pane).table
        cells = [
            cell.text
            for row in region_rows(app, pane)
            for cell in table.get_row(row)
            if "web[/]-router-1" in cell.text
        ]
        assert cells, "the renamed object is not shown"
        assert all(raw_controls(text) == [] for text in cells), cells
        assert raw_controls(app.export_screenshot()) == []


async def test_a_router_named_like_markup_in_a_split_brain_is_notified_as_plain_text(
    make_console: MakeConsole, world: World
) -> None:
    name = "web[/]-router-1 [bold]"
    split_brain(world).name = name
    app = make_console(thresholds=Thresholds(router_debounce_s=0))
    async with app.run_test(size=GRID) as pilot:
        await first_poll(pilot, app)
        await settle(pilot, app)
        assert app.is_running
        notified = [n for n in app._notifications if "web[/]" in n.message]
        assert notified, [n.message for n in app._notifications]
        # What the toast draws (Textual's Toast.render); drawing it is left out, as a
        # MarkupError there would kill the App and cost seconds of traceback.
        for notification in notified:
            try:
                drawn = (
                    Content.from_markup(notification.message)
                    if notification.markup
                    else Content(notification.message)
                )
            except MarkupError as exc:
                raise AssertionError(f"the toast would crash the console: {exc}") from None
            assert name in drawn.plain
