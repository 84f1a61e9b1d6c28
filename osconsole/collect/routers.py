"""L3 HA routers: which hosts carry each router's replicas, and which replica is active.

`ha_state` appears in one place only, `routers/{id}/l3-agents`: one request per
router. At 20,000 routers that is the storm a monitor must not cause, so one poll
reads three cheap listings for everything (L3 agents, routers, HA ports with their
hosts) and then sweeps `l3-agents` for as many routers as the region's sweep budget
allows in one interval, most telling first: routers never swept, routers on an
agent that died, revived or restarted, routers whose replicas moved, routers that
looked wrong last time, then the least recently swept. The others keep the bindings
of their last sweep, with agent liveness refreshed from this poll's agent list.

ML2/OVN regions have no L3 agents (detected per region, from the agent types the
region reports): there one paged listing of the routers' gateway ports gives the
chassis each router's gateway is active on (Neutron binds the port to the chassis that
claimed it, ACTIVE, or to none, DOWN), and the same budgeted sweep of `l3-agents`
reads each router's candidate gateway chassis (gateway agents with their priority):
how many chassis it can fail over to. The gateway agents are listed each poll for the
chassis' liveness.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from osconsole.clean import clean_text
from osconsole.cloud import network
from osconsole.cloud.http import ApiFailure, Forbidden, MalformedResponse
from osconsole.collect.base import Collected, Collector
from osconsole.collect.parse import as_bool, utc_timestamp
from osconsole.model import Kind, Router, RouterBinding, RouterGateway, Snapshot

L3_AGENT_TYPE = "L3 agent"
OVN_GATEWAY_TYPE = "OVN Controller Gateway agent"
OVN_PREFIX = "OVN "
OVN_NOTE = "ML2/OVN: gateways on chassis, no L3 agents"
ROUTER_FIELDS = ["id", "name", "project_id", "status", "admin_state_up", "ha", "distributed"]
AGENT_FIELDS = ["id", "agent_type", "host", "alive", "admin_state_up", "started_at"]

# Sweep tiers, most urgent first.
NEVER_SWEPT, AGENT_CHANGED, HOSTS_CHANGED, SUSPICIOUS, ROUTINE = range(5)


# -- pure helpers ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentMark:
    """What we remember of one L3 agent between polls, to notice what changed."""

    host: str
    alive: bool
    admin_state_up: bool
    started_at: float | None


@dataclass(frozen=True, slots=True)
class SweepCandidate:
    """One router's claim on this poll's sweep allowance."""

    router_id: str
    last_swept: float | None  # server time of its last sweep; None when never swept
    agent_changed: bool = False  # an agent of its hosts died, revived or restarted
    hosts_changed: bool = False  # its replica hosts moved in the HA ports listing
    suspicious: bool = False  # zero or 2+ actives, or an active on a dead agent

    @property
    def tier(self) -> int:
        if self.last_swept is None:
            return NEVER_SWEPT
        if self.agent_changed:
            return AGENT_CHANGED
        if self.hosts_changed:
            return HOSTS_CHANGED
        if self.suspicious:
            return SUSPICIOUS
        return ROUTINE


def sweep_order(
    candidates: Iterable[SweepCandidate],
    *,
    now: float | None = None,
    refresh_age: float = 0.0,
) -> list[str]:
    """Router ids, most telling first; within a tier the least recently swept first
    (and otherwise in the given order, which is stable).

    A routine router (nothing changed, nothing suspicious) swept less than
    `refresh_age` seconds before `now` is left out: HA states move with agents and
    hosts, which the listings already watch, so the background refresh can be slow.
    """

    def key(c: SweepCandidate) -> tuple[int, float]:
        return c.tier, (c.last_swept if c.last_swept is not None else -math.inf)

    def due(c: SweepCandidate) -> bool:
        if c.tier != ROUTINE or now is None or c.last_swept is None:
            return True
        return now - c.last_swept >= refresh_age

    return [c.router_id for c in sorted(candidates, key=key) if due(c)]


def sweep_allowance(rate: float | None, interval: float) -> int | None:
    """Sweep requests one poll may send: the budget's rate over one interval
    (at least one, so a tiny budget still makes progress); None when unpaced."""
    if rate is None:
        return None
    return max(1, math.floor(rate * interval + 1e-9))


def changed_agent_hosts(
    before: Mapping[str, AgentMark] | None, now: Mapping[str, AgentMark]
) -> frozenset[str]:
    """Hosts of agents that died, came back, restarted, appeared or vanished since
    `before` (nothing on the first poll, when there is no `before`)."""
    if before is None:
        return frozenset()
    hosts: set[str] = set()
    for agent_id in before.keys() | now.keys():
        old, new = before.get(agent_id), now.get(agent_id)
        if old is None or new is None:
            hosts.add((old or new).host)  # type: ignore[union-attr]
        elif old.alive != new.alive or old.started_at != new.started_at:
            hosts.update((old.host, new.host))
    hosts.discard("")
    return frozenset(hosts)


def is_suspicious(router: Router) -> bool:
    """Whether the last sweep showed something wrong worth a prompt second look (on
    OVN: a gateway not active, or fewer than two live candidate chassis)."""
    if router.gateway is not None:
        live = [b for b in router.bindings or () if b.agent_alive]
        return not router.gateway.active or (router.bindings is not None and len(live) < 2)
    if router.bindings is None:
        return False
    if router.ha is False:
        return not any(b.agent_alive for b in router.bindings)
    actives = [b for b in router.bindings if b.ha_state == "active"]
    return len(actives) != 1 or any(not b.agent_alive for b in actives)


def parse_agent(item: Any) -> tuple[str, AgentMark] | None:
    """(id, mark) from an agents listing item; None when it has no id."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        return None
    mark = AgentMark(
        host=clean_text(item.get("host") or ""),
        alive=as_bool(item.get("alive")),
        admin_state_up=as_bool(item.get("admin_state_up"), True),
        started_at=utc_timestamp(item.get("started_at")),
    )
    return clean_text(item["id"]), mark


def parse_router(item: Any) -> Router | None:
    """A Router (no bindings yet) from a listing item; None when it has no id."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        return None
    ha, distributed = item.get("ha"), item.get("distributed")
    return Router(
        id=clean_text(item["id"]),
        name=clean_text(item.get("name") or ""),
        project_id=clean_text(item.get("project_id") or item.get("tenant_id") or ""),
        status=clean_text(item.get("status") or "UNKNOWN"),
        admin_state_up=as_bool(item.get("admin_state_up"), True),
        ha=ha if isinstance(ha, bool) else None,
        distributed=distributed if isinstance(distributed, bool) else None,
    )


def parse_binding(item: Any) -> RouterBinding | None:
    """One `l3-agents` entry; None when it names no agent."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        return None
    state, priority = item.get("ha_state"), item.get("ha_chassis_priority")
    return RouterBinding(
        agent_id=clean_text(item["id"]),
        host=clean_text(item.get("host") or ""),
        ha_state=clean_text(state) if isinstance(state, str) else None,
        agent_alive=as_bool(item.get("alive")),
        agent_admin_up=as_bool(item.get("admin_state_up"), True),
        priority=priority if isinstance(priority, int) and not isinstance(priority, bool) else None,
    )


def readable_port(port: Any) -> bool:
    """Whether an HA ports listing item names its router."""
    return (
        isinstance(port, dict)
        and isinstance(port.get("device_id"), str)
        and bool(port["device_id"])
    )


def replica_hosts(ports: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """Router id -> sorted hosts of its HA ports (unbound ports have no host)."""
    found: dict[str, set[str]] = {}
    for port in filter(readable_port, ports):
        host = port.get("binding:host_id")
        hosts = found.setdefault(clean_text(port["device_id"]), set())
        if isinstance(host, str) and host:
            hosts.add(clean_text(host))
    return {router_id: tuple(sorted(hosts)) for router_id, hosts in found.items()}


def router_gateways(ports: Iterable[Any]) -> dict[str, RouterGateway]:
    """Router id -> its gateway port (an ACTIVE one first, should it have several)."""
    found: dict[str, RouterGateway] = {}
    for port in filter(readable_port, ports):
        host, status = port.get("binding:host_id"), port.get("status")
        gateway = RouterGateway(
            port_id=str(port.get("id") or ""),
            host=host if isinstance(host, str) else "",
            status=status if isinstance(status, str) and status else "UNKNOWN",
        )
        known = found.get(port["device_id"])
        if known is None or (gateway.active and not known.active):
            found[port["device_id"]] = gateway
    return found


def gateway_hosts(gateways: Mapping[str, RouterGateway]) -> dict[str, tuple[str, ...]]:
    """Router id -> (the chassis its gateway is on,), or () when none holds it: what the
    sweep watches for moves, as it watches HA replica hosts on ML2/OVS."""
    return {rid: (g.host,) if g.host else () for rid, g in gateways.items()}


def refresh_bindings(
    bindings: Sequence[RouterBinding], agents: Mapping[str, AgentMark]
) -> tuple[RouterBinding, ...]:
    """Bindings with their agents' liveness as of now; a vanished agent is not alive."""
    out = []
    for b in bindings:
        mark = agents.get(b.agent_id)
        if mark is None:
            out.append(replace(b, agent_alive=False))
        else:
            out.append(
                replace(
                    b,
                    host=mark.host or b.host,
                    agent_alive=mark.alive,
                    agent_admin_up=mark.admin_state_up,
                )
            )
    return tuple(out)


def router_hosts(router: Router) -> set[str]:
    """Every host a router is known to live on: its HA ports', its bindings' (its
    candidate chassis on OVN) and its gateway's."""
    hosts = set(router.replica_hosts) | {b.host for b in router.bindings or () if b.host}
    if router.gateway is not None and router.gateway.host:
        hosts.add(router.gateway.host)
    return hosts


# -- the collector ---------------------------------------------------------------------


@dataclass
class _Listings:
    """The three listings of one poll (agents and HA ports may have failed)."""

    routers: dict[str, Router]
    server_time: float | None
    skipped: int
    agents: dict[str, AgentMark] | None  # None when the listing failed
    ovn: bool  # then `agents` are the gateway chassis' agents
    hosts: dict[str, tuple[str, ...]] | None  # None when the HA ports listing failed
    notes: list[str] = field(default_factory=list)
    gateways: dict[str, RouterGateway] | None = None  # OVN; None when unread
    unreadable: int = 0  # agents and HA ports listed without an id: the poll is partial

    def take_agents(self, items: list[Any], what: str) -> None:
        """The agents listing read: those without an id are counted and noted."""
        marks = [parse_agent(item) for item in items]
        self.agents = dict(filter(None, marks))
        bad = marks.count(None)
        if bad:
            self.unreadable += bad
            self.notes.append(f"skipped {bad} malformed {what} item(s) without an id")


@dataclass
class _SweepOutcome:
    found: dict[str, tuple[tuple[RouterBinding, ...], float | None]] = field(default_factory=dict)
    failures: dict[str, ApiFailure] = field(default_factory=dict)
    refused: Forbidden | None = None


class RouterCollector(Collector):
    """Routers with replica hosts for all, and `ha_state` swept within the budget."""

    kind = Kind.ROUTERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._agent_marks: dict[str, AgentMark] | None = None
        self._last_hosts: dict[str, tuple[str, ...]] = {}
        self._pending_agent: set[str] = set()  # flagged by an agent change, not swept since
        self._pending_hosts: set[str] = set()  # flagged by moved replicas, not swept since
        self._ovn_known = False  # the last poll found an ML2/OVN region

    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        seen = await (self._ovn_listings() if self._ovn_known else self._listings())
        notes = list(seen.notes)
        if seen.skipped:
            notes.append(f"skipped {seen.skipped} malformed router item(s) without an id")
        before = _previous_routers(previous)
        if previous is not None and bool(previous.extra.get("ovn")) != seen.ovn:
            # The region changed backends: nothing read under the other one applies.
            before, self._agent_marks, self._last_hosts = {}, None, {}
            self._pending_agent, self._pending_hosts = set(), set()
        # Without any gateway agent, look again next time (the region may have moved on).
        self._ovn_known = seen.ovn and seen.agents != {}
        hosts = seen.hosts if seen.hosts is not None else self._hosts_fallback(before)
        routers = self._carry(seen, hosts, before)
        order = self._prioritise(seen, routers, before)
        allowance = sweep_allowance(self.budget.rate, self.settings.intervals.of(Kind.ROUTERS))
        chosen = order if allowance is None else order[:allowance]
        outcome = await self._sweep(chosen)
        self._apply(routers, outcome, seen)
        self._remember(seen, routers, outcome)
        return self._result(seen, routers, outcome, allowance is not None, notes)

    # -- listings ---------------------------------------------------------------

    async def _listings(self) -> _Listings:
        agents_r, routers_r, ports_r = await asyncio.gather(
            network.agents(self.client, agent_type=L3_AGENT_TYPE, fields=AGENT_FIELDS),
            network.routers(self.client, fields=ROUTER_FIELDS),
            network.ha_ports(self.client),
            return_exceptions=True,
        )
        _raise_unusable(routers_r, agents_r, ports_r)
        routers, skipped = _parse_routers(routers_r[0])
        seen = _Listings(routers, routers_r[1], skipped, None, False, None)
        if isinstance(agents_r, BaseException):
            seen.notes.append(f"L3 agents unreadable ({agents_r}); agent liveness not refreshed")
        else:
            seen.take_agents(agents_r[0], "L3 agent")
            if not seen.agents and await self._detect_ovn(seen.notes):
                return await self._ovn_listings(routers_r)
        if isinstance(ports_r, BaseException):
            seen.notes.append(f"HA ports unreadable ({ports_r}); replica hosts from the last poll")
        else:
            seen.hosts = replica_hosts(ports_r[0])
            bad = sum(1 for port in ports_r[0] if not readable_port(port))
            if bad:
                seen.unreadable += bad
                seen.notes.append(f"skipped {bad} malformed HA port item(s) without a router")
        return seen

    async def _detect_ovn(self, notes: list[str]) -> bool:
        """No L3 agents: an OVN cloud, or a credential that may not list agents. Its
        gateway agents say so in one small listing; without any, every agent's type."""
        fields = ["id", "agent_type"]
        try:
            items, _ = await network.agents(self.client, agent_type=OVN_GATEWAY_TYPE, fields=fields)
            if not items:
                items, _ = await network.agents(self.client, fields=fields)
        except ApiFailure as exc:
            notes.append(f"no L3 agents, and the agent list is unreadable ({exc})")
            return False
        if any(
            isinstance(a, dict) and str(a.get("agent_type") or "").startswith(OVN_PREFIX)
            for a in items
        ):
            return True
        notes.append("no L3 agents visible (listing agents needs an admin credential)")
        return False

    async def _ovn_listings(self, routers_read: Any = None) -> _Listings:
        """ML2/OVN: gateway agents, routers (unless already read) and gateway ports."""
        routers_call = (
            _done(routers_read)
            if routers_read is not None
            else network.routers(self.client, fields=ROUTER_FIELDS)
        )
        agents_r, routers_r, ports_r = await asyncio.gather(
            network.agents(self.client, agent_type=OVN_GATEWAY_TYPE, fields=AGENT_FIELDS),
            routers_call,
            network.gateway_ports(self.client),
            return_exceptions=True,
        )
        _raise_unusable(routers_r, agents_r, ports_r)
        routers, skipped = _parse_routers(routers_r[0])
        seen = _Listings(routers, routers_r[1], skipped, None, True, None, [OVN_NOTE])
        if isinstance(agents_r, BaseException):
            seen.notes.append(f"gateway agents unreadable ({agents_r}); chassis liveness unknown")
        else:
            seen.take_agents(agents_r[0], "gateway agent")
        if isinstance(ports_r, BaseException):
            seen.notes.append(f"gateway ports unreadable ({ports_r}); gateways from the last poll")
        else:
            seen.gateways = router_gateways(ports_r[0])
            seen.hosts = gateway_hosts(seen.gateways)
            bad = sum(1 for port in ports_r[0] if not readable_port(port))
            if bad:
                seen.unreadable += bad
                seen.notes.append(f"skipped {bad} malformed gateway port item(s) without a router")
        return seen

    def _hosts_fallback(self, before: Mapping[str, Router]) -> dict[str, tuple[str, ...]]:
        if self._last_hosts:
            return self._last_hosts
        return {rid: _hosts_key(r) for rid, r in before.items()}

    # -- carrying and prioritising ------------------------------------------------------

    def _carry(
        self,
        seen: _Listings,
        hosts: Mapping[str, tuple[str, ...]],
        before: Mapping[str, Router],
    ) -> dict[str, Router]:
        """This poll's routers with the bindings of their last sweep, liveness refreshed."""
        routers = {}
        for rid, router in seen.routers.items():
            last = before.get(rid)
            bindings = last.bindings if last is not None else None
            if bindings is not None and seen.agents:  # none listed: nothing to refresh from
                bindings = refresh_bindings(bindings, seen.agents)
            if seen.ovn:
                gateway = _gateway_of(rid, seen.gateways, last)
                placed = {"gateway": gateway}
            else:
                placed = {"replica_hosts": hosts.get(rid, ())}
            routers[rid] = replace(
                router,
                bindings=bindings,
                bindings_checked_at=last.bindings_checked_at if bindings is not None else None,
                **placed,
            )
        return routers

    def _prioritise(
        self, seen: _Listings, routers: Mapping[str, Router], before: Mapping[str, Router]
    ) -> list[str]:
        """Flag what changed since the last poll (flags last until swept), then order."""
        if seen.agents is not None:
            changed = changed_agent_hosts(self._agent_marks, seen.agents)
            if changed:
                self._pending_agent |= {
                    rid for rid, r in routers.items() if router_hosts(r) & changed
                }
        if seen.hosts is not None:
            last_hosts = self._last_hosts or {rid: _hosts_key(r) for rid, r in before.items()}
            self._pending_hosts |= {
                rid
                for rid, r in routers.items()
                if rid in last_hosts and last_hosts[rid] != _hosts_key(r)
            }
        self._pending_agent &= routers.keys()
        self._pending_hosts &= routers.keys()
        candidates = [
            SweepCandidate(
                router_id=rid,
                last_swept=r.bindings_checked_at if r.bindings is not None else None,
                agent_changed=rid in self._pending_agent,
                hosts_changed=rid in self._pending_hosts,
                suspicious=is_suspicious(r),
            )
            for rid, r in routers.items()
        ]
        return sweep_order(
            candidates, now=seen.server_time, refresh_age=self.settings.intervals.full_resync
        )

    # -- sweeping ---------------------------------------------------------------------

    async def _sweep(self, router_ids: Sequence[str]) -> _SweepOutcome:
        """`l3-agents` for each router, in order, a few at a time, each paid from the budget."""
        outcome = _SweepOutcome()
        queue = iter(router_ids)

        async def worker() -> None:
            for rid in queue:
                if outcome.refused is None:
                    await self.budget.acquire()
                if outcome.refused is not None:
                    return
                try:
                    items, at = await network.router_l3_agents(self.client, rid)
                    bindings = _bindings(rid, items)
                except Forbidden as exc:  # one refusal means every one would be refused
                    outcome.refused = exc
                    return
                except ApiFailure as exc:  # deleted meanwhile, timeout, 5xx: keep the last
                    outcome.failures[rid] = exc
                    continue
                outcome.found[rid] = (bindings, at)

        workers = min(len(router_ids), self.settings.concurrency)
        await asyncio.gather(*(worker() for _ in range(workers)))
        return outcome

    def _apply(self, routers: dict[str, Router], outcome: _SweepOutcome, seen: _Listings) -> None:
        fallback = seen.server_time if seen.server_time is not None else self.clock()
        for rid, (bindings, at) in outcome.found.items():
            routers[rid] = replace(
                routers[rid],
                bindings=bindings,
                bindings_checked_at=at if at is not None else fallback,
            )

    def _remember(
        self, seen: _Listings, routers: Mapping[str, Router], outcome: _SweepOutcome
    ) -> None:
        if seen.agents is not None:
            self._agent_marks = dict(seen.agents)
        if seen.hosts is not None:
            self._last_hosts = {rid: _hosts_key(r) for rid, r in routers.items()}
        self._pending_agent -= outcome.found.keys()
        self._pending_hosts -= outcome.found.keys()

    # -- the result ------------------------------------------------------------------

    def _result(
        self,
        seen: _Listings,
        routers: Mapping[str, Router],
        outcome: _SweepOutcome,
        paced: bool,
        notes: list[str],
    ) -> Collected:
        swept = len(outcome.found)
        never = sum(1 for r in routers.values() if r.bindings is None)
        complete = not (
            seen.skipped or seen.unreadable or seen.hosts is None or seen.agents is None
        )
        agents = _agents_extra(seen.agents or {})
        if outcome.refused is not None:
            complete = False
            what = "gateway chassis" if seen.ovn else "HA states"
            notes.append(
                f"l3-agents refused ({outcome.refused.reason}): {what} need an admin credential"
            )
        if outcome.failures:
            first = next(iter(outcome.failures.values()))
            notes.append(
                f"{len(outcome.failures)} l3-agents request(s) failed (e.g. {first.reason}); "
                "those routers keep their previous bindings"
            )
        if paced:
            notes.append(f"swept {swept} of {len(routers)} routers; {never} never swept yet")
        # Bindings carried from a sweep younger than the refresh age are current enough:
        # the listings would have flagged the router had one of its agents changed.
        complete = complete and never == 0 and (paced or not outcome.failures)
        return Collected(
            items=dict(routers),
            server_time=seen.server_time,
            complete=complete,
            notes=tuple(notes),
            extra={
                "swept": swept,
                "failed": len(outcome.failures),
                "routers": len(routers),
                "ovn": seen.ovn,
                "l3_agents": {} if seen.ovn else agents,
                **({"gateway_chassis": agents} if seen.ovn and seen.agents is not None else {}),
            },
        )


def _bindings(router_id: str, items: list[Any]) -> tuple[RouterBinding, ...]:
    """A router's bindings; an entry naming no agent makes the whole answer unreadable
    (dropping it could turn a router's only active replica into "no active")."""
    parsed = [parse_binding(item) for item in items]
    bindings = tuple(b for b in parsed if b is not None)
    if len(bindings) != len(parsed):
        path = f"/v2.0/routers/{router_id}/l3-agents"
        raise MalformedResponse("network", "GET", path, "an agent entry without an id")
    return bindings


def _hosts_key(router: Router) -> tuple[str, ...]:
    """Where a router lives, as the sweep watches it move: its HA replica hosts, or on
    OVN the chassis of its gateway."""
    if router.gateway is not None:
        return (router.gateway.host,) if router.gateway.host else ()
    return router.replica_hosts


def _gateway_of(
    router_id: str, gateways: Mapping[str, RouterGateway] | None, last: Router | None
) -> RouterGateway | None:
    """This poll's gateway port of a router; the last one when the listing failed."""
    if gateways is not None:
        return gateways.get(router_id)
    return last.gateway if last is not None else None


def _raise_unusable(routers: Any, *others: Any) -> None:
    """After the listings of one poll: a bug (not an API failure) is raised; so is a
    failed routers listing, without which there is nothing to show."""
    for result in (routers, *others):
        if isinstance(result, BaseException) and not isinstance(result, ApiFailure):
            raise result
    if isinstance(routers, BaseException):
        raise routers


async def _done(value: Any) -> Any:
    return value


def _parse_routers(items: Iterable[Any]) -> tuple[dict[str, Router], int]:
    routers: dict[str, Router] = {}
    skipped = 0
    for item in items:
        router = parse_router(item)
        if router is None:
            skipped += 1
        else:
            routers[router.id] = router
    return routers, skipped


def _previous_routers(previous: Snapshot[Any] | None) -> dict[str, Router]:
    if previous is None:
        return {}
    return {rid: r for rid, r in previous.items.items() if isinstance(r, Router)}


def _agents_extra(agents: Mapping[str, AgentMark]) -> dict[str, dict[str, Any]]:
    return {
        agent_id: {
            "host": m.host,
            "alive": m.alive,
            "admin_state_up": m.admin_state_up,
            "started_at": m.started_at,
        }
        for agent_id, m in agents.items()
    }
