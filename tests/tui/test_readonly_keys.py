"""Read-only in depth, driven like a user would: random key sequences on a read-only
console over the simulator never make a mutating request reach it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osconsole.config import CloudSettings, Settings
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.tui.app import ConsoleApp
from tests.conftest import SIM_URL, T0
from tests.support.bridge import bridged_config

# Every key that navigates, opens, acts or confirms somewhere in the console.
KEYS = ["a", "y", "enter", "escape", "tab", "down", "up", "1", "2", "3", "4", "f", "e", "k",
        "r", "s", "p", "slash", "x"]  # fmt: skip


def mutating(world: Any) -> list[Any]:
    return [
        r for r in world.requests if r.method not in ("GET", "HEAD") and r.service != "identity"
    ]


async def drive(
    keys: list[str], tmp_path: Path, readonly: bool = True, pause: float = 0.02
) -> list[Any]:
    world = build_world(size="tiny", regions=2, seed=3, clock=SimClock(start=T0))
    app_under_test = create_app(world)
    transport = httpx.ASGITransport(app=app_under_test)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_URL) as sim:
        config = bridged_config(world, sim, tmp_path, SIM_URL)
        console = ConsoleApp(
            Settings(clouds=[CloudSettings(name="osconsole-sim")], readonly=readonly),
            openstack_config=config,
            transport=httpx.ASGITransport(app=app_under_test),
        )
        async with console.run_test(size=(100, 30)) as pilot:
            for _ in range(100):
                if console.connection is not None and len(console.state.snapshots) >= 10:
                    break
                await pilot.pause(0.05)
            for key in keys:
                await pilot.press(key)
                await pilot.pause(pause)
            await asyncio.sleep(0.2)
    return mutating(world)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(keys=st.lists(st.sampled_from(KEYS), min_size=5, max_size=25))
def test_no_key_sequence_changes_anything_in_read_only(keys: list[str], tmp_path: Path) -> None:
    assert asyncio.run(drive(keys, tmp_path)) == []


def test_the_harness_does_see_a_change_when_not_read_only(tmp_path: Path) -> None:
    """The same keys a user presses to disable a compute service (open the worst
    hypervisor, `a`, first action, a reason, confirm) do reach the simulator when the
    session is not read-only: the property above cannot pass for want of looking."""
    keys = ["enter", "a", "enter", "x", "enter", "y"]
    assert asyncio.run(drive(keys, tmp_path, readonly=False, pause=0.4))
    assert asyncio.run(drive(keys, tmp_path, readonly=True, pause=0.4)) == []
