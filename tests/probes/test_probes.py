"""The probes' parsing and rules, on recorded answers (the real servers: tests/e2e)."""

from __future__ import annotations

import asyncio

import pytest

from osconsole.config import ConfigError, Thresholds, parse_settings
from osconsole.health.plane import PlaneLook
from osconsole.health.probes import probe_conditions, probe_problems
from osconsole.model import RegionRef
from osconsole.probes import memcached, mysql, rabbitmq
from osconsole.probes.base import OK, UNREACHABLE, ProbeResult

REF = RegionRef("c", "R")
STATS = (
    "STAT uptime 99\r\nSTAT evictions 4\r\nSTAT get_hits 90\r\nSTAT get_misses 10\r\n"
    "STAT curr_connections 10\r\nSTAT max_connections 1024\r\nEND\r\n"
)


def result(name: str, **figures: object) -> ProbeResult:
    return ProbeResult(name, "t", OK, 1.0, dict(figures))


def rules(name: str, now: ProbeResult, before: ProbeResult | None = None) -> list[str]:
    return [p.rule for p in probe_problems(name, now, before)]


def test_memcached_stats_parse_into_figures() -> None:
    found = memcached.figures(memcached.parse_stats(STATS))
    assert found == {
        "uptime_s": 99, "evictions": 4, "hit_ratio": 0.9, "connections": 10,
        "max_connections": 1024,
    }  # fmt: skip
    with pytest.raises(ValueError):
        memcached.parse_stats("ERROR\r\n")
    with pytest.raises(ValueError):
        memcached.parse_stats("STAT uptime 1\r\n")


def test_rabbitmq_figures_and_findings() -> None:
    nodes = [
        {"name": "rabbit@a", "running": True, "partitions": ["rabbit@b"], "mem_alarm": True},
        {"name": "rabbit@b", "running": False, "partitions": []},
    ]
    queues = [
        {"name": "notifications.info", "vhost": "/", "messages": 50, "consumers": 0},
        {"name": "compute", "vhost": "/", "messages": 3, "consumers": 2,
         "messages_unacknowledged": 3},
    ]  # fmt: skip
    figures = rabbitmq.figures({"cluster_name": "x"}, nodes, queues)
    assert figures["partitions"] == ["rabbit@b"] and figures["nodes_down"] == ["rabbit@b"]
    assert figures["alarms"] == ["rabbit@a: memory"] and figures["unacked"] == 3
    assert figures["queues_without_consumers"] == {"//notifications.info": 50}
    before = result(
        "rabbitmq", **{**figures, "queues_without_consumers": {"//notifications.info": 20}}
    )
    assert rules("rabbitmq", result("rabbitmq", **figures), before) == [
        "probe.rabbitmq_partition",
        "probe.rabbitmq_node_down",
        "probe.rabbitmq_alarm",
        "probe.rabbitmq_queue_growing",
    ]
    assert (
        rules("rabbitmq", result("rabbitmq", **figures), None)[-1] != "probe.rabbitmq_queue_growing"
    )
    with pytest.raises(ValueError):
        rabbitmq.figures([], nodes, queues)


def test_galera_figures_and_findings() -> None:
    status = {"wsrep_cluster_size": "2", "wsrep_cluster_status": "non-Primary",
              "wsrep_local_state_comment": "Donor/Desynced", "Threads_connected": "95"}  # fmt: skip
    figures = mysql.figures(status, {"max_connections": "100", "wsrep_on": "ON"})
    assert figures["galera"] and figures["cluster_size"] == 2 and figures["connections"] == 95
    now = result("mysql", **figures, expected_cluster_size=3)
    assert rules("mysql", now) == [
        "probe.galera_not_primary", "probe.galera_size", "probe.galera_state",
        "probe.mysql_connections",
    ]  # fmt: skip
    plain = mysql.figures(
        {"Threads_connected": "3", "wsrep_cluster_status": "Disconnected"},
        {"max_connections": "151", "wsrep_on": "OFF"},
    )
    assert not plain["galera"] and rules("mysql", result("mysql", **plain)) == []


def test_memcached_evicting_and_an_unreachable_probe() -> None:
    before = result("memcached a:1", evictions=4)
    assert rules("memcached a:1", result("memcached a:1", evictions=9), before) == [
        "probe.memcached_evicting"
    ]
    assert rules("memcached a:1", result("memcached a:1", evictions=4), before) == []
    down = ProbeResult("mysql", "db:3306", UNREACHABLE, 1.0, error="cannot connect")
    (problem,) = probe_problems("mysql", down, None)
    assert problem.rule == "probe.unreachable" and "db:3306" in problem.reason


def test_probe_conditions_cover_the_probes_looked_at() -> None:
    look = PlaneLook(REF, 5.0, probes={"mysql": result("mysql", galera=True,
        cluster_status="Primary", local_state="Synced")})  # fmt: skip
    found, seen = probe_conditions(look, Thresholds())
    assert found == [] and seen == {"mysql"}


async def test_an_unreachable_memcached_and_mysql_are_results_not_exceptions() -> None:
    found = await memcached.probe("127.0.0.1", 1, timeout=2)
    assert found.status == UNREACHABLE and found.error

    def refused() -> tuple[dict[str, str], dict[str, str]]:
        raise mysql.ProbeUnreachable("cannot connect (MySQL error 2003)")

    assert (await mysql.probe(refused, "db:1")).status == UNREACHABLE

    def hangs() -> tuple[dict[str, str], dict[str, str]]:
        raise RuntimeError("secret SQL text")

    failed = await mysql.probe(hangs, "db:1")
    assert failed.error == "RuntimeError"  # never the driver's text
    assert asyncio.iscoroutinefunction(rabbitmq.probe)


def test_probe_settings_need_read_only_credentials_outside_the_url() -> None:
    text = """
probes:
  - region: R
    rabbitmq: {url: "http://h:15672", username: u, password: p}
    mysql: {host: db, username: u, password: secret, cluster_size: 3}
    memcached: {servers: ["m:11211"]}
"""
    settings = parse_settings(text, "x.yaml")
    assert "secret" not in repr(settings)
    with pytest.raises(ConfigError, match="credentials"):
        parse_settings(
            'probes: [{region: R, rabbitmq: {url: "http://u:p@h", username: u, password: p}}]',
            "x.yaml",
        )
    with pytest.raises(ConfigError, match="host:port"):
        parse_settings("probes: [{region: R, memcached: {servers: [nope]}}]", "x.yaml")
