"""The fault matrix against `osconsole snapshot` (take_snapshot, the command's code path,
in process): every fault against every service, then what the JSON's `errors` list
says, what the tables say of what could not be read, hostile names, and a Keystone
that hangs.

The one-shot snapshot is cheap (a tenth of a second against the tiny world), so here
the matrix is the whole cross product of FAULTS and services.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openstack.config import OpenStackConfig

from osconsole.model import Kind, Snapshot
from osconsole.sim.serve import SimServer, clouds_yaml_text
from osconsole.sim.world import World
from osconsole.snapshot import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    SnapshotOutcome,
    take_snapshot,
)
from tests.faults.conftest import RunSnapshot, settings
from tests.faults.matrix import (
    CLOUD,
    FAULTS,
    HEALTHY,
    HOSTILE,
    READS,
    REGION,
    SERVICES,
    WHOLE_REGION,
    clear,
    inject,
    known_bugs,
    raw_controls,
)

BUGS: dict[tuple[str, str], str] = {}
# Cinder's services have no ids (host and binary name them, as in the real API) and
# nothing else read from Cinder needs one: that fault changes nothing there (below).
CASES = [
    (fault, service)
    for fault in FAULTS
    for service in (*SERVICES, WHOLE_REGION)
    if (fault, service) != ("no_ids", "volume")
]


def by_key(outcome: SnapshotOutcome) -> dict[tuple[str, Kind], Snapshot[Any]]:
    return {(s.ref.region, s.kind): s for s in outcome.snapshots}


def problems_of(outcome: SnapshotOutcome, region: str, kind: Kind) -> list[str]:
    """The stderr lines about one region's kind ("osconsole-sim/RegionTwo agents: ...")."""
    return [p for p in outcome.problems if p.startswith(f"{CLOUD}/{region} {kind.value}:")]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info]


@pytest.mark.parametrize(("fault", "service"), known_bugs(CASES, BUGS))
async def test_the_snapshot_names_the_failing_region_and_kind_and_recovers(
    run_snapshot: RunSnapshot,
    world: World,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    service: str,
) -> None:
    inject(world, FAULTS[fault], service)
    with caplog.at_level(logging.WARNING):
        outcome = await run_snapshot()
    assert tracebacks(caplog) == []
    assert outcome.exit_code == EXIT_PARTIAL, outcome.problems
    snaps = by_key(outcome)
    for kind in READS[service]:
        named = problems_of(outcome, REGION, kind)
        assert named, f"{REGION} {kind.value} is not named: {outcome.problems}"
        assert all(FAULTS[fault].described(line) for line in named), named
        assert not snaps[(REGION, kind)].complete
    for region in HEALTHY:
        assert all(snaps[(region, kind)].complete for kind in Kind), region
        assert not any(f"/{region} " in p for p in outcome.problems)

    clear(world)
    again = await run_snapshot()
    assert again.exit_code == EXIT_OK, again.problems


async def test_cinder_answers_without_ids_are_read_in_full(
    run_snapshot: RunSnapshot, world: World
) -> None:
    inject(world, FAULTS["no_ids"], "volume")
    outcome = await run_snapshot()
    assert outcome.exit_code == EXIT_OK, outcome.problems
    services = by_key(outcome)[(REGION, Kind.SERVICES)].items.values()
    cinder = [s for s in services if s.project == "cinder"]
    assert cinder and len(cinder) == len(world.regions[REGION].volume_services)


@pytest.mark.parametrize("service", ["compute", "network", "every region"])
async def test_the_json_errors_list_every_failed_region_and_kind(
    run_snapshot: RunSnapshot, world: World, service: str
) -> None:
    if service == "every region":
        for region in world.regions.values():
            region.faults.update(status=503)
    else:
        inject(world, FAULTS["503"], service)
    outcome = await run_snapshot()
    failed = sorted((s.ref.region, s.kind.value) for s in outcome.snapshots if s.error)
    assert failed
    errors = [json.dumps(e) for e in json.loads(outcome.json_text)["errors"]]
    for region, kind in failed:
        assert any(region in e and kind in e for e in errors), (region, kind, errors)


async def test_a_kind_that_could_not_be_read_is_not_counted_as_zero(
    run_snapshot: RunSnapshot, world: World
) -> None:
    inject(world, FAULTS["refuse"], WHOLE_REGION)
    outcome = await run_snapshot()
    titles = [line for line in outcome.output.splitlines() if line.startswith("== ")]
    for kind in Kind:
        (title,) = [t for t in titles if t.startswith(f"== {CLOUD}/{REGION} {kind.value}:")]
        assert "complete" not in title
        assert not re.match(rf"== \S+ {kind.value}: 0 \[", title), title


async def test_a_partial_tenants_poll_claims_no_previous_poll_and_no_zero_counts(
    run_snapshot: RunSnapshot, world: World
) -> None:
    inject(world, FAULTS["503"], "network")
    outcome = await run_snapshot(kinds=[Kind.TENANTS])
    tenants = by_key(outcome)[(REGION, Kind.TENANTS)]
    assert tenants.items  # servers were read: the projects are there
    assert not any("previous poll" in note for note in tenants.notes), tenants.notes
    block = next(
        b for b in outcome.output.split("\n\n") if b.startswith(f"== {CLOUD}/{REGION} tenants")
    )
    header, *rows = [line for line in block.splitlines() if not line.startswith(("==", "   "))]
    columns = header.split()
    for row in rows:
        cells = dict(zip(columns, row.split()[-len(columns) :], strict=True))
        assert (cells["SPOOF"], cells["OPEN"], cells["FIPS"]) != ("0", "0", "0"), row


@pytest.mark.parametrize("kind", ["router", "project", "host"])
async def test_hostile_names_are_printed_as_visible_text(
    run_snapshot: RunSnapshot, sim: httpx.AsyncClient, world: World, kind: str
) -> None:
    body = {"kind": kind, "text": HOSTILE, "region": REGION}
    if kind == "project":  # a tenant's (renaming the admin project would lock us out)
        tenant = next(s.project_id for s in world.regions[REGION].servers)
        assert tenant != world.admin_project_id
        body["id"] = tenant
    assert (await sim.post("/_sim/rename", json=body)).status_code == 200
    outcome = await run_snapshot()
    assert outcome.exit_code == EXIT_OK, outcome.problems
    assert "web[/]-router-1" in outcome.output  # the text is there, in a table
    assert "PWNED" in outcome.json_text
    assert raw_controls(outcome.json_text) == []
    assert raw_controls(outcome.output) == []


async def test_the_snapshot_gives_up_on_a_hanging_keystone_within_its_timeout(
    run_snapshot: RunSnapshot, world: World
) -> None:
    world.identity_faults.update(hang=True)
    try:
        # Two identity calls (discovery, token) of 0.5 s each at most, and some slack.
        outcome = await asyncio.wait_for(run_snapshot(request_timeout=0.5), timeout=3)
    finally:
        clear(world)  # the hung call answers, so its worker thread ends
        await asyncio.sleep(0.2)
    assert outcome.exit_code == EXIT_USAGE
    assert any(re.search(r"(?i)keystone|authenticat", p) for p in outcome.problems)
    said = r"(?i)time|no answer|not answer|hang"  # e.g. "Keystone did not answer within 0.5s"
    assert any(re.search(said, p) for p in outcome.problems), outcome.problems


async def test_dropped_connections_read_over_a_socket_as_they_do_in_process(
    run_snapshot: RunSnapshot, world: World, tmp_path: Path
) -> None:
    """In process, a dropped connection is the httpx error the client meets over a
    socket; over a socket (SimServer, real keystoneauth and httpx) it is really dropped."""
    faults = ("truncate", "refuse")

    async def reasons(run: Callable[[], Awaitable[SnapshotOutcome]]) -> dict[str, str]:
        found = {}
        for fault in faults:
            inject(world, FAULTS[fault], "network")
            outcome = await run()
            clear(world)
            found[fault] = by_key(outcome)[(REGION, Kind.AGENTS)].error or ""
        return found

    in_process = await reasons(lambda: run_snapshot(kinds=[Kind.AGENTS]))
    with SimServer(world) as server:
        path = tmp_path / "socket-clouds.yaml"
        path.write_text(clouds_yaml_text(world, server.url))
        config = OpenStackConfig(
            config_files=[str(path)], vendor_files=[], secure_files=[], load_envvars=False
        )
        over_socket = await reasons(
            lambda: take_snapshot(settings(), kinds=[Kind.AGENTS], openstack_config=config)
        )
    # The same words; byte counts aside (heartbeat timestamps move between the runs).
    assert figures_aside(over_socket["truncate"]) == figures_aside(in_process["truncate"])
    assert "the answer was cut short: HTTP 200" in in_process["truncate"]
    # A refused connection cannot be had per region on one listener: closed unanswered.
    assert "RemoteProtocolError" in over_socket["refuse"]
    assert "ConnectError" in in_process["refuse"]


def figures_aside(reason: str) -> str:
    return re.sub(r"\d+", "N", reason)
