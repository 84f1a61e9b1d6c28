"""In the console, a Keystone that hangs while a token is renewed freezes nothing: the
panes go on with the current token, and the region strip says authentication is failing
(it used to say `ok 5m` while every region waited for the hung token request)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from osconsole.config import CloudSettings, Settings
from osconsole.sim.world import World
from osconsole.tui.app import ConsoleApp
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.tui.fixtures import quick, wait_for


async def test_the_strip_says_when_renewing_the_token_fails_and_polls_go_on(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    settings = Settings(
        clouds=[CloudSettings(name="osconsole-sim")], sweep_budget=1000, request_timeout=1.0
    )
    app = quick(
        ConsoleApp(
            settings,
            openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
            transport=httpx.ASGITransport(app=sim_app),
        )
    )
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.connection is not None, what="connected")
        await wait_for(pilot, lambda: app.state.first_poll_progress[0] > 0, what="a first poll")
        auth = app.connection.regions[0].auth  # type: ignore[union-attr]
        first = await auth.access()
        now = {"t": first.expires_at - timedelta(seconds=60)}  # time to renew it
        auth.clock = lambda: now["t"]
        world.identity_faults.update(unreachable=True)
        polled = max(s.fetched_at for s in app.state.snapshots.values())

        await pilot.press("r")  # every region polls now, and asks for the token
        strip = app.screen.query_one("#regions")
        await wait_for(pilot, lambda: "AUTH FAILING" in strip.plain, what="AUTH FAILING")
        assert "Keystone did not answer" in strip.plain
        assert max(s.fetched_at for s in app.state.snapshots.values()) > polled  # polls went on
        assert all(s.error is None for s in app.state.snapshots.values())

        world.identity_faults.update(unreachable=False)
        now["t"] += timedelta(seconds=30)  # the next try is due
        await pilot.press("r")
        await wait_for(pilot, lambda: "AUTH FAILING" not in strip.plain, what="recovered")
        assert (await auth.access()).token != first.token
