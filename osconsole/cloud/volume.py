"""Cinder calls: the volume services' liveness, quota usage."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient
from osconsole.cloud.shape import listed, mapped


async def services(client: RegionClient) -> tuple[list[dict[str, Any]], float | None]:
    reply = await client.request("GET", "volume", "/os-services")
    return listed(reply, "volume", "/os-services", "services"), reply.server_time


async def quota_usage(client: RegionClient, project_id: str) -> dict[str, Any]:
    """One project's quota set with usage: {resource: {in_use, limit, reserved,
    allocated}} (limit -1 is unlimited) and its `id`. The URL is under the endpoint's
    own project (the caller's), the project asked about comes last."""
    path = f"/os-quota-sets/{project_id}"
    reply = await client.request("GET", "volume", path, params={"usage": "true"})
    return mapped(reply, "volume", path, "quota_set")
