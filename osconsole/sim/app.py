"""The simulated cloud as one ASGI app: Keystone, and per region Nova, Neutron,
Placement and Cinder, plus the `/_sim/` control API.

URL layout (one listener for everything, regions by path prefix):
    /identity/...                Keystone v3, shared by all regions
    /{region}/compute/v2.1/...   Nova          /{region}/network/v2.0/...  Neutron
    /{region}/placement/...      Placement     /{region}/volume/v3/...     Cinder
    /{region}/rabbitmq/api/...   RabbitMQ's management API (sim/backing.py)
    /_sim/...                    control API (loopback clients only)

Faults are applied here, around every service route, so that each service module
only has to be correct: a region's faults, and on top of them a service's own
(`/_sim/faults/{region}/{service}`); sim/faults.py says what each does.
"""

from __future__ import annotations

import asyncio
import ipaddress
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from osconsole.sim import backing, cinder, control, keystone, neutron, nova, placement
from osconsole.sim.common import HTTP_TITLES, ApiError, Ctx, error_body, json_response
from osconsole.sim.faults import (
    HTML_PAGE,
    HTML_STATUS,
    cut_short,
    effective,
    hold,
    refused,
    reshape,
    retry_after_header,
)
from osconsole.sim.world import SERVICES, Faults, World

RABBITMQ = "rabbitmq"  # not an OpenStack service: the region's faults, none of its own


def create_app(world: World) -> Starlette:
    """The ASGI app serving `world`; usable with uvicorn or httpx.ASGITransport."""
    routes = [
        Route("/identity", keystone.versions, methods=["GET"]),
        Mount("/identity", routes=keystone.routes()),
        Mount("/_sim", routes=control.routes()),
        # Service roots without a trailing slash answer directly, as the services do.
        Route("/{region}/compute", nova.versions, methods=["GET"]),
        Route("/{region}/network", neutron.versions, methods=["GET"]),
        Route("/{region}/placement", placement.root, methods=["GET"]),
        Route("/{region}/volume", cinder.versions, methods=["GET"]),
        Mount("/{region}/compute", routes=nova.routes()),
        Mount("/{region}/network", routes=neutron.routes()),
        Mount("/{region}/placement", routes=placement.routes()),
        Mount("/{region}/volume", routes=cinder.routes()),
        Mount("/{region}/rabbitmq", routes=backing.rabbitmq_routes()),
    ]
    handlers = {ApiError: _api_error, HTTPException: _http_error}
    app = Starlette(routes=routes, exception_handlers=handlers)  # type: ignore[arg-type]
    app.state.world = world
    return FaultsAndLog(app, world)  # type: ignore[return-value]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    service = request.scope.get("osconsole.service", "identity")
    return json_response(error_body(service, exc.status, exc.message), status=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in the service's own error shape."""
    assert isinstance(exc, HTTPException)
    service = request.scope.get("osconsole.service", "identity")
    message = "The resource could not be found." if exc.status_code == 404 else str(exc.detail)
    return json_response(error_body(service, exc.status_code, message), status=exc.status_code)


def _split(path: str) -> tuple[str | None, str]:
    """(region, service) for a path; region None for identity and the control API."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None, "root"
    if parts[0] in ("identity", "_sim"):
        return None, parts[0].lstrip("_")
    service = parts[1] if len(parts) > 1 else ""
    return parts[0], service


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class FaultsAndLog:
    """ASGI middleware: resolves the region, injects its faults and logs the request."""

    def __init__(self, app: ASGIApp, world: World) -> None:
        self.app = app
        self.world = world
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        world = self.world
        now = world.tick()
        region_name, service = _split(scope["path"])
        scope["osconsole.service"] = service
        client = scope.get("client")
        base_url = _base_url(scope)
        region = world.region(region_name) if region_name else None
        ctx = Ctx(world=world, region=region, token=None, now=now, base_url=base_url)
        scope.setdefault("state", {})["ctx"] = ctx

        if service == "sim":
            if not is_loopback(client[0] if client else None):
                await _send_json(send, 403, {"error": "the control API answers loopback only"})
                return
            await self.app(scope, receive, send)
            return
        if service == "root":
            await _send_json(send, 200, {"osconsole-sim": {"regions": list(world.regions)}})
            return
        if region_name is not None and (region is None or service not in (*SERVICES, RABBITMQ)):
            status = 404
            body = error_body("identity", 404, f"No service at {scope['path']}")
            await _send_json(send, status, body)
            world.log_request(scope["method"], scope["path"], region_name, service, status)
            return

        own = region.faults if region is not None else world.identity_faults
        of_service = region.service_faults.get(service) if region is not None else None
        status_box: dict[str, Any] = {"status": 0}
        try:
            await self._with_faults(own, of_service, scope, receive, send, status_box, service)
        finally:
            world.log_request(
                scope["method"],
                scope["path"],
                region_name,
                service,
                status_box["status"] or 499,
                scope.get("query_string", b"").decode("latin-1"),
            )

    async def _with_faults(
        self,
        own: Faults,
        of_service: Faults | None,
        scope: Scope,
        receive: Receive,
        send: Send,
        status_box: dict[str, Any],
        service: str,
    ) -> None:
        rng = self.world.rng
        faults = effective(own, of_service)
        if faults.refuse:
            raise refused(scope)
        if faults.hang:
            held = await hold(lambda: effective(own, of_service).hang, receive)
            if held is None:
                return  # the client gave up
            receive = held
        if faults.unreachable or (faults.timeout_rate and rng.random() < faults.timeout_rate):
            await asyncio.sleep(faults.hang_seconds)
            status_box["status"] = 504
            await _send_json(send, 504, error_body(service, 504, "Gateway Timeout"))
            return
        if faults.latency_ms or faults.jitter_ms:
            delay = faults.latency_ms + rng.uniform(-faults.jitter_ms, faults.jitter_ms)
            await asyncio.sleep(max(0.0, delay) / 1000.0)
        if faults.html:
            status_box["status"] = HTML_STATUS
            await _send(send, HTML_STATUS, HTML_PAGE, b"text/html")
            return
        if faults.status:
            status_box["status"] = faults.status
            message = HTTP_TITLES.get(faults.status, "Error")
            body = error_body(service, faults.status, message)
            await _send_json(send, faults.status, body, retry_after_header(faults.retry_after))
            return
        if faults.error_rate and rng.random() < faults.error_rate:
            status = rng.choice((500, 503))
            status_box["status"] = status
            message = "An unexpected error occurred." if status == 500 else "Service Unavailable"
            await _send_json(send, status, error_body(service, status, message))
            return
        malformed = bool(faults.malformed_rate and rng.random() < faults.malformed_rate)

        date = formatdate(self.world.now(), usegmt=True).encode()
        # Faults that rewrite a successful body hold its start until the body is whole.
        rewrites = bool(faults.shape or faults.truncate)
        held: dict[str, Any] = {}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                # The server's clock, as Apache/uWSGI in front of a real service sends it.
                headers = [(k, v) for k, v in message["headers"] if k != b"date"]
                headers.append((b"date", date))
                if malformed and message["status"] == 200:
                    headers = [(k, v) for k, v in headers if k != b"content-length"]
                message = {**message, "headers": headers}
                if rewrites and 200 <= message["status"] < 300:
                    held["start"], held["body"] = message, b""
                    return
            elif message["type"] == "http.response.body" and "start" in held:
                held["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    await self._rewritten(faults, scope, send, held["start"], held["body"])
                return
            elif message["type"] == "http.response.body" and malformed:
                body = message.get("body", b"")
                if status_box["status"] == 200 and body:
                    message = {**message, "body": body[: max(1, len(body) // 2)]}
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _rewritten(
        self, faults: Faults, scope: Scope, send: Send, start: Message, body: bytes
    ) -> None:
        """A successful answer, wrongly shaped and/or cut off after half its body."""
        if faults.shape and _is_json(start):
            body = reshape(body, faults.shape)
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        if not faults.truncate or not body:
            await send({"type": "http.response.body", "body": body})
            return
        half = len(body) // 2
        await send({"type": "http.response.body", "body": body[:half], "more_body": True})
        raise cut_short(scope, half, len(body))


def _base_url(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    host = None
    for key, value in scope.get("headers", []):
        if key == b"host":
            host = value.decode("latin-1")
            break
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


async def _send_json(
    send: Send, status: int, body: Any, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    response = json_response(body, status=status)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*response.raw_headers, *(extra or [])],
        }
    )
    await send({"type": "http.response.body", "body": response.body})


async def _send(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is_json(start: Message) -> bool:
    return any(k == b"content-type" and b"json" in v for k, v in start["headers"])


__all__ = ["Ctx", "create_app", "is_loopback"]
