"""Nova calls: hypervisors, services, servers (and, later, the actions on them)."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient

PAGE = 1000  # Nova's default max_limit: asking for more gains nothing


def at_least(client: RegionClient, version: str) -> bool:
    """Whether the negotiated compute microversion is at least `version`."""
    current = client.microversions.get("compute", "2.1")
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
    return list((reply.body or {}).get("services") or []), reply.server_time


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
