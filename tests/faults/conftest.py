"""Fixtures of the fault matrix: the snapshot command, the console and the wall, each
against the in-process simulator (tests/conftest.py's `world`, `sim` and `sim_app`)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind
from osconsole.sim.transport import SimTransport
from osconsole.sim.world import World
from osconsole.snapshot import SnapshotOutcome, take_snapshot
from osconsole.tui.wall import WallApp
from tests.conftest import SIM_URL
from tests.faults.matrix import CLOUD
from tests.support.bridge import bridged_config
from tests.tui.fixtures import WatchedConsole, quick

RunSnapshot = Callable[..., Awaitable[SnapshotOutcome]]


def settings(**changes: Any) -> Settings:
    """The matrix's settings: short request timeouts, sweeps fast enough for a test."""
    changes.setdefault("request_timeout", 2.0)
    return Settings(clouds=[CloudSettings(name=CLOUD)], sweep_budget=1000, **changes)


@pytest.fixture
def connect_kwargs(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> Callable[[], dict[str, Any]]:
    """How every surface reaches the simulator: keystoneauth bridged, httpx in process
    (SimTransport: a body cut off fails as it is read, as over a socket)."""

    def kwargs() -> dict[str, Any]:
        return {
            "openstack_config": bridged_config(world, sim, tmp_path, SIM_URL),
            "transport": SimTransport(sim_app),
        }

    return kwargs


@pytest.fixture
def run_snapshot(connect_kwargs: Callable[[], dict[str, Any]]) -> RunSnapshot:
    """`osconsole snapshot` in process: every kind unless told, as the command runs it."""

    async def run(kinds: list[Kind] | None = None, **changes: Any) -> SnapshotOutcome:
        return await take_snapshot(
            settings(**changes), kinds=kinds or list(Kind), **connect_kwargs()
        )

    return run


@pytest.fixture
def make_console(connect_kwargs: Callable[[], dict[str, Any]]) -> Callable[..., WatchedConsole]:
    """A console watching the simulator (`clock`: the App's, for ages), not yet running."""

    def make(clock: Callable[[], float] = time.time, **changes: Any) -> WatchedConsole:
        return quick(WatchedConsole(settings(**changes), clock=clock, **connect_kwargs()))

    return make


@pytest.fixture
def make_wall(connect_kwargs: Callable[[], dict[str, Any]]) -> Callable[..., WallApp]:
    """A wall watching the simulator, not yet running."""

    def make(clock: Callable[[], float] = time.time, **changes: Any) -> WallApp:
        return quick(WallApp(settings(**changes), clock=clock, **connect_kwargs()))

    return make
