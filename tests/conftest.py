"""Fixtures shared by every test: a home of their own, a simulated cloud, in process,
and tokens for it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.cloud.connect import Connection, connect
from osconsole.cloud.http import RegionClient
from osconsole.config import CloudSettings, Settings
from osconsole.logs import state_dir
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import ADMIN_PASSWORD, MEMBER_PASSWORD, build_world
from osconsole.sim.transport import SimTransport
from osconsole.sim.world import World
from tests.support.bridge import bridged_config
from tests.support.home import changes, fingerprint, point_home_at

# The operator's state directory (log, audit lines), read before any test runs.
REAL_STATE_DIR = state_dir()


@pytest.fixture(scope="session", autouse=True)
def real_state_dir_untouched() -> Iterator[Path]:
    """The session fails if anything under the real state directory was written."""
    before = fingerprint(REAL_STATE_DIR)
    yield REAL_STATE_DIR
    written = changes(before, fingerprint(REAL_STATE_DIR))
    assert not written, f"tests wrote under the real state directory {REAL_STATE_DIR}: {written}"


@pytest.fixture(scope="session", autouse=True)
def session_home(
    real_state_dir_untouched: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """HOME and every XDG folder temporary for the whole session, so that module- and
    session-scoped fixtures and every subprocess inherit them too."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        home = tmp_path_factory.mktemp("session-home")
        point_home_at(monkeypatch, home)
        yield home


@pytest.fixture(autouse=True)
def home(
    session_home: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh HOME and XDG folders for each test: no audit line or log of another test."""
    home = tmp_path_factory.mktemp("home")
    point_home_at(monkeypatch, home)
    return home


# The simulated clock starts at (about) the real time: keystoneauth compares token
# expiry with the local wall clock, as it would against a real cloud.
T0 = float(int(time.time()))


@pytest.fixture
def clock() -> SimClock:
    return SimClock(start=T0)


@pytest.fixture
def world(clock: SimClock) -> World:
    """A tiny three-region cloud on a stepped clock, without injected latency."""
    return build_world(size="tiny", regions=3, seed=7, clock=clock)


SIM_URL = "http://sim.test"


@pytest.fixture
def sim_app(world: World) -> Any:
    """The simulator's ASGI app for `world`."""
    return create_app(world)


@pytest.fixture
async def sim(sim_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the simulator in process (SimTransport: ASGITransport,
    with bodies cut off failing as they are read, as over a socket)."""
    transport = SimTransport(sim_app)
    async with httpx.AsyncClient(transport=transport, base_url=SIM_URL) as client:
        yield client


@pytest.fixture
async def connection(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> AsyncIterator[Connection]:
    """Every region of the simulated cloud, connected the way the product connects:
    openstacksdk's config loader and keystoneauth (bridged in process), then one
    httpx client per region on SimTransport, microversions negotiated."""
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")])
    connection = await connect(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=SimTransport(sim_app),
    )
    assert not connection.errors, connection.errors
    try:
        yield connection
    finally:
        await connection.aclose()


@pytest.fixture
def region_one(connection: Connection) -> RegionClient:
    """The connected client of RegionOne."""
    return next(r.client for r in connection.regions if r.ref.region == "RegionOne")


async def password_token(client: httpx.AsyncClient, user: str, password: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            }
        }
    }
    response = await client.post("/identity/v3/auth/tokens", json=body)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


@pytest.fixture
async def admin_headers(sim: httpx.AsyncClient) -> dict[str, str]:
    """Headers of an admin token scoped to the admin project."""
    return {"X-Auth-Token": await password_token(sim, "admin", ADMIN_PASSWORD)}


@pytest.fixture
async def member_headers(sim: httpx.AsyncClient) -> dict[str, str]:
    """Headers of a non-admin (member) token, for 403 checks."""
    return {"X-Auth-Token": await password_token(sim, "member", MEMBER_PASSWORD)}
