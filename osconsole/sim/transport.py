"""The simulator in process, as a client meets it over a socket.

`httpx.ASGITransport` runs the app to its end before it hands back a response, so an
answer the app cuts off mid-body (the `truncate` fault) reached the client as an
error before any answer: "the connection was lost before an answer", where over a
socket the status and headers arrive and reading the body fails ("the answer was cut
short: HTTP 200, 3567 of 7134 bytes received"). `SimTransport` gives the client what
a socket gives: the answer begun, then its body failing after the bytes sent.
Everything else is ASGITransport's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextvars import ContextVar
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from osconsole.sim.faults import CUT

# The body cut off in the request this task is handling (ASGITransport runs the app in
# the caller's task, so the app's wrapper and handle_async_request share it).
_cut: ContextVar[list[httpx.TransportError] | None] = ContextVar("osconsole_sim_cut", default=None)


class SimTransport(httpx.ASGITransport):
    """ASGITransport for the simulator's app; a body cut off fails while it is read."""

    def __init__(self, app: ASGIApp, **kwargs: Any) -> None:
        super().__init__(app=_finishing_cut_bodies(app), **kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        cut: list[httpx.TransportError] = []
        token = _cut.set(cut)
        try:
            response = await super().handle_async_request(request)
        finally:
            _cut.reset(token)
        if not cut:
            return response
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_CutStream(response.stream, cut[0]),
            extensions=response.extensions,
        )


def _finishing_cut_bodies(app: ASGIApp) -> ASGIApp:
    """The app, with a body it cut off (the fault's error raised after part of it was
    sent) ended where it was cut, and the error kept for the body's reader."""

    async def finishing(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await app(scope, receive, send)
        except httpx.TransportError as exc:
            cut = _cut.get()
            if cut is None or not scope.get(CUT):
                raise
            cut.append(exc)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    return finishing


class _CutStream(httpx.AsyncByteStream):
    """The part of a body that was sent, then the error of the connection closing."""

    def __init__(self, sent: httpx.AsyncByteStream, error: httpx.TransportError) -> None:
        self._sent = sent
        self._error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._sent:
            yield chunk
        raise self._error

    async def aclose(self) -> None:
        await self._sent.aclose()
