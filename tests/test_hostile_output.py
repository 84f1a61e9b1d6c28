"""What leaves osconsole (the snapshot table, action outcomes) never carries a control
sequence from the cloud, whatever tenants name their objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from osconsole.actions import ActionRunner, Result, server_target
from osconsole.audit import AuditLog
from osconsole.clean import UNSAFE
from osconsole.cloud.auth import AuthError
from osconsole.cloud.connect import Connection
from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind, RegionRef, Snapshot
from osconsole.report import snapshot_tables
from osconsole.sim.world import World
from osconsole.snapshot import take_snapshot
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config

TITLE_AND_CLEAR = "\x1b]0;TITLE\x07\x1b[2J\x1b[5;1H"
SHOWN = "\\x1b]0;TITLE\\x07\\x1b[2J\\x1b[5;1H"


def assert_inert(text: str) -> None:
    lines = text.splitlines()
    assert not UNSAFE.intersection("".join(lines)), [line for line in lines if UNSAFE & set(line)]


async def test_the_snapshot_table_prints_no_escape_from_hostile_names(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> None:
    """A router, a project and a disabled reason holding a title-setting, screen-clearing
    sequence printed raw ESC in `osconsole snapshot -f table`."""
    region = world.regions["RegionOne"]
    router = next(iter(region.routers))
    router.name = f"r{TITLE_AND_CLEAR}1"
    owner = next(iter(region.servers)).project_id
    next(p for p in world.projects if p.id == owner).name = f"p{TITLE_AND_CLEAR}2"
    service = next(iter(region.hypervisors)).service
    service.disabled, service.disabled_reason = True, f"d{TITLE_AND_CLEAR}3"
    outcome = await take_snapshot(
        Settings(clouds=[CloudSettings(name="osconsole-sim")], request_timeout=2.0),
        kinds=[Kind.HYPERVISORS, Kind.SERVICES, Kind.ROUTERS, Kind.TENANTS],
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )
    assert_inert(outcome.output)
    for shown in (f"r{SHOWN}1", f"p{SHOWN}2", f"d{SHOWN}3"):
        assert shown in outcome.output


def test_table_notes_and_errors_are_inert() -> None:
    snap = Snapshot(
        RegionRef("c", "r"),
        Kind.ROUTERS,
        Snapshot.freeze({}),
        fetched_at=0.0,
        error=f"network: GET /v2.0/routers: HTTP 500: {TITLE_AND_CLEAR}",
        stale=True,
        notes=(f"L3 agents unreadable ({TITLE_AND_CLEAR})",),
    )
    table = snapshot_tables([snap], now=10.0)
    assert_inert(table)
    assert f"HTTP 500: {SHOWN}" in table and f"unreadable ({SHOWN})" in table


def test_a_server_row_names_its_action_target_inertly() -> None:
    body = {"id": "s1", "name": f"vm{TITLE_AND_CLEAR}", "status": "ACTIVE\x07", "locked": False}
    target = server_target(RegionRef("c", "r"), body)
    assert target is not None
    assert target.label() == f"server vm{SHOWN} (s1)"
    assert target.status == "ACTIVE\\x07"


async def test_an_authentication_failure_in_an_action_outcome_is_inert(
    connection: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keystoneauth's message may quote Keystone's answer: the operator sees it inert."""
    session = next(s for s in connection.regions if s.ref.region == "RegionOne")
    runner = ActionRunner(AuditLog(tmp_path / "audit.jsonl"), connection.regions)
    target = server_target(session.ref, {"id": "s1", "name": "vm", "status": "ACTIVE"})
    assert target is not None
    plan = runner.plan("server-pause", target)

    async def refused() -> Any:
        raise AuthError(f"The request you have made requires authentication {TITLE_AND_CLEAR}")

    monkeypatch.setattr(session.auth, "access", refused)
    outcome = await runner.run(plan)
    assert outcome.result is Result.FAILED
    assert SHOWN in outcome.message
    assert_inert(outcome.message)
