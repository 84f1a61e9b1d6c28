"""Let keystoneauth (requests, in a worker thread) reach the in-process simulator.

keystoneauth speaks `requests`, which cannot use httpx's ASGITransport. This adapter
hands each request to an httpx.AsyncClient on the test's event loop and waits for
the answer from the worker thread, so the real auth code path runs in process. A
timeout keystoneauth asks for, and a connection the simulator drops, reach it as the
requests errors they would be over a socket.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
from pathlib import Path
from typing import Any

import httpx
import requests
import yaml
from keystoneauth1 import session as ks_session
from openstack.config import OpenStackConfig
from requests.adapters import BaseAdapter

from osconsole.sim.serve import clouds_yaml
from osconsole.sim.world import World


class AsgiAdapter(BaseAdapter):
    def __init__(self, client: httpx.AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.client = client
        self.loop = loop

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[no-untyped-def]
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            raise RuntimeError("keystoneauth was called on the event loop: it must run in a thread")
        coro = self.client.request(
            request.method, request.url, headers=dict(request.headers), content=request.body
        )
        try:
            pending = asyncio.run_coroutine_threadsafe(coro, self.loop)
        except RuntimeError:  # a thread left hanging by a test whose loop has closed
            coro.close()
            raise requests.exceptions.ConnectionError("the test's event loop is closed") from None
        # As requests would over a socket: keystoneauth's (read) timeout, and its
        # connection errors.
        try:
            answer = pending.result(timeout=_seconds(timeout))
        except concurrent.futures.TimeoutError:
            pending.cancel()
            raise requests.exceptions.ReadTimeout(f"no answer within {timeout}s") from None
        except httpx.TransportError as exc:
            raise requests.exceptions.ConnectionError(str(exc), request=request) from None
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = requests.structures.CaseInsensitiveDict(answer.headers)
        response._content = answer.content
        response.url = request.url
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def _seconds(timeout: float | tuple[float | None, float | None] | None) -> float:
    """requests' timeout (one number, or connect and read) as one bound; 30 s if none."""
    if isinstance(timeout, tuple):
        timeout = sum(t for t in timeout if t is not None) or None
    return float(timeout) if timeout else 30.0


def bridged_config(
    world: World, client: httpx.AsyncClient, tmp_path: Path, base_url: str = "http://sim.test"
) -> OpenStackConfig:
    """An OpenStackConfig reading a clouds.yaml for the simulator, over the bridge."""
    return bridged_clouds(clouds_yaml(world, base_url), client, tmp_path)


def bridged_clouds(
    clouds: dict[str, Any], client: httpx.AsyncClient, tmp_path: Path
) -> OpenStackConfig:
    """An OpenStackConfig reading `clouds` (a clouds.yaml document), over the bridge."""
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    loop = asyncio.get_running_loop()
    session = requests.Session()
    session.mount("http://", AsgiAdapter(client, loop))
    constructor = functools.partial(ks_session.Session, session=session)
    return OpenStackConfig(
        config_files=[str(path)],
        vendor_files=[],
        secure_files=[],
        load_envvars=False,
        session_constructor=constructor,
    )
