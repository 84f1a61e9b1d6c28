"""Keystone calls: project names for the tenants pane."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from osconsole.cloud.http import MalformedResponse, RegionClient

PAGE = 1000
MAX_PAGES = 1000


def _v3_path(endpoint: str, path: str) -> str:
    """Catalogs list identity as `.../identity` or `.../identity/v3`; we want one /v3."""
    return path if not endpoint.rstrip("/").endswith("/v3") else path.removeprefix("/v3")


async def projects(client: RegionClient) -> list[dict[str, Any]]:
    """Every project, following Keystone's `links.next` when the server pages."""
    endpoint = await client.endpoint("identity")
    path = _v3_path(endpoint, "/v3/projects")
    params: dict[str, Any] = {"limit": PAGE}
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        reply = await client.request("GET", "identity", path, params=params)
        body = reply.body if isinstance(reply.body, dict) else {}
        page = body.get("projects")
        if not isinstance(page, list):
            raise MalformedResponse("identity", "GET", path, "no 'projects' list in the answer")
        found.extend(page)
        links = body.get("links")
        next_url = links.get("next") if isinstance(links, dict) else None
        marker = parse_qs(urlsplit(next_url).query).get("marker") if next_url else None
        if not marker or not page:
            return found
        params = {"limit": PAGE, "marker": marker[-1]}
    raise MalformedResponse("identity", "GET", path, f"more than {MAX_PAGES} pages")
