"""Router rules case by case, their conditions and debounces, and two scenarios polled
from the simulated cloud: an L3 agent dying, and a split brain that resolves."""

from __future__ import annotations

from typing import Any

import pytest

from osconsole.cloud.http import RegionClient
from osconsole.config import Thresholds
from osconsole.events import EventKind
from osconsole.health import routers as rules
from osconsole.health.findings import Severity
from osconsole.health.routers import (
    expected_replicas,
    is_ha,
    live_l3_agents,
    replica_hosts,
    router_conditions,
    router_problems,
)
from osconsole.model import Kind, RegionRef, Router, RouterBinding, Snapshot
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import World
from tests.conftest import T0
from tests.health.test_findings import Watch

REF = RegionRef("cloud", "RegionOne")
HOSTS = ("net01", "net02", "net03")


def bind(host: str, state: str | None, *, alive: bool = True, admin: bool = True) -> RouterBinding:
    return RouterBinding(f"agent-{host}", host, state, alive, admin)


def router(
    *bindings: RouterBinding,
    ha: bool | None = True,
    status: str = "ACTIVE",
    admin_up: bool = True,
    replicas: tuple[str, ...] = HOSTS,
    swept: bool = True,
    name: str = "web-1",
) -> Router:
    return Router(
        id="r1",
        name=name,
        project_id="p1",
        status=status,
        admin_state_up=admin_up,
        ha=ha,
        distributed=False,
        replica_hosts=replicas,
        bindings=tuple(bindings) if swept else None,
        bindings_checked_at=1000.0 if swept else None,
    )


HEALTHY = (bind("net01", "active"), bind("net02", "standby"), bind("net03", "standby"))

# (case, router, ovn, expected replicas, [(rule, severity, reason)])
CASES: list[tuple[str, Router, bool, int | None, list[tuple[str, Severity, str]]]] = [
    ("healthy HA router", router(*HEALTHY), False, 3, []),
    (
        "split brain",
        router(bind("net03", "active"), bind("net01", "active"), bind("net02", "standby")),
        False,
        3,
        [
            (
                rules.SPLIT_BRAIN,
                Severity.CRITICAL,
                "router web-1 is active on 2 agents: net01, net03 (split brain)",
            )
        ],
    ),
    (
        "no active: all standby or unknown",
        router(bind("net01", "standby"), bind("net02", "unknown"), bind("net03", "standby")),
        False,
        3,
        [
            (
                rules.NO_ACTIVE,
                Severity.CRITICAL,
                "router web-1 has no active agent: net01 standby, net02 unknown, net03 standby",
            )
        ],
    ),
    (
        "no active with dead agents (Neutron rewrote their state)",
        router(
            bind("net01", "unknown", alive=False),
            bind("net02", "unknown", alive=False),
            bind("net03", "standby"),
        ),
        False,
        1,
        [
            (
                rules.NO_ACTIVE,
                Severity.CRITICAL,
                "router web-1 has no active agent: net01 unknown (agent dead), "
                "net02 unknown (agent dead), net03 standby",
            )
        ],
    ),
    (
        "an administratively down router needs no active",
        router(bind("net01", "standby"), bind("net02", "standby"), admin_up=False),
        False,
        None,
        [],
    ),
    (
        "active only on a dead agent",
        router(bind("net01", "active", alive=False), bind("net02", "standby")),
        False,
        None,
        [
            (
                rules.ACTIVE_ON_DEAD,
                Severity.CRITICAL,
                "router web-1 is active on dead agent net01 and on no live agent",
            )
        ],
    ),
    (
        "active on a dead agent and a live one (bindings of an older sweep)",
        router(bind("net01", "active", alive=False), bind("net02", "active")),
        False,
        None,
        [
            (
                rules.ACTIVE_ON_DEAD,
                Severity.WARNING,
                "router web-1 is active on dead agent net01; net02 active too",
            )
        ],
    ),
    (
        "active on an admin-down agent",
        router(bind("net01", "active", admin=False), bind("net02", "standby")),
        False,
        None,
        [
            (
                rules.ACTIVE_ON_ADMIN_DOWN,
                Severity.WARNING,
                "router web-1 is active on net01, whose L3 agent is administratively down "
                "(it no longer processes router updates)",
            )
        ],
    ),
    (
        "fewer replicas than expected",
        router(*HEALTHY[:2], replicas=("net01", "net02")),
        False,
        3,
        [
            (
                rules.FEW_REPLICAS,
                Severity.WARNING,
                "router web-1 has 2 HA replicas (net01, net02); expected 3",
            )
        ],
    ),
    (
        "as many replicas as live agents allow",
        router(*HEALTHY[:2], replicas=HOSTS[:2]),
        False,
        2,
        [],
    ),
    ("replicas unknowable without an agent count", router(*HEALTHY, replicas=()), False, None, []),
    (
        "never swept: only the rules that need no sweep",
        router(swept=False, replicas=("net01",)),
        False,
        3,
        [
            (
                rules.FEW_REPLICAS,
                Severity.WARNING,
                "router web-1 has 1 HA replica (net01); expected 3",
            )
        ],
    ),
    ("never swept and healthy replicas", router(swept=False), False, 3, []),
    (
        "hosted by no L3 agent",
        router(replicas=()),
        False,
        None,
        [(rules.UNHOSTED, Severity.WARNING, "router web-1 is not hosted by any L3 agent")],
    ),
    (
        "legacy router on a live agent",
        router(bind("net01", None), ha=False, replicas=()),
        False,
        3,
        [],
    ),
    (
        "legacy router on a dead agent",
        router(bind("net01", None, alive=False), ha=False, replicas=()),
        False,
        3,
        [
            (
                rules.AGENT_DEAD,
                Severity.CRITICAL,
                "router web-1 is on dead L3 agent net01 (a legacy router has no failover)",
            )
        ],
    ),
    (
        "ha unreadable, bindings without ha_state: judged legacy",
        router(bind("net01", None), bind("net02", None), ha=None, replicas=()),
        False,
        3,
        [],
    ),
    (
        "ha unreadable, bindings with ha_state: judged HA",
        router(bind("net01", "active"), bind("net02", "active"), bind("net03", "standby"), ha=None),
        False,
        3,
        [
            (
                rules.SPLIT_BRAIN,
                Severity.CRITICAL,
                "router web-1 is active on 2 agents: net01, net02 (split brain)",
            )
        ],
    ),
    (
        "status ERROR comes first",
        router(HEALTHY[0], status="ERROR", replicas=HOSTS),
        False,
        3,
        [
            (rules.ERROR, Severity.CRITICAL, "router web-1 is in status ERROR"),
            (
                rules.FEW_REPLICAS,
                Severity.WARNING,
                "router web-1 has 1 HA replica (net01); expected 3",
            ),
        ],
    ),
    ("OVN: no bindings, no replicas, no alarm", router(swept=False, replicas=()), True, 3, []),
    (
        "OVN: only ERROR applies",
        router(bind("net01", "standby"), status="ERROR", replicas=()),
        True,
        3,
        [(rules.ERROR, Severity.CRITICAL, "router web-1 is in status ERROR")],
    ),
    (
        "a router without a name is named by its id",
        router(bind("net01", "standby"), name="", replicas=("net01",)),
        False,
        1,
        [(rules.NO_ACTIVE, Severity.CRITICAL, "router r1 has no active agent: net01 standby")],
    ),
]


@pytest.mark.parametrize(
    ("case", "item", "ovn", "expected", "want"), CASES, ids=[c[0] for c in CASES]
)
def test_router_problems(
    case: str,
    item: Router,
    ovn: bool,
    expected: int | None,
    want: list[tuple[str, Severity, str]],
) -> None:
    found = router_problems(item, ovn=ovn, expected=expected)
    assert [(p.rule, p.severity, p.reason) for p in found] == want


def test_labels_are_the_panes_words() -> None:
    split = router(bind("net01", "active"), bind("net02", "active"), replicas=("net01",))
    assert [p.label for p in router_problems(split, expected=3)] == [
        "SPLIT-BRAIN",
        "FEW REPLICAS (2)",
    ]


def test_replicas_are_the_bindings_once_swept_and_the_ha_ports_before() -> None:
    """One source per fact: never "0 replicas" beside a binding list of 3."""
    swept = router(*HEALTHY, replicas=())
    assert replica_hosts(swept) == ("net01", "net02", "net03")
    assert router_problems(swept, expected=3) == []
    unswept = router(swept=False, replicas=("net01", "net02"))
    assert replica_hosts(unswept) == ("net01", "net02")
    assert [p.label for p in router_problems(unswept, expected=3)] == ["FEW REPLICAS (2)"]


def test_is_ha_and_expected_replicas() -> None:
    assert is_ha(router(ha=True, swept=False)) and not is_ha(router(ha=False))
    assert not is_ha(router(ha=None, swept=False))
    assert expected_replicas(Thresholds(), 5) == 3
    assert expected_replicas(Thresholds(max_l3_agents_per_router=2), 5) == 2
    assert expected_replicas(Thresholds(), 1) == 1
    assert expected_replicas(Thresholds(), None) is None


def test_live_l3_agents_counts_alive_and_admin_up_agents() -> None:
    extra: dict[str, Any] = {
        "l3_agents": {
            "a": {"alive": True, "admin_state_up": True},
            "b": {"alive": False, "admin_state_up": True},
            "c": {"alive": True, "admin_state_up": False},
            "d": {"alive": True},
            "e": "garbage",
        }
    }
    assert live_l3_agents(extra) == 2
    assert live_l3_agents({}) is None
    assert live_l3_agents({"l3_agents": None}) is None


def snap(*items: Router, **extra: Any) -> Snapshot[Router]:
    return Snapshot(
        REF,
        Kind.ROUTERS,
        Snapshot.freeze({r.id: r for r in items}),
        fetched_at=1000.5,
        server_time=1000.0,
        extra=extra,
    )


AGENTS_UP = {h: {"alive": True, "admin_state_up": True, "host": h} for h in HOSTS}


def test_router_conditions_carry_subject_time_and_debounce() -> None:
    broken = router(
        bind("net01", "active"), bind("net02", "active"), status="ERROR", replicas=("net01",)
    )
    found = router_conditions(snap(broken, ovn=False, l3_agents=AGENTS_UP), Thresholds())
    by_rule = {c.rule: c for c in found}
    assert set(by_rule) == {rules.ERROR, rules.SPLIT_BRAIN, rules.FEW_REPLICAS}
    assert by_rule[rules.ERROR].debounce == 0.0
    assert by_rule[rules.SPLIT_BRAIN].debounce == 60.0
    assert by_rule[rules.FEW_REPLICAS].debounce == 60.0
    split = by_rule[rules.SPLIT_BRAIN]
    assert split.observed_at == 1000.0
    assert (split.subject.kind, split.subject.id, split.subject.name) == (
        Kind.ROUTERS,
        "r1",
        "web-1",
    )
    assert split.key == "router.split_brain@cloud/RegionOne/routers/r1"
    quick = router_conditions(snap(broken, l3_agents=AGENTS_UP), Thresholds(router_debounce_s=5))
    assert {c.debounce for c in quick} == {0.0, 5.0}


def test_router_conditions_in_ovn_regions_and_regions_without_data() -> None:
    odd = router(bind("net01", "active"), bind("net02", "active"), replicas=())
    assert router_conditions(snap(odd, ovn=True, l3_agents={}), Thresholds()) == []
    assert router_conditions(snap(), Thresholds()) == []
    # No agent count in the snapshot, none given: the replica rule is skipped.
    few = router(*HEALTHY[:1], replicas=HOSTS)
    assert router_conditions(snap(few), Thresholds()) == []
    assert [c.rule for c in router_conditions(snap(few), Thresholds(), 3)] == [rules.FEW_REPLICAS]


# -- scenarios against the simulated cloud ------------------------------------------------


async def test_l3_agent_dies_agent_down_then_failovers_then_no_active_after_the_debounce(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    watch = Watch(world, region_one, [Kind.AGENTS, Kind.ROUTERS])
    await watch.poll()
    assert watch.tracker.findings() == ()
    masters = {r.id: _live_actives(world, r.id, world.now()) for r in region.routers}
    start_scenario(world, "l3-agent-dies", region="RegionOne")
    victim = next(a for a in region.agents if a.stopped_at is not None)
    await watch.run(until=240)

    now = world.now()
    mastered = [rid for rid, hosts in masters.items() if hosts == [victim.host]]
    orphans = [rid for rid in mastered if not _live_actives(world, rid, now)]
    moved = [rid for rid in mastered if rid not in orphans]
    assert orphans and moved

    # The timeline: the agent dies (Neutron says so after 75 s: the poll at 90 s sees
    # it), then each of its routers fails over or loses its active, at the same poll.
    events = watch.events()
    assert events[0].kind == EventKind.AGENT_DOWN and events[0].time == T0 + 90
    assert events[0].description == f"L3 agent on {victim.host} is dead"
    # One line for what the agent's death did to its routers, each router under it.
    [grouped] = watch.events(EventKind.ROUTERS_FAILED_OVER)
    assert grouped.description.startswith(f"L3 agent on {victim.host} dead → ")
    assert grouped.count == len(moved) + len(orphans)
    failovers = [e for e in grouped.members if e.kind is EventKind.ROUTER_FAILOVER]
    lost = [e for e in grouped.members if e.kind is EventKind.ROUTER_ACTIVE_LOST]
    assert {e.subject.id for e in failovers} == set(moved)
    assert {e.subject.id for e in lost} == set(orphans)
    assert all(e.time == T0 + 90 for e in failovers + lost)
    assert events.index(grouped) > 0  # after the agent's death
    for event in failovers:
        new_host = _live_actives(world, event.subject.id, now)[0]
        name = region.routers.get(event.subject.id).name  # type: ignore[union-attr]
        want = f"router {name} failed over from {victim.host} to {new_host}"
        assert event.description == want
    assert lost[0].description.endswith(f"lost its active agent (was active on {victim.host})")

    # Findings: the dead agent at once; no-active only once it lasted 60 s (90 -> 150).
    # Since is when it began, as Neutron says (its last heartbeat), not when we noticed.
    down = watch.raised("agent.down")
    assert [(t, f.subject.id, f.since_from) for t, f in down] == [(90, victim.id, "api")]
    assert victim.stopped_at is not None
    assert victim.stopped_at - 30 <= down[0][1].since <= victim.stopped_at
    no_active = watch.raised(rules.NO_ACTIVE)
    assert {f.subject.id for _, f in no_active} == set(orphans)
    assert all(t == 150 and f.since == T0 + 90 for t, f in no_active)
    assert all(f.severity == Severity.CRITICAL for _, f in no_active)
    first = no_active[0][1]
    assert first.reason.startswith(f"router {first.subject.name} has no active agent: ")
    assert f"{victim.host} " in first.reason and "(agent dead)" in first.reason
    assert not watch.raised(rules.SPLIT_BRAIN) and not watch.raised(rules.FEW_REPLICAS)
    # The agent went late before it was declared dead, and that cleared when it died.
    assert [t for t, _ in watch.raised("agent.heartbeat_late")] == [60]
    assert [t for t, _ in watch.cleared("agent.heartbeat_late")] == [90]


def _live_actives(world: World, router_id: str, now: float) -> list[str]:
    region = world.regions["RegionOne"]
    r = region.routers.get(router_id)
    assert r is not None
    return [
        region.agents.get(aid).host  # type: ignore[union-attr]
        for aid, state in r.bindings.items()
        if state == "active" and region.agents.get(aid).is_alive(now)  # type: ignore[union-attr]
    ]


async def test_split_brain_begins_becomes_a_finding_after_60s_and_ends(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    watch = Watch(world, region_one, [Kind.AGENTS, Kind.ROUTERS])
    await watch.poll()
    start_scenario(world, "split-brain", region="RegionOne")
    split = {r.id for r in region.routers if len(_live_actives(world, r.id, world.now())) == 2}
    assert split
    await watch.run(until=180)

    begins = watch.events(EventKind.SPLIT_BRAIN_BEGINS)
    ends = watch.events(EventKind.SPLIT_BRAIN_ENDS)
    assert {e.subject.id for e in begins} == split == {e.subject.id for e in ends}
    assert all(e.time == T0 + 30 and e.severity == Severity.CRITICAL for e in begins)
    assert all(e.time == T0 + 120 for e in ends)  # resolved at 120 s, seen by that poll
    events = watch.events()
    assert max(events.index(e) for e in begins) < min(events.index(e) for e in ends)
    for event in ends:
        (winner,) = _live_actives(world, event.subject.id, world.now())
        assert event.description.endswith(f"split brain over, active on {winner} only")

    raised = watch.raised(rules.SPLIT_BRAIN)
    assert {f.subject.id for _, f in raised} == split
    assert all(t == 90 and f.since == T0 + 30 for t, f in raised)  # seen at 30, 60, 90
    for _, finding in raised:
        hosts = sorted(_live_actives_at_start(begins, finding.subject.id))
        assert finding.reason == (
            f"router {finding.subject.name} is active on 2 agents: {', '.join(hosts)} (split brain)"
        )
    cleared = watch.cleared(rules.SPLIT_BRAIN)
    assert {f.subject.id for _, f in cleared} == split and {t for t, _ in cleared} == {120}
    assert watch.findings(rules.SPLIT_BRAIN) == []
    restarted = watch.raised("agent.restarted")
    assert len(restarted) == 1 and restarted[0][0] == 30


def _live_actives_at_start(begins: list[Any], router_id: str) -> list[str]:
    event = next(e for e in begins if e.subject.id == router_id)
    hosts = event.description.split(": ", 1)[1].split(" (")[0]
    return hosts.split(", ")
