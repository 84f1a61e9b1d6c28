"""ML2/OVN gateway rules: where each router's gateway is active, and whether it can fail over.

On ML2/OVN a router's gateway is a chassis-redirect port that one gateway chassis
claims; Neutron writes that chassis into the router's gateway port (`binding:host_id`,
ACTIVE) or clears it (DOWN). Each router has a prioritised list of candidate chassis
(`routers/{id}/l3-agents`, swept within the budget); each chassis reports as an
`OVN Controller Gateway agent` with its liveness. What each rule means, its severity,
and whether it waits out `thresholds.router_debounce_s` before it becomes a finding:

- `ovn.no_active_gateway`, critical, debounced: the gateway port is bound to no chassis
  (DOWN, no host), or is DOWN on a live chassis: nothing routes the router's external
  traffic. A failover passes through this for a second or two, hence the debounce.
- `ovn.gateway_on_dead_chassis`, debounced: the gateway is active on a chassis whose
  gateway agent is dead. A warning: ovn-controller is gone, the gateway still forwards
  with the flows it has but no change reaches it (a dead ovs-vswitchd would have moved
  it, as BFD runs there). Critical when the port is DOWN as well.
- `ovn.few_gateway_candidates`, warning, debounced: fewer live candidate chassis than
  min(`thresholds.min_gateway_candidates`, live gateway chassis of the region): one
  more failure and the gateway has nowhere to go. Needs the router's sweep.
- `ovn.few_gateway_chassis`, the region's own (a REGION subject), at once: fewer live
  gateway chassis than `thresholds.min_gateway_chassis` (default 2): no failover
  left. A warning; critical with none alive. Neutron has already waited
  agent_down_time before saying dead.
- `ovn.gateway_concentration`, the region's own, info, debounced: one chassis (the
  busiest, when several do) holds more than `thresholds.gateway_concentration_ratio`
  of the region's active gateways (with two or more live chassis and at least
  `MIN_GATEWAYS_FOR_SHARE` gateways): its death would move most of them at once,
  typically left so after a failover.

The facts come from one routers snapshot of an OVN region (`extra["ovn"]`): its
routers' `gateway` and `bindings` (the candidates), and `extra["gateway_chassis"]`.
The region's two conditions count in its own assessment (`osconsole.health.assess`),
as its APIs answering does; a dead gateway chassis gathers the routers it carried
into one incident (`osconsole.health.incidents`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.findings import (
    REGION,
    Condition,
    Problem,
    Severity,
    Subject,
    observed_time,
)
from osconsole.health.routers import router_name
from osconsole.model import Kind, RegionRef, Router, Snapshot

NO_GATEWAY = "ovn.no_active_gateway"
ON_DEAD_CHASSIS = "ovn.gateway_on_dead_chassis"
FEW_CANDIDATES = "ovn.few_gateway_candidates"
FEW_CHASSIS = "ovn.few_gateway_chassis"
CONCENTRATED = "ovn.gateway_concentration"

DEBOUNCED = frozenset({NO_GATEWAY, ON_DEAD_CHASSIS, FEW_CANDIDATES, CONCENTRATED})
MIN_GATEWAYS_FOR_SHARE = 4  # below this, any share is a matter of chance, not of risk


@dataclass(frozen=True, slots=True)
class GatewayChassis:
    """One gateway chassis of a region (its gateway agent) and the gateways it holds."""

    agent_id: str
    host: str
    alive: bool
    admin_state_up: bool
    gateways: int = 0  # routers whose gateway is active on it

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "host": self.host,
            "alive": self.alive,
            "admin_state_up": self.admin_state_up,
            "gateways": self.gateways,
        }


def is_ovn(snapshot: Snapshot[Any]) -> bool:
    return snapshot.kind == Kind.ROUTERS and bool(snapshot.extra.get("ovn"))


def active_chassis(router: Router) -> str | None:
    """The chassis a router's gateway is active on; None without one (or not OVN)."""
    gateway = router.gateway
    return gateway.host if gateway is not None and gateway.active else None


def gateway_chassis(snapshot: Snapshot[Router]) -> list[GatewayChassis] | None:
    """The region's gateway chassis by host, with the gateways each holds; None when
    the snapshot does not say (not OVN, or the gateway agents could not be read)."""
    agents = snapshot.extra.get("gateway_chassis")
    if not isinstance(agents, Mapping):
        return None
    held = Counter(h for r in snapshot.items.values() if (h := active_chassis(r)))
    found = [
        GatewayChassis(
            agent_id=str(agent_id),
            host=str(a.get("host") or ""),
            alive=bool(a.get("alive")),
            admin_state_up=bool(a.get("admin_state_up", True)),
            gateways=held.get(str(a.get("host") or ""), 0),
        )
        for agent_id, a in agents.items()
        if isinstance(a, Mapping)
    ]
    return sorted(found, key=lambda c: (c.host, c.agent_id))


def live_chassis(chassis: list[GatewayChassis]) -> list[GatewayChassis]:
    return [c for c in chassis if c.alive]


def required_candidates(thresholds: Thresholds, live: int | None) -> int | None:
    """Live candidate chassis a router's gateway should have now; None when unknown."""
    return None if live is None else min(thresholds.min_gateway_candidates, live)


# -- one router ----------------------------------------------------------------------------


def _name(router: Router) -> str:
    return f"router {router_name(router)}"


def gateway_problems(
    router: Router,
    chassis: Mapping[str, GatewayChassis] | None,
    required: int | None = None,
) -> list[Problem]:
    """Every gateway problem one look at an OVN router shows, most severe first.
    `chassis` are the region's gateway chassis by host (None: unknown liveness);
    `required` the live candidates it should have (None skips that rule)."""
    gateway = router.gateway
    if gateway is None or not router.admin_state_up:
        return []  # no external gateway (nothing to fail over), or taken down on purpose
    name = _name(router)
    found: list[Problem] = []
    holder = (chassis or {}).get(gateway.host) if gateway.host else None
    if not gateway.host:
        text = f"{name} has no active gateway: its gateway port is {gateway.status} on no chassis"
        found.append(Problem(NO_GATEWAY, Severity.CRITICAL, "NO GATEWAY", text))
    elif holder is not None and not holder.alive:
        if gateway.status == "ACTIVE":
            text = (
                f"{name}'s gateway is active on {gateway.host}, whose gateway agent is dead: "
                "it forwards with the flows it has, and no change reaches it"
            )
            severity = Severity.WARNING
        else:
            text = f"{name}'s gateway port is {gateway.status} on dead chassis {gateway.host}"
            severity = Severity.CRITICAL
        found.append(Problem(ON_DEAD_CHASSIS, severity, "ON DEAD CHASSIS", text))
    elif gateway.status != "ACTIVE":
        text = (
            f"{name} has no active gateway: its gateway port is {gateway.status} on {gateway.host}"
        )
        found.append(Problem(NO_GATEWAY, Severity.CRITICAL, "NO GATEWAY", text))
    if router.bindings is not None and required is not None:
        live = sorted(b.host or b.agent_id for b in router.bindings if b.agent_alive)
        if len(live) < required:
            where = f" ({', '.join(live)})" if live else ""
            text = (
                f"{name} has {len(live)} live candidate gateway chassis{where}; "
                f"expected {required}: one more failure and its gateway has nowhere to go"
            )
            label = f"FEW CHASSIS ({len(live)})"
            found.append(Problem(FEW_CANDIDATES, Severity.WARNING, label, text))
    found.sort(key=lambda p: -p.severity)
    return found


# -- the region ------------------------------------------------------------------------------


def region_subject(ref: RegionRef) -> Subject:
    """The region itself (as `osconsole.health.assess.region_subject`): its gateway
    chassis are the region's, not any one router's."""
    return Subject(ref, REGION, ref.region, ref.region)


def chassis_problems(chassis: list[GatewayChassis], thresholds: Thresholds) -> list[Problem]:
    """The region's problem with its gateway chassis: too few alive for a failover."""
    live = live_chassis(chassis)
    if len(live) >= thresholds.min_gateway_chassis:
        return []
    dead = sorted(c.host for c in chassis if not c.alive)
    gone = f"; dead: {', '.join(dead)}" if dead else ""
    if not live:
        text = f"no gateway chassis alive ({len(chassis)} known{gone}): no router gateway can move"
        return [Problem(FEW_CHASSIS, Severity.CRITICAL, "NO GATEWAY CHASSIS", text)]
    hosts = ", ".join(c.host for c in live)
    text = (
        f"{len(live)} of {len(chassis)} gateway chassis alive "
        f"({hosts}){gone}: fewer than {thresholds.min_gateway_chassis}, no failover left"
    )
    return [Problem(FEW_CHASSIS, Severity.WARNING, f"{len(live)} GATEWAY CHASSIS", text)]


def concentration_problems(
    chassis: list[GatewayChassis], thresholds: Thresholds
) -> list[tuple[str, Problem]]:
    """(host, problem) for each chassis holding more than the configured share."""
    total = sum(c.gateways for c in chassis)
    if total < MIN_GATEWAYS_FOR_SHARE or len(live_chassis(chassis)) < 2:
        return []
    found = []
    for c in chassis:
        share = c.gateways / total
        if share > thresholds.gateway_concentration_ratio:
            text = (
                f"gateway chassis {c.host} holds {c.gateways} of {total} active gateways "
                f"({share:.0%}; over {thresholds.gateway_concentration_ratio:.0%}): "
                "its failure would move most of them at once"
            )
            essence = f"gateway chassis {c.host} holds most gateways"
            found.append(
                (c.host, Problem(CONCENTRATED, Severity.INFO, "CONCENTRATED", text, essence))
            )
    return found


def gateway_conditions(snapshot: Snapshot[Router], thresholds: Thresholds) -> list[Condition]:
    """Conditions of one OVN routers snapshot: each router's gateway, and the region's
    gateway chassis (none when the snapshot is not of an OVN region)."""
    if not is_ovn(snapshot):
        return []
    at = observed_time(snapshot)
    debounce = thresholds.router_debounce_s
    chassis = gateway_chassis(snapshot)
    by_host = None if chassis is None else {c.host: c for c in chassis}
    live = None if chassis is None else len(live_chassis(chassis))
    required = required_candidates(thresholds, live)
    found: list[Condition] = []
    for router in snapshot.items.values():
        problems = gateway_problems(router, by_host, required)
        if problems:
            subject = Subject(snapshot.ref, Kind.ROUTERS, router.id, router_name(router))
            found += [Condition.of(p, subject, at, debounce) for p in problems]
    if chassis is not None:
        subject = region_subject(snapshot.ref)
        found += [Condition.of(p, subject, at) for p in chassis_problems(chassis, thresholds)]
        held = {c.host: c.gateways for c in chassis}
        piled = concentration_problems(chassis, thresholds)
        if piled:  # one per region (its subject): the busiest chassis
            _, problem = max(piled, key=lambda hp: (held.get(hp[0], 0), hp[0]))
            found.append(Condition.of(problem, subject, at, debounce))
    return found
