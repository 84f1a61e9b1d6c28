"""Domain types in operators' words: what the panes show and the rules judge.

Everything here is immutable: a snapshot handed to the UI, the rules or the
recorder can never change under them. Collectors build these from API bodies;
nothing here knows about HTTP or Textual.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Generic, TypeVar


class Kind(StrEnum):
    """What a collector gathers; each kind has its own interval and snapshot."""

    HYPERVISORS = "hypervisors"
    SERVICES = "services"  # Nova and Cinder services
    AGENTS = "agents"  # Neutron agents
    ROUTERS = "routers"
    TENANTS = "tenants"


@dataclass(frozen=True, slots=True)
class RegionRef:
    cloud: str
    region: str

    def __str__(self) -> str:
        return f"{self.cloud}/{self.region}"


@dataclass(frozen=True, slots=True)
class Capacity:
    """One resource class of a compute node: Placement's view, or Nova's before 2.88.

    Capacity is (total - reserved) * allocation_ratio, as Placement schedules.
    """

    total: int
    used: int
    reserved: int = 0
    allocation_ratio: float = 1.0

    @property
    def capacity(self) -> float:
        return max(0, self.total - self.reserved) * self.allocation_ratio

    @property
    def free(self) -> float:
        return self.capacity - self.used

    @property
    def used_ratio(self) -> float | None:
        """Used share of capacity (can exceed 1.0 when over-committed)."""
        return None if self.capacity <= 0 else self.used / self.capacity


@dataclass(frozen=True, slots=True)
class Hypervisor:
    id: str  # the Placement resource provider uuid at Nova 2.53+
    hostname: str
    state: str  # "up" / "down" (the compute service's liveness)
    status: str  # "enabled" / "disabled"
    host_ip: str | None = None
    hypervisor_type: str | None = None
    service_id: str | None = None
    service_host: str | None = None
    disabled_reason: str | None = None
    running_vms: int | None = None
    vcpu: Capacity | None = None
    memory_mb: Capacity | None = None
    disk_gb: Capacity | None = None
    usage_source: str = "none"  # "placement", "nova" (< 2.88) or "none"
    service_updated_at: float | None = None  # its nova-compute row's `updated_at`: since when down


@dataclass(frozen=True, slots=True)
class Service:
    """A Nova or Cinder service row: the control plane's liveness."""

    id: str
    project: str  # "nova" or "cinder"
    binary: str
    host: str
    zone: str | None
    status: str  # enabled / disabled
    state: str  # up / down
    updated_at: float | None
    heartbeat_age: float | None  # seconds, against the server's clock
    disabled_reason: str | None = None
    forced_down: bool = False


@dataclass(frozen=True, slots=True)
class Agent:
    """A Neutron agent with its heartbeat age measured against the server's clock."""

    id: str
    agent_type: str
    binary: str
    host: str
    alive: bool
    admin_state_up: bool
    heartbeat_at: float | None
    heartbeat_age: float | None
    started_at: float | None
    availability_zone: str | None = None

    @property
    def is_ovn(self) -> bool:
        return self.agent_type.startswith("OVN ")


@dataclass(frozen=True, slots=True)
class RouterBinding:
    """One L3 agent hosting a router replica, as `routers/{id}/l3-agents` reports it; on
    ML2/OVN, one candidate gateway chassis (its gateway agent) with its priority."""

    agent_id: str
    host: str
    ha_state: str | None  # active / standby / unknown / None for non-HA routers and OVN
    agent_alive: bool
    agent_admin_up: bool
    priority: int | None = None  # OVN's ha_chassis_priority: the highest holds the gateway


@dataclass(frozen=True, slots=True)
class RouterGateway:
    """ML2/OVN: a router's gateway port. Neutron binds it (`binding:host_id`) to the
    chassis that claimed the router's gateway and sets it ACTIVE; with no chassis
    holding it, the host is cleared and the port goes DOWN."""

    port_id: str
    host: str  # the chassis the gateway is active on; "" when none holds it
    status: str  # ACTIVE / DOWN / ...

    @property
    def active(self) -> bool:
        return bool(self.host) and self.status == "ACTIVE"


@dataclass(frozen=True, slots=True)
class Router:
    id: str
    name: str
    project_id: str
    status: str
    admin_state_up: bool
    ha: bool | None  # None when the credential cannot see the admin-only field
    distributed: bool | None
    replica_hosts: tuple[str, ...] = ()  # from the HA ports listing, for every router
    bindings: tuple[RouterBinding, ...] | None = None  # None until swept
    bindings_checked_at: float | None = None
    # ML2/OVN: its gateway port (None without one, and on ML2/OVS); `bindings` then
    # hold its candidate gateway chassis
    gateway: RouterGateway | None = None

    @property
    def active_hosts(self) -> tuple[str, ...]:
        return tuple(b.host for b in self.bindings or () if b.ha_state == "active")


@dataclass(frozen=True, slots=True)
class TenantSignals:
    """The observable facts about one project that the tenant rules score.

    None means "not read": the listing it comes from has never answered in this region
    (a listing that fails later keeps the facts of its last answer). Unknown is not
    zero: it is shown as "?", scores nothing, and clears no finding.
    """

    project_id: str
    project_name: str
    # From the servers listing:
    servers: int | None = 0
    error_servers: tuple[str, ...] | None = ()  # server ids
    stuck_servers: tuple[str, ...] | None = ()  # BUILD / task_state set for too long
    created_last_hour: int | None = 0
    deleted_last_hour: int | None = 0
    # From the ports listing:
    spoofing_ports: tuple[str, ...] | None = ()  # 0.0.0.0/0 pairs or port security off
    # From the security group rules listing:
    open_ingress_rules: tuple[str, ...] | None = ()  # ingress from 0.0.0.0/0 or ::/0
    open_ingress_ports: tuple[int, ...] | None = ()
    # From the floating IPs listing:
    floating_ips: int | None = 0
    floating_ips_created_last_hour: int | None = 0
    # service ("neutron", "nova", "cinder") -> resource -> (used, limit), limits > 0 only
    quotas: Mapping[str, Mapping[str, tuple[int, int]]] = field(default_factory=dict)
    quotas_unknown: tuple[str, ...] = ()  # services whose quotas were never read: not 0%

    @property
    def unread(self) -> tuple[str, ...]:
        """The signals that could not be read, in words ("spoofing ports", ...)."""
        return tuple(
            words
            for words, value in (
                ("servers", self.servers),
                ("spoofing ports", self.spoofing_ports),
                ("open ingress", self.open_ingress_rules),
                ("floating IPs", self.floating_ips),
            )
            if value is None
        )


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Snapshot(Generic[T]):
    """One kind in one region at one moment; a failing poll keeps the last items.

    `error` says why the latest poll failed (the items then are the previous ones,
    and `stale` is true); `complete` is false when some parts could not be read, and
    `partly_read` names the items some of whose facts are unknown: they are shown,
    but what they lack proves nothing (no finding of theirs clears on them).
    `held` names the items this poll could not read at all (their part of the kind
    failed, or their records were unreadable), kept as the poll that last read them
    saw them, with when that was: shown dimmed, their ages counting from then; they
    neither raise, clear nor confirm a finding (the rows of a part that failed stay,
    as a failed kind's do, instead of vanishing).
    """

    ref: RegionRef
    kind: Kind
    items: Mapping[str, T]
    fetched_at: float  # local epoch seconds when the poll ended
    server_time: float | None = None  # the server's clock (Date header) at that moment
    duration_ms: float = 0.0
    requests: int = 0
    error: str | None = None
    stale: bool = False
    complete: bool = True
    notes: tuple[str, ...] = ()  # e.g. "OVN: no L3 agents", "swept 120 of 2000 routers"
    extra: Mapping[str, Any] = field(default_factory=dict)
    partly_read: frozenset[str] = frozenset()  # ids of items read only in part
    held: Mapping[str, float] = field(default_factory=dict)  # id -> fetched_at it was read

    @staticmethod
    def freeze(items: Mapping[str, T]) -> Mapping[str, T]:
        return MappingProxyType(dict(items))

    def age(self, now: float) -> float:
        return max(0.0, now - self.fetched_at)

    @property
    def never_read(self) -> bool:
        """Its polls failed from the start: no items says nothing (unknown, not none)."""
        return self.stale and not self.items
