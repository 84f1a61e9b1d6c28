"""The `/_sim/` control API: look inside the simulator and steer it during tests and demos.

Tests and the demo need to move the clock, inject faults (per region, and per service
of a region), read which requests a client made, start incidents and give objects
hostile names without reaching into the process. This is our own API, not
OpenStack's: plain JSON bodies, errors as `{"error": "..."}` with 400/404, and it only
answers loopback clients (the app's middleware refuses others with 403).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields, replace
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from osconsole.sim.backing import galera_status, probes_config
from osconsole.sim.clock import iso
from osconsole.sim.common import ctx, json_response
from osconsole.sim.faults import SHAPES
from osconsole.sim.scenarios import SCENARIOS, Event, Run, runner
from osconsole.sim.world import SERVICES, Faults, RequestRecord, World

T = TypeVar("T")
IDENTITY = "identity"  # the faults key of Keystone, shared by every region
DEFAULT_REQUEST_LIMIT = 10_000
FAULT_DEFAULTS = {f.name: getattr(Faults(), f.name) for f in fields(Faults)}

# The faults each world started with, so DELETE can restore them (generated latency).
_baselines: WeakKeyDictionary[World, dict[str, Faults]] = WeakKeyDictionary()


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _endpoint(
    handler: Callable[[Request, World], Awaitable[Any]], status: int = 200
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler returning a JSON-able body; ControlError becomes {"error": ...}."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await handler(request, ctx(request).world)
        except ControlError as exc:
            return json_response({"error": exc.message}, status=exc.status)
        return json_response(body, status=status)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlError(400, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ControlError(400, "the body must be a JSON object")
    return body


def _number(value: Any, name: str, *, minimum: float = 0.0, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ControlError(400, f"{name} must be a number")
    if value < minimum or (positive and value <= 0):
        raise ControlError(400, f"{name} must be {'>' if positive else '>='} {minimum:g}")
    return float(value)


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None
    if value < 0:
        raise ControlError(400, f"{name} must be >= 0")
    return value


def _clock(world: World) -> dict[str, Any]:
    now = world.now()
    return {"now": now, "now_iso": iso(now, zulu=True, micro=True)}


# -- state and the request log -----------------------------------------------------------


def _run_body(run: Run) -> dict[str, Any]:
    return {
        "name": run.name,
        "region": run.region,
        "started_at": run.started_at,
        "loops": run.scenario.loop is not None,
        "cycle": run.cycle,
        "next_step_at": run.due(),
    }


def _event_body(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time": event.time,
        "time_iso": iso(event.time, zulu=True),
        "region": event.region,
        "scenario": event.scenario,
        "description": event.description,
    }


async def state(request: Request, world: World) -> dict[str, Any]:
    """GET /_sim/state: the clock, per-region counts and what is running."""
    now = world.now()
    regions = {}
    for name, region in world.regions.items():
        regions[name] = {
            "hypervisors": len(region.hypervisors),
            "routers": len(region.routers),
            "servers": sum(1 for s in region.servers if not s.deleted),
            "servers_deleted": sum(1 for s in region.servers if s.deleted),
            "ports": len(region.ports),
            "floating_ips": len(region.floating_ips),
            "security_group_rules": len(region.security_group_rules),
            "agents": len(region.agents),
            "agents_dead": sum(1 for a in region.agents if not a.is_alive(now)),
        }
    return {
        **_clock(world),
        "clock_running": world.clock.running,
        "seed": world.seed,
        "token_ttl": world.token_ttl,
        "projects": len(world.projects),
        "regions": regions,
        "scenarios": [_run_body(r) for r in runner(world).runs],
    }


def _record_body(record: RequestRecord) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "time": record.time,
        "method": record.method,
        "path": record.path,
        "query": record.query,
        "region": record.region,
        "service": record.service,
        "status": record.status,
    }


async def list_requests(request: Request, world: World) -> dict[str, Any]:
    """GET /_sim/requests?since=SEQ[&region=R][&service=S][&limit=N].

    `last_seq` is the cursor for the next call: the world's latest sequence number, or
    the last entry returned when `limit` cut the answer short (`truncated`).
    """
    since = _int_param(request, "since", 0)
    limit = _int_param(request, "limit", DEFAULT_REQUEST_LIMIT)
    region = request.query_params.get("region")
    service = request.query_params.get("service")
    records = world.requests
    start = bisect_right(records, since, key=lambda r: r.seq)
    found: list[RequestRecord] = []
    truncated = False
    for record in records[start:]:
        if (region and record.region != region) or (service and record.service != service):
            continue
        if len(found) == limit:
            truncated = True
            break
        found.append(record)
    last = found[-1].seq if truncated and found else world.request_seq
    return {
        "requests": [_record_body(r) for r in found],
        "last_seq": last,
        "truncated": truncated,
    }


async def clear_requests(request: Request, world: World) -> dict[str, Any]:
    """POST /_sim/requests/clear: forget the log; sequence numbers keep counting."""
    cleared = len(world.requests)
    world.requests.clear()
    return {"cleared": cleared, "last_seq": world.request_seq}


async def step_clock(request: Request, world: World) -> dict[str, Any]:
    """POST /_sim/clock/step {"seconds": N}: move time and let scenarios catch up."""
    body = await _json_object(request)
    seconds = _number(body.get("seconds"), "seconds")
    before = runner(world).event_seq
    world.clock.step(seconds)
    world.tick()
    events = runner(world).events_since(before)
    return {**_clock(world), "events": [_event_body(e) for e in events]}


async def set_token_ttl(request: Request, world: World) -> dict[str, Any]:
    """PUT /_sim/token_ttl {"seconds": N}: lifetime of tokens issued from now on."""
    body = await _json_object(request)
    world.token_ttl = _number(body.get("seconds"), "seconds", positive=True)
    return {"token_ttl": world.token_ttl}


# -- faults ---------------------------------------------------------------------------------


def _faults_by_name(world: World) -> dict[str, Faults]:
    """Keystone's, each region's, then each region's services' ("RegionOne/network")."""
    table = {IDENTITY: world.identity_faults}
    table.update({name: region.faults for name, region in world.regions.items()})
    for name, region in world.regions.items():
        table.update({f"{name}/{s}": faults for s, faults in region.service_faults.items()})
    if world not in _baselines:
        _baselines[world] = {name: replace(faults) for name, faults in table.items()}
    return table


def _fault_name(request: Request) -> str:
    service = request.path_params.get("service")
    region = request.path_params["region"]
    return f"{region}/{service}" if service else region


def _faults_of(world: World, name: str) -> Faults:
    faults = _faults_by_name(world).get(name)
    if faults is None:
        region, _, service = name.partition("/")
        if service and region in world.regions:
            raise ControlError(
                400, f"unknown service {service!r}: choose one of {', '.join(SERVICES)}"
            )
        known = ", ".join([IDENTITY, *world.regions])
        raise ControlError(400, f"unknown region {region!r}: choose one of {known}")
    return faults


def _validated_faults(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key not in FAULT_DEFAULTS:
            raise ControlError(
                400, f"unknown fault {key!r}: choose from {', '.join(FAULT_DEFAULTS)}"
            )
        default = FAULT_DEFAULTS[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ControlError(400, f"{key} must be true or false")
            changes[key] = value
            continue
        if isinstance(default, str):
            choices = ["", *SHAPES]
            if value not in choices:
                raise ControlError(400, f"{key} must be one of {', '.join(map(repr, choices))}")
            changes[key] = value
            continue
        number = _number(value, key)
        if key.endswith("_rate") and number > 1:
            raise ControlError(400, f"{key} must be between 0 and 1")
        if key == "status" and (number != int(number) or not (number == 0 or 400 <= number < 600)):
            raise ControlError(400, "status must be 0 (off) or an HTTP error status, 400-599")
        changes[key] = number
    return changes


async def list_faults(request: Request, world: World) -> dict[str, Any]:
    """GET /_sim/faults: Keystone's faults under "identity", every region's, then
    every region's services' under "RegionOne/compute" and so on."""
    return {name: asdict(faults) for name, faults in _faults_by_name(world).items()}


async def put_faults(request: Request, world: World) -> dict[str, Any]:
    """PUT /_sim/faults/{region}[/{service}]: change some fields; the others stay as
    they are. A service's own faults apply on top of its region's."""
    name = _fault_name(request)
    faults = _faults_of(world, name)
    changes = _validated_faults(await _json_object(request))
    faults.update(**changes)
    return {name: asdict(faults)}


async def reset_faults(request: Request, world: World) -> dict[str, Any]:
    """DELETE /_sim/faults/{region}[/{service}]: back to what it started with; for a
    region, its services' own faults too."""
    name = _fault_name(request)
    faults = _faults_of(world, name)
    faults.update(**asdict(_baselines[world][name]))
    reset = {name: faults}
    if "/" not in name and name != IDENTITY:
        for service, own in world.regions[name].service_faults.items():
            key = f"{name}/{service}"
            own.update(**asdict(_baselines[world][key]))
            reset[key] = own
    return {key: asdict(value) for key, value in reset.items()}


# -- hostile text ----------------------------------------------------------------------------

RENAMEABLE = {
    "router": "a router's name (any tenant can set it)",
    "server": "a server's name",
    "project": "a project's name",
    "host": "a compute host's disabled_reason (the host's nova-compute is disabled)",
}


async def rename(request: Request, world: World) -> dict[str, Any]:
    """POST /_sim/rename {"kind", "text", "region", "id"}: give an object a name (or a
    host a disabled reason) of any text, for tests of hostile text. `region` is needed
    but for projects; without `id`, the first object of that kind (in id order)."""
    body = await _json_object(request)
    kind = body.get("kind")
    if kind not in RENAMEABLE:
        raise ControlError(400, f"unknown kind {kind!r}: choose from {', '.join(RENAMEABLE)}")
    text = body.get("text")
    if not isinstance(text, str):
        raise ControlError(400, "text must be a string")
    wanted = body.get("id")
    if wanted is not None and not isinstance(wanted, str):
        raise ControlError(400, "id must be a string")
    now = world.now()
    if kind == "project":
        project = _pick(world.projects.ordered(), wanted, lambda p: p.id, "project")
        project.name = text
        return {"kind": kind, "region": None, "id": project.id, "field": "name", "text": text}
    name = _region_choice(world, body.get("region"))
    if name is None:
        raise ControlError(400, f"a {kind} is renamed in a region: give region")
    region = world.regions[name]
    if kind == "router":
        router = _pick(region.routers.ordered(), wanted, lambda r: r.id, "router")
        router.name, router.updated_at, router.revision = text, now, router.revision + 1
        found, field = router.id, "name"
    elif kind == "server":
        servers = [s for s in region.servers.ordered() if not s.deleted]
        server = _pick(servers, wanted, lambda s: s.id, "server")
        server.name, server.updated_at = text, now
        found, field = server.id, "name"
    else:
        hosts = sorted(region.hypervisors_by_host.values(), key=lambda h: h.hostname)
        host = _pick(hosts, wanted, lambda h: h.hostname, "host")
        host.service.disabled, host.service.disabled_reason = True, text
        found, field = host.hostname, "disabled_reason"
    return {"kind": kind, "region": name, "id": found, "field": field, "text": text}


def _pick(items: list[T], wanted: str | None, key: Callable[[T], str], what: str) -> T:
    if wanted is None:
        if not items:
            raise ControlError(404, f"no {what} to rename")
        return items[0]
    for item in items:
        if key(item) == wanted:
            return item
    raise ControlError(404, f"no {what} {wanted!r}")


# -- scenarios ---------------------------------------------------------------------------------


async def list_scenarios(request: Request, world: World) -> dict[str, Any]:
    """GET /_sim/scenarios[?since=SEQ]: what can run, what runs, and what happened."""
    since = _int_param(request, "since", 0)
    run = runner(world)
    return {
        "available": [
            {"name": f.name, "description": f.description, "loops": f.loop is not None}
            for f in SCENARIOS.values()
        ],
        "running": [_run_body(r) for r in run.runs],
        "events": [_event_body(e) for e in run.events_since(since)],
        "last_event_seq": run.event_seq,
    }


def _scenario_name(request: Request) -> str:
    name = request.path_params["name"]
    if name not in SCENARIOS:
        raise ControlError(404, f"no scenario {name!r}: choose from {', '.join(SCENARIOS)}")
    return name


def _region_choice(world: World, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in world.regions:
        raise ControlError(
            400, f"unknown region {value!r}: choose one of {', '.join(world.regions)}"
        )
    return value


async def start_scenario(request: Request, world: World) -> dict[str, Any]:
    """POST /_sim/scenarios/{name} {"region": optional}: start it now."""
    name = _scenario_name(request)
    region = _region_choice(world, (await _json_object(request)).get("region"))
    run = runner(world)
    before = run.event_seq
    try:
        started = run.start(name, region)
    except ValueError as exc:
        raise ControlError(400, str(exc)) from None
    return {
        "started": _run_body(started),
        "events": [_event_body(e) for e in run.events_since(before)],
    }


async def stop_scenario(request: Request, world: World) -> dict[str, Any]:
    """DELETE /_sim/scenarios/{name}[?region=R]: stop it; the world stays as it is."""
    name = _scenario_name(request)
    region = _region_choice(world, request.query_params.get("region"))
    stopped = runner(world).stop(name, region)
    if not stopped:
        raise ControlError(404, f"{name} is not running")
    return {"stopped": [_run_body(r) for r in stopped]}


# -- routing ---------------------------------------------------------------------------------


async def _unknown(request: Request) -> Response:
    """Anything else: 405 for a known path with the wrong method, else 404."""
    if any(route.matches(request.scope)[0] == Match.PARTIAL for route in _ROUTES):
        return json_response({"error": f"{request.method} is not allowed here"}, status=405)
    return json_response({"error": f"no control endpoint {request.url.path}"}, status=404)


# -- the services beneath (sim/backing.py) ---------------------------------------------------


async def probes(request: Request, world: World) -> Any:
    """config.yaml's `probes:` for this simulator (the demo turns them on with it)."""
    return probes_config(world, ctx(request).base_url)


async def galera(request: Request, world: World) -> Any:
    """A Galera node's SHOW GLOBAL STATUS and VARIABLES rows: the injected MySQL source."""
    found = galera_status(world, request.path_params["region"])
    if found is None:
        raise ControlError(404, f"no region {request.path_params['region']!r}")
    return found


_ROUTES = [
    Route("/state", _endpoint(state), methods=["GET"]),
    Route("/requests", _endpoint(list_requests), methods=["GET"]),
    Route("/requests/clear", _endpoint(clear_requests), methods=["POST"]),
    Route("/clock/step", _endpoint(step_clock), methods=["POST"]),
    Route("/token_ttl", _endpoint(set_token_ttl), methods=["PUT"]),
    Route("/faults", _endpoint(list_faults), methods=["GET"]),
    Route("/faults/{region}", _endpoint(put_faults), methods=["PUT"]),
    Route("/faults/{region}", _endpoint(reset_faults), methods=["DELETE"]),
    Route("/faults/{region}/{service}", _endpoint(put_faults), methods=["PUT"]),
    Route("/faults/{region}/{service}", _endpoint(reset_faults), methods=["DELETE"]),
    Route("/rename", _endpoint(rename), methods=["POST"]),
    Route("/probes", _endpoint(probes), methods=["GET"]),
    Route("/galera/{region}", _endpoint(galera), methods=["GET"]),
    Route("/scenarios", _endpoint(list_scenarios), methods=["GET"]),
    Route("/scenarios/{name}", _endpoint(start_scenario, status=201), methods=["POST"]),
    Route("/scenarios/{name}", _endpoint(stop_scenario), methods=["DELETE"]),
]


def routes() -> list[Route]:
    catch_all = Route(
        "/{path:path}", _unknown, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    )
    return [*_ROUTES, catch_all]
