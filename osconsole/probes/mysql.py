"""MySQL/Galera: `SHOW GLOBAL STATUS` over a read-only account, through PyMySQL (the
optional extra `osconsole[probes]`), in a worker thread with connect and read timeouts.

Every OpenStack service keeps its state in this database; a Galera node that left,
a component that is not Primary, flow control pausing writes, or connections near
`max_connections` show up as API errors everywhere at once. The figures come from a
`StatusSource`: PyMySQL for a real server, or anything that returns the same two
mappings (the simulator injects its own: a MySQL wire protocol is not worth faking).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

from osconsole.probes.base import FAILED, OK, UNREACHABLE, ProbeResult

WSREP = (
    "wsrep_cluster_size",
    "wsrep_cluster_status",
    "wsrep_local_state_comment",
    "wsrep_flow_control_paused",
    "wsrep_ready",
)
STATUS = (*WSREP, "Threads_connected", "Max_used_connections", "Uptime")

StatusSource = Callable[[], tuple[Mapping[str, str], Mapping[str, str]]]
"""Returns (SHOW GLOBAL STATUS, SHOW GLOBAL VARIABLES) rows as {name: value}."""


class ProbeUnreachable(Exception):
    """The server could not be reached or refused the account (message safe to show)."""


def pymysql_source(
    host: str, port: int, user: str, password: str, timeout: float = 5.0
) -> StatusSource:
    """A StatusSource reading a real server with PyMySQL (blocking: run in a thread)."""

    def read() -> tuple[Mapping[str, str], Mapping[str, str]]:
        try:
            import pymysql
        except ImportError as exc:
            raise ProbeUnreachable(
                "PyMySQL is not installed: pip install 'osconsole[probes]'"
            ) from exc
        try:
            connection = pymysql.connect(
                host=host,
                port=port,
                user=user,
                password=password,
                connect_timeout=timeout,
                read_timeout=timeout,
                write_timeout=timeout,
            )
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else "?"
            raise ProbeUnreachable(f"cannot connect (MySQL error {code})") from None
        try:
            with connection.cursor() as cursor:
                names = ", ".join(f"'{n}'" for n in STATUS)
                cursor.execute(f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")
                status = {str(k): str(v) for k, v in cursor.fetchall()}
                cursor.execute(
                    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections', 'wsrep_on')"
                )
                variables = {str(k): str(v) for k, v in cursor.fetchall()}
        finally:
            connection.close()
        return status, variables

    return read


def figures(status: Mapping[str, str], variables: Mapping[str, str]) -> dict[str, Any]:
    lowered = {k.lower(): v for k, v in status.items()}

    def number(key: str, source: Mapping[str, str] = lowered) -> float | None:
        try:
            return float(source[key])
        except (KeyError, ValueError):
            return None

    size = number("wsrep_cluster_size")
    connections = number("threads_connected")
    settings = {k.lower(): v for k, v in variables.items()}
    limit = number("max_connections", settings)
    # MariaDB reports wsrep_* (Disconnected) even without Galera: wsrep_on says if it is on.
    if "wsrep_on" in settings:
        galera = settings["wsrep_on"].upper() == "ON"
    else:
        galera = lowered.get("wsrep_cluster_status") not in (None, "Disconnected")
    return {
        "galera": galera,
        "cluster_size": None if size is None else int(size),
        "cluster_status": lowered.get("wsrep_cluster_status"),
        "local_state": lowered.get("wsrep_local_state_comment"),
        "flow_control_paused": number("wsrep_flow_control_paused"),
        "connections": None if connections is None else int(connections),
        "max_connections": None if limit is None else int(limit),
    }


async def probe(source: StatusSource, target: str, timeout: float = 5.0) -> ProbeResult:
    """One read through `source` in a worker thread, bounded by `timeout` (the thread's
    own connect/read timeouts end it; this bounds how long the loop waits)."""
    try:
        async with asyncio.timeout(timeout * 2):
            status, variables = await asyncio.to_thread(source)
    except TimeoutError:
        return ProbeResult("mysql", target, UNREACHABLE, time.time(), error="no answer in time")
    except ProbeUnreachable as exc:
        return ProbeResult("mysql", target, UNREACHABLE, time.time(), error=str(exc))
    except Exception as exc:  # a driver's error: its class, never its text (may echo SQL)
        return ProbeResult("mysql", target, FAILED, time.time(), error=type(exc).__name__)
    return ProbeResult("mysql", target, OK, time.time(), figures(status, variables))
