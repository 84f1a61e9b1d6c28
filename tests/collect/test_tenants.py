"""Tenant signals: counts against the world, incremental polls, churn, stuck servers,
Keystone fallbacks, the paced quota sweep (Neutron, Nova, Cinder); and the pure helpers
on their own."""

from __future__ import annotations

import dataclasses
from collections import Counter
from urllib.parse import parse_qs

import httpx
import pytest

from osconsole.cloud.auth import Access
from osconsole.cloud.connect import Connection
from osconsole.cloud.http import ApiFailure, Forbidden, RegionClient, TokenSource
from osconsole.collect import tenants
from osconsole.collect.base import SweepBudget
from osconsole.collect.parse import utc_timestamp
from osconsole.collect.tenants import (
    FipRecord,
    PortRecord,
    RuleRecord,
    ServerRecord,
    TenantCollector,
    footprint,
    is_open_prefix,
    is_stuck,
    parse_fip,
    parse_port,
    parse_quota,
    parse_rule,
    parse_server,
    port_spoofs,
    quota_order,
    recent,
    summarise,
    suspicion,
)
from osconsole.config import Intervals, Settings, Thresholds
from osconsole.health.tenants import score
from osconsole.model import Snapshot, TenantSignals
from osconsole.sim.neutron import quota_usage
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import Region, Server, World, compute_usage

NOW = 1_800_000_000.0


def _collector(client: RegionClient, budget: SweepBudget | None = None) -> TenantCollector:
    return TenantCollector(client, Settings(), budget or SweepBudget(None))


def _region(world: World) -> Region:
    return world.regions["RegionOne"]


def _live(region: Region) -> list[Server]:
    return [s for s in region.servers if not s.deleted]


def _limited(
    limits: dict[str, int], used: dict[str, int], wanted: set[str] | None = None
) -> dict[str, tuple[int, int]]:
    return {
        r: (used[r], limit)
        for r, limit in limits.items()
        if limit > 0 and (wanted is None or r in wanted)
    }


def world_quotas(region: Region, project_id: str) -> dict[str, dict[str, tuple[int, int]]]:
    """What each service's quota engine counts for a project, straight from the world."""
    servers = [s for s in region.servers if s.project_id == project_id]
    return {
        "neutron": _limited(region.quotas[project_id], quota_usage(region, project_id)),
        "nova": _limited(
            region.compute_quota(project_id), compute_usage(servers), {"instances", "cores", "ram"}
        ),
        "cinder": _limited(
            region.volume_quota(project_id),
            region.project_volume_usage(project_id),
            {"volumes", "gigabytes", "snapshots"},
        ),
    }


class Urls:
    """Every URL the region client sends (the simulator's log keeps no query strings)."""

    def __init__(self, client: RegionClient) -> None:
        self.seen: list[httpx.URL] = []

        async def hook(request: httpx.Request) -> None:
            self.seen.append(request.url)

        client.http.event_hooks["request"].append(hook)

    def reset(self) -> None:
        self.seen.clear()

    def query(self, suffix: str) -> list[dict[str, list[str]]]:
        return [parse_qs(u.query.decode()) for u in self.seen if u.path.endswith(suffix)]

    def count(self, fragment: str) -> int:
        return sum(1 for u in self.seen if fragment in u.path)


# -- against the simulated cloud ------------------------------------------------------


async def test_a_full_poll_counts_what_the_world_holds(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    snap = await _collector(region_one).poll(None)
    assert snap.complete, snap.notes
    live = _live(region)
    servers = Counter(s.project_id for s in live)
    errors = {s.id for s in live if s.status == "ERROR"}
    fips = Counter(f.project_id for f in region.floating_ips)
    assert {p: sig.servers for p, sig in snap.items.items() if sig.servers} == dict(servers)
    assert {i for sig in snap.items.values() for i in sig.error_servers} == errors
    assert {p: sig.floating_ips for p, sig in snap.items.items() if sig.floating_ips} == dict(fips)
    open_rules = {
        r.id
        for r in region.security_group_rules
        if r.direction == "ingress" and r.remote_ip_prefix in ("0.0.0.0/0", "::/0")
    }
    assert open_rules, "the tiny world should open something to the internet"
    assert {i for sig in snap.items.values() for i in sig.open_ingress_rules} == open_rules
    for project_id, sig in snap.items.items():
        assert sig.project_name == world.projects.get(project_id).name
        assert sig.quotas == world_quotas(region, project_id)
        assert sig.quotas_unknown == ()
    in_use = Counter()
    for sig in snap.items.values():
        for service, usage in sig.quotas.items():
            in_use[service] += sum(used for used, _ in usage.values())
    assert all(in_use[s] > 0 for s in ("neutron", "nova", "cinder")), in_use
    # Keystone, servers, ports, 2 rule listings, floating IPs; then one quota call per
    # project and service.
    n = len(snap.items)
    assert snap.requests == 6 + 3 * n
    assert snap.extra["quota_reads"] == {"neutron": n, "nova": n, "cinder": n}
    assert snap.extra["mode"] == "full"
    assert snap.extra["deleted_last_hour_complete"] is False


async def test_a_changed_port_shows_on_the_next_incremental_poll(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    collector = _collector(region_one)
    first = await collector.poll(None)
    assert not any(sig.spoofing_ports for sig in first.items.values())
    world.clock.step(60)
    port = next(p for p in region.ports if p.device_owner.startswith("compute:"))
    port.allowed_address_pairs = [{"ip_address": "0.0.0.0/0", "mac_address": port.mac}]
    port.updated_at = world.now()
    other = next(p for p in region.ports if p.device_owner.startswith("compute:") and p is not port)
    other.port_security_enabled = False
    other.updated_at = world.now()
    urls = Urls(region_one)
    log_start = len(world.requests)
    world.clock.step(30)
    snap = await collector.poll(first)

    assert snap.extra["mode"] == "incremental" and snap.complete, snap.notes
    assert snap.items[port.project_id].spoofing_ports.count(port.id) == 1
    assert other.id in snap.items[other.project_id].spoofing_ports
    assert snap.extra["port_changes"] == 2 and snap.extra["server_changes"] == 0
    (servers_query,) = urls.query("/servers/detail")
    (ports_query,) = urls.query("/v2.0/ports")
    # changes-since starts where the previous listing began (server time), less 2 s.
    assert first.server_time is not None
    for since in (servers_query["changes-since"], ports_query["changed_since"]):
        assert len(since) == 1 and since[0].endswith("Z")
        assert first.server_time - 3 <= utc_timestamp(since[0]) <= first.server_time - 2  # type: ignore[operator]
    assert urls.count("/projects") == 0
    # servers, ports, 2 rule listings, floating IPs, and the Neutron quotas of the
    # projects whose ports changed: the others were read less than full_resync ago and
    # nothing that moves a quota changed since; ports do not move Nova's or Cinder's.
    moved = {port.project_id, other.project_id}
    assert urls.count("/quotas/") == len(moved) < len(snap.items)
    assert urls.count("/os-quota-sets/") == 0
    assert snap.requests == 5 + len(moved)
    assert snap.extra["quota_reads"] == {"neutron": len(moved), "nova": 0, "cinder": 0}
    paths = Counter(r.path.split("/v2.")[-1] for r in world.requests[log_start:])
    assert paths["1/servers/detail"] == 1 and paths["0/ports"] == 1


async def test_new_and_deleted_servers_count_in_the_last_hour(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    collector = _collector(region_one)
    first = await collector.poll(None)
    world.clock.step(60)
    now = world.now()
    template = _live(region)[0]
    born = dataclasses.replace(
        template, id="11111111-2222-4333-8444-555555555555", created_at=now, updated_at=now
    )
    region.place_server(born)
    victim = next(s for s in _live(region) if s.project_id != born.project_id)
    region.delete_server(victim, now)
    world.clock.step(30)
    snap = await collector.poll(first)

    assert snap.extra["mode"] == "incremental"
    # The generated boots in flight were created moments ago too: counted from the start.
    booting = {pid: sig.created_last_hour for pid, sig in first.items.items()}
    assert snap.items[born.project_id].created_last_hour == booting[born.project_id] + 1
    assert snap.items[born.project_id].servers == first.items[born.project_id].servers + 1
    assert snap.items[victim.project_id].deleted_last_hour == 1
    assert snap.items[victim.project_id].servers == first.items[victim.project_id].servers - 1
    assert sum(sig.deleted_last_hour for sig in snap.items.values()) == 1
    assert sum(sig.created_last_hour for sig in snap.items.values()) == sum(booting.values()) + 1
    again = await collector.poll(snap)  # the overlap lists them again: not counted twice
    assert again.items[victim.project_id].deleted_last_hour == 1
    assert again.items[born.project_id].created_last_hour == booting[born.project_id] + 1

    world.clock.step(3700)  # an hour later (and a full resync)
    later = await collector.poll(again)
    assert later.extra["mode"] == "full"
    assert all(s.created_last_hour == s.deleted_last_hour == 0 for s in later.items.values())
    assert later.extra["deleted_last_hour_complete"] is True


async def test_the_first_poll_counts_creations_from_created(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    now = world.now()
    template = _live(region)[0]
    recent_one = dataclasses.replace(
        template, id="aaaaaaaa-2222-4333-8444-555555555555", created_at=now - 600
    )
    region.place_server(recent_one)
    recent = [s for s in _live(region) if s.created_at >= now - 3600]  # with boots in flight
    assert len(recent) > 1
    snap = await _collector(region_one).poll(None)
    expected = sum(1 for s in recent if s.project_id == template.project_id)
    assert snap.items[template.project_id].created_last_hour == expected
    assert sum(s.created_last_hour for s in snap.items.values()) == len(recent)
    assert "deleted_last_hour_note" in snap.extra


async def test_a_full_resync_happens_after_the_interval_and_drops_deleted_ports(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    collector = _collector(region_one)
    first = await collector.poll(None)
    gone = next(p for p in region.ports if p.device_owner.startswith("compute:"))
    gone.allowed_address_pairs = [{"ip_address": "::/0"}]
    gone.updated_at = world.now()
    world.clock.step(120)
    second = await collector.poll(first)
    assert gone.id in second.items[gone.project_id].spoofing_ports
    region.ports.remove(gone.id)  # Neutron's changed_since never reports this
    world.clock.step(120)
    third = await collector.poll(second)
    assert third.extra["mode"] == "incremental"
    assert gone.id in third.items[gone.project_id].spoofing_ports
    urls = Urls(region_one)
    world.clock.step(Intervals().full_resync)
    fourth = await collector.poll(third)
    assert fourth.extra["mode"] == "full"
    assert "changes-since" not in urls.query("/servers/detail")[0]
    assert "changed_since" not in urls.query("/v2.0/ports")[0]
    assert urls.count("/projects") == 1
    assert gone.id not in fourth.items[gone.project_id].spoofing_ports
    assert fourth.extra["ports_cached"] == len(region.ports)


async def test_servers_in_transition_too_long_are_stuck(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    stuck_after = Settings().thresholds.stuck_server_s
    build = next(s for s in _live(region) if s.status == "ACTIVE")
    build.status, build.vm_state, build.task_state = "BUILD", "building", "spawning"
    build.updated_at = world.now() - stuck_after - 60
    fresh = next(s for s in _live(region) if s.status == "ACTIVE" and s is not build)
    fresh.task_state = "rebooting"
    fresh.updated_at = world.now() - 30
    collector = _collector(region_one)
    snap = await collector.poll(None)
    stuck = {i for sig in snap.items.values() for i in sig.stuck_servers}
    assert build.id in snap.items[build.project_id].stuck_servers
    assert fresh.id not in stuck
    world.clock.step(stuck_after)  # nothing changes in the API, the servers just age
    later = await collector.poll(snap)
    transitional = {s.id for s in _live(region) if s.status == "BUILD" or s.task_state is not None}
    assert {i for sig in later.items.values() for i in sig.stuck_servers} == transitional
    assert fresh.id in transitional


async def test_keystone_failing_falls_back_to_ids_until_a_full_resync(
    world: World, region_one: RegionClient
) -> None:
    world.identity_faults.error_rate = 1.0
    collector = _collector(region_one)
    snap = await collector.poll(None)
    assert snap.items and all(s.project_name == s.project_id for s in snap.items.values())
    assert any("project names unavailable" in n for n in snap.notes), snap.notes
    assert snap.extra["names_from"] == "ids"
    world.identity_faults.error_rate = 0.0
    world.clock.step(60)
    between = await collector.poll(snap)  # names are refreshed on full resyncs only
    assert all(s.project_name == s.project_id for s in between.items.values())
    world.clock.step(Intervals().full_resync)
    resynced = await collector.poll(between)
    for project_id, sig in resynced.items.items():
        assert sig.project_name == world.projects.get(project_id).name
    assert not any("project names" in n for n in resynced.notes)


async def test_keystone_forbidden_is_worded_for_the_operator(
    world: World, region_one: RegionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def forbidden(client: RegionClient) -> list[dict[str, str]]:
        raise Forbidden("identity", "GET", "/v3/projects", "HTTP 403: policy", 403)

    monkeypatch.setattr(tenants.identity, "projects", forbidden)
    snap = await _collector(region_one).poll(None)
    assert snap.complete  # names are cosmetic: the signals themselves are all there
    assert "project names unavailable (not allowed (HTTP 403)); showing project ids" in snap.notes
    assert all(s.project_name == s.project_id for s in snap.items.values())


def _quota_calls(urls: Urls) -> int:
    return urls.count("/quotas/") + urls.count("/os-quota-sets/")


def _known(snap: Snapshot[TenantSignals]) -> set[tuple[str, str]]:
    return {(p, service) for p, sig in snap.items.items() for service in sig.quotas}


async def test_the_paced_quota_sweep_stays_within_its_allowance(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    # 0.05 requests/s over the 60 s tenants interval: 3 quota calls per poll.
    collector = _collector(region_one, SweepBudget(0.05, burst=3))
    urls = Urls(region_one)
    snap = await collector.poll(None)
    projects = len(snap.items)
    assert projects == 5
    assert _quota_calls(urls) == snap.extra["quota_swept"] == 3
    # The most suspicious project's three quotas are read first.
    suspicious = max(snap.items.values(), key=suspicion)
    assert suspicion(suspicious) > 0
    assert set(suspicious.quotas) == {"neutron", "nova", "cinder"}
    assert suspicious.quotas_unknown == ()
    assert sum(len(s.quotas_unknown) for s in snap.items.values()) == 3 * projects - 3
    for service in ("neutron", "nova", "cinder"):
        assert f"{service} quotas: {projects - 1} of {projects} projects not read yet" in (
            snap.notes
        )
    assert not snap.complete
    # Three more reads a poll, none of them one already known and unchanged, until all
    # 15 are known; then nothing is read until something moves or full_resync passes.
    polls = 1
    while not snap.complete:
        collector.budget = SweepBudget(0.05, burst=3)  # the next poll's allowance
        world.clock.step(60)
        urls.reset()
        before = _known(snap)
        snap = await collector.poll(snap)
        polls += 1
        assert before < _known(snap)
        assert _quota_calls(urls) == len(_known(snap) - before) == 3
    assert polls == 5 and len(_known(snap)) == 3 * projects
    world.clock.step(60)
    urls.reset()
    snap = await collector.poll(snap)
    assert _quota_calls(urls) == 0 and snap.complete
    for project_id, sig in snap.items.items():
        assert sig.quotas == world_quotas(region, project_id)


async def test_a_new_server_moves_its_projects_quotas_only_and_full_resync_reads_all(
    world: World, region_one: RegionClient
) -> None:
    region = _region(world)
    collector = _collector(region_one)
    first = await collector.poll(None)
    world.clock.step(60)
    template = _live(region)[0]
    project_id = template.project_id
    born = dataclasses.replace(
        template,
        id="22222222-2222-4333-8444-555555555555",
        created_at=world.now(),
        updated_at=world.now(),
    )
    region.place_server(born)
    urls = Urls(region_one)
    world.clock.step(30)
    snap = await collector.poll(first)
    # servers, ports, 2 rule listings, floating IPs; the three quotas of that project.
    assert snap.extra["quota_reads"] == {"neutron": 1, "nova": 1, "cinder": 1}
    assert snap.requests == 5 + 3
    asked = {u.path.rstrip("/").split("/")[-1] for u in urls.seen if "quota" in u.path}
    assert asked == {project_id, "details", "detail"}
    was = first.items[project_id].quotas["nova"]
    now = snap.items[project_id].quotas["nova"]
    assert now["instances"][0] == was["instances"][0] + 1
    assert now["cores"][0] == was["cores"][0] + born.flavor.vcpus
    assert snap.items[project_id].quotas == world_quotas(region, project_id)

    world.clock.step(Intervals().full_resync)
    urls.reset()
    later = await collector.poll(snap)
    n = len(later.items)
    assert later.extra["quota_reads"] == {"neutron": n, "nova": n, "cinder": n}
    assert _quota_calls(urls) == 3 * n and later.complete


def _failing(service: str, path: str) -> object:
    async def fail(client: RegionClient, project_id: str) -> None:
        raise ApiFailure(service, "GET", path, "HTTP 503: try later", 503)

    return fail


async def test_a_nova_quota_never_read_is_unknown_and_a_failed_reread_keeps_the_last(
    world: World, region_one: RegionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = _region(world)
    read_nova = tenants.compute.quota_usage
    monkeypatch.setattr(tenants.compute, "quota_usage", _failing("compute", "/os-quota-sets/x"))
    collector = _collector(region_one)
    snap = await collector.poll(None)
    n = len(snap.items)
    assert not snap.complete
    for sig in snap.items.values():
        assert "nova" not in sig.quotas and sig.quotas_unknown == ("nova",)
        assert set(sig.quotas) == {"neutron", "cinder"}
    reason = "compute: GET /os-quota-sets/x: HTTP 503: try later"
    assert f"nova quotas: {n} of {n} projects failed this poll ({reason})" in snap.notes
    assert f"nova quotas: {n} of {n} projects not read yet" in snap.notes

    monkeypatch.setattr(tenants.compute, "quota_usage", read_nova)
    world.clock.step(60)
    read = await collector.poll(snap)  # never read: due whatever moved
    assert read.complete and read.extra["quota_reads"] == {"neutron": 0, "nova": n, "cinder": 0}
    assert all(sig.quotas_unknown == () for sig in read.items.values())

    monkeypatch.setattr(tenants.compute, "quota_usage", _failing("compute", "/os-quota-sets/x"))
    world.clock.step(Intervals().full_resync)
    kept = await collector.poll(read)  # everything due again; Nova fails again
    assert not kept.complete
    assert f"nova quotas: {n} of {n} projects failed this poll ({reason})" in kept.notes
    assert not any("not read yet" in note for note in kept.notes)
    for project_id, sig in kept.items.items():
        assert sig.quotas_unknown == ()
        assert sig.quotas["nova"] == read.items[project_id].quotas["nova"]
        assert sig.quotas["nova"] == world_quotas(region, project_id)["nova"]


async def test_a_quota_answer_of_the_wrong_shape_is_a_failed_read(
    world: World, region_one: RegionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def odd(client: RegionClient, project_id: str) -> dict[str, object]:
        return {"id": project_id, "volumes": 3}  # limits only: the usage was not asked for

    monkeypatch.setattr(tenants.volume, "quota_usage", odd)
    snap = await _collector(region_one).poll(None)
    n = len(snap.items)
    assert not snap.complete
    assert all(s.quotas_unknown == ("cinder",) for s in snap.items.values())
    assert (
        f"cinder quotas: {n} of {n} projects failed this poll "
        "(no usable gigabytes, snapshots, volumes in the answer)"
    ) in snap.notes


async def test_a_forbidden_quota_read_is_said_once_and_stays_unknown(
    world: World, region_one: RegionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def forbidden(client: RegionClient, project_id: str) -> None:
        raise Forbidden("compute", "GET", "/os-quota-sets/x/detail", "HTTP 403: policy", 403)

    monkeypatch.setattr(tenants.compute, "quota_usage", forbidden)
    snap = await _collector(region_one).poll(None)
    assert "nova quotas: not allowed (HTTP 403); nova quota usage unknown" in snap.notes
    assert not any(note.startswith("nova quotas: 5 of 5 projects failed") for note in snap.notes)
    assert all(s.quotas_unknown == ("nova",) for s in snap.items.values())


class WithoutCinder:
    """A region's token source with Cinder taken out of the catalog, as in a region
    that does not deploy it."""

    def __init__(self, inner: TokenSource) -> None:
        self.inner = inner

    @staticmethod
    def _strip(access: Access) -> Access:
        catalog = tuple(s for s in access.catalog if s.get("type") != "volumev3")
        return dataclasses.replace(access, catalog=catalog)

    async def access(self) -> Access:
        return self._strip(await self.inner.access())

    async def reauthenticate(self, rejected_token: str) -> Access:
        return self._strip(await self.inner.reauthenticate(rejected_token))


async def test_a_region_without_cinder_reads_no_volume_quota_and_is_complete(
    world: World, region_one: RegionClient
) -> None:
    region_one.auth = WithoutCinder(region_one.auth)
    urls = Urls(region_one)
    snap = await _collector(region_one).poll(None)
    n = len(snap.items)
    assert snap.complete, snap.notes
    assert not any("cinder" in note for note in snap.notes)
    assert urls.count("/volume/") == 0
    assert snap.requests == 6 + 2 * n
    assert snap.extra["quota_reads"] == {"neutron": n, "nova": n}
    assert all(set(s.quotas) == {"neutron", "nova"} for s in snap.items.values())
    assert all(s.quotas_unknown == () for s in snap.items.values())


async def test_the_demo_brings_a_project_near_its_cores_quota_and_the_rules_say_so(
    world: World, connection: Connection
) -> None:
    start_scenario(world, "demo")
    world.clock.step(140 + 100)  # the demo's quota squeeze, in its second region
    world.tick()
    region = world.regions["RegionTwo"]
    (project_id,) = {s.project_id for s in region.servers if "-quota-" in s.name}
    client = next(r.client for r in connection.regions if r.ref.region == "RegionTwo")
    snap = await _collector(client).poll(None)
    used, limit = world_quotas(region, project_id)["nova"]["cores"]
    assert used >= 0.95 * limit
    reasons = score(snap.items[project_id], Thresholds()).reasons
    assert any(f"nova cores {used * 100 // limit}% ({used}/{limit})" in r for r in reasons)
    others = [p for p in snap.items if p != project_id]
    assert not any(
        "nova cores" in r for p in others for r in score(snap.items[p], Thresholds()).reasons
    )


async def test_a_failing_servers_listing_gives_a_partial_snapshot(
    world: World, region_one: RegionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(client: RegionClient, **_: object) -> None:
        raise ApiFailure("compute", "GET", "/servers/detail", "HTTP 500: boom", 500)

    monkeypatch.setattr(tenants.compute, "servers", broken)
    snap = await _collector(region_one).poll(None)
    assert not snap.complete
    assert (
        "servers: compute: GET /servers/detail: HTTP 500: boom; server counts unknown" in snap.notes
    ), snap.notes
    # Unknown, not zero: the servers listing never answered.
    assert all(s.servers is None and s.error_servers is None for s in snap.items.values())
    assert all(s.unread == ("servers",) for s in snap.items.values())
    assert snap.partly_read == frozenset(snap.items)
    fips = Counter(f.project_id for f in _region(world).floating_ips)
    assert {p: s.floating_ips for p, s in snap.items.items() if s.floating_ips} == dict(fips)


def _failing_listing(what: str) -> object:
    async def broken(client: RegionClient, **_: object) -> None:
        raise ApiFailure("network", "GET", f"/v2.0/{what}", "HTTP 503: busy", 503)

    return broken


async def test_listings_never_read_are_unknown_not_zero(
    world: World, region_one: RegionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = next(p for p in _region(world).ports if p.device_owner.startswith("compute:"))
    port.allowed_address_pairs = [{"ip_address": "0.0.0.0/0", "mac_address": port.mac}]
    spoofing = {port.project_id}
    real_ports = tenants.network.ports
    monkeypatch.setattr(tenants.network, "ports", _failing_listing("ports"))
    monkeypatch.setattr(tenants.network, "security_group_rules", _failing_listing("rules"))
    monkeypatch.setattr(tenants.network, "floating_ips", _failing_listing("floatingips"))
    collector = _collector(region_one)
    snap = await collector.poll(None)
    assert not snap.complete and snap.items
    for sig in snap.items.values():
        assert sig.servers is not None  # the servers listing answered
        assert sig.spoofing_ports is None and sig.open_ingress_rules is None
        assert sig.floating_ips is None and sig.floating_ips_created_last_hour is None
        assert sig.unread == ("spoofing ports", "open ingress", "floating IPs")
    assert snap.partly_read == frozenset(snap.items)
    # There was no previous poll: nothing is said to come from one.
    assert not any("from the previous poll" in note for note in snap.notes), snap.notes
    assert any(n.endswith("; open ingress unknown") for n in snap.notes), snap.notes
    assert any(n.endswith("; spoofing ports unknown") for n in snap.notes), snap.notes
    assert any(n.endswith("; counts unknown") for n in snap.notes), snap.notes

    # The ports answer: spoofing is known from then on, even when they fail again.
    monkeypatch.setattr(tenants.network, "ports", real_ports)
    world.clock.step(60)
    second = await collector.poll(snap)
    flagged = {pid for pid, sig in second.items.items() if sig.spoofing_ports}
    assert flagged == spoofing and all(s.spoofing_ports is not None for s in second.items.values())
    monkeypatch.setattr(tenants.network, "ports", _failing_listing("ports"))
    world.clock.step(60)
    third = await collector.poll(second)
    assert {pid for pid, sig in third.items.items() if sig.spoofing_ports} == spoofing
    assert any(n.endswith("; spoofing ports from the previous poll") for n in third.notes)


async def test_nothing_usable_raises(world: World, region_one: RegionClient) -> None:
    _region(world).faults.error_rate = 1.0
    with pytest.raises(ApiFailure):
        await _collector(region_one).poll(None)


# -- pure helpers ---------------------------------------------------------------------


def test_parse_server_reads_the_nova_fields_and_skips_ownerless_rows() -> None:
    body = {
        "id": "s1",
        "tenant_id": "p1",
        "status": "BUILD",
        "OS-EXT-STS:task_state": "spawning",
        "created": "2027-01-15T08:00:00Z",
        "updated": "2027-01-15T08:00:30Z",
    }
    sid, rec = parse_server(body) or ("", None)
    assert sid == "s1" and rec is not None
    assert (rec.project_id, rec.status, rec.task_state) == ("p1", "BUILD", "spawning")
    assert rec.updated is not None and rec.created is not None
    assert rec.updated - rec.created == 30
    assert parse_server({"id": "s2", "status": "ACTIVE"}) is None
    assert parse_server("nonsense") is None
    odd = parse_server({"id": "s3", "tenant_id": "p", "created": "yesterday"})
    assert odd is not None and odd[1].created is None and odd[1].status == "UNKNOWN"


@pytest.mark.parametrize(
    ("body", "spoofs"),
    [
        ({"allowed_address_pairs": [{"ip_address": "0.0.0.0/0"}]}, True),
        ({"allowed_address_pairs": [{"ip_address": "::/0", "mac_address": "x"}]}, True),
        ({"allowed_address_pairs": [{"ip_address": "10.1.0.0/0"}]}, True),
        ({"allowed_address_pairs": [{"ip_address": "10.1.0.0/24"}]}, False),
        ({"allowed_address_pairs": [{"ip_address": "0.0.0.0"}]}, False),
        ({"allowed_address_pairs": [{"ip_address": "bogus/0"}]}, False),
        ({"device_owner": "compute:nova", "port_security_enabled": False}, True),
        ({"device_owner": "compute:az1", "port_security_enabled": True}, False),
        ({"device_owner": "network:dhcp", "port_security_enabled": False}, False),
        ({"device_owner": "compute:nova"}, False),  # port-security extension absent
    ],
)
def test_port_spoofs(body: dict[str, object], spoofs: bool) -> None:
    assert port_spoofs(body) is spoofs


def test_open_prefixes_and_port_and_rule_parsing() -> None:
    assert is_open_prefix("0.0.0.0/0") and is_open_prefix("::/0")
    assert not is_open_prefix(None) and not is_open_prefix("192.0.2.0/1")
    assert parse_port({"id": "a", "project_id": ""}) == ("a", PortRecord("", False))
    assert parse_port({"id": "a"}) is None
    assert parse_rule({"id": "r", "project_id": "p", "port_range_min": None}) == RuleRecord(
        "r", "p", 0
    )
    assert parse_rule({"id": "r", "project_id": "p", "port_range_min": 22}).port == 22  # type: ignore[union-attr]
    assert parse_rule({"id": "r", "project_id": "p", "port_range_min": "x"}) is None
    fip = parse_fip({"id": "f", "project_id": "p", "created_at": "2027-01-15T08:00:00Z"})
    assert fip is not None and fip.created is not None
    assert parse_fip({"id": "f"}) is None


def test_parse_quota_keeps_real_limits_only_and_never_guesses_a_use() -> None:
    details = {
        "port": {"used": 9, "limit": 10, "reserved": 0},
        "subnetpool": {"used": 0, "limit": -1, "reserved": 0},
        "rbac_policy": {"used": 0, "limit": 0, "reserved": 0},
        "network": {"used": None, "limit": 5},  # unknown, not 0/5
        "subnet": {"limit": 5},
        "router": "garbage",
        "floatingip": {"used": 1, "limit": "many"},
        "security_group": {"used": True, "limit": 10},
    }
    assert parse_quota(details) == {"port": (9, 10)}


def test_parse_quota_reads_nova_and_cinder_sets_with_reservations() -> None:
    nova = {
        "id": "p1",
        "cores": {"in_use": 36, "limit": 40, "reserved": 2},
        "instances": {"in_use": 9, "limit": -1, "reserved": 0},
        "ram": {"in_use": 2048, "limit": 51200},
        "key_pairs": {"in_use": 0, "limit": 100, "reserved": 0},
    }
    wanted = frozenset({"instances", "cores", "ram"})
    assert parse_quota(nova, used_key="in_use", resources=wanted) == {
        "cores": (38, 40),  # reserved counts against the limit too
        "ram": (2048, 51200),
    }
    cinder = {"id": "p1", "volumes": {"in_use": 3, "limit": 10, "reserved": 0, "allocated": 0}}
    assert parse_quota(cinder, used_key="in_use") == {"volumes": (3, 10)}


@pytest.mark.parametrize(
    "details",
    [
        {},
        {"id": "p1"},
        {"cores": {"used": 3, "limit": 10}},  # Neutron's key where Nova's is expected
        {"key_pairs": {"in_use": 0, "limit": 100}},  # none of the resources asked for
    ],
)
def test_a_quota_answer_without_a_readable_resource_is_not_an_empty_quota(
    details: dict[str, object],
) -> None:
    wanted = frozenset({"instances", "cores", "ram"})
    assert parse_quota(details, used_key="in_use", resources=wanted) is None


def test_is_stuck_and_recent_use_the_given_clock() -> None:
    old = ServerRecord("p", "BUILD", None, NOW - 9000, NOW - 2000)
    assert is_stuck(old, NOW, 1800) and not is_stuck(old, NOW, 2400)
    assert is_stuck(old._replace(status="ACTIVE", task_state="migrating"), NOW, 1800)
    assert not is_stuck(old._replace(status="ACTIVE"), NOW, 1800)
    assert not is_stuck(old._replace(updated=None), NOW, 1800)
    events = {"a": ("p", NOW - 10), "b": ("p", NOW - 3599), "c": ("q", NOW - 3601)}
    assert recent(events, NOW) == {"p": 2}


def test_summarise_builds_one_signal_per_project_with_anything() -> None:
    servers = {
        "s1": ServerRecord("p1", "ACTIVE", None, NOW - 100, NOW - 100),
        "s2": ServerRecord("p1", "ERROR", None, NOW - 9000, NOW - 9000),
        "s3": ServerRecord("p2", "BUILD", "spawning", NOW - 4000, NOW - 4000),
    }
    ports = {"x": PortRecord("p1", True), "y": PortRecord("p3", False), "z": PortRecord("", True)}
    rules = [RuleRecord("r2", "p4", 22), RuleRecord("r1", "p4", 0), RuleRecord("r3", "p4", 22)]
    fips = [FipRecord("f1", "p2", NOW - 60), FipRecord("f2", "p2", NOW - 7200)]
    created = {"s1": ("p1", NOW - 100), "old": ("p1", NOW - 7200)}
    deleted = {"gone": ("p5", NOW - 30)}
    items = summarise(
        names={"p1": "alpha"},
        servers=servers,
        ports=ports,
        rules=rules,
        fips=fips,
        created=created,
        deleted=deleted,
        quotas={"p1": {"neutron": {"port": (1, 10)}}},
        now=NOW,
        stuck_after=1800,
    )
    assert list(items) == ["p1", "p2", "p3", "p4", "p5"]
    p1, p2, p4, p5 = items["p1"], items["p2"], items["p4"], items["p5"]
    assert (p1.project_name, p1.servers, p1.error_servers) == ("alpha", 2, ("s2",))
    assert p1.spoofing_ports == ("x",) and p1.created_last_hour == 1
    assert p1.quotas == {"neutron": {"port": (1, 10)}}
    assert p2.project_name == "p2" and p2.stuck_servers == ("s3",)
    assert (p2.floating_ips, p2.floating_ips_created_last_hour) == (2, 1)
    assert p4.open_ingress_rules == ("r1", "r2", "r3") and p4.open_ingress_ports == (0, 22)
    assert p5.deleted_last_hour == 1 and p5.servers == 0
    assert items["p3"] == TenantSignals("p3", "p3")


def test_suspicion_ranks_abuse_above_quiet_projects() -> None:
    quiet = TenantSignals("q", "q", servers=40, floating_ips=3)
    spoofer = TenantSignals("s", "s", spoofing_ports=("x",))
    churner = TenantSignals("c", "c", created_last_hour=4, deleted_last_hour=4)
    assert suspicion(quiet) == 0
    assert suspicion(spoofer) > suspicion(churner) > suspicion(quiet)


def test_quota_order_splits_the_allowance_between_suspicion_and_staleness() -> None:
    scores = {"a": 9.0, "b": 5.0, "c": 1.0, "d": 0.0, "e": 0.0}
    assert quota_order(scores, {}, None) == ["a", "b", "c", "d", "e"]
    checked = {"a": 100.0, "b": 100.0, "c": 100.0, "d": 50.0}
    # Half (rounded up) to the most suspicious, the rest to never/least recently checked.
    assert quota_order(scores, checked, 4) == ["a", "b", "e", "d"]
    assert quota_order(scores, checked, 1) == ["a"]
    assert quota_order(scores, checked, 0) == []
    assert quota_order({"d": 0.0, "e": 0.0}, {"e": 1.0}, 1) == ["d"]


def test_quiet_projects_read_recently_are_not_read_again() -> None:
    scores = {"busy": 3.0, "quiet-fresh": 0.0, "quiet-old": 0.0, "never": 0.0}
    checked = {"busy": 990.0, "quiet-fresh": 900.0, "quiet-old": 100.0}
    order = quota_order(scores, checked, None, now=1000.0, quiet_age=600.0)
    assert order == ["busy", "never", "quiet-old"]
    assert quota_order(scores, checked, None) == ["busy", "never", "quiet-old", "quiet-fresh"]


def test_a_project_whose_footprint_moved_is_due_again() -> None:
    scores = {"busy-same": 9.0, "busy-moved": 9.0, "quiet-moved": 0.0}
    checked = dict.fromkeys(scores, 990.0)
    order = quota_order(
        scores, checked, None, now=1000.0, quiet_age=600.0, moved={"busy-moved", "quiet-moved"}
    )
    assert order == ["busy-moved", "quiet-moved"]
    before = TenantSignals("p", "p", servers=3)
    assert footprint(before) != footprint(dataclasses.replace(before, servers=4))
    assert footprint(before) == footprint(dataclasses.replace(before, error_servers=("x",)))
