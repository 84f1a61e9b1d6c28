"""The one judge: one assessment per object, from the tracker's problems.

Each case of issue 9's "What was seen" where the panes and the findings disagreed is
judged here once; tests/test_agree.py then checks that every surface shows it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from osconsole.config import Thresholds
from osconsole.health import routers as rules
from osconsole.health.assess import (
    NOT_SWEPT,
    REGION_STALE,
    REGION_UNREACHABLE,
    STATE_UNKNOWN,
    USAGE_NOT_READ,
    assess,
    assess_once,
    reconcile,
)
from osconsole.health.findings import (
    ACKNOWLEDGED,
    ACTIVE,
    PENDING,
    Memo,
    Problem,
    Severity,
    Tracker,
)
from osconsole.health.routers import router_problems
from osconsole.model import Hypervisor, Kind, RegionRef, Router, Snapshot, TenantSignals
from tests.health.test_liveness import agent, service
from tests.health.test_routers import HEALTHY, bind, router

REF = RegionRef("cloud", "RegionTwo")
T = 1_000_000.0


def snap(kind: Kind, at: float, *items: Any, **extra: Any) -> Snapshot[Any]:
    return Snapshot(
        REF,
        kind,
        Snapshot.freeze({item.id: item for item in items}),
        fetched_at=at,
        server_time=at,
        extra=extra,
    )


def l3_agents(live: int) -> dict[str, dict[str, bool]]:
    return {f"l3-{i}": {"alive": True, "admin_state_up": True} for i in range(live)}


def routers_snap(at: float, *items: Router, live: int = 3) -> Snapshot[Router]:
    return snap(Kind.ROUTERS, at, *items, l3_agents=l3_agents(live))


def hv(**changes: Any) -> Hypervisor:
    base = Hypervisor(
        id="h1",
        hostname="rtwo-cmp00018",
        state="up",
        status="enabled",
        service_host="rtwo-cmp00018",
        running_vms=4,
    )
    return replace(base, **changes)


def severity_of(tracker: Tracker, *snaps: Snapshot[Any], kind: Kind, item: str = "r1") -> Any:
    return assess(snaps, tracker).of(REF, kind, item)


# -- the router cases the two rule sets judged differently -----------------------------


def test_two_replicas_with_three_live_agents_is_pending_then_a_warning() -> None:
    two = router(bind("net01", "active"), bind("net02", "standby"))
    tracker = Tracker()
    first = severity_of(tracker, routers_snap(T, two), kind=Kind.ROUTERS)
    assert first.severity is Severity.OK  # waiting out its debounce: not a finding yet
    [pending] = first.problems
    assert (pending.rule, pending.state, pending.label) == (
        rules.FEW_REPLICAS,
        PENDING,
        "FEW REPLICAS (2)",
    )
    assert pending.fires_at == T + Thresholds().router_debounce_s
    later = severity_of(tracker, routers_snap(T + 60, two), kind=Kind.ROUTERS)
    assert later.severity is Severity.WARNING
    assert [(p.rule, p.state, p.since) for p in later.problems] == [(rules.FEW_REPLICAS, ACTIVE, T)]


def test_one_replica_on_the_only_live_l3_agent_is_ok() -> None:
    alone = router(bind("net01", "active"))
    verdicts = assess_once([routers_snap(T, alone, live=1)], Tracker())
    assert verdicts.of(REF, Kind.ROUTERS, "r1").severity is Severity.OK
    assert verdicts.findings == ()


def test_active_on_a_dead_agent_and_a_live_one_is_a_warning() -> None:
    both = router(
        bind("net01", "active", alive=False), bind("net02", "active"), bind("net03", "standby")
    )
    verdicts = assess_once([routers_snap(T, both)], Tracker())
    judged = verdicts.of(REF, Kind.ROUTERS, "r1")
    assert judged.severity is Severity.WARNING
    assert [p.rule for p in judged.problems] == [rules.ACTIVE_ON_DEAD]
    assert [f.severity for f in verdicts.findings] == [Severity.WARNING]


def test_active_on_an_admin_down_agent_is_a_warning() -> None:
    fenced = router(
        bind("net01", "active", admin=False), bind("net02", "standby"), bind("net03", "standby")
    )
    judged = assess_once([routers_snap(T, fenced)], Tracker()).of(REF, Kind.ROUTERS, "r1")
    assert (judged.severity, [p.label for p in judged.problems]) == (
        Severity.WARNING,
        ["ACTIVE ON ADMIN-DOWN AGENT"],
    )


def test_no_active_after_an_agent_died_is_pending_with_when_it_fires() -> None:
    orphan = router(
        bind("net01", "standby", alive=False), bind("net02", "standby"), bind("net03", "standby")
    )
    tracker = Tracker()
    judged = severity_of(tracker, routers_snap(T, orphan), kind=Kind.ROUTERS)
    assert judged.severity is Severity.OK
    assert [(p.label, p.state, p.fires_at) for p in judged.problems] == [
        ("NO ACTIVE", PENDING, T + 60)
    ]
    assert tracker.findings() == ()
    fired = severity_of(tracker, routers_snap(T + 61, orphan), kind=Kind.ROUTERS)
    assert fired.severity is Severity.CRITICAL and fired.problems[0].state == ACTIVE


def test_a_router_never_swept_is_unknown_not_ok() -> None:
    unswept = router(swept=False)
    verdicts = assess_once([routers_snap(T, unswept)], Tracker())
    judged = verdicts.of(REF, Kind.ROUTERS, "r1")
    assert (judged.severity, judged.unknown) == (Severity.UNKNOWN, NOT_SWEPT)
    # ... unless a rule that needs no sweep finds something: then that is its severity.
    few = router(swept=False, replicas=("net01",))
    judged = assess_once([routers_snap(T, few)], Tracker()).of(REF, Kind.ROUTERS, "r1")
    assert (judged.severity, judged.unknown) == (Severity.WARNING, NOT_SWEPT)
    # An OVN router has nothing to sweep.
    ovn = snap(Kind.ROUTERS, T, unswept, ovn=True)
    assert assess_once([ovn], Tracker()).of(REF, Kind.ROUTERS, "r1").severity is Severity.OK


def test_acknowledged_problems_keep_their_severity_and_say_so() -> None:
    both = router(bind("net01", "active", alive=False), bind("net02", "active"), *HEALTHY[2:])
    tracker = Tracker()
    verdicts = assess_once([routers_snap(T, both)], tracker)
    tracker.acknowledge(verdicts.findings[0].key)
    again = assess([routers_snap(T + 1, both)], tracker).of(REF, Kind.ROUTERS, "r1")
    assert (again.severity, again.problems[0].state) == (Severity.WARNING, ACKNOWLEDGED)


# -- one source per fact, since, unknown, regions ---------------------------------------------


def test_a_hypervisor_and_its_compute_service_never_disagree() -> None:
    """rtwo-cmp00018 was DOWN in the hypervisors pane, nova-compute `up` in Liveness."""
    down = hv(state="down")
    up = service(id="nova:18", host="rtwo-cmp00018", state="up")
    older_hyp, newer_svc = snap(Kind.HYPERVISORS, T, down), snap(Kind.SERVICES, T + 20, up)
    tracker = Tracker()
    verdicts = assess([older_hyp, newer_svc], tracker)
    assert verdicts.of(REF, Kind.HYPERVISORS, "h1").severity is Severity.OK
    shown = verdicts.snapshots[(REF, Kind.HYPERVISORS)].items["h1"]
    assert shown.state == "up"
    assert verdicts.findings == ()
    # The other way round: the hypervisors poll is the newer look, and the service follows.
    hyp_later = snap(Kind.HYPERVISORS, T + 40, down)
    verdicts = assess([hyp_later, newer_svc], tracker)
    assert verdicts.snapshots[(REF, Kind.SERVICES)].items["nova:18"].state == "down"
    assert verdicts.of(REF, Kind.HYPERVISORS, "h1").severity is Severity.CRITICAL
    assert verdicts.of(REF, Kind.SERVICES, "nova:18").severity is Severity.CRITICAL


def test_a_down_hypervisors_since_is_its_compute_services_updated_at() -> None:
    """rtwo-cmp00003 said `hypervisor.down` since first seen and `service.down` since the
    API's time: one Nova fact, so one since, the service's `updated_at`."""
    down = service(id="nova:3", host="rtwo-cmp00018", state="down", updated_at=T - 300)
    hyp, svc = snap(Kind.HYPERVISORS, T, hv(state="down")), snap(Kind.SERVICES, T + 20, down)
    verdicts = assess_once([hyp, svc], Tracker())
    [hyp_down] = verdicts.of(REF, Kind.HYPERVISORS, "h1").problems
    [svc_down] = verdicts.of(REF, Kind.SERVICES, "nova:3").problems
    assert (hyp_down.since, hyp_down.since_from) == (T - 300, "api")
    assert (svc_down.since, svc_down.since_from) == (T - 300, "api")


def test_reconcile_returns_untouched_snapshots_as_they_are() -> None:
    same = [snap(Kind.HYPERVISORS, T, hv()), snap(Kind.SERVICES, T + 1, service(host="x"))]
    assert all(a is b for a, b in zip(reconcile(same), same, strict=True))


def test_since_is_the_apis_time_where_it_says_else_first_seen() -> None:
    dead = agent(alive=False, heartbeat_at=T - 500)
    verdicts = assess_once([snap(Kind.AGENTS, T, dead)], Tracker())
    [problem] = verdicts.of(REF, Kind.AGENTS, "a1").problems
    assert (problem.since, problem.since_from) == (T - 500, "api")
    judged = assess_once([snap(Kind.HYPERVISORS, T, hv(status="disabled"))], Tracker())
    [disabled] = judged.of(REF, Kind.HYPERVISORS, "h1").problems
    assert (disabled.since, disabled.since_from) == (T, "first seen")


def test_a_hypervisor_whose_state_nova_does_not_know_is_unknown() -> None:
    judged = assess_once([snap(Kind.HYPERVISORS, T, hv(state="unknown"))], Tracker())
    assert judged.of(REF, Kind.HYPERVISORS, "h1") == (Severity.UNKNOWN, (), STATE_UNKNOWN)


def test_an_object_no_snapshot_has_is_unknown() -> None:
    verdicts = assess([], Tracker())
    assert verdicts.of(REF, Kind.ROUTERS, "r1").severity is Severity.UNKNOWN


def test_a_region_whose_apis_stopped_answering_is_a_finding() -> None:
    tracker = Tracker()
    fine = [snap(Kind.AGENTS, T, agent()), routers_snap(T, router(*HEALTHY))]
    assert assess(fine, tracker).regions[REF].severity is Severity.OK
    one_stale = [fine[0], replace(routers_snap(T, router(*HEALTHY)), stale=True, error="HTTP 503")]
    verdicts = assess(one_stale, tracker)
    region = verdicts.regions[REF]
    assert (region.severity, region.problems[0].rule) == (Severity.WARNING, REGION_STALE)
    assert "routers not answering" in region.problems[0].reason
    assert "HTTP 503" in region.problems[0].reason
    all_stale = [replace(s, stale=True, error="timed out") for s in fine]
    verdicts = assess(all_stale, tracker)
    region = verdicts.regions[REF]
    assert (region.severity, region.problems[0].rule) == (Severity.CRITICAL, REGION_UNREACHABLE)
    assert region.problems[0].since_from == "last answer"
    assert [f.rule for f in verdicts.findings] == [REGION_UNREACHABLE]


def test_each_lists_every_object_read_once() -> None:
    verdicts = assess_once(
        [
            snap(Kind.AGENTS, T, agent(), agent(id="a2", alive=False)),
            routers_snap(T, router(*HEALTHY)),
        ],
        Tracker(),
    )
    seen = {(str(s.kind), s.id): a.severity for s, a in verdicts.each()}
    assert seen == {
        ("region", "RegionTwo"): Severity.OK,
        ("agents", "a1"): Severity.OK,
        ("agents", "a2"): Severity.CRITICAL,
        ("routers", "r1"): Severity.OK,
    }


def test_unchanged_items_keep_their_problems_and_changed_ones_are_judged_again() -> None:
    """The memo of the rules: only items that are new objects, or whose scope's context
    (here the live L3 agents, hence the expected replicas) changed, are judged again."""
    calls: list[str] = []
    memo = Memo()

    def judge(r: Router) -> list[Problem]:
        calls.append(r.id)
        return router_problems(r, expected=3)

    healthy, few = router(*HEALTHY), replace(router(bind("net01", "active")), id="r2")
    items = {"r1": healthy, "r2": few}
    scope = (REF, Kind.ROUTERS)
    assert [r.id for r, _ in memo.problems(scope, 3, items, judge)] == ["r2"]
    assert memo.problems(scope, 3, dict(items), judge) and calls == ["r1", "r2"]
    fixed = replace(router(*HEALTHY), id="r2")
    assert memo.problems(scope, 3, {"r1": healthy, "r2": fixed}, judge) == []
    assert calls == ["r1", "r2", "r2"]
    memo.problems(scope, 2, {"r1": healthy, "r2": fixed}, judge)  # the context moved
    assert calls == ["r1", "r2", "r2", "r1", "r2"]


# -- objects read only in part, kinds never read -------------------------------------


def tenants_snap(*tenants: TenantSignals) -> Snapshot[TenantSignals]:
    return Snapshot(
        REF,
        Kind.TENANTS,
        Snapshot.freeze({t.project_id: t for t in tenants}),
        fetched_at=T,
        server_time=T,
        partly_read=frozenset(t.project_id for t in tenants if t.unread),
    )


def test_a_tenant_read_in_part_is_unknown_naming_what_was_not_read() -> None:
    blind = TenantSignals("p1", "acme", spoofing_ports=None, open_ingress_rules=None)
    quotas = TenantSignals("p2", "oscorp", quotas_unknown=("nova",))
    whole = TenantSignals("p3", "initech")
    verdicts = assess_once([tenants_snap(blind, quotas, whole)], Tracker())
    judged = verdicts.of(REF, Kind.TENANTS, "p1")
    assert (judged.severity, judged.unknown) == (
        Severity.UNKNOWN,
        "not read: spoofing ports, open ingress",
    )
    assert verdicts.of(REF, Kind.TENANTS, "p2").unknown == "not read: nova quotas"
    assert verdicts.of(REF, Kind.TENANTS, "p3").severity is Severity.OK


def test_a_problem_found_from_what_was_read_stays_active() -> None:
    errors = tuple(f"s{i}" for i in range(50))
    sick = TenantSignals("p1", "acme", servers=50, error_servers=errors, floating_ips=None)
    judged = assess_once([tenants_snap(sick)], Tracker()).of(REF, Kind.TENANTS, "p1")
    assert judged.active and judged.severity is max(p.severity for p in judged.active)
    assert judged.unknown == "not read: floating IPs"


def test_a_hypervisor_without_its_placement_usage_is_unknown() -> None:
    partial = replace(snap(Kind.HYPERVISORS, T, hv()), partly_read=frozenset({"h1"}))
    judged = assess_once([partial], Tracker()).of(REF, Kind.HYPERVISORS, "h1")
    assert (judged.severity, judged.unknown) == (Severity.UNKNOWN, USAGE_NOT_READ)
    down = replace(partial, items=Snapshot.freeze({"h1": hv(state="down")}))
    judged = assess_once([down], Tracker()).of(REF, Kind.HYPERVISORS, "h1")
    assert judged.severity is Severity.CRITICAL  # what was read still finds it down


def test_a_kind_never_read_in_a_region_makes_the_region_unknown_there() -> None:
    never = Snapshot(REF, Kind.HYPERVISORS, Snapshot.freeze({}), T, error="refused", stale=True)
    fine = snap(Kind.AGENTS, T, agent())
    verdicts = assess_once([never, fine], Tracker())
    region = verdicts.regions[REF]
    assert region.unknown == "hypervisors not read"
    # Read once, then failing: the items are the last poll's, stale but read.
    read = replace(snap(Kind.HYPERVISORS, T, hv()), error="refused", stale=True)
    assert assess_once([read, fine], Tracker()).regions[REF].unknown == ""
