"""The probes against real memcached, MariaDB and RabbitMQ (skipped when not installed).

Real servers speak their protocols better than any imitation of ours: these check the
parsing of true `stats`, `SHOW GLOBAL STATUS` and management API answers, with a
read-only account where there is one, and that the figures move as they should.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import httpx
import pytest

from osconsole.probes import memcached, mysql, rabbitmq
from osconsole.probes.base import FAILED, OK, UNREACHABLE
from tests.e2e.realservers import mariadb_server, memcached_server, rabbitmq_server

pytestmark = pytest.mark.e2e


async def test_memcached_stats_from_a_real_server(tmp_path: Path) -> None:
    with memcached_server(tmp_path) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"set k 0 0 1\r\nv\r\nget k\r\nget missing\r\n")
        await writer.drain()
        await reader.readuntil(b"END\r\n")
        await reader.readuntil(b"END\r\n")
        writer.close()
        found = await memcached.probe("127.0.0.1", port, timeout=5)
    assert found.status == OK, found.error
    f = found.figures
    assert f["hit_ratio"] == 0.5 and f["evictions"] == 0
    assert f["uptime_s"] >= 0 and 0 < f["connections"] < f["max_connections"]
    gone = await memcached.probe("127.0.0.1", port, timeout=2)
    assert gone.status == UNREACHABLE


async def test_mysql_status_through_a_read_only_account(tmp_path: Path) -> None:
    pytest.importorskip("pymysql", reason="the probes extra: pip install 'osconsole[probes]'")
    with mariadb_server(tmp_path) as (port, sock):
        subprocess.run(
            ["mariadb", f"--socket={sock}", "-uroot", "-e",
             "CREATE USER 'monitor'@'127.0.0.1' IDENTIFIED BY 'ro-secret'"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        source = mysql.pymysql_source("127.0.0.1", port, "monitor", "ro-secret", timeout=5)
        found = await mysql.probe(source, f"127.0.0.1:{port}")
        wrong = mysql.pymysql_source("127.0.0.1", port, "monitor", "nope", timeout=5)
        refused = await mysql.probe(wrong, f"127.0.0.1:{port}")
    assert found.status == OK, found.error
    f = found.figures
    assert f["galera"] is False  # a lone server: no wsrep status
    assert f["connections"] >= 1 and f["max_connections"] >= f["connections"]
    assert refused.status == UNREACHABLE and "1045" in (refused.error or "")
    assert "nope" not in repr(refused)


async def test_rabbitmq_management_api_of_a_real_broker(tmp_path: Path) -> None:
    with rabbitmq_server(tmp_path) as api:
        url = f"http://127.0.0.1:{api}"
        async with httpx.AsyncClient(auth=("guest", "guest"), timeout=10) as admin:
            # read-only: the monitoring tag, and no configure, write or read permission
            monitor = {"password": "ro", "tags": "monitoring"}
            assert (await admin.put(f"{url}/api/users/monitor", json=monitor)).is_success
            none = {"configure": "", "write": "", "read": ""}
            assert (await admin.put(f"{url}/api/permissions/%2F/monitor", json=none)).is_success
        found = await rabbitmq.probe(url, "monitor", "ro", timeout=5)
        denied = await rabbitmq.probe(url, "monitor", "wrong", timeout=5)
    assert found.status == OK, found
    f = found.figures
    assert f["nodes"] == f["nodes_running"] == 1 and f["partitions"] == [] and f["alarms"] == []
    assert f["queues_without_consumers"] == {} and f["unacked"] == 0
    assert denied.status == FAILED and "401" in (denied.error or "")
