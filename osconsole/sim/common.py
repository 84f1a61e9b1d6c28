"""What every simulated service shares: auth, error bodies, paging, microversions.

Each OpenStack service words its errors differently; clients (and our tests) rely on
those shapes, so they are kept per service here rather than improvised per route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from osconsole.sim.world import Region, Token, World

Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """Raised by a route to answer with the service's own error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


NOVA_ERROR_KEYS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    406: "notAcceptable",
    409: "conflictingRequest",
    429: "overLimit",
    500: "computeFault",
    503: "serviceUnavailable",
}
HTTP_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
NEUTRON_ERROR_TYPES = {
    400: "HTTPBadRequest",
    401: "HTTPUnauthorized",
    403: "HTTPForbidden",
    404: "HTTPNotFound",
    409: "HTTPConflict",
    429: "HTTPTooManyRequests",
    500: "HTTPInternalServerError",
    503: "HTTPServiceUnavailable",
}


def error_body(service: str, status: int, message: str) -> dict[str, Any]:
    """The error body `service` would send for `status`."""
    title = HTTP_TITLES.get(status, "Error")
    if status == 401 or service == "identity":
        # keystonemiddleware answers 401 for every service in Keystone's shape.
        return {"error": {"code": status, "title": title, "message": message}}
    if service in ("compute", "volume"):
        key = NOVA_ERROR_KEYS.get(status, "computeFault")
        return {key: {"code": status, "message": message}}
    if service == "network":
        error_type = NEUTRON_ERROR_TYPES.get(status, "HTTPError")
        return {"NeutronError": {"type": error_type, "message": message, "detail": ""}}
    if service == "placement":
        return {
            "errors": [
                {"status": status, "title": title, "detail": message, "request_id": "req-sim"}
            ]
        }
    return {"error": {"code": status, "title": title, "message": message}}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON as OpenStack sends it (compact, UTF-8)."""
    payload = json.dumps(body, separators=(",", ":"))
    return Response(payload, status_code=status, media_type="application/json", headers=headers)


@dataclass
class Ctx:
    """One request's view of the world: which region, who asks, and at what time."""

    world: World
    region: Region | None
    token: Token | None
    now: float
    base_url: str  # scheme://host:port of the simulator, as the client reached it

    def service_url(self, service: str) -> str:
        """The catalog URL of `service` in this region (no trailing slash)."""
        region = self.region.name if self.region else ""
        return service_url(self.base_url, region, service)


def service_url(base_url: str, region: str, service: str) -> str:
    paths = {
        "compute": f"/{region}/compute/v2.1",
        "network": f"/{region}/network",
        "placement": f"/{region}/placement",
        "volume": f"/{region}/volume",
        "identity": "/identity",
    }
    return base_url.rstrip("/") + paths[service]


def base_url_of(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def ctx(request: Request) -> Ctx:
    """The context the app's middleware attached to this request."""
    return request.state.ctx


def authenticate(request: Request, *, admin: bool = False) -> Token:
    """The caller's valid token, or ApiError 401; 403 when `admin` and they are not.

    Application credentials restricted by access rules may only do what the rules
    allow (keystonemiddleware answers 401 otherwise).
    """
    c = ctx(request)
    token_id = request.headers.get("x-auth-token")
    token = c.world.tokens.get(token_id or "")
    if token is None or token.expires_at <= c.now:
        raise ApiError(401, "The request you have made requires authentication.")
    if token.access_rules and not any(
        _rule_allows(rule, request.method) for rule in token.access_rules
    ):
        raise ApiError(401, "The request you have made requires authentication.")
    if admin and not token.is_admin:
        raise ApiError(403, "Policy doesn't allow this operation to be performed.")
    c.token = token
    return token


def _rule_allows(rule: dict, method: str) -> bool:
    return rule.get("method", "").upper() in (method.upper(), "*")


def query_int(request: Request, name: str, *, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} param must be an integer") from None
    if value < minimum:
        raise ApiError(400, f"{name} param must be >= {minimum}")
    return value


def query_bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "t", "yes", "y", "on"):
        return True
    if lowered in ("0", "false", "f", "no", "n", "off"):
        return False
    raise ApiError(400, f"Invalid boolean value {raw!r} for {name}")


def next_link(request: Request, base: str, limit: int, marker: str) -> list[dict[str, str]]:
    """A `*_links` list with one `next` link, keeping the request's other filters."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "marker")]
    params += [("limit", str(limit)), ("marker", marker)]
    return [{"href": f"{base}?{urlencode(params)}", "rel": "next"}]


_VERSION = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True, order=True)
class Microversion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Microversion:
        match = _VERSION.match(text.strip())
        if not match:
            raise ValueError(text)
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, text: str) -> bool:
        return self >= Microversion.parse(text)


def negotiate_microversion(
    request: Request,
    service_type: str,
    minimum: str,
    maximum: str,
    legacy_header: str | None = None,
) -> Microversion:
    """The microversion a request asked for (`latest` allowed), or ApiError 406.

    Reads `OpenStack-API-Version: <service_type> X.Y` and, for Nova, the legacy
    `X-OpenStack-Nova-API-Version`; no header means the minimum, as the services do.
    """
    low, high = Microversion.parse(minimum), Microversion.parse(maximum)
    asked: str | None = None
    for part in request.headers.get("openstack-api-version", "").split(","):
        words = part.strip().split()
        if len(words) == 2 and words[0].lower() == service_type:
            asked = words[1]
    if asked is None and legacy_header:
        asked = request.headers.get(legacy_header)
    if asked is None:
        return low
    if asked.strip().lower() == "latest":
        return high
    try:
        version = Microversion.parse(asked)
    except ValueError:
        raise ApiError(400, f"Invalid API version request string {asked!r}") from None
    if not low <= version <= high:
        raise ApiError(
            406,
            f"Version {asked} is not supported by the API. "
            f"Minimum is {minimum} and maximum is {maximum}.",
        )
    return version
