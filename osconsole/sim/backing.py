"""The services beneath OpenStack, as the simulator keeps them per region: RabbitMQ
(its management API under `/{region}/rabbitmq/api/`), a Galera cluster (its
`SHOW GLOBAL STATUS`, read through an injectable source: a MySQL wire protocol is not
worth faking) and memcached (its text protocol, `stats` and `quit`, on a loopback TCP
server per region that serve.py starts beside the HTTP one).

So that `osconsole --demo` and the tests run the real probes (osconsole/probes)
against something that answers as the real servers do. What changes with time
(a queue growing, evictions, hits) is derived from the simulated clock, like
heartbeats, so a stepped clock gives the same figures as waiting; incidents
(plane_incidents.py) switch the states and rates.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import secrets
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from osconsole.sim.world import World

# The simulator's own fixed monitoring account (printed in the README like the others).
MONITORING_USER = "monitoring"
MONITORING_PASSWORD = "sim-monitoring-secret"
RABBITMQ_VERSION = "3.12.13"
MEMCACHED_LINE_LIMIT = 2048  # a command line longer than this is not one we serve


@dataclass
class RabbitNode:
    name: str
    running: bool = True
    partitions: list[str] = field(default_factory=list)
    mem_alarm: bool = False
    disk_free_alarm: bool = False

    def body(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": "disc",
            "running": self.running,
            "partitions": list(self.partitions),
            "mem_alarm": self.mem_alarm,
            "disk_free_alarm": self.disk_free_alarm,
            "mem_used": 180_000_000,
            "mem_limit": 3_200_000_000,
            "fd_used": 120,
            "fd_total": 65_536,
        }


@dataclass
class RabbitQueue:
    """A queue; `messages` grows by `growth_per_s` from `growing_since` (no consumer)."""

    name: str
    vhost: str = "/"
    messages: int = 0
    consumers: int = 1
    unacked: int = 0
    growth_per_s: float = 0.0
    growing_since: float | None = None

    def count(self, now: float) -> int:
        if self.growing_since is None or not self.growth_per_s:
            return self.messages
        return self.messages + int(self.growth_per_s * max(0.0, now - self.growing_since))

    def body(self, now: float, node: str) -> dict[str, Any]:
        messages = self.count(now)
        return {
            "name": self.name,
            "vhost": self.vhost,
            "durable": False,
            "auto_delete": False,
            "state": "running",
            "node": node,
            "messages": messages,
            "messages_ready": messages - self.unacked,
            "messages_unacknowledged": self.unacked,
            "consumers": self.consumers,
        }


class Rabbit:
    """A three-node RabbitMQ cluster with the queues Nova, Neutron and Cinder use."""

    def __init__(self, region: str) -> None:
        short = region.lower()
        self.cluster_name = f"rabbit@{short}-ctl1"
        self.nodes = [RabbitNode(f"rabbit@{short}-ctl{i}") for i in (1, 2, 3)]
        names = ["conductor", "scheduler", "compute", "q-plugin", "q-l3-plugin",
                 "cinder-scheduler", "cinder-volume", "notifications.info"]  # fmt: skip
        self.queues = {name: RabbitQueue(name, unacked=0) for name in names}
        self.queues["compute"].unacked = 2

    def overview(self, now: float) -> dict[str, Any]:
        queues = [q.body(now, self.nodes[0].name) for q in self.queues.values()]
        messages = sum(q["messages"] for q in queues)
        unacked = sum(q["messages_unacknowledged"] for q in queues)
        return {
            "cluster_name": self.cluster_name,
            "rabbitmq_version": RABBITMQ_VERSION,
            "management_version": RABBITMQ_VERSION,
            "node": self.nodes[0].name,
            "object_totals": {
                "queues": len(queues),
                "consumers": sum(q["consumers"] for q in queues),
            },
            "queue_totals": {
                "messages": messages,
                "messages_ready": messages - unacked,
                "messages_unacknowledged": unacked,
            },
        }

    def nodes_body(self) -> list[dict[str, Any]]:
        return [n.body() for n in self.nodes]

    def queues_body(self, now: float) -> list[dict[str, Any]]:
        return [q.body(now, self.nodes[0].name) for q in self.queues.values()]


@dataclass
class Galera:
    """A Galera cluster as one node of it reports it (the node the probe reads)."""

    members: int = 3
    cluster_status: str = "Primary"
    local_state: str = "Synced"
    flow_control_paused: float = 0.0
    connections: int = 180
    max_connections: int = 4096
    started_at: float = 0.0

    def status(self, now: float) -> tuple[dict[str, str], dict[str, str]]:
        """(SHOW GLOBAL STATUS, SHOW GLOBAL VARIABLES) rows, as MariaDB spells them."""
        status = {
            "wsrep_cluster_size": str(self.members),
            "wsrep_cluster_status": self.cluster_status,
            "wsrep_local_state_comment": self.local_state,
            "wsrep_flow_control_paused": f"{self.flow_control_paused:.6f}",
            "wsrep_ready": "ON" if self.cluster_status == "Primary" else "OFF",
            "Threads_connected": str(self.connections),
            "Max_used_connections": str(self.connections + 40),
            "Uptime": str(int(max(0.0, now - self.started_at))),
        }
        return status, {"max_connections": str(self.max_connections), "wsrep_on": "ON"}


@dataclass
class Memcached:
    """memcached's counters: lookups at a steady rate; evictions while `evicting`."""

    started_at: float = 0.0
    evictions: int = 0
    eviction_rate: float = 0.0  # per second, from evicting_since
    evicting_since: float | None = None
    connections: int = 60
    max_connections: int = 4096

    def evicted(self, now: float) -> int:
        if self.evicting_since is None or not self.eviction_rate:
            return self.evictions
        return self.evictions + int(self.eviction_rate * max(0.0, now - self.evicting_since))

    def stop_evicting(self, now: float) -> None:
        self.evictions, self.eviction_rate, self.evicting_since = self.evicted(now), 0.0, None

    def stats(self, now: float) -> list[tuple[str, str]]:
        up = int(max(0.0, now - self.started_at))
        return [
            ("pid", "4242"),
            ("uptime", str(up)),
            ("version", "1.6.21"),
            ("curr_connections", str(self.connections)),
            ("max_connections", str(self.max_connections)),
            ("get_hits", str(up * 45)),
            ("get_misses", str(up * 5)),
            ("evictions", str(self.evicted(now))),
        ]

    def stats_text(self, now: float) -> bytes:
        lines = [f"STAT {name} {value}\r\n" for name, value in self.stats(now)]
        return ("".join(lines) + "END\r\n").encode("ascii")


class Backing:
    """What lies beneath one region's control plane."""

    def __init__(self, region: str, now: float = 0.0) -> None:
        self.rabbit = Rabbit(region)
        self.galera = Galera(started_at=now)
        self.memcached = Memcached(started_at=now)
        self.memcached_address: tuple[str, int] | None = None  # set while served


# -- RabbitMQ's management API --------------------------------------------------------


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """As sim.common's (which this module cannot import: world.py imports this one)."""
    payload = json.dumps(body, separators=(",", ":"))
    return Response(payload, status_code=status, media_type="application/json", headers=headers)


def _authorised(request: Request) -> bool:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return secrets.compare_digest(user, MONITORING_USER) and secrets.compare_digest(
        password, MONITORING_PASSWORD
    )


def _columns(request: Request, body: Any) -> Any:
    """`?columns=a,b`: only those keys of each object, as the management API does."""
    wanted = [c for c in request.query_params.get("columns", "").split(",") if c]
    if not wanted:
        return body
    if isinstance(body, dict):
        return {k: body[k] for k in wanted if k in body}
    return [{k: item[k] for k in wanted if k in item} for item in body]


def _api(answer: Callable[[Backing, float], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        if not _authorised(request):
            return json_response(
                {"error": "not_authorized", "reason": "Login failed"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="RabbitMQ Management"'},
            )
        c = request.state.ctx  # set by the app's middleware, which answers unknown regions
        return json_response(_columns(request, answer(c.region.backing, c.now)))

    return endpoint


def rabbitmq_routes() -> list[Route]:
    """Mounted at /{region}/rabbitmq."""
    return [
        Route("/api/overview", _api(lambda b, now: b.rabbit.overview(now)), methods=["GET"]),
        Route("/api/nodes", _api(lambda b, now: b.rabbit.nodes_body()), methods=["GET"]),
        Route("/api/queues", _api(lambda b, now: b.rabbit.queues_body(now)), methods=["GET"]),
    ]


# -- Galera, through an injectable source ------------------------------------------------

StatusRows = tuple[Mapping[str, str], Mapping[str, str]]


def galera_source(world: World, region: str) -> Callable[[], StatusRows]:
    """A mysql.StatusSource reading the world directly (in-process tests)."""

    def read() -> StatusRows:
        return world.regions[region].backing.galera.status(world.tick())

    return read


def http_galera_source(url: str, region: str, timeout: float = 5.0) -> Callable[[], StatusRows]:
    """A mysql.StatusSource reading a simulator in another process (the demo) through
    its control API; blocking, as PyMySQL is: the probe runs it in a thread."""
    address = f"{url.rstrip('/')}/_sim/galera/{region}"

    def read() -> StatusRows:
        with urllib.request.urlopen(address, timeout=timeout) as answer:
            body = json.loads(answer.read())
        return dict(body["status"]), dict(body["variables"])

    return read


def galera_status(world: World, region: str) -> dict[str, Any] | None:
    """The body of GET /_sim/galera/{region} (None: no such region)."""
    found = world.region(region)
    if found is None:
        return None
    status, variables = found.backing.galera.status(world.tick())
    return {"status": status, "variables": variables}


def probes_config(world: World, base_url: str) -> list[dict[str, Any]]:
    """config.yaml's `probes:` for this simulator (GET /_sim/probes): RabbitMQ and
    memcached as served, and MySQL with a host that only the injected source reads."""
    entries = []
    for name, region in world.regions.items():
        entry: dict[str, Any] = {
            "region": name,
            "rabbitmq": {
                "url": f"{base_url}/{name}/rabbitmq",
                "username": MONITORING_USER,
                "password": MONITORING_PASSWORD,
            },
            "mysql": {
                "host": f"galera.{name.lower()}.sim",
                "username": MONITORING_USER,
                "password": MONITORING_PASSWORD,
                "cluster_size": 3,
            },
        }
        if region.backing.memcached_address is not None:
            host, port = region.backing.memcached_address
            entry["memcached"] = {"servers": [f"{host}:{port}"]}
        entries.append(entry)
    return entries


# -- memcached's text protocol -------------------------------------------------------------


async def _memcached_session(
    world: World, region: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            command = line.strip().split(b" ")[0]
            if command == b"stats":
                now = world.tick()  # scenarios catch up, as on every HTTP request
                writer.write(world.regions[region].backing.memcached.stats_text(now))
            elif command == b"quit":
                return
            elif command:
                writer.write(b"ERROR\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.LimitOverrunError, ValueError):
        return
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def serving_memcached(world: World, host: str = "127.0.0.1") -> AsyncIterator[None]:
    """A memcached endpoint per region on a free port of `host` (loopback), for as long
    as the context lasts; each region's backing says where (`memcached_address`)."""
    servers: list[asyncio.Server] = []
    try:
        for name, region in world.regions.items():

            async def session(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter, name: str = name
            ) -> None:
                await _memcached_session(world, name, reader, writer)

            server = await asyncio.start_server(session, host, 0, limit=MEMCACHED_LINE_LIMIT)
            servers.append(server)
            region.backing.memcached_address = (host, server.sockets[0].getsockname()[1])
        yield
    finally:
        for name, server in zip(world.regions, servers, strict=False):
            server.close()
            world.regions[name].backing.memcached_address = None
        for server in servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
