"""Lead times from server listings: boots, deletes, stuck, the usual and the hour."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from osconsole.collect.tenants import PortRecord, ServerRecord, parse_port
from osconsole.config import Thresholds
from osconsole.health.leadtimes import BOOT_SLOW, STUCK, lead_time_problems
from osconsole.leadtimes import HOUR, LeadTimes

NOW = 1_700_000_000.0


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def server(
    sid: str, created: float, launched: float | None = None, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": sid, "created": iso(created), "status": "ACTIVE"}
    body["OS-SRV-USG:launched_at"] = None if launched is None else iso(launched)
    body["OS-EXT-STS:task_state"] = None
    body["updated"] = iso(created)
    body.update(fields)
    return body


def test_a_boot_is_created_to_launched_and_counted_once() -> None:
    times = LeadTimes()
    times.observe([server("a", NOW - 100, NOW - 60)], NOW)
    times.observe([server("a", NOW - 100, NOW - 60)], NOW + 10)  # listed again
    summary = times.summary(NOW + 10, {}, 1800)
    assert (summary.boot.count, summary.boot.p50_s, summary.boot.p95_s) == (1, 40.0, 40.0)


def test_servers_not_booted_or_booted_long_ago_are_not_samples() -> None:
    times = LeadTimes()
    times.observe([server("b", NOW - 5, None, status="BUILD")], NOW)
    times.observe([server("old", NOW - 3 * 86400, NOW - 3 * 86400 + 30)], NOW)
    times.observe([{"no": "id"}, "junk"], NOW)
    assert times.summary(NOW, {}, 1800).boot.count == 0


def test_a_delete_is_timed_from_first_seen_deleting_to_terminated() -> None:
    times = LeadTimes()
    deleting = server("d", NOW - 500, NOW - 470, updated=iso(NOW - 20))
    deleting["OS-EXT-STS:task_state"] = "deleting"
    times.observe([deleting], NOW)
    gone = server("d", NOW - 500, NOW - 470, status="DELETED", updated=iso(NOW + 7))
    gone["OS-SRV-USG:terminated_at"] = iso(NOW + 7)
    times.observe([gone], NOW + 10)
    summary = times.summary(NOW + 10, {}, 1800)
    assert (summary.delete.count, summary.delete.p95_s) == (1, 27.0)
    assert times.deleting_since == {}


def test_a_delete_never_seen_deleting_is_not_timed() -> None:
    times = LeadTimes()
    gone = server("e", NOW - 500, NOW - 470, status="DELETED")
    gone["OS-SRV-USG:terminated_at"] = iso(NOW)
    times.observe([gone], NOW)
    assert times.summary(NOW, {}, 1800).delete.count == 0


def test_stuck_boots_and_deletes_and_a_full_listing_forgets_the_vanished() -> None:
    times = LeadTimes()
    deleting = server("f", NOW - 9000, NOW - 8970, updated=iso(NOW - 4000))
    deleting["OS-EXT-STS:task_state"] = "deleting"
    times.observe([deleting], NOW)
    records = {
        "g": ServerRecord("p", "BUILD", "spawning", NOW - 4000, NOW - 4000),
        "h": ServerRecord("p", "BUILD", "spawning", NOW - 60, NOW - 60),
    }
    summary = times.summary(NOW, records, 1800)
    assert (summary.boot.stuck, summary.delete.stuck) == (1, 1)
    assert summary.stuck_boot_ids == ("g",) and summary.stuck_delete_ids == ("f",)
    times.observe([], NOW + 60, full=True)  # gone without a DELETED row
    assert times.summary(NOW + 60, {}, 1800).delete.stuck == 0


def test_usual_is_the_median_before_the_last_hour_and_hours_are_listed() -> None:
    times = LeadTimes()
    bodies = [server(f"u{i}", NOW - 2 * HOUR - i, NOW - 2 * HOUR - i + 30) for i in range(10)]
    bodies += [server(f"s{i}", NOW - 600 - i, NOW - 600 - i + 240) for i in range(4)]
    times.observe(bodies, NOW)
    summary = times.summary(NOW, {}, 1800)
    assert summary.usual_boot_s == 30.0
    assert (summary.boot.count, summary.boot.p95_s) == (4, 240.0)
    assert [h.boot.count for h in summary.hours] == [10, 4]
    (problem,) = lead_time_problems(summary, Thresholds())
    assert problem[1].rule == BOOT_SLOW and "8.0x the usual 30 s" in problem[1].reason
    assert summary.as_dict()["volume_create"] is None


def test_stuck_is_a_problem_and_a_normal_hour_is_not() -> None:
    times = LeadTimes()
    times.observe([server(f"n{i}", NOW - 100 - i, NOW - 70 - i) for i in range(6)], NOW)
    records = {"g": ServerRecord("p", "BUILD", None, NOW - 4000, NOW - 4000)}
    problems = lead_time_problems(times.summary(NOW, records, 1800), Thresholds())
    assert [(what, p.rule) for what, p in problems] == [("boot", STUCK)]
    assert "1 server in BUILD for more than 30 min" in problems[0][1].reason


def test_ports_in_build_too_long_are_stuck_and_unknown_until_listed() -> None:
    body = {"id": "q", "project_id": "p", "status": "BUILD", "updated_at": iso(NOW - 4000)}
    assert parse_port(body) == ("q", PortRecord("p", False, NOW - 4000))
    assert parse_port({**body, "status": "ACTIVE"}) == ("q", PortRecord("p", False, None))
    ports = {
        "q": PortRecord("p", False, NOW - 4000),
        "r": PortRecord("p", False, NOW - 60),  # building, not for long
        "s": PortRecord("p", False, None),
    }
    times = LeadTimes()
    summary = times.summary(NOW, {}, 1800, ports=ports)
    assert (summary.stuck_port_ids, summary.port_stuck, summary.stuck) == (("q",), 1, 1)
    assert summary.as_dict()["port_build"] == {"stuck": 1}
    problems = lead_time_problems(summary, Thresholds())
    assert [(what, p.rule) for what, p in problems] == [("port", STUCK)]
    assert "1 port in BUILD for more than 30 min" in problems[0][1].reason
    unread = times.summary(NOW, {}, 1800)  # no full ports listing yet: unknown, not 0
    assert unread.port_stuck is None and unread.as_dict()["port_build"] is None


def test_the_slow_boots_scenario_goes_from_30_s_to_4_minutes_within_a_demo_cycle() -> None:
    from osconsole.sim.plane_incidents import SlowBoots, slow_boot_durations
    from osconsole.sim.scenarios import DEMO_CYCLE, Plan

    durations = slow_boot_durations()
    assert durations[0] == 30.0 and durations[-1] == 240.0 and durations == sorted(durations)
    incident = SlowBoots(Plan(["R"], "seed", lambda key: False), "R")
    assert 10 + incident.last_offset() < DEMO_CYCLE  # it starts 10 s into the demo
