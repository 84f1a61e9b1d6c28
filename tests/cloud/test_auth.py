"""CloudAuth: clouds.yaml through openstacksdk, keystoneauth in a thread, refresh and re-auth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from osconsole.cloud.auth import AuthError, CloudAuth, load_cloud
from osconsole.sim.world import World
from tests.support.bridge import bridged_config


@pytest.fixture
async def config(world: World, sim: httpx.AsyncClient, tmp_path: Path):  # type: ignore[no-untyped-def]
    return bridged_config(world, sim, tmp_path)


def _issued(world: World) -> int:
    return sum(1 for r in world.requests if r.method == "POST" and r.path.endswith("/tokens"))


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
