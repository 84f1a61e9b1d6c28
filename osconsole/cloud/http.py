"""The async HTTP client of one region: every call timed out, bounded, measured.

Polling is many small GETs in parallel, so it runs on httpx's async client rather
than keystoneauth. Each region gets its own client: a slow or failing region
queues only behind itself. The latency and outcome of every call are kept per
service, because "which API is slow" is a question operators ask on call.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from osconsole.availability import RequestHistory
from osconsole.cloud.auth import Access

# Per-service microversion headers; Nova also gets its legacy header.
MICROVERSION_SERVICE_NAMES = {"compute": "compute", "placement": "placement", "volume": "volume"}
SAFE_METHODS = frozenset({"GET", "HEAD"})
MAX_PAGES = 10_000


class RequestCounter:
    count: int = 0


_counter: ContextVar[RequestCounter | None] = ContextVar("osconsole_request_counter", default=None)


@contextmanager
def count_requests() -> Iterator[RequestCounter]:
    """Count the requests sent by this task (and tasks it starts) inside the block.

    Collectors of different kinds share a region's client; a context variable keeps
    each poll's count its own, which is the figure we publish per cycle.
    """
    counter = RequestCounter()
    token = _counter.set(counter)
    try:
        yield counter
    finally:
        _counter.reset(token)


class ApiFailure(Exception):
    """A call that did not give a usable answer; the message is safe to show."""

    def __init__(self, service: str, method: str, path: str, reason: str, status: int = 0) -> None:
        super().__init__(f"{service}: {method} {path}: {reason}")
        self.service = service
        self.method = method
        self.path = path
        self.reason = reason
        self.status = status


class Unauthorized(ApiFailure):
    """401 even after authenticating again."""


class Forbidden(ApiFailure):
    """403: the credential may not do this (often: not an admin)."""


class NotFound(ApiFailure):
    """404."""


class Timeout(ApiFailure):
    """No answer within the request timeout."""


class Unreachable(ApiFailure):
    """Could not connect at all."""


class MalformedResponse(ApiFailure):
    """An answer that is not the JSON it should be."""


class ReadOnlyRefused(ApiFailure):
    """A mutating request from a read-only session: refused before it leaves."""


class TokenSource(Protocol):
    """Where a region client gets its token and endpoints (a CloudAuth)."""

    async def access(self) -> Access: ...

    async def reauthenticate(self, rejected_token: str) -> Access: ...


@dataclass
class ServiceStats:
    """Latency and outcomes of one service's calls in one region."""

    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=256))
    calls: int = 0
    errors: int = 0
    last_error: str | None = None
    last_status: int = 0
    # Also told of every call: the region's RequestHistory (availability over time).
    sink: Callable[[float, int, str | None], None] | None = field(default=None, repr=False)

    def record(self, elapsed_ms: float, status: int, error: str | None) -> None:
        if self.sink is not None:
            self.sink(elapsed_ms, status, error)
        self.calls += 1
        self.latencies_ms.append(elapsed_ms)
        self.last_status = status
        if error is not None:
            self.errors += 1
            self.last_error = error

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]


@dataclass(frozen=True)
class Reply:
    """A successful answer: parsed JSON body, headers, and the server's clock."""

    status: int
    body: Any
    headers: httpx.Headers
    server_time: float | None  # epoch seconds from the Date header, if any


class RegionClient:
    """Calls to one region's services, with auth, limits, timeouts and stats."""

    def __init__(
        self,
        cloud: str,
        region: str,
        auth: TokenSource,
        http: httpx.AsyncClient,
        *,
        concurrency: int = 8,
        timeout: float = 10.0,
        readonly: bool = False,
        interface: str = "public",
    ) -> None:
        self.cloud = cloud
        self.region = region
        self.auth = auth
        self.http = http
        self.timeout = timeout
        self.readonly = readonly
        self.interface = interface
        self._limit = asyncio.Semaphore(concurrency)
        self.stats: dict[str, ServiceStats] = {}
        self.history = RequestHistory()  # every call's outcome over the last day
        self.microversions: dict[str, str] = {}
        self.requests_sent = 0

    async def endpoint(self, service: str) -> str:
        access = await self.auth.access()
        catalog_type = "volumev3" if service == "volume" else service
        url = access.endpoint(catalog_type, self.region, self.interface)
        if url is None:
            raise ApiFailure(service, "GET", "", f"no {catalog_type} endpoint in {self.region}")
        return url.rstrip("/")

    async def request(
        self,
        method: str,
        service: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        absolute: bool = False,
    ) -> Reply:
        """One call; re-authenticates once on 401; raises ApiFailure on anything unusable."""
        method = method.upper()
        if self.readonly and method not in SAFE_METHODS:
            raise ReadOnlyRefused(service, method, path, "refused: this session is read-only")
        base = "" if absolute else await self.endpoint(service)
        access = await self.auth.access()
        reply = await self._send(method, service, base + path, path, params, body, access.token)
        if reply.status == 401:
            access = await self.auth.reauthenticate(access.token)
            reply = await self._send(method, service, base + path, path, params, body, access.token)
        if reply.status >= 400:
            raise _failure(service, method, path, reply)
        return reply

    async def get(self, service: str, path: str, params: Any = None) -> Any:
        return (await self.request("GET", service, path, params=params)).body

    async def _send(
        self,
        method: str,
        service: str,
        url: str,
        path: str,
        params: Any,
        body: Any,
        token: str,
    ) -> Reply:
        headers = {"X-Auth-Token": token, "Accept": "application/json"}
        version = self.microversions.get(service)
        if version:
            headers["OpenStack-API-Version"] = f"{MICROVERSION_SERVICE_NAMES[service]} {version}"
            if service == "compute":
                headers["X-OpenStack-Nova-API-Version"] = version
        stats = self.stats.get(service) or self._new_stats(service)
        async with self._limit:
            started = time.monotonic()
            self.requests_sent += 1
            counter = _counter.get()
            if counter is not None:
                counter.count += 1
            try:
                # asyncio.timeout bounds the whole call, including transports
                # (like ASGITransport) that do not enforce httpx's own timeouts.
                async with asyncio.timeout(self.timeout):
                    response = await self.http.request(
                        method, url, params=params, json=body, headers=headers
                    )
                    await response.aread()
            except TimeoutError:
                stats.record(_ms(started), 0, "timeout")
                raise Timeout(
                    service, method, path, f"no answer within {self.timeout:g}s"
                ) from None
            except httpx.TimeoutException:
                stats.record(_ms(started), 0, "timeout")
                raise Timeout(
                    service, method, path, f"no answer within {self.timeout:g}s"
                ) from None
            except httpx.TransportError as exc:
                stats.record(_ms(started), 0, "unreachable")
                reason = f"cannot connect ({type(exc).__name__})"
                raise Unreachable(service, method, path, reason) from None
        elapsed = _ms(started)
        status = response.status_code
        parsed: Any = None
        if response.content and status != 204:
            try:
                parsed = json.loads(response.content)
            except ValueError:
                stats.record(elapsed, status, "malformed JSON")
                reason = f"malformed JSON in a {status} answer ({len(response.content)} bytes)"
                raise MalformedResponse(service, method, path, reason, status) from None
        error = None if status < 400 else f"HTTP {status}"
        stats.record(elapsed, status, error)
        return Reply(status, parsed, response.headers, _server_time(response.headers))

    def _new_stats(self, service: str) -> ServiceStats:
        stats = self.stats[service] = ServiceStats(
            sink=lambda ms, status, error: self.history.record(service, ms, status, error)
        )
        return stats

    async def pages(
        self, service: str, path: str, key: str, params: dict[str, Any] | None = None
    ) -> AsyncIterator[tuple[list[dict[str, Any]], Reply]]:
        """Each page of a `*_links`-paged collection, following `rel: next` markers.

        Only the next link's marker (and limit) are taken, and the request goes to our
        own endpoint: services behind a proxy often advertise internal hostnames.
        """
        query: dict[str, Any] = dict(params or {})
        seen_markers: set[str] = set()
        for _ in range(MAX_PAGES):
            reply = await self.request("GET", service, path, params=query)
            body = reply.body if isinstance(reply.body, dict) else {}
            items = body.get(key)
            if not isinstance(items, list):
                raise MalformedResponse(service, "GET", path, f"no {key!r} list in the answer")
            yield items, reply
            marker = _next_marker(body.get(f"{key}_links"))
            if marker is None or not items:
                return
            if marker in seen_markers:
                raise MalformedResponse(service, "GET", path, "paging loops on the same marker")
            seen_markers.add(marker)
            query = {**query, "marker": marker}
        raise MalformedResponse(service, "GET", path, f"more than {MAX_PAGES} pages")

    async def collect(
        self, service: str, path: str, key: str, params: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], float | None]:
        """Every item of a paged collection, and the server time of the last page."""
        items: list[dict[str, Any]] = []
        server_time = None
        async for page, reply in self.pages(service, path, key, params):
            items.extend(page)
            server_time = reply.server_time or server_time
        return items, server_time


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000.0


def _server_time(headers: httpx.Headers) -> float | None:
    raw = headers.get("date")
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None


def _next_marker(links: Any) -> str | None:
    if not isinstance(links, list):
        return None
    for link in links:
        if isinstance(link, dict) and link.get("rel") == "next" and link.get("href"):
            values = parse_qs(urlsplit(str(link["href"])).query).get("marker")
            if values:
                return values[-1]
    return None


def _failure(service: str, method: str, path: str, reply: Reply) -> ApiFailure:
    message = _error_message(reply.body) or f"HTTP {reply.status}"
    reason = f"HTTP {reply.status}: {message}"
    kinds: dict[int, type[ApiFailure]] = {401: Unauthorized, 403: Forbidden, 404: NotFound}
    return kinds.get(reply.status, ApiFailure)(service, method, path, reason, reply.status)


def _error_message(body: Any) -> str | None:
    """The human message from any OpenStack service's error body."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("errors"), list) and body["errors"]:  # Placement
        first = body["errors"][0]
        return str(first.get("detail") or first.get("title") or "")[:300]
    for value in body.values():  # Nova/Cinder {"itemNotFound": {...}}, Neutron, Keystone
        if isinstance(value, dict) and ("message" in value):
            return str(value["message"])[:300]
    return None
