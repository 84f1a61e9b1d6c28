"""Keystone v3 as the simulator serves it: tokens, the catalog and projects.

One Keystone serves every region, as in a real multi-region cloud; the catalog
lists identity, compute, network, placement and volumev3 endpoints per region.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

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


def catalog(world: World, base_url: str, project_id: str) -> list[dict[str, Any]]:
    """Every service's public/internal/admin endpoints in every region."""
    entries = []
    for service_type, name, path_kind in CATALOG_SERVICES:
        endpoints = []
        for region in world.regions:
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
        "audit_ids": [token.id[:22]],
        "issued_at": iso(token.issued_at, zulu=True, micro=True),
    }
    if with_catalog:
        body["catalog"] = catalog(world, base_url, token.project_id)
    if token.app_credential_id:
        cred = world.app_credentials[token.app_credential_id]
        body["application_credential"] = {
            "id": cred.id,
            "name": cred.name,
            "restricted": True,
            "access_rules": cred.access_rules,
        }
    return body


def _find_user(world: World, spec: dict) -> User | None:
    if "id" in spec:
        return next((u for u in world.users.values() if u.id == spec["id"]), None)
    return world.users.get(spec.get("name", ""))


def _scope_project(world: World, scope: Any, default: str) -> Project:
    if not scope:
        project = world.projects.get(default)
    elif not isinstance(scope, dict) or "project" not in scope:
        raise ApiError(401, "The request you have made requires authentication.")
    else:
        spec = scope["project"]
        if "id" in spec:
            project = world.projects.get(spec["id"])
        else:
            project = next((p for p in world.projects if p.name == spec.get("name")), None)
    if project is None:
        raise ApiError(401, "The request you have made requires authentication.")
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
        spec = identity.get("application_credential", {})
        cred = world.app_credentials.get(spec.get("id", ""))
        if cred is None and spec.get("name"):
            cred = next((a for a in world.app_credentials.values() if a.name == spec["name"]), None)
        if cred is None or not secrets.compare_digest(cred.secret, str(spec.get("secret", ""))):
            raise ApiError(401, "The request you have made requires authentication.")
        user = next(u for u in world.users.values() if u.id == cred.user_id)
        project = world.projects.get(cred.project_id)
        roles = cred.roles
    elif "password" in methods:
        spec = identity.get("password", {}).get("user", {})
        user = _find_user(world, spec)
        if user is None or not secrets.compare_digest(user.password, str(spec.get("password", ""))):
            raise ApiError(401, "The request you have made requires authentication.")
        project = _scope_project(world, body["auth"].get("scope"), user.project_id)
        if project.id != user.project_id and "admin" not in user.roles:
            raise ApiError(401, "The request you have made requires authentication.")
        roles = user.roles
    else:
        raise ApiError(401, "The request you have made requires authentication.")
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
    payload = {"token": _token_body(world, token, c.base_url, with_catalog=True)}
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
    }


async def list_projects(request: Request) -> Response:
    """GET /v3/projects (admin), with `name` and `enabled` filters and limit/marker paging."""
    authenticate(request, admin=True)
    c = ctx(request)
    name = request.query_params.get("name")
    limit = query_int(request, "limit", minimum=1)
    marker = request.query_params.get("marker")

    def match(p: Project) -> bool:
        return name is None or p.name == name

    try:
        items, more = c.world.projects.page(limit=limit, marker=marker, match=match)
    except KeyError:
        raise ApiError(404, f"Could not find project: {marker}.") from None
    self_url = f"{c.base_url}/identity/v3/projects"
    next_url = f"{self_url}?limit={limit}&marker={items[-1].id}" if more and items else None
    body = {
        "links": {"next": next_url, "previous": None, "self": self_url},
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
