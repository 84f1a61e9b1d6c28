"""The Textual-free pipeline (connect, poll, probe, judge) that the console and the
collector both run: against the simulator in process, no App around it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from osconsole.config import CloudSettings, Settings
from osconsole.health.findings import Severity
from osconsole.model import Kind, Snapshot
from osconsole.pipeline import Pipeline
from osconsole.sim.transport import SimTransport
from osconsole.sim.world import World
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.support.waiting import wait_for


def _pipeline(world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path) -> Pipeline:
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")], sweep_budget=1000)
    return Pipeline(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=SimTransport(sim_app),
        clock=world.now,
    )


async def test_it_connects_polls_every_region_and_kind_and_judges_without_an_app(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    pipeline = _pipeline(world, sim, sim_app, tmp_path)
    running = asyncio.create_task(pipeline.run())
    try:
        await wait_for(lambda: pipeline.connection is not None, 30, what="connected")
        state = pipeline.state
        assert len(state.regions) == len(world.regions)
        await wait_for(
            lambda: state.first_poll_progress[0] == state.expected_polls,
            30,
            what="every region and kind polled once",
        )
        verdicts = await pipeline.judge()
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert pipeline.errors == []
    # The verdicts are the one judge's over every snapshot the poll brought.
    assert set(verdicts.snapshots) == set(state.snapshots)
    assert state.verdicts is verdicts
    routers = [s for (_, kind), s in state.snapshots.items() if kind is Kind.ROUTERS]
    assert sum(len(s.items) for s in routers) == sum(len(r.routers) for r in world.regions.values())
    # The control plane's looks were taken for the judge: one per region.
    assert {look.ref for look in state.plane} == set(state.regions)
    assert set(verdicts.regions) == set(state.regions)
    assert all(a.severity is not Severity.UNKNOWN for a in verdicts.regions.values())


async def test_its_hooks_see_each_arrival_and_connection_and_the_process_takes_them(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    """A process with hooks of its own (the console posts messages) takes connections
    itself: nothing is applied behind its back."""
    pipeline = _pipeline(world, sim, sim_app, tmp_path)
    arrived: list[Snapshot[Any]] = []
    connected: list[int] = []

    def on_connected(connection: Any, attempt: Any) -> None:
        connected.append(len(attempt.sessions))

    running = asyncio.create_task(
        pipeline.run(on_snapshot=arrived.append, on_connected=on_connected)
    )
    try:
        await wait_for(lambda: len(arrived) >= len(world.regions) * len(Kind), 30, what="polls")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert connected == [len(world.regions)]
    assert pipeline.connection is None  # not taken: the hook's owner decides when
    assert pipeline.state.snapshots == {}
