"""Wrongly shaped answers from the simulator: what a broken API or proxy sends with a 200.

The simulator serves correct bodies and faults (errors, hangs, malformed JSON); a body
that is valid JSON of the wrong shape (`"services": null`, items without ids) is made
here, in the test, by rewriting the answers of chosen paths on their way back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

Change = Callable[[Any], Any]


class Reshape(httpx.AsyncBaseTransport):
    """Forwards every request to `inner`; a 200 whose path ends with one of `rules`'
    suffixes (and contains `/{region}/` when a region is given) has its JSON body
    replaced by `rules[suffix](body)`. Headers (the Date header) are kept."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, rules: dict[str, Change], region: str | None = None
    ) -> None:
        self.inner = inner
        self.rules = rules
        self.region = region
        self.rewritten = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        path = request.url.path
        if response.status_code != 200 or (self.region and f"/{self.region}/" not in path):
            return response
        change = next((c for suffix, c in self.rules.items() if path.endswith(suffix)), None)
        if change is None:
            return response
        body = json.loads(await response.aread())
        self.rewritten += 1
        headers = [
            (k, v)
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-encoding")
        ]
        content = json.dumps(change(body)).encode()
        return httpx.Response(response.status_code, headers=headers, content=content)


def set_key(key: str, value: Any) -> Change:
    """The answer with `key` set to `value` (e.g. `"services": null`)."""
    return lambda body: {**body, key: value}


def drop_first_id(key: str) -> Change:
    """The answer with the first item of the list `key` stripped of its `id`."""

    def change(body: Any) -> Any:
        items = [dict(item) for item in body[key]]
        items[0].pop("id", None)
        return {**body, key: items}

    return change
