"""Cinder calls: the volume services' liveness."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient


async def services(client: RegionClient) -> tuple[list[dict[str, Any]], float | None]:
    reply = await client.request("GET", "volume", "/os-services")
    return list((reply.body or {}).get("services") or []), reply.server_time
