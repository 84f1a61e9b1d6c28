"""Liveness rules case by case (agents and services), the pane's verdicts they share,
history feeding, and the agent-flap scenario polled from the simulated cloud."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from osconsole.cloud.http import RegionClient
from osconsole.config import Thresholds
from osconsole.events import EventKind
from osconsole.health import liveness as rules
from osconsole.health.assess import assess as evaluate
from osconsole.health.findings import History, Problem, Severity, Tracker, clock_time
from osconsole.health.liveness import (
    agent_conditions,
    agent_problems,
    observe,
    service_conditions,
    service_problems,
)
from osconsole.model import Agent, Kind, RegionRef, Service, Snapshot
from osconsole.sim.scenarios import start_scenario
from osconsole.sim.world import World
from tests.conftest import T0
from tests.health.test_findings import Watch

REF = RegionRef("cloud", "RegionOne")
BEAT = 1_700_000_000.0


def agent(**changes: Any) -> Agent:
    base = Agent(
        id="a1",
        agent_type="L3 agent",
        binary="neutron-l3-agent",
        host="net01",
        alive=True,
        admin_state_up=True,
        heartbeat_at=BEAT,
        heartbeat_age=10.0,
        started_at=BEAT - 3600,
    )
    return replace(base, **changes)


def service(**changes: Any) -> Service:
    base = Service(
        id="nova:7",
        project="nova",
        binary="nova-compute",
        host="cmp01",
        zone="nova",
        status="enabled",
        state="up",
        updated_at=BEAT,
        heartbeat_age=5.0,
    )
    return replace(base, **changes)


AT = clock_time(BEAT)

AGENT_CASES: list[tuple[str, Agent, list[tuple[str, Severity, str]]]] = [
    ("healthy", agent(), []),
    (
        "dead",
        agent(alive=False, heartbeat_age=120.0),
        [(rules.AGENT_DOWN, Severity.CRITICAL, f"L3 agent on net01 is dead (last heartbeat {AT})")],
    ),
    (
        "dead without any heartbeat",
        agent(alive=False, heartbeat_at=None, heartbeat_age=None),
        [(rules.AGENT_DOWN, Severity.CRITICAL, "L3 agent on net01 is dead (never reported)")],
    ),
    (
        "dead while admin-down is expected",
        agent(alive=False, admin_state_up=False),
        [
            (
                rules.AGENT_DOWN,
                Severity.WARNING,
                f"L3 agent on net01 is dead while administratively down (last heartbeat {AT})",
            )
        ],
    ),
    (
        "late heartbeat while alive",
        agent(heartbeat_age=60.0),
        [
            (
                rules.AGENT_LATE,
                Severity.WARNING,
                "L3 agent on net01: heartbeat late, last one 60s ago "
                "(over 45s: about to be declared dead)",
            )
        ],
    ),
    ("at the threshold is not late", agent(heartbeat_age=45.0), []),
    (
        "admin-down while alive",
        agent(admin_state_up=False),
        [(rules.AGENT_ADMIN_DOWN, Severity.INFO, "L3 agent on net01 is administratively down")],
    ),
    ("heartbeat slightly in the future is rounding", agent(heartbeat_age=-3.0), []),
    (
        "heartbeat far in the future is clock skew, never late",
        agent(heartbeat_age=-300.0),
        [
            (
                rules.AGENT_SKEW,
                Severity.INFO,
                "L3 agent on net01: heartbeat 5m in the future (clock skew between the API "
                "server and the host that stamped it)",
            )
        ],
    ),
    ("unknown heartbeat age while alive", agent(heartbeat_at=None, heartbeat_age=None), []),
    (
        "OVN agents are judged the same way",
        agent(agent_type="OVN Controller agent", alive=False),
        [
            (
                rules.AGENT_DOWN,
                Severity.CRITICAL,
                f"OVN Controller agent on net01 is dead (last heartbeat {AT})",
            )
        ],
    ),
    (
        "a dead gateway agent says what its chassis still does",
        agent(agent_type="OVN Controller Gateway agent", alive=False),
        [
            (
                rules.AGENT_DOWN,
                Severity.CRITICAL,
                f"OVN Controller Gateway agent on net01 is dead (last heartbeat {AT}): a gateway "
                "chassis; the router gateways it holds keep forwarding with the flows they "
                "have, and no change reaches them (failover needs its datapath to die too)",
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "item", "want"), AGENT_CASES, ids=[c[0] for c in AGENT_CASES])
def test_agent_problems(case: str, item: Agent, want: list[tuple[str, Severity, str]]) -> None:
    found = agent_problems(item, Thresholds())
    assert [(p.rule, p.severity, p.reason) for p in found] == want


SERVICE_CASES: list[tuple[str, Service, list[tuple[str, Severity, str]]]] = [
    ("healthy", service(), []),
    (
        "down",
        service(state="down", heartbeat_age=90.0),
        [
            (
                rules.SERVICE_DOWN,
                Severity.CRITICAL,
                f"nova-compute on cmp01 is down (last heartbeat {AT})",
            )
        ],
    ),
    (
        "down while disabled, with the reason",
        service(state="down", status="disabled", disabled_reason="hardware repair"),
        [
            (
                rules.SERVICE_DOWN,
                Severity.WARNING,
                f"nova-compute on cmp01 is down while disabled (last heartbeat {AT}): "
                "hardware repair",
            )
        ],
    ),
    (
        "forced down, with the reason",
        service(state="down", forced_down=True, disabled_reason="fenced by masakari"),
        [
            (
                rules.SERVICE_FORCED_DOWN,
                Severity.WARNING,
                "nova-compute on cmp01 is forced down by an operator: fenced by masakari",
            )
        ],
    ),
    (
        "disabled while up, with the reason",
        service(status="disabled", disabled_reason="draining for upgrade"),
        [
            (
                rules.SERVICE_DISABLED,
                Severity.INFO,
                "nova-compute on cmp01 is disabled: draining for upgrade",
            )
        ],
    ),
    (
        "disabled without a reason says so",
        service(status="disabled"),
        [
            (
                rules.SERVICE_DISABLED,
                Severity.INFO,
                "nova-compute on cmp01 is disabled: no reason given",
            )
        ],
    ),
    (
        "late while up",
        service(heartbeat_age=50.0),
        [
            (
                rules.SERVICE_LATE,
                Severity.WARNING,
                "nova-compute on cmp01: heartbeat late, last report 50s ago (over 45s)",
            )
        ],
    ),
    (
        "an unreadable state counts as down",
        service(state="unknown", updated_at=None, heartbeat_age=None),
        [(rules.SERVICE_DOWN, Severity.CRITICAL, "nova-compute on cmp01 is down (never reported)")],
    ),
    (
        "a heartbeat in the future is not late",
        service(heartbeat_age=-600.0, project="cinder", binary="cinder-volume", id="cinder:x"),
        [
            (
                rules.SERVICE_SKEW,
                Severity.INFO,
                "cinder-volume on cmp01: heartbeat 10m in the future (clock skew between the "
                "API server and the host that stamped it)",
            )
        ],
    ),
]


@pytest.mark.parametrize(("case", "item", "want"), SERVICE_CASES, ids=[c[0] for c in SERVICE_CASES])
def test_service_problems(case: str, item: Service, want: list[tuple[str, Severity, str]]) -> None:
    found = service_problems(item, Thresholds())
    assert [(p.rule, p.severity, p.reason) for p in found] == want


def test_the_panes_words_are_the_problems_labels_and_since_is_the_apis() -> None:
    t = Thresholds()

    def words(problems: list[Problem]) -> list[tuple[Severity, str, float | None]]:
        return [(p.severity, p.label, p.began) for p in problems]

    assert agent_problems(agent(), t) == []
    dead = agent(alive=False)
    assert words(agent_problems(dead, t)) == [(Severity.CRITICAL, "agent dead", dead.heartbeat_at)]
    assert words(agent_problems(agent(heartbeat_age=50.0), t)) == [
        (Severity.WARNING, "heartbeat late (over 45s)", None)
    ]
    disabled = service(status="disabled", disabled_reason="why")
    assert words(service_problems(disabled, t)) == [
        (Severity.INFO, "disabled: why", disabled.updated_at)
    ]
    assert [p.label for p in service_problems(service(status="disabled"), t)] == ["disabled"]
    down = service(state="down", disabled_reason="r")
    assert words(service_problems(down, t)) == [
        (Severity.CRITICAL, "service down", down.updated_at)
    ]
    fenced = service(forced_down=True, state="down")
    assert [p.label for p in service_problems(fenced, t)] == ["forced down by an operator"]


def agents_snap(at: float, *items: Agent, complete: bool = True) -> Snapshot[Agent]:
    return Snapshot(
        REF,
        Kind.AGENTS,
        Snapshot.freeze({a.id: a for a in items}),
        fetched_at=at,
        server_time=at,
        complete=complete,
    )


def test_conditions_carry_subject_and_time_and_are_never_debounced() -> None:
    found = agent_conditions(agents_snap(BEAT + 100, agent(alive=False)), Thresholds())
    assert [(c.rule, c.debounce, c.observed_at) for c in found] == [
        (rules.AGENT_DOWN, 0.0, BEAT + 100)
    ]
    assert (found[0].subject.kind, found[0].subject.name) == (Kind.AGENTS, "L3 agent on net01")
    snap = Snapshot(
        REF, Kind.SERVICES, Snapshot.freeze({"nova:7": service(state="down")}), BEAT, BEAT
    )
    assert [c.subject.name for c in service_conditions(snap, Thresholds())] == [
        "nova-compute on cmp01"
    ]


def test_observe_feeds_history_and_forgets_deleted_agents() -> None:
    history = History(window=900)
    observe(history, agents_snap(BEAT, agent(), agent(id="a2")))
    observe(history, agents_snap(BEAT + 30, agent(alive=False), agent(id="a2")))
    observe(history, replace(agents_snap(BEAT + 60, agent()), stale=True))  # ignored
    key = "cloud/RegionOne/agents/a1"
    assert history.transitions(key, BEAT + 60) == (BEAT + 30,)
    observe(history, agents_snap(BEAT + 90, agent(), complete=False))  # partial: a2 kept
    assert len(history) == 2
    observe(history, agents_snap(BEAT + 120, agent()))
    assert len(history) == 1
    assert history.transitions(key, BEAT + 120) == (BEAT + 30, BEAT + 90)


def test_services_flap_too() -> None:
    history = History(window=900)
    t = Thresholds(flap_transitions=2)
    for i, state in enumerate(("up", "down", "up")):
        snap = Snapshot(
            REF,
            Kind.SERVICES,
            Snapshot.freeze({"nova:7": service(state=state)}),
            BEAT + i,
            BEAT + i,
        )
        observe(history, snap)
    found = service_conditions(snap, t, history)
    assert [(c.rule, c.reason) for c in found] == [
        (
            rules.SERVICE_FLAPPING,
            "nova-compute on cmp01 is flapping: 2 up/down changes in the last 15m",
        )
    ]


def services_snap(
    at: float, *items: Service, held: dict[str, float] | None = None
) -> Snapshot[Service]:
    return Snapshot(
        REF,
        Kind.SERVICES,
        Snapshot.freeze({s.id: s for s in items}),
        fetched_at=at,
        server_time=at,
        complete=not held,
        held=held or {},
    )


def test_items_held_from_an_earlier_poll_neither_raise_clear_nor_confirm() -> None:
    """Nova did not answer: its rows are shown as last read, and say nothing new."""
    tracker = Tracker()
    cmp02 = service(id="nova:8", host="cmp02")
    evaluate([services_snap(BEAT, service(state="down"), cmp02)], tracker)
    (down,) = tracker.findings()
    assert down.subject.id == "nova:7" and down.confirmed

    # Held items are never looked at: not even one that reads down (never raised).
    held = {"nova:7": BEAT, "nova:8": BEAT}
    update = evaluate(
        [services_snap(BEAT + 30, service(state="up"), replace(cmp02, state="down"), held=held)],
        tracker,
    )
    assert update.raised == () and update.cleared == ()
    assert [(f.subject.id, f.confirmed) for f in update.findings] == [("nova:7", False)]
    assert tracker.history.transitions("cloud/RegionOne/services/nova:8", BEAT + 30) == ()

    update = evaluate([services_snap(BEAT + 60, service(state="up"), cmp02)], tracker)
    assert [f.subject.id for f in update.cleared] == ["nova:7"] and update.findings == ()


# -- the agent-flap scenario ------------------------------------------------------------------


async def test_agent_flap_is_a_finding_after_three_transitions(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    watch = Watch(world, region_one, [Kind.AGENTS])
    await watch.poll()
    start_scenario(world, "agent-flap", region="RegionOne")
    victim = next(a for a in region.agents if a.stopped_at is not None)
    name = f"{victim.agent_type} on {victim.host}"
    # Dead from 76 s, back at 165 s, dead again from 331 s (a 255 s cycle): the
    # polls every 30 s notice the changes at 90, 180 and 360 s.
    await watch.run(until=450)

    timeline = [(e.time - T0, e.kind) for e in watch.events() if e.subject.id == victim.id]
    assert timeline == [
        (90, EventKind.AGENT_DOWN),
        (180, EventKind.AGENT_UP),
        (360, EventKind.AGENT_DOWN),
        (420, EventKind.AGENT_UP),
    ]
    assert watch.events(EventKind.AGENT_UP)[0].description == f"{name} is alive again (restarted)"
    flapping = watch.raised(rules.AGENT_FLAPPING)
    assert [(t, f.subject.id, f.since) for t, f in flapping] == [(360, victim.id, T0 + 360)]
    assert flapping[0][1].reason == f"{name} is flapping: 3 up/down changes in the last 15m"
    assert flapping[0][1].severity == Severity.WARNING
    assert [f.reason for f in watch.findings(rules.AGENT_FLAPPING)] == [
        f"{name} is flapping: 4 up/down changes in the last 15m"
    ]
    restarted = watch.raised(rules.AGENT_RESTARTED)
    assert [(t, f.since) for t, f in restarted] == [(180, T0 + 180)]
    assert restarted[0][1].reason == (
        f"{name} restarted at {clock_time(T0 + 165)} (started_at changed)"
    )
    downs = watch.raised(rules.AGENT_DOWN)
    assert [t for t, _ in downs] == [90, 360]
    assert [t for t, _ in watch.cleared(rules.AGENT_DOWN)] == [180, 420]
