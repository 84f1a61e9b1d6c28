"""CloudAuth: clouds.yaml through openstacksdk, keystoneauth in a thread, refresh and re-auth."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.cloud.auth import AuthError, CloudAuth, load_cloud
from osconsole.cloud.connect import Connection, connect
from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind
from osconsole.poller import Poller
from osconsole.sim.world import World
from osconsole.snapshot import take_snapshot
from tests.support.bridge import bridged_config


@pytest.fixture
async def config(world: World, sim: httpx.AsyncClient, tmp_path: Path):  # type: ignore[no-untyped-def]
    return bridged_config(world, sim, tmp_path)


def _issued(world: World) -> int:
    return sum(1 for r in world.requests if r.method == "POST" and r.path.endswith("/tokens"))


async def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Let the loop (and keystoneauth's thread) run until `predicate()` holds."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_token_is_reused_until_it_nears_expiry_then_renewed(world: World, config) -> None:  # type: ignore[no-untyped-def]
    world.token_ttl = 40.0  # refresh margin: a quarter of the life, 10 s
    # Keystone's clock here is the simulator's: the test's own clock starts from it.
    now = {"t": datetime.fromtimestamp(world.now(), UTC)}
    cloud, regions = load_cloud("osconsole-sim", openstack_config=config)
    assert regions == list(world.regions)
    auth = CloudAuth("osconsole-sim", cloud, clock=lambda: now["t"])
    first = await auth.access()
    assert (await auth.access()).token == first.token
    assert _issued(world) == 1
    now["t"] = first.expires_at - timedelta(seconds=11)
    assert (await auth.access()).token == first.token
    now["t"] = first.expires_at - timedelta(seconds=9)
    assert (await auth.access()).token == first.token  # used while it is renewed
    await until(lambda: not auth.renewing)
    renewed = await auth.access()
    assert renewed.token != first.token
    assert _issued(world) == 2


async def test_reauthenticate_after_a_401_happens_once_for_many_callers(
    world: World, config
) -> None:  # type: ignore[no-untyped-def]
    cloud, _ = load_cloud("osconsole-sim", openstack_config=config)
    auth = CloudAuth("osconsole-sim", cloud)
    first = await auth.access()
    again = [await auth.reauthenticate(first.token) for _ in range(3)]
    assert len({a.token for a in again}) == 1 and again[0].token != first.token
    assert _issued(world) == 2


async def test_access_knows_user_roles_catalog_and_get_only_rules(world: World, config) -> None:  # type: ignore[no-untyped-def]
    cloud, _ = load_cloud("osconsole-sim-readonly", openstack_config=config)
    access = await CloudAuth("ro", cloud).access()
    assert access.get_only
    assert "admin" in access.roles and access.user_name == "admin"
    endpoint = access.endpoint("compute", "RegionTwo", "public")
    assert endpoint is not None and endpoint.endswith("/RegionTwo/compute/v2.1")
    assert access.token not in repr(access)
    full = await CloudAuth("rw", load_cloud("osconsole-sim", openstack_config=config)[0]).access()
    assert not full.get_only


async def test_bad_credentials_and_unknown_clouds_are_clear_errors(world: World, config) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthError, match="cloud 'nope'"):
        load_cloud("nope", openstack_config=config)
    world.users["admin"].password = "changed"
    cloud, _ = load_cloud("osconsole-sim", openstack_config=config)
    with pytest.raises(AuthError) as caught:
        await CloudAuth("osconsole-sim", cloud).access()
    assert "refused" in str(caught.value) or "401" in str(caught.value)
    assert "osconsole-sim-admin" not in str(caught.value)  # never a password in a message


# -- Keystone hangs: every identity call is bounded, and polls go on with a valid token ----

HANG_BOUND = 1.0  # the auth timeout of these tests (seconds); Keystone hangs for 120


async def test_a_poll_during_the_renewal_window_is_not_held_by_a_hung_keystone(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    connection = await connect(
        Settings(clouds=[CloudSettings(name="osconsole-sim")], request_timeout=HANG_BOUND),
        openstack_config=bridged_config(world, sim, tmp_path),
        transport=httpx.ASGITransport(app=sim_app),
    )
    try:
        await renewal_window_checks(world, connection)
    finally:
        await connection.aclose()


async def renewal_window_checks(world: World, connection: Connection) -> None:
    session = connection.regions[0]
    auth = session.auth
    first = await auth.access()
    now = {"t": first.expires_at - timedelta(seconds=60)}  # inside the renewal margin
    auth.clock = lambda: now["t"]
    world.identity_faults.update(unreachable=True)
    poller = Poller([session], Settings(), kinds=[Kind.AGENTS], clock=lambda: 0.0)

    # On the old code this poll waited for the hung token request behind a lock.
    snapshot = await asyncio.wait_for(poller.poll((session.ref, Kind.AGENTS)), 5)
    assert snapshot.error is None and snapshot.items
    assert auth.renewing  # the renewal is still hanging in the background
    assert auth.auth_error is None  # not failed yet: it has not timed out

    await until(lambda: not auth.renewing)  # it gives up after HANG_BOUND
    assert auth.auth_error == "cloud 'osconsole-sim': Keystone did not answer within 1s"
    assert auth.auth_failing_since == now["t"]
    again = await asyncio.wait_for(poller.poll((session.ref, Kind.AGENTS)), 5)
    assert again.error is None and not auth.renewing  # the old token, no retry storm

    now["t"] += timedelta(seconds=11)  # time to try again: still failing, still since then
    await auth.access()
    await until(lambda: not auth.renewing)
    assert auth.auth_error and auth.auth_failing_since == first.expires_at - timedelta(seconds=60)

    world.identity_faults.update(unreachable=False)
    now["t"] += timedelta(seconds=11)
    assert (await auth.access()).token == first.token  # starts the renewal, still serves
    await until(lambda: not auth.renewing)
    assert auth.auth_error is None and auth.auth_failing_since is None
    assert (await auth.access()).token != first.token


async def test_concurrent_callers_share_one_renewal(world: World, config) -> None:  # type: ignore[no-untyped-def]
    cloud, _ = load_cloud("osconsole-sim", openstack_config=config)
    auth = CloudAuth("osconsole-sim", cloud)
    first = await auth.access()
    world.clock.step(world.token_ttl + 1)  # Keystone's time moves on with ours
    auth.clock = lambda: first.expires_at + timedelta(seconds=1)  # expired: all must wait
    accesses = await asyncio.gather(*(auth.access() for _ in range(8)))
    assert len({a.token for a in accesses}) == 1 and accesses[0].token != first.token
    assert _issued(world) == 2


async def test_an_expired_token_and_a_hung_keystone_fail_within_the_timeout(
    world: World, config
) -> None:  # type: ignore[no-untyped-def]
    cloud, _ = load_cloud("osconsole-sim", openstack_config=config)
    auth = CloudAuth("osconsole-sim", cloud, timeout=HANG_BOUND)
    world.identity_faults.update(unreachable=True)
    callers = [auth.access() for _ in range(3)]
    results = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), 5)
    assert all(isinstance(r, AuthError) for r in results)
    assert str(results[0]) == "cloud 'osconsole-sim': Keystone did not answer within 1s"
    assert auth.auth_error == str(results[0])


async def test_snapshot_ends_within_the_timeout_when_keystone_hangs_at_start(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    world.identity_faults.update(unreachable=True)
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")], request_timeout=HANG_BOUND)
    outcome = await asyncio.wait_for(
        take_snapshot(
            settings,
            kinds=[Kind.AGENTS],
            openstack_config=bridged_config(world, sim, tmp_path),
            transport=httpx.ASGITransport(app=sim_app),
        ),
        5,  # the old code waited for Keystone: 120 s here, 200 s in the field
    )
    assert outcome.exit_code == 2
    assert outcome.problems == ["cloud 'osconsole-sim': Keystone did not answer within 1s"], (
        outcome.problems
    )
