"""Keystone v3 as the simulator serves it: tokens, the catalog and projects.

One Keystone serves every region, as in a real multi-region cloud; the catalog
lists identity, compute, network, placement and volumev3 endpoints per region.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode
from weakref import WeakKeyDictionary

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from osconsole.sim.clock import iso
from osconsole.sim.common import (
    ApiError,
    authenticate,
    ctx,
    json_response,
    query_int,
    service_url,
)
from osconsole.sim.world import AppCredential, Project, Token, User, World

VERSION_ID = "v3.14"
ROLE_IDS = {
    "admin": "51cc68287d524c759f47c811e6463340",
    "member": "9fe2ff9ee4384b1894a90878d3e92bab",
    "reader": "b4a2a0d3c1e745e4b2d1bdc2e1e7d3f0",
}
DOMAIN = {"id": "default", "name": "Default"}
CATALOG_SERVICES = [
    ("identity", "keystone", "identity"),
    ("compute", "nova", "compute"),
    ("network", "neutron", "network"),
    ("placement", "placement", "placement"),
    ("volumev3", "cinderv3", "volume"),
]


def _version(base: str) -> dict[str, Any]:
    return {
        "id": VERSION_ID,
        "links": [{"href": f"{base}/identity/v3/", "rel": "self"}],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
        ],
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
    }


async def versions(request: Request) -> Response:
    base = ctx(request).base_url
    return json_response({"versions": {"values": [_version(base)]}}, status=300)


async def version(request: Request) -> Response:
    return json_response({"version": _version(ctx(request).base_url)})


def _stable_id(*parts: str) -> str:
    return hashlib.md5(":".join(parts).encode(), usedforsecurity=False).hexdigest()


# Services left out of a world's catalog, as (service type, region): a cloud without
# Cinder, or a region with Neutron but no Nova. The services still answer at their
# URLs, as a real one would to whoever knows them; clients only find what is listed.
_left_out: WeakKeyDictionary[World, set[tuple[str, str]]] = WeakKeyDictionary()


def leave_out_of_catalog(world: World, service_type: str, regions: Iterable[str] = ()) -> None:
    """From now on, tokens' catalogs list no `service_type` endpoint in `regions`
    (every region when none are named)."""
    known = {entry[0] for entry in CATALOG_SERVICES}
    if service_type not in known:
        raise ValueError(f"unknown service type {service_type!r}: choose from {sorted(known)}")
    chosen = list(regions) or list(world.regions)
    unknown = [r for r in chosen if r not in world.regions]
    if unknown:
        raise ValueError(f"unknown region(s) {unknown}: choose from {list(world.regions)}")
    _left_out.setdefault(world, set()).update((service_type, r) for r in chosen)


def catalog(world: World, base_url: str, project_id: str) -> list[dict[str, Any]]:
    """Every service's public/internal/admin endpoints in every region (but those
    left out); a service with no endpoint left is not listed at all."""
    left_out = _left_out.get(world, set())
    entries = []
    for service_type, name, path_kind in CATALOG_SERVICES:
        endpoints = []
        for region in world.regions:
            if (service_type, region) in left_out:
                continue
            url = service_url(base_url, region, path_kind)
            if service_type == "volumev3":
                url = f"{url}/v3/{project_id}"
            for interface in ("public", "internal", "admin"):
                endpoints.append(
                    {
                        "region_id": region,
                        "url": url,
                        "region": region,
                        "interface": interface,
                        "id": _stable_id(service_type, region, interface),
                    }
                )
        if not endpoints:
            continue
        entries.append(
            {
                "endpoints": endpoints,
                "type": service_type,
                "id": _stable_id(service_type),
                "name": name,
            }
        )
    return entries


def _token_body(world: World, token: Token, base_url: str, *, with_catalog: bool) -> dict:
    user = next(u for u in world.users.values() if u.id == token.user_id)
    project = world.projects.get(token.project_id)
    body: dict[str, Any] = {
        "methods": list(token.methods),
        "roles": [{"id": ROLE_IDS.get(r, _stable_id("role", r)), "name": r} for r in token.roles],
        "expires_at": iso(token.expires_at, zulu=True, micro=True),
        "project": {
            "domain": DOMAIN,
            "id": token.project_id,
            "name": project.name if project else "",
        },
        "is_domain": False,
        "user": {
            "domain": DOMAIN,
            "id": user.id,
            "name": user.name,
            "password_expires_at": None,
        },
        "audit_ids": [_audit_id(token.id)],
        "issued_at": iso(token.issued_at, zulu=True, micro=True),
    }
    if with_catalog:
        body["catalog"] = catalog(world, base_url, token.project_id)
    if token.app_credential_id:
        cred = world.app_credentials[token.app_credential_id]
        body["application_credential"] = {"id": cred.id, "name": cred.name, "restricted": True}
        if cred.access_rules:
            # Keystone shows access rules only for a credential that has some.
            body["application_credential"]["access_rules"] = cred.access_rules
    return body


def _audit_id(token_id: str) -> str:
    """Keystone's audit ids: 22 url-safe base64 characters, not a piece of the token."""
    digest = hashlib.sha256(token_id.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _unauthorized() -> ApiError:
    return ApiError(401, "The request you have made requires authentication.")


def _find_user(world: World, spec: Any, container: str = "user") -> User | None:
    """A user by id, or by name within a domain (Keystone insists on the domain)."""
    if not isinstance(spec, dict):
        raise ApiError(400, f"Expecting to find user in {container}.")
    if "id" in spec:
        return next((u for u in world.users.values() if u.id == spec["id"]), None)
    if "name" not in spec:
        raise ApiError(400, "Expecting to find id or name in user.")
    domain = spec.get("domain")
    if not isinstance(domain, dict) or not ("id" in domain or "name" in domain):
        raise ApiError(400, "Expecting to find domain in user.")
    if domain.get("id", DOMAIN["id"]) != DOMAIN["id"]:
        return None
    if domain.get("name", DOMAIN["name"]) != DOMAIN["name"]:
        return None
    return world.users.get(spec["name"])


def _find_app_credential(world: World, spec: Any) -> AppCredential | None:
    """By id, or by name together with its user, as Keystone's plugin requires."""
    if not isinstance(spec, dict):
        raise ApiError(400, "Expecting to find application_credential in identity.")
    if "id" in spec:
        return world.app_credentials.get(str(spec["id"]))
    if "name" not in spec:
        raise ApiError(400, "Expecting to find id or name in application_credential.")
    user = _find_user(world, spec.get("user"), "application_credential")
    if user is None:
        return None
    creds = world.app_credentials.values()
    return next((a for a in creds if a.name == spec["name"] and a.user_id == user.id), None)


def _scope_project(world: World, scope: Any, default: str) -> Project:
    if not scope:
        project = world.projects.get(default)
    elif not isinstance(scope, dict) or "project" not in scope:
        raise _unauthorized()
    else:
        spec = scope["project"]
        if "id" in spec:
            project = world.projects.get(spec["id"])
        else:
            project = next((p for p in world.projects if p.name == spec.get("name")), None)
    if project is None:
        raise _unauthorized()
    return project


async def issue_token(request: Request) -> Response:
    """POST /v3/auth/tokens: password or application_credential, project scope."""
    c = ctx(request)
    world = c.world
    try:
        body = await request.json()
        identity = body["auth"]["identity"]
        methods = identity["methods"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "Expecting to find identity in auth.") from None
    cred: AppCredential | None = None
    if "application_credential" in methods:
        spec = identity.get("application_credential")
        cred = _find_app_credential(world, spec)
        if cred is None or not secrets.compare_digest(cred.secret, str(spec.get("secret", ""))):
            raise _unauthorized()
        if body["auth"].get("scope"):
            # An application credential is bound to its project and cannot pick another.
            raise _unauthorized()
        user = next(u for u in world.users.values() if u.id == cred.user_id)
        project = world.projects.get(cred.project_id)
        roles = cred.roles
    elif "password" in methods:
        password = identity.get("password")
        spec = password.get("user") if isinstance(password, dict) else None
        user = _find_user(world, spec, "password")
        if user is None or not secrets.compare_digest(user.password, str(spec.get("password", ""))):
            raise _unauthorized()
        project = _scope_project(world, body["auth"].get("scope"), user.project_id)
        if project.id != user.project_id and "admin" not in user.roles:
            raise _unauthorized()
        roles = user.roles
    else:
        raise _unauthorized()
    assert project is not None
    token = Token(
        id=secrets.token_hex(16),
        user_id=user.id,
        project_id=project.id,
        roles=roles,
        issued_at=c.now,
        expires_at=c.now + world.token_ttl,
        methods=tuple(methods),
        app_credential_id=cred.id if cred else None,
        access_rules=list(cred.access_rules) if cred else [],
    )
    world.tokens[token.id] = token
    _forget_expired(world, c.now)
    nocatalog = "nocatalog" in request.query_params
    payload = {"token": _token_body(world, token, c.base_url, with_catalog=not nocatalog)}
    return json_response(payload, status=201, headers={"X-Subject-Token": token.id})


def _forget_expired(world: World, now: float) -> None:
    if len(world.tokens) > 1000:
        for key in [k for k, t in world.tokens.items() if t.expires_at <= now]:
            del world.tokens[key]


async def validate_token(request: Request) -> Response:
    """GET/HEAD /v3/auth/tokens: the subject token, as keystonemiddleware asks."""
    authenticate(request)
    c = ctx(request)
    subject = c.world.tokens.get(request.headers.get("x-subject-token", ""))
    if subject is None or subject.expires_at <= c.now:
        raise ApiError(404, "Could not find token.")
    if request.method == "HEAD":
        return Response(status_code=200, headers={"X-Subject-Token": subject.id})
    nocatalog = "nocatalog" in request.query_params
    body = {"token": _token_body(c.world, subject, c.base_url, with_catalog=not nocatalog)}
    return json_response(body, headers={"X-Subject-Token": subject.id})


async def revoke_token(request: Request) -> Response:
    authenticate(request)
    c = ctx(request)
    if c.world.tokens.pop(request.headers.get("x-subject-token", ""), None) is None:
        raise ApiError(404, "Could not find token.")
    return Response(status_code=204)


def _project_body(project: Project, base: str) -> dict[str, Any]:
    return {
        "is_domain": project.is_domain,
        "description": project.description,
        "domain_id": project.domain_id,
        "enabled": project.enabled,
        "id": project.id,
        "links": {"self": f"{base}/identity/v3/projects/{project.id}"},
        "name": project.name,
        "parent_id": project.parent_id,
        "tags": list(project.tags),
        "options": {},
    }


FALSE_STRINGS = ("f", "false", "off", "n", "no", "0")
PROJECT_FILTERS = ("domain_id", "name", "parent_id")


def _project_filter(request: Request) -> Callable[[Project], bool]:
    """Keystone's exact filters; `enabled`/`is_domain` read as it reads booleans and
    `is_domain` defaults to false, so domains never show up as projects."""
    params = request.query_params
    exact = {key: params[key] for key in PROJECT_FILTERS if key in params}
    flags = {"is_domain": False}
    for key in ("enabled", "is_domain"):
        if key in params:
            flags[key] = params[key].lower() not in FALSE_STRINGS

    def match(p: Project) -> bool:
        if any(getattr(p, key) != value for key, value in exact.items()):
            return False
        return all(getattr(p, key) == value for key, value in flags.items())

    return match


async def list_projects(request: Request) -> Response:
    """GET /v3/projects (admin): exact filters and limit/marker paging with a `next` link."""
    authenticate(request, admin=True)
    c = ctx(request)
    limit = query_int(request, "limit", minimum=1)
    marker = request.query_params.get("marker")
    try:
        items, more = c.world.projects.page(
            limit=limit, marker=marker, match=_project_filter(request)
        )
    except KeyError:
        raise ApiError(404, f"Could not find project: {marker}.") from None
    base = f"{c.base_url}/identity/v3/projects"
    query = request.url.query
    next_url = None
    if more and items and limit is not None:
        params = [
            (k, v) for k, v in request.query_params.multi_items() if k not in ("limit", "marker")
        ]
        params += [("limit", str(limit)), ("marker", items[-1].id)]
        next_url = f"{base}?{urlencode(params)}"
    body = {
        "links": {"next": next_url, "previous": None, "self": f"{base}?{query}" if query else base},
        "projects": [_project_body(p, c.base_url) for p in items],
    }
    return json_response(body)


async def show_project(request: Request) -> Response:
    token = authenticate(request)
    c = ctx(request)
    project = c.world.projects.get(request.path_params["project_id"])
    if project is None:
        raise ApiError(404, f"Could not find project: {request.path_params['project_id']}.")
    if project.id != token.project_id and not token.is_admin:
        raise ApiError(403, "You are not authorized to perform the requested action.")
    return json_response({"project": _project_body(project, c.base_url)})


async def auth_projects(request: Request) -> Response:
    """GET /v3/auth/projects: the projects the caller's token may scope to."""
    token = authenticate(request)
    c = ctx(request)
    project = c.world.projects.get(token.project_id)
    projects = [_project_body(project, c.base_url)] if project else []
    self_url = f"{c.base_url}/identity/v3/auth/projects"
    return json_response(
        {"links": {"next": None, "previous": None, "self": self_url}, "projects": projects}
    )


async def list_regions(request: Request) -> Response:
    authenticate(request)
    c = ctx(request)
    regions = [
        {
            "id": name,
            "description": "",
            "parent_region_id": None,
            "links": {"self": f"{c.base_url}/identity/v3/regions/{name}"},
        }
        for name in c.world.regions
    ]
    self_url = f"{c.base_url}/identity/v3/regions"
    return json_response(
        {"links": {"next": None, "previous": None, "self": self_url}, "regions": regions}
    )


def routes() -> list[Route]:
    return [
        Route("/", versions, methods=["GET"]),
        Route("/v3", version, methods=["GET"]),
        Route("/v3/", version, methods=["GET"]),
        Route("/v3/auth/tokens", issue_token, methods=["POST"]),
        Route("/v3/auth/tokens", validate_token, methods=["GET", "HEAD"]),
        Route("/v3/auth/tokens", revoke_token, methods=["DELETE"]),
        Route("/v3/auth/projects", auth_projects, methods=["GET"]),
        Route("/v3/projects", list_projects, methods=["GET"]),
        Route("/v3/projects/{project_id}", show_project, methods=["GET"]),
        Route("/v3/regions", list_regions, methods=["GET"]),
    ]
