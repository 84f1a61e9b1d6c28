"""The audit log: one JSON line per attempt, private to its owner, never a secret."""

from __future__ import annotations

import json
import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from osconsole.actions import ActionRunner, Result
from osconsole.audit import AuditEntry, AuditLog, audit_path, scrubbed
from osconsole.cloud.connect import Connection
from osconsole.sim.world import World
from tests.test_actions import first_server, live_server, session_of


def entry(**changes: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "cloud": "prod",
        "region": "RegionOne",
        "user_name": "alice",
        "user_id": "a" * 32,
        "project_id": "p" * 32,
        "action": "server-lock",
        "dangerous": True,
        "target_kind": "server",
        "target_id": "0b4e-1",
        "target_name": "web-1",
        "params": {"reason": "abuse"},
        "requests": ({"method": "POST", "path": "/servers/0b4e-1/action", "body": {"lock": None}},),
        "allowed": True,
        "result": "succeeded",
        "message": "Lock server: done",
        "time": datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC),
    }
    return AuditEntry(**{**fields, **changes})


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in path.read_text().splitlines()]


def test_the_default_file_is_in_the_xdg_state_dir(tmp_path: Path) -> None:
    env = {"XDG_STATE_HOME": str(tmp_path)}
    assert audit_path(env) == tmp_path / "osconsole" / "audit.jsonl"
    log = AuditLog(env=env)
    log.append(entry())
    assert (tmp_path / "osconsole" / "audit.jsonl").exists()


def test_a_line_has_every_field(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    written = log.append(entry())
    (line,) = lines(log.path)
    assert line == written
    assert line == {
        "time": "2025-03-04T05:06:07.890Z",
        "cloud": "prod",
        "region": "RegionOne",
        "user": {"name": "alice", "id": "a" * 32, "project_id": "p" * 32},
        "action": "server-lock",
        "dangerous": True,
        "target": {"kind": "server", "id": "0b4e-1", "name": "web-1"},
        "params": {"reason": "abuse"},
        "requests": [{"method": "POST", "path": "/servers/0b4e-1/action", "body": {"lock": None}}],
        "readonly": False,
        "allowed": True,
        "result": "succeeded",
        "message": "Lock server: done",
    }
    assert log.entries(last=1) == [line]


def test_the_file_is_created_private_and_narrowed_if_it_was_not(tmp_path: Path) -> None:
    path = tmp_path / "new" / "audit.jsonl"
    AuditLog(path).append(entry())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loose = tmp_path / "loose.jsonl"
    loose.write_text("")
    os.chmod(loose, 0o644)
    AuditLog(loose).append(entry())
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600


def test_appends_keep_earlier_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(entry(result="refused", allowed=False))
    log.append(entry(result="failed"))
    assert [line["result"] for line in lines(log.path)] == ["refused", "failed"]


def test_an_unknown_result_is_a_bug(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="audit result"):
        AuditLog(tmp_path / "audit.jsonl").append(entry(result="ok"))


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    """Two logs on one file (two consoles) from many threads: every line whole."""
    path = tmp_path / "audit.jsonl"
    logs = [AuditLog(path), AuditLog(path)]
    reason = "x" * 5000  # more than PIPE_BUF: only O_APPEND and one write keep it whole

    def write(worker: int) -> None:
        for n in range(100):
            logs[worker % 2].append(entry(target_id=f"{worker}-{n}", params={"reason": reason}))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = lines(path)  # raises if any line were torn
    assert len(written) == 800
    assert {line["target"]["id"] for line in written} == {
        f"{w}-{n}" for w in range(8) for n in range(100)
    }


def test_secrets_are_scrubbed_from_every_value(tmp_path: Path) -> None:
    fernet = "gAAAAABl" + "Q" * 120
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(
        entry(
            params={"reason": "token=abc123secret pasted by mistake", "password": "hunter2"},
            message=f"X-Auth-Token: deadbeefcafe and {fernet}",
            target_name="the-session-token-0123456789abcdef",
        ),
        secrets=("0123456789abcdef",),
    )
    text = log.path.read_text()
    for secret in ("abc123secret", "hunter2", "deadbeefcafe", fernet, "0123456789abcdef"):
        assert secret not in text
    (line,) = lines(log.path)
    assert line["params"] == {"reason": "token=*** pasted by mistake", "password": "***"}
    assert line["target"]["name"] == "the-session-token-***"


def test_scrubbed_leaves_ordinary_values_alone() -> None:
    value = {"a": ["reason: DIMM errors", 3, None, True], "b": {"c": "fine"}}
    assert scrubbed(value) == {"a": ["reason: DIMM errors", 3, None, True], "b": {"c": "fine"}}


async def test_a_token_in_a_lock_reason_never_reaches_the_audit_log(
    world: World, connection: Connection, tmp_path: Path
) -> None:
    session = session_of(connection)
    token = (await session.auth.access()).token
    log = AuditLog(tmp_path / "audit.jsonl")
    runner = ActionRunner(log, connection.regions)
    server = first_server(world, "ACTIVE")
    target = await live_server(session, server.id)
    reason = f"token={token} and again {token}"
    outcome = await runner.run(runner.plan("server-lock", target, {"reason": reason}))
    assert outcome.ok
    text = log.path.read_text()
    assert token not in text
    (line,) = lines(log.path)
    assert line["params"]["reason"] == "token=*** and again ***"
    assert line["requests"][0]["body"] == {"lock": {"locked_reason": "token=*** and again ***"}}


async def test_no_change_is_made_when_the_audit_log_cannot_be_written(
    world: World, connection: Connection, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    runner = ActionRunner(AuditLog(blocker / "audit.jsonl"), connection.regions)
    session = session_of(connection)
    server = first_server(world, "ACTIVE")
    plan = runner.plan("server-pause", await live_server(session, server.id))
    since = len(world.requests)
    outcome = await runner.run(plan)
    assert outcome.result == Result.REFUSED and "audit log" in outcome.message
    assert outcome.audit is None and outcome.repoll == ()
    assert [r for r in world.requests[since:] if r.method != "GET"] == []
    assert server.vm_state == "active"
