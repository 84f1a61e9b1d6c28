"""Nova (compute API v2.1) as the simulator serves it: versions, os-hypervisors,
os-services, servers, the lock/pause/suspend server actions and os-quota-sets.

Bodies follow the API reference samples microversion by microversion, and the
behaviour clients meet on a real Nova is kept on purpose, because a console that
only works against a friendly fake is no use: usage fields vanish at 2.88, ids turn
into UUIDs at 2.53, a `next` link is sent whenever a page is full (so the last page
may be empty), admin-only filters are silently dropped for other users, and
`memory_mb_used` includes the host's reserved memory as the resource tracker does.

Servers are listed in Nova's default order, newest `created_at` first (ties by id,
descending). That order and a per-project index (both immutable facts of a server)
are cached per region and rebuilt only when servers are added or removed, so paging a
100,000-server region stays cheap; which host a server is on may change under a
scenario, so servers are grouped by host afresh for each request that needs it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
import weakref
from bisect import bisect_right
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from osconsole.sim.clock import iso, parse_iso
from osconsole.sim.common import (
    ApiError,
    Ctx,
    Microversion,
    authenticate,
    ctx,
    error_body,
    json_response,
    negotiate_microversion,
    next_link,
    query_bool,
    query_int,
)
from osconsole.sim.world import (
    ComputeService,
    FloatingIP,
    Hypervisor,
    Port,
    Region,
    Server,
    Token,
    compute_usage,
)

MIN_VERSION = "2.1"
MAX_VERSION = "2.100"
MAX_LIMIT = 1000  # CONF.api.max_limit
LEGACY_HEADER = "x-openstack-nova-api-version"
VARY = "OpenStack-API-Version, X-OpenStack-Nova-API-Version"

# -- plumbing ---------------------------------------------------------------


@dataclass
class Call:
    """One authenticated Nova request: who asks, in which region, when, at which version."""

    request: Request
    ctx: Ctx
    region: Region
    token: Token
    version: Microversion

    @property
    def now(self) -> float:
        return self.ctx.now

    @property
    def admin(self) -> bool:
        return self.token.is_admin

    @property
    def url(self) -> str:
        """The versioned endpoint, `.../{region}/compute/v2.1`."""
        return self.ctx.service_url("compute")

    @property
    def bookmark(self) -> str:
        """The unversioned root Nova uses for bookmark links."""
        return self.url.rsplit("/", 1)[0]

    def at_least(self, version: str) -> bool:
        return self.version >= _parse_version(version)


NovaHandler = Callable[[Call], Awaitable[Response]]


@lru_cache(maxsize=256)
def _parse_version(text: str) -> Microversion:
    return Microversion.parse(text)


def _negotiate(request: Request) -> Microversion:
    return negotiate_microversion(
        request, "compute", MIN_VERSION, MAX_VERSION, legacy_header=LEGACY_HEADER
    )


def _stamp(response: Response, version: Microversion) -> Response:
    """The version headers Nova adds to every v2.1 answer, errors included."""
    response.headers["OpenStack-API-Version"] = f"compute {version}"
    response.headers["X-OpenStack-Nova-API-Version"] = str(version)
    response.headers["Vary"] = VARY
    return response


def _endpoint(handler: NovaHandler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler: 401 (keystonemiddleware) and 406 come first and unstamped;
    everything the handler answers, errors included, carries the version headers."""

    async def endpoint(request: Request) -> Response:
        token = authenticate(request)
        version = _negotiate(request)
        c = ctx(request)
        assert c.region is not None  # the app answers 404 for unknown regions
        try:
            response = await handler(Call(request, c, c.region, token, version))
        except ApiError as exc:
            body = error_body("compute", exc.status, exc.message)
            response = json_response(body, status=exc.status)
        return _stamp(response, version)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


def _require_admin(call: Call, rule: str) -> None:
    """Nova's default policy: these rules are admin-only."""
    if not call.admin:
        raise ApiError(403, f"Policy doesn't allow {rule} to be performed.")


def _limit(request: Request) -> int:
    """`limit` capped by CONF.api.max_limit, which also applies when no limit is given."""
    limit = query_int(request, "limit", minimum=0)
    return MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)


def _page_full(limit: int, count: int) -> bool:
    """Nova's rule for a `next` link: the page is full (even when nothing follows)."""
    return limit > 0 and count == limit


def _uuid_like(value: str) -> str | None:
    """The canonical form of a UUID, or None (oslo's is_uuid_like)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "Malformed message body: cannot understand JSON") from None


def _invalid(field: str, value: Any, reason: str) -> ApiError:
    """A JSON-schema failure worded like Nova's validator."""
    shown = json.dumps(value)
    return ApiError(400, f"Invalid input for field/attribute {field}. Value: {shown}. {reason}")


# -- versions ---------------------------------------------------------------


def _v21(root: str, *, single: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "v2.1",
        "links": [{"href": f"{root}/v2.1/", "rel": "self"}],
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2013-07-23T11:33:21Z",
    }
    if single:
        body["links"].append(
            {"href": "http://docs.openstack.org/", "rel": "describedby", "type": "text/html"}
        )
        body["media-types"] = [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ]
    return body


def _compute_root(request: Request) -> str:
    return ctx(request).service_url("compute").rsplit("/", 1)[0]


async def versions(request: Request) -> Response:
    """GET / : both API versions, unauthenticated as in Nova's paste pipeline."""
    root = _compute_root(request)
    legacy = {
        "id": "v2.0",
        "links": [{"href": f"{root}/v2/", "rel": "self"}],
        "status": "DEPRECATED",
        "version": "",
        "min_version": "",
        "updated": "2025-07-04T12:00:00Z",
    }
    return json_response({"versions": [legacy, _v21(root, single=False)]})


async def version(request: Request) -> Response:
    """GET /v2.1 : the microversion range clients negotiate against."""
    negotiated = _negotiate(request)
    body = {"version": _v21(_compute_root(request), single=True)}
    return _stamp(json_response(body), negotiated)


# -- indexes ----------------------------------------------------------------


class _ServerIndex:
    """Servers in Nova's default order, and per project in that order, for one
    membership of `region.servers` (rebuilt when servers are added or removed)."""

    def __init__(self, region: Region) -> None:
        self.source = region.servers.ordered()
        self.ordered = sorted(self.source, key=lambda s: (s.created_at, s.id), reverse=True)
        self.position = {s.id: i for i, s in enumerate(self.ordered)}
        self.by_project: dict[str, list[Server]] = {}
        for server in self.ordered:
            self.by_project.setdefault(server.project_id, []).append(server)

    def page(
        self,
        limit: int,
        marker: str | None,
        match: Callable[[Server], bool],
        candidates: list[Server] | None = None,
    ) -> list[Server]:
        """Up to `limit` matching servers after `marker`, from `candidates` (a sublist
        of the default order) when the filter allows narrowing."""
        items = self.ordered if candidates is None else candidates
        start = 0
        if marker:
            pos = self.position.get(marker)
            if pos is None:
                raise KeyError(marker)
            start = bisect_right(items, pos, key=lambda s: self.position[s.id])
        out: list[Server] = []
        if limit <= 0:
            return out
        for server in islice(items, start, None):
            if match(server):
                out.append(server)
                if len(out) == limit:
                    break
        return out


def servers_by_host(region: Region) -> dict[str, list[Server]]:
    """Live instances per host in creation order, as instance_get_all_by_host returns."""
    hosted: dict[str, list[Server]] = {}
    for server in region.servers:
        if server.host and not server.deleted:
            hosted.setdefault(server.host, []).append(server)
    return hosted


_SERVER_INDEX: weakref.WeakKeyDictionary[Region, _ServerIndex] = weakref.WeakKeyDictionary()
_PORT_INDEX: weakref.WeakKeyDictionary[Region, tuple[list[Port], dict[str, Port]]] = (
    weakref.WeakKeyDictionary()
)
# instance.locked_by ('owner' or 'admin') per region and server id; Server has no field.
_LOCKED_BY: weakref.WeakKeyDictionary[Region, dict[str, str]] = weakref.WeakKeyDictionary()


def _servers_index(region: Region) -> _ServerIndex:
    index = _SERVER_INDEX.get(region)
    if index is None or index.source is not region.servers.ordered():
        index = _SERVER_INDEX[region] = _ServerIndex(region)
    return index


def _ports_by_device(region: Region) -> dict[str, Port]:
    """Each server's port (device_owner compute:*), by server id."""
    source = region.ports.ordered()
    cached = _PORT_INDEX.get(region)
    if cached is None or cached[0] is not source:
        ports = {p.device_id: p for p in source if p.device_owner.startswith("compute:")}
        cached = _PORT_INDEX[region] = (source, ports)
    return cached[1]


def _locked_by(region: Region) -> dict[str, str]:
    return _LOCKED_BY.setdefault(region, {})


# -- os-hypervisors ---------------------------------------------------------

CPU_MODELS = ("Cascadelake-Server-noTSX", "Icelake-Server-noTSX", "Skylake-Server-IBRS")
CPU_FEATURES = ["pge", "clflush", "sse4.2", "avx2", "vmx", "pdpe1gb", "x2apic"]


def _cpu_info(hv: Hypervisor) -> dict[str, Any]:
    threads = 2
    sockets = 2
    return {
        "arch": "x86_64",
        "model": CPU_MODELS[hv.int_id % len(CPU_MODELS)],
        "vendor": "Intel",
        "features": CPU_FEATURES,
        "topology": {
            "cores": max(1, hv.vcpus // (threads * sockets)),
            "threads": threads,
            "sockets": sockets,
        },
    }


def _workload(servers: list[Server]) -> int:
    """current_workload: instances building or busy with a task, as the tracker counts."""
    return sum(1 for s in servers if s.task_state is not None or s.vm_state == "building")


def _usage(hv: Hypervisor, hosted: dict[str, list[Server]]) -> dict[str, Any]:
    """The pre-2.88 usage fields; memory_mb_used counts reserved host memory like Nova."""
    memory_used = hv.memory_mb_used + hv.reserved_host_memory_mb
    free_disk = hv.local_gb - hv.local_gb_used
    return {
        "vcpus": hv.vcpus,
        "memory_mb": hv.memory_mb,
        "local_gb": hv.local_gb,
        "vcpus_used": hv.vcpus_used,
        "memory_mb_used": memory_used,
        "local_gb_used": hv.local_gb_used,
        "free_ram_mb": hv.memory_mb - memory_used,
        "free_disk_gb": free_disk,
        "current_workload": _workload(hosted.get(hv.service.host, [])),
        "running_vms": hv.running_vms,
        "disk_available_least": free_disk,
    }


def _uptime(hv: Hypervisor, now: float) -> str | None:
    """`uptime` output from the host; None when its service is down, as Nova answers."""
    svc = hv.service
    if not svc.is_up(now):
        return None
    boot = min(now, svc.created_at + svc.phase * 86400)
    days, rest = divmod(int(now - boot), 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    load = hv.vcpus_used / max(1, hv.vcpus) * 8
    clock = datetime.fromtimestamp(now, UTC).strftime("%H:%M:%S")
    return (
        f" {clock} up {days} days, {hours:2d}:{minutes:02d},  1 user,  "
        f"load average: {load:.2f}, {load * 0.95:.2f}, {load * 0.9:.2f}"
    )


def _hypervisor(
    call: Call,
    hv: Hypervisor,
    *,
    detail: bool,
    hosted: dict[str, list[Server]],
    with_servers: bool = False,
) -> dict[str, Any]:
    svc = hv.service
    uuids = call.at_least("2.53")
    body: dict[str, Any] = {
        "id": hv.id if uuids else hv.int_id,
        "hypervisor_hostname": hv.hostname,
        "state": "up" if svc.is_up(call.now) else "down",
        "status": "disabled" if svc.disabled else "enabled",
    }
    if detail:
        body["hypervisor_type"] = hv.hypervisor_type
        body["hypervisor_version"] = hv.hypervisor_version
        body["host_ip"] = hv.host_ip
        body["service"] = {
            "id": svc.id if uuids else svc.int_id,
            "host": svc.host,
            "disabled_reason": svc.disabled_reason,
        }
        if call.at_least("2.88"):
            body["uptime"] = _uptime(hv, call.now)
        else:
            body.update(_usage(hv, hosted))
            cpu = _cpu_info(hv)
            body["cpu_info"] = cpu if call.at_least("2.28") else json.dumps(cpu)
    if with_servers:
        servers = hosted.get(svc.host)
        if servers:
            body["servers"] = [{"name": s.name, "uuid": s.id} for s in servers]
        elif call.at_least("2.75"):
            body["servers"] = []
    return body


def _by_int_id(hypervisors: Iterable[Hypervisor], raw: str) -> Hypervisor | None:
    try:
        wanted = int(raw)
    except ValueError:
        return None
    return next((hv for hv in hypervisors if hv.int_id == wanted), None)


def _find_hypervisor(call: Call, raw_id: str) -> Hypervisor:
    hypervisors = call.region.hypervisors
    if call.at_least("2.53"):
        canonical = _uuid_like(raw_id)
        if canonical is None:
            raise ApiError(400, f"Invalid uuid {raw_id}")
        hv = hypervisors.get(canonical)
    else:
        hv = _by_int_id(hypervisors, raw_id)
    if hv is None:
        raise ApiError(404, f"Hypervisor with ID '{raw_id}' could not be found.")
    return hv


def _hypervisor_marker(call: Call) -> str | None:
    """The collection key after which a page starts (int ids before 2.53, UUIDs after)."""
    marker = call.request.query_params.get("marker")
    if not marker:
        return None
    if call.at_least("2.53"):
        key = _uuid_like(marker)
    else:
        hv = _by_int_id(call.region.hypervisors, marker)
        key = hv.id if hv else None
    if key is None or key not in call.region.hypervisors:
        raise ApiError(400, f"marker [{marker}] not found")
    return key


def _hypervisor_options(call: Call) -> tuple[str | None, bool]:
    """`hypervisor_hostname_pattern` and `with_servers`, query parameters from 2.53."""
    if not call.at_least("2.53"):
        return None, False
    pattern = call.request.query_params.get("hypervisor_hostname_pattern")
    return pattern, bool(query_bool(call.request, "with_servers"))


def _matching_hypervisors(call: Call, pattern: str) -> list[Hypervisor]:
    """compute_node_search_by_hypervisor: a case-insensitive LIKE %pattern%."""
    params = call.request.query_params
    if "limit" in params or params.get("marker"):
        raise ApiError(
            400,
            "Paging over hypervisors with the hypervisor_hostname_pattern query "
            "parameter is not supported.",
        )
    needle = pattern.lower()
    found = [hv for hv in call.region.hypervisors if needle in hv.hostname.lower()]
    if not found:
        raise ApiError(404, f"No hypervisor matching '{pattern}' could be found.")
    return found


def _hosted(call: Call, *, detail: bool, with_servers: bool) -> dict[str, list[Server]]:
    """Servers per host, only when the answer shows them or their workload."""
    if with_servers or (detail and not call.at_least("2.88")):
        return servers_by_host(call.region)
    return {}


async def _hypervisor_list(call: Call, *, detail: bool) -> Response:
    rule = "list-detail" if detail else "list"
    _require_admin(call, f"os_compute_api:os-hypervisors:{rule}")
    pattern, with_servers = _hypervisor_options(call)
    limit = 0
    if pattern is not None:
        items = _matching_hypervisors(call, pattern)
    elif call.at_least("2.33"):
        limit = _limit(call.request)
        items, _ = call.region.hypervisors.page(limit=limit, marker=_hypervisor_marker(call))
    else:
        items = call.region.hypervisors.ordered()
    hosted = _hosted(call, detail=detail, with_servers=with_servers)
    rendered = [
        _hypervisor(call, hv, detail=detail, hosted=hosted, with_servers=with_servers)
        for hv in items
    ]
    body: dict[str, Any] = {"hypervisors": rendered}
    if _page_full(limit, len(rendered)):
        base = f"{call.url}/os-hypervisors" + ("/detail" if detail else "")
        body["hypervisors_links"] = next_link(call.request, base, limit, str(rendered[-1]["id"]))
    return json_response(body)


async def list_hypervisors(call: Call) -> Response:
    """GET /os-hypervisors (admin)."""
    return await _hypervisor_list(call, detail=False)


DYING_HOST_HANG = 60.0  # seconds Nova waited on a dying host's uptime before its 500


def _dying_hosts(call: Call) -> list[str]:
    """Compute hosts that stopped reporting but are not yet marked down."""
    now = call.ctx.now
    return [
        s.host
        for s in call.region.compute_services
        if s.binary == "nova-compute" and s.stopped_at is not None and s.is_up(now)
    ]


async def hypervisors_detail(call: Call) -> Response:
    """GET /os-hypervisors/detail (admin).

    As seen on a real Nova 34: at 2.88+ detail asks every host for its uptime, so
    while a compute host is dying (stopped, not yet marked down) the call hangs for
    about 60 s and then answers 500. Clients should poll the list call instead.
    """
    dying = _dying_hosts(call) if call.at_least("2.88") else []
    if dying:
        await asyncio.sleep(min(DYING_HOST_HANG, call.region.faults.hang_seconds))
        raise ApiError(500, f"Timed out waiting for uptime of host {dying[0]}.")
    return await _hypervisor_list(call, detail=True)


async def show_hypervisor(call: Call) -> Response:
    """GET /os-hypervisors/{id} (admin); `with_servers` from 2.53."""
    _require_admin(call, "os_compute_api:os-hypervisors:show")
    _, with_servers = _hypervisor_options(call)
    hv = _find_hypervisor(call, call.request.path_params["hypervisor_id"])
    hosted = _hosted(call, detail=True, with_servers=with_servers)
    body = _hypervisor(call, hv, detail=True, hosted=hosted, with_servers=with_servers)
    return json_response({"hypervisor": body})


async def hypervisor_statistics(call: Call) -> Response:
    """GET /os-hypervisors/statistics (admin, removed at 2.88): sums over enabled hosts."""
    _require_admin(call, "os_compute_api:os-hypervisors:statistics")
    if call.at_least("2.88"):
        raise ApiError(404, "The resource could not be found.")
    hosted = servers_by_host(call.region)
    totals: dict[str, int] = {}
    count = 0
    for hv in call.region.hypervisors:
        if hv.service.disabled:
            continue
        count += 1
        for key, value in _usage(hv, hosted).items():
            totals[key] = totals.get(key, 0) + value
    return json_response({"hypervisor_statistics": {"count": count, **totals}})


# -- os-services ------------------------------------------------------------


def _service(call: Call, svc: ComputeService) -> dict[str, Any]:
    updated = svc.updated_at_override
    if updated is None:
        updated = svc.heartbeat(call.now)
    body: dict[str, Any] = {
        "id": svc.id if call.at_least("2.53") else svc.int_id,
        "binary": svc.binary,
        "disabled_reason": svc.disabled_reason,
        "host": svc.host,
        "state": "up" if svc.is_up(call.now) else "down",
        "status": "disabled" if svc.disabled else "enabled",
        "updated_at": iso(updated, micro=True),
        "zone": svc.zone,
    }
    if call.at_least("2.11"):
        body["forced_down"] = svc.forced_down
    return body


async def list_services(call: Call) -> Response:
    """GET /os-services (admin), filtered by `host` and `binary`; not paged."""
    _require_admin(call, "os_compute_api:os-services:list")
    host = call.request.query_params.get("host")
    binary = call.request.query_params.get("binary")
    services = [
        _service(call, svc)
        for svc in call.region.compute_services
        if (not host or svc.host == host) and (not binary or svc.binary == binary)
    ]
    return json_response({"services": services})


_BOOL_TRUE = ("1", "t", "true", "on", "y", "yes")
_BOOL_FALSE = ("0", "f", "false", "off", "n", "no")


def _schema_bool(field: str, value: Any) -> bool:
    """parameter_types.boolean: JSON booleans or their usual spellings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOL_TRUE + _BOOL_FALSE:
        return value.lower() in _BOOL_TRUE
    raise _invalid(field, value, f"{json.dumps(value)} is not of type 'boolean'")


def _check_properties(body: Any, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body is invalid: it must be an object.")
    extra = sorted(set(body) - set(allowed))
    if extra:
        raise ApiError(
            400,
            "Additional properties are not allowed "
            f"({', '.join(repr(k) for k in extra)} was unexpected)",
        )
    for key in required:
        if key not in body:
            raise ApiError(400, f"'{key}' is a required property")
    return body


def _check_reason(body: dict) -> None:
    reason = body.get("disabled_reason")
    if reason is not None and (not isinstance(reason, str) or not 1 <= len(reason) <= 255):
        raise _invalid("disabled_reason", reason, "must be a string of 1 to 255 characters")


async def update_service(call: Call) -> Response:
    """PUT /os-services/{uuid} at 2.53+, or /os-services/{action} with host+binary before."""
    _require_admin(call, "os_compute_api:os-services:update")
    service_id = call.request.path_params["service_id"]
    body = await _json_body(call.request)
    if call.at_least("2.53"):
        return _update_v253(call, service_id, body)
    return _update_legacy(call, service_id, body)


def _compute_only(svc: ComputeService) -> None:
    if svc.binary != "nova-compute":
        raise ApiError(
            400,
            f"Updating a {svc.binary} service is not supported. Only nova-compute "
            "services can be updated.",
        )


def _update_v253(call: Call, service_id: str, body: Any) -> Response:
    canonical = _uuid_like(service_id)
    if canonical is None:
        raise ApiError(400, f"Invalid uuid {service_id}")
    body = _check_properties(body, ("status", "disabled_reason", "forced_down"), ())
    if "status" in body and body["status"] not in ("enabled", "disabled"):
        raise _invalid("status", body["status"], "It must be one of ['enabled', 'disabled']")
    if "disabled_reason" in body and "status" not in body:
        raise _invalid(
            "disabled_reason",
            body["disabled_reason"],
            "'status' is a dependency of 'disabled_reason'",
        )
    _check_reason(body)
    forced = _schema_bool("forced_down", body["forced_down"]) if "forced_down" in body else None
    svc = call.region.compute_services.get(canonical)
    if svc is None:
        raise ApiError(404, f"Service {service_id} could not be found.")
    _compute_only(svc)
    if body.get("status") == "enabled" and body.get("disabled_reason"):
        raise ApiError(400, "Specifying 'disabled_reason' with status 'enabled' is invalid.")
    if "status" not in body and forced is None:
        raise ApiError(
            400,
            "No updates were requested. Fields 'status' or 'forced_down' should be specified.",
        )
    if body.get("status") == "enabled":
        svc.disabled, svc.disabled_reason = False, None
    elif body.get("status") == "disabled":
        svc.disabled, svc.disabled_reason = True, body.get("disabled_reason")
    if forced is not None:
        svc.forced_down = forced
    return json_response({"service": _service(call, svc)})


LEGACY_ACTIONS = ("enable", "disable", "disable-log-reason")


def _update_legacy(call: Call, action: str, body: Any) -> Response:
    actions = LEGACY_ACTIONS + (("force-down",) if call.at_least("2.11") else ())
    if action not in actions:
        raise ApiError(404, "Unknown action")
    allowed = ("host", "binary", "disabled_reason")
    if call.at_least("2.11"):
        allowed += ("forced_down",)
    body = _check_properties(body, allowed, ("host", "binary"))
    _check_reason(body)
    host, binary = body["host"], body["binary"]
    if action == "force-down":
        if "forced_down" not in body:
            raise ApiError(400, "Missing forced_down field")
        forced = _schema_bool("forced_down", body["forced_down"])
        _legacy_target(call, host, binary).forced_down = forced
        return json_response({"service": {"host": host, "binary": binary, "forced_down": forced}})
    reason = None
    if action == "disable-log-reason":
        if "disabled_reason" not in body:
            raise ApiError(400, "Missing disabled reason field")
        reason = body["disabled_reason"]
    svc = _legacy_target(call, host, binary)
    svc.disabled = action != "enable"
    svc.disabled_reason = reason
    result: dict[str, Any] = {"host": host, "binary": binary, "status": "enabled"}
    if svc.disabled:
        result["status"] = "disabled"
    if reason:
        result["disabled_reason"] = reason
    return json_response({"service": result})


def _legacy_target(call: Call, host: str, binary: str) -> ComputeService:
    if binary != "nova-compute":
        raise ApiError(
            400,
            f"Updating a {binary} service is not supported. Only nova-compute "
            "services can be updated.",
        )
    for svc in call.region.compute_services:
        if svc.host == host and svc.binary == binary:
            return svc
    raise ApiError(404, f"Could not find binary {binary} on host {host}.")


# -- servers: state names ---------------------------------------------------

# nova.api.openstack.common._STATE_MAP: vm_state -> task_state ('default') -> status.
_REBUILD = {
    "rebuilding": "REBUILD",
    "rebuild_block_device_mapping": "REBUILD",
    "rebuild_spawning": "REBUILD",
}
_RESIZE = {
    "resize_prep": "RESIZE",
    "resize_migrating": "RESIZE",
    "resize_migrated": "RESIZE",
    "resize_finish": "RESIZE",
}
STATE_MAP: dict[str, dict[str, str]] = {
    "active": {
        "default": "ACTIVE",
        "rebooting": "REBOOT",
        "reboot_pending": "REBOOT",
        "reboot_started": "REBOOT",
        "rebooting_hard": "HARD_REBOOT",
        "reboot_pending_hard": "HARD_REBOOT",
        "reboot_started_hard": "HARD_REBOOT",
        "updating_password": "PASSWORD",
        "migrating": "MIGRATING",
        **_REBUILD,
        **_RESIZE,
    },
    "building": {"default": "BUILD"},
    "stopped": {"default": "SHUTOFF", **_RESIZE, **_REBUILD},
    "resized": {"default": "VERIFY_RESIZE", "resize_reverting": "REVERT_RESIZE"},
    "paused": {"default": "PAUSED", "migrating": "MIGRATING"},
    "suspended": {"default": "SUSPENDED"},
    "rescued": {"default": "RESCUE"},
    "error": {"default": "ERROR", **_REBUILD},
    "deleted": {"default": "DELETED"},
    "soft-delete": {"default": "SOFT_DELETED"},
    "shelved": {"default": "SHELVED"},
    "shelved_offloaded": {"default": "SHELVED_OFFLOADED"},
}
PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")
FLAVOR_IDS = {"m1.tiny": "1", "m1.small": "2", "m1.medium": "3", "m1.large": "4", "m1.xlarge": "5"}
IMAGE_PROPERTIES = {"architecture": "x86_64", "hw_disk_bus": "virtio", "os_distro": "ubuntu"}
POWER_RUNNING, POWER_PAUSED, POWER_SUSPENDED = 1, 3, 7


def states_for(statuses: Iterable[str]) -> tuple[set[str], set[str]]:
    """common.task_and_vm_state_from_status: the vm and task states behind statuses."""
    wanted = {s.lower() for s in statuses}
    vm_states: set[str] = set()
    task_states: set[str] = set()
    for vm_state, tasks in STATE_MAP.items():
        for task_state, status in tasks.items():
            if status.lower() in wanted:
                vm_states.add(vm_state)
                task_states.add(task_state)
    return vm_states, task_states


# -- servers: filters -------------------------------------------------------

_TRUE_VALUES = ("True", "true", "1", "yes")


@dataclass
class ServerFilter:
    """The search options Nova passes to the database, after policy trimmed them."""

    project_id: str | None = None
    host: str | None = None
    node: str | None = None
    vm_states: frozenset[str] | None = None
    task_states: frozenset[str | None] | None = None
    name: re.Pattern[str] | None = None
    since: float | None = None
    before: float | None = None
    deleted: bool | None = False
    locked: bool | None = None

    def __call__(self, s: Server) -> bool:
        return (
            (self.project_id is None or s.project_id == self.project_id)
            and (self.deleted is None or s.deleted == self.deleted)
            and (self.since is None or s.updated_at >= self.since)
            and (self.before is None or s.updated_at <= self.before)
            and (self.host is None or s.host == self.host)
            and (self.node is None or s.node == self.node)
            and (self.vm_states is None or s.vm_state in self.vm_states)
            and (self.task_states is None or s.task_state in self.task_states)
            and (self.locked is None or s.locked == self.locked)
            and (self.name is None or self.name.search(s.name) is not None)
        )


def _all_tenants(params: Any) -> bool:
    """common.is_all_tenants: present and empty means yes."""
    if "all_tenants" not in params:
        return False
    raw = params["all_tenants"]
    if raw == "":
        return True
    lowered = raw.strip().lower()
    if lowered in _BOOL_TRUE + _BOOL_FALSE:
        return lowered in _BOOL_TRUE
    raise ApiError(400, f"Unrecognized value '{raw}', acceptable values are: {_BOOL_TRUE}")


def _timestamp(params: Any, name: str) -> float | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise ApiError(400, f"Invalid filter field: {name}.") from None


def _name_pattern(raw: str) -> re.Pattern[str]:
    """Nova matches `name` with the database REGEXP, case-insensitive on MySQL."""
    try:
        return re.compile(raw, re.IGNORECASE)
    except re.error:
        return re.compile(re.escape(raw), re.IGNORECASE)


def server_filter(call: Call, *, detail: bool) -> ServerFilter | None:
    """The filter for a list call; None when Nova answers an empty list outright."""
    params = call.request.query_params
    f = ServerFilter()
    if _all_tenants(params):
        view = "detail" if detail else "index"
        _require_admin(call, f"os_compute_api:servers:{view}:get_all_tenants")
        f.project_id = params.get("project_id") or params.get("tenant_id")
    else:
        f.project_id = call.token.project_id
    if call.admin:  # remove_invalid_options drops these silently for everyone else
        f.host = params.get("host")
        f.node = params.get("node")
    f.since = _timestamp(params, "changes-since")
    if call.at_least("2.66"):
        f.before = _timestamp(params, "changes-before")
        if f.since is not None and f.before is not None and f.since > f.before:
            raise ApiError(
                400,
                "The value of changes-since must be less than or equal to changes-before.",
            )
    if call.admin and "deleted" in params:
        f.deleted = params["deleted"] in _TRUE_VALUES
    elif f.since is not None or f.before is not None:
        f.deleted = None  # changes-since lists recently deleted servers too
    if "name" in params:
        f.name = _name_pattern(params["name"])
    if call.at_least("2.73") and "locked" in params:
        f.locked = bool(query_bool(call.request, "locked"))
    statuses = params.getlist("status")
    if statuses:
        vm_states, task_states = states_for(statuses)
        if not vm_states:
            if call.at_least("2.38"):
                raise ApiError(400, "Invalid status value")
            return None
        f.vm_states = frozenset(vm_states)
        if "default" not in task_states:
            f.task_states = frozenset(task_states)
        if vm_states == {"deleted"}:
            if not call.admin:
                raise ApiError(403, "Only administrators may list deleted instances")
            f.deleted = True
    return f


# -- servers: views ---------------------------------------------------------


def host_id(project_id: str, host: str | None) -> str:
    """utils.generate_hostid: a per-project hash of the host, so tenants cannot map hosts."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def host_status(region: Region, server: Server, now: float) -> str:
    """compute_api.get_instance_host_status."""
    svc = region.compute_service_for_host(server.host) if server.host else None
    if svc is None:
        return ""
    if svc.forced_down:
        return "DOWN"
    if svc.disabled:
        return "MAINTENANCE"
    return "UP" if svc.is_up(now) else "UNKNOWN"


def _hostname(name: str) -> str:
    """utils.sanitize_hostname."""
    text = re.sub(r"[ _.]", "-", name[:63])
    text = re.sub(r"[^\w.-]+", "", text).lower().strip(".-")
    return text or "server"


def _reservation_id(server_id: str) -> str:
    digest = hashlib.sha1(server_id.encode(), usedforsecurity=False).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "r-" + "".join(alphabet[b % len(alphabet)] for b in digest[:8])


NO_VALID_HOST = "No valid host was found. There are not enough hosts available."
SPAWN_FAILED = "internal error: qemu unexpectedly closed the monitor"


class ServerView:
    """Renders servers for one request: its microversion, its caller, its region."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.region = call.region
        self.admin = call.admin
        self.ports = _ports_by_device(call.region)
        self._fips: dict[str, FloatingIP] | None = None

    def brief(self, s: Server) -> dict[str, Any]:
        return {"id": s.id, "links": self._links(s), "name": s.name}

    def _links(self, s: Server) -> list[dict[str, str]]:
        return [
            {"href": f"{self.call.url}/servers/{s.id}", "rel": "self"},
            {"href": f"{self.call.bookmark}/servers/{s.id}", "rel": "bookmark"},
        ]

    def _floating(self) -> dict[str, FloatingIP]:
        if self._fips is None:
            self._fips = {f.port_id: f for f in self.region.floating_ips if f.port_id}
        return self._fips

    def _port(self, s: Server) -> Port | None:
        if s.deleted or s.host is None:  # never scheduled or gone: no network
            return None
        return self.ports.get(s.id)

    def _addresses(self, s: Server, port: Port | None) -> dict[str, list[dict[str, Any]]]:
        if s.deleted or s.host is None:
            return {}
        entries: list[dict[str, Any]] = [
            {
                "OS-EXT-IPS-MAC:mac_addr": s.mac,
                "OS-EXT-IPS:type": "fixed",
                "addr": s.ip,
                "version": 4,
            }
        ]
        fip = self._floating().get(port.id) if port else None
        if fip is not None:
            entries.append(
                {
                    "OS-EXT-IPS-MAC:mac_addr": s.mac,
                    "OS-EXT-IPS:type": "floating",
                    "addr": fip.floating_ip,
                    "version": 4,
                }
            )
        return {s.network_name: entries}

    def _flavor(self, s: Server) -> dict[str, Any]:
        flavor = s.flavor
        if self.call.at_least("2.47"):
            return {
                "disk": flavor.disk,
                "ephemeral": 0,
                "extra_specs": {},
                "original_name": flavor.name,
                "ram": flavor.ram,
                "swap": 0,
                "vcpus": flavor.vcpus,
            }
        flavor_id = FLAVOR_IDS.get(flavor.name, flavor.name)
        return {
            "id": flavor_id,
            "links": [{"href": f"{self.call.bookmark}/flavors/{flavor_id}", "rel": "bookmark"}],
        }

    def _image(self, s: Server) -> dict[str, Any]:
        image: dict[str, Any] = {
            "id": s.image_id,
            "links": [{"href": f"{self.call.bookmark}/images/{s.image_id}", "rel": "bookmark"}],
        }
        if self.call.at_least("2.98"):
            image["properties"] = dict(IMAGE_PROPERTIES)
        return image

    def _fault(self, s: Server) -> dict[str, Any]:
        message = NO_VALID_HOST if s.host is None else SPAWN_FAILED
        fault: dict[str, Any] = {
            "code": 500,
            "created": iso(s.updated_at, zulu=True),
            "message": message,
        }
        if self.admin:  # a 500's traceback is for admins only
            where, error = (
                ("conductor/manager.py", "nova.exception.NoValidHost")
                if s.host is None
                else ("compute/manager.py", "libvirt.libvirtError")
            )
            fault["details"] = (
                "Traceback (most recent call last):\n"
                f'  File "/usr/lib/python3/dist-packages/nova/{where}", line 1\n'
                f"{error}: {message}\n"
            )
        return fault

    def _extended(self, s: Server) -> dict[str, Any]:
        """OS-EXT-SRV-ATTR:* (admin only; 2.3 adds the ec2-era attributes)."""
        number = self.region.servers.position_after(s.id) or 0
        attrs: dict[str, Any] = {
            "OS-EXT-SRV-ATTR:host": s.host,
            "OS-EXT-SRV-ATTR:hypervisor_hostname": s.node,
            "OS-EXT-SRV-ATTR:instance_name": f"instance-{number:08x}",
        }
        if self.call.at_least("2.3"):
            attrs.update(
                {
                    "OS-EXT-SRV-ATTR:reservation_id": _reservation_id(s.id),
                    "OS-EXT-SRV-ATTR:launch_index": 0,
                    "OS-EXT-SRV-ATTR:hostname": _hostname(s.name),
                    "OS-EXT-SRV-ATTR:kernel_id": "",
                    "OS-EXT-SRV-ATTR:ramdisk_id": "",
                    "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                    "OS-EXT-SRV-ATTR:user_data": None,
                }
            )
        return attrs

    def detail(self, s: Server, *, show: bool = False) -> dict[str, Any]:
        """views.servers.ViewBuilder.show, microversion by microversion."""
        call = self.call
        port = self._port(s)
        body: dict[str, Any] = {
            "id": s.id,
            "name": s.name,
            "status": s.status,
            "tenant_id": s.project_id,
            "user_id": s.user_id,
            "metadata": {},
            "hostId": host_id(s.project_id, s.host),
            "image": self._image(s),
            "flavor": self._flavor(s),
            "created": iso(s.created_at, zulu=True),
            "updated": iso(s.updated_at, zulu=True),
            "addresses": self._addresses(s, port),
            "accessIPv4": "",
            "accessIPv6": "",
            "links": self._links(s),
            "OS-DCF:diskConfig": "MANUAL",
        }
        if s.status == "ERROR":
            body["fault"] = self._fault(s)
        if s.status in PROGRESS_STATUSES:
            body["progress"] = 0
        body["OS-EXT-AZ:availability_zone"] = s.zone
        if call.at_least("2.96"):
            body["pinned_availability_zone"] = None
        if call.at_least("2.100"):
            body["scheduler_hints"] = {}
        body["config_drive"] = ""
        body["key_name"] = None
        if self.admin:
            body.update(self._extended(s))
        body["OS-EXT-STS:task_state"] = s.task_state
        body["OS-EXT-STS:vm_state"] = s.vm_state
        body["OS-EXT-STS:power_state"] = s.power_state
        body["os-extended-volumes:volumes_attached"] = []
        body["OS-SRV-USG:launched_at"] = iso(s.launched_at, micro=True)
        body["OS-SRV-USG:terminated_at"] = iso(s.deleted_at, micro=True)
        if port is not None and port.security_groups:
            body["security_groups"] = [{"name": "default"}]
        if self.admin and call.at_least("2.16"):
            body["host_status"] = host_status(self.region, s, call.now)
        if call.at_least("2.9"):
            body["locked"] = s.locked
        if call.at_least("2.73"):
            body["locked_reason"] = s.locked_reason
        if call.at_least("2.19"):
            body["description"] = None
        if call.at_least("2.26"):
            body["tags"] = []
        if call.at_least("2.63"):
            body["trusted_image_certificates"] = None
        if call.at_least("2.90") and not self.admin:
            body["OS-EXT-SRV-ATTR:hostname"] = _hostname(s.name)
        if show and call.at_least("2.71"):
            body["server_groups"] = []
        return body


# -- servers: routes --------------------------------------------------------


async def _server_list(call: Call, *, detail: bool) -> Response:
    f = server_filter(call, detail=detail)
    limit = _limit(call.request)
    if f is None:
        return json_response({"servers": []})
    marker = call.request.query_params.get("marker")
    index = _servers_index(call.region)
    candidates = index.by_project.get(f.project_id, []) if f.project_id else None
    try:
        items = index.page(limit, marker, f, candidates)
    except KeyError:
        raise ApiError(400, f"marker [{marker}] not found") from None
    view = ServerView(call)
    servers = [view.detail(s) if detail else view.brief(s) for s in items]
    body: dict[str, Any] = {"servers": servers}
    if _page_full(limit, len(items)):
        base = f"{call.url}/servers" + ("/detail" if detail else "")
        body["servers_links"] = next_link(call.request, base, limit, items[-1].id)
    return json_response(body)


async def list_servers(call: Call) -> Response:
    """GET /servers: id, name and links."""
    return await _server_list(call, detail=False)


async def servers_detail(call: Call) -> Response:
    """GET /servers/detail."""
    return await _server_list(call, detail=True)


def _visible_server(call: Call, server_id: str) -> Server:
    """A live server the caller may see: its own project's, or any for an admin."""
    server = call.region.servers.get(server_id)
    if (
        server is None
        or server.deleted
        or (not call.admin and server.project_id != call.token.project_id)
    ):
        raise ApiError(404, f"Instance {server_id} could not be found.")
    return server


async def show_server(call: Call) -> Response:
    """GET /servers/{id}; 404 for deleted servers and other projects' servers."""
    server = _visible_server(call, call.request.path_params["server_id"])
    return json_response({"server": ServerView(call).detail(server, show=True)})


# -- servers: actions -------------------------------------------------------


def _conflict(action: str, server: Server, attr: str, state: Any) -> ApiError:
    """common.raise_http_conflict_for_instance_invalid_state."""
    return ApiError(409, f"Cannot '{action}' instance {server.id} while it is in {attr} {state}")


def _check_unlocked(call: Call, server: Server) -> None:
    """compute_api's check_instance_lock: only admins act on a locked server."""
    if server.locked and not call.admin:
        raise ApiError(409, f"Instance {server.id} is locked")


def _check_state(action: str, server: Server, vm_states: tuple[str, ...]) -> None:
    """compute_api's check_instance_state with its defaults (no task, launched)."""
    if server.vm_state not in vm_states:
        raise _conflict(action, server, "vm_state", server.vm_state)
    if server.task_state is not None:
        raise _conflict(action, server, "task_state", server.task_state)
    if server.launched_at is None:
        raise _conflict(action, server, "launched_at", None)


@dataclass(frozen=True)
class PowerAction:
    """A power action: the vm_states it starts from and the state it leaves."""

    from_states: tuple[str, ...]
    vm_state: str
    status: str
    power_state: int


POWER_ACTIONS = {
    "pause": PowerAction(("active",), "paused", "PAUSED", POWER_PAUSED),
    "unpause": PowerAction(("paused",), "active", "ACTIVE", POWER_RUNNING),
    "suspend": PowerAction(("active",), "suspended", "SUSPENDED", POWER_SUSPENDED),
    "resume": PowerAction(("suspended",), "active", "ACTIVE", POWER_RUNNING),
}


def _power(call: Call, server: Server, action: str) -> None:
    spec = POWER_ACTIONS[action]
    _check_unlocked(call, server)
    _check_state(action, server, spec.from_states)
    server.vm_state = spec.vm_state
    server.status = spec.status
    server.power_state = spec.power_state
    server.task_state = None
    server.updated_at = call.now


def _lock_reason(call: Call, value: Any) -> str | None:
    """Validate the `lock` value: null, or {"locked_reason": ...} from 2.73."""
    if value is None:
        return None
    if not call.at_least("2.73"):
        raise _invalid("lock", value, f"{json.dumps(value)} is not of type 'null'")
    if not isinstance(value, dict) or set(value) - {"locked_reason"}:
        raise _invalid("lock", value, "only 'locked_reason' is allowed")
    reason = value.get("locked_reason")
    if reason is not None and (not isinstance(reason, str) or not 1 <= len(reason) <= 255):
        raise _invalid("lock/locked_reason", reason, "must be a string of 1 to 255 characters")
    return reason


def _lock(call: Call, server: Server, reason: str | None) -> None:
    """compute_api.lock: an owner's second lock is a no-op; admins lock over it."""
    is_owner = server.project_id == call.token.project_id
    if server.locked and is_owner:
        return
    server.locked = True
    _locked_by(call.region)[server.id] = "owner" if is_owner else "admin"
    if reason:
        server.locked_reason = reason
    server.updated_at = call.now


def _unlock(call: Call, server: Server) -> None:
    """compute_api.unlock: undoing someone else's lock needs unlock_override (admin)."""
    expected = "owner" if server.project_id == call.token.project_id else "admin"
    locked_by = _locked_by(call.region).get(server.id)
    if locked_by and locked_by != expected:
        _require_admin(call, "os_compute_api:os-lock-server:unlock:unlock_override")
    server.locked = False
    server.locked_reason = None
    _locked_by(call.region).pop(server.id, None)
    server.updated_at = call.now


ACTIONS = ("lock", "unlock", *POWER_ACTIONS)


async def server_action(call: Call) -> Response:
    """POST /servers/{id}/action: lock, unlock, pause, unpause, suspend, resume."""
    body = await _json_body(call.request)
    if not isinstance(body, dict) or len(body) != 1:
        raise ApiError(400, "Malformed message body: too many body keys")
    action, value = next(iter(body.items()))
    if action not in ACTIONS:
        raise ApiError(400, f"There is no such action: {action}")
    reason = _lock_reason(call, value) if action == "lock" else None
    if action != "lock" and value is not None:
        raise _invalid(action, value, f"{json.dumps(value)} is not of type 'null'")
    server = _visible_server(call, call.request.path_params["server_id"])
    if action == "lock":
        _lock(call, server, reason)
    elif action == "unlock":
        _unlock(call, server)
    else:
        _power(call, server, action)
    return Response(status_code=202)


# -- os-quota-sets ------------------------------------------------------------

# Before 2.36 the nova-network quotas are still shown (unlimited, nothing counts
# against them); 2.57 drops the injected-file ones.
NOVA_NETWORK_QUOTAS = ("fixed_ips", "floating_ips", "security_group_rules", "security_groups")
INJECTED_FILE_QUOTAS = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def _quota_project(call: Call, rule: str) -> str:
    """The project asked about: admin, or a member asking about its own project.
    Nova does not check that the project exists (an unknown one has the defaults)."""
    project_id = call.request.path_params["project_id"]
    if project_id != call.token.project_id and not call.admin:
        raise ApiError(403, f"Policy doesn't allow {rule} to be performed.")
    return project_id


def _quota_limits(call: Call, project_id: str) -> dict[str, int]:
    limits = dict(call.region.compute_quota(project_id))
    if not call.at_least("2.36"):
        limits.update(dict.fromkeys(NOVA_NETWORK_QUOTAS, -1))
    if call.at_least("2.57"):
        for resource in INJECTED_FILE_QUOTAS:
            limits.pop(resource, None)
    return limits


async def show_quota_set(call: Call) -> Response:
    """GET /os-quota-sets/{project_id}: the project's limits."""
    project_id = _quota_project(call, "os_compute_api:os-quota-sets:show")
    return json_response({"quota_set": {"id": project_id, **_quota_limits(call, project_id)}})


async def quota_set_detail(call: Call) -> Response:
    """GET /os-quota-sets/{project_id}/detail: limits with what is in use, counted from
    the project's servers (key pairs are per user: none in use for a project)."""
    project_id = _quota_project(call, "os_compute_api:os-quota-sets:detail")
    used = compute_usage(_servers_index(call.region).by_project.get(project_id, ()))
    body: dict[str, Any] = {"id": project_id}
    for resource, limit in _quota_limits(call, project_id).items():
        body[resource] = {"in_use": used.get(resource, 0), "limit": limit, "reserved": 0}
    return json_response({"quota_set": body})


def routes() -> list[Route]:
    """Routes relative to the /{region}/compute mount."""

    def api(path: str, handler: NovaHandler, method: str = "GET") -> Route:
        return Route(f"/v2.1{path}", _endpoint(handler), methods=[method])

    return [
        Route("/", versions, methods=["GET"]),
        Route("/v2.1", version, methods=["GET"]),
        Route("/v2.1/", version, methods=["GET"]),
        api("/os-hypervisors", list_hypervisors),
        api("/os-hypervisors/detail", hypervisors_detail),
        api("/os-hypervisors/statistics", hypervisor_statistics),
        api("/os-hypervisors/{hypervisor_id}", show_hypervisor),
        api("/os-services", list_services),
        api("/os-services/{service_id}", update_service, "PUT"),
        api("/servers", list_servers),
        api("/servers/detail", servers_detail),
        api("/servers/{server_id}", show_server),
        api("/servers/{server_id}/action", server_action, "POST"),
        api("/os-quota-sets/{project_id}", show_quota_set),
        api("/os-quota-sets/{project_id}/detail", quota_set_detail),
    ]
