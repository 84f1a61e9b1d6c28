"""The vocabulary of operator actions: what they act on, what they ask for, what they send.

Everything here is data, built without touching the network, so that a confirmation
can show exactly what will be sent (cloud, region, method, path, body) before any of
it is, and so that a plan that is cancelled costs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from osconsole.clean import clean_text
from osconsole.model import Agent, Hypervisor, Kind, RegionRef, Router, Service

SAFE_METHODS = frozenset({"GET", "HEAD"})
REASON_MAX = 255  # Nova's limit for disabled_reason and locked_reason


class PlanError(ValueError):
    """The action cannot be planned as asked; the message says why, in operator words."""


class TargetKind(StrEnum):
    """What an action acts on (a hypervisor is acted on through its compute service)."""

    COMPUTE_SERVICE = "compute-service"
    AGENT = "agent"
    SERVER = "server"
    ROUTER = "router"


@dataclass(frozen=True, slots=True)
class ActionTarget:
    """One object an action may act on, with the facts the requests and guards need.

    `status` is the state as last seen (a service's enabled/disabled, a server's
    status, an agent's "up"/"down" admin state); it decides which actions are offered,
    never whether one may be sent: the API judges against its current state.
    """

    ref: RegionRef
    kind: TargetKind
    id: str  # the API's id: service uuid (int id before Nova 2.53), agent/server/router uuid
    name: str  # what the operator calls it: host, server name, router name
    host: str = ""
    binary: str = ""
    status: str = ""
    locked: bool | None = None
    ha: bool | None = None
    hosted_by: tuple[str, ...] | None = None  # L3 agent ids of a router; None: not swept
    forced_down: bool | None = None  # a compute service's forced_down; None: not known

    def label(self) -> str:
        return f"{self.kind.value} {self.name}" + (f" ({self.id})" if self.id != self.name else "")


def service_target(ref: RegionRef, service: Service) -> ActionTarget | None:
    """A Nova service row as a target (Cinder services have no actions here)."""
    if service.project != "nova":
        return None
    raw_id = service.id.split(":", 1)[1] if ":" in service.id else service.id
    return ActionTarget(
        ref,
        TargetKind.COMPUTE_SERVICE,
        raw_id,
        service.host,
        host=service.host,
        binary=service.binary,
        status=service.status,
        forced_down=service.forced_down,
    )


def hypervisor_target(ref: RegionRef, hypervisor: Hypervisor) -> ActionTarget | None:
    """A hypervisor is disabled and enabled through its nova-compute service."""
    if not hypervisor.service_id:
        return None
    return ActionTarget(
        ref,
        TargetKind.COMPUTE_SERVICE,
        hypervisor.service_id,
        hypervisor.hostname,
        host=hypervisor.service_host or hypervisor.hostname,
        binary="nova-compute",
        status=hypervisor.status,
    )


def agent_target(ref: RegionRef, agent: Agent) -> ActionTarget:
    return ActionTarget(
        ref,
        TargetKind.AGENT,
        agent.id,
        f"{agent.agent_type} on {agent.host}",
        host=agent.host,
        binary=agent.binary,
        status="up" if agent.admin_state_up else "down",
    )


def router_target(ref: RegionRef, router: Router) -> ActionTarget:
    hosted_by = None if router.bindings is None else tuple(b.agent_id for b in router.bindings)
    return ActionTarget(
        ref,
        TargetKind.ROUTER,
        router.id,
        router.name or router.id,
        status=router.status,
        ha=router.ha,
        hosted_by=hosted_by,
    )


def server_target(ref: RegionRef, body: Mapping[str, Any]) -> ActionTarget | None:
    """A server from a `/servers/detail` item (drill-down screens list them live)."""
    server_id = body.get("id")
    if not isinstance(server_id, str) or not server_id:
        return None
    locked = body.get("locked")
    return ActionTarget(
        ref,
        TargetKind.SERVER,
        clean_text(server_id),
        clean_text(body.get("name") or server_id),
        host=clean_text(body.get("OS-EXT-SRV-ATTR:host") or ""),
        status=clean_text(body.get("status") or ""),
        locked=locked if isinstance(locked, bool) else None,
    )


def target_of(ref: RegionRef, item: Any) -> ActionTarget | None:
    """The action target of whatever a row or a drill-down shows, when it has actions."""
    if isinstance(item, Service):
        return service_target(ref, item)
    if isinstance(item, Hypervisor):
        return hypervisor_target(ref, item)
    if isinstance(item, Agent):
        return agent_target(ref, item)
    if isinstance(item, Router):
        return router_target(ref, item)
    if isinstance(item, Mapping):
        return server_target(ref, item)
    return None


@dataclass(frozen=True, slots=True)
class Param:
    """One value an action asks the operator for.

    `choices` names a list the UI fills from the snapshots (see `catalog.choices`):
    "l3-source" (agents hosting the router), "l3-dead-source" (dead agents hosting
    it) or "l3-destination" (agents that could).
    """

    name: str
    label: str
    required: bool = True
    max_length: int = REASON_MAX
    choices: str | None = None
    help: str = ""


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request exactly as it will be sent (path relative to the endpoint)."""

    service: str  # "compute" / "network"
    method: str
    path: str
    body: Any = None
    microversion: str | None = None  # the OpenStack-API-Version it is sent with

    @property
    def mutating(self) -> bool:
        return self.method.upper() not in SAFE_METHODS

    def line(self) -> str:
        version = f"  [{self.service} {self.microversion}]" if self.microversion else ""
        return f"{self.method} {self.service} {self.path}{version}"

    def body_text(self) -> str:
        return "" if self.body is None else json.dumps(self.body, sort_keys=True)

    def as_record(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "method": self.method,
            "path": self.path,
            "body": self.body,
            "microversion": self.microversion,
        }


@dataclass(frozen=True, slots=True)
class Facts:
    """What the region is known to speak when a plan is built."""

    compute_microversion: str | None = None


Builder = Callable[[ActionTarget, Mapping[str, str], Facts], tuple[Request, ...]]
Offered = Callable[[ActionTarget], bool]
Check = Callable[[ActionTarget, Mapping[str, str]], None]
Notes = Callable[[ActionTarget, Mapping[str, str], Facts], tuple[str, ...]]


def _always(_: ActionTarget) -> bool:
    return True


def _no_check(_target: ActionTarget, _params: Mapping[str, str]) -> None:
    return None


def _no_notes(_target: ActionTarget, _params: Mapping[str, str], _facts: Facts) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class Action:
    """An operator action, as data.

    `dangerous` means "changes the cloud": read-only sessions never offer, bind or run
    it. `offered` decides from the last seen state whether listing it makes sense;
    `check` validates parameters against the target; `build` gives the requests.
    """

    name: str
    title: str
    applies_to: TargetKind
    dangerous: bool
    build: Builder
    description: str = ""
    params: tuple[Param, ...] = ()
    repoll: tuple[Kind, ...] = ()
    undo: str | None = None  # the action that undoes this one
    offered: Offered = _always
    check: Check = _no_check
    notes: Notes = _no_notes
    on_partial: Callable[[Plan, int], str] | None = None  # where a half-done run left things


@dataclass(frozen=True, slots=True)
class Plan:
    """An action on a target with validated parameters and the exact requests."""

    action: Action
    target: ActionTarget
    params: Mapping[str, str]
    requests: tuple[Request, ...]
    facts: Facts
    notes: tuple[str, ...] = ()

    @property
    def ref(self) -> RegionRef:
        return self.target.ref

    @property
    def mutating(self) -> bool:
        return any(r.mutating for r in self.requests)

    def lines(self) -> list[str]:
        """The confirmation text: what, where, and every request with its body."""
        out = [f"{self.action.title}: {self.target.label()}", f"in {self.ref}"]
        for number, request in enumerate(self.requests, 1):
            out.append(f"{number}. {request.line()}")
            if request.body is not None:
                out.append(f"   {request.body_text()}")
        out.extend(f"note: {note}" for note in self.notes)
        return out


def frozen_params(values: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(values))


def clean_params(action: Action, given: Mapping[str, Any] | None) -> dict[str, str]:
    """The action's parameters, trimmed, with a clear refusal for missing or bad ones."""
    given = dict(given or {})
    known = {p.name for p in action.params}
    unknown = sorted(set(given) - known)
    if unknown:
        raise PlanError(f"{action.title}: unknown parameter(s): {', '.join(unknown)}")
    cleaned: dict[str, str] = {}
    for param in action.params:
        value = given.get(param.name)
        text = "" if value is None else str(value).strip()
        if not text:
            if param.required:
                raise PlanError(f"{action.title}: {param.label} is required ({param.help})")
            continue
        if len(text) > param.max_length:
            raise PlanError(
                f"{action.title}: {param.label} is {len(text)} characters; "
                f"at most {param.max_length} are allowed"
            )
        if any(ord(ch) < 32 for ch in text):
            raise PlanError(f"{action.title}: {param.label} must be one line of text")
        cleaned[param.name] = text
    return cleaned


def mutating_requests(requests: Iterable[Request]) -> list[Request]:
    return [r for r in requests if r.mutating]
