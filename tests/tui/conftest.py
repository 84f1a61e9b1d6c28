"""The console driven by Textual's pilot against the in-process simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.config import CloudSettings, Settings
from osconsole.sim.world import World
from osconsole.tui.app import ConsoleApp
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config


@pytest.fixture
async def console(world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A ConsoleApp watching the simulated 3-region cloud (not yet running)."""
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")], sweep_budget=1000)
    return ConsoleApp(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )
