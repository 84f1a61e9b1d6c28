"""Recovery under the pilot: Keystone down at start, a region failing at start, a
service asking us to wait. The console and the wall say what is failing and when it
is tried next, `r` tries at once, and the wall recovers by itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.widgets import Static

from osconsole.cloud import reconnect
from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind, RegionRef
from osconsole.sim.world import World
from osconsole.tui.app import ConsoleApp
from osconsole.tui.wall import WallApp
from osconsole.widgets.region_strip import RegionStrip
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.support.proxy import FaultProxy
from tests.tui.fixtures import CLOUD, console_settings, quick, wait_for

SIZE = (120, 40)
REGIONS = ("RegionOne", "RegionTwo", "RegionThree")


def progress_text(app: ConsoleApp) -> str:
    return str(app.screen.query_one("#progress", Static).render())


def strip_text(app: ConsoleApp) -> str:
    return app.screen.query_one("#regions", RegionStrip).plain


@pytest.fixture
def slow_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tries far apart: only `r` can connect within a test."""
    monkeypatch.setattr(reconnect, "FIRST_RETRY", 3600.0)
    monkeypatch.setattr(reconnect, "MAX_RETRY", 3600.0)


def console(world: World, sim: httpx.AsyncClient, app: Any, tmp_path: Path) -> ConsoleApp:
    return quick(
        ConsoleApp(
            console_settings(),
            openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
            transport=httpx.ASGITransport(app=app),
        )
    )


async def test_keystone_down_at_start_says_when_it_tries_again_and_r_connects(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, slow_retries: None
) -> None:
    world.identity_faults.update(error_rate=1.0)
    app = console(world, sim, sim_app, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "next try at" in progress_text(app), what="a failure")
        text = progress_text(app)
        assert text.startswith(f"Not connected: cloud '{CLOUD}': authentication failed")
        assert re.search(r"; next try at \d\d:\d\d:\d\d UTC \(r tries now\)$", text), text
        assert app.connection is None
        assert sum(1 for n in app._notifications if n.title == "Cannot connect") == 1

        await pilot.press("r")  # still down: tried again, still said
        await wait_for(pilot, lambda: len(world.requests) >= 2, what="a second try")
        assert app.connection is None and app.is_running

        world.identity_faults.update(error_rate=0.0)
        await pilot.press("r")
        await wait_for(
            pilot,
            lambda: all(f"{r} ok" in strip_text(app) for r in REGIONS),
            what="every region polled",
        )
        assert "Not connected" not in progress_text(app)
        assert app.errors == []
        toasts = [n.message for n in app._notifications if n.title == "Cannot connect"]
        assert len(toasts) == len(set(toasts))  # an error is told once, not on every try


async def test_the_wall_recovers_by_itself_when_keystone_comes_back(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(reconnect, "FIRST_RETRY", 0.2)
    world.identity_faults.update(error_rate=1.0)
    app = quick(
        WallApp(
            Settings(clouds=[CloudSettings(name=CLOUD)]),
            openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
            transport=httpx.ASGITransport(app=sim_app),
        )
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: bool(app.errors), what="the connection to fail")
        await pilot.pause()
        header = str(app.wall.header.render())
        assert "NOT CONNECTED" in header and "next try at" in header
        world.identity_faults.update(error_rate=0.0)
        await wait_for(pilot, lambda: len(app.wall.tiles) == 3, what="the regions' tiles")
        await wait_for(pilot, lambda: "NOT CONNECTED" not in str(app.wall.header.render()))


async def test_a_region_failing_at_start_is_read_at_its_version_once_back(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    world.regions["RegionTwo"].faults.update(error_rate=1.0)
    app = console(world, sim, sim_app, tmp_path)
    key = (RegionRef(CLOUD, "RegionTwo"), Kind.HYPERVISORS)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "RegionTwo DOWN" in strip_text(app), what="RegionTwo down")
        assert "RegionOne ok" in strip_text(app)
        world.regions["RegionTwo"].faults.update(error_rate=0.0)
        mark = world.request_seq
        await pilot.press("r")
        await wait_for(pilot, lambda: "RegionTwo ok" in strip_text(app), what="RegionTwo back")
        snap = app.state.snapshots[key]
        assert snap.extra["microversion"] == "2.100"
        assert {h.usage_source for h in snap.items.values()} == {"placement"}
        paths = [
            r.path
            for r in world.requests
            if r.seq > mark and r.region == "RegionTwo" and r.service == "compute"
        ]
        assert "/RegionTwo/compute/v2.1/os-hypervisors" in paths
        assert "/RegionTwo/compute/v2.1/os-hypervisors/detail" not in paths


async def test_a_service_asking_to_wait_is_left_alone_and_the_strip_says_so(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    proxy = FaultProxy(sim_app)
    proxy.answer(
        429,
        region="RegionOne",
        service="network",
        body={"overLimit": {"code": 429, "message": "Rate limit exceeded."}},
        headers={"Retry-After": "120"},
    )
    app = console(world, sim, proxy, tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(
            pilot,
            # After the region's state and age (and any word on its control plane).
            lambda: re.search(
                r"RegionOne \w+ \d+s (\S+ \S+ )*backing off network 1[12]\ds", strip_text(app)
            ),
            what="the back-off in the strip",
        )
        sent = proxy.count("RegionOne", "network")
        for _ in range(3):
            await pilot.press("r")
            await pilot.pause(0.1)
        assert proxy.count("RegionOne", "network") == sent == 1
        assert "backing off network" not in strip_text(app).split("RegionTwo")[1]
