"""Read-only in depth: nothing is offered, the runner refuses, the HTTP client refuses;
and a credential that can only GET is refused with a message that says so."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from osconsole.actions import (
    ACTIONS,
    ActionRunner,
    ActionTarget,
    PlanError,
    Result,
    StepState,
    TargetKind,
)
from osconsole.audit import AuditLog
from osconsole.cloud.auth import AuthError
from osconsole.cloud.connect import Connection, connect
from osconsole.cloud.http import ReadOnlyRefused
from osconsole.config import CloudSettings, Settings
from osconsole.model import RegionRef
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.sim.world import World
from tests.conftest import SIM_URL, T0
from tests.support.bridge import bridged_config
from tests.test_actions import (
    audit_lines,
    compute_service_target,
    first_server,
    live_server,
    mutations,
    session_of,
)

CLOUD = "osconsole-sim"


async def connect_to_sim(
    world: World, sim: httpx.AsyncClient, app: Any, tmp_path: Path, config: Settings
) -> Connection:
    connection = await connect(
        config,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=app),
    )
    assert not connection.errors, connection.errors
    return connection


@pytest.fixture
async def readonly_connection(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> AsyncIterator[Connection]:
    config = Settings(clouds=[CloudSettings(name=CLOUD, readonly=True)])
    connection = await connect_to_sim(world, sim, sim_app, tmp_path, config)
    yield connection
    await connection.aclose()


@pytest.fixture
async def get_only_connection(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> AsyncIterator[Connection]:
    config = Settings(clouds=[CloudSettings(name=f"{CLOUD}-readonly")])
    connection = await connect_to_sim(world, sim, sim_app, tmp_path, config)
    yield connection
    await connection.aclose()


def state_of(world: World) -> str:
    """Everything an action could change, as one comparable text."""
    facts: list[Any] = []
    for name, region in sorted(world.regions.items()):
        facts.append(name)
        facts += [(s.id, s.disabled, s.disabled_reason) for s in region.compute_services]
        facts += [(a.id, a.admin_state_up) for a in region.agents]
        facts += [(s.id, s.vm_state, s.locked, s.locked_reason) for s in region.servers]
        facts += [(r.id, sorted(r.bindings.items())) for r in region.routers]
        facts.append(sorted(region.ha_ports_by_router.items()))
    return json.dumps(facts, default=str)


# -- depth 1 and 2: not offered, refused by the runner ------------------------------------


async def test_a_readonly_session_offers_nothing_and_the_runner_refuses(
    world: World, readonly_connection: Connection, tmp_path: Path
) -> None:
    session = session_of(readonly_connection)
    assert session.readonly and session.client.readonly
    audit = tmp_path / "audit.jsonl"
    runner = ActionRunner(AuditLog(audit), readonly_connection.regions)
    svc = next(s for s in world.regions["RegionOne"].compute_services if s.binary == "nova-compute")
    target = await compute_service_target(session, svc.host)
    assert runner.offered(target) == []

    plan = runner.plan("compute-service-disable", target, {"reason": "should never land"})
    before, since = state_of(world), len(world.requests)
    outcome = await runner.run(plan)

    assert outcome.result == Result.REFUSED and "read-only" in outcome.message
    assert [s.state for s in outcome.steps] == [StepState.NOT_SENT]
    assert outcome.repoll == ()
    assert world.requests[since:] == []  # nothing reached the simulator, not even a GET
    assert state_of(world) == before and not svc.disabled
    (line,) = audit_lines(audit)
    assert line["result"] == "refused" and line["allowed"] is False and line["readonly"] is True
    assert line["user"]["name"] == "admin" and line["action"] == "compute-service-disable"
    assert line["requests"][0]["state"] == "not sent"


# -- depth 3: the HTTP client ------------------------------------------------------------


async def test_the_http_client_refuses_mutations_even_if_the_runner_is_bypassed(
    world: World, readonly_connection: Connection, tmp_path: Path
) -> None:
    session = session_of(readonly_connection)
    runner = ActionRunner(AuditLog(tmp_path / "audit.jsonl"), readonly_connection.regions)
    server = first_server(world, "ACTIVE")
    target = await live_server(session, server.id)
    plans = [
        runner.plan("server-lock", target, {"reason": "bypass"}),
        runner.plan("server-pause", target),
    ]
    since, before = len(world.requests), state_of(world)
    for plan in plans:
        for request in plan.requests:  # straight to the client, as buggy code might
            with pytest.raises(ReadOnlyRefused, match="read-only"):
                await session.client.request(
                    request.method, request.service, request.path, body=request.body
                )
    for method in ("PUT", "PATCH", "DELETE", "post"):
        with pytest.raises(ReadOnlyRefused):
            await session.client.request(method, "network", "/v2.0/agents/x")
    assert world.requests[since:] == [] and state_of(world) == before
    assert await session.client.get("compute", f"/servers/{server.id}")  # reading still works


# -- a credential that can only GET ------------------------------------------------------


async def test_a_get_only_credential_is_refused_with_a_message(
    world: World, get_only_connection: Connection, tmp_path: Path
) -> None:
    session = session_of(get_only_connection)
    assert not session.readonly  # the session may try; the credential cannot
    assert (await session.auth.access()).get_only
    audit = tmp_path / "audit.jsonl"
    runner = ActionRunner(AuditLog(audit), get_only_connection.regions)
    server = first_server(world, "ACTIVE")
    plan = runner.plan("server-lock", await live_server(session, server.id), {"reason": "x"})
    assert await runner.refusal(plan, session) is not None
    since = len(world.requests)
    outcome = await runner.run(plan)

    assert outcome.result == Result.REFUSED
    assert "can only read" in outcome.message and "GET requests only" in outcome.message
    assert mutations(world, since) == [] and not server.locked
    (line,) = audit_lines(audit)
    assert line["result"] == "refused" and line["readonly"] is False
    assert line["cloud"] == f"{CLOUD}-readonly"


async def test_a_get_only_credential_is_offered_nothing_once_known(
    world: World, get_only_connection: Connection, tmp_path: Path
) -> None:
    session = session_of(get_only_connection)
    runner = ActionRunner(AuditLog(tmp_path / "audit.jsonl"), get_only_connection.regions)
    server = first_server(world, "ACTIVE")
    host = next(iter(world.regions["RegionOne"].hypervisors_by_host))
    assert session.auth.get_only  # connecting authenticated: it is known
    assert not runner.may_act(session.ref)
    assert runner.offered(await live_server(session, server.id)) == []
    assert runner.offered(await compute_service_target(session, host)) == []


async def test_a_plan_made_for_another_microversion_is_refused(
    world: World, connection: Connection, tmp_path: Path
) -> None:
    session = session_of(connection)
    runner = ActionRunner(AuditLog(tmp_path / "audit.jsonl"), connection.regions)
    server = first_server(world, "ACTIVE")
    plan = runner.plan("server-lock", await live_server(session, server.id), {"reason": "x"})
    session.client.microversions["compute"] = "2.60"  # e.g. renegotiated after an upgrade
    since = len(world.requests)
    outcome = await runner.run(plan)
    assert outcome.result == Result.REFUSED and "plan it again" in outcome.message
    assert mutations(world, since) == [] and not server.locked


# -- property: whatever is attempted in read-only mode, nothing mutating arrives -----------


@dataclass
class Harness:
    """A read-only connection on an event loop of its own, shared by every example."""

    loop: asyncio.AbstractEventLoop
    world: World
    connection: Connection
    runner: ActionRunner
    audit: Path

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    tmp = tmp_path_factory.mktemp("readonly")
    loop = asyncio.new_event_loop()
    world = build_world(size="tiny", regions=3, seed=7, clock=SimClock(start=T0))
    app = create_app(world)
    sim = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SIM_URL)
    config = Settings(readonly=True, clouds=[CloudSettings(name=CLOUD)])
    connection = loop.run_until_complete(connect_to_sim(world, sim, app, tmp, config))
    audit = tmp / "audit.jsonl"
    runner = ActionRunner(AuditLog(audit), connection.regions)
    try:
        yield Harness(loop, world, connection, runner, audit)
    finally:
        loop.run_until_complete(connection.aclose())
        loop.run_until_complete(sim.aclose())
        loop.close()


def targets_in(world: World, region: str, kind: TargetKind) -> list[ActionTarget]:
    """Every object of `kind` in `region` as a target, straight from the world."""
    ref, r = RegionRef(CLOUD, region), world.regions[region]
    if kind == TargetKind.COMPUTE_SERVICE:
        return [
            ActionTarget(ref, kind, s.id, s.host, host=s.host, binary=s.binary)
            for s in r.compute_services
        ]
    if kind == TargetKind.AGENT:
        return [ActionTarget(ref, kind, a.id, a.host, host=a.host) for a in r.agents]
    if kind == TargetKind.SERVER:
        return [ActionTarget(ref, kind, s.id, s.name, status=s.status) for s in r.servers]
    return [
        ActionTarget(ref, kind, x.id, x.name, ha=x.ha, hosted_by=tuple(x.bindings) or None)
        for x in r.routers
    ]


ACTION_STEP = st.tuples(
    st.just("action"),
    st.sampled_from(sorted(ACTIONS)),
    st.sampled_from(["RegionOne", "RegionTwo", "RegionThree"]),
    st.integers(min_value=0, max_value=60),
    st.fixed_dictionaries(
        {
            "reason": st.one_of(st.text(min_size=1, max_size=40), st.just("")),
            "from_agent": st.integers(0, 20).map(str),
            "to_agent": st.integers(0, 20).map(str),
        }
    ),
)
RAW_STEP = st.tuples(
    st.just("raw"),
    st.sampled_from(["POST", "PUT", "PATCH", "DELETE"]),
    st.sampled_from(["compute", "network", "placement", "volume"]),
    st.sampled_from(["/os-services/x", "/v2.0/agents/x", "/servers/x/action", "/"]),
)


async def attempt(h: Harness, step: tuple[Any, ...]) -> str:
    """One attempt, by the runner or straight at the client; how it ended."""
    if step[0] == "raw":
        _, method, service, path = step
        session = h.connection.regions[0]
        with pytest.raises(ReadOnlyRefused):
            await session.client.request(method, service, path, body={})
        return "refused by the client"
    _, name, region, index, params = step
    action = ACTIONS[name]
    targets = targets_in(h.world, region, action.applies_to)
    target = targets[index % len(targets)]
    assert h.runner.offered(target) == []
    params = {k: v for k, v in params.items() if k in {p.name for p in action.params}}
    if action.applies_to == TargetKind.ROUTER and "from_agent" in params:
        agents = list(target.hosted_by or ("none",))
        params = {**params, "from_agent": agents[int(params["from_agent"]) % len(agents)]}
    try:
        plan = h.runner.plan(action, target, params)
    except PlanError:
        return "not planned"
    outcome = await h.runner.run(plan)
    assert outcome.result == Result.REFUSED, outcome.message
    assert all(s.state == StepState.NOT_SENT for s in outcome.steps)
    return "refused by the runner"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.one_of(ACTION_STEP, RAW_STEP), max_size=12))
def test_no_mutating_request_ever_arrives_in_readonly_mode(
    harness: Harness, steps: list[tuple[Any, ...]]
) -> None:
    world = harness.world
    since, before = len(world.requests), state_of(world)
    lines_before = len(audit_lines(harness.audit))
    endings = [harness.run(attempt(harness, step)) for step in steps]
    for ending in endings:
        event(ending)
    assert mutations(world, since) == []
    assert state_of(world) == before
    refused = endings.count("refused by the runner")
    new_lines = audit_lines(harness.audit)[lines_before:]
    assert len(new_lines) == refused
    assert all(line["result"] == "refused" for line in new_lines)


async def test_when_keystone_fails_nothing_is_sent_and_readonly_still_refuses(
    world: World,
    connection: Connection,
    readonly_connection: Connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refused() -> Any:
        raise AuthError("cloud 'osconsole-sim': the credentials were refused (401)")

    audit = tmp_path / "audit.jsonl"
    server = first_server(world, "ACTIVE")
    outcomes = []
    for conn in (connection, readonly_connection):
        session = session_of(conn)
        target = await live_server(session, server.id)
        runner = ActionRunner(AuditLog(audit), conn.regions)
        plan = runner.plan("server-pause", target)
        monkeypatch.setattr(session.auth, "access", refused)
        since = len(world.requests)
        outcomes.append(await runner.run(plan))
        assert world.requests[since:] == []
    assert [o.result for o in outcomes] == [Result.FAILED, Result.REFUSED]
    assert "cannot authenticate" in outcomes[0].message and "401" in outcomes[0].message
    assert [(line["result"], line["user"]["name"]) for line in audit_lines(audit)] == [
        ("failed", ""),
        ("refused", ""),
    ]
    assert server.vm_state == "active"
