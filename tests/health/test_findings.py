"""The tracker's state machine (debounce, hold, clear, re-arm, acknowledge), the history,
`evaluate` over snapshots, and the tenant-spoofing scenario from poll to finding.

`Watch` (also used by the other scenario tests) polls the simulated cloud in process
the way the poller does, one collector per kind, on the world's stepped clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from osconsole.cloud.http import RegionClient
from osconsole.collect.base import SweepBudget
from osconsole.collect.registry import COLLECTORS
from osconsole.config import Settings, Thresholds
from osconsole.events import Event, EventKind, Timeline
from osconsole.health.assess import assess, assess_once
from osconsole.health.findings import (
    Condition,
    Coverage,
    Finding,
    History,
    Look,
    Severity,
    Subject,
    Tracker,
    Update,
    counts,
    finding_key,
    observed_time,
)
from osconsole.health.rules import (
    TENANT_SCORE,
    tenant_conditions,
    tenant_severity,
)
from osconsole.health.rules import look as look_at
from osconsole.model import Agent, Kind, RegionRef, Snapshot, TenantSignals
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import World
from tests.conftest import T0

REF = RegionRef("cloud", "RegionOne")
OTHER = RegionRef("cloud", "RegionTwo")


# -- polling the simulator ------------------------------------------------------------------


class Watch:
    """Polls one region of the simulated cloud in process, kind by kind, and keeps the
    tracker's updates and the timeline's events, as the console would."""

    def __init__(
        self,
        world: World,
        client: RegionClient,
        kinds: Iterable[Kind],
        thresholds: Thresholds | None = None,
    ) -> None:
        self.world = world
        settings = Settings(thresholds=thresholds or Thresholds())
        self.collectors = {
            kind: COLLECTORS[kind](client, settings, SweepBudget(None), clock=world.now)
            for kind in kinds
        }
        self.latest: dict[Kind, Snapshot[Any]] = {}
        self.tracker = Tracker(settings.thresholds)
        self.timeline = Timeline(settings.thresholds)
        self.updates: list[tuple[float, Update]] = []

    async def poll(self) -> Update:
        for kind, collector in self.collectors.items():
            snap = await collector.poll(self.latest.get(kind))
            assert not snap.error, snap.error
            self.timeline.observe(snap)
            self.latest[kind] = snap
        update = assess(self.latest.values(), self.tracker)
        self.updates.append((self.world.now() - T0, update))
        return update

    async def step(self, seconds: float) -> Update:
        self.world.clock.step(seconds)
        return await self.poll()

    async def run(self, until: float, every: float = 30.0) -> None:
        """Poll every `every` seconds until `until` seconds after T0."""
        while self.world.now() - T0 < until:
            await self.step(every)

    def findings(self, rule: str) -> list[Finding]:
        return [f for f in self.tracker.findings() if f.rule == rule]

    def raised(self, rule: str) -> list[tuple[float, Finding]]:
        """(seconds after T0, finding) of every raise of `rule`, in order."""
        return [(t, f) for t, u in self.updates for f in u.raised if f.rule == rule]

    def cleared(self, rule: str) -> list[tuple[float, Finding]]:
        return [(t, f) for t, u in self.updates for f in u.cleared if f.rule == rule]

    def events(self, *kinds: EventKind) -> list[Event]:
        return [e for e in self.timeline.events if not kinds or e.kind in kinds]


# -- the tracker ------------------------------------------------------------------------------


def subject(item: str = "r1", ref: RegionRef = REF, kind: Kind = Kind.ROUTERS) -> Subject:
    return Subject(ref, kind, item, f"name-{item}")


def cond(
    at: float,
    item: str = "r1",
    *,
    rule: str = "router.split_brain",
    severity: Severity = Severity.CRITICAL,
    reason: str = "router r1 is active on 2 agents: net01, net02 (split brain)",
    debounce: float = 60.0,
    essence: str | None = None,
    ref: RegionRef = REF,
) -> Condition:
    return Condition(rule, severity, subject(item, ref), reason, at, debounce, essence)


def look(
    at: float,
    *conditions: Condition,
    scopes: Iterable[tuple[RegionRef, Kind]] = ((REF, Kind.ROUTERS),),
    ids: frozenset[str] | None = None,
) -> Look:
    return Look(conditions, {scope: Coverage(at, ids) for scope in scopes})


def test_a_condition_becomes_a_finding_only_after_its_debounce_with_its_first_sighting() -> None:
    tracker = Tracker()
    assert tracker.update(look(1000, cond(1000))).findings == ()
    assert [c.key for c in tracker.pending()] == [finding_key("router.split_brain", subject())]
    assert tracker.update(look(1030, cond(1030))).findings == ()
    update = tracker.update(look(1060, cond(1060)))
    assert [(f.since, f.last_seen, f.acknowledged) for f in update.findings] == [
        (1000, 1060, False)
    ]
    assert update.raised == update.findings
    again = tracker.update(look(1090, cond(1090)))
    assert again.raised == () and again.findings[0].since == 1000
    assert again.findings[0].key == "router.split_brain@cloud/RegionOne/routers/r1"


def test_a_gap_resets_the_debounce() -> None:
    tracker = Tracker()
    tracker.update(look(1000, cond(1000)))
    tracker.update(look(1050))  # gone on a fresh look: the wait starts over
    tracker.update(look(1080, cond(1080)))
    assert tracker.update(look(1110, cond(1110))).findings == ()
    assert tracker.update(look(1140, cond(1140))).findings[0].since == 1080


def test_an_immediate_condition_is_a_finding_at_once_and_clears_at_once() -> None:
    tracker = Tracker()
    down = cond(1000, rule="agent.down", debounce=0.0, reason="L3 agent on net01 is dead")
    update = tracker.update(look(1000, down))
    assert [f.reason for f in update.raised] == ["L3 agent on net01 is dead"]
    cleared = tracker.update(look(1030))
    assert cleared.findings == () and [f.since for f in cleared.cleared] == [1000]
    back = tracker.update(look(1040, replace(down, observed_at=1040)))
    assert back.findings[0].since == 1040  # a new occurrence


def test_a_cleared_finding_that_returns_within_its_debounce_comes_back_at_once() -> None:
    tracker = Tracker()
    for t in (1000, 1030, 1060):
        tracker.update(look(t, cond(t)))
    cleared = tracker.update(look(1090))
    assert [f.since for f in cleared.cleared] == [1000] and cleared.findings == ()
    back = tracker.update(look(1120, cond(1120)))  # 30 s later, within 60 s: no new wait
    assert [(f.since, f.last_seen) for f in back.raised] == [(1000, 1120)]
    tracker.update(look(1150))
    late = tracker.update(look(1300, cond(1300)))  # long after: a new condition, a new wait
    assert late.findings == () and late.raised == ()


def test_stale_data_neither_raises_nor_clears() -> None:
    tracker = Tracker()
    for t in (1000, 1060):
        tracker.update(look(t, cond(t)))
    assert len(tracker.findings()) == 1
    # The routers scope is stale: not in the fresh set. Its conditions are ignored ...
    stale = tracker.update(look(1090, cond(1090, "r2"), scopes=[(REF, Kind.AGENTS)]))
    assert stale.cleared == () and [f.subject.id for f in stale.findings] == ["r1"]
    assert tracker.pending() == ()
    # ... and a region with no data at all holds its findings too.
    other = tracker.update(look(1100, scopes=[(OTHER, Kind.ROUTERS)]))
    assert [f.last_seen for f in other.findings] == [1060]


def test_a_partial_snapshot_clears_only_what_it_read() -> None:
    tracker = Tracker()
    for t in (1000, 1060):
        tracker.update(look(t, cond(t, "r1"), cond(t, "r2")))
    assert len(tracker.findings()) == 2
    update = tracker.update(look(1090, ids=frozenset({"r1"})))
    assert [f.subject.id for f in update.cleared] == ["r1"]
    assert [f.subject.id for f in update.findings] == ["r2"]


def test_a_finding_whose_subject_was_not_read_stays_open_unconfirmed() -> None:
    tracker = Tracker()
    for t in (1000, 1060):
        tracker.update(look(t, cond(t)))
    assert [f.confirmed for f in tracker.findings()] == [True]
    # Its kind's poll failed (the scope is stale: not fresh) ...
    held = tracker.update(look(1090, scopes=[(REF, Kind.AGENTS)]))
    assert held.cleared == () and held.raised == ()
    assert [(f.subject.id, f.confirmed, f.last_seen) for f in held.findings] == [
        ("r1", False, 1060)
    ]
    assert held.findings[0].as_dict()["confirmed"] is False
    # ... then a partial look that did not read it: still held, still unconfirmed ...
    partial = tracker.update(look(1120, ids=frozenset({"r2"})))
    assert [(f.subject.id, f.confirmed) for f in partial.findings] == [("r1", False)]
    # ... seen again: confirmed, with its first sighting; a full look without it clears.
    seen = tracker.update(look(1150, cond(1150)))
    assert [(f.confirmed, f.since, f.last_seen) for f in seen.findings] == [(True, 1000, 1150)]
    assert seen.raised == ()  # held all along: nothing new to ring for
    assert [f.subject.id for f in tracker.update(look(1180)).cleared] == ["r1"]


def test_a_look_that_read_a_subject_in_part_cannot_weaken_its_finding() -> None:
    tracker = Tracker()
    critical = cond(1000, debounce=0.0, reason="scores 60: spoofing; open ingress")
    tracker.update(look(1000, critical))
    # Its spoofing ports were not read: what is left scores a warning. Held, unconfirmed.
    weaker = replace(critical, severity=Severity.WARNING, reason="scores 20", observed_at=1030)
    held = tracker.update(look(1030, weaker, ids=frozenset()))
    assert [(f.severity, f.reason, f.confirmed) for f in held.findings] == [
        (Severity.CRITICAL, "scores 60: spoofing; open ingress", False)
    ]
    # Read in full, the warning is the truth.
    full = tracker.update(look(1060, replace(weaker, observed_at=1060)))
    assert [(f.severity, f.confirmed) for f in full.findings] == [(Severity.WARNING, True)]


def test_an_older_look_changes_nothing() -> None:
    tracker = Tracker()
    for t in (1000, 1060):
        tracker.update(look(t, cond(t)))
    assert tracker.update(look(900)).cleared == ()
    assert tracker.findings()[0].last_seen == 1060


def test_acknowledged_findings_stay_quiet_until_they_change() -> None:
    tracker = Tracker()
    late = dict(rule="agent.heartbeat_late", severity=Severity.WARNING, debounce=0.0)
    first = cond(1000, reason="net01: heartbeat late, last one 50s ago", essence="late", **late)
    key = first.key
    assert not tracker.acknowledge(key)  # nothing to acknowledge yet
    tracker.update(look(1000, first))
    assert tracker.acknowledge(key) and tracker.findings()[0].acknowledged
    moved = cond(1010, reason="net01: heartbeat late, last one 60s ago", essence="late", **late)
    update = tracker.update(look(1010, moved))
    assert update.raised == () and update.findings[0].acknowledged  # the age moved: same essence
    assert update.findings[0].reason.endswith("60s ago")
    worse = replace(moved, observed_at=1020, severity=Severity.CRITICAL)
    update = tracker.update(look(1020, worse))
    assert not update.findings[0].acknowledged and [f.key for f in update.raised] == [key]
    tracker.acknowledge(key)
    other = replace(worse, observed_at=1030, essence="something else")
    assert not tracker.update(look(1030, other)).findings[0].acknowledged
    assert tracker.acknowledge(key) and tracker.unacknowledge(key)
    assert not tracker.unacknowledge(key)


def test_findings_sort_unacknowledged_then_worst_then_newest_and_count() -> None:
    tracker = Tracker()
    info = cond(1000, "a", rule="agent.admin_down", severity=Severity.INFO, debounce=0)
    crit_old = cond(1000, "b", rule="agent.down", debounce=0)
    crit_new = cond(1010, "c", rule="agent.down", debounce=0)
    warn = cond(1010, "d", rule="agent.heartbeat_late", severity=Severity.WARNING, debounce=0)
    tracker.update(look(1000, info, crit_old))
    tracker.update(look(1010, info, crit_old, crit_new, warn))
    tracker.acknowledge(crit_new.key)
    order = [(f.subject.id, f.acknowledged) for f in tracker.findings()]
    assert order == [("b", False), ("d", False), ("a", False), ("c", True)]
    assert counts(tracker.findings()) == {
        Severity.CRITICAL: 1,
        Severity.WARNING: 1,
        Severity.INFO: 1,
    }
    assert counts(tracker.findings(), acknowledged=True)[Severity.CRITICAL] == 2
    as_dict = tracker.findings()[0].as_dict()
    assert as_dict["severity"] == "critical" and as_dict["subject"]["region"] == "RegionOne"
    assert as_dict["since"] == 1000 and as_dict["rule"] == "agent.down"


# -- history ----------------------------------------------------------------------------------


def test_history_counts_transitions_and_restarts_in_its_window() -> None:
    history = History(window=100)
    history.observe("a", 0, True, started_at=-50)
    history.observe("a", 10, False, started_at=-50)
    history.observe("a", 10, True, started_at=-50)  # the same moment again: ignored
    history.observe("a", 5, True)  # an older look: ignored
    history.observe("a", 20, True, started_at=20)
    history.observe("a", 30, True, started_at=None)  # unknown: not a restart
    assert history.transitions("a", 30) == (10, 20)
    assert history.restarts("a", 30) == ((20, 20),)
    assert history.transitions("a", 115) == (20,)  # 10 fell out of the window
    assert history.transitions("unknown", 30) == ()
    history.observe("b", 0, True)
    history.retain("", ["a"])
    assert len(history) == 1


# -- evaluate over snapshots ------------------------------------------------------------------


def agent(agent_id: str = "a1", *, alive: bool = True, started_at: float = 100.0) -> Agent:
    return Agent(
        id=agent_id,
        agent_type="DHCP agent",
        binary="neutron-dhcp-agent",
        host="net01",
        alive=alive,
        admin_state_up=True,
        heartbeat_at=None,
        heartbeat_age=5.0,
        started_at=started_at,
    )


def agents_snap(at: float, *agents: Agent, stale: bool = False) -> Snapshot[Agent]:
    return Snapshot(
        REF,
        Kind.AGENTS,
        Snapshot.freeze({a.id: a for a in agents}),
        fetched_at=at + 0.5,
        server_time=at,
        stale=stale,
    )


def test_evaluate_raises_flapping_after_n_transitions_and_ignores_stale_repeats() -> None:
    tracker = Tracker(Thresholds(flap_transitions=3, flap_window_s=900))
    states = [True, False, True, True, False]
    for i, alive in enumerate(states):
        snap = agents_snap(1000 + 60 * i, agent(alive=alive))
        update = assess([snap], tracker)
        # The same snapshot again, and a stale copy, add nothing.
        assert assess([snap], tracker).raised == ()
        assess([replace(snap, stale=True)], tracker)
    flapping = [f for f in update.findings if f.rule == "agent.flapping"]
    assert [(f.severity, f.since) for f in flapping] == [(Severity.WARNING, 1240)]
    assert (
        flapping[0].reason == "DHCP agent on net01 is flapping: 3 up/down changes in the last 15m"
    )


def test_evaluate_notices_a_restart_and_forgets_it_after_the_window() -> None:
    tracker = Tracker(Thresholds(flap_window_s=300))
    assess([agents_snap(1000, agent(started_at=100))], tracker)
    update = assess([agents_snap(1030, agent(started_at=1020))], tracker)
    restarted = [f for f in update.raised if f.rule == "agent.restarted"]
    assert [(f.severity, f.since) for f in restarted] == [(Severity.INFO, 1030)]
    assert restarted[0].reason == "DHCP agent on net01 restarted at " + _utc(1020) + (
        " (started_at changed)"
    )
    later = assess([agents_snap(1400, agent(started_at=1020))], tracker)
    assert [f.rule for f in later.cleared] == ["agent.restarted"]


def _utc(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")


def test_evaluate_with_no_snapshots_or_only_empty_regions_finds_nothing() -> None:
    tracker = Tracker()
    assert assess([], tracker).findings == ()
    empty = Snapshot(REF, Kind.ROUTERS, Snapshot.freeze({}), fetched_at=1.0, complete=False)
    assert assess([empty, agents_snap(5)], tracker).findings == ()
    first_failure = Snapshot(
        OTHER, Kind.HYPERVISORS, Snapshot.freeze({}), 1.0, error="HTTP 503", stale=True
    )
    assert look_at([first_failure]).fresh == {}


def test_evaluate_neither_raises_nor_clears_from_a_stale_snapshot() -> None:
    tracker = Tracker()
    assess([agents_snap(1000, agent("a1", alive=False))], tracker)
    assert [f.subject.id for f in tracker.findings()] == ["a1"]
    # A failed poll: the poller keeps the last items, marked stale. Even items that
    # would say otherwise (a recorder replaying a stale snapshot) change nothing.
    stale = agents_snap(1030, agent("a1"), agent("a2", alive=False), stale=True)
    update = assess([stale], tracker)
    assert update.cleared == ()
    # Only the region's own finding is new: its APIs stopped answering.
    assert [f.rule for f in update.raised] == ["region.unreachable"]
    held = [f for f in update.findings if f.subject.kind == Kind.AGENTS]
    assert [(f.subject.id, f.last_seen) for f in held] == [("a1", 1000)]
    fresh = assess([agents_snap(1060, agent("a1"), agent("a2", alive=False))], tracker)
    assert [f.subject.id for f in fresh.cleared] == ["a1", "RegionOne"]  # it answers again
    assert [(f.subject.id, f.since) for f in fresh.raised] == [("a2", 1060)]


def test_observed_time_prefers_the_server_clock() -> None:
    assert observed_time(agents_snap(1000)) == 1000
    assert observed_time(replace(agents_snap(1000), server_time=None)) == 1000.5


def test_findings_now_reports_everything_seen_in_one_look() -> None:
    dead = agents_snap(1000, agent(alive=False))
    found = assess_once([dead], Tracker()).findings
    assert [(f.rule, f.since) for f in found] == [("agent.down", 1000)]


# -- tenants ----------------------------------------------------------------------------------


def tenants_snap(ref: RegionRef, *signals: TenantSignals) -> Snapshot[TenantSignals]:
    items = Snapshot.freeze({s.project_id: s for s in signals})
    return Snapshot(ref, Kind.TENANTS, items, fetched_at=2000, server_time=2000)


def project(pid: str, **facts: Any) -> TenantSignals:
    return TenantSignals(project_id=pid, project_name=f"proj-{pid}", **facts)


def test_tenant_findings_keep_the_top_n_across_regions_with_severity_by_score() -> None:
    spoofer = project("p1", spoofing_ports=("x", "y", "z"), error_servers=("s1",))  # 55
    opener = project("p2", open_ingress_rules=("r",), open_ingress_ports=(22,))  # 20
    failing = project("p3", error_servers=("s2",))  # 5
    calm = project("p4", servers=10)  # 0
    snaps = [tenants_snap(REF, spoofer, calm), tenants_snap(OTHER, opener, failing)]
    found = tenant_conditions(snaps, Thresholds(top_tenants=2))
    assert [(c.subject.id, c.subject.region, c.severity) for c in found] == [
        ("p1", "RegionOne", Severity.CRITICAL),
        ("p2", "RegionTwo", Severity.WARNING),
    ]
    assert found[0].reason == (
        "project proj-p1 scores 55: 3 ports allow spoofing (0.0.0.0/0 address pairs or port "
        "security off); 1 server in ERROR"
    )
    everyone = tenant_conditions(snaps, Thresholds())
    assert [(c.subject.id, c.severity) for c in everyone][-1] == ("p3", Severity.INFO)
    assert [tenant_severity(p) for p in (0, 5, 20, 49.9, 50)] == [
        Severity.OK,
        Severity.INFO,
        Severity.WARNING,
        Severity.WARNING,
        Severity.CRITICAL,
    ]


def test_a_tenant_finding_stays_acknowledged_while_only_counts_move() -> None:
    tracker = Tracker()
    first = project("p1", spoofing_ports=("x",), error_servers=("s1",))
    assess([tenants_snap(REF, first)], tracker)
    key = tracker.findings()[0].key
    tracker.acknowledge(key)
    more_errors = project("p1", spoofing_ports=("x",), error_servers=("s1", "s2"))
    snap = replace(tenants_snap(REF, more_errors), fetched_at=2100, server_time=2100)
    assert assess([snap], tracker).findings[0].acknowledged
    opened = project(
        "p1",
        spoofing_ports=("x",),
        error_servers=("s1",),
        open_ingress_ports=(22,),
        open_ingress_rules=("r",),
    )
    snap = replace(tenants_snap(REF, opened), fetched_at=2200, server_time=2200)
    update = assess([snap], tracker)
    assert not update.findings[0].acknowledged  # a new kind of reason: attention again
    assert update.findings[0].rule == TENANT_SCORE


def test_a_tenant_finding_does_not_vanish_when_its_spoofing_ports_are_not_read() -> None:
    tracker = Tracker()
    spoofer = project("p1", spoofing_ports=("x", "y", "z"))  # 50: critical
    assess([tenants_snap(REF, spoofer)], tracker)
    assert [(f.subject.id, f.severity) for f in tracker.findings()] == [("p1", Severity.CRITICAL)]
    unknown = project("p1", spoofing_ports=None)  # the ports listing did not answer
    snap = replace(
        tenants_snap(REF, unknown),
        fetched_at=2100,
        server_time=2100,
        complete=False,
        partly_read=frozenset({"p1"}),
    )
    update = assess([snap], tracker)
    assert update.cleared == ()
    assert [(f.subject.id, f.severity, f.confirmed) for f in update.findings] == [
        ("p1", Severity.CRITICAL, False)
    ]


def test_a_tenant_condition_says_which_signals_were_not_read() -> None:
    opener = project("p2", open_ingress_rules=("r",), open_ingress_ports=(22,), spoofing_ports=None)
    (found,) = tenant_conditions([tenants_snap(REF, opener)], Thresholds())
    assert found.reason == (
        "project proj-p2 scores 20: ingress from 0.0.0.0/0 to 22 (not read: spoofing ports)"
    )


async def test_tenant_spoofing_scenario_raises_a_critical_tenant_finding(
    world: World, region_one: RegionClient
) -> None:
    watch = Watch(world, region_one, [Kind.TENANTS])
    await watch.poll()
    assert not [f for f in watch.tracker.findings() if f.severity == Severity.CRITICAL]
    before = {f.subject.id for f in watch.findings(TENANT_SCORE)}
    start_scenario(world, "tenant-spoofing", region="RegionOne")
    await watch.step(20)  # spoofing port, port security off, 22 and 3389 open, churn begun
    project_id = next(iter(_spoofing_projects(world)))
    name = world.projects.get(project_id).name  # type: ignore[union-attr]
    assert project_id not in before
    found = [f for f in watch.findings(TENANT_SCORE) if f.subject.id == project_id]
    assert len(found) == 1
    finding = found[0]
    assert finding.severity == Severity.CRITICAL and finding.since == T0 + 20
    assert finding.subject.name == name
    assert finding.reason.startswith(f"project {name} scores ")
    assert "2 ports allow spoofing (0.0.0.0/0 address pairs or port security off)" in (
        finding.reason
    )
    assert "ingress from 0.0.0.0/0 to 22, 3389" in finding.reason
    jumps = watch.events(EventKind.TENANT_SCORE_JUMP)
    assert [(e.subject.id, e.time) for e in jumps] == [(project_id, T0 + 20)]
    assert "score rose from" in jumps[0].description
    assert "allow spoofing" in jumps[0].description
    # Churned servers live 12-16 s: polls every 10 s see each one that landed in ERROR.
    await watch.run(until=150, every=10)
    errors = watch.events(EventKind.SERVER_ERROR)
    region = world.regions["RegionOne"]
    failed = {
        s.id
        for s in region.servers
        if s.project_id == project_id and "-churn-" in s.name and s.host is None
    }
    reported = {sid for e in errors for sid in _ids_in(e.description, failed)}
    assert failed and reported == failed
    assert all(e.subject.id == project_id and e.severity == Severity.WARNING for e in errors)
    still = [f for f in watch.findings(TENANT_SCORE) if f.subject.id == project_id]
    assert [(f.since, f.severity) for f in still] == [(T0 + 20, Severity.CRITICAL)]  # all along


def _spoofing_projects(world: World) -> set[str]:
    region = world.regions["RegionOne"]
    return {
        p.project_id
        for p in region.ports
        if any(pair["ip_address"] == "0.0.0.0/0" for pair in p.allowed_address_pairs)
    }


def _ids_in(text: str, ids: set[str]) -> set[str]:
    return {i for i in ids if i in text}
