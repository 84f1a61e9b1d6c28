"""Let keystoneauth (requests, in a worker thread) reach the in-process simulator.

keystoneauth speaks `requests`, which cannot use httpx's ASGITransport. This adapter
hands each request to an httpx.AsyncClient on the test's event loop and waits for
the answer from the worker thread, so the real auth code path runs in process. A
timeout keystoneauth asks for, and a connection the simulator drops, reach it as the
requests errors they would be over a socket.
"""

from __future__ import annotations

import asyncio
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
        # As requests would over a socket: its read timeout, and its connection errors.
        limit = (timeout[-1] if isinstance(timeout, tuple) else timeout) or 30.0
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            answer = future.result(timeout=limit)
        except TimeoutError:
            future.cancel()
            raise requests.exceptions.ReadTimeout(
                f"no answer in {limit:g}s", request=request
            ) from None
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
