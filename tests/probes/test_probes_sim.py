"""The probes against the simulator's RabbitMQ management API, Galera source and
memcached endpoint: each incident of the services beneath raises its finding through
the real probes and rules, and the finding clears once the incident is over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from osconsole.config import Thresholds
from osconsole.health.assess import assess
from osconsole.health.findings import Tracker
from osconsole.health.plane import PlaneLook
from osconsole.model import RegionRef
from osconsole.probes.runner import ProbeRunner
from osconsole.probes.settings import RegionProbes
from osconsole.sim.backing import galera_source, probes_config, serving_memcached
from osconsole.sim.clock import SimClock
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import World
from tests.conftest import SIM_URL

REGION = "RegionTwo"
REF = RegionRef("osconsole-sim", REGION)
STEP = 30.0


@pytest.fixture
async def runner(world: World, sim_app: Any, clock: SimClock) -> AsyncIterator[ProbeRunner]:
    """The probes of REGION as `/_sim/probes` configures them, run by a ProbeRunner:
    RabbitMQ in process, Galera through the injected source, memcached over TCP."""
    async with serving_memcached(world):
        transport = httpx.ASGITransport(app=sim_app)
        async with httpx.AsyncClient(transport=transport, base_url=SIM_URL) as client:
            entries = (await client.get("/_sim/probes")).json()
        assert entries == probes_config(world, SIM_URL)
        configured = [RegionProbes.model_validate(e) for e in entries]
        yield ProbeRunner(
            configured,
            [REF],
            clock=clock.now,
            mysql_sources={REF: galera_source(world, REGION)},
            transport=transport,
        )


async def rules_now(runner: ProbeRunner, tracker: Tracker, clock: SimClock) -> set[str]:
    await runner.round(REF)
    look = PlaneLook(REF, clock.now(), probes=runner.latest[REF], probes_before=runner.before[REF])
    return {f.rule for f in assess([], tracker, [look]).findings}


async def test_a_quiet_cloud_probes_ok_with_no_finding(
    runner: ProbeRunner, clock: SimClock
) -> None:
    tracker = Tracker(Thresholds())
    assert await rules_now(runner, tracker, clock) == set()
    clock.step(STEP)
    assert await rules_now(runner, tracker, clock) == set()
    results = runner.latest[REF]
    (cache_name,) = [n for n in results if n.startswith("memcached ")]
    assert sorted(results) == sorted([cache_name, "mysql", "rabbitmq"])
    assert all(r.ok for r in results.values()), {n: r.error for n, r in results.items()}
    rabbit = results["rabbitmq"].figures
    assert rabbit["nodes"] == rabbit["nodes_running"] == 3 and rabbit["partitions"] == []
    db = results["mysql"].figures
    assert db["galera"] and db["cluster_size"] == db["expected_cluster_size"] == 3
    cache = results[cache_name].figures
    assert cache["evictions"] == 0 and 0 < cache["hit_ratio"] < 1


@pytest.mark.parametrize(
    ("scenario", "rule", "lasts"),
    [
        ("rabbitmq-partition", "probe.rabbitmq_partition", 180),
        ("galera-node-leaves", "probe.galera_size", 150),
        ("queue-without-consumers", "probe.rabbitmq_queue_growing", 240),
        ("memcached-evicting", "probe.memcached_evicting", 180),
    ],
)
async def test_each_incident_beneath_raises_its_finding_and_clears(
    runner: ProbeRunner, world: World, clock: SimClock, scenario: str, rule: str, lasts: float
) -> None:
    tracker = Tracker(Thresholds())
    assert rule not in await rules_now(runner, tracker, clock)
    start_scenario(world, scenario, region=REGION)
    clock.step(STEP)
    seen = await rules_now(runner, tracker, clock)  # growth needs a round before it
    clock.step(STEP)
    assert rule in seen | await rules_now(runner, tracker, clock)
    clock.step(STEP)
    assert rule in await rules_now(runner, tracker, clock), "still on a round later"
    clock.step(lasts)
    await rules_now(runner, tracker, clock)  # the round that sees the recovery
    clock.step(STEP)
    assert rule not in await rules_now(runner, tracker, clock)


async def test_the_management_api_wants_the_monitoring_account_and_honours_columns(
    sim: httpx.AsyncClient,
) -> None:
    base = f"/{REGION}/rabbitmq/api"
    refused = await sim.get(f"{base}/overview", auth=("guest", "guest"))
    assert refused.status_code == 401 and refused.json()["error"] == "not_authorized"
    assert (await sim.get(f"{base}/nodes")).status_code == 401
    auth = ("monitoring", "sim-monitoring-secret")
    nodes = (await sim.get(f"{base}/nodes", params={"columns": "name,running"}, auth=auth)).json()
    assert [set(n) for n in nodes] == [{"name", "running"}] * 3
    queues = (await sim.get(f"{base}/queues", auth=auth)).json()
    assert {"name", "vhost", "messages", "consumers", "messages_unacknowledged"} <= set(queues[0])
    overview = (await sim.get(f"{base}/overview", auth=auth)).json()
    assert overview["cluster_name"] and overview["queue_totals"]["messages"] >= 0
    assert (await sim.get("/RegionNine/rabbitmq/api/overview", auth=auth)).status_code == 404
