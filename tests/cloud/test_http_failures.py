"""What the region client does when an API fails: Retry-After honoured per region and
service, error pages and cut bodies said as they are, one retry of a lost GET.

Retry-After and HTML pages come from a proxy in front of the simulator (in process,
on the simulator's stepped clock); connections lost mid-answer from a raw socket
server, because only a real connection can be cut.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.cloud import compute, network
from osconsole.cloud.auth import Access
from osconsole.cloud.connect import Connection, connect
from osconsole.cloud.http import (
    MAX_RETRY_AFTER,
    ApiFailure,
    BackingOff,
    CutShort,
    MalformedResponse,
    RegionClient,
    Timeout,
    Unreachable,
    retry_after,
)
from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind, RegionRef
from osconsole.poller import Poller
from osconsole.sim.clock import SimClock
from osconsole.sim.world import World
from osconsole.views import region_statuses
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.support.proxy import FaultProxy

CLOUD = "osconsole-sim"
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
TOO_MANY = {"overLimit": {"code": 429, "message": "Rate limit exceeded."}}


@pytest.fixture
def proxy(sim_app: Any) -> FaultProxy:
    return FaultProxy(sim_app)


@pytest.fixture
async def proxied(
    world: World, sim: httpx.AsyncClient, proxy: FaultProxy, tmp_path: Path, clock: SimClock
) -> AsyncIterator[Connection]:
    """Every region connected through the proxy; the clients' clocks are the world's."""
    connection = await connect(
        Settings(clouds=[CloudSettings(name=CLOUD)]),
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=proxy),
    )
    assert not connection.errors, connection.errors
    for session in connection.regions:
        session.client.clock = clock.now
    try:
        yield connection
    finally:
        await connection.aclose()


def client_of(connection: Connection, region: str) -> RegionClient:
    return next(r.client for r in connection.regions if r.ref.region == region)


# -- Retry-After --------------------------------------------------------------------


async def test_retry_after_silences_that_service_in_that_region_until_the_time_is_up(
    proxied: Connection, proxy: FaultProxy, clock: SimClock
) -> None:
    one = client_of(proxied, "RegionOne")
    proxy.answer(
        429,
        region="RegionOne",
        service="network",
        body=TOO_MANY,
        headers={"Retry-After": "30"},
        times=1,
    )
    with pytest.raises(ApiFailure) as first:
        await network.agents(one)
    assert first.value.status == 429
    assert first.value.reason == "HTTP 429: Rate limit exceeded. (Retry-After 30s)"
    assert proxy.count("RegionOne", "network") == 1

    for second in range(1, 30):  # every second of the 30 s, as an impatient poller would
        clock.step(1.0)
        with pytest.raises(BackingOff) as refused:
            await network.agents(one)
        # Says which answer asked: other kinds and later polls see only this.
        assert refused.value.reason == (
            f"backing off: HTTP 429 with Retry-After 30s ({30 - second}s left)"
        )
        assert refused.value.status == 0  # nothing was sent
    assert proxy.count("RegionOne", "network") == 1  # nothing was sent meanwhile

    # Other services of the region, and the same service elsewhere, are not held back.
    await compute.services(one)
    await network.agents(client_of(proxied, "RegionTwo"))

    clock.step(1.0)
    agents, _ = await network.agents(one)
    assert agents and proxy.count("RegionOne", "network") == 2


async def test_a_503_with_retry_after_backs_off_and_one_without_does_not(
    proxied: Connection, proxy: FaultProxy, clock: SimClock
) -> None:
    one = client_of(proxied, "RegionOne")
    proxy.answer(503, region="RegionOne", service="network", body=NGINX_502, times=1)
    with pytest.raises(ApiFailure):
        await network.agents(one)
    await network.agents(one)  # no Retry-After: the next call goes out
    assert proxy.count("RegionOne", "network") == 2

    when = datetime.fromtimestamp(clock.now(), UTC) + timedelta(seconds=45)
    retry_at = format_datetime(when, usegmt=True)
    proxy.answer(
        503, region="RegionOne", service="network", body=b"", headers={"Retry-After": retry_at}
    )
    with pytest.raises(ApiFailure) as failed:
        await network.agents(one)
    assert "(Retry-After 45s)" in failed.value.reason
    clock.step(44.0)
    with pytest.raises(BackingOff, match=r"HTTP 503 with Retry-After 45s \(1s left\)"):
        await network.agents(one)
    assert proxy.count("RegionOne", "network") == 3


async def test_the_poller_waits_at_least_what_the_service_asked_and_the_strip_says_so(
    proxied: Connection, proxy: FaultProxy, clock: SimClock
) -> None:
    one = next(r for r in proxied.regions if r.ref.region == "RegionOne")
    poller = Poller([one], Settings(), kinds=[Kind.AGENTS], clock=clock.now, seed=1)
    key = (RegionRef(CLOUD, "RegionOne"), Kind.AGENTS)
    proxy.answer(
        429, region="RegionOne", service="network", body=TOO_MANY, headers={"Retry-After": "120"}
    )
    failed = await poller.poll(key)
    assert failed.stale and "Retry-After 120s" in (failed.error or "")
    assert poller.delay(key) >= 120.0  # the agents interval is 15 s, doubled: 30 s
    proxy.clear()
    clock.step(20.0)
    refused = await poller.poll(key)  # `r` pressed: the poll runs, nothing is sent
    assert "backing off" in (refused.error or "")
    assert proxy.count("RegionOne", "network") == 1
    assert poller.delay(key) >= 100.0

    (status,) = region_statuses({one.ref: one.client.stats}, poller.latest.values(), clock.now())
    assert status.backoff == {"network": pytest.approx(100.0)}


def test_retry_after_reads_seconds_and_dates_and_is_capped() -> None:
    now = 1_700_000_000.0
    date = format_datetime(datetime.fromtimestamp(now + 90, UTC), usegmt=True)
    assert retry_after("30", None, now) == 30.0
    assert retry_after(" 7 ", None, now) == 7.0
    assert retry_after(date, None, now) == 90.0
    # An HTTP date is measured against the answer's own Date (the server's clock).
    assert retry_after(date, now + 60, now) == 30.0
    assert retry_after("86400", None, now) == MAX_RETRY_AFTER
    for useless in (None, "", "0", "-5", "soon", "nan", "inf"):
        assert retry_after(useless, None, now) is None
    past = format_datetime(datetime.fromtimestamp(now - 10, UTC), usegmt=True)
    assert retry_after(past, None, now) is None


# -- error pages and bodies that are not JSON ------------------------------------------


async def test_an_html_502_says_what_it_is(proxied: Connection, proxy: FaultProxy) -> None:
    one = client_of(proxied, "RegionOne")
    before = proxy.count("RegionOne", "compute")  # version discovery, at connect
    proxy.answer(502, region="RegionOne", service="compute", body=NGINX_502)
    with pytest.raises(ApiFailure) as failed:
        await compute.services(one)
    assert failed.value.status == 502
    assert failed.value.reason == "HTTP 502 from compute (an HTML error page: 502 Bad Gateway)"
    assert proxy.count("RegionOne", "compute") == before + 1  # an HTTP error is not retried


async def test_a_hostile_page_title_is_shown_as_plain_text(
    proxied: Connection, proxy: FaultProxy
) -> None:
    title = "Oops\x1b]0;pwned\x07 \u202eevil\n\n" + "x" * 200
    page = f"<html><title>{title}</title></html>".encode()
    proxy.answer(500, region="RegionOne", service="compute", body=page)
    with pytest.raises(ApiFailure) as failed:
        await compute.services(client_of(proxied, "RegionOne"))
    reason = failed.value.reason
    assert "\x1b" not in reason and "\x07" not in reason and "\u202e" not in reason
    assert "\n" not in reason and len(reason) < 140
    assert reason.startswith("HTTP 500 from compute (an HTML error page: Oops\ufffd]0;pwned")


async def test_an_html_page_in_a_200_is_not_json(proxied: Connection, proxy: FaultProxy) -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>"
    proxy.answer(200, region="RegionOne", service="network", body=page)
    with pytest.raises(MalformedResponse) as failed:
        await network.agents(client_of(proxied, "RegionOne"))
    assert failed.value.reason == "an HTML page: Sign in instead of JSON in an HTTP 200 answer"


# -- connections lost: a raw HTTP/1.1 server ------------------------------------------------


def _answer(body: bytes, status: str = "200 OK") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


AGENTS = b'{"agents": [{"id": "a1", "agent_type": "L3 agent", "host": "h"}]}'
CUT = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"agen'
CLOSED = b""  # the connection is closed before any answer
SILENT = None  # the connection stays open, and nothing is answered


class RawServer:
    """Answers each connection with the next scripted bytes, then closes it."""

    def __init__(self, script: list[bytes | None]) -> None:
        self.script = list(script)
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/network"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.readuntil(b"\r\n\r\n")
        answer = self.script.pop(0) if self.script else _answer(AGENTS)
        if answer is None:
            await asyncio.sleep(30)
        writer.write(answer or b"")
        await writer.drain()
        writer.close()


class StaticToken:
    """A token and a catalog with one network endpoint (no Keystone needed)."""

    def __init__(self, url: str) -> None:
        now = datetime.now(UTC)
        endpoint = {"region_id": "R", "interface": "public", "url": url}
        self._access = Access(
            token="t",
            issued_at=now,
            expires_at=now + timedelta(hours=1),
            user_name="u",
            user_id="u",
            project_id="p",
            roles=("admin",),
            catalog=({"type": "network", "endpoints": [endpoint]},),
        )

    async def access(self) -> Access:
        return self._access

    async def reauthenticate(self, rejected_token: str) -> Access:
        return self._access


async def _client(server: RawServer, timeout: float = 5.0) -> RegionClient:
    http = httpx.AsyncClient()
    return RegionClient("c", "R", StaticToken(server.url), http, timeout=timeout)


async def test_a_get_cut_short_is_sent_once_more_and_succeeds() -> None:
    async with RawServer([CUT]) as server:
        client = await _client(server)
        try:
            agents, _ = await network.agents(client)
        finally:
            await client.http.aclose()
    assert [a["id"] for a in agents] == ["a1"]
    assert server.connections == 2
    stats = client.stats["network"]
    assert stats.calls == 2 and stats.errors == 1 and stats.last_error == "cut short (retried)"


async def test_a_get_cut_short_twice_says_the_answer_was_cut_short() -> None:
    async with RawServer([CUT, CUT]) as server:
        client = await _client(server)
        try:
            with pytest.raises(CutShort) as failed:
                await network.agents(client)
        finally:
            await client.http.aclose()
    assert server.connections == 2  # one retry, no more
    assert failed.value.reason.startswith(
        "the answer was cut short: HTTP 200, 6 of 100 bytes received, then the connection closed"
    )
    assert "cannot connect" not in str(failed.value)


async def test_a_connection_closed_before_an_answer_is_retried_once() -> None:
    async with RawServer([CLOSED, CLOSED]) as server:
        client = await _client(server)
        try:
            with pytest.raises(Unreachable) as failed:
                await network.agents(client)
        finally:
            await client.http.aclose()
    assert server.connections == 2
    assert failed.value.reason.startswith("the connection was lost before an answer")


async def test_only_reads_are_retried() -> None:
    async with RawServer([CUT]) as server:
        client = await _client(server)
        try:
            with pytest.raises(CutShort):
                await client.request("PUT", "network", "/v2.0/agents/a1", body={"agent": {}})
        finally:
            await client.http.aclose()
    assert server.connections == 1


async def test_a_timeout_is_not_retried() -> None:
    async with RawServer([SILENT]) as server:
        client = await _client(server, timeout=0.2)
        try:
            with pytest.raises(Timeout):
                await network.agents(client)
        finally:
            await client.http.aclose()
    assert server.connections == 1


async def test_nothing_answers_is_cannot_connect() -> None:
    async with RawServer([]) as server:
        url = server.url
    client = RegionClient("c", "R", StaticToken(url), httpx.AsyncClient(), timeout=5.0)
    try:
        with pytest.raises(Unreachable) as failed:
            await network.agents(client)
    finally:
        await client.http.aclose()
    assert failed.value.reason == "cannot connect (ConnectError)"
