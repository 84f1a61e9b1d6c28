"""RabbitMQ: its management HTTP API, read with a monitoring account.

Nova, Neutron and Cinder talk through RabbitMQ; a partition or a memory alarm stops
boots and port bindings long before any API says so. Three GETs, each with `columns`
so a broker with thousands of queues answers small: `/api/overview` (the cluster and
its totals), `/api/nodes` (running, partitions, alarms) and `/api/queues`.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from osconsole.probes.base import FAILED, OK, UNREACHABLE, ProbeResult

NODE_COLUMNS = "name,running,partitions,mem_alarm,disk_free_alarm"
QUEUE_COLUMNS = "name,vhost,messages,consumers,messages_unacknowledged"
TOP_BACKLOGS = 5


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def figures(overview: Any, nodes: Any, queues: Any) -> dict[str, Any]:
    """Plain figures from the three answers (ValueError when they are not lists/objects)."""
    if (
        not isinstance(overview, dict)
        or not isinstance(nodes, list)
        or not isinstance(queues, list)
    ):
        raise ValueError("not the management API's answers")
    nodes = [n for n in nodes if isinstance(n, dict)]
    queues = [q for q in queues if isinstance(q, dict)]
    partitions = sorted(
        {str(p) for n in nodes for p in (n.get("partitions") or []) if isinstance(p, str)}
    )
    alarms = sorted(
        f"{n.get('name')}: {kind}"
        for n in nodes
        for kind, key in (("memory", "mem_alarm"), ("disk", "disk_free_alarm"))
        if n.get(key) is True
    )
    idle = [q for q in queues if _int(q.get("messages")) > 0 and _int(q.get("consumers")) == 0]
    backlog = sorted(queues, key=lambda q: -_int(q.get("messages")))[:TOP_BACKLOGS]

    def label(q: dict[str, Any]) -> str:
        return f"{q.get('vhost', '/')}/{q.get('name', '?')}"

    return {
        "cluster": str(overview.get("cluster_name") or ""),
        "nodes": len(nodes),
        "nodes_running": sum(1 for n in nodes if n.get("running") is True),
        "nodes_down": sorted(str(n.get("name")) for n in nodes if n.get("running") is not True),
        "partitions": partitions,
        "alarms": alarms,
        "queues": len(queues),
        "queues_without_consumers": {label(q): _int(q.get("messages")) for q in idle},
        "largest_backlogs": {
            label(q): _int(q.get("messages")) for q in backlog if _int(q.get("messages"))
        },
        "unacked": sum(_int(q.get("messages_unacknowledged")) for q in queues),
    }


async def probe(
    url: str,
    username: str,
    password: str,
    *,
    timeout: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProbeResult:
    """Three GETs to the management API at `url` (http://host:15672)."""
    base = url.rstrip("/")
    auth = httpx.BasicAuth(username, password)
    try:
        async with httpx.AsyncClient(timeout=timeout, auth=auth, transport=transport) as http:
            answers = []
            for path, params in (
                ("/api/overview", {"columns": "cluster_name,rabbitmq_version"}),
                ("/api/nodes", {"columns": NODE_COLUMNS}),
                ("/api/queues", {"columns": QUEUE_COLUMNS}),
            ):
                response = await http.get(base + path, params=params)
                if response.status_code != 200:
                    why = f"HTTP {response.status_code} on {path}"
                    return ProbeResult("rabbitmq", base, FAILED, time.time(), error=why)
                answers.append(response.json())
    except httpx.TimeoutException:
        return ProbeResult("rabbitmq", base, UNREACHABLE, time.time(), error="no answer in time")
    except httpx.TransportError as exc:
        why = f"cannot connect ({type(exc).__name__})"
        return ProbeResult("rabbitmq", base, UNREACHABLE, time.time(), error=why)
    except ValueError:
        return ProbeResult("rabbitmq", base, FAILED, time.time(), error="malformed JSON")
    try:
        found = figures(*answers)
    except ValueError as exc:
        return ProbeResult("rabbitmq", base, FAILED, time.time(), error=str(exc))
    return ProbeResult("rabbitmq", base, OK, time.time(), found)
