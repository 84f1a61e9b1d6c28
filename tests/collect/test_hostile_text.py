"""Text from the cloud is data: every string a parser takes from an API body comes out
cleaned (osconsole.clean), so no name, reason or id can drive the operator's terminal."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from osconsole.clean import UNSAFE
from osconsole.cloud import network
from osconsole.cloud.http import NotFound, RegionClient
from osconsole.collect import hypervisors, liveness, routers, tenants
from osconsole.collect.base import SweepBudget
from osconsole.config import Settings
from osconsole.sim.world import World

# Sets the terminal's title, clears the screen and moves the cursor; then bidi, BEL,
# a C1 CSI, a tab and a newline.
HOSTILE = "web[/]-\x1b]0;TITLE\x07\x1b[2J\x1b[5;1H\u202etxt.exe\x9b2J\tx\ny"
SHOWN = "web[/]-\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[5;1H\\u202etxt.exe\\x9b2J x y"


def strings(value: Any) -> Iterator[str]:
    """Every string inside a parsed value (dataclasses, named tuples, maps, sequences)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, tuple | list | set | frozenset):
        for item in value:
            yield from strings(item)


def assert_clean(value: Any) -> None:
    found = list(strings(value))
    assert found, "nothing parsed"
    for text in found:
        assert not UNSAFE.intersection(text), text


def hostile(*keys: str, **extra: Any) -> dict[str, Any]:
    return {key: f"{key}:{HOSTILE}" for key in keys} | extra


def test_hypervisor_fields_and_its_service_are_cleaned() -> None:
    body = hostile("id", "hypervisor_hostname", "state", "status", "host_ip", "hypervisor_type")
    service = hostile("id", "host", "disabled_reason")
    parsed = hypervisors.parse_hypervisor(body, service, None)
    assert_clean(parsed)
    assert parsed is not None
    assert parsed.hostname == f"hypervisor_hostname:{SHOWN}"
    assert parsed.disabled_reason == f"disabled_reason:{SHOWN}"
    embedded = hypervisors.parse_hypervisor(body | {"service": service}, None, None)
    assert_clean(embedded)


def test_service_and_agent_fields_are_cleaned() -> None:
    service = hostile("id", "binary", "host", "zone", "status", "state", "disabled_reason")
    parsed = liveness.parse_service(service, "nova", None)
    assert_clean(parsed)
    assert parsed is not None and parsed.disabled_reason == f"disabled_reason:{SHOWN}"
    cinder = liveness.parse_service(hostile("binary", "host"), "cinder", None)  # no id
    assert_clean(cinder)
    agent = hostile("id", "agent_type", "binary", "host", "availability_zone")
    assert_clean(liveness.parse_agent(agent, None))


def test_router_agent_binding_and_ha_port_fields_are_cleaned() -> None:
    router = routers.parse_router(hostile("id", "name", "project_id", "status"))
    assert_clean(router)
    assert router is not None and router.name == f"name:{SHOWN}"
    assert_clean(routers.parse_agent(hostile("id", "host")))
    binding = routers.parse_binding(hostile("id", "host", "ha_state"))
    assert_clean(binding)
    ports = [hostile("device_id", "binding:host_id")]
    hosts = routers.replica_hosts(ports)
    assert_clean(hosts)
    # An id is cleaned the same way wherever it appears, so the listings still join.
    same = routers.parse_router({"id": HOSTILE})
    assert same is not None and same.id in routers.replica_hosts([{"device_id": HOSTILE}])


def test_tenant_records_and_quota_resources_are_cleaned() -> None:
    assert_clean(tenants.parse_server(hostile("id", "tenant_id", "status")))
    task = hostile("id", "tenant_id", "OS-EXT-STS:task_state")
    assert_clean(tenants.parse_server(task))
    assert_clean(tenants.parse_port(hostile("id", "project_id")))
    assert_clean(tenants.parse_rule(hostile("id", "project_id")))
    assert_clean(tenants.parse_fip(hostile("id", "project_id")))
    assert_clean(tenants.parse_quota({HOSTILE: {"used": 1, "limit": 10}}))


# -- through the simulator: JSON-escaped on the wire, decoded, then cleaned ----------------


def _poll(cls: type, client: RegionClient) -> Any:
    return cls(client, Settings(), SweepBudget(None)).poll(None)


async def test_a_tenant_named_router_arrives_clean(world: World, region_one: RegionClient) -> None:
    region = world.regions["RegionOne"]
    router = next(iter(region.routers))
    router.name = HOSTILE
    snap = await _poll(routers.RouterCollector, region_one)
    assert snap.items[router.id].name == SHOWN
    assert_clean(snap.items)


async def test_a_project_name_from_keystone_arrives_clean(
    world: World, region_one: RegionClient
) -> None:
    owner = next(iter(world.regions["RegionOne"].servers)).project_id
    project = next(p for p in world.projects if p.id == owner)
    project.name = HOSTILE
    snap = await _poll(tenants.TenantCollector, region_one)
    names = {s.project_id: s.project_name for s in snap.items.values()}
    assert names[project.id] == SHOWN
    assert_clean(snap.items)


async def test_a_disabled_reason_arrives_clean_in_hypervisors_and_services(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    hv = next(iter(region.hypervisors))
    hv.service.disabled = True
    hv.service.disabled_reason = HOSTILE
    hypervisor = (await _poll(hypervisors.HypervisorCollector, region_one)).items[hv.id]
    assert hypervisor.disabled_reason == SHOWN
    services = await _poll(liveness.ServiceCollector, region_one)
    assert services.items[f"nova:{hv.service.id}"].disabled_reason == SHOWN
    assert_clean(services.items)


async def test_a_server_error_message_is_cleaned(region_one: RegionClient) -> None:
    """Neutron echoes the router id it could not find: its message is API text too."""
    with pytest.raises(NotFound) as caught:
        await network.router_l3_agents(region_one, "r%1B]0;TITLE%07")  # decoded by the API
    assert "r\\x1b]0;TITLE\\x07 could not be found" in caught.value.reason
    assert not UNSAFE.intersection(caught.value.reason)
