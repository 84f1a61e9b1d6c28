"""The async HTTP client of one region: every call timed out, bounded, measured.

Polling is many small GETs in parallel, so it runs on httpx's async client rather
than keystoneauth. Each region gets its own client: a slow or failing region
queues only behind itself. The latency and outcome of every call are kept per
service, because "which API is slow" is a question operators ask on call.

A service that asks us to wait (429 or 503 with `Retry-After`) is not called again
in that region until the time is up: calls fail fast, without sending. A GET lost at
the connection level (a reset, a body cut short) is sent once more. Reads are made
at the service's negotiated microversion only: a service not negotiated yet (or
that went away and came back) is negotiated first, and a poll reads each service at
one version from start to end (`pin_versions`).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

from osconsole.availability import RequestHistory
from osconsole.clean import clean_text
from osconsole.cloud.auth import Access

log = logging.getLogger(__name__)

# Per-service microversion headers; Nova also gets its legacy header.
MICROVERSION_SERVICE_NAMES = {"compute": "compute", "placement": "placement", "volume": "volume"}
SAFE_METHODS = frozenset({"GET", "HEAD"})
MAX_PAGES = 10_000
# Answers that may carry Retry-After; and the longest wait we accept from one (a
# misconfigured proxy must not silence a region for a day).
RETRY_AFTER_STATUSES = frozenset({429, 503})
MAX_RETRY_AFTER = 300.0
# A service's microversion is checked again before its next read after any answer
# of 500 or more (or no answer): it was failing or restarting, and may come back
# upgraded or rolled back; and after a 406, the version we asked for is refused.
VERSION_REFUSED = 406
# The catalog type of each service, and how operators name it.
CATALOG_TYPES = {"volume": "volumev3"}
SERVICE_WORDS = {
    "compute": "compute service (Nova)",
    "network": "network service (Neutron)",
    "placement": "placement service",
    "volume": "volume service (Cinder)",
    "identity": "identity service (Keystone)",
}


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


class PinnedVersions:
    """The microversion each service was read at during one poll (or why it could not be)."""

    def __init__(self) -> None:
        self.found: dict[str, str | ApiFailure] = {}

    def versions(self) -> dict[str, str]:
        return {k: v for k, v in self.found.items() if isinstance(v, str)}


_pinned: ContextVar[PinnedVersions | None] = ContextVar("osconsole_pinned_versions", default=None)


@contextmanager
def pin_versions() -> Iterator[PinnedVersions]:
    """Read every service at one microversion inside the block (one poll).

    Another kind's poll may negotiate a service again meanwhile (the region came
    back upgraded); a poll never mixes fields read at two versions."""
    pinned = PinnedVersions()
    token = _pinned.set(pinned)
    try:
        yield pinned
    finally:
        _pinned.reset(token)


class BackoffWatch:
    """The longest Retry-After wait met inside the block, in seconds from then."""

    seconds: float = 0.0


_backoff_watch: ContextVar[BackoffWatch | None] = ContextVar("osconsole_backoff", default=None)


@contextmanager
def watch_backoff() -> Iterator[BackoffWatch]:
    """Note the Retry-After waits that the calls inside the block met, so the poller
    arms the next poll of that kind no earlier than the service asked."""
    watch = BackoffWatch()
    token = _backoff_watch.set(watch)
    try:
        yield watch
    finally:
        _backoff_watch.reset(token)


def _met_backoff(seconds: float) -> None:
    watch = _backoff_watch.get()
    if watch is not None:
        watch.seconds = max(watch.seconds, seconds)


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


class NotDeployed(ApiFailure):
    """The region's catalog has no endpoint for the service: not deployed, not failing.

    Optional services (Cinder, Placement where Nova has the usage) are then a note;
    a kind that needs the service shows that it is not deployed, not an error."""

    def __init__(self, service: str, region: str) -> None:
        word = SERVICE_WORDS.get(service, f"{service} service")
        super().__init__(service, "GET", "", f"no {word} in this region")
        self.region = region

    def __str__(self) -> str:
        return self.reason


class BackingOff(ApiFailure):
    """Refused without sending: the service asked us to wait (Retry-After). Says which
    answer asked: a 429 (we are too many) is not a 503 (it is down for maintenance),
    and every call refused meanwhile is all that other kinds and later polls see."""

    def __init__(
        self, service: str, method: str, path: str, status: int, asked: float, left: float
    ) -> None:
        reason = (
            f"backing off: HTTP {status} with Retry-After {asked:.0f}s "
            f"({math.ceil(left):.0f}s left)"
        )
        super().__init__(service, method, path, reason)  # status 0: nothing was sent
        self.left = left


class CutShort(ApiFailure):
    """The connection was lost after the answer began: its body is incomplete."""


class VersionUnknown(ApiFailure):
    """The service's microversion could not be negotiated: nothing is read from it
    at a version whose fields we would misread."""


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
    backoff_until: float | None = None  # the client's clock: no call before (Retry-After)
    backoff_asked: float = 0.0  # the Retry-After that set it, in seconds
    backoff_status: int = 0  # the status of the answer that asked (429 or 503)
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
    page: str | None = None  # what a body that is not JSON is ("an HTML error page: ...")


Negotiator = Callable[["RegionClient", str], Awaitable[str]]


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
        negotiator: Negotiator | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cloud = cloud
        self.region = region
        self.auth = auth
        self.http = http
        self.timeout = timeout
        self.readonly = readonly
        self.interface = interface
        self.negotiator = negotiator
        self.clock = clock
        self._limit = asyncio.Semaphore(concurrency)
        self.stats: dict[str, ServiceStats] = {}
        self.history = RequestHistory()  # every call's outcome over the last day
        self.microversions: dict[str, str] = {}
        self._rediscover: set[str] = set()  # services whose version is checked again first
        self._negotiating: dict[str, asyncio.Lock] = {}
        self.requests_sent = 0

    async def endpoint(self, service: str) -> str:
        access = await self.auth.access()
        catalog_type = CATALOG_TYPES.get(service, service)
        url = access.endpoint(catalog_type, self.region, self.interface)
        if url is None:
            raise NotDeployed(service, self.region)
        return url.rstrip("/")

    async def deployed(self, service: str) -> bool:
        """Whether the region's catalog has `service` (no request is sent): a service
        that is not deployed has nothing to read, which is not a failure."""
        try:
            await self.endpoint(service)
        except NotDeployed:
            return False
        return True

    # -- microversions --

    async def version(self, service: str) -> str | None:
        """The microversion to read `service` at, negotiated first when not known yet
        or when the service was unreachable since; pinned for the rest of the poll.
        Raises ApiFailure when it cannot be negotiated: never a silent base version.
        None only for a service without microversions, or a client without a negotiator."""
        if service not in MICROVERSION_SERVICE_NAMES:
            return None
        pinned = _pinned.get()
        if pinned is not None and service in pinned.found:
            found = pinned.found[service]
            if isinstance(found, ApiFailure):
                raise found
            return found
        try:
            version = await self._negotiated(service)
        except ApiFailure as exc:
            if pinned is not None:
                pinned.found[service] = exc
            raise
        if pinned is not None and version is not None:
            pinned.found[service] = version
        return version

    def current_version(self, service: str) -> str | None:
        """The version this poll reads `service` at (else the last negotiated one)."""
        pinned = _pinned.get()
        found = pinned.found.get(service) if pinned is not None else None
        return found if isinstance(found, str) else self.microversions.get(service)

    def rediscover(self, service: str) -> None:
        """Check `service`'s microversion again before it is next read."""
        if service in MICROVERSION_SERVICE_NAMES:
            self._rediscover.add(service)

    async def _negotiated(self, service: str) -> str | None:
        if self.negotiator is None:
            return self.microversions.get(service)
        lock = self._negotiating.setdefault(service, asyncio.Lock())
        async with lock:  # one negotiation serves every poll waiting for it
            if service in self.microversions and service not in self._rediscover:
                return self.microversions[service]
            try:
                version = await self.negotiator(self, service)
            except NotDeployed:
                raise
            except ApiFailure as exc:
                raise VersionUnknown(
                    service, "GET", "", f"microversion not negotiated: {exc.reason}", exc.status
                ) from None
            before = self.microversions.get(service)
            if before is not None and before != version:
                log.info(
                    "%s/%s %s now at %s (was %s)", self.cloud, self.region, service, version, before
                )
            self.microversions[service] = version
            self._rediscover.discard(service)
            return version

    # -- calls --

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
        self._refuse_while_backing_off(service, method, path)
        base = "" if absolute else await self.endpoint(service)
        if absolute or method not in SAFE_METHODS:
            # Version documents have none; an action is sent at the version its plan
            # was made for (the runner refuses it if that changed since).
            version = None if absolute else self.microversions.get(service)
        else:
            version = await self.version(service)
        access = await self.auth.access()
        url = base + path
        reply = await self._send(method, service, url, path, params, body, access.token, version)
        if reply.status == 401:
            access = await self.auth.reauthenticate(access.token)
            reply = await self._send(
                method, service, url, path, params, body, access.token, version
            )
        if reply.status >= 500 or reply.status == VERSION_REFUSED:
            self.rediscover(service)
        asked = self._note_retry_after(service, reply)
        if reply.status >= 400:
            raise _failure(service, method, path, reply, asked)
        return reply

    async def get(self, service: str, path: str, params: Any = None) -> Any:
        return (await self.request("GET", service, path, params=params)).body

    def backoff_left(self, service: str) -> float:
        """Seconds until `service` may be called again (0 when it may now)."""
        stats = self.stats.get(service)
        if stats is None or stats.backoff_until is None:
            return 0.0
        return max(0.0, stats.backoff_until - self.clock())

    def _refuse_while_backing_off(self, service: str, method: str, path: str) -> None:
        left = self.backoff_left(service)
        if left > 0:
            _met_backoff(left)
            stats = self.stats[service]
            raise BackingOff(service, method, path, stats.backoff_status, stats.backoff_asked, left)

    def _note_retry_after(self, service: str, reply: Reply) -> float | None:
        """Back off `service` for as long as a 429 or 503 asked (capped); the seconds."""
        if reply.status not in RETRY_AFTER_STATUSES:
            return None
        seconds = retry_after(reply.headers.get("retry-after"), reply.server_time, self.clock())
        if not seconds:
            return None
        stats = self.stats.setdefault(service, ServiceStats())
        stats.backoff_until = self.clock() + seconds
        stats.backoff_asked = seconds
        stats.backoff_status = reply.status
        _met_backoff(seconds)
        log.info(
            "%s/%s %s: backing off %.0fs (Retry-After)", self.cloud, self.region, service, seconds
        )
        return seconds

    async def _send(
        self,
        method: str,
        service: str,
        url: str,
        path: str,
        params: Any,
        body: Any,
        token: str,
        version: str | None = None,
    ) -> Reply:
        headers = {"X-Auth-Token": token, "Accept": "application/json"}
        if version:
            headers["OpenStack-API-Version"] = f"{MICROVERSION_SERVICE_NAMES[service]} {version}"
            if service == "compute":
                headers["X-OpenStack-Nova-API-Version"] = version
        stats = self.stats.get(service) or self._new_stats(service)
        async with self._limit:
            started = time.monotonic()
            try:
                # asyncio.timeout bounds the whole call, a retry included, and
                # transports (like ASGITransport) that do not enforce httpx's timeouts.
                async with asyncio.timeout(self.timeout):
                    response = await self._exchange(method, url, params, body, headers, stats)
            except (TimeoutError, httpx.TimeoutException):
                stats.record(_ms(started), 0, "timeout")
                self.rediscover(service)
                raise Timeout(
                    service, method, path, f"no answer within {self.timeout:g}s"
                ) from None
            except _ConnectionLost as lost:
                stats.record(_ms(started), lost.status, lost.short)
                self.rediscover(service)
                kind = CutShort if lost.status else Unreachable
                raise kind(service, method, path, lost.reason, lost.status) from None
        elapsed = _ms(started)
        status = response.status_code
        parsed: Any = None
        page: str | None = None
        if response.content and status != 204:
            try:
                parsed = json.loads(response.content)
            except ValueError:
                if status < 400:
                    stats.record(elapsed, status, "malformed JSON")
                    raise MalformedResponse(
                        service, method, path, _not_json(response), status
                    ) from None
                page = describe_page(response)  # an error page from a proxy, say
        error = None if status < 400 else f"HTTP {status}"
        stats.record(elapsed, status, error)
        return Reply(status, parsed, response.headers, _server_time(response.headers), page)

    async def _exchange(
        self,
        method: str,
        url: str,
        params: Any,
        body: Any,
        headers: dict[str, str],
        stats: ServiceStats,
    ) -> httpx.Response:
        """The request and its whole answer. A GET or HEAD lost at the connection level
        (reset, closed, cut short) is sent once more: one retry, within the same time
        budget; never after a timeout or an HTTP error, never for other methods."""
        retries = 1 if method in SAFE_METHODS else 0
        while True:
            self.requests_sent += 1
            counter = _counter.get()
            if counter is not None:
                counter.count += 1
            started = time.monotonic()
            try:
                return await self._once(method, url, params, body, headers)
            except _ConnectionLost as lost:
                if not retries:
                    raise
                retries -= 1
                stats.record(_ms(started), lost.status, f"{lost.short} (retried)")
                log.info("%s %s: %s; sending it once more", method, url, lost.reason)

    async def _once(
        self, method: str, url: str, params: Any, body: Any, headers: dict[str, str]
    ) -> httpx.Response:
        request = self.http.build_request(method, url, params=params, json=body, headers=headers)
        try:
            response = await self.http.send(request, stream=True)
        except httpx.TimeoutException:
            raise
        except httpx.TransportError as exc:
            raise _ConnectionLost(exc, None) from None
        try:
            await response.aread()
        except httpx.TimeoutException:
            raise
        except httpx.TransportError as exc:
            raise _ConnectionLost(exc, response) from None
        finally:
            await response.aclose()
        return response

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


def _failure(
    service: str, method: str, path: str, reply: Reply, asked: float | None = None
) -> ApiFailure:
    message = clean_text(_error_message(reply.body))
    if message:
        reason = f"HTTP {reply.status}: {message}"
    elif reply.page:
        reason = f"HTTP {reply.status} from {service} ({reply.page})"
    else:
        reason = f"HTTP {reply.status}"
    if asked:
        reason += f" (Retry-After {asked:.0f}s)"
    kinds: dict[int, type[ApiFailure]] = {401: Unauthorized, 403: Forbidden, 404: NotFound}
    return kinds.get(reply.status, ApiFailure)(service, method, path, reason, reply.status)


def retry_after(value: str | None, server_now: float | None, local_now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (measured
    against the answer's own Date when it has one), at most MAX_RETRY_AFTER; None when
    absent, unreadable or already past."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = when - (server_now if server_now is not None else local_now)
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
PAGE_TITLE_WIDTH = 80


def describe_page(response: httpx.Response) -> str:
    """What a body that is not JSON is, in a few words: "an HTML error page: 502 Bad
    Gateway" (a proxy or load balancer answered for the service), or its type and size."""
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    text = response.content[:65536].decode("utf-8", errors="replace")
    if "html" in content_type or text.lstrip().startswith("<"):
        what = "an HTML error page" if response.status_code >= 400 else "an HTML page"
        match = _TITLE.search(text)
        title = _one_line(match.group(1)) if match else ""
        return f"{what}: {title}" if title else what
    return f"a {content_type or 'non-JSON'} answer of {len(response.content)} bytes"


def _one_line(markup_text: str) -> str:
    """A page title as one short line of plain text: entities decoded, control and
    formatting characters (escapes, bidi overrides) replaced, whitespace collapsed."""
    text = html.unescape(markup_text)
    text = "".join(c if c.isprintable() or c.isspace() else "\ufffd" for c in text)
    text = " ".join(text.split())
    return text if len(text) <= PAGE_TITLE_WIDTH else text[: PAGE_TITLE_WIDTH - 1] + "…"


def _not_json(response: httpx.Response) -> str:
    """Why a successful answer's body is unusable."""
    page = describe_page(response)
    if page.startswith("an HTML page"):
        return f"{page} instead of JSON in an HTTP {response.status_code} answer"
    size = len(response.content)
    return f"malformed JSON in a {response.status_code} answer ({size} bytes)"


class _ConnectionLost(Exception):
    """Inside the client: the connection failed before or during the answer."""

    def __init__(self, exc: httpx.TransportError, response: httpx.Response | None) -> None:
        super().__init__(type(exc).__name__)
        name = type(exc).__name__
        self.status = 0 if response is None else response.status_code
        if response is None:
            self.short = "unreachable"
            if isinstance(exc, httpx.ConnectError):
                self.reason = f"cannot connect ({name})"
            else:
                self.reason = f"the connection was lost before an answer ({name})"
            return
        self.short = "cut short"
        received = response.num_bytes_downloaded
        expected = response.headers.get("content-length")
        of = f"{received} of {expected}" if expected and expected.isdigit() else str(received)
        self.reason = (
            f"the answer was cut short: HTTP {self.status}, {of} bytes received, "
            f"then the connection closed ({name})"
        )


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
