"""Faults that a proxy in front of an API, or a broken API, produces: what the
app's middleware (sim/app.py) applies on top of latency, errors and hangs.

Each exists because osconsole met it: rate limits and maintenance answers with
`Retry-After`, an HTML error page from a load balancer, a body cut off mid-stream,
a 200 whose JSON has the wrong shape, a refused connection, a Keystone that hangs.

Connection-level faults must look to the client as they would over a socket. Over a
socket (`SimServer`) the connection is really closed, mid-body or before any answer
(serve.py). In process there is no connection to close: the app raises the very
httpx error a client gets over a socket, which `httpx.ASGITransport` hands to the
caller as a transport would; for a body cut off mid-stream, the simulator's own
`SimTransport` (transport.py) hands over the answer begun, and the error when its
body is read, as a socket does.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import httpx
from starlette.types import Message, Receive, Scope

from osconsole.sim.world import Faults

# Wrongly shaped answers: the choices of the `shape` fault and what each does.
SHAPES = {
    "null": "the collection is null",
    "dict": "the collection is a dict where a list belongs (a list where a dict belongs)",
    "no_ids": "the collection's items have no id",
}
HTML_STATUS = 502
HTML_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
DROP = "osconsole.sim.drop"  # scope key: the server must close this connection as it is
CUT = "osconsole.sim.cut"  # scope key: ... and it is mid-body (the answer had begun)
HANG_POLL = 0.05  # seconds between looks at a `hang` fault that may have been cleared
_DEFAULTS = Faults()


def effective(region: Faults, service: Faults | None) -> Faults:
    """The faults one request meets: the region's, with every field the service's own
    faults set (away from its default) taking precedence."""
    if service is None:
        return region
    changed = {
        f.name: getattr(service, f.name)
        for f in fields(Faults)
        if getattr(service, f.name) != getattr(_DEFAULTS, f.name)
    }
    return replace(region, **changed) if changed else region


def retry_after_header(seconds: float) -> list[tuple[bytes, bytes]]:
    """`Retry-After` in whole seconds, as services and proxies send it (none for 0)."""
    if seconds <= 0:
        return []
    return [(b"retry-after", str(math.ceil(seconds)).encode())]


def refused(scope: Scope) -> httpx.ConnectError:
    """The error of a refused connection; marks the scope so a socket server closes
    the connection without answering (serve.py)."""
    scope[DROP] = True
    return httpx.ConnectError("[Errno 111] Connection refused")


def cut_short(scope: Scope, received: int, expected: int) -> httpx.RemoteProtocolError:
    """The error of a body cut off after `received` of `expected` bytes (httpx's words
    over a socket); marks the scope so a socket server drops the connection there."""
    scope[DROP] = scope[CUT] = True
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body "
        f"(received {received} bytes, expected {expected})"
    )


async def hold(still_hanging: Callable[[], bool], receive: Receive) -> Receive | None:
    """Wait while `still_hanging()`; None if the client left meanwhile, else a receive
    that hands the request body (read here, to notice a disconnect) to the app."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    if messages[-1]["type"] == "http.disconnect":
        return None
    gone = asyncio.ensure_future(receive())
    try:
        while still_hanging() and not gone.done():
            await asyncio.sleep(HANG_POLL)
    finally:
        if not gone.done():
            gone.cancel()
    if gone.done() and not gone.cancelled() and gone.result()["type"] == "http.disconnect":
        return None

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replay


def reshape(body: bytes, shape: str) -> bytes:
    """A JSON body with its collection wrongly shaped (see SHAPES); other bodies as
    they are. The collection is the first list at the top level (paging links aside),
    else the first object: `{"hypervisors": [...]}`, `{"inventories": {...}}`."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict):
        return body
    key = _collection_key(document)
    if key is None:
        return body
    value = document[key]
    if shape == "null":
        document[key] = None
    elif shape == "dict":
        if isinstance(value, list):
            document[key] = {str(index): item for index, item in enumerate(value)}
        else:
            document[key] = list(value.values())
    elif shape == "no_ids":
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                item.pop("id", None)
                item.pop("uuid", None)
    return json.dumps(document, separators=(",", ":")).encode()


def _collection_key(document: dict[str, Any]) -> str | None:
    keys = [k for k in document if not k.endswith("links")]
    for key in keys:
        if isinstance(document[key], list):
            return key
    for key in keys:
        if isinstance(document[key], dict):
            return key
    return None
