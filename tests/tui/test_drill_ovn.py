"""A router's drill-down on an ML2/OVN region, live against the simulator: the chassis
its gateway is active on, its gateway port, its candidate chassis and the region's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.config import CloudSettings, Settings
from osconsole.sim.clock import SimClock
from osconsole.sim.world import World
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.support.ovn import OVN_REGION, chassis_by_host, gateway_port, mixed_world
from tests.tui.test_drill import DrillingConsole, choose, enter_on, polled, rows, section


@pytest.fixture
def world(clock: SimClock) -> World:
    return mixed_world(clock)


@pytest.fixture
async def app(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> DrillingConsole:
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")], sweep_budget=1000)
    return DrillingConsole(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )


async def test_an_ovn_router_shows_its_gateway_and_the_regions_chassis(
    app: DrillingConsole, world: World
) -> None:
    region = world.regions[OVN_REGION]
    router = next(iter(region.routers))
    port = gateway_port(region, router)
    async with app.run_test(size=(160, 60)) as pilot:
        await polled(pilot, app)
        _, key = choose(app, "routers", lambda r: r.target.id == router.id)
        screen = await enter_on(pilot, app, "routers", key)
        facts = rows(section(screen, "router"))
        assert facts["Active on"][1] == port.host
        assert facts["Gateway port"][1] == port.id
        assert facts["Port status"][1] == "ACTIVE"
        assert facts["HA"][1] == "OVN (gateway chassis)"
        candidates = rows(section(screen, "agents"))  # live: routers/{id}/l3-agents
        assert list(candidates) == router.gateway_chassis
        assert section(screen, "agents").section.title == "Candidate gateway chassis"
        ports = rows(section(screen, "ports"))  # live: the gateway port
        assert list(ports) == [port.id] and ports[port.id][:2] == (port.host, "ACTIVE")
        chassis = rows(section(screen, "chassis"))
        by_host = chassis_by_host(region)
        assert set(chassis) == {a.id for a in by_host.values()}
        held = sum(int(cells[3]) for cells in chassis.values())
        assert held == len(region.routers)
