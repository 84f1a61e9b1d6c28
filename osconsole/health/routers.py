"""Router rules: HA routers with too many actives, none, or one in the wrong place.

What each rule means, its severity, and whether it waits out
`thresholds.router_debounce_s` (default 60 s) before it becomes a finding:

- `router.split_brain`, critical, debounced: two or more replicas report `active`
  on live agents. Both keepalived masters answer ARP for the gateway: traffic is
  lost or duplicated. During a normal VRRP transition this lasts a few seconds.
- `router.no_active`, critical, debounced: an HA router with bindings and none
  reports `active` (all standby or unknown), while it is administratively up:
  nothing routes for it. Normal for a moment while a standby takes over.
- `router.active_on_dead_agent`, debounced: `active` on an agent Neutron says is
  dead (bindings carried from an older sweep show this until the router is swept
  again). Critical when no live agent is active, a warning when one is.
- `router.active_on_admin_down_agent`, warning, debounced: `active` on a live agent
  that is administratively down: it no longer processes router updates.
- `router.few_replicas`, warning, debounced: fewer HA replicas (`replica_hosts`: the
  L3 agents of its bindings once swept, the HA ports' hosts before)
  than min(`thresholds.max_l3_agents_per_router`, live L3 agents): one more failure
  and there may be nowhere to fail over to. Rescheduling after an agent death
  takes a moment, hence the debounce.
- `router.unhosted`, warning, debounced: no L3 agent hosts the router at all.
- `router.agent_dead`, critical, at once: a legacy (non-HA) router whose every
  agent is dead; there is no failover, and Neutron already waited 75 s.
- `router.error`, critical, at once: status ERROR, the agent failed to configure
  it. That is a state Neutron keeps, not a transition artefact.

OVN clouds (`snapshot.extra["ovn"]`) have no L3 agents and no bindings: only
`router.error` applies there. Non-HA routers get only the legacy rules, and
routers never swept yet (bindings None) only the rules that need no sweep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.findings import (
    Condition,
    Memo,
    Problem,
    Severity,
    Subject,
    observed_time,
    plural,
)
from osconsole.model import Kind, Router, RouterBinding, Snapshot

SPLIT_BRAIN = "router.split_brain"
NO_ACTIVE = "router.no_active"
ACTIVE_ON_DEAD = "router.active_on_dead_agent"
ACTIVE_ON_ADMIN_DOWN = "router.active_on_admin_down_agent"
FEW_REPLICAS = "router.few_replicas"
UNHOSTED = "router.unhosted"
AGENT_DEAD = "router.agent_dead"
ERROR = "router.error"

DEBOUNCED = frozenset(
    {SPLIT_BRAIN, NO_ACTIVE, ACTIVE_ON_DEAD, ACTIVE_ON_ADMIN_DOWN, FEW_REPLICAS, UNHOSTED}
)


def router_name(router: Router) -> str:
    return router.name or router.id


def is_ha(router: Router) -> bool:
    """Its `ha` flag; when the credential cannot see it, whether its bindings carry ha_state."""
    if router.ha is not None:
        return router.ha
    return any(b.ha_state is not None for b in router.bindings or ())


def replica_hosts(router: Router) -> tuple[str, ...]:
    """Where a router's HA replicas are: the hosts of its L3 agent bindings when it has
    been swept (what Neutron scheduled), else the hosts of its HA ports (the listing
    every poll makes). One source per fact: never "0 replicas" beside 3 bindings."""
    if router.bindings is not None:
        return tuple(sorted({b.host or b.agent_id for b in router.bindings}))
    return router.replica_hosts


def live_l3_agents(extra: Mapping[str, Any]) -> int | None:
    """L3 agents alive and admin-up (those Neutron schedules replicas on), from a routers
    snapshot's `extra["l3_agents"]`; None when the snapshot does not say."""
    agents = extra.get("l3_agents")
    if not isinstance(agents, Mapping):
        return None
    return sum(
        1
        for a in agents.values()
        if isinstance(a, Mapping) and a.get("alive") and a.get("admin_state_up", True)
    )


def expected_replicas(thresholds: Thresholds, live_agents: int | None) -> int | None:
    """How many HA replicas a router should have now; None when unknown."""
    if live_agents is None:
        return None
    return min(thresholds.max_l3_agents_per_router, live_agents)


def _hosts(bindings: Sequence[RouterBinding]) -> str:
    """Hosts in name order: the reason must not change with the API's listing order."""
    return ", ".join(sorted(b.host or b.agent_id for b in bindings))


def _state_words(b: RouterBinding) -> str:
    text = f"{b.host or b.agent_id} {b.ha_state or 'no state'}"
    if not b.agent_alive:
        return text + " (agent dead)"
    return text + (" (agent admin-down)" if not b.agent_admin_up else "")


def _ha_problems(router: Router, bindings: Sequence[RouterBinding]) -> list[Problem]:
    name = f"router {router_name(router)}"
    actives = [b for b in bindings if b.ha_state == "active"]
    if len(actives) == 1 and actives[0].agent_alive and actives[0].agent_admin_up:
        return []  # the healthy case, nearly every router: decided in one pass
    live = [b for b in actives if b.agent_alive]
    dead = [b for b in actives if not b.agent_alive]
    admin_down = [b for b in live if not b.agent_admin_up]
    found: list[Problem] = []
    if len(live) >= 2:
        text = f"{name} is active on {len(live)} agents: {_hosts(live)} (split brain)"
        found.append(Problem(SPLIT_BRAIN, Severity.CRITICAL, "SPLIT-BRAIN", text))
    if dead:
        where = f"dead agent{'s' if len(dead) > 1 else ''} {_hosts(dead)}"
        also = f"; {_hosts(live)} active too" if live else " and on no live agent"
        severity = Severity.WARNING if live else Severity.CRITICAL
        text = f"{name} is active on {where}{also}"
        found.append(Problem(ACTIVE_ON_DEAD, severity, "ACTIVE ON DEAD AGENT", text))
    if not actives and router.admin_state_up:
        states = ", ".join(sorted(_state_words(b) for b in bindings))
        text = f"{name} has no active agent: {states}"
        found.append(Problem(NO_ACTIVE, Severity.CRITICAL, "NO ACTIVE", text))
    if admin_down:
        text = (
            f"{name} is active on {_hosts(admin_down)}, whose L3 agent is administratively "
            "down (it no longer processes router updates)"
        )
        found.append(
            Problem(ACTIVE_ON_ADMIN_DOWN, Severity.WARNING, "ACTIVE ON ADMIN-DOWN AGENT", text)
        )
    return found


def _binding_problems(router: Router, bindings: Sequence[RouterBinding]) -> list[Problem]:
    name = f"router {router_name(router)}"
    if not bindings:
        text = f"{name} is not hosted by any L3 agent"
        return [Problem(UNHOSTED, Severity.WARNING, "NO L3 AGENT", text)]
    if is_ha(router):
        return _ha_problems(router, bindings)
    if not any(b.agent_alive for b in bindings):
        text = f"{name} is on dead L3 agent {_hosts(bindings)} (a legacy router has no failover)"
        return [Problem(AGENT_DEAD, Severity.CRITICAL, "AGENT DEAD", text)]
    return []


def router_problems(
    router: Router, *, ovn: bool = False, expected: int | None = None
) -> list[Problem]:
    """Every problem one look at a router shows, most severe first. `expected` is the
    number of HA replicas it should have (see `expected_replicas`); None skips that rule."""
    found: list[Problem] = []
    name = f"router {router_name(router)}"
    if router.status == "ERROR":
        found.append(Problem(ERROR, Severity.CRITICAL, "ERROR", f"{name} is in status ERROR"))
    if ovn:
        return found
    if router.bindings is not None:
        found += _binding_problems(router, router.bindings)
    where = replica_hosts(router)
    replicas = len(where)
    if is_ha(router) and expected is not None and replicas < expected:
        hosts = ", ".join(where) or "none"
        text = f"{name} has {plural(replicas, 'HA replica')} ({hosts}); expected {expected}"
        found.append(Problem(FEW_REPLICAS, Severity.WARNING, f"FEW REPLICAS ({replicas})", text))
    if len(found) > 1:
        found.sort(key=lambda p: -p.severity)
    return found


def debounce_for(rule: str, thresholds: Thresholds) -> float:
    return thresholds.router_debounce_s if rule in DEBOUNCED else 0.0


def router_conditions(
    snapshot: Snapshot[Router],
    thresholds: Thresholds,
    live_agents: int | None = None,
    memo: Memo | None = None,
) -> list[Condition]:
    """Conditions of every router in one routers snapshot. `live_agents` (live L3 agents
    of the region) defaults to what the snapshot's `extra["l3_agents"]` says; `memo`
    keeps unchanged routers' problems between looks."""
    ovn = bool(snapshot.extra.get("ovn"))
    if live_agents is None:
        live_agents = live_l3_agents(snapshot.extra)
    expected = expected_replicas(thresholds, live_agents)
    at = observed_time(snapshot)
    found: list[Condition] = []
    memo = memo or Memo()
    judged = memo.problems(
        (snapshot.ref, snapshot.kind),
        (ovn, expected, thresholds),
        snapshot.items,
        lambda router: router_problems(router, ovn=ovn, expected=expected),
    )
    for router, problems in judged:
        subject = Subject(snapshot.ref, Kind.ROUTERS, router.id, router_name(router))
        found += [Condition.of(p, subject, at, debounce_for(p.rule, thresholds)) for p in problems]
    return found
