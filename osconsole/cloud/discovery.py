"""Microversions negotiated per region from each service's version document.

Regions of one cloud are often upgraded at different times, so each region's client
asks its own services. We ask for the highest version we understand that the
service offers: Nova 2.88+ (usage then comes from Placement), Placement 1.38+
(usages by consumer type), Cinder 3.49+ (backend state). A region without Placement
in its catalog gets Nova below 2.88, where Nova itself reports usage.

Negotiation is a prerequisite of reading a service: the region client negotiates
(`RegionClient.version`, with `negotiate_service`) before a service's first read, and
again after the service was unreachable, so a region that failed at start, or came
back upgraded, is read at the right version, never silently at the base one.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from osconsole.cloud.http import ApiFailure, MalformedResponse, NotDeployed, RegionClient

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


# Where each service's version document is: the endpoint cut after this segment,
# and the id prefix of the version we speak.
DOCUMENTS = {"compute": ("v2.1", "v2.1"), "placement": ("", "v1"), "volume": ("v3", "v3")}
# Without Placement in the catalog, usage can only come from Nova: below 2.88.
WITHOUT_PLACEMENT = {"compute": "2.87"}


async def negotiate_service(client: RegionClient, service: str) -> str:
    """The highest microversion of `service` that both sides speak in this region.

    Raises NotDeployed when the catalog has no such service, and ApiFailure when the
    version document cannot be read or offers nothing we understand."""
    marker, prefix = DOCUMENTS[service]
    endpoint = await client.endpoint(service)
    url = _root(endpoint, marker) if marker else endpoint
    if service == "volume":
        url = url.rsplit("/v3", 1)[0] + "/"
    reply = await client.request("GET", service, url, absolute=True)
    found = _version_range(reply.body, prefix)
    ours = UNDERSTOOD[service]
    if service in WITHOUT_PLACEMENT and not await _deployed(client, "placement"):
        ours = WITHOUT_PLACEMENT[service]
    chosen = pick(*found, ours) if found else None
    if chosen is None:
        offered = f"{found[0]} to {found[1]}" if found else "no version range"
        raise MalformedResponse(
            service, "GET", url, f"no usable microversion (the service offers {offered})"
        )
    return chosen


async def _deployed(client: RegionClient, service: str) -> bool:
    try:
        await client.endpoint(service)
    except NotDeployed:
        return False
    return True


async def negotiate(client: RegionClient) -> list[str]:
    """Negotiate every service of the region at once (at connect time, so that the
    first polls and any action plan know the versions); notes for what failed. A
    service that failed is negotiated again before it is next read."""

    async def one(service: str) -> str | None:
        try:
            await client.version(service)
        except NotDeployed as exc:
            return f"{service}: {exc.reason}"
        except ApiFailure as exc:
            return f"{service}: version discovery failed ({exc.reason})"
        return None

    notes = await asyncio.gather(*(one(service) for service in DOCUMENTS))
    return [note for note in notes if note]
