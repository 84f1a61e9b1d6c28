"""Cinder v3 as the simulator serves it: version documents, os-services and quota sets.

Operators watch `os-services` to see a dead cinder-volume (state `down` once its
heartbeat is older than service_down_time, 60 s) and disable it with a reason.
The body follows Cinder's controller by microversion: `cluster` from 3.7,
`backend_state` from 3.49 (cinder-volume rows only), and the replication fields on
cinder-volume rows only. The list is not paged. Microversions come from
`OpenStack-API-Version: volume 3.x` (Cinder has no legacy header).

Quota sets (`os-quota-sets/{project}`, `?usage=true` for what is in use) are not
microversioned; their usage is counted from the region's volumes and snapshots.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from osconsole.sim.clock import iso
from osconsole.sim.common import (
    ApiError,
    Handler,
    Microversion,
    authenticate,
    ctx,
    error_body,
    json_response,
    negotiate_microversion,
    query_bool,
)
from osconsole.sim.world import Region, Token, VolumeService

SERVICE = "volume"
MIN_VERSION = "3.0"
MAX_VERSION = "3.71"
UPDATED = "2023-08-31T00:00:00Z"
HEADER = "OpenStack-API-Version"
CLUSTER_SUPPORT = "3.7"
BACKEND_STATE_REPORT = "3.49"
VOLUME_BINARY = "cinder-volume"
INDEX_POLICY = "volume_extension:services:index"
UPDATE_POLICY = "volume_extension:services:update"
UPDATE_FIELDS = frozenset({"binary", "host", "cluster", "service"})

CinderHandler = Callable[[Request, Microversion], Awaitable[Response]]


def _version_doc(request: Request) -> dict[str, Any]:
    base = ctx(request).service_url("volume")
    return {
        "versions": [
            {
                "id": "v3.0",
                "status": "CURRENT",
                "version": MAX_VERSION,
                "min_version": MIN_VERSION,
                "updated": UPDATED,
                "links": [
                    {
                        "rel": "describedby",
                        "type": "text/html",
                        "href": "https://docs.openstack.org/",
                    },
                    {"rel": "self", "href": f"{base}/v3/"},
                ],
                "media-types": [
                    {
                        "base": "application/json",
                        "type": "application/vnd.openstack.volume+json;version=3",
                    }
                ],
            }
        ]
    }


async def versions(request: Request) -> Response:
    """GET /: every API version, 300 Multiple Choices, no token needed."""
    return json_response(_version_doc(request), status=300)


def _versioned(response: Response, version: Microversion) -> Response:
    response.headers[HEADER] = f"{SERVICE} {version}"
    response.headers["Vary"] = HEADER
    return response


def endpoint(policy: str | None) -> Callable[[CinderHandler], Handler]:
    """Wrap a handler as Cinder runs it: token (401), microversion (406), the URL's
    project against the token's (400), then policy (403). Faults raised after the
    version is agreed carry the version headers, as Cinder's Fault does."""

    def wrap(handler: CinderHandler) -> Handler:
        async def run(request: Request) -> Response:
            token = authenticate(request)
            version = negotiate_microversion(request, SERVICE, MIN_VERSION, MAX_VERSION)
            try:
                _check_project(request, token)
                if policy is not None and not token.is_admin:
                    raise ApiError(403, f"Policy doesn't allow {policy} to be performed.")
                response = await handler(request, version)
            except ApiError as exc:
                body = error_body(SERVICE, exc.status, exc.message)
                response = json_response(body, status=exc.status)
            return _versioned(response, version)

        return run

    return wrap


def _check_project(request: Request, token: Token) -> None:
    project_id = request.path_params.get("project_id")
    if project_id is not None and project_id != token.project_id:
        raise ApiError(400, "Malformed request url")


@endpoint(None)
async def version_v3(request: Request, version: Microversion) -> Response:
    """GET /v3/: the v3 document; it sits behind keystonemiddleware like the rest of v3."""
    return json_response(_version_doc(request))


def _region(request: Request) -> Region:
    region = ctx(request).region
    assert region is not None, "the app only mounts Cinder under a region"
    return region


def host_matches(stored: str, wanted: str) -> bool:
    """Cinder's host filter: `host` also matches `host@backend` and `host#pool`;
    `host@backend` also matches its pools; `host@backend#pool` only itself."""
    if stored == wanted:
        return True
    if "#" in wanted:
        return False
    if "@" in wanted:
        return stored.startswith(wanted + "#")
    return stored.startswith((wanted + "@", wanted + "#"))


def _service_body(svc: VolumeService, now: float, version: Microversion) -> dict[str, Any]:
    up = svc.is_up(now)
    body: dict[str, Any] = {
        "binary": svc.binary,
        "host": svc.host,
        "zone": svc.zone,
        "status": "disabled" if svc.disabled else "enabled",
        "state": "up" if up else "down",
        "updated_at": iso(svc.heartbeat(now), micro=True),
    }
    is_volume = svc.binary == VOLUME_BINARY
    if is_volume and version.at_least(BACKEND_STATE_REPORT):
        # The scheduler only reports pools of live backends; a dead one has no state.
        body["backend_state"] = "up" if up else None
    if version.at_least(CLUSTER_SUPPORT):
        body["cluster"] = svc.cluster
    body["disabled_reason"] = svc.disabled_reason
    if is_volume:
        body["replication_status"] = "disabled"
        body["active_backend_id"] = None
        body["frozen"] = svc.frozen
    return body


@endpoint(INDEX_POLICY)
async def list_services(request: Request, version: Microversion) -> Response:
    """GET os-services (admin): filters `host` (Cinder's host matching) and `binary`."""
    c = ctx(request)
    host = request.query_params.get("host")
    binary = request.query_params.get("binary")
    services = [
        _service_body(svc, c.now, version)
        for svc in _region(request).volume_services
        if (not host or host_matches(svc.host, host)) and (not binary or svc.binary == binary)
    ]
    return json_response({"services": services})


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise ApiError(400, "Malformed request body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Malformed request body")
    return body


def _validate(body: dict[str, Any], with_reason: bool) -> None:
    """Cinder's JSON schema for enable/disable(-log-reason), worded as its validator words it."""
    allowed = UPDATE_FIELDS | ({"disabled_reason"} if with_reason else set())
    extra = sorted(set(body) - allowed)
    if extra:
        names = ", ".join(repr(k) for k in extra)
        verb = "was" if len(extra) == 1 else "were"
        raise ApiError(400, f"Additional properties are not allowed ({names} {verb} unexpected)")
    if "binary" not in body and "service" not in body:
        raise ApiError(400, f"{body!r} is not valid under any of the given schemas")
    for key in ("binary", "service", "host", "disabled_reason"):
        value = body.get(key)
        if key not in body or (isinstance(value, str) and 1 <= len(value.strip()) <= 255):
            continue
        raise ApiError(
            400,
            f"Invalid input for field/attribute {key}. Value: {value}. "
            f"{value!r} is not a valid {key}",
        )


def _find_service(region: Region, host: str, binary: str) -> VolumeService:
    for svc in region.volume_services:
        if svc.binary == binary and host_matches(svc.host, host):
            return svc
    raise ApiError(404, f"Service {binary} could not be found on host {host}.")


@endpoint(UPDATE_POLICY)
async def update_service(request: Request, version: Microversion) -> Response:
    """PUT os-services/{enable,disable,disable-log-reason}: change a service's status.

    Enabling leaves the stored reason alone, as Cinder does; only
    disable-log-reason sets it.
    """
    action = request.path_params["action"]
    if action not in ("enable", "disable", "disable-log-reason"):
        raise ApiError(400, "Invalid input received: Unknown action")
    body = await _json_body(request)
    with_reason = action == "disable-log-reason"
    _validate(body, with_reason)
    host = body.get("host")
    if not host:
        raise ApiError(400, "Invalid input received: Host field is missing.")
    service_key, binary = body.get("service", ""), body.get("binary", "")
    svc = _find_service(_region(request), host, binary or service_key)
    result: dict[str, Any] = {}
    if with_reason:
        result["disabled_reason"] = body.get("disabled_reason")
        svc.disabled_reason = result["disabled_reason"]
    svc.disabled = action != "enable"
    result |= {
        "disabled": svc.disabled,
        "host": host,
        "service": service_key,
        "binary": binary,
        "status": "disabled" if svc.disabled else "enabled",
    }
    return json_response(result)


QUOTA_SHOW_POLICY = "volume_extension:quotas:show"


@endpoint(None)
async def show_quota_set(request: Request, version: Microversion) -> Response:
    """GET os-quota-sets/{target}: admin, or the project's own; limits only, or with
    `usage=true` each resource as {limit, in_use, reserved, allocated} (allocated is for
    nested projects: 0 here). Cinder does not check that the project exists."""
    token = ctx(request).token
    assert token is not None, "the endpoint wrapper authenticated the caller"
    target = request.path_params["target_id"]
    if target != token.project_id and not token.is_admin:
        raise ApiError(403, f"Policy doesn't allow {QUOTA_SHOW_POLICY} to be performed.")
    region = _region(request)
    limits = region.volume_quota(target)
    body: dict[str, Any] = {"id": target}
    if query_bool(request, "usage"):
        used = region.project_volume_usage(target)
        for resource, limit in limits.items():
            in_use = used.get(resource, 0)
            body[resource] = {"reserved": 0, "allocated": 0, "limit": limit, "in_use": in_use}
    else:
        body.update(limits)
    return json_response({"quota_set": body})


def routes() -> list[Route]:
    return [
        Route("/", versions, methods=["GET"]),
        Route("/v3", version_v3, methods=["GET"]),
        Route("/v3/", version_v3, methods=["GET"]),
        Route("/v3/os-services", list_services, methods=["GET"]),
        Route("/v3/os-services/{action}", update_service, methods=["PUT"]),
        Route("/v3/{project_id}/os-services", list_services, methods=["GET"]),
        Route("/v3/{project_id}/os-services/{action}", update_service, methods=["PUT"]),
        Route("/v3/{project_id}/os-quota-sets/{target_id}", show_quota_set, methods=["GET"]),
    ]
