"""Microversions negotiated per region from each service's version document.

Regions of one cloud are often upgraded at different times, so each region's client
asks its own services. We ask for the highest version we understand that the
service offers: Nova 2.88+ (usage then comes from Placement), Placement 1.38+
(usages by consumer type), Cinder 3.49+ (backend state).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from osconsole.cloud.http import ApiFailure, RegionClient

# The highest microversion whose shapes our parsers know.
UNDERSTOOD = {"compute": "2.100", "placement": "1.39", "volume": "3.71"}


def _as_tuple(text: str) -> tuple[int, int]:
    major, minor = str(text).split(".")
    return int(major), int(minor)


def pick(server_min: str, server_max: str, ours: str) -> str | None:
    """The highest version both sides speak, or None when the ranges do not meet."""
    try:
        low, high, mine = _as_tuple(server_min), _as_tuple(server_max), _as_tuple(ours)
    except ValueError:
        return None
    best = min(high, mine)
    return None if best < low else f"{best[0]}.{best[1]}"


def _version_range(body: Any, version_id_prefix: str) -> tuple[str, str] | None:
    """(min, max) from a single `version` document or a `versions` list."""
    docs: list[dict[str, Any]] = []
    if isinstance(body, dict):
        if isinstance(body.get("version"), dict):
            docs = [body["version"]]
        elif isinstance(body.get("versions"), list):
            docs = [d for d in body["versions"] if isinstance(d, dict)]
        elif isinstance(body.get("versions"), dict):  # Keystone's {"values": [...]}
            docs = list(body["versions"].get("values", []))
    for doc in docs:
        if not str(doc.get("id", "")).startswith(version_id_prefix):
            continue
        high = doc.get("max_version") or doc.get("version")
        low = doc.get("min_version")
        if high and low:
            return str(low), str(high)
    return None


def _root(url: str, marker: str) -> str:
    """`url` cut just after its version segment (drops a trailing project id)."""
    match = re.search(rf"^(.*?/{re.escape(marker)})(/|$)", url)
    return match.group(1) if match else url


async def _negotiate_one(
    client: RegionClient, service: str, marker: str, prefix: str
) -> str | None:
    """Set one service's microversion; a note when it could not be had."""
    try:
        endpoint = await client.endpoint(service)
        url = _root(endpoint, marker) if marker else endpoint
        if service == "volume":
            url = url.rsplit("/v3", 1)[0] + "/"
        reply = await client.request("GET", service, url, absolute=True)
    except ApiFailure as exc:
        return f"{service}: version discovery failed ({exc.reason})"
    found = _version_range(reply.body, prefix)
    chosen = pick(*found, UNDERSTOOD[service]) if found else None
    if chosen is None:
        return f"{service}: no usable microversion in {found}"
    client.microversions[service] = chosen
    return None


async def negotiate(client: RegionClient) -> list[str]:
    """Set the region client's microversions (all services at once); notes on failures."""
    plan = [("compute", "v2.1", "v2.1"), ("placement", "", "v1"), ("volume", "v3", "v3")]
    notes = await asyncio.gather(*(_negotiate_one(client, *step) for step in plan))
    return [note for note in notes if note]
