"""The `/_sim/` control API: look inside the simulator and steer it during tests and demos.

Tests and the demo need to move the clock, inject faults, read which requests a client
made and start incidents without reaching into the process. This is our own API, not
OpenStack's: plain JSON bodies, errors as `{"error": "..."}` with 400/404, and it only
answers loopback clients (the app's middleware refuses others with 403).
"""

from __future__ import annotations

import json
import math
from bisect import bisect_right
from collections.abc import Awaitable, Callable
from dataclasses import asdict, fields, replace
from typing import Any
from weakref import WeakKeyDictionary

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from osconsole.sim.clock import iso
from osconsole.sim.common import ctx, json_response
from osconsole.sim.scenarios import SCENARIOS, Event, Run, runner
from osconsole.sim.world import Faults, RequestRecord, World

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
    table = {IDENTITY: world.identity_faults}
    table.update({name: region.faults for name, region in world.regions.items()})
    if world not in _baselines:
        _baselines[world] = {name: replace(faults) for name, faults in table.items()}
    return table


def _faults_of(world: World, name: str) -> Faults:
    faults = _faults_by_name(world).get(name)
    if faults is None:
        known = ", ".join([IDENTITY, *world.regions])
        raise ControlError(400, f"unknown region {name!r}: choose one of {known}")
    return faults


def _validated_faults(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key not in FAULT_DEFAULTS:
            raise ControlError(
                400, f"unknown fault {key!r}: choose from {', '.join(FAULT_DEFAULTS)}"
            )
        if isinstance(FAULT_DEFAULTS[key], bool):
            if not isinstance(value, bool):
                raise ControlError(400, f"{key} must be true or false")
            changes[key] = value
            continue
        number = _number(value, key)
        if key.endswith("_rate") and number > 1:
            raise ControlError(400, f"{key} must be between 0 and 1")
        changes[key] = number
    return changes


async def list_faults(request: Request, world: World) -> dict[str, Any]:
    """GET /_sim/faults: every region's faults, and Keystone's under "identity"."""
    return {name: asdict(faults) for name, faults in _faults_by_name(world).items()}


async def put_faults(request: Request, world: World) -> dict[str, Any]:
    """PUT /_sim/faults/{region}: change some fields; the others stay as they are."""
    name = request.path_params["region"]
    faults = _faults_of(world, name)
    changes = _validated_faults(await _json_object(request))
    faults.update(**changes)
    return {name: asdict(faults)}


async def reset_faults(request: Request, world: World) -> dict[str, Any]:
    """DELETE /_sim/faults/{region}: back to what the region started with."""
    name = request.path_params["region"]
    faults = _faults_of(world, name)
    faults.update(**asdict(_baselines[world][name]))
    return {name: asdict(faults)}


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


_ROUTES = [
    Route("/state", _endpoint(state), methods=["GET"]),
    Route("/requests", _endpoint(list_requests), methods=["GET"]),
    Route("/requests/clear", _endpoint(clear_requests), methods=["POST"]),
    Route("/clock/step", _endpoint(step_clock), methods=["POST"]),
    Route("/token_ttl", _endpoint(set_token_ttl), methods=["PUT"]),
    Route("/faults", _endpoint(list_faults), methods=["GET"]),
    Route("/faults/{region}", _endpoint(put_faults), methods=["PUT"]),
    Route("/faults/{region}", _endpoint(reset_faults), methods=["DELETE"]),
    Route("/scenarios", _endpoint(list_scenarios), methods=["GET"]),
    Route("/scenarios/{name}", _endpoint(start_scenario, status=201), methods=["POST"]),
    Route("/scenarios/{name}", _endpoint(stop_scenario), methods=["DELETE"]),
]


def routes() -> list[Route]:
    catch_all = Route(
        "/{path:path}", _unknown, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
    )
    return [*_ROUTES, catch_all]
