"""Incidents over simulated time: scripted changes to the world on the simulation clock.

A console for operators is only worth testing against a cloud that changes: L3 agents
die and keepalived fails over (or does not), routers go split-brain, compute hosts
vanish, tenants misbehave. A Scenario scripts such incidents as timed steps; the
ScenarioRunner (one per world, installed in `world.tickers`) applies every due step in
order and passes each step its own scheduled time as `now`, so jumping the clock ten
minutes at once gives exactly the timeline of ten minutes of one-second steps.

Targets are chosen when a step runs, from a Random seeded by the world's seed, the
scenario's name, its region and how many times it was started there: the same world
and the same calls always pick the same agents, hosts and projects. What each step did
is kept in an event log that the `/_sim/scenarios` control API exposes.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from osconsole.sim.generate import FLAVORS
from osconsole.sim.world import (
    DHCP_AGENT,
    NEUTRON_AGENT_DOWN_TIME,
    NOVA_SERVICE_DOWN_TIME,
    OVN_CONTROLLER,
    OVN_METADATA,
    OVS_AGENT,
    Agent,
    Flavor,
    Hypervisor,
    Port,
    Region,
    Router,
    SecurityGroupRule,
    Server,
    World,
    compute_usage,
    new_uuid,
)

StepFn = Callable[[World, Region, float], list[str]]
"""One scripted change to a region at `now`; returns what it did, one line per event."""

MAX_EVENTS = 10_000
MAX_CATCH_UP = 86_400.0  # a loop further behind than this skips whole cycles
MAX_DETAIL_LINES = 10  # per-router lines per step; the rest is summarised


@dataclass(frozen=True)
class Step:
    offset: float  # seconds after the start of the scenario (of its cycle, when it loops)
    region: str
    action: StepFn


@dataclass
class Scenario:
    """Timed steps; a looping scenario replays them every `loop` seconds."""

    name: str
    description: str
    steps: list[Step]
    loop: float | None = None
    claims: set[str] = field(default_factory=set)  # ids its incidents currently use

    def __post_init__(self) -> None:
        self.steps.sort(key=lambda s: s.offset)
        if any(s.offset < 0 for s in self.steps):
            raise ValueError("step offsets must not be negative")
        if self.loop is not None and (
            self.loop <= 0 or any(s.offset >= self.loop for s in self.steps)
        ):
            raise ValueError("a looping scenario's steps must fall inside one cycle")


@dataclass(frozen=True)
class Event:
    seq: int
    time: float
    region: str | None  # None for a world-wide note (scenario started or stopped)
    scenario: str
    description: str


class Plan:
    """What a scenario factory gets: its regions, its seed and who is busy with what."""

    def __init__(
        self,
        regions: list[str],
        seed: str,
        busy: Callable[[str], bool],
        backends: dict[str, str] | None = None,
    ) -> None:
        self.regions = regions
        self.backends = backends or {}  # region -> "ovs" / "ovn"
        self.seed = seed
        self.claims: set[str] = set()
        self._others_busy = busy

    def rng(self, *parts: object) -> random.Random:
        return random.Random(":".join([self.seed, *map(str, parts)]))

    def busy(self, key: str) -> bool:
        """Whether an incident of this or another running scenario already uses `key`."""
        return key in self.claims or self._others_busy(key)

    def ovn(self, region: str) -> bool:
        return self.backends.get(region) == "ovn"


# -- small helpers --------------------------------------------------------------


def agent_label(agent: Agent) -> str:
    """`l3 agent r1-net002 (id)`, as the event log names agents."""
    return f"{agent.agent_type.lower()} {agent.host} ({agent.id})"


def router_label(router: Router) -> str:
    return f"router {router.name} ({router.id})"


def _alive(region: Region, agent_id: str, now: float) -> bool:
    agent = region.agents.get(agent_id)
    return agent is not None and agent.is_alive(now)


def _live_actives(region: Region, router: Router, now: float) -> list[str]:
    """Agents that store `active` for `router` and are alive: the keepalived masters."""
    return [
        aid
        for aid, state in router.bindings.items()
        if state == "active" and _alive(region, aid, now)
    ]


def _host(region: Region, agent_id: str) -> str:
    agent = region.agents.get(agent_id)
    return agent.host if agent else agent_id


def _touch(item: Port | Server, now: float) -> None:
    """Bump what `changes-since` / `changed_since` and revision checks look at."""
    item.updated_at = now
    if isinstance(item, Port):
        item.revision += 1


def _capped(lines: list[str], what: str) -> list[str]:
    if len(lines) <= MAX_DETAIL_LINES:
        return lines
    return [*lines[:MAX_DETAIL_LINES], f"... and {len(lines) - MAX_DETAIL_LINES} more {what}"]


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _mac(rng: random.Random) -> str:
    return "fa:16:3e:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


# -- incidents ------------------------------------------------------------------


class Incident:
    """One incident in one region; its steps share what it picked through `self`."""

    def __init__(self, plan: Plan, region: str, tag: str) -> None:
        self.plan = plan
        self.region = region
        self.rng = plan.rng(tag, region)
        self._claimed: list[str] = []

    def claim(self, key: str) -> None:
        """Keep other incidents off `key` (an agent id, host or project) in this region."""
        scoped = f"{self.region}:{key}"
        self.plan.claims.add(scoped)
        self._claimed.append(scoped)

    def busy(self, key: str) -> bool:
        return self.plan.busy(f"{self.region}:{key}")

    def release(self) -> None:
        for key in self._claimed:
            self.plan.claims.discard(key)
        self._claimed.clear()

    def step(self, offset: float, action: StepFn) -> Step:
        return Step(offset, self.region, action)

    def steps(self, at: float) -> list[Step]:
        raise NotImplementedError


class L3AgentDies(Incident):
    """An L3 agent stops; keepalived moves most of its routers, some are left with none.

    The victim is the live L3 agent that masters the most routers (the worst case).
    The dead agent's bindings stay `active` in the database (Neutron rewrites them on
    read); `takeover_after` seconds later a surviving standby becomes master for most
    routers, while `orphan_share` of them (at least one of three or more) get no master.
    """

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "l3-agent-dies",
        *,
        takeover_after: float = 10.0,
        orphan_share: float = 0.2,
        recover_after: float | None = None,
    ) -> None:
        super().__init__(plan, region, tag)
        self.takeover_after = takeover_after
        self.orphan_share = orphan_share
        self.recover_after = recover_after
        self.victim: str | None = None
        self.routers: list[str] = []  # HA routers the victim was master of
        self.orphans: list[str] = []

    def steps(self, at: float) -> list[Step]:
        steps = [self.step(at, self.kill), self.step(at + self.takeover_after, self.takeover)]
        if self.recover_after is not None:
            steps.append(self.step(at + self.recover_after, self.recover))
        return steps

    def kill(self, world: World, region: Region, now: float) -> list[str]:
        self.victim, self.routers, self.orphans = None, [], []
        masters: dict[str, list[str]] = {}
        for router in region.routers:
            if router.ha:
                for aid in _live_actives(region, router, now):
                    masters.setdefault(aid, []).append(router.id)
        agents = [a for a in region.l3_agents() if a.is_alive(now) and not self.busy(a.id)]
        if not agents:
            return ["no live L3 agent to stop"]
        most = max(len(masters.get(a.id, ())) for a in agents)
        candidates = [a for a in agents if len(masters.get(a.id, ())) == most]
        agent = self.rng.choice(candidates)
        self.claim(agent.id)
        agent.stop(now)
        self.victim = agent.id
        self.routers = masters.get(agent.id, [])
        return [
            f"{agent_label(agent)} stopped; it was active for {_n(len(self.routers), 'HA router')}"
        ]

    def takeover(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.victim or "")
        if agent is None or agent.stopped_at is None:
            return []
        routers = [
            r
            for rid in self.routers
            if (r := region.routers.get(rid)) and r.bindings.get(agent.id) == "active"
        ]
        count = len(routers)
        orphan_count = max(1, round(count * self.orphan_share)) if count >= 3 else 0
        orphans = {r.id for r in self.rng.sample(routers, orphan_count)}
        moved, stranded = 0, []
        for router in routers:
            if router.id not in orphans and self._fail_over(region, router, agent.id, now):
                moved += 1
            else:
                stranded.append(router)
        self.orphans = [r.id for r in stranded]
        if self.recover_after is None:
            self.release()
        lines = [f"keepalived took over {moved} of {_n(count, 'router')} of {agent_label(agent)}"]
        details = [f"{router_label(r)}: no standby took over, no active L3 agent" for r in stranded]
        return lines + _capped(details, "routers without an active L3 agent")

    def _fail_over(self, region: Region, router: Router, dead: str, now: float) -> bool:
        """Make a live standby master (as keepalived does); False when none is left."""
        survivors = [aid for aid in router.bindings if aid != dead and _alive(region, aid, now)]
        if not survivors:
            return False
        if not any(router.bindings[aid] == "active" for aid in survivors):
            standbys = [aid for aid in survivors if router.bindings[aid] == "standby"]
            router.bindings[self.rng.choice(standbys or survivors)] = "active"
        router.bindings[dead] = "standby"
        return True

    def recover(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.victim or "")
        if agent is None:
            return []
        agent.resume(now)
        mastered = 0
        for rid in self.routers:
            router = region.routers.get(rid)
            if router is None or agent.id not in router.bindings:
                continue
            if not _live_actives(region, router, now):
                router.bindings[agent.id] = "active"
            mastered += _live_actives(region, router, now) == [agent.id]
        self.release()
        self.victim = None
        return [f"{agent_label(agent)} is back; active again for {_n(mastered, 'router')}"]


class SplitBrain(Incident):
    """An L3 agent restarts and claims master for routers another live agent masters."""

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "split-brain",
        *,
        resolve_after: float = 120.0,
        share: float = 0.5,
    ) -> None:
        super().__init__(plan, region, tag)
        self.resolve_after = resolve_after
        self.share = share
        self.agent_id: str | None = None
        self.routers: list[str] = []

    def steps(self, at: float) -> list[Step]:
        return [self.step(at, self.restart), self.step(at + self.resolve_after, self.resolve)]

    def restart(self, world: World, region: Region, now: float) -> list[str]:
        self.agent_id, self.routers = None, []
        eligible: dict[str, list[str]] = {}  # standby agent -> routers with one live master
        for router in region.routers:
            if not router.ha or len(_live_actives(region, router, now)) != 1:
                continue
            for aid, state in router.bindings.items():
                if state == "standby" and _alive(region, aid, now):
                    eligible.setdefault(aid, []).append(router.id)
        candidates = [a for a in region.l3_agents() if eligible.get(a.id) and not self.busy(a.id)]
        if not candidates:
            return ["no live L3 agent with standby routers to restart"]
        agent = self.rng.choice(candidates)
        self.claim(agent.id)
        agent.resume(now)  # a restart: new started_at, heartbeats go on
        routers = eligible[agent.id]
        picked = sorted(
            self.rng.sample(range(len(routers)), max(1, round(len(routers) * self.share)))
        )
        self.agent_id = agent.id
        self.routers = [routers[i] for i in picked]
        details = []
        for rid in self.routers:
            router = region.routers.get(rid)
            assert router is not None
            other = _live_actives(region, router, now)[0]
            router.bindings[agent.id] = "active"
            details.append(
                f"{router_label(router)}: active on {_host(region, other)} and {agent.host}"
            )
        head = (
            f"{agent_label(agent)} restarted and claims active for "
            f"{_n(len(self.routers), 'router')} that stay active elsewhere (split brain)"
        )
        return [head, *_capped(details, "routers in split brain")]

    def resolve(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.agent_id or "")
        if agent is None:
            return []
        details = []
        for rid in self.routers:
            router = region.routers.get(rid)
            if router is None or router.bindings.get(agent.id) != "active":
                continue
            others = [a for a, s in router.bindings.items() if a != agent.id and s == "active"]
            if not others:
                continue
            if self.rng.random() < 0.5:
                router.bindings[agent.id] = "standby"
                winner, losers = others[0], [agent.id]
            else:
                for aid in others:
                    router.bindings[aid] = "standby"
                winner, losers = agent.id, others
            lost = ", ".join(_host(region, a) for a in losers)
            details.append(
                f"{router_label(router)}: {_host(region, winner)} stays active, {lost} standby"
            )
        self.release()
        self.agent_id = None
        head = f"split brain of {agent_label(agent)} resolved for {_n(len(details), 'router')}"
        return [head, *_capped(details, "routers resolved")]


class ComputeHostDown(Incident):
    """A compute host with servers dies: nova-compute and its OVS agent stop reporting.

    Nova does not know yet, so servers keep their state; the service reads `down`
    after 60 s and the agent dead after 75 s, which two notes in the log mark.
    """

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "compute-host-down",
        *,
        recover_after: float | None = None,
    ) -> None:
        super().__init__(plan, region, tag)
        self.recover_after = recover_after
        self.host: str | None = None

    def steps(self, at: float) -> list[Step]:
        steps = [
            self.step(at, self.down),
            self.step(at + NOVA_SERVICE_DOWN_TIME + 1, self.nova_notices),
            self.step(at + NEUTRON_AGENT_DOWN_TIME + 1, self.neutron_notices),
        ]
        if self.recover_after is not None:
            steps.append(self.step(at + self.recover_after, self.recover))
        return steps

    def _ovs_agents(self, region: Region) -> list[Agent]:
        """The host's Neutron agents: Open vSwitch agent, or OVN controller and metadata."""
        types = (OVS_AGENT, OVN_CONTROLLER, OVN_METADATA)
        return [a for a in region.agents_on_host(self.host or "") if a.agent_type in types]

    def down(self, world: World, region: Region, now: float) -> list[str]:
        self.host = None
        candidates = [
            hv
            for hv in region.hypervisors
            if hv.running_vms > 0
            and hv.service.is_up(now)
            and not hv.service.disabled
            and not self.busy(hv.hostname)
        ]
        if not candidates:
            return ["no compute host with servers to take down"]
        hv = self.rng.choice(candidates)
        self.host = hv.hostname
        self.claim(hv.hostname)
        hv.service.stop(now)
        for agent in self._ovs_agents(region):
            agent.stop(now)
        return [
            f"compute host {hv.hostname} went down: nova-compute and its Neutron agents "
            f"stopped reporting; its {_n(hv.running_vms, 'server')} keep their last state"
        ]

    def nova_notices(self, world: World, region: Region, now: float) -> list[str]:
        service = region.compute_service_for_host(self.host or "")
        if service is None or service.stopped_at is None or service.is_up(now):
            return []
        return [f"nova-compute on {self.host} now reads down (no report for 60 s)"]

    def neutron_notices(self, world: World, region: Region, now: float) -> list[str]:
        dead = [a for a in self._ovs_agents(region) if not a.is_alive(now)]
        return [f"{agent_label(a)} now reads dead (no heartbeat for 75 s)" for a in dead]

    def recover(self, world: World, region: Region, now: float) -> list[str]:
        service = region.compute_service_for_host(self.host or "")
        if service is None:
            return []
        service.resume()
        for agent in self._ovs_agents(region):
            agent.resume(now)
        self.release()
        host, self.host = self.host, None
        return [f"compute host {host} is back: nova-compute and its Neutron agents report again"]


class TenantSpoofing(Incident):
    """One project misbehaves: spoofing-friendly ports, world-open rules, server churn."""

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "tenant-spoofing",
        *,
        churn_every: float = 4.0,
        churn_steps: int = 30,
        error_share: float = 0.25,
        keep: int = 3,
        recover_after: float | None = None,
    ) -> None:
        super().__init__(plan, region, tag)
        self.churn_every = churn_every
        self.churn_steps = churn_steps
        self.error_share = error_share
        self.keep = keep
        last_churn = 15.0 + churn_every * (churn_steps - 1)
        if recover_after is not None and recover_after <= last_churn:
            raise ValueError("recover_after must come after the last churn step")
        self.recover_after = recover_after
        self._reset()

    def _reset(self) -> None:
        self.project_id: str | None = None
        self.label = "project ?"
        self.template_id = ""
        self.pair_port = self.open_port = ""
        self.saved_pairs: list[dict] = []
        self.saved_groups: list[str] = []
        self.rule_ids: list[str] = []
        self.churned: list[tuple[str, str]] = []  # (server id, port id), oldest first
        self.counter = 0

    def steps(self, at: float) -> list[Step]:
        steps = [
            self.step(at, self.spoof),
            self.step(at + 5, self.disable_port_security),
            self.step(at + 10, self.open_rules),
        ]
        steps += [
            self.step(at + 15 + i * self.churn_every, self.churn) for i in range(self.churn_steps)
        ]
        if self.recover_after is not None:
            steps.append(self.step(at + self.recover_after, self.recover))
        return steps

    def _label(self, world: World) -> None:
        project = world.projects.get(self.project_id or "")
        self.label = f"project {project.name if project else '?'} ({self.project_id})"

    def spoof(self, world: World, region: Region, now: float) -> list[str]:
        self._reset()
        clean: dict[str, list[Port]] = {}
        for port in region.ports:
            server = region.servers.get(port.device_id)
            if (
                port.device_owner == "compute:nova"
                and port.port_security_enabled
                and not port.allowed_address_pairs
                and port.security_groups
                and server is not None
                and server.status == "ACTIVE"
            ):
                clean.setdefault(port.project_id, []).append(port)
        projects = [p for p, ports in clean.items() if len(ports) >= 2 and not self.busy(p)]
        if not projects:
            return ["no project with two clean server ports to misbehave"]
        self.project_id = self.rng.choice(projects)
        self.claim(self.project_id)
        self._label(world)
        first, second = self.rng.sample(clean[self.project_id], 2)
        self.pair_port, self.open_port, self.template_id = first.id, second.id, first.device_id
        self.saved_pairs = list(first.allowed_address_pairs)
        first.allowed_address_pairs = [{"ip_address": "0.0.0.0/0", "mac_address": first.mac}]
        _touch(first, now)
        return [f"{self.label}: port {first.id} now allows address pair 0.0.0.0/0"]

    def disable_port_security(self, world: World, region: Region, now: float) -> list[str]:
        port = region.ports.get(self.open_port)
        if port is None:
            return []
        self.saved_groups = list(port.security_groups)
        port.security_groups = []
        port.port_security_enabled = False
        _touch(port, now)
        return [f"{self.label}: port {port.id} has port security disabled"]

    def open_rules(self, world: World, region: Region, now: float) -> list[str]:
        port = region.ports.get(self.pair_port)
        if port is None or not port.security_groups:
            return []
        group = port.security_groups[0]
        lines = []
        for number in (22, 3389):
            if any(_is_open_rule(rule, group, number) for rule in region.security_group_rules):
                continue
            rule = SecurityGroupRule(
                id=new_uuid(self.rng),
                security_group_id=group,
                project_id=port.project_id,
                direction="ingress",
                ethertype="IPv4",
                protocol="tcp",
                port_range_min=number,
                port_range_max=number,
                remote_ip_prefix="0.0.0.0/0",
                remote_group_id=None,
                created_at=now,
                updated_at=now,
                belongs_to_default_sg=True,
            )
            region.security_group_rules.add(rule.id, rule)
            self.rule_ids.append(rule.id)
            lines.append(
                f"{self.label}: security group {group} "
                f"now allows tcp {number} from 0.0.0.0/0 (rule {rule.id})"
            )
        return lines

    def churn(self, world: World, region: Region, now: float) -> list[str]:
        template = region.servers.get(self.template_id)
        port = region.ports.get(self.pair_port)
        if template is None or port is None:
            return []
        lines = [self._create(region, template, port, now)]
        live = [(s, p) for s, p in self.churned if not _deleted(region, s)]
        for server_id, port_id in live[: max(0, len(live) - self.keep)]:
            lines.append(self._delete(region, server_id, port_id, now))
        return lines

    def _create(self, region: Region, template: Server, like: Port, now: float) -> str:
        self.counter += 1
        hv = (
            None
            if self.rng.random() < self.error_share
            else _live_hypervisor(region, self.rng, now)
        )
        name = f"{template.name.split('-')[0]}-churn-{self.counter:04d}"
        server, port = _boot(region, self.rng, now, template, like, template.flavor, name, hv)
        self.churned.append((server.id, port.id))
        return f"{self.label}: created server {server.name} ({server.id}) {_where(server)}"

    def _delete(self, region: Region, server_id: str, port_id: str, now: float) -> str:
        server = _destroy(region, server_id, port_id, now)
        return f"{self.label}: deleted server {server.name} ({server.id})"

    def recover(self, world: World, region: Region, now: float) -> list[str]:
        if self.project_id is None:
            return []
        pair = region.ports.get(self.pair_port)
        if pair is not None:
            pair.allowed_address_pairs = self.saved_pairs
            _touch(pair, now)
        opened = region.ports.get(self.open_port)
        if opened is not None:
            opened.port_security_enabled = True
            opened.security_groups = self.saved_groups
            _touch(opened, now)
        for rule_id in self.rule_ids:
            region.security_group_rules.remove(rule_id)
        live = [(s, p) for s, p in self.churned if not _deleted(region, s)]
        for server_id, port_id in live:
            self._delete(region, server_id, port_id, now)
        line = (
            f"{self.label} cleaned up: address pairs and port security restored, "
            f"{_n(len(self.rule_ids), 'rule')} removed, {_n(len(live), 'churned server')} deleted"
        )
        self.release()
        self._reset()
        return [line]


class QuotaSqueeze(Incident):
    """A project fills its Nova cores quota: every `every` seconds it launches a server,
    of the largest flavor that keeps its cores at or under `fill` of the limit, until
    they are there (or Nova would refuse: no limit is ever exceeded, instances and RAM
    included). `recover_after` seconds on, the servers are deleted again.

    The project is the one with the fewest cores to go, so a few launches do it.
    """

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "quota-squeeze",
        *,
        every: float = 5.0,
        launches: int = 20,
        fill: float = 0.95,
        recover_after: float | None = None,
    ) -> None:
        super().__init__(plan, region, tag)
        self.every = every
        self.launches = launches
        self.fill = fill
        if recover_after is not None and recover_after <= every * launches:
            raise ValueError("recover_after must come after the last launch")
        self.recover_after = recover_after
        self._reset()

    def _reset(self) -> None:
        self.project_id: str | None = None
        self.label = "project ?"
        self.template_id = self.like_port = ""
        self.launched: list[tuple[str, str]] = []  # (server id, port id)
        self.full = False

    def steps(self, at: float) -> list[Step]:
        steps = [self.step(at, self.pick)]
        steps += [self.step(at + i * self.every, self.launch) for i in range(1, self.launches + 1)]
        if self.recover_after is not None:
            steps.append(self.step(at + self.recover_after, self.recover))
        return steps

    def _usage(self, region: Region) -> tuple[dict[str, int], dict[str, int]]:
        """The project's Nova usage and limits, as Nova's quota check sees them."""
        assert self.project_id is not None
        servers = (s for s in region.servers if s.project_id == self.project_id)
        return compute_usage(servers), region.compute_quota(self.project_id)

    def pick(self, world: World, region: Region, now: float) -> list[str]:
        self._reset()
        ports = {p.device_id: p for p in region.ports if p.device_owner == "compute:nova"}
        servers: dict[str, list[Server]] = {}
        for server in region.servers:
            servers.setdefault(server.project_id, []).append(server)
        candidates = []
        for project_id, owned in servers.items():
            template = next((s for s in owned if s.status == "ACTIVE" and s.id in ports), None)
            limit = region.compute_quota(project_id)["cores"]
            room = math.ceil(self.fill * limit) - compute_usage(owned)["cores"]
            if template is not None and room > 0 and not self.busy(project_id):
                candidates.append((room, project_id, template))
        if not candidates:
            return ["no project with a server and room under its cores quota to fill"]
        _, self.project_id, template = min(candidates, key=lambda c: (c[0], c[1]))
        self.claim(self.project_id)
        project = world.projects.get(self.project_id)
        self.label = f"project {project.name if project else '?'} ({self.project_id})"
        self.template_id, self.like_port = template.id, ports[template.id].id
        used, limits = self._usage(region)
        return [
            f"{self.label}: launching servers until {self.fill:.0%} of its cores quota is "
            f"used (nova cores {used['cores']}/{limits['cores']} now)"
        ]

    def _flavor(self, used: dict[str, int], limits: dict[str, int]) -> Flavor | None:
        """The largest flavor that keeps cores within `fill` and fits every limit."""

        def fits(resource: str, more: int, limit: int) -> bool:
            return limit < 0 or used[resource] + more <= limit

        target = math.ceil(self.fill * limits["cores"])
        for flavor in sorted(FLAVORS, key=lambda f: (-f.vcpus, -f.ram)):
            if (
                used["cores"] + flavor.vcpus <= target
                and fits("instances", 1, limits["instances"])
                and fits("ram", flavor.ram, limits["ram"])
            ):
                return flavor
        return None

    def launch(self, world: World, region: Region, now: float) -> list[str]:
        template = region.servers.get(self.template_id)
        like = region.ports.get(self.like_port)
        if self.full or template is None or like is None:
            return []
        used, limits = self._usage(region)
        flavor = self._flavor(used, limits)
        if flavor is None:
            self.full = True
            cores = f"nova cores {used['cores']}/{limits['cores']}"
            if used["cores"] >= math.ceil(self.fill * limits["cores"]):
                return [f"{self.label}: stops launching at {cores}"]
            instances = f"instances {used['instances']}/{limits['instances']}"
            return [f"{self.label}: stops launching, Nova would refuse more ({cores}, {instances})"]
        name = f"{template.name.split('-')[0]}-quota-{len(self.launched) + 1:04d}"
        hv = _live_hypervisor(region, self.rng, now)
        server, port = _boot(region, self.rng, now, template, like, flavor, name, hv)
        self.launched.append((server.id, port.id))
        return [
            f"{self.label}: launched server {server.name} ({server.id}) {flavor.name} "
            f"{_where(server)}: nova cores {used['cores'] + flavor.vcpus}/{limits['cores']}"
        ]

    def recover(self, world: World, region: Region, now: float) -> list[str]:
        if self.project_id is None:
            return []
        live = [(s, p) for s, p in self.launched if not _deleted(region, s)]
        for server_id, port_id in live:
            _destroy(region, server_id, port_id, now)
        used, limits = self._usage(region)
        line = (
            f"{self.label} cleaned up: {_n(len(live), 'launched server')} deleted, "
            f"nova cores {used['cores']}/{limits['cores']}"
        )
        self.release()
        self._reset()
        return [line]


class AgentFlap(Incident):
    """A DHCP or OVS agent dies and comes back `down_for` seconds later (alive flips)."""

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "agent-flap",
        *,
        down_for: float = 165.0,
        sticky: bool = False,
    ) -> None:
        super().__init__(plan, region, tag)
        self.down_for = down_for
        self.sticky = sticky  # keep flapping the same agent on every cycle
        self.agent_id: str | None = None

    def steps(self, at: float) -> list[Step]:
        return [self.step(at, self.stop), self.step(at + self.down_for, self.resume)]

    def stop(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.agent_id or "")
        if agent is None:
            candidates = [
                a
                for a in region.agents
                if a.agent_type in (DHCP_AGENT, OVS_AGENT)
                and a.is_alive(now)
                and not self.busy(a.id)
                and not self.busy(a.host)
            ]
            if not candidates:
                return ["no live DHCP or Open vSwitch agent to flap"]
            agent = self.rng.choice(candidates)
            self.agent_id = agent.id
            self.claim(agent.id)
        agent.stop(now)
        return [f"{agent_label(agent)} stopped (flapping: back in {self.down_for:g} s)"]

    def resume(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.agent_id or "")
        if agent is None:
            return []
        agent.resume(now)
        if not self.sticky:
            self.release()
            self.agent_id = None
        return [f"{agent_label(agent)} is back (new started_at)"]


# -- ML2/OVN gateway chassis ----------------------------------------------------------


def _gateway_holders(region: Region) -> dict[str, list[Router]]:
    """Chassis host -> routers whose gateway port is bound there (ACTIVE or not)."""
    held: dict[str, list[Router]] = {}
    for router in region.routers:
        port = region.gateway_port(router)
        if port is not None and port.host:
            held.setdefault(port.host, []).append(router)
    return held


def _busiest_chassis(
    incident: Incident, region: Region, now: float
) -> tuple[Agent, list[Router]] | None:
    """The live gateway chassis holding the most gateways, and those routers."""
    held = _gateway_holders(region)
    chassis = [a for a in region.gateway_agents() if a.is_alive(now) and not incident.busy(a.id)]
    if not chassis:
        return None
    most = max(len(held.get(a.host, ())) for a in chassis)
    agent = incident.rng.choice([a for a in chassis if len(held.get(a.host, ())) == most])
    return agent, held.get(agent.host, [])


class GatewayChassisDies(Incident):
    """A gateway chassis dies (ovn-controller and ovs-vswitchd with it): BFD between the
    chassis notices at once, so every gateway it held goes DOWN with no host `release_after`
    seconds later and comes up ACTIVE on the next live chassis of its priority list
    `move_after` seconds after the death (about 5 s); a router with no other live chassis
    keeps no gateway. Its gateway agent reads dead only after agent_down_time (75 s).

    Back after `recover_after` (if given), the chassis takes its gateways back (OVN prefers
    the highest priority); the first of them shows the old host for `glitch` seconds
    after the others moved, as Neutron does during a chassis restart.
    """

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "gateway-chassis-dies",
        *,
        release_after: float = 1.0,
        move_after: float = 5.0,
        recover_after: float | None = None,
        glitch: float = 2.0,
    ) -> None:
        super().__init__(plan, region, tag)
        self.release_after = release_after
        self.move_after = move_after
        self.recover_after = recover_after
        self.glitch = glitch
        self.victim: str | None = None
        self.routers: list[str] = []  # routers whose gateway the victim held
        self.late: str | None = None  # the router that moves back last

    def steps(self, at: float) -> list[Step]:
        steps = [
            self.step(at, self.kill),
            self.step(at + self.release_after, self.lose),
            self.step(at + self.move_after, self.move),
            self.step(at + NEUTRON_AGENT_DOWN_TIME + 1, self.notice),
        ]
        if self.recover_after is not None:
            steps.append(self.step(at + self.recover_after, self.recover))
            steps.append(self.step(at + self.recover_after + self.glitch, self.settle))
        return steps

    def _victim(self, region: Region) -> Agent | None:
        return region.agents.get(self.victim or "")

    def _routers(self, region: Region) -> list[Router]:
        return [r for rid in self.routers if (r := region.routers.get(rid)) is not None]

    def kill(self, world: World, region: Region, now: float) -> list[str]:
        self.victim, self.routers, self.late = None, [], None
        found = _busiest_chassis(self, region, now)
        if found is None:
            return ["no live gateway chassis to take down"]
        agent, routers = found
        self.claim(agent.id)
        agent.stop(now)
        self.victim, self.routers = agent.id, [r.id for r in routers]
        return [
            f"gateway chassis {agent.host} went down (ovn-controller and ovs-vswitchd); "
            f"it held the gateway of {_n(len(routers), 'router')}"
        ]

    def lose(self, world: World, region: Region, now: float) -> list[str]:
        for router in self._routers(region):
            region.place_gateway(router, "", now)
        if not self.routers:
            return []
        return [f"BFD lost {_n(len(self.routers), 'gateway')}: ports DOWN, no chassis"]

    def move(self, world: World, region: Region, now: float) -> list[str]:
        if self.victim is None:
            return []
        moved, details = 0, []
        for router in self._routers(region):
            host = self._next_host(region, router, now)
            region.place_gateway(router, host, now)
            if host:
                moved += 1
            else:
                details.append(f"{router_label(router)}: no live gateway chassis left, no gateway")
        if self.recover_after is None:
            self.release()
        head = f"{moved} of {_n(len(self.routers), 'gateway')} moved to another chassis"
        return [head, *_capped(details, "routers without a gateway")]

    def _next_host(self, region: Region, router: Router, now: float) -> str:
        for agent_id in router.gateway_chassis:
            agent = region.agents.get(agent_id)
            if agent is not None and agent.id != self.victim and agent.is_alive(now):
                return agent.host
        return ""

    def notice(self, world: World, region: Region, now: float) -> list[str]:
        agent = self._victim(region)
        if agent is None or agent.is_alive(now):
            return []
        return [f"{agent_label(agent)} now reads dead (no heartbeat for 75 s)"]

    def recover(self, world: World, region: Region, now: float) -> list[str]:
        agent = self._victim(region)
        if agent is None:
            return []
        agent.resume(now)
        back = [r for r in self._routers(region) if r.gateway_chassis[:1] == [agent.id]]
        for i, router in enumerate(back):
            if i == 0:  # Neutron has not caught up with this one yet: the old host
                self.late = router.id
                continue
            region.place_gateway(router, agent.host, now)
        return [f"gateway chassis {agent.host} is back; {_n(len(back), 'gateway')} move back"]

    def settle(self, world: World, region: Region, now: float) -> list[str]:
        agent = self._victim(region)
        router = region.routers.get(self.late or "")
        self.release()
        self.victim = None
        if agent is None or router is None:
            return []
        region.place_gateway(router, agent.host, now)
        return [f"{router_label(router)}: gateway on {agent.host} again"]


class GatewayFailoverStuck(Incident):
    """ovn-controller stops on a gateway chassis while ovs-vswitchd runs on: BFD still
    sees the chassis, so the gateways stay bound to it (ACTIVE, forwarding with the flows
    it has, deaf to changes). Its gateway agent reads dead after 75 s; `down_after`
    seconds in, `down_share` of those gateway ports go DOWN on it (at least one).
    """

    def __init__(
        self,
        plan: Plan,
        region: str,
        tag: str = "gateway-failover-stuck",
        *,
        down_after: float = 90.0,
        down_share: float = 0.25,
        recover_after: float | None = None,
    ) -> None:
        super().__init__(plan, region, tag)
        if recover_after is not None and recover_after <= down_after:
            raise ValueError("recover_after must come after down_after")
        self.down_after = down_after
        self.down_share = down_share
        self.recover_after = recover_after
        self.victim: str | None = None
        self.routers: list[str] = []
        self.down: list[str] = []

    def steps(self, at: float) -> list[Step]:
        steps = [
            self.step(at, self.stop),
            self.step(at + NEUTRON_AGENT_DOWN_TIME + 1, self.notice),
            self.step(at + self.down_after, self.ports_down),
        ]
        if self.recover_after is not None:
            steps.append(self.step(at + self.recover_after, self.recover))
        return steps

    def stop(self, world: World, region: Region, now: float) -> list[str]:
        self.victim, self.routers, self.down = None, [], []
        found = _busiest_chassis(self, region, now)
        if found is None:
            return ["no live gateway chassis to stop ovn-controller on"]
        agent, routers = found
        self.claim(agent.id)
        agent.stop(now)
        self.victim, self.routers = agent.id, [r.id for r in routers]
        return [
            f"ovn-controller stopped on gateway chassis {agent.host}; ovs-vswitchd runs on, "
            f"so the {_n(len(routers), 'gateway')} it holds stay there"
        ]

    def notice(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.victim or "")
        if agent is None or agent.is_alive(now):
            return []
        return [
            f"{agent_label(agent)} now reads dead; "
            f"{_n(len(self.routers), 'gateway')} still bound to it"
        ]

    def ports_down(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.victim or "")
        routers = [r for rid in self.routers if (r := region.routers.get(rid)) is not None]
        if agent is None or not routers:
            return []
        count = max(1, round(len(routers) * self.down_share))
        lines = []
        for router in self.rng.sample(routers, count):
            port = region.gateway_port(router)
            if port is not None and port.host == agent.host:
                port.status = "DOWN"
                _touch(port, now)
                self.down.append(router.id)
                lines.append(f"{router_label(router)}: gateway port DOWN, still on {agent.host}")
        if self.recover_after is None:
            self.release()
        return _capped(lines, "gateway ports DOWN")

    def recover(self, world: World, region: Region, now: float) -> list[str]:
        agent = region.agents.get(self.victim or "")
        if agent is None:
            return []
        agent.resume(now)
        for rid in self.down:
            router = region.routers.get(rid)
            if router is not None:
                region.place_gateway(router, agent.host, now)
        self.release()
        self.victim = None
        return [f"ovn-controller on {agent.host} is back; its gateways are ACTIVE again"]


def _is_open_rule(rule: SecurityGroupRule, group: str, number: int) -> bool:
    return (
        rule.security_group_id == group
        and rule.direction == "ingress"
        and rule.protocol == "tcp"
        and rule.port_range_min == number
        and rule.port_range_max == number
        and rule.remote_ip_prefix == "0.0.0.0/0"
    )


def _boot(
    region: Region,
    rng: random.Random,
    now: float,
    template: Server,
    like: Port,
    flavor: Flavor,
    name: str,
    hv: Hypervisor | None,
) -> tuple[Server, Port]:
    """A new server of `template`'s project (ERROR when there is no host) and its port
    on the network of `like`, at a free address of it."""
    prefix = like.ip.rsplit(".", 1)[0]
    used_ips = {p.ip for p in region.ports if p.network_id == like.network_id}
    free = [h for h in range(2, 255) if f"{prefix}.{h}" not in used_ips]
    ip = f"{prefix}.{rng.choice(free) if free else rng.randrange(2, 255)}"
    server = Server(
        id=new_uuid(rng),
        name=name,
        project_id=template.project_id,
        user_id=template.user_id,
        flavor=flavor,
        image_id=template.image_id,
        host=hv.hostname if hv else None,
        node=hv.hostname if hv else None,
        hypervisor_id=hv.id if hv else None,
        zone="nova",
        created_at=now,
        updated_at=now,
        status="ACTIVE" if hv else "ERROR",
        vm_state="active" if hv else "error",
        power_state=1 if hv else 0,
        launched_at=now if hv else None,
        ip=ip,
        mac=_mac(rng),
        network_name=template.network_name,
    )
    region.place_server(server)
    port = Port(
        id=new_uuid(rng),
        name="",
        network_id=like.network_id,
        project_id=like.project_id,
        device_owner="compute:nova",
        device_id=server.id,
        host=server.host or "",
        mac=server.mac,
        ip=ip,
        subnet_id=like.subnet_id,
        created_at=now,
        updated_at=now,
        status="ACTIVE" if hv else "DOWN",
        security_groups=list(like.security_groups),
    )
    region.ports.add(port.id, port)
    return server, port


def _where(server: Server) -> str:
    return f"on {server.host}" if server.host else "in ERROR (no valid host)"


def _destroy(region: Region, server_id: str, port_id: str, now: float) -> Server:
    """Delete a server as Nova does (soft) and its port as Neutron does (gone)."""
    server = region.servers.get(server_id)
    assert server is not None
    region.delete_server(server, now)
    region.ports.remove(port_id)
    return server


def _deleted(region: Region, server_id: str) -> bool:
    server = region.servers.get(server_id)
    return server is None or server.deleted


def _live_hypervisor(region: Region, rng: random.Random, now: float) -> Hypervisor | None:
    """A random enabled hypervisor whose service is up, or None (no valid host)."""
    hypervisors = region.hypervisors.ordered()
    for _ in range(20):
        hv = rng.choice(hypervisors)
        if hv.service.is_up(now) and not hv.service.disabled:
            return hv
    return None


# -- the scenarios ----------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioFactory:
    """Builds a named scenario for a Plan; `loop` is its cycle length when it repeats."""

    name: str
    description: str
    plan_steps: Callable[[Plan], list[Step]]
    loop: float | None = None

    def __call__(self, plan: Plan) -> Scenario:
        return Scenario(self.name, self.description, self.plan_steps(plan), self.loop, plan.claims)


def _each_region(make: Callable[[Plan, str], Incident]) -> Callable[[Plan], list[Step]]:
    """One incident per region of the plan, all starting at once."""
    return lambda plan: [s for region in plan.regions for s in make(plan, region).steps(0.0)]


DEMO_CYCLE = 720.0


def _slow_boots(plan: Plan, region: str, tag: str = "slow-boots") -> Incident:
    from osconsole.sim.plane_incidents import SlowBoots  # it builds on this module

    return SlowBoots(plan, region, tag)


def _beneath(kind: str) -> Callable[..., Incident]:
    """An incident of the services beneath (plane_incidents.py), by class name."""

    def make(plan: Plan, region: str, tag: str | None = None, **options: float) -> Incident:
        from osconsole.sim import plane_incidents  # it builds on this module

        incident: type[Incident] = getattr(plane_incidents, kind)
        return incident(plan, region, tag, **options) if tag else incident(plan, region)

    return make


def _demo(plan: Plan) -> list[Step]:
    """An incident every 45-60 s, each recovering later, spread over the regions."""

    def region(i: int) -> str:
        return plan.regions[i % len(plan.regions)]

    def l3_dies(i: int, tag: str, recover_after: float) -> Incident:
        if plan.ovn(region(i)):
            return GatewayChassisDies(plan, region(i), tag, recover_after=recover_after)
        return L3AgentDies(plan, region(i), tag, recover_after=recover_after)

    def split_brain(i: int, tag: str, resolve_after: float) -> Incident:
        if plan.ovn(region(i)):
            down_after = min(90.0, resolve_after - 10)
            return GatewayFailoverStuck(
                plan, region(i), tag, down_after=down_after, recover_after=resolve_after
            )
        return SplitBrain(plan, region(i), tag, resolve_after=resolve_after)

    incidents: list[tuple[float, Incident]] = [
        (0, l3_dies(0, "demo-l3-a", 240)),
        (45, ComputeHostDown(plan, region(1), "demo-host-a", recover_after=300)),
        (
            100,
            TenantSpoofing(
                plan, region(0), "demo-tenant-a", churn_every=5, churn_steps=24, recover_after=240
            ),
        ),
        (140, QuotaSqueeze(plan, region(1), "demo-quota-a", recover_after=300)),
        (160, split_brain(2, "demo-split-a", 120)),
        (210, AgentFlap(plan, region(1), "demo-flap-a")),
        (270, l3_dies(1, "demo-l3-b", 200)),
        (330, ComputeHostDown(plan, region(0), "demo-host-b", recover_after=240)),
        (380, split_brain(0, "demo-split-b", 90)),
        (
            430,
            TenantSpoofing(
                plan, region(2), "demo-tenant-b", churn_every=6, churn_steps=20, recover_after=240
            ),
        ),
        (480, AgentFlap(plan, region(2), "demo-flap-b")),
        (540, l3_dies(2, "demo-l3-c", 150)),
        (600, ComputeHostDown(plan, region(1), "demo-host-c", recover_after=100)),
        (10, _slow_boots(plan, region(2), "demo-slow-boots")),
        (70, _beneath("RabbitPartition")(plan, region(0), "demo-rabbit", heal_after=150)),
        (240, _beneath("GaleraNodeLeaves")(plan, region(1), "demo-galera", rejoin_after=150)),
        (360, _beneath("QueueWithoutConsumers")(plan, region(2), "demo-queue", back_after=200)),
        (450, _beneath("MemcachedEvicting")(plan, region(0), "demo-memcached", for_s=150)),
    ]
    return [s for at, incident in incidents for s in incident.steps(float(at))]


FACTORIES = [
    ScenarioFactory(
        "l3-agent-dies",
        "The busiest L3 agent stops heartbeating; 10 s later keepalived on a surviving "
        "standby takes over most of its routers, about 1 in 5 are left without an active agent.",
        _each_region(lambda plan, region: L3AgentDies(plan, region)),
    ),
    ScenarioFactory(
        "split-brain",
        "An L3 agent restarts and claims active for half its standby routers while their "
        "master stays active (two live actives); resolved after 120 s.",
        _each_region(lambda plan, region: SplitBrain(plan, region)),
    ),
    ScenarioFactory(
        "compute-host-down",
        "A compute host with servers dies: nova-compute and its Open vSwitch agent stop "
        "reporting (down after 60 s, dead after 75 s); its servers keep their state.",
        _each_region(lambda plan, region: ComputeHostDown(plan, region)),
    ),
    ScenarioFactory(
        "tenant-spoofing",
        "A project opens a port to address pair 0.0.0.0/0, disables port security on "
        "another, opens tcp 22 and 3389 to the world and churns servers every 4 s.",
        _each_region(lambda plan, region: TenantSpoofing(plan, region)),
    ),
    ScenarioFactory(
        "quota-squeeze",
        "The project closest to its Nova cores quota launches a server every 5 s, the "
        "largest flavor that fits, until 95% of its cores are in use; never over a limit.",
        _each_region(lambda plan, region: QuotaSqueeze(plan, region)),
    ),
    ScenarioFactory(
        "agent-flap",
        "A DHCP or Open vSwitch agent is dead for about 90 s, then alive for 90 s, "
        "again and again (new started_at each time it comes back).",
        _each_region(lambda plan, region: AgentFlap(plan, region, sticky=True)),
        loop=255.0,
    ),
    ScenarioFactory(
        "gateway-chassis-dies",
        "ML2/OVN: the gateway chassis holding the most gateways goes down; its gateways "
        "go DOWN for a moment and are ACTIVE on the next chassis within 5 s; its gateway "
        "agent reads dead after 75 s.",
        _each_region(lambda plan, region: GatewayChassisDies(plan, region)),
    ),
    ScenarioFactory(
        "gateway-failover-stuck",
        "ML2/OVN: ovn-controller stops on the busiest gateway chassis while its datapath "
        "runs on: the gateways stay bound to it (dead after 75 s); after 90 s a quarter "
        "of their ports go DOWN there.",
        _each_region(lambda plan, region: GatewayFailoverStuck(plan, region)),
    ),
    ScenarioFactory(
        "slow-boots",
        "A project boots a server every 12 s: boots slow down from 30 s to 4 minutes; "
        "each server is deleted 30 s after it booted (the delete takes 5 s).",
        _each_region(_slow_boots),
    ),
    ScenarioFactory(
        "rabbitmq-partition",
        "RabbitMQ's second node loses the other two (each side lists the other in "
        "partitions); healed after 180 s.",
        _each_region(_beneath("RabbitPartition")),
    ),
    ScenarioFactory(
        "galera-node-leaves",
        "One of three Galera nodes leaves the cluster (wsrep_cluster_size 2, still "
        "Primary); it rejoins after 150 s.",
        _each_region(_beneath("GaleraNodeLeaves")),
    ),
    ScenarioFactory(
        "queue-without-consumers",
        "notifications.info loses its consumer and grows 3 messages a second; the "
        "consumer is back after 240 s and drains it.",
        _each_region(_beneath("QueueWithoutConsumers")),
    ),
    ScenarioFactory(
        "memcached-evicting",
        "memcached evicts 4 items a second for 180 s (out of memory).",
        _each_region(_beneath("MemcachedEvicting")),
    ),
    ScenarioFactory(
        "demo",
        "A looping mix of all incidents across the regions, one every 45-60 s, each "
        "recovering a few minutes later (12-minute cycle).",
        _demo,
        loop=DEMO_CYCLE,
    ),
]
SCENARIOS: dict[str, ScenarioFactory] = {f.name: f for f in FACTORIES}


# -- running them -------------------------------------------------------------------


class Run:
    """One started scenario: where it is in its steps and cycles."""

    def __init__(self, scenario: Scenario, region: str | None, started_at: float) -> None:
        self.scenario = scenario
        self.region = region  # None: every region
        self.started_at = started_at
        self.cycle = 0
        self.index = 0

    @property
    def name(self) -> str:
        return self.scenario.name

    def _cycle_start(self) -> float:
        return self.started_at + self.cycle * (self.scenario.loop or 0.0)

    def due(self) -> float | None:
        """When the next step is due, or None when a run-once scenario is done."""
        if self.index >= len(self.scenario.steps):
            return None
        return self._cycle_start() + self.scenario.steps[self.index].offset

    def pop(self) -> tuple[Step, float]:
        step, at = self.scenario.steps[self.index], self.due()
        assert at is not None
        self.index += 1
        if self.index == len(self.scenario.steps) and self.scenario.loop:
            self.cycle, self.index = self.cycle + 1, 0
        return step, at

    def skip_cycles(self, now: float) -> int:
        """Jump a looping run that is more than a day behind to recent cycles."""
        loop = self.scenario.loop
        if not loop or self.index != 0:
            return 0
        behind = now - MAX_CATCH_UP - self._cycle_start()
        skipped = int(behind // loop) if behind > 0 else 0
        self.cycle += skipped
        return skipped


class ScenarioRunner:
    """Applies due scenario steps in time order; one per world, in `world.tickers`."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.runs: list[Run] = []
        self.events: list[Event] = []
        self.event_seq = 0
        self._starts: dict[str, int] = {}

    def __call__(self, now: float) -> None:
        self.advance(now)

    def busy(self, key: str) -> bool:
        return any(key in run.scenario.claims for run in self.runs)

    def start(self, name: str, region: str | None = None) -> Run:
        """Start `name` now (everywhere, or in `region`); its offset-0 steps apply at once.

        KeyError for an unknown scenario, ValueError for an unknown region or a
        scenario already running there.
        """
        factory = SCENARIOS.get(name)
        if factory is None:
            raise KeyError(f"unknown scenario {name!r}: choose from {', '.join(SCENARIOS)}")
        if region is not None and region not in self.world.regions:
            raise ValueError(f"unknown region {region!r}")
        if any(r.name == name and r.region == region for r in self.runs):
            raise ValueError(f"{name} is already running in {region or 'every region'}")
        now = self.world.now()
        self.advance(now)
        key = f"{name}:{region or '*'}"
        self._starts[key] = self._starts.get(key, 0) + 1
        regions = [region] if region else list(self.world.regions)
        backends = {name: r.backend for name, r in self.world.regions.items()}
        plan = Plan(regions, f"{self.world.seed}:{key}:{self._starts[key]}", self.busy, backends)
        run = Run(factory(plan), region, now)
        self.runs.append(run)
        self._record(now, region, name, f"scenario {name} started in {region or 'every region'}")
        self.advance(now)
        return run

    def stop(self, name: str, region: str | None = None) -> list[Run]:
        """Stop the runs of `name` (in `region` only, if given); the world stays as it is."""
        self.advance(self.world.now())
        stopped = [r for r in self.runs if r.name == name and region in (None, r.region)]
        self.runs = [r for r in self.runs if r not in stopped]
        for run in stopped:
            where = run.region or "every region"
            self._record(self.world.now(), run.region, name, f"scenario {name} stopped in {where}")
        return stopped

    def advance(self, now: float) -> None:
        """Apply every step due by `now`, earliest first, each at its scheduled time."""
        for run in self.runs:
            self._skip_if_behind(run, now, now)
        while (found := self._next_due(now)) is not None:
            run = found
            step, at = run.pop()
            region = self.world.regions.get(step.region)
            if region is not None:
                for line in step.action(self.world, region, at):
                    self._record(at, step.region, run.name, line)
            if run.due() is None:
                self.runs.remove(run)
                self._record(at, run.region, run.name, f"scenario {run.name} finished")
            else:
                self._skip_if_behind(run, now, at)

    def _skip_if_behind(self, run: Run, now: float, at: float) -> None:
        if skipped := run.skip_cycles(now):
            text = f"skipped {skipped} cycles to catch up with the clock"
            self._record(at, run.region, run.name, text)

    def _next_due(self, now: float) -> Run | None:
        """The run with the earliest step due by `now`; the earlier started one on a tie."""
        best: Run | None = None
        best_at = now
        for run in self.runs:
            at = run.due()
            if at is not None and at <= now and (best is None or at < best_at):
                best, best_at = run, at
        return best

    def _record(self, time: float, region: str | None, scenario: str, text: str) -> None:
        self.event_seq += 1
        self.events.append(Event(self.event_seq, time, region, scenario, text))
        if len(self.events) > MAX_EVENTS:
            del self.events[: len(self.events) // 2]

    def events_since(self, seq: int = 0) -> list[Event]:
        return [e for e in self.events if e.seq > seq]


def runner(world: World) -> ScenarioRunner:
    """The world's scenario runner, installed in `world.tickers` on first use."""
    for ticker in world.tickers:
        if isinstance(ticker, ScenarioRunner):
            return ticker
    found = ScenarioRunner(world)
    world.tickers.append(found)
    return found


def start_scenario(world: World, name: str, region: str | None = None) -> Run:
    return runner(world).start(name, region)


def stop_scenario(world: World, name: str, region: str | None = None) -> list[Run]:
    return runner(world).stop(name, region)


def running(world: World) -> list[Run]:
    return list(runner(world).runs)


__all__ = [
    "SCENARIOS",
    "Event",
    "Run",
    "Scenario",
    "ScenarioFactory",
    "ScenarioRunner",
    "Step",
    "runner",
    "start_scenario",
    "stop_scenario",
]
