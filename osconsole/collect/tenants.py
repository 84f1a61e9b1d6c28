"""Tenant signals: what each project does in a region, in a handful of listings per poll.

Watching every project must not cost a request per project per poll, and listing
every server of a large region every minute is what hurts Nova most. So servers
and ports are kept in compact per-collector caches: a full listing on the first
poll and every `intervals.full_resync` seconds (server time), and between those
only what changed since the previous poll (`changes-since` / `changed_since`).
Nova reports deleted servers in `changes-since` answers, which is how deletions
are counted; Neutron's `changed_since` does not report deleted ports, so only a
full resync drops them. Security group rules and floating IPs are two and one
cheap filtered listings. Quotas cost one call per project and service (Neutron's,
Nova's, and Cinder's where the catalog has it), so they are swept within the
region's budget, the most suspicious projects first, and a project's quota of one
service is read again only when what moves it changed, or after full_resync.

Ages (stuck servers, "last hour") are measured against the server's clock.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar

from osconsole.clean import clean_text
from osconsole.cloud import compute, identity, network, volume
from osconsole.cloud.http import ApiFailure, Forbidden, NotDeployed, RegionClient
from osconsole.collect.base import Collected, Collector
from osconsole.collect.parse import iso_utc, utc_timestamp
from osconsole.leadtimes import LeadTimes
from osconsole.model import Kind, Snapshot, TenantSignals

HOUR = 3600.0
OVERLAP_S = 2.0  # changes-since starts this much before the last listing, for clock skew
OPEN_PREFIXES = ("0.0.0.0/0", "::/0")
PORT_FIELDS = [
    "id",
    "project_id",
    "device_owner",
    "allowed_address_pairs",
    "port_security_enabled",
    "updated_at",
    "status",  # a port in BUILD too long is stuck (osconsole.leadtimes): same request
]
RULE_FIELDS = ["id", "project_id", "port_range_min", "remote_ip_prefix"]
FIP_FIELDS = ["id", "project_id", "created_at", "status"]
DELETED = "DELETED"
T = TypeVar("T")
K = TypeVar("K")


# -- compact records -------------------------------------------------------------


class ServerRecord(NamedTuple):
    """What the signals need of one server (a few strings and two floats)."""

    project_id: str
    status: str
    task_state: str | None
    created: float | None
    updated: float | None


class PortRecord(NamedTuple):
    project_id: str
    spoofing: bool
    building_since: float | None = None  # its `updated_at` while in BUILD, else None


class RuleRecord(NamedTuple):
    id: str
    project_id: str
    port: int  # 0 means every port


class FipRecord(NamedTuple):
    id: str
    project_id: str
    created: float | None


# -- pure helpers ----------------------------------------------------------------


def parse_server(body: Any) -> tuple[str, ServerRecord] | None:
    """(id, record) from one `/servers/detail` item; None when it lacks an id or owner."""
    if not isinstance(body, dict):
        return None
    server_id, project_id = body.get("id"), body.get("tenant_id") or body.get("project_id")
    if not isinstance(server_id, str) or not isinstance(project_id, str) or not project_id:
        return None
    task_state = body.get("OS-EXT-STS:task_state")
    record = ServerRecord(  # interned: 100,000 records share a few hundred strings
        project_id=sys.intern(clean_text(project_id)),
        status=sys.intern(clean_text(body.get("status") or "UNKNOWN").upper()),
        task_state=sys.intern(clean_text(task_state)) if task_state else None,
        created=utc_timestamp(body.get("created")),
        updated=utc_timestamp(body.get("updated")),
    )
    return clean_text(server_id), record


def is_open_prefix(prefix: Any) -> bool:
    """Whether an address (pair) covers every address: a prefix of length 0."""
    if not isinstance(prefix, str) or "/" not in prefix:
        return False
    try:
        return ipaddress.ip_network(prefix.strip(), strict=False).prefixlen == 0
    except ValueError:
        return False


def port_spoofs(body: Mapping[str, Any]) -> bool:
    """An any-address allowed pair, or port security off on an instance's port."""
    pairs = body.get("allowed_address_pairs") or []
    if isinstance(pairs, list) and any(
        isinstance(p, dict) and is_open_prefix(p.get("ip_address")) for p in pairs
    ):
        return True
    owner = str(body.get("device_owner") or "")
    return owner.startswith("compute:") and body.get("port_security_enabled") is False


def parse_port(body: Any) -> tuple[str, PortRecord] | None:
    """(id, record); infrastructure ports (HA, some DHCP) have an empty project and are
    kept with it, as no project's signal."""
    if not isinstance(body, dict):
        return None
    port_id = body.get("id")
    project_id = body.get("project_id", body.get("tenant_id"))
    if not isinstance(port_id, str) or not isinstance(project_id, str):
        return None
    building = None
    if str(body.get("status")).upper() == "BUILD":
        building = utc_timestamp(body.get("updated_at"))
    project = sys.intern(clean_text(project_id))
    return clean_text(port_id), PortRecord(project, port_spoofs(body), building)


def parse_rule(body: Any) -> RuleRecord | None:
    if not isinstance(body, dict):
        return None
    rule_id, project_id = body.get("id"), body.get("project_id") or body.get("tenant_id")
    if not isinstance(rule_id, str) or not isinstance(project_id, str) or not project_id:
        return None
    port = body.get("port_range_min")
    try:
        number = 0 if port is None else int(port)
    except (TypeError, ValueError):
        return None
    return RuleRecord(clean_text(rule_id), clean_text(project_id), number)


def parse_fip(body: Any) -> FipRecord | None:
    if not isinstance(body, dict):
        return None
    fip_id, project_id = body.get("id"), body.get("project_id") or body.get("tenant_id")
    if not isinstance(fip_id, str) or not isinstance(project_id, str) or not project_id:
        return None
    return FipRecord(
        clean_text(fip_id), clean_text(project_id), utc_timestamp(body.get("created_at"))
    )


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_quota(
    details: Mapping[str, Any],
    *,
    used_key: str = "used",
    resources: Set[str] | None = None,
) -> dict[str, tuple[int, int]] | None:
    """{resource: (used, limit)} for the `resources` (all when None) with a real limit
    (> 0: -1 is unlimited); `used` includes what is reserved, as it counts against the
    limit too. A resource without a numeric use or limit is left out, never taken as 0;
    None when no resource could be read at all (an answer of the wrong shape)."""
    usage: dict[str, tuple[int, int]] = {}
    readable = False
    for resource, value in details.items():
        if (resources is not None and resource not in resources) or not isinstance(value, dict):
            continue
        used, limit = _count(value.get(used_key)), _count(value.get("limit"))
        if used is None or limit is None:
            continue
        readable = True
        if limit > 0:
            usage[clean_text(resource)] = (used + max(0, _count(value.get("reserved")) or 0), limit)
    return usage if readable else None


def parse_all(bodies: Iterable[Any], parse: Callable[[Any], T | None]) -> tuple[list[T], int]:
    """Every item that parses, and how many did not (skipped, not fatal)."""
    good: list[T] = []
    bad = 0
    for body in bodies:
        parsed = parse(body)
        if parsed is None:
            bad += 1
        else:
            good.append(parsed)
    return good, bad


def is_stuck(record: ServerRecord, now: float, after: float) -> bool:
    """BUILD, or a task in flight, without an update for longer than `after` seconds."""
    transitional = record.status == "BUILD" or record.task_state is not None
    return transitional and record.updated is not None and now - record.updated > after


def recent(events: Mapping[str, tuple[str, float]], now: float) -> dict[str, int]:
    """Per project, the events (id -> (project, when)) of the last hour."""
    counts: dict[str, int] = {}
    for project_id, when in events.values():
        if now - HOUR <= when <= now + OVERLAP_S:
            counts[project_id] = counts.get(project_id, 0) + 1
    return counts


def summarise(
    *,
    names: Mapping[str, str],
    servers: Mapping[str, ServerRecord] | None,
    ports: Mapping[str, PortRecord] | None,
    rules: Iterable[RuleRecord] | None,
    fips: Iterable[FipRecord] | None,
    created: Mapping[str, tuple[str, float]],
    deleted: Mapping[str, tuple[str, float]],
    quotas: Mapping[str, Mapping[str, Mapping[str, tuple[int, int]]]],
    now: float,
    stuck_after: float,
) -> dict[str, TenantSignals]:
    """TenantSignals for every project with anything in the region, keyed by project id.

    A listing never read is None, and so are the signals it gives (unknown, not zero);
    created and deleted counts come with the servers listing."""
    acc: dict[str, dict[str, Any]] = {}

    def entry(project_id: str) -> dict[str, Any]:
        return acc.setdefault(
            project_id,
            {
                "servers": 0,
                "errors": [],
                "stuck": [],
                "spoof": [],
                "rules": [],
                "ports": set(),
                "fips": 0,
                "fips_new": 0,
            },
        )

    for server_id, record in (servers or {}).items():
        e = entry(record.project_id)
        e["servers"] += 1
        if record.status == "ERROR":
            e["errors"].append(server_id)
        if is_stuck(record, now, stuck_after):
            e["stuck"].append(server_id)
    for port_id, port in (ports or {}).items():
        if port.project_id:
            e = entry(port.project_id)
            if port.spoofing:
                e["spoof"].append(port_id)
    for rule in rules or ():
        e = entry(rule.project_id)
        e["rules"].append(rule.id)
        e["ports"].add(rule.port)
    for fip in fips or ():
        e = entry(fip.project_id)
        e["fips"] += 1
        if fip.created is not None and now - HOUR <= fip.created <= now + OVERLAP_S:
            e["fips_new"] += 1
    new, gone = recent(created, now), recent(deleted, now)
    for project_id in (*new, *gone):
        entry(project_id)

    def read(source: object, value: T) -> T | None:
        return None if source is None else value

    return {
        project_id: TenantSignals(
            project_id=project_id,
            project_name=names.get(project_id) or project_id,
            servers=read(servers, e["servers"]),
            error_servers=read(servers, tuple(sorted(e["errors"]))),
            stuck_servers=read(servers, tuple(sorted(e["stuck"]))),
            created_last_hour=read(servers, new.get(project_id, 0)),
            deleted_last_hour=read(servers, gone.get(project_id, 0)),
            spoofing_ports=read(ports, tuple(sorted(e["spoof"]))),
            open_ingress_rules=read(rules, tuple(sorted(e["rules"]))),
            open_ingress_ports=read(rules, tuple(sorted(e["ports"]))),
            floating_ips=read(fips, e["fips"]),
            floating_ips_created_last_hour=read(fips, e["fips_new"]),
            quotas=dict(quotas.get(project_id, {})),
        )
        for project_id, e in sorted(acc.items())
    }


def suspicion(signals: TenantSignals) -> float:
    """How much a project's quota pressure is worth checking first: abuse looks like
    spoofing, failing builds, open ingress and churn."""
    return (
        10.0 * len(signals.spoofing_ports or ())
        + 5.0 * len(signals.error_servers or ())
        + 2.0 * len(signals.stuck_servers or ())
        + 3.0 * len(signals.open_ingress_rules or ())
        + (signals.created_last_hour or 0)
        + (signals.deleted_last_hour or 0)
        + (signals.floating_ips_created_last_hour or 0)
    )


def footprint(signals: TenantSignals) -> tuple[int | None, ...]:
    """What moves a project's Neutron quota use: when none of it changed, neither did
    the quota (an unknown signal is None: once read, it counts as a change)."""

    def count(ids: tuple[str, ...] | None) -> int | None:
        return None if ids is None else len(ids)

    return (
        signals.servers,
        count(signals.spoofing_ports),
        count(signals.open_ingress_rules),
        signals.floating_ips,
        signals.created_last_hour,
        signals.deleted_last_hour,
    )


def server_footprint(signals: TenantSignals) -> tuple[int | None, ...]:
    """What moves a project's Nova quota use (servers, their cores and RAM). Cinder's
    moves with volumes, which no listing here watches; servers booted from volume bring
    theirs, so it is read again when the servers move, and after full_resync anyway."""
    return (signals.servers, signals.created_last_hour, signals.deleted_last_hour)


@dataclass(frozen=True)
class QuotaSource:
    """One service's quota call per project, and how to read its answer."""

    service: str  # as operators say it: neutron, nova, cinder
    api: str  # the client's name for it: network, compute, volume
    read: Callable[[RegionClient, str], Awaitable[Mapping[str, Any]]]
    used_key: str
    resources: frozenset[str] | None  # None: every resource of the answer
    moves: Callable[[TenantSignals], tuple[int | None, ...]]  # what moves its use


# The calls are looked up when made (lambdas), so a wrapped or replaced cloud function
# is the one used.
QUOTA_SOURCES = (
    QuotaSource(
        "neutron", "network", lambda c, p: network.quota_details(c, p), "used", None, footprint
    ),
    QuotaSource(
        "nova",
        "compute",
        lambda c, p: compute.quota_usage(c, p),
        "in_use",
        frozenset({"instances", "cores", "ram"}),
        server_footprint,
    ),
    QuotaSource(
        "cinder",
        "volume",
        lambda c, p: volume.quota_usage(c, p),
        "in_use",
        frozenset({"volumes", "gigabytes", "snapshots"}),
        server_footprint,
    ),
)
QuotaKey = tuple[str, str]  # (project id, service)


def quota_order(
    scores: Mapping[K, float],
    checked_at: Mapping[K, float],
    allowance: int | None,
    *,
    now: float | None = None,
    quiet_age: float = 0.0,
    moved: Set[K] | None = None,
) -> list[K]:
    """What to sweep this poll (projects, or (project, service) reads, one request
    each): all when unpaced; else half the allowance to the most suspicious, the rest
    to those checked longest ago (never-checked first), so every project's quota is
    read again in time however many suspicious ones there are.

    One read less than `quiet_age` seconds before `now` is done again only if it
    is in `moved` (its footprint changed since that read: quota use moves with the
    servers, ports and addresses we already watch). Without `moved`, only quiet
    projects (score 0) wait.
    """
    if now is not None and quiet_age > 0:

        def due(p: K) -> bool:
            if now - checked_at.get(p, -math.inf) >= quiet_age:
                return True
            return p in moved if moved is not None else scores[p] > 0

        scores = {p: score for p, score in scores.items() if due(p)}
    ranked = sorted(scores, key=lambda p: (-scores[p], checked_at.get(p, -math.inf), p))
    if allowance is None:
        return ranked
    allowance = max(0, allowance)
    chosen = [p for p in ranked if scores[p] > 0][: (allowance + 1) // 2]
    picked = set(chosen)
    stale = sorted(
        (p for p in scores if p not in picked),
        key=lambda p: (checked_at.get(p, -math.inf), -scores[p], p),
    )
    return chosen + stale[: allowance - len(chosen)]


def prune(events: dict[str, tuple[str, float]], now: float) -> None:
    """Forget events older than an hour (the caches keep only what the signals use)."""
    for key in [k for k, (_, when) in events.items() if when < now - HOUR]:
        del events[key]


# -- collector state ---------------------------------------------------------------


@dataclass
class Incremental:
    """A cache kept current by full listings and `changes since` listings."""

    records: dict[str, Any] = field(default_factory=dict)
    mark: float | None = None  # server time the next changes listing starts from
    full_at: float | None = None  # server time of the last successful full listing

    def due_full(self, now: float | None, period: float) -> bool:
        if self.full_at is None or self.mark is None:
            return True
        return now is not None and now - self.full_at >= period


@dataclass
class Listing:
    """One listing's outcome: items, the server's clock, and how long it took."""

    items: list[dict[str, Any]]
    server_time: float | None
    elapsed: float


async def timed(call: Awaitable[tuple[list[dict[str, Any]], float | None]]) -> Listing:
    started = time.monotonic()
    items, server_time = await call
    return Listing(items, server_time, time.monotonic() - started)


def next_mark(listing: Listing, fallback: float | None) -> float | None:
    """Where the next changes listing starts: when this one began (server time), minus
    the overlap; the Date header has whole seconds and pages take time."""
    if listing.server_time is None:
        return None if fallback is None else fallback - OVERLAP_S
    return listing.server_time - listing.elapsed - OVERLAP_S


def reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, ApiFailure) else f"{type(exc).__name__}: {exc}"


# -- the collector -----------------------------------------------------------------


class TenantCollector(Collector):
    """Per-project signals (servers, ports, rules, floating IPs, quotas) in one region."""

    kind = Kind.TENANTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.names: dict[str, str] = {}
        self.names_note: str | None = None
        self.servers = Incremental()
        self.ports = Incremental()
        self.rules: list[RuleRecord] | None = None  # None: never read in this region
        self.fips: list[FipRecord] | None = None
        self.unreadable = 0  # items of this poll's listings that could not be read
        self.created: dict[str, tuple[str, float]] = {}
        self.deleted: dict[str, tuple[str, float]] = {}
        self.deletions_since: float | None = None  # server time deletions are tracked from
        self.quotas: dict[str, dict[str, dict[str, tuple[int, int]]]] = {}  # project, service
        self.quota_checked: dict[QuotaKey, float] = {}  # server time of the last good read
        self.quota_seen: dict[QuotaKey, tuple[int | None, ...]] = {}  # what moved it, then
        self.last_time: float | None = None
        self.last_mono = 0.0
        self.lead_times = LeadTimes()  # boots and deletes, from the same listings

    def versions_changed(self, services: list[str]) -> None:
        if "compute" in services:  # server records read at the old version: list them
            self.servers.mark = None  # all again (a full listing replaces every record)

    # -- one poll --

    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        notes: list[str] = []
        failures: list[BaseException] = []
        self.unreadable = 0
        now, cheap_usable = await self._cheap_listings(notes, failures)
        estimated = self._estimate_now(now)
        full_servers = self.servers.due_full(estimated, self.settings.intervals.full_resync)
        full_ports = self.ports.due_full(estimated, self.settings.intervals.full_resync)
        results = await asyncio.gather(
            self._servers_listing(full_servers),
            self._ports_listing(full_ports),
            self._names() if full_servers else _nothing(),
            return_exceptions=True,
        )
        _reraise_bugs(results)
        srv, prt, names = results
        if not cheap_usable and not isinstance(srv, Listing) and not isinstance(prt, Listing):
            raise _first_failure([*failures, *_errors(results)])  # nothing usable came back
        times = [t for t in (now, _time_of(srv), _time_of(prt)) if t is not None]
        now = max(times) if times else estimated
        if now is None:
            now = self.clock()
            notes.append("no Date header in the answers: ages measured with the local clock")
        self._remember_time(now)
        changes = self._apply_servers(srv, full_servers, now, notes, failures)
        port_changes = self._apply_ports(prt, full_ports, now, notes, failures)
        self._apply_names(names, notes)
        items = self._summary(now)
        services = await self._quota_services()
        swept, quota_failed = await self._sweep_quotas(items, services, notes)
        items = {pid: self._with_quotas(sig, services) for pid, sig in items.items()}
        quota_unread = sum(len(sig.quotas_unknown) for sig in items.values())
        total = sum(swept.values())
        extra = self._extra(now, full_servers, full_ports, changes, port_changes, total)
        extra["quota_reads"] = swept
        stuck_after = self.settings.thresholds.stuck_server_s
        if isinstance(srv, Listing):  # else unknown: held BUILD records would age into STUCK
            ports = self.ports.records if self.ports.full_at is not None else None
            extra["lead_times"] = self.lead_times.summary(
                now, self.servers.records, stuck_after, ports=ports
            )
        extra["quota_projects"] = len(items)
        return Collected(
            items=items,
            server_time=now,
            # Like the paced router and Placement sweeps: incomplete until every
            # project's quotas have been read once.
            complete=not failures
            and not self.unreadable
            and not quota_failed
            and quota_unread == 0,
            notes=tuple(notes),
            extra=extra,
            partly_read=frozenset(pid for pid, sig in items.items() if sig.unread),
        )

    def _extra(
        self,
        now: float,
        full_servers: bool,
        full_ports: bool,
        server_changes: int,
        port_changes: int,
        swept: int,
    ) -> dict[str, Any]:
        """How this poll went, for the status line and for honest caveats."""
        extra: dict[str, Any] = {
            "mode": "full" if full_servers else "incremental",  # the servers listing
            "ports_mode": "full" if full_ports else "incremental",
            "server_changes": server_changes,
            "port_changes": port_changes,
            "servers_cached": len(self.servers.records),
            "ports_cached": len(self.ports.records),
            "deletions_tracked_since": self.deletions_since,
            "deleted_last_hour_complete": self._deletions_complete(now),
            "quota_swept": swept,  # quota requests answered, every service together
            "names_from": "ids" if self.names_note else "keystone",
        }
        if not extra["deleted_last_hour_complete"]:
            extra["deleted_last_hour_note"] = (
                "deletions are counted only from the first poll on (less than an hour "
                "ago): deleted_last_hour may be low; created_last_hour comes from `created`"
            )
        return extra

    def _skipped(self, notes: list[str], what: str, bad: int) -> None:
        """Items that could not be read make the poll partial, and the note says so."""
        if bad:
            self.unreadable += bad
            notes.append(f"{what}: skipped {bad} item(s) without an id or a project")

    # -- clock --

    def _estimate_now(self, now: float | None) -> float | None:
        """The server's time now; from the last answer plus local elapsed time when this
        poll has no answer yet (only the passing of time is taken from the local clock)."""
        if now is not None or self.last_time is None:
            return now
        return self.last_time + (time.monotonic() - self.last_mono)

    def _remember_time(self, now: float) -> None:
        self.last_time, self.last_mono = now, time.monotonic()

    def _deletions_complete(self, now: float) -> bool:
        return self.deletions_since is not None and now - self.deletions_since >= HOUR

    # -- rules and floating IPs: full listings every poll --

    async def _cheap_listings(
        self, notes: list[str], failures: list[BaseException]
    ) -> tuple[float | None, bool]:
        """Open ingress rules and floating IPs; also tells the server's clock, which
        decides whether servers and ports are due for a full resync. Returns that
        clock and whether anything was read."""
        calls = [
            network.security_group_rules(
                self.client, direction="ingress", remote_ip_prefix=prefix, fields=RULE_FIELDS
            )
            for prefix in OPEN_PREFIXES
        ]
        calls.append(network.floating_ips(self.client, fields=FIP_FIELDS))
        results = await asyncio.gather(*calls, return_exceptions=True)
        _reraise_bugs(results)
        v4, v6, fips = results
        if isinstance(fips, NotDeployed):  # not deployed here: nothing to read, not a failure
            notes.append(f"security group rules and floating IPs: {fips.reason}")
            return None, False
        times: list[float] = []
        rules_failed = [r for r in (v4, v6) if isinstance(r, BaseException)]
        if rules_failed:
            failures.extend(rules_failed)
            held = "from the previous poll" if self.rules is not None else "unknown"
            notes.append(f"security group rules: {reason(rules_failed[0])}; open ingress {held}")
        else:
            assert not isinstance(v4, BaseException) and not isinstance(v6, BaseException)
            parsed, bad = parse_all([*v4[0], *v6[0]], parse_rule)
            self.rules = list({r.id: r for r in parsed}.values())
            self._skipped(notes, "security group rules", bad)
        if isinstance(fips, BaseException):
            failures.append(fips)
            held = "from the previous poll" if self.fips is not None else "unknown"
            notes.append(f"floating IPs: {reason(fips)}; counts {held}")
        else:
            parsed_fips, bad = parse_all(fips[0], parse_fip)
            self.fips = parsed_fips
            self._skipped(notes, "floating IPs", bad)
        for result in (v4, v6, fips):
            if not isinstance(result, BaseException) and result[1] is not None:
                times.append(result[1])
        usable = not rules_failed or not isinstance(fips, BaseException)
        return (max(times) if times else None), usable

    # -- servers --

    async def _servers_listing(self, full: bool) -> Listing:
        since = None if full else iso_utc(self.servers.mark or 0.0)
        return await timed(compute.servers(self.client, changes_since=since))

    def _apply_servers(
        self,
        result: Listing | BaseException,
        full: bool,
        now: float,
        notes: list[str],
        failures: list[BaseException],
    ) -> int:
        if isinstance(result, NotDeployed):
            notes.append(f"servers: {result.reason}")
            return 0
        if isinstance(result, BaseException):
            failures.append(result)
            held = "from the previous poll" if self.servers.full_at is not None else "unknown"
            notes.append(f"servers: {reason(result)}; server counts {held}")
            return 0
        parsed, bad = parse_all(result.items, parse_server)
        self._skipped(notes, "servers", bad)
        self.lead_times.observe(result.items, now, full=full)
        first = self.servers.full_at is None
        if full:
            fresh = {sid: rec for sid, rec in parsed if rec.status != DELETED}
            if not first:  # gone since the last poll without a DELETED row: deleted now
                for sid in self.servers.records.keys() - fresh.keys():
                    self.deleted.setdefault(sid, (self.servers.records[sid].project_id, now))
            for sid, rec in parsed:
                if rec.status == DELETED and not first:
                    self.deleted.setdefault(sid, (rec.project_id, rec.updated or now))
            self.servers.records = fresh
            self.servers.full_at = now
            if first:
                self.deletions_since = now
        else:
            for sid, rec in parsed:
                if rec.status == DELETED:
                    self.servers.records.pop(sid, None)
                    self.deleted.setdefault(sid, (rec.project_id, rec.updated or now))
                else:
                    self.servers.records[sid] = rec
        for sid, rec in parsed:
            if rec.created is not None and rec.created >= now - HOUR:
                self.created.setdefault(sid, (rec.project_id, rec.created))
        prune(self.created, now)
        prune(self.deleted, now)
        self.servers.mark = next_mark(result, now)
        return len(parsed)

    # -- ports --

    async def _ports_listing(self, full: bool) -> Listing:
        since = None if full else iso_utc(self.ports.mark or 0.0)
        return await timed(network.ports(self.client, fields=PORT_FIELDS, changed_since=since))

    def _apply_ports(
        self,
        result: Listing | BaseException,
        full: bool,
        now: float,
        notes: list[str],
        failures: list[BaseException],
    ) -> int:
        if isinstance(result, NotDeployed):
            notes.append(f"ports: {result.reason}")
            return 0
        if isinstance(result, BaseException):
            failures.append(result)
            held = "from the previous poll" if self.ports.full_at is not None else "unknown"
            notes.append(f"ports: {reason(result)}; spoofing ports {held}")
            return 0
        parsed, bad = parse_all(result.items, parse_port)
        self._skipped(notes, "ports", bad)
        if full:
            self.ports.records = dict(parsed)
            self.ports.full_at = now
        else:
            self.ports.records.update(parsed)
        self.ports.mark = next_mark(result, now)
        return len(parsed)

    # -- project names --

    async def _names(self) -> list[dict[str, Any]]:
        return await identity.projects(self.client)

    def _apply_names(self, result: Any, notes: list[str]) -> None:
        if result is None:  # not refreshed on this poll
            pass
        elif isinstance(result, BaseException):
            why = "not allowed (HTTP 403)" if isinstance(result, Forbidden) else reason(result)
            self.names_note = f"project names unavailable ({why}); showing project ids"
        else:
            names = {
                clean_text(p["id"]): clean_text(p.get("name") or p["id"])
                for p in result
                if isinstance(p, dict) and p.get("id")
            }
            self.names, self.names_note = names, None
            bad = sum(1 for p in result if not (isinstance(p, dict) and p.get("id")))
            self._skipped(notes, "projects", bad)
        if self.names_note:
            notes.append(self.names_note)

    # -- quotas --

    def _allowance(self) -> int | None:
        if self.budget.rate is None:
            return None
        return max(1, int(self.budget.rate * self.settings.intervals.of(Kind.TENANTS)))

    async def _quota_services(self) -> list[QuotaSource]:
        """The quotas of the services the region's catalog has: one that is not
        deployed has none to read, which is not a failure."""
        return [s for s in QUOTA_SOURCES if await self.client.deployed(s.api)]

    def _with_quotas(self, signals: TenantSignals, services: list[QuotaSource]) -> TenantSignals:
        """The signals with the quotas known now (read this poll or before), and which
        services' quotas are not known at all."""
        known = self.quotas.get(signals.project_id, {})
        names = [s.service for s in services]
        return replace(
            signals,
            quotas={name: dict(known[name]) for name in names if name in known},
            quotas_unknown=tuple(name for name in names if name not in known),
        )

    async def _sweep_quotas(
        self, items: Mapping[str, TenantSignals], services: list[QuotaSource], notes: list[str]
    ) -> tuple[dict[str, int], bool]:
        """The quotas that matter most now, one request per project and service, within
        the budget; (reads per service, whether some calls failed)."""
        by_name = {s.service: s for s in services}
        scores: dict[QuotaKey, float] = {}
        moved: set[QuotaKey] = set()
        for pid, sig in items.items():
            points = suspicion(sig)
            for source in services:
                key = (pid, source.service)
                scores[key] = points
                if self.quota_seen.get(key) != source.moves(sig):
                    moved.add(key)
        order = quota_order(
            scores,
            self.quota_checked,
            self._allowance(),
            now=self.last_time,
            quiet_age=self.settings.intervals.full_resync,
            moved=moved,
        )
        forbidden: set[str] = set()
        why: dict[str, str] = {}  # the first failure per service

        async def one(key: QuotaKey) -> bool:
            project_id, service = key
            source = by_name[service]
            if service in forbidden:
                return False
            await self.budget.acquire()
            if service in forbidden:
                return False
            try:
                details = await source.read(self.client, project_id)
            except Forbidden:
                forbidden.add(service)
                return False
            except ApiFailure as exc:
                why.setdefault(service, reason(exc))
                return False
            usage = parse_quota(details, used_key=source.used_key, resources=source.resources)
            if usage is None:
                wanted = ", ".join(sorted(source.resources or ())) or "resource"
                why.setdefault(service, f"no usable {wanted} in the answer")
                return False
            self.quotas.setdefault(project_id, {})[service] = usage
            self.quota_seen[key] = source.moves(items[project_id])
            if self.last_time is not None:
                self.quota_checked[key] = self.last_time
            return True

        done = await asyncio.gather(*(one(key) for key in order))
        asked = Counter(service for _, service in order)
        swept = Counter(service for (_, service), ok in zip(order, done, strict=True) if ok)
        for source in services:
            name = source.service
            failed = asked[name] - swept[name]
            if name in forbidden:
                notes.append(f"{name} quotas: not allowed (HTTP 403); {name} quota usage unknown")
            elif failed:
                notes.append(
                    f"{name} quotas: {failed} of {asked[name]} projects failed this poll "
                    f"({why.get(name, 'no answer')})"
                )
            unread = sum(1 for pid in items if name not in self.quotas.get(pid, {}))
            if unread:
                notes.append(f"{name} quotas: {unread} of {len(items)} projects not read yet")
        return {s.service: swept[s.service] for s in services}, sum(swept.values()) < len(order)

    def _summary(self, now: float) -> dict[str, TenantSignals]:
        return summarise(
            names=self.names,
            servers=self.servers.records if self.servers.full_at is not None else None,
            ports=self.ports.records if self.ports.full_at is not None else None,
            rules=self.rules,
            fips=self.fips,
            created=self.created,
            deleted=self.deleted,
            quotas=self.quotas,
            now=now,
            stuck_after=self.settings.thresholds.stuck_server_s,
        )


async def _nothing() -> None:
    return None


def _time_of(result: Any) -> float | None:
    return result.server_time if isinstance(result, Listing) else None


def _errors(results: Iterable[Any]) -> list[BaseException]:
    return [r for r in results if isinstance(r, BaseException)]


def _reraise_bugs(results: Iterable[Any]) -> None:
    """API failures become notes; anything else is a bug and must not be hidden."""
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, ApiFailure):
            raise result


def _first_failure(failures: list[BaseException]) -> BaseException:
    for failure in failures:
        if isinstance(failure, ApiFailure):
            return failure
    return failures[0] if failures else ApiFailure("tenants", "GET", "", "no answer")
