"""Snapshots as JSON (for cron jobs and chat bots) and as plain tables (for people).

Both come from the same snapshots the console shows; nothing here knows how they
were gathered. Secrets never reach a snapshot, so none can reach an export.

The JSON is an interface: it carries `schema_version` (SCHEMA_VERSION, raised when a
key changes meaning or goes away; new keys do not raise it), and every moment in it
is one form, ISO 8601 in UTC ("2024-05-01T12:03:04.250Z"); durations stay seconds.
The README documents it.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from osconsole.clean import clean_text
from osconsole.cloud.connect import RegionSession
from osconsole.health import ovn
from osconsole.health.assess import Verdicts
from osconsole.health.findings import Assessment, Finding, Severity
from osconsole.model import Agent, Capacity, Hypervisor, Kind, Router, Service, Snapshot
from osconsole.model import TenantSignals as Tenant
from osconsole.views import format_age, format_ratio

SCHEMA_VERSION = 1
TIME_KEYS = frozenset({"since", "last_seen", "expires", "time", "at"})
"""Keys of moments (besides every `*_at`): written as ISO 8601 UTC, never epoch seconds."""


def is_time_key(key: str) -> bool:
    return key in TIME_KEYS or key.endswith("_at") or key == "server_time"


def iso_utc(ts: float | None) -> str | None:
    """An epoch moment as ISO 8601 UTC with milliseconds and Z (None stays None)."""
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def with_iso_times(value: Any) -> Any:
    """`value` (plain JSON data) with the numbers under time keys as ISO 8601 UTC."""
    if isinstance(value, Mapping):
        return {
            k: iso_utc(v)
            if is_time_key(str(k)) and isinstance(v, int | float) and not isinstance(v, bool)
            else with_iso_times(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [with_iso_times(v) for v in value]
    return value


def jsonable(value: Any) -> Any:
    """Plain JSON data from model objects (derived capacity figures included); moments
    as ISO 8601 UTC."""
    return with_iso_times(_plain(value))


def _plain(value: Any) -> Any:
    if isinstance(value, Capacity):
        return {
            "total": value.total,
            "used": value.used,
            "reserved": value.reserved,
            "allocation_ratio": value.allocation_ratio,
            "capacity": value.capacity,
            "used_ratio": value.used_ratio,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


_iso = iso_utc


def region_summary(session: RegionSession) -> dict[str, Any]:
    stats = {
        service: {
            "calls": s.calls,
            "errors": s.errors,
            "p50_ms": s.percentile(0.5),
            "p95_ms": s.percentile(0.95),
            "last_error": s.last_error,
        }
        for service, s in sorted(session.client.stats.items())
    }
    return {
        "cloud": session.ref.cloud,
        "region": session.ref.region,
        "readonly": session.readonly,
        "microversions": dict(session.client.microversions),
        "requests": session.client.requests_sent,
        "api": stats,
        "notes": list(session.notes),
    }


def failures(
    snapshots: Iterable[Snapshot[Any]], connection_errors: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Everything that could not be read, one entry per region and kind, for the JSON
    `errors` list and stderr: a failed poll (`partial` false) or a partial one (true).
    A cloud that could not be connected at all has no region or kind (None)."""
    found: list[dict[str, Any]] = [
        {"cloud": None, "region": None, "kind": None, "reason": error, "partial": False}
        for error in connection_errors
    ]
    for snap in snapshots:
        if not snap.error and snap.complete:
            continue
        found.append(
            {
                "cloud": snap.ref.cloud,
                "region": snap.ref.region,
                "kind": snap.kind.value,
                "reason": snap.error or "; ".join(snap.notes) or "incomplete",
                "partial": not snap.error,
            }
        )
    return found


def snapshot_document(
    sessions: Iterable[RegionSession],
    snapshots: Iterable[Snapshot[Any]],
    errors: Iterable[Mapping[str, Any]],
    *,
    now: float,
    extra: Mapping[str, Any] | None = None,
    plane: Mapping[Any, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The whole `osconsole snapshot -f json` document; `plane` adds each region's
    control-plane entries (availability, lead_times, probes: osconsole.controlplane)."""
    plane = plane or {}
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(now),
        "regions": [{**region_summary(s), **plane.get(s.ref, {})} for s in sessions],
        "snapshots": [
            {
                "cloud": snap.ref.cloud,
                "region": snap.ref.region,
                "kind": snap.kind.value,
                "fetched_at": _iso(snap.fetched_at),
                "server_time": _iso(snap.server_time),
                "complete": snap.complete,
                "stale": snap.stale,
                "error": snap.error,
                "notes": list(snap.notes),
                "requests": snap.requests,
                "duration_ms": round(snap.duration_ms, 1),
                "count": item_count(snap),
                "items": [jsonable(item) for item in snap.items.values()],
                **_backend_facts(snap),
            }
            for snap in snapshots
        ],
        "errors": [dict(error) for error in errors],
        **with_iso_times(dict(extra or {})),
    }


def _backend_facts(snap: Snapshot[Any]) -> dict[str, Any]:
    """For an ML2/OVN region's routers: its gateway chassis, their liveness and how many
    gateways each holds (every router's own gateway is in its item)."""
    if not ovn.is_ovn(snap):
        return {}
    chassis = ovn.gateway_chassis(snap)
    return {
        "backend": "ovn",
        "gateway_chassis": None if chassis is None else [c.as_dict() for c in chassis],
    }


def findings_document(
    findings: Sequence[Finding], errors: Iterable[Mapping[str, Any]], *, now: float
) -> dict[str, Any]:
    """`snapshot --findings-only -f json`: the findings alone, same schema and keys."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(now),
        "findings": [with_iso_times(f.as_dict()) for f in findings],
        "errors": [dict(error) for error in errors],
    }


def assessments_document(verdicts: Verdicts) -> list[dict[str, Any]]:
    """One entry per object read (regions first): its severity (the highest of its
    active problems, "ok" without any, "unknown" when it could not be judged) and its
    problems. The `findings` of the same document are exactly its active problems."""
    found = []
    for subject, assessment in verdicts.each():
        entry: dict[str, Any] = {
            "cloud": subject.cloud,
            "region": subject.region,
            "kind": str(subject.kind),
            "id": subject.id,
            "name": subject.name,
            "severity": assessment.severity.word,
            "problems": [p.as_dict() for p in assessment.problems],
        }
        if assessment.unknown:
            entry["unknown"] = assessment.unknown
        found.append(entry)
    return found


def item_count(snap: Snapshot[Any]) -> int | None:
    """How many items a snapshot holds; None (unknown, never 0) when its poll failed
    with nothing read before: no items then says nothing about how many there are."""
    if snap.never_read:
        return None
    return len(snap.items)


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False, default=str)


# -- tables ---------------------------------------------------------------------


def _pct(cap: Capacity | None) -> str:
    return format_ratio(None if cap is None else cap.used_ratio)


def _hypervisor_row(h: Hypervisor) -> list[str]:
    return [
        h.hostname,
        h.state,
        h.status,
        _pct(h.vcpu),
        _pct(h.memory_mb),
        _pct(h.disk_gb),
        "-" if h.running_vms is None else str(h.running_vms),
        h.disabled_reason or "",
    ]


def _service_row(s: Service) -> list[str]:
    state = "forced down" if s.forced_down else s.state
    return [
        s.project,
        s.binary,
        s.host,
        state,
        s.status,
        format_age(s.heartbeat_age),
        s.disabled_reason or "",
    ]


def _agent_row(a: Agent) -> list[str]:
    return [
        a.agent_type,
        a.host,
        "alive" if a.alive else "DEAD",
        "up" if a.admin_state_up else "admin-down",
        format_age(a.heartbeat_age),
    ]


def _router_row(r: Router) -> list[str]:
    if r.gateway is not None:  # ML2/OVN: the gateway's chassis, then the candidates
        where = r.gateway.host or "no chassis"
        candidates = "not swept" if r.bindings is None else str(len(r.bindings))
        states = f"gateway on {where} ({r.gateway.status}); candidates: {candidates}"
        return [r.name or r.id, r.status, "OVN", str(int(r.gateway.active)), states]
    if r.bindings is None:
        states = "not swept"
    else:
        states = ", ".join(f"{b.host}:{b.ha_state or '-'}" for b in r.bindings) or "no agent"
    ha = "?" if r.ha is None else ("HA" if r.ha else "legacy")
    return [r.name or r.id, r.status, ha, str(len(r.active_hosts)), states]


def _known(value: Any) -> str:
    """A count as the table prints it: "?" when it could not be read (never 0)."""
    if value is None:
        return "?"
    return str(len(value)) if isinstance(value, tuple) else str(value)


def _tenant_row(t: Tenant) -> list[str]:
    churn = (
        "?"
        if t.created_last_hour is None or t.deleted_last_hour is None
        else f"+{t.created_last_hour}/-{t.deleted_last_hour}"
    )
    return [
        t.project_name,
        _known(t.servers),
        _known(t.error_servers),
        _known(t.stuck_servers),
        churn,
        _known(t.spoofing_ports),
        _known(t.open_ingress_rules),
        _known(t.floating_ips),
    ]


TABLES: dict[Kind, tuple[list[str], Callable[[Any], list[str]]]] = {
    Kind.HYPERVISORS: (
        ["HOST", "STATE", "STATUS", "VCPU", "RAM", "DISK", "VMS", "DISABLED REASON"],
        _hypervisor_row,
    ),
    Kind.SERVICES: (
        ["PROJECT", "BINARY", "HOST", "STATE", "STATUS", "HEARTBEAT", "DISABLED REASON"],
        _service_row,
    ),
    Kind.AGENTS: (["TYPE", "HOST", "ALIVE", "ADMIN", "HEARTBEAT"], _agent_row),
    Kind.ROUTERS: (["ROUTER", "STATUS", "MODE", "ACTIVES", "AGENTS (host:ha_state)"], _router_row),
    Kind.TENANTS: (
        ["PROJECT", "SERVERS", "ERROR", "STUCK", "CHURN/H", "SPOOF", "OPEN", "FIPS"],
        _tenant_row,
    ),
}


def format_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def findings_table(findings: Sequence[Finding]) -> str:
    """The findings, worst first: severity, where, and the reason in plain words.

    One look cannot debounce: a router in a normal failover may show here and be
    gone a minute later (the console waits `router_debounce_s` before raising it).
    """
    counts = Counter(f.severity.name.lower() for f in findings)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("critical", "warning", "info") if counts[s])
    lines = [f"== Findings: {summary or 'none'}"]
    ordered = sorted(findings, key=lambda f: (-f.severity, f.subject.region, f.reason))
    rows = [[f.severity.name, f"{f.subject.cloud}/{f.subject.region}", f.reason] for f in ordered]
    if rows:
        lines.append(format_table(["SEVERITY", "WHERE", "WHAT"], rows))
    return "\n".join(lines)


def trouble_first(snapshots: Iterable[Snapshot[Any]]) -> list[Snapshot[Any]]:
    """Regions with a stale (failed) kind first, then partial ones, then the rest; the
    order is kept otherwise: the reader of a cron mail sees what went wrong on top."""
    snapshots = list(snapshots)
    rank: dict[Any, int] = {}
    for snap in snapshots:
        trouble = 0 if snap.stale or snap.error else 1 if not snap.complete else 2
        rank[snap.ref] = min(rank.get(snap.ref, 2), trouble)
    return sorted(snapshots, key=lambda snap: rank[snap.ref])


SEVERITY_TEXT = {
    Severity.CRITICAL: "CRITICAL",
    Severity.WARNING: "warning",
    Severity.UNKNOWN: "?",
    Severity.INFO: "info",
    Severity.OK: "ok",
}


def _judged_row(
    row: Callable[[Any], list[str]], judged: Callable[[str], Assessment]
) -> Callable[[Any], list[str]]:
    def with_severity(item: Any) -> list[str]:
        key = getattr(item, "id", None) or item.project_id
        return [SEVERITY_TEXT[judged(key).severity], *row(item)]

    return with_severity


def snapshot_tables(
    snapshots: Iterable[Snapshot[Any]], now: float, verdicts: Verdicts | None = None
) -> str:
    """One titled table per region and kind, with age, completeness and errors; stale
    and partial regions first; each row starts with the object's severity (its
    assessment) when `verdicts` are given."""
    blocks = []
    for snap in trouble_first(snapshots):
        header, row = TABLES[snap.kind]
        if verdicts is not None:
            header = ["SEV", *header]
            row = _judged_row(row, lambda i, s=snap: verdicts.of(s.ref, s.kind, i))
        state = "complete" if snap.complete else "PARTIAL"
        if snap.stale:  # errors and notes quote exceptions: cleaned like API text
            state = f"STALE ({clean_text(snap.error)})"
        count = item_count(snap)
        title = (
            f"== {snap.ref} {snap.kind.value}: {'?' if count is None else count} "
            f"[{state}; {snap.requests} requests, {snap.duration_ms:.0f} ms, "
            f"age {format_age(snap.age(now))}]"
        )
        lines = [title]
        lines += [f"   note: {clean_text(note)}" for note in snap.notes]
        if snap.items:
            lines.append(format_table(header, [row(item) for item in snap.items.values()]))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
