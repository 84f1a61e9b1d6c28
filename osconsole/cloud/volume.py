"""Cinder calls: the volume services' liveness."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient
from osconsole.cloud.shape import listed


async def services(client: RegionClient) -> tuple[list[dict[str, Any]], float | None]:
    reply = await client.request("GET", "volume", "/os-services")
    return listed(reply, "volume", "/os-services", "services"), reply.server_time
