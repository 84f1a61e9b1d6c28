"""Placement calls: a compute node's inventories and usages (its id is the provider uuid)."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient


async def resource_providers(client: RegionClient) -> list[dict[str, Any]]:
    reply = await client.request("GET", "placement", "/resource_providers")
    return list((reply.body or {}).get("resource_providers") or [])


async def inventories(client: RegionClient, provider: str) -> dict[str, dict[str, Any]]:
    reply = await client.request("GET", "placement", f"/resource_providers/{provider}/inventories")
    return dict((reply.body or {}).get("inventories") or {})


async def usages(client: RegionClient, provider: str) -> dict[str, int]:
    reply = await client.request("GET", "placement", f"/resource_providers/{provider}/usages")
    return dict((reply.body or {}).get("usages") or {})
