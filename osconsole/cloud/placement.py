"""Placement calls: a compute node's inventories and usages (its id is the provider uuid)."""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import RegionClient
from osconsole.cloud.shape import listed, mapped


async def resource_providers(client: RegionClient) -> list[dict[str, Any]]:
    reply = await client.request("GET", "placement", "/resource_providers")
    return listed(reply, "placement", "/resource_providers", "resource_providers")


async def inventories(client: RegionClient, provider: str) -> dict[str, dict[str, Any]]:
    path = f"/resource_providers/{provider}/inventories"
    return mapped(await client.request("GET", "placement", path), "placement", path, "inventories")


async def usages(client: RegionClient, provider: str) -> dict[str, int]:
    path = f"/resource_providers/{provider}/usages"
    return mapped(await client.request("GET", "placement", path), "placement", path, "usages")
