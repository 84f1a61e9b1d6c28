"""`osconsole snapshot` in process: compared with the world, faults, tokens, 403, bad bodies.

The same code as the console (connect, collectors, poller) against the simulator,
with keystoneauth bridged in process and httpx on ASGITransport.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind
from osconsole.sim.world import World
from osconsole.snapshot import EXIT_NOTHING, EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, take_snapshot
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.support.reshape import Reshape, drop_first_id, set_key

FAST_KINDS = [Kind.HYPERVISORS, Kind.SERVICES, Kind.AGENTS]


@pytest.fixture
def run(world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path):  # type: ignore[no-untyped-def]
    async def run(  # type: ignore[no-untyped-def]
        cloud: str = "osconsole-sim",
        kinds: list[Kind] | None = None,
        reshape: dict[str, Any] | None = None,
        **settings: Any,
    ):
        settings.setdefault("request_timeout", 2.0)
        base = Settings(clouds=[CloudSettings(name=cloud)], **settings)
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=sim_app)
        if reshape:  # RegionOne's answers of those paths, wrongly shaped
            transport = Reshape(transport, reshape, region="RegionOne")
        return await take_snapshot(
            base,
            kinds=kinds or list(Kind),
            openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
            transport=transport,
        )

    return run


def _by(outcome: Any) -> dict[tuple[str, Kind], Any]:
    return {(s.ref.region, s.kind): s for s in outcome.snapshots}


async def test_a_complete_snapshot_matches_the_world_in_every_region(
    run: Any, world: World
) -> None:
    outcome = await run()
    assert outcome.exit_code == EXIT_OK, outcome.problems
    snaps = _by(outcome)
    assert {r for r, _ in snaps} == set(world.regions)
    for name, region in world.regions.items():
        assert set(snaps[(name, Kind.HYPERVISORS)].items) == set(region.hypervisors.ids())
        assert set(snaps[(name, Kind.AGENTS)].items) == set(region.agents.ids())
        assert set(snaps[(name, Kind.ROUTERS)].items) == set(region.routers.ids())
        services = snaps[(name, Kind.SERVICES)].items
        assert len(services) == len(region.compute_services) + len(region.volume_services)
    document = json.loads(outcome.json_text)
    assert {r["region"] for r in document["regions"]} == set(world.regions)
    assert document["regions"][0]["microversions"]["compute"] == "2.100"
    assert "== osconsole-sim/RegionOne hypervisors" in outcome.output


async def test_a_failing_region_leaves_the_others_intact(run: Any, world: World) -> None:
    world.regions["RegionTwo"].faults.update(error_rate=1.0)
    outcome = await run(kinds=FAST_KINDS)
    assert outcome.exit_code == EXIT_PARTIAL
    snaps = _by(outcome)
    for kind in FAST_KINDS:
        assert snaps[("RegionTwo", kind)].error and snaps[("RegionTwo", kind)].stale
        assert snaps[("RegionOne", kind)].complete and not snaps[("RegionOne", kind)].error
        assert snaps[("RegionThree", kind)].complete
    assert any("RegionTwo" in p and "HTTP 50" in p for p in outcome.problems)
    errors = json.loads(outcome.json_text)["errors"]
    assert {(e["cloud"], e["region"], e["kind"]) for e in errors} == {
        ("osconsole-sim", "RegionTwo", kind.value) for kind in FAST_KINDS
    }
    assert all("HTTP 50" in e["reason"] and not e["partial"] for e in errors)
    # Nothing read is an unknown count, not 0; what was read is counted.
    counts = {
        (s["region"], s["kind"]): s["count"] for s in json.loads(outcome.json_text)["snapshots"]
    }
    for kind in FAST_KINDS:
        assert counts[("RegionTwo", kind.value)] is None
        assert counts[("RegionOne", kind.value)] == len(snaps[("RegionOne", kind)].items) > 0
        assert f"== osconsole-sim/RegionTwo {kind.value}: ? [STALE" in outcome.output


async def test_nothing_read_anywhere_exits_3_and_lists_every_region_and_kind(
    run: Any, world: World
) -> None:
    for region in world.regions.values():
        region.faults.update(error_rate=1.0)
    outcome = await run(kinds=FAST_KINDS)
    assert outcome.exit_code == EXIT_NOTHING
    errors = json.loads(outcome.json_text)["errors"]  # it stayed empty
    assert sorted((e["region"], e["kind"]) for e in errors) == sorted(
        (region, kind.value) for region in world.regions for kind in FAST_KINDS
    )
    assert {e["cloud"] for e in errors} == {"osconsole-sim"}
    assert all("HTTP 50" in e["reason"] and not e["partial"] for e in errors)
    assert len(outcome.problems) == len(errors)


async def test_an_unreachable_region_times_out_without_holding_the_others(
    run: Any, world: World
) -> None:
    world.regions["RegionThree"].faults.update(unreachable=True, hang_seconds=30.0)
    outcome = await run(kinds=[Kind.AGENTS], request_timeout=0.5)
    snaps = _by(outcome)
    assert "no answer within 0.5s" in (snaps[("RegionThree", Kind.AGENTS)].error or "")
    assert snaps[("RegionOne", Kind.AGENTS)].complete
    assert outcome.exit_code == EXIT_PARTIAL


async def test_malformed_bodies_are_reported_not_crashing(run: Any, world: World) -> None:
    world.regions["RegionOne"].faults.update(malformed_rate=1.0)
    outcome = await run(kinds=[Kind.AGENTS])
    error = _by(outcome)[("RegionOne", Kind.AGENTS)].error or ""
    assert "malformed JSON" in error
    assert outcome.exit_code == EXIT_PARTIAL


async def test_a_null_list_fails_the_kind_instead_of_reading_as_none(run: Any) -> None:
    outcome = await run(kinds=[Kind.SERVICES], reshape={"/os-services": set_key("services", None)})
    snap = _by(outcome)[("RegionOne", Kind.SERVICES)]
    assert snap.stale and "no 'services' list in the answer" in (snap.error or "")
    assert outcome.exit_code == EXIT_PARTIAL  # was 0, with "services: 0 [complete]"
    assert "RegionOne services: 0 [complete" not in outcome.output
    errors = json.loads(outcome.json_text)["errors"]
    assert [(e["region"], e["kind"], e["partial"]) for e in errors] == [
        ("RegionOne", "services", False)
    ]


@pytest.mark.parametrize(
    ("kind", "suffix", "key", "note"),
    [
        (Kind.SERVICES, "/os-services", "services", "service record(s) unreadable"),
        (Kind.AGENTS, "/v2.0/agents", "agents", "agent record(s) unreadable"),
        (Kind.HYPERVISORS, "/os-hypervisors", "hypervisors", "hypervisor record(s) unreadable"),
        (Kind.ROUTERS, "/v2.0/routers", "routers", "malformed router item(s)"),
        (Kind.ROUTERS, "/v2.0/agents", "agents", "malformed L3 agent item(s)"),
        (Kind.ROUTERS, "/l3-agents", "agents", "an agent entry without an id"),
        (Kind.TENANTS, "/servers/detail", "servers", "servers: skipped 1 item(s)"),
    ],
)
async def test_an_item_without_an_id_makes_the_kind_partial(
    run: Any, kind: Kind, suffix: str, key: str, note: str
) -> None:
    outcome = await run(kinds=[kind], reshape={suffix: drop_first_id(key)})
    snap = _by(outcome)[("RegionOne", kind)]
    assert not snap.error and not snap.complete
    assert any(note in n for n in snap.notes), snap.notes
    assert outcome.exit_code == EXIT_PARTIAL
    assert any(
        p.startswith(f"osconsole-sim/RegionOne {kind.value}: partial:") for p in outcome.problems
    )


async def test_expired_tokens_are_renewed_once_and_the_snapshot_completes(
    run: Any, world: World
) -> None:
    world.token_ttl = 3600
    original_tick = world.tick
    expired = {"done": False}

    def expire_all_tokens_once() -> float:
        now = original_tick()
        if not expired["done"] and world.requests and world.requests[-1].service == "compute":
            for token in world.tokens.values():
                token.expires_at = now - 1  # the server revokes: the client must re-auth
            expired["done"] = True
        return now

    world.tick = expire_all_tokens_once  # type: ignore[method-assign]
    outcome = await run(kinds=FAST_KINDS)
    assert outcome.exit_code == EXIT_OK, outcome.problems
    assert expired["done"]
    assert any(r.status == 401 for r in world.requests)
    issued = [r for r in world.requests if r.path.endswith("/auth/tokens") and r.method == "POST"]
    assert len(issued) == 2  # the first token, and one renewal shared by every region


async def test_a_non_admin_credential_gets_a_clear_answer(
    run: Any, world: World, tmp_path: Path
) -> None:
    outcome = await run(cloud="osconsole-sim-member", kinds=[Kind.HYPERVISORS])
    assert outcome.exit_code == EXIT_NOTHING  # no region's hypervisors could be read
    assert any("HTTP 403" in p for p in outcome.problems)


async def test_unknown_cloud_is_a_usage_error(run: Any) -> None:
    outcome = await run(cloud="no-such-cloud", kinds=[Kind.AGENTS])
    assert outcome.exit_code == EXIT_USAGE
    assert any("no-such-cloud" in p for p in outcome.problems)


async def test_paging_collects_every_item_across_pages(
    run: Any, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("osconsole.cloud.compute.PAGE", 2)
    monkeypatch.setattr("osconsole.cloud.network.PAGE", 5)
    outcome = await run(kinds=[Kind.HYPERVISORS, Kind.AGENTS])
    assert outcome.exit_code == EXIT_OK, outcome.problems
    snaps = _by(outcome)
    region = world.regions["RegionOne"]
    assert set(snaps[("RegionOne", Kind.HYPERVISORS)].items) == set(region.hypervisors.ids())
    assert set(snaps[("RegionOne", Kind.AGENTS)].items) == set(region.agents.ids())
    pages = [
        r for r in world.requests if r.region == "RegionOne" and r.path.endswith("/os-hypervisors")
    ]
    assert len(pages) >= len(region.hypervisors) // 2
    agent_pages = [
        r for r in world.requests if r.region == "RegionOne" and r.path.endswith("/v2.0/agents")
    ]
    assert len(agent_pages) >= len(region.agents) // 5


async def test_findings_come_with_the_snapshot(run: Any, world: World) -> None:
    region = world.regions["RegionOne"]
    dead = next(a for a in region.agents if a.agent_type == "L3 agent")
    dead.stopped_at = world.now()
    world.clock.step(100)
    outcome = await run(kinds=[Kind.AGENTS, Kind.ROUTERS])
    document = json.loads(outcome.json_text)
    agent_findings = [
        f
        for f in document["findings"]
        if f["subject"]["id"] == dead.id and f["severity"] == "critical"
    ]
    assert agent_findings and dead.host in agent_findings[0]["reason"]
    assert outcome.output.startswith("== Findings: ")
    assert "CRITICAL" in outcome.output.split("\n\n")[0]


def _mixed_world() -> World:
    from osconsole.sim.clock import SimClock
    from tests.conftest import T0
    from tests.support.ovn import mixed_world

    return mixed_world(SimClock(start=T0))


@pytest.mark.parametrize("world", [_mixed_world()], ids=["ovn,ovs"])
async def test_an_ovn_region_beside_an_ovs_one_with_its_gateway_facts(
    run: Any, world: World
) -> None:
    ovn = world.regions["RegionOne"]
    broken = next(iter(ovn.routers))
    ovn.place_gateway(broken, "", world.now())
    outcome = await run(kinds=[Kind.AGENTS, Kind.ROUTERS])
    assert outcome.exit_code == EXIT_OK, outcome.problems
    document = json.loads(outcome.json_text)
    routers = {s["region"]: s for s in document["snapshots"] if s["kind"] == "routers"}
    assert routers["RegionOne"]["backend"] == "ovn"
    assert "backend" not in routers["RegionTwo"] and "gateway_chassis" not in routers["RegionTwo"]
    chassis = routers["RegionOne"]["gateway_chassis"]
    assert [c["host"] for c in chassis] == ["rone-gw001", "rone-gw002", "rone-gw003"]
    assert all(c["alive"] for c in chassis)
    assert sum(c["gateways"] for c in chassis) == len(ovn.routers) - 1
    items = {r["id"]: r for r in routers["RegionOne"]["items"]}
    port = ovn.gateway_port(broken)
    assert port is not None
    assert items[broken.id]["gateway"] == {"port_id": port.id, "host": "", "status": "DOWN"}
    assert all(len(r["bindings"]) == 3 for r in items.values())  # the candidate chassis
    findings = [f for f in document["findings"] if f["rule"] == "ovn.no_active_gateway"]
    assert [(f["subject"]["id"], f["severity"]) for f in findings] == [(broken.id, "critical")]
    agents = {s["region"]: s for s in document["snapshots"] if s["kind"] == "agents"}
    types = {a["agent_type"] for a in agents["RegionOne"]["items"]}
    assert "OVN Controller Gateway agent" in types and "L3 agent" not in types
    assert "gateway on no chassis (DOWN); candidates: 3" in outcome.output


@pytest.mark.parametrize("world", [_mixed_world()], ids=["ovn,ovs"])
async def test_an_ovn_region_without_nova_and_one_without_neutron_show_what_they_have(
    run: Any, world: World
) -> None:
    from osconsole.sim.keystone import leave_out_of_catalog

    leave_out_of_catalog(world, "compute", ["RegionOne"])  # the OVN region: Neutron only
    leave_out_of_catalog(world, "placement", ["RegionOne"])
    leave_out_of_catalog(world, "network", ["RegionTwo"])  # the OVS region: no Neutron
    outcome = await run()
    assert outcome.exit_code == EXIT_OK, outcome.problems
    snaps = _by(outcome)
    routers = snaps[("RegionOne", Kind.ROUTERS)]
    assert routers.extra["ovn"] and routers.complete
    assert all(r.gateway is not None and r.gateway.active for r in routers.items.values())
    assert snaps[("RegionOne", Kind.HYPERVISORS)].items == {}
    assert snaps[("RegionTwo", Kind.ROUTERS)].items == {}
    assert "not deployed" in snaps[("RegionTwo", Kind.ROUTERS)].notes[0]
    assert len(snaps[("RegionTwo", Kind.HYPERVISORS)].items) == len(
        world.regions["RegionTwo"].hypervisors
    )


async def test_tenants_read_in_part_are_unknown_not_ok(run: Any, world: World) -> None:
    """Neutron answering 429 in RegionTwo: its tenants' ports, rules and floating IPs
    are not read, so with no problem found from the rest they are unknown (naming what
    was not read), never ok."""
    world.regions["RegionTwo"].service_faults["network"].update(status=429, retry_after=30)
    outcome = await run(kinds=[Kind.TENANTS])
    document = json.loads(outcome.json_text)
    tenants = [
        a for a in document["assessments"] if a["region"] == "RegionTwo" and a["kind"] == "tenants"
    ]
    assert tenants
    for entry in tenants:
        if entry["problems"]:
            assert entry["severity"] != "ok"
            continue
        assert entry["severity"] == "unknown", entry
        assert "spoofing ports" in entry["unknown"] and "floating IPs" in entry["unknown"]
    others = [
        a for a in document["assessments"] if a["region"] == "RegionOne" and a["kind"] == "tenants"
    ]
    assert others and all(a["severity"] != "unknown" for a in others)


async def test_a_kind_never_read_in_a_region_makes_the_region_unknown_there(
    run: Any, world: World
) -> None:
    world.regions["RegionTwo"].service_faults["compute"].update(refuse=True)
    outcome = await run(kinds=[Kind.HYPERVISORS])
    document = json.loads(outcome.json_text)
    regions = {a["region"]: a for a in document["assessments"] if a["kind"] == "region"}
    assert regions["RegionTwo"]["unknown"] == "hypervisors not read"
    assert "unknown" not in regions["RegionOne"]
