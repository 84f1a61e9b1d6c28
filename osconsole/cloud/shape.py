"""What an answer must hold before anything is read from it.

A 200 whose `services` is null, or whose body is a string, is not "no services": it
is an answer we cannot read. Reading it with `or []` showed `services: 0 [complete]`
and no finding. These raise MalformedResponse instead, so the kind's poll fails (its
last items are kept, marked stale) and says why. (Paged listings are checked the same
way by RegionClient.pages.)
"""

from __future__ import annotations

from typing import Any

from osconsole.cloud.http import MalformedResponse, Reply


def listed(reply: Reply, service: str, path: str, key: str) -> list[Any]:
    """The list under `key` of a JSON object answer."""
    value = reply.body.get(key) if isinstance(reply.body, dict) else None
    if not isinstance(value, list):
        raise MalformedResponse(service, "GET", path, f"no {key!r} list in the answer")
    return value


def mapped(reply: Reply, service: str, path: str, key: str) -> dict[str, Any]:
    """The object under `key` of a JSON object answer."""
    value = reply.body.get(key) if isinstance(reply.body, dict) else None
    if not isinstance(value, dict):
        raise MalformedResponse(service, "GET", path, f"no {key!r} object in the answer")
    return value
