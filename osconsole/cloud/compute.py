"""Nova calls: hypervisors, services, servers, quota usage, and the actions on them."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient
from osconsole.cloud.shape import listed, mapped

PAGE = 1000  # Nova's default max_limit: asking for more gains nothing


def at_least(client: RegionClient, version: str) -> bool:
    """Whether the compute microversion this poll reads at (`await client.version(
    "compute")` first) is at least `version`."""
    current = client.current_version("compute") or "2.1"
    major, minor = (int(p) for p in current.split("."))
    want_major, want_minor = (int(p) for p in version.split("."))
    return (major, minor) >= (want_major, want_minor)


async def hypervisors(
    client: RegionClient, *, detail: bool = False, with_servers: bool = False
) -> tuple[list[dict[str, Any]], float | None]:
    """Every hypervisor. The list call where detail is not needed: at 2.88+ detail asks
    every host for its uptime and hangs while a compute host is dying."""
    path = "/os-hypervisors/detail" if detail else "/os-hypervisors"
    params: dict[str, Any] = {}
    if at_least(client, "2.33"):
        params["limit"] = PAGE
    if with_servers and at_least(client, "2.53"):
        params["with_servers"] = "true"
    return await client.collect("compute", path, "hypervisors", params or None)


async def services(
    client: RegionClient, *, binary: str | None = None
) -> tuple[list[dict[str, Any]], float | None]:
    """Every Nova service row (not paged)."""
    params = {"binary": binary} if binary else None
    reply = await client.request("GET", "compute", "/os-services", params=params)
    return listed(reply, "compute", "/os-services", "services"), reply.server_time


async def servers(
    client: RegionClient,
    *,
    changes_since: str | None = None,
    **filters: Any,
) -> tuple[list[dict[str, Any]], float | None]:
    """Servers of every project; with `changes_since`, deleted ones are included too."""
    params: dict[str, Any] = {"all_tenants": 1, "limit": PAGE, **filters}
    if changes_since:
        params["changes-since"] = changes_since
    return await client.collect("compute", "/servers/detail", "servers", params)


async def quota_usage(client: RegionClient, project_id: str) -> dict[str, Any]:
    """One project's quota set with usage: {resource: {in_use, limit, reserved}} (limit
    -1 is unlimited) and its `id`. One call per project."""
    path = f"/os-quota-sets/{project_id}/detail"
    reply = await client.request("GET", "compute", path)
    return mapped(reply, "compute", path, "quota_set")


# -- actions: the exact calls, built without sending (a confirmation shows them first) --

ApiCall = tuple[str, str, Any]  # method, path (relative to the endpoint), JSON body


def version_at_least(current: str | None, version: str) -> bool:
    """`current` (a negotiated microversion; None means 2.1) is at least `version`."""
    have = tuple(int(p) for p in (current or "2.1").split("."))
    want = tuple(int(p) for p in version.split("."))
    return have >= want


def service_status_call(
    microversion: str | None,
    *,
    service_id: str,
    host: str,
    binary: str,
    disabled: bool,
    reason: str | None = None,
) -> ApiCall:
    """Enable or disable a compute service. From 2.53 the service is named by its uuid
    (PUT /os-services/{id}); before, by host and binary with the action in the path."""
    if version_at_least(microversion, "2.53"):
        body: dict[str, Any] = {"status": "disabled" if disabled else "enabled"}
        if disabled and reason:
            body["disabled_reason"] = reason
        return "PUT", f"/os-services/{service_id}", body
    legacy: dict[str, Any] = {"host": host, "binary": binary}
    if not disabled:
        return "PUT", "/os-services/enable", legacy
    if reason:
        return "PUT", "/os-services/disable-log-reason", {**legacy, "disabled_reason": reason}
    return "PUT", "/os-services/disable", legacy


def forced_down_call(
    microversion: str | None, *, service_id: str, host: str, binary: str, forced: bool
) -> ApiCall | None:
    """Mark a compute service forced down (or not): Nova then treats the host as down
    at once, without waiting for its heartbeat to age, so its servers can be evacuated.
    2.53+: PUT /os-services/{id}; 2.11-2.52: PUT /os-services/force-down by host and
    binary; None before 2.11, where Nova has no such call."""
    if version_at_least(microversion, "2.53"):
        return "PUT", f"/os-services/{service_id}", {"forced_down": forced}
    if version_at_least(microversion, "2.11"):
        body = {"host": host, "binary": binary, "forced_down": forced}
        return "PUT", "/os-services/force-down", body
    return None


def server_action_call(server_id: str, action: str, value: Any = None) -> ApiCall:
    """POST /servers/{id}/action with a one-key body ({"pause": null} ...)."""
    return "POST", f"/servers/{server_id}/action", {action: value}


def lock_call(microversion: str | None, server_id: str, reason: str | None) -> ApiCall:
    """Lock a server; the reason is part of the request from 2.73 only."""
    if reason and version_at_least(microversion, "2.73"):
        return server_action_call(server_id, "lock", {"locked_reason": reason})
    return server_action_call(server_id, "lock")
