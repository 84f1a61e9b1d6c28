"""The simulated Keystone: token issue and validation, the catalog, expiry, version
documents and projects, against the API reference samples and the world."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from osconsole.sim.generate import (
    ADMIN_PASSWORD,
    APP_CRED_SECRET,
    MEMBER_PASSWORD,
    READONLY_APP_CRED_SECRET,
)
from osconsole.sim.world import AppCredential, World
from tests.sim.shapes import assert_same_shape, load_sample

TOKENS = "/identity/v3/auth/tokens"
SAMPLES = "keystone/admin"
SERVICE_TYPES = {"identity", "compute", "network", "placement", "volumev3"}


def _password_auth(user: str, password: str, **extra: Any) -> dict[str, Any]:
    spec = {"name": user, "domain": {"id": "default"}, "password": password}
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": spec}}, **extra}}


def _app_cred_auth(spec: dict[str, Any]) -> dict[str, Any]:
    identity = {"methods": ["application_credential"], "application_credential": spec}
    return {"auth": {"identity": identity}}


def _cred(world: World, *, readonly: bool) -> AppCredential:
    return next(c for c in world.app_credentials.values() if bool(c.access_rules) == readonly)


async def _token(sim: httpx.AsyncClient, body: dict[str, Any]) -> str:
    response = await sim.post(TOKENS, json=body)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def _with_keys(sample: dict[str, Any], **keys: Any) -> dict[str, Any]:
    """A copy of a sample object with keys real Keystone sends but the sample omits."""
    return {**copy.deepcopy(sample), **keys}


# -- issuing tokens ------------------------------------------------------------------


async def test_password_token_matches_sample_and_world(
    sim: httpx.AsyncClient, world: World
) -> None:
    response = await sim.post(TOKENS, json=_password_auth("admin", ADMIN_PASSWORD))
    assert response.status_code == 201
    token_id = response.headers["X-Subject-Token"]
    assert token_id in world.tokens
    body = response.json()
    assert_same_shape(body, load_sample(f"{SAMPLES}/auth-password-project-scoped-response.json"))
    token = body["token"]
    admin = world.users["admin"]
    assert token["methods"] == ["password"]
    assert token["user"]["id"] == admin.id and token["user"]["name"] == "admin"
    assert token["project"]["id"] == world.admin_project_id
    assert token["project"]["name"] == "admin"
    assert {r["name"] for r in token["roles"]} == set(admin.roles)
    assert token["expires_at"].endswith("Z") and token["issued_at"].endswith("Z")
    assert len(token["audit_ids"][0]) == 22
    assert not token_id.startswith(token["audit_ids"][0])


async def test_member_token_is_scoped_to_its_project(sim: httpx.AsyncClient, world: World) -> None:
    response = await sim.post(TOKENS, json=_password_auth("member", MEMBER_PASSWORD))
    token = response.json()["token"]
    member = world.users["member"]
    assert token["project"]["id"] == member.project_id
    assert "admin" not in {r["name"] for r in token["roles"]}


async def test_application_credential_token_matches_sample(
    sim: httpx.AsyncClient, world: World
) -> None:
    cred = _cred(world, readonly=False)
    response = await sim.post(
        TOKENS, json=_app_cred_auth({"id": cred.id, "secret": APP_CRED_SECRET})
    )
    assert response.status_code == 201
    body = response.json()
    assert_same_shape(body, load_sample(f"{SAMPLES}/auth-application-credential-response.json"))
    token = body["token"]
    assert token["methods"] == ["application_credential"]
    assert token["application_credential"] == {"id": cred.id, "name": cred.name, "restricted": True}
    assert token["project"]["id"] == cred.project_id


async def test_application_credential_by_name_needs_its_user(
    sim: httpx.AsyncClient, world: World
) -> None:
    cred = _cred(world, readonly=False)
    spec = {
        "name": cred.name,
        "secret": APP_CRED_SECRET,
        "user": {"name": "admin", "domain": {"id": "default"}},
    }
    assert (await sim.post(TOKENS, json=_app_cred_auth(spec))).status_code == 201
    del spec["user"]
    assert (await sim.post(TOKENS, json=_app_cred_auth(spec))).status_code == 400


async def test_read_only_application_credential_shows_its_rules(
    sim: httpx.AsyncClient, world: World
) -> None:
    cred = _cred(world, readonly=True)
    spec = {"id": cred.id, "secret": READONLY_APP_CRED_SECRET}
    token = (await sim.post(TOKENS, json=_app_cred_auth(spec))).json()["token"]
    sample = load_sample(f"{SAMPLES}/auth-application-credential-response.json")["token"]
    rules = load_sample(f"{SAMPLES}/application-credential-get-response.json")[
        "application_credential"
    ]["access_rules"]
    # Keystone adds `access_rules` only for a credential that has some.
    expected = _with_keys(sample["application_credential"], access_rules=rules)
    assert_same_shape(token["application_credential"], expected)
    assert token["application_credential"]["access_rules"] == cred.access_rules


@pytest.mark.parametrize(
    "body",
    [
        _password_auth("admin", "wrong"),
        _password_auth("nobody", ADMIN_PASSWORD),
        _app_cred_auth({"id": "nope", "secret": APP_CRED_SECRET}),
    ],
)
async def test_bad_credentials_are_401(sim: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await sim.post(TOKENS, json=body)
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": 401,
            "title": "Unauthorized",
            "message": "The request you have made requires authentication.",
        }
    }
    assert "X-Subject-Token" not in response.headers


async def test_wrong_app_credential_secret_is_401(sim: httpx.AsyncClient, world: World) -> None:
    cred = _cred(world, readonly=False)
    response = await sim.post(TOKENS, json=_app_cred_auth({"id": cred.id, "secret": "nope"}))
    assert response.status_code == 401


async def test_user_name_without_domain_is_400(sim: httpx.AsyncClient) -> None:
    body = _password_auth("admin", ADMIN_PASSWORD)
    del body["auth"]["identity"]["password"]["user"]["domain"]
    response = await sim.post(TOKENS, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 400


async def test_member_cannot_scope_to_another_project(sim: httpx.AsyncClient, world: World) -> None:
    scope = {"scope": {"project": {"id": world.admin_project_id}}}
    response = await sim.post(TOKENS, json=_password_auth("member", MEMBER_PASSWORD, **scope))
    assert response.status_code == 401


# -- the catalog ---------------------------------------------------------------------


async def test_catalog_lists_every_service_in_every_region(
    sim: httpx.AsyncClient, world: World
) -> None:
    response = await sim.post(TOKENS, json=_password_auth("admin", ADMIN_PASSWORD))
    catalog = response.json()["token"]["catalog"]
    assert {entry["type"] for entry in catalog} == SERVICE_TYPES
    expected_paths = {
        "identity": "/identity",
        "compute": "/{region}/compute/v2.1",
        "network": "/{region}/network",
        "placement": "/{region}/placement",
        "volumev3": "/{region}/volume/v3/" + world.admin_project_id,
    }
    for entry in catalog:
        endpoints = {(e["region_id"], e["interface"]): e for e in entry["endpoints"]}
        assert set(endpoints) == {
            (region, interface)
            for region in world.regions
            for interface in ("public", "internal", "admin")
        }
        for (region, _), endpoint in endpoints.items():
            assert endpoint["region"] == region
            path = expected_paths[entry["type"]].format(region=region)
            assert endpoint["url"] == "http://sim.test" + path
    ids = [e["id"] for entry in catalog for e in entry["endpoints"]]
    assert len(ids) == len(set(ids))


async def _catalog(sim: httpx.AsyncClient) -> tuple[str, list[dict[str, Any]]]:
    response = await sim.post(TOKENS, json=_password_auth("admin", ADMIN_PASSWORD))
    return response.headers["X-Subject-Token"], response.json()["token"]["catalog"]


@pytest.mark.parametrize("service_type", ["compute", "network", "placement"])
async def test_catalog_urls_answer(sim: httpx.AsyncClient, world: World, service_type: str) -> None:
    token, catalog = await _catalog(sim)
    (entry,) = [e for e in catalog if e["type"] == service_type]
    public = [e for e in entry["endpoints"] if e["interface"] == "public"]
    assert len(public) == len(world.regions)
    for endpoint in public:
        response = await sim.get(
            endpoint["url"], headers={"X-Auth-Token": token}, follow_redirects=True
        )
        assert response.status_code in (200, 300), (endpoint["url"], response.status_code)


async def test_volume_catalog_url_reaches_cinder(sim: httpx.AsyncClient, world: World) -> None:
    token, catalog = await _catalog(sim)
    (entry,) = [e for e in catalog if e["type"] == "volumev3"]
    for endpoint in (e for e in entry["endpoints"] if e["interface"] == "public"):
        response = await sim.get(f"{endpoint['url']}/os-services", headers={"X-Auth-Token": token})
        assert response.status_code == 200
        region = world.regions[endpoint["region_id"]]
        assert len(response.json()["services"]) == len(region.volume_services)


# -- validation, expiry, revocation --------------------------------------------------


async def test_validate_token_returns_the_token(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    subject = await _token(sim, _password_auth("member", MEMBER_PASSWORD))
    headers = {**admin_headers, "X-Subject-Token": subject}
    response = await sim.get(TOKENS, headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Subject-Token"] == subject
    body = response.json()
    assert_same_shape(body, load_sample(f"{SAMPLES}/auth-password-project-scoped-response.json"))
    assert body["token"]["user"]["id"] == world.users["member"].id
    nocatalog = await sim.get(f"{TOKENS}?nocatalog", headers=headers)
    assert "catalog" not in nocatalog.json()["token"]
    assert (await sim.head(TOKENS, headers=headers)).status_code == 200
    unknown = await sim.get(TOKENS, headers={**admin_headers, "X-Subject-Token": "nope"})
    assert unknown.status_code == 404


async def test_expired_token_is_refused_everywhere(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    world.token_ttl = 5
    token = await _token(sim, _password_auth("admin", ADMIN_PASSWORD))
    headers = {"X-Auth-Token": token}
    providers = "/RegionOne/placement/resource_providers"
    assert (await sim.get(providers, headers=headers)).status_code == 200
    world.clock.step(6)
    service = await sim.get(providers, headers=headers)
    assert service.status_code == 401
    assert service.json()["error"]["code"] == 401
    own = await sim.get(TOKENS, headers={**headers, "X-Subject-Token": token})
    assert own.status_code == 401
    # A fresh admin token asking about the expired one: Keystone says it is not found.
    fresh = await _token(sim, _password_auth("admin", ADMIN_PASSWORD))
    other = await sim.get(TOKENS, headers={"X-Auth-Token": fresh, "X-Subject-Token": token})
    assert other.status_code == 404


async def test_expiry_follows_the_ttl(sim: httpx.AsyncClient, world: World) -> None:
    world.token_ttl = 5
    token_id = await _token(sim, _password_auth("admin", ADMIN_PASSWORD))
    token = world.tokens[token_id]
    assert token.expires_at - token.issued_at == 5


async def test_revoked_token_is_401(sim: httpx.AsyncClient) -> None:
    token = await _token(sim, _password_auth("admin", ADMIN_PASSWORD))
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    assert (await sim.delete(TOKENS, headers=headers)).status_code == 204
    response = await sim.get("/RegionOne/placement/resource_providers", headers=headers)
    assert response.status_code == 401


async def test_read_only_credential_can_get_but_not_put(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    cred = _cred(world, readonly=True)
    token = await _token(sim, _app_cred_auth({"id": cred.id, "secret": READONLY_APP_CRED_SECRET}))
    headers = {"X-Auth-Token": token}
    assert (
        await sim.get("/RegionOne/placement/resource_providers", headers=headers)
    ).status_code == 200
    assert (await sim.get("/RegionOne/volume/v3/os-services", headers=headers)).status_code == 200
    body = {"host": "rone-ctl01", "binary": "cinder-scheduler"}
    put = await sim.put("/RegionOne/volume/v3/os-services/disable", headers=headers, json=body)
    assert put.status_code == 401
    assert not any(s.disabled for s in world.regions["RegionOne"].volume_services)
    # Refused by keystonemiddleware before any route logic, even for a service that
    # does not exist.
    nova = await sim.put(
        "/RegionOne/compute/v2.1/os-services/x", headers=headers, json={"status": "disabled"}
    )
    assert nova.status_code == 401
    # The same PUT with an unrestricted admin token reaches Nova's route logic.
    full = await sim.put(
        "/RegionOne/compute/v2.1/os-services/x", headers=admin_headers, json={"status": "disabled"}
    )
    assert full.status_code not in (401, 403)


# -- version documents ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/identity", "/identity/"])
async def test_versions_document(sim: httpx.AsyncClient, path: str) -> None:
    response = await sim.get(path)
    assert response.status_code == 300
    body = response.json()
    assert_same_shape(body, load_sample(f"{SAMPLES}/identity-versions-response.json"))
    (version,) = body["versions"]["values"]
    assert version["id"].startswith("v3.") and version["status"] == "stable"
    assert version["links"][0]["href"] == "http://sim.test/identity/v3/"


@pytest.mark.parametrize("path", ["/identity/v3", "/identity/v3/"])
async def test_version_document(sim: httpx.AsyncClient, path: str) -> None:
    response = await sim.get(path)
    assert response.status_code == 200
    body = response.json()
    assert_same_shape(body, load_sample(f"{SAMPLES}/identity-version-response.json"))
    assert body["version"]["links"] == [{"href": "http://sim.test/identity/v3/", "rel": "self"}]


# -- projects and regions ------------------------------------------------------------


def _project_list_sample() -> dict[str, Any]:
    sample = load_sample(f"{SAMPLES}/projects-list-response.json")
    # Keystone's project refs carry `options` too (the show sample has it, the list one not).
    sample["projects"] = [_with_keys(p, options={}) for p in sample["projects"]]
    return sample


async def test_projects_page_through_every_project_once(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    seen: list[str] = []
    url: str | None = "/identity/v3/projects?limit=2"
    pages = 0
    while url:
        response = await sim.get(url, headers=admin_headers)
        assert response.status_code == 200
        body = response.json()
        assert_same_shape(body, _project_list_sample())
        assert len(body["projects"]) <= 2
        seen += [p["id"] for p in body["projects"]]
        url = body["links"]["next"]
        pages += 1
        assert pages <= len(world.projects)
    assert seen == list(world.projects.ids())
    assert pages == (len(world.projects) + 1) // 2


async def test_projects_without_limit_and_with_filters(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str]
) -> None:
    body = (await sim.get("/identity/v3/projects", headers=admin_headers)).json()
    assert [p["id"] for p in body["projects"]] == list(world.projects.ids())
    assert body["links"] == {
        "next": None,
        "previous": None,
        "self": "http://sim.test/identity/v3/projects",
    }
    project = world.projects.ordered()[3]
    named = await sim.get(f"/identity/v3/projects?name={project.name}", headers=admin_headers)
    assert [p["id"] for p in named.json()["projects"]] == [project.id]
    disabled = await sim.get("/identity/v3/projects?enabled=false", headers=admin_headers)
    assert disabled.json()["projects"] == []


async def test_projects_next_link_keeps_filters(
    sim: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await sim.get("/identity/v3/projects?enabled=true&limit=1", headers=admin_headers)
    next_url = response.json()["links"]["next"]
    assert "enabled=true" in next_url and "limit=1" in next_url and "marker=" in next_url


async def test_projects_are_admin_only(
    sim: httpx.AsyncClient, member_headers: dict[str, str]
) -> None:
    response = await sim.get("/identity/v3/projects", headers=member_headers)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == 403
    assert (await sim.get("/identity/v3/projects")).status_code == 401


async def test_show_project_matches_sample(
    sim: httpx.AsyncClient, world: World, admin_headers: dict[str, str], member_headers: dict
) -> None:
    member_project = world.users["member"].project_id
    response = await sim.get(f"/identity/v3/projects/{member_project}", headers=member_headers)
    assert response.status_code == 200
    sample = load_sample(f"{SAMPLES}/project-show-response.json")
    # Keystone's project refs carry `tags` too (the list sample has it, the show one not).
    sample["project"] = _with_keys(sample["project"], tags=[])
    assert_same_shape(response.json(), sample)
    assert response.json()["project"]["name"] == world.projects.get(member_project).name
    other = await sim.get(f"/identity/v3/projects/{world.admin_project_id}", headers=member_headers)
    assert other.status_code == 403
    missing = await sim.get("/identity/v3/projects/nope", headers=admin_headers)
    assert missing.status_code == 404


async def test_auth_projects_lists_the_token_project(
    sim: httpx.AsyncClient, world: World, member_headers: dict[str, str]
) -> None:
    response = await sim.get("/identity/v3/auth/projects", headers=member_headers)
    body = response.json()
    sample = load_sample(f"{SAMPLES}/get-available-project-scopes-response.json")
    full = _project_list_sample()["projects"][0]
    # Keystone returns full project refs here; the sample shows a subset of their keys.
    sample["projects"] = [_with_keys(full, **p) for p in sample["projects"]]
    assert_same_shape(body, sample)
    assert [p["id"] for p in body["projects"]] == [world.users["member"].project_id]


async def test_regions_match_sample(
    sim: httpx.AsyncClient, world: World, member_headers: dict[str, str]
) -> None:
    response = await sim.get("/identity/v3/regions", headers=member_headers)
    body = response.json()
    assert_same_shape(body, load_sample(f"{SAMPLES}/regions-list-response.json"))
    assert [r["id"] for r in body["regions"]] == list(world.regions)
