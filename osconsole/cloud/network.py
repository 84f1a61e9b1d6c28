"""Neutron calls: agents, routers and their L3 agents, ports, rules, floating IPs, quotas."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient
from osconsole.cloud.shape import listed, mapped

PAGE = 1000
HA_PORT_OWNER = "network:router_ha_interface"


async def _listing(
    client: RegionClient, path: str, key: str, params: dict[str, Any]
) -> tuple[list[dict[str, Any]], float | None]:
    """A Neutron collection, paged: without `limit` Neutron returns everything at once."""
    return await client.collect("network", path, key, {"limit": PAGE, **params})


async def agents(
    client: RegionClient, *, agent_type: str | None = None, fields: list[str] | None = None
) -> tuple[list[dict[str, Any]], float | None]:
    params: dict[str, Any] = {}
    if agent_type:
        params["agent_type"] = agent_type
    if fields:
        params["fields"] = fields
    return await _listing(client, "/v2.0/agents", "agents", params)


async def routers(
    client: RegionClient, *, fields: list[str] | None = None, changed_since: str | None = None
) -> tuple[list[dict[str, Any]], float | None]:
    params: dict[str, Any] = {}
    if fields:
        params["fields"] = fields
    if changed_since:
        params["changed_since"] = changed_since
    return await _listing(client, "/v2.0/routers", "routers", params)


async def router_l3_agents(
    client: RegionClient, router_id: str
) -> tuple[list[dict[str, Any]], float | None]:
    """The agents hosting one router, with `ha_state`: the only place it appears."""
    path = f"/v2.0/routers/{router_id}/l3-agents"
    reply = await client.request("GET", "network", path)
    return listed(reply, "network", path, "agents"), reply.server_time


async def agent_l3_routers(
    client: RegionClient, agent_id: str
) -> tuple[list[dict[str, Any]], float | None]:
    """The routers one L3 agent hosts (no ha_state here; not paged)."""
    path = f"/v2.0/agents/{agent_id}/l3-routers"
    reply = await client.request("GET", "network", path)
    return listed(reply, "network", path, "routers"), reply.server_time


async def ha_ports(client: RegionClient) -> tuple[list[dict[str, Any]], float | None]:
    """Every router's HA replicas and their hosts, in one paged listing."""
    fields = ["id", "device_id", "binding:host_id", "status"]
    return await _listing(
        client, "/v2.0/ports", "ports", {"device_owner": HA_PORT_OWNER, "fields": fields}
    )


async def ports(
    client: RegionClient,
    *,
    fields: list[str] | None = None,
    changed_since: str | None = None,
    **filters: Any,
) -> tuple[list[dict[str, Any]], float | None]:
    params: dict[str, Any] = dict(filters)
    if fields:
        params["fields"] = fields
    if changed_since:
        params["changed_since"] = changed_since
    return await _listing(client, "/v2.0/ports", "ports", params)


async def security_group_rules(
    client: RegionClient, **filters: Any
) -> tuple[list[dict[str, Any]], float | None]:
    return await _listing(client, "/v2.0/security-group-rules", "security_group_rules", filters)


async def floating_ips(
    client: RegionClient,
    *,
    changed_since: str | None = None,
    fields: list[str] | None = None,
    **filters: Any,
) -> tuple[list[dict[str, Any]], float | None]:
    """Floating IPs; `filters` are Neutron's equality filters (e.g. project_id=...)."""
    params: dict[str, Any] = dict(filters)
    if fields:
        params["fields"] = fields
    if changed_since:
        params["changed_since"] = changed_since
    return await _listing(client, "/v2.0/floatingips", "floatingips", params)


async def quota_details(client: RegionClient, project_id: str) -> dict[str, Any]:
    """{resource: {used, limit, reserved}} for one project (one call per project)."""
    path = f"/v2.0/quotas/{project_id}/details"
    return mapped(await client.request("GET", "network", path), "network", path, "quota")


# -- actions: the exact calls, built without sending (a confirmation shows them first) --

ApiCall = tuple[str, str, Any]  # method, path (relative to the endpoint), JSON body


def agent_admin_state_call(agent_id: str, up: bool) -> ApiCall:
    """PUT /v2.0/agents/{id}: an admin-down agent gets no new routers/networks scheduled."""
    return "PUT", f"/v2.0/agents/{agent_id}", {"agent": {"admin_state_up": up}}


def add_router_to_agent_call(agent_id: str, router_id: str) -> ApiCall:
    """POST /v2.0/agents/{id}/l3-routers: one more replica of the router on that agent."""
    return "POST", f"/v2.0/agents/{agent_id}/l3-routers", {"router_id": router_id}


def remove_router_from_agent_call(agent_id: str, router_id: str) -> ApiCall:
    """DELETE /v2.0/agents/{id}/l3-routers/{router}: that agent's replica goes away."""
    return "DELETE", f"/v2.0/agents/{agent_id}/l3-routers/{router_id}", None
