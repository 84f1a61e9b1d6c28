"""Rules on the supporting services' probes: RabbitMQ, MySQL/Galera, memcached.

Each configured probe is a subject of the region's `probes` aspect (its id the probe's
name). A probe that cannot reach its service is itself a finding; the rest judge the
figures, and two of them the change since the probe before (a queue without consumers
that grows, memcached evicting). Raised at once: probes run every 30 s or more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.findings import Condition, Problem, Severity, Subject, plural
from osconsole.health.plane import Aspect, PlaneLook
from osconsole.probes.base import ProbeResult

NEAR_LIMIT = 0.9  # connections over this share of the limit


def _near_limit(name: str, figures: Mapping[str, Any]) -> Problem | None:
    used, limit = figures.get("connections"), figures.get("max_connections")
    if (
        isinstance(used, int)
        and isinstance(limit, int)
        and limit > 0
        and used >= NEAR_LIMIT * limit
    ):
        return Problem(
            f"probe.{name.split()[0]}_connections",
            Severity.WARNING,
            "connections near limit",
            f"{name}: {used} connections of {limit} allowed",
            essence=f"{name} connections near limit",
        )
    return None


def rabbitmq_problems(now: ProbeResult, before: ProbeResult | None) -> list[Problem]:
    f = now.figures
    found = []
    if f.get("partitions"):
        found.append(
            Problem(
                "probe.rabbitmq_partition",
                Severity.CRITICAL,
                "RabbitMQ partitioned",
                f"RabbitMQ is partitioned: nodes report {', '.join(f['partitions'])} unreachable",
                essence="RabbitMQ partitioned",
            )
        )
    if f.get("nodes_down"):
        found.append(
            Problem(
                "probe.rabbitmq_node_down",
                Severity.CRITICAL,
                "RabbitMQ node down",
                f"RabbitMQ: {f.get('nodes_running')} of {f.get('nodes')} nodes running "
                f"({', '.join(f['nodes_down'])} not)",
                essence="RabbitMQ node down",
            )
        )
    if f.get("alarms"):
        found.append(
            Problem(
                "probe.rabbitmq_alarm",
                Severity.CRITICAL,
                "RabbitMQ alarm",
                f"RabbitMQ alarm (publishers blocked): {', '.join(f['alarms'])}",
                essence="RabbitMQ alarm",
            )
        )
    idle = f.get("queues_without_consumers") or {}
    was = (before.figures.get("queues_without_consumers") or {}) if before and before.ok else {}
    growing = sorted(q for q, n in idle.items() if q in was and n > was[q])
    if growing:
        sample = ", ".join(f"{q} ({was[q]} -> {idle[q]})" for q in growing[:3])
        found.append(
            Problem(
                "probe.rabbitmq_queue_growing",
                Severity.WARNING,
                "queue without consumers growing",
                f"RabbitMQ: {plural(len(growing), 'queue')} without consumers growing: {sample}",
                essence="RabbitMQ queues without consumers growing",
            )
        )
    return found


def mysql_problems(now: ProbeResult) -> list[Problem]:
    f = now.figures
    found = []
    if f.get("galera"):
        status, state = f.get("cluster_status"), f.get("local_state")
        if status != "Primary":
            found.append(
                Problem(
                    "probe.galera_not_primary",
                    Severity.CRITICAL,
                    "Galera not Primary",
                    f"Galera component is {status} (not Primary): this node refuses writes",
                    essence="Galera not Primary",
                )
            )
        size, expected = f.get("cluster_size"), f.get("expected_cluster_size")
        if isinstance(size, int) and isinstance(expected, int) and size < expected:
            found.append(
                Problem(
                    "probe.galera_size",
                    Severity.WARNING,
                    "Galera node missing",
                    f"Galera cluster has {size} of {expected} nodes",
                    essence="Galera cluster smaller than configured",
                )
            )
        if state not in (None, "Synced"):
            found.append(
                Problem(
                    "probe.galera_state",
                    Severity.WARNING,
                    "Galera node not synced",
                    f"Galera node is {state}, not Synced",
                    essence=f"Galera node {state}",
                )
            )
    near = _near_limit("mysql", f)
    return [*found, near] if near else found


def memcached_problems(name: str, now: ProbeResult, before: ProbeResult | None) -> list[Problem]:
    f = now.figures
    found = []
    evictions = f.get("evictions")
    was = before.figures.get("evictions") if before and before.ok else None
    if isinstance(evictions, int) and isinstance(was, int) and evictions > was:
        found.append(
            Problem(
                "probe.memcached_evicting",
                Severity.WARNING,
                "memcached evicting",
                f"{name}: {evictions - was} evictions since the last probe (tokens and "
                "sessions dropped early)",
                essence=f"{name} evicting",
            )
        )
    near = _near_limit(name, f)
    return [*found, near] if near else found


def probe_problems(name: str, now: ProbeResult, before: ProbeResult | None) -> list[Problem]:
    if not now.ok:
        return [
            Problem(
                "probe.unreachable",
                Severity.WARNING,
                "probe failed",
                f"{name} at {now.target}: {now.status}: {now.error}",
                essence=f"{name} {now.status}",
            )
        ]
    if name == "rabbitmq":
        return rabbitmq_problems(now, before)
    if name == "mysql":
        return mysql_problems(now)
    if name.startswith("memcached"):
        return memcached_problems(name, now, before)
    return []


def probe_conditions(look: PlaneLook, thresholds: Thresholds) -> tuple[list[Condition], set[str]]:
    """The conditions of every probe of one look, and the probes it covers."""
    found = []
    for name, result in sorted(look.probes.items()):
        subject = Subject(look.ref, Aspect.PROBES, name, name)  # type: ignore[arg-type]
        for problem in probe_problems(name, result, look.probes_before.get(name)):
            found.append(Condition.of(problem, subject, result.at))
    return found, set(look.probes)
