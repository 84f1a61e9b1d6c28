"""Connecting again and again: each cloud retried with backoff until it connects.

The waits between tries are handed to a fake `wait` that returns at once (and may
change the world, as time passing would), so no test sleeps.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.cloud.connect import CloudAttempt, Connection
from osconsole.cloud.reconnect import (
    FIRST_RETRY,
    MAX_RETRY,
    CloudProblem,
    Reconnector,
    retry_delay,
)
from osconsole.config import CloudSettings, Settings
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.sim.serve import clouds_yaml
from osconsole.sim.world import World
from tests.conftest import SIM_URL, T0
from tests.support.bridge import bridged_clouds, bridged_config

NOW = 1_000.0  # the connector's clock: retry times are NOW + delay


def test_the_wait_doubles_from_5s_to_5min_with_jitter_and_never_stops() -> None:
    rng = random.Random(3)
    for failures, base in [(1, 5), (2, 10), (3, 20), (6, 160), (7, 300), (50, 300), (10**6, 300)]:
        for _ in range(20):
            assert base * 0.9 <= retry_delay(failures, rng) <= base * 1.1
    assert (FIRST_RETRY, MAX_RETRY) == (5.0, 300.0)


class Recorder:
    """Collects what the connector reports, and plays the waits."""

    def __init__(self) -> None:
        self.waits: list[float | None] = []
        self.problems: list[list[CloudProblem]] = []
        self.connected: list[list[str]] = []
        self.on_wait: Any = None

    def on_connected(self, connection: Connection, attempt: CloudAttempt) -> None:
        self.connected.append([str(s.ref) for s in attempt.sessions])

    def on_problems(self, problems: list[CloudProblem]) -> None:
        self.problems.append(problems)

    async def wait(self, wake: Any, delay: float | None) -> None:
        self.waits.append(delay)
        if self.on_wait is not None:
            self.on_wait(len(self.waits))


def connector(recorder: Recorder, config: Any, transport: Any, *clouds: str) -> Reconnector:
    return Reconnector(
        Settings(clouds=[CloudSettings(name=c) for c in clouds or ("osconsole-sim",)]),
        on_connected=recorder.on_connected,
        on_problems=recorder.on_problems,
        openstack_config=config,
        transport=transport,
        clock=lambda: NOW,
        wait=recorder.wait,
        seed=5,
    )


async def test_keystone_down_at_start_is_tried_again_until_it_answers(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    world.identity_faults.update(error_rate=1.0)
    recorder = Recorder()

    def keystone_back(tries: int) -> None:
        if tries == 8:
            world.identity_faults.update(error_rate=0.0)

    recorder.on_wait = keystone_back
    config = bridged_config(world, sim, tmp_path, SIM_URL)
    reconnector = connector(recorder, config, httpx.ASGITransport(app=sim_app))
    try:
        await reconnector.run()  # returns once every cloud has connected
        assert len(recorder.waits) == 8
        bases = [5, 10, 20, 40, 80, 160, 300, 300]
        for waited, base in zip(recorder.waits, bases, strict=True):
            assert waited is not None and base * 0.9 <= waited <= base * 1.1
        first = recorder.problems[0]
        assert [p.cloud for p in first] == ["osconsole-sim"]
        assert first[0].error.startswith("cloud 'osconsole-sim': authentication failed")
        assert first[0].retry_at == NOW + recorder.waits[0]
        assert first[0].text().endswith(" UTC (r tries now)")
        assert "; next try at 00:16:4" in first[0].text()  # NOW + ~5 s = 00:16:45 UTC
        assert recorder.problems[-1] == []  # nothing left failing
        assert recorder.connected == [
            [f"osconsole-sim/{r}" for r in ("RegionOne", "RegionTwo", "RegionThree")]
        ]
        assert reconnector.connection.errors == []
    finally:
        await reconnector.aclose()


async def test_refused_credentials_wait_for_a_person(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    admin = world.users["admin"]
    password, admin.password = admin.password, "rotated"
    recorder = Recorder()

    def fixed_and_r_pressed(tries: int) -> None:
        admin.password = password

    recorder.on_wait = fixed_and_r_pressed
    config = bridged_config(world, sim, tmp_path, SIM_URL)
    reconnector = connector(recorder, config, httpx.ASGITransport(app=sim_app))
    try:
        await reconnector.run()
    finally:
        await reconnector.aclose()
    assert recorder.waits == [None]  # not on its own: only `r` (the wake) tries again
    (problem,) = recorder.problems[0]
    assert problem.retry_at is None
    assert problem.text() == (
        "cloud 'osconsole-sim': the credentials were refused (401); "
        "not retried on its own (r tries again)"
    )
    assert len(recorder.connected) == 1


class ByHost:
    """One ASGI app per host name: two simulated clouds behind one transport."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = apps

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        host = dict(scope.get("headers") or []).get(b"host", b"").decode().split(":")[0]
        await self.apps[host](scope, receive, send)


@pytest.fixture
def second_world() -> World:
    return build_world(size="tiny", regions=2, seed=11, clock=SimClock(start=T0))


async def test_a_cloud_that_connected_polls_while_another_is_retried(
    world: World, second_world: World, tmp_path: Path
) -> None:
    router = ByHost({"a.test": create_app(world), "b.test": create_app(second_world)})
    second_world.identity_faults.update(error_rate=1.0)
    documents = [
        clouds_yaml(world, "http://a.test", "a"),
        clouds_yaml(second_world, "http://b.test", "b"),
    ]
    clouds = {"clouds": {**documents[0]["clouds"], **documents[1]["clouds"]}}
    recorder = Recorder()
    a_connected = asyncio.Event()

    def on_connected(connection: Connection, attempt: CloudAttempt) -> None:
        recorder.on_connected(connection, attempt)
        a_connected.set()

    async def wait(wake: asyncio.Event, delay: float | None) -> None:
        recorder.waits.append(delay)
        await a_connected.wait()  # b is retried while a polls
        if len(recorder.waits) == 2:
            second_world.identity_faults.update(error_rate=0.0)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=router)) as client:
        config = bridged_clouds(clouds, client, tmp_path)
        reconnector = connector(recorder, config, httpx.ASGITransport(app=router), "a", "b")
        reconnector.on_connected, reconnector.wait = on_connected, wait
        try:
            await reconnector.run()
            assert recorder.connected[0] == ["a/RegionOne", "a/RegionTwo", "a/RegionThree"]
            assert recorder.connected[1] == ["b/RegionOne", "b/RegionTwo"]
            assert [str(r.ref) for r in reconnector.connection.regions] == [
                "a/RegionOne",
                "a/RegionTwo",
                "a/RegionThree",
                "b/RegionOne",
                "b/RegionTwo",
            ]
            assert len(recorder.waits) == 2
            assert recorder.problems[-1] == []
        finally:
            await reconnector.aclose()
