"""Placement as the simulator serves it: every compute node is a resource provider.

Since Nova 2.88 dropped the usage fields from os-hypervisors, a console has to read
capacity and usage here: a hypervisor's id is its provider uuid, its inventories
give `(total - reserved) * allocation_ratio`, and its usages count the servers
placed on it (the same numbers Nova's allocations would hold). Placement is
admin-only by default policy, microversioned (1.0-1.39) and never paged; errors use
its own `{"errors": [...]}` shape and, from 1.23, carry a `code`.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from osconsole.sim.common import (
    ApiError,
    Handler,
    Microversion,
    authenticate,
    ctx,
    error_body,
    json_response,
    negotiate_microversion,
)
from osconsole.sim.world import Hypervisor, Region, Server

SERVICE = "placement"
MIN_VERSION = "1.0"
MAX_VERSION = "1.39"
HEADER = "OpenStack-API-Version"
NOT_FOUND = "The resource could not be found."
DEFAULT_ERROR_CODE = "placement.undefined_code"
INSTANCE = "INSTANCE"
STANDARD_CLASSES = frozenset(
    {
        "VCPU",
        "MEMORY_MB",
        "DISK_GB",
        "PCI_DEVICE",
        "SRIOV_NET_VF",
        "NUMA_SOCKET",
        "NUMA_CORE",
        "NUMA_THREAD",
        "NUMA_MEMORY_MB",
        "IPV4_ADDRESS",
        "VGPU",
        "VGPU_DISPLAY_HEAD",
        "NET_BW_EGR_KILOBIT_PER_SEC",
        "NET_BW_IGR_KILOBIT_PER_SEC",
        "PCPU",
        "MEM_ENCRYPTION_CONTEXT",
        "FPGA",
        "PGPU",
        "NET_PACKET_RATE_KILOPACKET_PER_SEC",
        "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
        "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
    }
)
# Query parameters GET /resource_providers accepts, by the microversion that added them.
PROVIDER_QUERY = {"name": "1.0", "uuid": "1.0", "member_of": "1.3", "resources": "1.4"}
PROVIDER_QUERY |= {"in_tree": "1.14", "required": "1.18"}

PlacementHandler = Callable[[Request, Microversion], Awaitable[Response]]


def _mv(text: str) -> Microversion:
    return Microversion.parse(text)


def _error(status: int, detail: str, version: Microversion | None) -> Response:
    """Placement's error body: `code` from 1.23, min/max when no version was agreed."""
    body = error_body(SERVICE, status, detail)
    error = body["errors"][0]
    if version is not None and version.at_least("1.23"):
        error["code"] = DEFAULT_ERROR_CODE
    if status == 406 and version is None:
        error["max_version"] = MAX_VERSION
        error["min_version"] = MIN_VERSION
    response = json_response(body, status=status)
    if version is not None:
        response.headers[HEADER] = f"{SERVICE} {version}"
    return response


def _versioned(response: Response, version: Microversion, now: float) -> Response:
    response.headers[HEADER] = f"{SERVICE} {version}"
    response.headers["Vary"] = HEADER.lower()
    if version.at_least("1.15"):
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Last-Modified"] = formatdate(now, usegmt=True)
    return response


def _negotiate(request: Request) -> Microversion | Response:
    try:
        return negotiate_microversion(request, SERVICE, MIN_VERSION, MAX_VERSION)
    except ApiError as exc:
        detail = exc.message
        if exc.status == 406:
            asked = request.headers.get("openstack-api-version", "")
            detail = f"Unacceptable version header: {asked.split()[-1] if asked else ''}"
        return _error(exc.status, detail, None)


def endpoint(policy: str, *, since: str | None = None) -> Callable[[PlacementHandler], Handler]:
    """Wrap a handler as Placement's middleware stack runs it.

    keystonemiddleware answers 401 first, then the microversion is agreed (406
    outside 1.0-1.39), then a handler newer than the request answers 404, and only
    then does policy (admin) refuse with 403, which already carries the version header.
    """

    def wrap(handler: PlacementHandler) -> Handler:
        async def run(request: Request) -> Response:
            token = authenticate(request)
            version = _negotiate(request)
            if isinstance(version, Response):
                return version
            try:
                if since is not None and not version.at_least(since):
                    raise ApiError(404, f"{NOT_FOUND}\n\n   ")
                if not token.is_admin:
                    raise ApiError(
                        403,
                        "Access was denied to this resource.\n\n "
                        f"Policy does not allow {policy} to be performed.  ",
                    )
                response = await handler(request, version)
            except ApiError as exc:
                return _error(exc.status, exc.message, version)
            return _versioned(response, version, ctx(request).now)

        return run

    return wrap


def _region(request: Request) -> Region:
    region = ctx(request).region
    assert region is not None, "the app only mounts Placement under a region"
    return region


def _provider_url(region: Region, provider_id: str) -> str:
    """Placement builds links from SCRIPT_NAME: a path, not a full URL."""
    return f"/{region.name}/placement/resource_providers/{provider_id}"


def _provider_body(region: Region, hv: Hypervisor, version: Microversion) -> dict[str, Any]:
    url = _provider_url(region, hv.id)
    rels = ["inventories", "usages"]
    if version.at_least("1.1"):
        rels.append("aggregates")
    if version.at_least("1.6"):
        rels.append("traits")
    if version.at_least("1.11"):
        rels.append("allocations")
    body: dict[str, Any] = {
        "uuid": hv.id,
        "name": hv.hostname,
        "generation": hv.generation,
        "links": [{"rel": "self", "href": url}]
        + [{"rel": rel, "href": f"{url}/{rel}"} for rel in rels],
    }
    if version.at_least("1.14"):
        # Compute nodes are roots: no parent, and their own tree's root.
        body["parent_provider_uuid"] = None
        body["root_provider_uuid"] = hv.id
    return body


def _provider(request: Request) -> Hypervisor:
    provider_id = request.path_params["uuid"]
    hv = _region(request).hypervisors.get(provider_id)
    if hv is None:
        raise ApiError(404, f"{NOT_FOUND}\n\n No resource provider with uuid {provider_id} found  ")
    return hv


def _is_uuid(text: str) -> bool:
    try:
        uuidlib.UUID(text)
    except ValueError:
        return False
    return True


def _bad_query(message: str) -> ApiError:
    return ApiError(400, f"Invalid query string parameters: {message}")


def _check_query(request: Request, allowed: dict[str, str], version: Microversion) -> None:
    """Placement validates query strings with JSON schema: unknown keys are a 400."""
    for key in request.query_params:
        since = allowed.get(key)
        if since is None or not version.at_least(since):
            raise _bad_query(f"Additional properties are not allowed ('{key}' was unexpected)")


def _parse_resources(raw: str) -> dict[str, int]:
    """`VCPU:2,MEMORY_MB:1024` as Placement parses it, with its error messages."""
    form = "?resources=VCPU:2,MEMORY_MB:1024"
    if not raw.strip():
        raise ApiError(
            400,
            "Badly formed resources parameter. Expected resources query string "
            f"parameter in form: {form}. Got: empty string.",
        )
    wanted: dict[str, int] = {}
    for part in raw.split(","):
        name, sep, amount_text = part.partition(":")
        if not sep or ":" in amount_text:
            raise ApiError(
                400,
                "Badly formed resources parameter. Expected resources query string "
                f"parameter in form: {form}. Got: {part}.",
            )
        try:
            amount = int(amount_text)
        except ValueError:
            raise ApiError(
                400,
                f"Requested resource {name} expected positive integer amount. Got: {amount_text}.",
            ) from None
        if amount < 1:
            raise ApiError(400, f"Requested resource {name} requires amount >= 1. Got: {amount}.")
        if name not in STANDARD_CLASSES:
            raise ApiError(
                400,
                f"Invalid resource class in resources parameter: No such resource class {name}.",
            )
        wanted[name] = amount
    return wanted


def _has_room(hv: Hypervisor, wanted: dict[str, int]) -> bool:
    """Whether every requested amount fits the provider's free capacity and unit limits."""
    inventories = hv.inventories()
    used = hv.usages()
    for name, amount in wanted.items():
        inv = inventories.get(name)
        if inv is None:
            return False
        capacity = (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]
        if used.get(name, 0) + amount > capacity:
            return False
        if not inv["min_unit"] <= amount <= inv["max_unit"] or amount % inv["step_size"]:
            return False
    return True


def _member_of_matches(values: list[str]) -> bool:
    """No provider in this world belongs to an aggregate: only `!` (forbidden) passes."""
    matches = True
    for value in values:
        body = value[3:] if value.startswith("in:") else value
        if "," in value and not value.startswith("in:"):
            raise ApiError(
                400,
                "Multiple values for 'member_of' must be prefixed with the 'in:' "
                f"keyword. Got: {value}",
            )
        for agg in body.split(","):
            if not _is_uuid(agg.lstrip("!")):
                raise _bad_query(
                    f"Expected 'member_of' parameter to contain valid UUID(s). Got: {agg}"
                )
        if not value.startswith("!"):
            matches = False
    return matches


def _required_matches(raw: str, version: Microversion) -> bool:
    """No provider in this world has traits: only forbidden (`!`) traits pass."""
    traits = {t.strip() for t in raw.split(",")}
    allow_forbidden = version.at_least("1.22")
    if not all(t and (allow_forbidden or not t.startswith("!")) for t in traits):
        form = "HW_CPU_X86_VMX,!CUSTOM_MAGIC" if allow_forbidden else "HW_CPU_X86_VMX,CUSTOM_MAGIC"
        raise _bad_query(f"Expected 'required' parameter value of the form: {form}. Got: {raw}")
    return all(t.startswith("!") for t in traits)


def _provider_filter(request: Request, version: Microversion) -> Callable[[Hypervisor], bool]:
    _check_query(request, PROVIDER_QUERY, version)
    params = request.query_params
    for key in ("uuid", "in_tree"):
        if key in params and not _is_uuid(params[key]):
            raise _bad_query(f"'{params[key]}' is not a 'uuid'")
    name, provider_id, tree = params.get("name"), params.get("uuid"), params.get("in_tree")
    wanted = _parse_resources(params["resources"]) if "resources" in params else None
    member_of = params.getlist("member_of")
    if len(member_of) > 1 and not version.at_least("1.24"):
        raise ApiError(400, "Multiple member_of parameters are not supported")
    in_aggregates = _member_of_matches(member_of) if member_of else True
    has_traits = _required_matches(params["required"], version) if "required" in params else True

    def match(hv: Hypervisor) -> bool:
        if not (in_aggregates and has_traits):
            return False
        if name is not None and hv.hostname != name:
            return False
        if provider_id is not None and hv.id != provider_id:
            return False
        if tree is not None and hv.id != tree:
            return False
        return wanted is None or _has_room(hv, wanted)

    return match


# -- handlers ------------------------------------------------------------------


async def root(request: Request) -> Response:
    """GET /: the version document; Placement serves it without a token."""
    version = _negotiate(request)
    if isinstance(version, Response):
        return version
    body = {
        "versions": [
            {
                "id": f"v{MIN_VERSION}",
                "max_version": MAX_VERSION,
                "min_version": MIN_VERSION,
                "status": "CURRENT",
                "links": [{"rel": "self", "href": ""}],
            }
        ]
    }
    return _versioned(json_response(body), version, ctx(request).now)


@endpoint("placement:resource_providers:list")
async def list_providers(request: Request, version: Microversion) -> Response:
    """GET /resource_providers: every compute node, filtered, never paged."""
    region = _region(request)
    match = _provider_filter(request, version)
    providers = [_provider_body(region, hv, version) for hv in region.hypervisors if match(hv)]
    return json_response({"resource_providers": providers})


@endpoint("placement:resource_providers:show")
async def show_provider(request: Request, version: Microversion) -> Response:
    hv = _provider(request)
    return json_response(_provider_body(_region(request), hv, version))


@endpoint("placement:resource_providers:inventories:list")
async def list_inventories(request: Request, version: Microversion) -> Response:
    hv = _provider(request)
    return json_response(
        {"inventories": hv.inventories(), "resource_provider_generation": hv.generation}
    )


@endpoint("placement:resource_providers:inventories:show")
async def show_inventory(request: Request, version: Microversion) -> Response:
    hv = _provider(request)
    resource_class = request.path_params["resource_class"]
    inventory = hv.inventories().get(resource_class)
    if inventory is None:
        raise ApiError(404, f"{NOT_FOUND}\n\n No inventory of class {resource_class} for {hv.id}  ")
    return json_response({**inventory, "resource_provider_generation": hv.generation})


@endpoint("placement:resource_providers:usages")
async def provider_usages(request: Request, version: Microversion) -> Response:
    hv = _provider(request)
    return json_response({"resource_provider_generation": hv.generation, "usages": hv.usages()})


def _allocated(region: Region, server: Server) -> Hypervisor | None:
    """The provider holding a server's allocation, counted as the world counts usage."""
    if server.deleted:
        return None
    return region.hypervisors_by_host.get(server.host or "")


def _resources(server: Server) -> dict[str, int]:
    """A server's allocation; Nova leaves out zero amounts (e.g. a 0 GB root disk)."""
    amounts = {
        "DISK_GB": server.flavor.disk,
        "MEMORY_MB": server.flavor.ram,
        "VCPU": server.flavor.vcpus,
    }
    return {name: amount for name, amount in amounts.items() if amount}


@endpoint("placement:resource_providers:allocations:list")
async def provider_allocations(request: Request, version: Microversion) -> Response:
    """GET /resource_providers/{uuid}/allocations: the servers placed on one node."""
    region = _region(request)
    hv = _provider(request)
    allocations = {
        server.id: {"resources": _resources(server)}
        for server in region.servers
        if _allocated(region, server) is hv
    }
    return json_response(
        {"allocations": allocations, "resource_provider_generation": hv.generation}
    )


def _usage_query(request: Request, version: Microversion) -> tuple[str, str | None, str | None]:
    allowed = {"project_id": "1.9", "user_id": "1.9", "consumer_type": "1.38"}
    _check_query(request, allowed, version)
    params = request.query_params
    if "project_id" not in params:
        raise _bad_query("'project_id' is a required property")
    for key in ("project_id", "user_id"):
        if key in params and not 1 <= len(params[key]) <= 255:
            raise _bad_query(f"'{params[key]}' is too short")
    consumer_type = params.get("consumer_type")
    if consumer_type is not None and not re.fullmatch(r"[A-Z0-9_]+|all|unknown", consumer_type):
        raise _bad_query(f"'{consumer_type}' does not match '^([A-Z0-9_]+|all|unknown)$'")
    return params["project_id"], params.get("user_id"), consumer_type


@endpoint("placement:usages", since="1.9")
async def total_usages(request: Request, version: Microversion) -> Response:
    """GET /usages?project_id=: a project's allocations summed, by consumer type at 1.38."""
    project_id, user_id, consumer_type = _usage_query(request, version)
    region = _region(request)
    totals: dict[str, int] = {}
    consumers = 0
    for server in region.servers:
        if server.project_id != project_id or (user_id and server.user_id != user_id):
            continue
        if _allocated(region, server) is None:
            continue
        consumers += 1
        for name, amount in _resources(server).items():
            totals[name] = totals.get(name, 0) + amount
    if not version.at_least("1.38"):
        return json_response({"usages": totals})
    # Every server's allocation is an INSTANCE consumer; `all` sums every type under "all".
    grouped: dict[str, dict[str, int]] = {}
    if consumers and consumer_type in (None, "all", INSTANCE):
        grouped[consumer_type or INSTANCE] = {**totals, "consumer_count": consumers}
    return json_response({"usages": grouped})


def routes() -> list[Route]:
    return [
        Route("/", root, methods=["GET"]),
        Route("/resource_providers", list_providers, methods=["GET"]),
        Route("/resource_providers/{uuid}", show_provider, methods=["GET"]),
        Route("/resource_providers/{uuid}/inventories", list_inventories, methods=["GET"]),
        Route(
            "/resource_providers/{uuid}/inventories/{resource_class}",
            show_inventory,
            methods=["GET"],
        ),
        Route("/resource_providers/{uuid}/usages", provider_usages, methods=["GET"]),
        Route("/resource_providers/{uuid}/allocations", provider_allocations, methods=["GET"]),
        Route("/usages", total_usages, methods=["GET"]),
    ]
