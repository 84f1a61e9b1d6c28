"""The region drill-down: opened from the region strip (and by name), its sections
from the console's own figures, Esc back; the strip's control-plane word; and what
it looks like at 80x24 and 200x50 with fixed figures."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Sparkline

from osconsole.availability import MINUTE, Point, RequestHistory
from osconsole.config import Thresholds
from osconsole.health.assess import assess
from osconsole.health.findings import Tracker
from osconsole.health.plane import PlaneLook, strip_words
from osconsole.leadtimes import LeadTimes
from osconsole.model import RegionRef
from osconsole.probes.base import OK, UNREACHABLE, ProbeResult
from osconsole.tui.app import ConsoleApp
from osconsole.tui.dashboard import DashboardScreen
from osconsole.tui.region import (
    RegionFigures,
    RegionScreen,
    find_region,
    probe_figures,
    trend,
)
from osconsole.widgets.region_strip import RegionStrip, strip_lines
from tests.tui.fixtures import APP_NOW, CLOUD, fixed_console, load_fixed_world, wait_for

REF = RegionRef(CLOUD, "RegionOne")
HOSTILE = "[b]evil[/b] \x1b[31mqueue"


async def test_enter_on_the_strip_opens_the_region_and_esc_comes_back(console: ConsoleApp) -> None:
    async with console.run_test(size=(120, 40)) as pilot:
        strip = console.screen.query_one("#regions", RegionStrip)
        await wait_for(pilot, lambda: len(strip.statuses) == 3 and console.findings is not None,
                       what="three regions in the strip")  # fmt: skip
        await wait_for(pilot, lambda: console.state.first_poll_progress[0] >= 15, 30,
                       what="the first poll")  # fmt: skip
        await pilot.press("g", "right", "enter")
        await wait_for(pilot, lambda: isinstance(console.screen, RegionScreen), what="drill-down")
        screen = console.screen
        assert isinstance(screen, RegionScreen) and screen.ref.region == "RegionTwo"
        texts = {key: view.text() for key, view in screen.views.items()}
        assert "api-compute" in texts and "5m" in texts["api-compute"]
        assert "no probe configured" in texts["probes"]
        assert screen.query(Sparkline)
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(console.screen, DashboardScreen), what="back")
        assert console.open_region("RegionThree")
        await pilot.pause()
        assert isinstance(console.screen, RegionScreen)
        assert console.screen.ref.region == "RegionThree"
        await pilot.press("escape")
        assert not console.open_region("RegionNine")


def test_find_region_by_name_or_cloud_and_name() -> None:
    refs = [RegionRef("a", "R1"), RegionRef("b", "R1"), RegionRef("a", "R2")]
    assert find_region(refs, "R2") == RegionRef("a", "R2")
    assert find_region(refs, "R1") is None  # two clouds have one: ambiguous
    assert find_region(refs, "b/R1") == RegionRef("b", "R1")
    assert find_region(refs, RegionRef("c", "R1")) is None


def test_minutes_without_calls_are_left_out_of_the_trend_not_zero() -> None:
    points = [Point(1, 0, 0, None), Point(2, 4, 1, 120.0), Point(3, 0, 0, None),
              Point(4, 2, 0, 80.0)]  # fmt: skip
    shown = trend(points)
    assert shown.p95_ms == (120.0, 80.0) and shown.failed == (25.0, 0.0)
    assert shown.caption().startswith("2 of 60 min had calls")
    assert trend([Point(1, 0, 0, None)]).caption() == "no call in the last hour"


def test_probe_figures_are_text_and_name_what_is_wrong() -> None:
    rabbit = ProbeResult("rabbitmq", "t", OK, 1.0, {
        "nodes": 3, "nodes_running": 3, "partitions": ["rabbit@b"], "alarms": [],
        "queues": 8, "queues_without_consumers": {HOSTILE: 40}, "unacked": 2})  # fmt: skip
    line = probe_figures("rabbitmq", rabbit)
    assert "partitions rabbit@b" in line and "\x1b" not in line and "1 without consumers" in line
    down = ProbeResult("mysql", "db:3306", UNREACHABLE, 1.0, error="cannot connect (X)")
    assert probe_figures("mysql", down) == "cannot connect (X)"


def test_the_strip_says_the_control_planes_word_and_keeps_that_region_unfolded() -> None:
    probes = {"rabbitmq": ProbeResult("rabbitmq", "t", OK, 1.0, {"partitions": ["rabbit@b"]})}
    update = assess([], Tracker(Thresholds()), [PlaneLook(REF, 1.0, probes=probes)])
    words = strip_words(update.findings)
    assert words == {REF: "rabbitmq PARTITION"}
    from osconsole.views import RegionStatus

    statuses = [RegionStatus(RegionRef(CLOUD, n), "ok", 3.0, {}, {})
                for n in ("RegionOne", "RegionTwo", "RegionThree")]  # fmt: skip
    (line,) = strip_lines(statuses, 50, words=words)
    assert line.plain == "RegionOne ok 3s rabbitmq PARTITION | 2 more ok"
    (line,) = strip_lines(statuses, 70, words=words, selected=statuses[2].ref)
    assert line.plain == "RegionOne ok 3s rabbitmq PARTITION | RegionThree ok 3s | 1 more ok"


# -- what it looks like ---------------------------------------------------------------------


def fixed_figures() -> RegionFigures:
    """An hour of calls to four services (compute failing for a while, network slow),
    a day of boots, three probes (RabbitMQ partitioned, a queue without consumers named
    with markup), and the findings those raise."""
    now = APP_NOW
    clock = [now]
    history = RequestHistory(clock=lambda: clock[0])
    for minute in range(60):
        if minute in (10, 11):
            continue  # two minutes without calls: left out of the sparklines
        for i in range(6):
            clock[0] = now - (59 - minute) * MINUTE + i
            for service, ms in (("compute", 40.0 + minute), ("network", 90.0 + 3 * minute),
                                ("placement", 20.0), ("identity", 15.0)):  # fmt: skip
                failing = service == "compute" and 40 <= minute < 48 and i < 3
                history.record(service, ms + i, 503 if failing else 200, None)
    clock[0] = now
    history.record("network", 30_000.0, 0, "timeout")
    leads = LeadTimes()
    servers = []
    for n in range(30):
        created = now - 20 * 3600 + n * 2400
        took = 30.0 if n < 25 else 240.0
        servers.append({"id": f"s{n}", "created": _iso(created),
                        "OS-SRV-USG:launched_at": _iso(created + took)})  # fmt: skip
    leads.observe(servers, now, full=True)
    summary = leads.summary(now, {}, stuck_after=1800, ports={})
    probes = {
        "rabbitmq": ProbeResult("rabbitmq", "http://rabbit:15672", OK, now, {
            "nodes": 3, "nodes_running": 3, "partitions": ["rabbit@ctl2"], "alarms": [],
            "queues": 8, "queues_without_consumers": {f"/{HOSTILE}": 420}, "unacked": 2}),
        "mysql": ProbeResult("mysql", "db:3306", OK, now, {
            "galera": True, "cluster_size": 2, "expected_cluster_size": 3,
            "cluster_status": "Primary", "local_state": "Synced", "connections": 180,
            "max_connections": 4096}),
        "memcached m:11211": ProbeResult("memcached", "m:11211", UNREACHABLE, now,
                                         error="cannot connect (ConnectionRefusedError)"),
    }  # fmt: skip
    look = PlaneLook(REF, now, probes=probes)
    findings = assess([], Tracker(Thresholds()), [look]).findings
    return RegionFigures(REF, now, history, summary, "from the tenants poll 5s ago",
                         probes, findings)  # fmt: skip


def _iso(ts: float) -> str:
    from osconsole.collect.parse import iso_utc

    return iso_utc(ts)


@pytest.mark.parametrize(
    ("size", "keys"),
    [((80, 24), ()), ((200, 50), ()), ((120, 40), ("end",))],
    ids=["80x24", "200x50", "120x40-end"],
)
def test_the_region_drill_down(
    snap_compare: Any, size: tuple[int, int], keys: tuple[str, ...]
) -> None:
    app = fixed_console()
    figures = fixed_figures()

    async def run_before(pilot: Pilot[Any]) -> None:
        await load_fixed_world(pilot, app)
        app.clear_notifications()  # the fixed world's critical findings, said on arrival
        app.push_screen(RegionScreen(REF, lambda: figures))
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=run_before)
