"""The operator actions: one incident, one guarded step each.

Every action here changes the cloud, so every one is dangerous, as in k9s, where
"dangerous" marks whatever mutates the cluster (delete, edit, scale, restart) and
only views are safe. The ones that look harmless are not: enabling a compute service
puts a host whose hardware may still be failing back into scheduling, unlocking hands a
server back to a tenant we locked out mid-incident, resuming restarts a guest. On the
NOC wall and with --readonly none of them may run, so none is exempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from osconsole.actions.model import (
    Action,
    ActionTarget,
    Builder,
    Facts,
    Offered,
    Param,
    Plan,
    PlanError,
    Request,
    TargetKind,
    clean_params,
    frozen_params,
)
from osconsole.cloud import compute, network
from osconsole.model import Agent, Kind

L3_AGENT = "L3 agent"
REASON = Param(
    "reason",
    "Reason",
    help="say why, for the next person on call: it is stored with the change",
)
NOTE = Param(
    "reason",
    "Reason",
    required=False,
    help="kept in the audit log only: Neutron agents have no field for it",
)
FROM_AGENT = Param(
    "from_agent",
    "From L3 agent",
    max_length=64,
    choices="l3-source",
    help="the agent whose replica of the router goes away",
)
DEAD_AGENT = Param(
    "from_agent",
    "Dead L3 agent",
    max_length=64,
    choices="l3-dead-source",
    help="a dead L3 agent that still holds a replica of the router",
)
TO_AGENT = Param(
    "to_agent",
    "To L3 agent",
    max_length=64,
    choices="l3-destination",
    help="an alive, admin-up L3 agent that does not host the router yet",
)


# -- compute services ---------------------------------------------------------------


def _is_compute(target: ActionTarget, _params: Mapping[str, str]) -> None:
    if target.binary and target.binary != "nova-compute":
        raise PlanError(
            f"{target.binary} on {target.host} cannot be disabled: Nova only updates "
            "nova-compute services"
        )
    if not target.host:
        raise PlanError(f"compute service {target.id}: its host is not known")


def _service_call(
    target: ActionTarget, facts: Facts, *, disabled: bool, reason: str | None
) -> tuple[Request, ...]:
    version = facts.compute_microversion
    method, path, body = compute.service_status_call(
        version,
        service_id=target.id,
        host=target.host,
        binary=target.binary or "nova-compute",
        disabled=disabled,
        reason=reason,
    )
    return (Request("compute", method, path, body, version),)


def _disable_service(
    target: ActionTarget, params: Mapping[str, str], facts: Facts
) -> tuple[Request, ...]:
    return _service_call(target, facts, disabled=True, reason=params["reason"])


def _enable_service(
    target: ActionTarget, _params: Mapping[str, str], facts: Facts
) -> tuple[Request, ...]:
    return _service_call(target, facts, disabled=False, reason=None)


def _forced_down(forced: bool) -> Builder:
    def build(
        target: ActionTarget, _params: Mapping[str, str], facts: Facts
    ) -> tuple[Request, ...]:
        version = facts.compute_microversion
        call = compute.forced_down_call(
            version,
            service_id=target.id,
            host=target.host,
            binary=target.binary or "nova-compute",
            forced=forced,
        )
        if call is None:
            raise PlanError(
                f"this region's Nova speaks {version or '2.1'}: forcing a service down "
                "needs 2.11 or later"
            )
        method, path, body = call
        return (Request("compute", method, path, body, version),)

    return build


def _force_notes(_target: ActionTarget, _params: Mapping[str, str], _f: Facts) -> tuple[str, ...]:
    return (
        "only when the host is really off (fenced): Nova then lets its servers be "
        "evacuated, and two copies of a server would corrupt its disks",
        "undo with 'Clear forced down' once the host is back",
    )


# -- Neutron agents -----------------------------------------------------------------


def _agent_state(up: bool) -> Builder:
    def build(
        target: ActionTarget, _params: Mapping[str, str], _facts: Facts
    ) -> tuple[Request, ...]:
        method, path, body = network.agent_admin_state_call(target.id, up)
        return (Request("network", method, path, body),)

    return build


# -- servers ------------------------------------------------------------------------


def _server_action(name: str) -> Builder:
    def build(
        target: ActionTarget, _params: Mapping[str, str], facts: Facts
    ) -> tuple[Request, ...]:
        method, path, body = compute.server_action_call(target.id, name)
        return (Request("compute", method, path, body, facts.compute_microversion),)

    return build


def _lock(target: ActionTarget, params: Mapping[str, str], facts: Facts) -> tuple[Request, ...]:
    version = facts.compute_microversion
    method, path, body = compute.lock_call(version, target.id, params["reason"])
    return (Request("compute", method, path, body, version),)


def _lock_notes(_target: ActionTarget, _params: Mapping[str, str], facts: Facts) -> tuple[str, ...]:
    if compute.version_at_least(facts.compute_microversion, "2.73"):
        return ()
    return (
        f"this region's Nova speaks {facts.compute_microversion or '2.1'}: a lock reason "
        "needs 2.73, so the reason is kept in the audit log only",
    )


def _status_is(*statuses: str) -> Offered:
    def offered(target: ActionTarget) -> bool:
        return not target.status or target.status in statuses

    return offered


# -- HA routers ---------------------------------------------------------------------


def _check_move(target: ActionTarget, params: Mapping[str, str]) -> None:
    source, destination = params["from_agent"], params["to_agent"]
    if source == destination:
        raise PlanError("the router cannot move onto the agent it is moving off")
    if target.ha is False:
        raise PlanError(
            f"router {target.name} is not HA: moving it means an outage; "
            "this console only moves HA routers"
        )
    if target.hosted_by is None:
        return  # not swept yet: Neutron will say if the agents do not fit
    if source not in target.hosted_by:
        raise PlanError(f"router {target.name} is not hosted by L3 agent {source}")
    if destination in target.hosted_by:
        raise PlanError(f"router {target.name} is already hosted by L3 agent {destination}")


def _move_router(
    target: ActionTarget, params: Mapping[str, str], _facts: Facts
) -> tuple[Request, ...]:
    """Add the new replica first, then remove the old one: if the add fails the router
    keeps all its replicas; only the removal can leave it with one too many."""
    add = network.add_router_to_agent_call(params["to_agent"], target.id)
    remove = network.remove_router_from_agent_call(params["from_agent"], target.id)
    return tuple(Request("network", method, path, body) for method, path, body in (add, remove))


def _move_notes(target: ActionTarget, _params: Mapping[str, str], _f: Facts) -> tuple[str, ...]:
    notes = ["if the replica removed was the active one, keepalived fails over (seconds)"]
    if target.hosted_by is None:
        notes.append("the router's agents were not swept yet: Neutron will check them")
    return tuple(notes)


def _move_partial(plan: Plan, done: int) -> str:
    """After the add succeeded and the removal did not: the router has both replicas."""
    if done != 1:
        return ""
    target, params = plan.target, plan.params
    return (
        f"Router {target.name} now has a replica on L3 agent {params['to_agent']}, but the "
        f"one on {params['from_agent']} was not removed: check the router's L3 agents, "
        f"then finish with DELETE /v2.0/agents/{params['from_agent']}/l3-routers/{target.id}"
    )


def _add_replica(
    target: ActionTarget, params: Mapping[str, str], _facts: Facts
) -> tuple[Request, ...]:
    method, path, body = network.add_router_to_agent_call(params["to_agent"], target.id)
    return (Request("network", method, path, body),)


def _check_add(target: ActionTarget, params: Mapping[str, str]) -> None:
    if target.ha is False:
        raise PlanError(f"router {target.name} is not HA: it has one agent, not replicas")
    if target.hosted_by is not None and params["to_agent"] in target.hosted_by:
        raise PlanError(f"router {target.name} is already hosted by L3 agent {params['to_agent']}")


def _remove_replica(
    target: ActionTarget, params: Mapping[str, str], _facts: Facts
) -> tuple[Request, ...]:
    method, path, body = network.remove_router_from_agent_call(params["from_agent"], target.id)
    return (Request("network", method, path, body),)


def _check_remove(target: ActionTarget, params: Mapping[str, str]) -> None:
    if target.hosted_by is None:
        return  # not swept yet: Neutron will say if the agent does not host it
    if params["from_agent"] not in target.hosted_by:
        raise PlanError(f"router {target.name} is not hosted by L3 agent {params['from_agent']}")
    if len(target.hosted_by) <= 1:
        raise PlanError(
            f"L3 agent {params['from_agent']} holds the only replica of {target.name}: "
            "add a replica on a live agent first"
        )


def _hosted(target: ActionTarget) -> bool:
    return target.ha is not False and (target.hosted_by is None or bool(target.hosted_by))


# -- the catalog --------------------------------------------------------------------

SERVICE_KINDS = (Kind.SERVICES, Kind.HYPERVISORS)
AGENT_KINDS = (Kind.AGENTS, Kind.ROUTERS)  # router bindings show their agents' admin state
SERVER_KINDS = (Kind.TENANTS,)
ROUTER_KINDS = (Kind.ROUTERS, Kind.AGENTS)


def _server(name: str, title: str, description: str, undo: str, *from_status: str) -> Action:
    return Action(
        f"server-{name}",
        title,
        TargetKind.SERVER,
        dangerous=True,
        build=_server_action(name),
        description=description,
        repoll=SERVER_KINDS,
        undo=f"server-{undo}",
        offered=_status_is(*from_status),
    )


CATALOG: tuple[Action, ...] = (
    Action(
        "compute-service-disable",
        "Disable compute service",
        TargetKind.COMPUTE_SERVICE,
        dangerous=True,
        build=_disable_service,
        description="no new servers are scheduled to this host; running ones stay",
        params=(REASON,),
        repoll=SERVICE_KINDS,
        undo="compute-service-enable",
        offered=lambda t: t.status != "disabled" and t.binary in ("", "nova-compute"),
        check=_is_compute,
    ),
    Action(
        "compute-service-enable",
        "Enable compute service",
        TargetKind.COMPUTE_SERVICE,
        dangerous=True,
        build=_enable_service,
        description="the scheduler may place new servers on this host again",
        repoll=SERVICE_KINDS,
        undo="compute-service-disable",
        offered=lambda t: t.status != "enabled" and t.binary in ("", "nova-compute"),
        check=_is_compute,
    ),
    Action(
        "compute-service-force-down",
        "Force compute service down (before evacuating)",
        TargetKind.COMPUTE_SERVICE,
        dangerous=True,
        build=_forced_down(True),
        description="Nova treats the host as down at once, so its servers can be evacuated",
        repoll=SERVICE_KINDS,
        undo="compute-service-unforce-down",
        offered=lambda t: t.forced_down is not True and t.binary in ("", "nova-compute"),
        check=_is_compute,
        notes=_force_notes,
    ),
    Action(
        "compute-service-unforce-down",
        "Clear forced down (the host is back)",
        TargetKind.COMPUTE_SERVICE,
        dangerous=True,
        build=_forced_down(False),
        description="Nova judges the host by its heartbeat again",
        repoll=SERVICE_KINDS,
        undo="compute-service-force-down",
        offered=lambda t: t.forced_down is not False and t.binary in ("", "nova-compute"),
        check=_is_compute,
    ),
    Action(
        "agent-disable",
        "Take agent out of scheduling (admin down)",
        TargetKind.AGENT,
        dangerous=True,
        build=_agent_state(False),
        description="Neutron schedules no new routers or networks to it; what it hosts stays",
        params=(NOTE,),
        repoll=AGENT_KINDS,
        undo="agent-enable",
        offered=lambda t: t.status != "down",
    ),
    Action(
        "agent-enable",
        "Put agent back into scheduling (admin up)",
        TargetKind.AGENT,
        dangerous=True,
        build=_agent_state(True),
        description="Neutron may schedule routers and networks to it again",
        params=(NOTE,),
        repoll=AGENT_KINDS,
        undo="agent-disable",
        offered=lambda t: t.status != "up",
    ),
    Action(
        "server-lock",
        "Lock server",
        TargetKind.SERVER,
        dangerous=True,
        build=_lock,
        description="its owner can no longer stop, delete or change it; admins still can",
        params=(REASON,),
        repoll=SERVER_KINDS,
        undo="server-unlock",
        offered=lambda t: t.locked is not True,
        notes=_lock_notes,
    ),
    Action(
        "server-unlock",
        "Unlock server",
        TargetKind.SERVER,
        dangerous=True,
        build=_server_action("unlock"),
        description="its owner may act on it again",
        repoll=SERVER_KINDS,
        undo="server-lock",
        offered=lambda t: t.locked is not False,
    ),
    _server("pause", "Pause server", "the guest is frozen in memory", "unpause", "ACTIVE"),
    _server("unpause", "Unpause server", "the frozen guest runs again", "pause", "PAUSED"),
    _server("suspend", "Suspend server", "the guest is saved to disk", "resume", "ACTIVE"),
    _server("resume", "Resume server", "the suspended guest restarts", "suspend", "SUSPENDED"),
    Action(
        "router-move",
        "Move HA router to another L3 agent",
        TargetKind.ROUTER,
        dangerous=True,
        build=_move_router,
        description="a replica is added on the new agent, then removed from the old one",
        params=(FROM_AGENT, TO_AGENT),
        repoll=ROUTER_KINDS,
        undo="router-move",
        offered=_hosted,
        check=_check_move,
        notes=_move_notes,
        on_partial=_move_partial,
    ),
    Action(
        "router-add-to-agent",
        "Add an HA replica on an L3 agent",
        TargetKind.ROUTER,
        dangerous=True,
        build=_add_replica,
        description="a missing replica comes back: the router gets a standby on that agent",
        params=(TO_AGENT,),
        repoll=ROUTER_KINDS,
        undo="router-remove-from-agent",
        offered=lambda t: t.ha is not False,
        check=_check_add,
    ),
    Action(
        "router-remove-from-agent",
        "Remove the replica from a dead L3 agent",
        TargetKind.ROUTER,
        dangerous=True,
        build=_remove_replica,
        description="the dead agent's binding goes away; the live replicas stay",
        params=(DEAD_AGENT,),
        repoll=ROUTER_KINDS,
        undo="router-add-to-agent",
        offered=_hosted,
        check=_check_remove,
    ),
)
ACTIONS: Mapping[str, Action] = {a.name: a for a in CATALOG}


def action_named(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        raise PlanError(f"no action named {name!r}") from None


def actions_for(target: ActionTarget, *, readonly: bool = False) -> list[Action]:
    """The actions a screen may offer (and bind) for `target`: read-only gets none
    that is dangerous, so they are never bound, not merely hidden."""
    return [
        a
        for a in CATALOG
        if a.applies_to == target.kind and a.offered(target) and not (readonly and a.dangerous)
    ]


def build_plan(
    action: Action, target: ActionTarget, params: Mapping[str, object] | None, facts: Facts
) -> Plan:
    """The exact requests for `action` on `target` (pure: nothing is sent)."""
    if target.kind != action.applies_to:
        raise PlanError(f"{action.title} acts on a {action.applies_to.value}, not a {target.kind}")
    cleaned = clean_params(action, params)
    action.check(target, cleaned)
    requests = action.build(target, cleaned, facts)
    if any(r.mutating for r in requests) and not action.dangerous:
        raise PlanError(f"{action.name} changes the cloud but is not marked dangerous")
    notes = action.notes(target, cleaned, facts)
    return Plan(action, target, frozen_params(cleaned), requests, facts, notes)


def choices(param: Param, target: ActionTarget, agents: Iterable[Agent]) -> list[tuple[str, str]]:
    """(value, label) pairs for a parameter picked from the snapshots' L3 agents."""
    l3 = sorted((a for a in agents if a.agent_type == L3_AGENT), key=lambda a: a.host)
    hosting = set(target.hosted_by or ())
    if param.choices == "l3-source":
        picked = [a for a in l3 if target.hosted_by is None or a.id in hosting]
    elif param.choices == "l3-dead-source":
        picked = [a for a in l3 if (target.hosted_by is None or a.id in hosting) and not a.alive]
    elif param.choices == "l3-destination":
        picked = [a for a in l3 if a.id not in hosting and a.alive and a.admin_state_up]
    else:
        return []
    return [(a.id, f"{a.host} ({'alive' if a.alive else 'DEAD'})") for a in picked]


def no_choice_reason(param: Param, target: ActionTarget, agents: Iterable[Agent]) -> str:
    """Why `choices` is empty for `param`, in the operator's words ("" if it is not)."""
    if choices(param, target, agents):
        return ""
    l3 = [a for a in agents if a.agent_type == L3_AGENT]
    if not l3:
        return "no L3 agent is known in this region (the agents were not polled yet?)"
    hosting = set(target.hosted_by or ())
    if param.choices == "l3-source":
        return f"no L3 agent hosts {target.name} (as of the last sweep of its agents)"
    if param.choices == "l3-dead-source":
        return f"no dead L3 agent hosts {target.name}: every agent it is on is alive"
    if param.choices != "l3-destination":
        return "nothing to choose from"
    hosts = sum(1 for a in l3 if a.id in hosting)
    dead = sum(1 for a in l3 if a.id not in hosting and not a.alive)
    down = sum(1 for a in l3 if a.id not in hosting and a.alive and not a.admin_state_up)
    parts = [f"{hosts} already host{'s' if hosts == 1 else ''} it"]
    if dead:
        parts.append(f"{dead} dead")
    if down:
        parts.append(f"{down} admin-down")
    return f"no L3 agent can take {target.name}: of the region's {len(l3)} L3 agents, " + ", ".join(
        parts
    )
