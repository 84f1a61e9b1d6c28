"""Serve the simulated cloud over a real socket, and describe it as a clouds.yaml entry.

`osconsole sim` serves in the foreground; tests, benchmarks and the demo start a
`SimServer` in a background thread on a free loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from typing import Any

import uvicorn
import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from osconsole.sim.app import create_app, is_loopback
from osconsole.sim.backing import serving_memcached
from osconsole.sim.faults import DROP
from osconsole.sim.generate import (
    ADMIN_PASSWORD,
    APP_CRED_SECRET,
    MEMBER_PASSWORD,
    READONLY_APP_CRED_SECRET,
)
from osconsole.sim.world import World

CLOUD_NAME = "osconsole-sim"


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 asks the OS for a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def url_for(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def clouds_yaml(world: World, url: str, name: str = CLOUD_NAME) -> dict[str, Any]:
    """clouds.yaml entries for the simulator: admin password, application credential,
    read-only (GET-only) application credential, and a non-admin member."""

    def common() -> dict[str, Any]:
        return {"regions": list(world.regions), "identity_api_version": 3, "interface": "public"}

    creds = {c.name: c for c in world.app_credentials.values()}
    return {
        "clouds": {
            name: {
                "auth": {
                    "auth_url": f"{url}/identity/v3",
                    "username": "admin",
                    "password": ADMIN_PASSWORD,
                    "project_name": "admin",
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
                **common(),
            },
            f"{name}-appcred": {
                "auth_type": "v3applicationcredential",
                "auth": {
                    "auth_url": f"{url}/identity/v3",
                    "application_credential_id": creds["osconsole"].id,
                    "application_credential_secret": APP_CRED_SECRET,
                },
                **common(),
            },
            f"{name}-member": {
                "auth": {
                    "auth_url": f"{url}/identity/v3",
                    "username": "member",
                    "password": MEMBER_PASSWORD,
                    "user_domain_name": "Default",
                    "project_domain_name": "Default",
                },
                **common(),
            },
            f"{name}-readonly": {
                "auth_type": "v3applicationcredential",
                "auth": {
                    "auth_url": f"{url}/identity/v3",
                    "application_credential_id": creds["osconsole-readonly"].id,
                    "application_credential_secret": READONLY_APP_CRED_SECRET,
                },
                **common(),
            },
        }
    }


def clouds_yaml_text(world: World, url: str, name: str = CLOUD_NAME) -> str:
    return yaml.safe_dump(clouds_yaml(world, url, name), sort_keys=False)


class _Dropped:
    """What the app returns to uvicorn for a connection a fault drops (see below)."""

    def __repr__(self) -> str:
        return "a connection dropped by a simulated fault"


DROPPED = _Dropped()


def over_socket(app: ASGIApp) -> ASGIApp:
    """The app as a socket server runs it: a connection-level fault (a refused
    connection, a body cut off) closes the connection instead of answering.

    In process, such a fault raises the httpx error a client would get (sim/faults.py);
    here that error is caught and a value returned to uvicorn, which then closes the
    connection as it stands: before any answer, or mid-body.
    """

    async def app_over_socket(scope: Scope, receive: Receive, send: Send) -> Any:
        try:
            await app(scope, receive, send)
        except Exception:
            if not scope.get(DROP):
                raise
            return DROPPED
        return None

    return app_over_socket


class _QuietDrops(logging.Filter):
    """uvicorn logs an error when an app returns a value; for a dropped connection
    that is the fault working, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        return not (isinstance(args, tuple) and args and args[0] is DROPPED)


_quiet_drops = _QuietDrops()


def _server(world: World) -> uvicorn.Server:
    logging.getLogger("uvicorn.error").addFilter(_quiet_drops)
    config = uvicorn.Config(
        over_socket(create_app(world)),
        log_level="warning",
        access_log=False,
        lifespan="off",
        date_header=False,  # the app sends the simulated clock's Date
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


async def _serve(server: uvicorn.Server, world: World, sock: socket.socket) -> None:
    """The HTTP server, and each region's memcached on loopback beside it."""
    host = sock.getsockname()[0]
    async with serving_memcached(world, host if is_loopback(host) else "127.0.0.1"):
        await server.serve(sockets=[sock])


def serve_forever(world: World, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C), in the calling thread."""
    server = _server(world)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(server, world, sock))


class SimServer:
    """The simulator on a loopback socket in a background thread (tests, demo, benchmarks)."""

    def __init__(self, world: World, host: str = "127.0.0.1", port: int = 0) -> None:
        if not is_loopback(host):
            raise ValueError("SimServer listens on loopback only")
        self.world = world
        self._sock = bind_socket(host, port)
        self.host, self.port = self._sock.getsockname()[:2]
        self.url = url_for(host, self.port)
        self._server = _server(world)
        self._thread = threading.Thread(target=self._run, name="osconsole-sim", daemon=True)

    def _run(self) -> None:
        asyncio.run(_serve(self._server, self.world, self._sock))

    def start(self) -> SimServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the simulator failed to start")
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
