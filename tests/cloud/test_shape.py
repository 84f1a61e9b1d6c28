"""A 200 of the wrong shape is an error, not an empty answer: every single-call API
function raises MalformedResponse for a missing or null container."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.cloud import compute, identity, network, placement, volume
from osconsole.cloud.connect import Connection, connect
from osconsole.cloud.http import MalformedResponse, RegionClient
from osconsole.config import CloudSettings, Settings
from osconsole.sim.world import World
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.support.reshape import Reshape, set_key

Call = Callable[[RegionClient, World], Awaitable[Any]]


def _router(world: World) -> str:
    return world.regions["RegionOne"].routers.ordered()[0].id


def _agent(world: World) -> str:
    return next(a.id for a in world.regions["RegionOne"].agents if a.agent_type == "L3 agent")


def _provider(world: World) -> str:
    return next(iter(world.regions["RegionOne"].hypervisors.ids()))


def _project(world: World) -> str:
    return next(iter(world.regions["RegionOne"].quotas))


CALLS: list[tuple[str, str, str, Call]] = [
    ("compute services", "/os-services", "services", lambda c, w: compute.services(c)),
    ("volume services", "/os-services", "services", lambda c, w: volume.services(c)),
    (
        "router l3-agents",
        "/l3-agents",
        "agents",
        lambda c, w: network.router_l3_agents(c, _router(w)),
    ),
    (
        "agent l3-routers",
        "/l3-routers",
        "routers",
        lambda c, w: network.agent_l3_routers(c, _agent(w)),
    ),
    ("quota details", "/details", "quota", lambda c, w: network.quota_details(c, _project(w))),
    (
        "resource providers",
        "/resource_providers",
        "resource_providers",
        lambda c, w: placement.resource_providers(c),
    ),
    (
        "inventories",
        "/inventories",
        "inventories",
        lambda c, w: placement.inventories(c, _provider(w)),
    ),
    ("usages", "/usages", "usages", lambda c, w: placement.usages(c, _provider(w))),
]


async def _connected(
    world: World, sim: httpx.AsyncClient, tmp_path: Path, transport: Reshape
) -> Connection:
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")], request_timeout=5)
    connection = await connect(
        settings,
        region="RegionOne",
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=transport,
    )
    assert not connection.errors, connection.errors
    return connection


@pytest.fixture
async def reshaped(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> AsyncIterator[Callable[..., Awaitable[tuple[RegionClient, Reshape]]]]:
    """RegionOne's client, its answers rewritten by the given rules (and the rewriter)."""
    opened: list[Connection] = []

    async def make(
        rules: dict[str, Any], region: str | None = "RegionOne"
    ) -> tuple[RegionClient, Reshape]:
        transport = Reshape(httpx.ASGITransport(app=sim_app), rules, region=region)
        connection = await _connected(world, sim, tmp_path, transport)
        opened.append(connection)
        return connection.regions[0].client, transport

    yield make
    for connection in opened:
        await connection.aclose()


@pytest.mark.parametrize("value", [None, "nothing", {}], ids=["null", "string", "object"])
@pytest.mark.parametrize(("what", "suffix", "key", "call"), CALLS, ids=[c[0] for c in CALLS])
async def test_a_wrongly_shaped_container_is_malformed(
    reshaped: Any, world: World, what: str, suffix: str, key: str, call: Call, value: Any
) -> None:
    if value == {} and key in ("quota", "inventories", "usages"):
        value = []  # an object is the right shape for these: a list is not
    client, transport = await reshaped({suffix: set_key(key, value)})
    with pytest.raises(MalformedResponse) as caught:
        await call(client, world)
    assert f"no {key!r} " in caught.value.reason
    assert transport.rewritten


async def test_projects_paging_links_of_the_wrong_shape_do_not_crash(reshaped: Any) -> None:
    rules = {"/projects": set_key("links", ["not", "an", "object"])}
    client, transport = await reshaped(rules, region=None)  # Keystone is no region's
    projects = await identity.projects(client)
    assert projects and all("id" in p for p in projects)
    assert transport.rewritten
