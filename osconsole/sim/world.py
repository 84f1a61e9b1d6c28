"""The state of the simulated cloud: regions and the objects OpenStack would store.

Objects keep the facts a real database keeps (ids, owners, bindings, timestamps)
and derive time-dependent ones (heartbeats, `alive`, service `state`) from the
simulation clock, so stepping the clock is enough to make an agent look dead.
Rendering to API bodies lives in the per-service route modules, not here.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from osconsole.sim.backing import Backing
from osconsole.sim.clock import SimClock

# Intervals as the services ship them: Neutron agents report every 30 s and are
# dead after agent_down_time (75 s); Nova services report every 10 s and are down
# after service_down_time (60 s). Cinder matches Nova.
NEUTRON_REPORT_INTERVAL = 30.0
NEUTRON_AGENT_DOWN_TIME = 75.0
NOVA_REPORT_INTERVAL = 10.0
NOVA_SERVICE_DOWN_TIME = 60.0

L3_AGENT = "L3 agent"
DHCP_AGENT = "DHCP agent"
OVS_AGENT = "Open vSwitch agent"
METADATA_AGENT = "Metadata agent"
# ML2/OVN has no L3, DHCP or OVS agents: ovn-controller reports each chassis, as a
# gateway agent on chassis that can hold router gateways (enable-chassis-as-gw).
OVN_CONTROLLER = "OVN Controller agent"
OVN_GATEWAY = "OVN Controller Gateway agent"
OVN_METADATA = "OVN Metadata agent"

BACKENDS = ("ovs", "ovn")  # ML2/OVS (L3 agents, keepalived) or ML2/OVN (gateway chassis)
# OVN schedules a router's gateway on at most this many chassis (MAX_GW_CHASSIS), each
# with a priority; the highest-priority chassis that is up holds it.
MAX_GATEWAY_CHASSIS = 5
HIGHEST_CHASSIS_PRIORITY = 32767

AGENT_BINARIES = {
    L3_AGENT: ("neutron-l3-agent", "l3_agent"),
    DHCP_AGENT: ("neutron-dhcp-agent", "dhcp_agent"),
    OVS_AGENT: ("neutron-openvswitch-agent", "N/A"),
    METADATA_AGENT: ("neutron-metadata-agent", "N/A"),
    OVN_CONTROLLER: ("ovn-controller", "N/A"),
    OVN_GATEWAY: ("ovn-controller", "N/A"),
    OVN_METADATA: ("neutron-ovn-metadata-agent", "N/A"),
}

HA_INTERFACE_OWNER = "network:router_ha_interface"
ROUTER_GATEWAY_OWNER = "network:router_gateway"

SERVICES = ("compute", "network", "placement", "volume")  # what each region serves

# Quota limits as the services ship them; -1 is unlimited. Nova's and Cinder's
# usage is counted from the world (compute_usage, volume_usage), as their quota
# engines count it from their databases.
COMPUTE_QUOTA_DEFAULTS = {
    "instances": 10,
    "cores": 20,
    "ram": 51200,
    "metadata_items": 128,
    "key_pairs": 100,
    "server_groups": 10,
    "server_group_members": 10,
    "injected_files": 5,
    "injected_file_content_bytes": 10240,
    "injected_file_path_bytes": 255,
}
VOLUME_QUOTA_DEFAULTS = {
    "volumes": 10,
    "snapshots": 10,
    "gigabytes": 1000,
    "backups": 10,
    "backup_gigabytes": 1000,
    "groups": 10,
    "per_volume_gigabytes": -1,
}
VOLUME_TYPE_RESOURCES = ("volumes", "snapshots", "gigabytes")  # also counted per volume type


def last_beat(now: float, phase: float, interval: float, stopped_at: float | None) -> float:
    """When a periodic reporter last reported: on its own phase, or when it stopped."""
    if stopped_at is not None and stopped_at <= now:
        return stopped_at
    return now - ((now + phase) % interval)


@dataclass(slots=True)
class Project:
    id: str
    name: str
    domain_id: str = "default"
    description: str = ""
    enabled: bool = True
    is_domain: bool = False
    parent_id: str = "default"
    tags: list[str] = field(default_factory=list)


@dataclass(slots=True)
class User:
    id: str
    name: str
    password: str
    project_id: str
    roles: tuple[str, ...]
    domain_id: str = "default"


@dataclass(slots=True)
class AppCredential:
    """Application credential; `access_rules` limit it (e.g. to GET only)."""

    id: str
    name: str
    secret: str
    user_id: str
    project_id: str
    roles: tuple[str, ...]
    access_rules: list[dict] = field(default_factory=list)


@dataclass(slots=True)
class Token:
    id: str
    user_id: str
    project_id: str
    roles: tuple[str, ...]
    issued_at: float
    expires_at: float
    methods: tuple[str, ...]
    app_credential_id: str | None = None
    access_rules: list[dict] = field(default_factory=list)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


@dataclass(slots=True)
class Flavor:
    name: str
    vcpus: int
    ram: int
    disk: int


@dataclass(slots=True)
class ComputeService:
    """A Nova service row (nova-compute, nova-scheduler, nova-conductor)."""

    id: str
    int_id: int
    binary: str
    host: str
    zone: str
    phase: float
    created_at: float
    disabled: bool = False
    disabled_reason: str | None = None
    forced_down: bool = False
    stopped_at: float | None = None  # last heartbeat of a dead service
    updated_at_override: float | None = None

    def heartbeat(self, now: float) -> float:
        return last_beat(now, self.phase, NOVA_REPORT_INTERVAL, self.stopped_at)

    def is_up(self, now: float) -> bool:
        return not self.forced_down and now - self.heartbeat(now) <= NOVA_SERVICE_DOWN_TIME

    def stop(self, now: float) -> None:
        """The service process dies: no heartbeat after `now` (a no-op when already dead)."""
        if self.stopped_at is None:
            self.stopped_at = now

    def resume(self) -> None:
        """The service reports again from now on."""
        self.stopped_at = None


@dataclass(slots=True)
class VolumeService:
    """A Cinder service row (cinder-scheduler, cinder-volume, cinder-backup)."""

    binary: str
    host: str
    zone: str
    phase: float
    cluster: str | None = None
    disabled: bool = False
    disabled_reason: str | None = None
    frozen: bool = False
    stopped_at: float | None = None

    def heartbeat(self, now: float) -> float:
        return last_beat(now, self.phase, NOVA_REPORT_INTERVAL, self.stopped_at)

    def is_up(self, now: float) -> bool:
        return now - self.heartbeat(now) <= NOVA_SERVICE_DOWN_TIME


@dataclass(slots=True)
class Hypervisor:
    """A compute node; its id is also its Placement resource provider uuid."""

    id: str
    int_id: int
    hostname: str
    host_ip: str
    vcpus: int
    memory_mb: int
    local_gb: int
    service: ComputeService
    hypervisor_type: str = "QEMU"
    hypervisor_version: int = 8002000
    cpu_allocation_ratio: float = 4.0
    ram_allocation_ratio: float = 1.0
    disk_allocation_ratio: float = 1.0
    reserved_host_memory_mb: int = 512
    generation: int = 1
    vcpus_used: int = 0
    memory_mb_used: int = 0
    local_gb_used: int = 0
    running_vms: int = 0

    def inventories(self) -> dict[str, dict]:
        def inv(total: int, reserved: int, ratio: float) -> dict:
            return {
                "allocation_ratio": ratio,
                "max_unit": total,
                "min_unit": 1,
                "reserved": reserved,
                "step_size": 1,
                "total": total,
            }

        return {
            "DISK_GB": inv(self.local_gb, 0, self.disk_allocation_ratio),
            "MEMORY_MB": inv(
                self.memory_mb, self.reserved_host_memory_mb, self.ram_allocation_ratio
            ),
            "VCPU": inv(self.vcpus, 0, self.cpu_allocation_ratio),
        }

    def usages(self) -> dict[str, int]:
        return {
            "DISK_GB": self.local_gb_used,
            "MEMORY_MB": self.memory_mb_used,
            "VCPU": self.vcpus_used,
        }


@dataclass(slots=True)
class Server:
    id: str
    name: str
    project_id: str
    user_id: str
    flavor: Flavor
    image_id: str
    host: str | None
    node: str | None
    hypervisor_id: str | None
    zone: str
    created_at: float
    updated_at: float
    status: str = "ACTIVE"
    vm_state: str = "active"
    task_state: str | None = None
    power_state: int = 1
    launched_at: float | None = None
    deleted: bool = False
    deleted_at: float | None = None
    locked: bool = False
    locked_reason: str | None = None
    ip: str = "10.0.0.10"
    mac: str = "fa:16:3e:00:00:01"
    network_name: str = "private"


@dataclass(slots=True)
class Volume:
    """A Cinder volume: only what quotas count (no API lists volumes yet)."""

    id: str
    project_id: str
    size: int  # GiB
    volume_type: str
    created_at: float
    server_id: str | None = None  # attached to, when in-use

    @property
    def status(self) -> str:
        return "in-use" if self.server_id else "available"


@dataclass(slots=True)
class VolumeSnapshot:
    id: str
    project_id: str
    volume_id: str
    volume_type: str
    size: int  # GiB, the volume's size when taken
    created_at: float


def compute_usage(servers: Iterable[Server]) -> dict[str, int]:
    """Nova's quota usage of one project's servers: every server not deleted counts,
    in ERROR or not, with its flavor's vCPUs and RAM."""
    usage = {"instances": 0, "cores": 0, "ram": 0}
    for server in servers:
        if not server.deleted:
            usage["instances"] += 1
            usage["cores"] += server.flavor.vcpus
            usage["ram"] += server.flavor.ram
    return usage


def volume_usage(
    volumes: Iterable[Volume], snapshots: Iterable[VolumeSnapshot], types: Iterable[str]
) -> dict[str, int]:
    """Cinder's quota usage of one project: snapshots count in `gigabytes` too (as
    with Cinder's default no_snapshot_gb_quota = False), and each volume type has its
    own `volumes_<type>`, `snapshots_<type>` and `gigabytes_<type>`."""
    usage = {resource: 0 for resource in VOLUME_QUOTA_DEFAULTS}
    for name in types:
        for resource in VOLUME_TYPE_RESOURCES:
            usage[f"{resource}_{name}"] = 0

    def add(resource: str, volume_type: str, amount: int) -> None:
        usage[resource] += amount
        typed = f"{resource}_{volume_type}"
        if typed in usage:
            usage[typed] += amount

    for volume in volumes:
        add("volumes", volume.volume_type, 1)
        add("gigabytes", volume.volume_type, volume.size)
    for snapshot in snapshots:
        add("snapshots", snapshot.volume_type, 1)
        add("gigabytes", snapshot.volume_type, snapshot.size)
    return usage


@dataclass(slots=True)
class Agent:
    """A Neutron agent; heartbeat and `alive` follow the clock unless it stopped."""

    id: str
    agent_type: str
    host: str
    zone: str | None
    phase: float
    created_at: float
    started_at: float
    admin_state_up: bool = True
    stopped_at: float | None = None
    configurations: dict = field(default_factory=dict)
    description: str | None = None

    @property
    def binary(self) -> str:
        return AGENT_BINARIES[self.agent_type][0]

    @property
    def topic(self) -> str:
        return AGENT_BINARIES[self.agent_type][1]

    def heartbeat(self, now: float) -> float:
        return last_beat(now, self.phase, NEUTRON_REPORT_INTERVAL, self.stopped_at)

    def is_alive(self, now: float) -> bool:
        return now - self.heartbeat(now) <= NEUTRON_AGENT_DOWN_TIME

    def stop(self, now: float) -> None:
        """The agent process dies: no heartbeat after `now` (a no-op when already dead)."""
        if self.stopped_at is None:
            self.stopped_at = now

    def resume(self, now: float) -> None:
        """The agent (re)starts at `now`: it reports again, with a new `started_at`."""
        self.stopped_at = None
        self.started_at = now


@dataclass(slots=True)
class Router:
    """A router; `bindings` maps L3 agent id to the ha_state that agent reports."""

    id: str
    name: str
    project_id: str
    created_at: float
    updated_at: float
    ha: bool = True
    distributed: bool = False
    status: str = "ACTIVE"
    admin_state_up: bool = True
    revision: int = 1
    gateway_network_id: str | None = None
    gateway_ip: str | None = None
    gateway_subnet_id: str | None = None
    bindings: dict[str, str] = field(default_factory=dict)
    # OVN: the gateway agents (chassis) its gateway may be on, highest priority first
    gateway_chassis: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Port:
    id: str
    name: str
    network_id: str
    project_id: str
    device_owner: str
    device_id: str
    host: str
    mac: str
    ip: str
    subnet_id: str
    created_at: float
    updated_at: float
    status: str = "ACTIVE"
    admin_state_up: bool = True
    port_security_enabled: bool = True
    allowed_address_pairs: list[dict] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    revision: int = 1


@dataclass(slots=True)
class SecurityGroupRule:
    id: str
    security_group_id: str
    project_id: str
    direction: str
    ethertype: str
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None
    created_at: float
    updated_at: float
    description: str = ""
    belongs_to_default_sg: bool = False


@dataclass(slots=True)
class FloatingIP:
    id: str
    project_id: str
    floating_ip: str
    floating_network_id: str
    created_at: float
    updated_at: float
    port_id: str | None = None
    fixed_ip: str | None = None
    router_id: str | None = None
    status: str = "DOWN"
    revision: int = 1


T = TypeVar("T")


class Collection(Generic[T]):
    """Objects by id in creation order, with cheap marker lookups for paging."""

    def __init__(self) -> None:
        self._items: dict[str, T] = {}
        self._order: list[T] | None = None
        self._index: dict[str, int] | None = None

    def add(self, item_id: str, item: T) -> T:
        self._items[item_id] = item
        self._order = self._index = None
        return item

    def remove(self, item_id: str) -> T | None:
        item = self._items.pop(item_id, None)
        if item is not None:
            self._order = self._index = None
        return item

    def get(self, item_id: str) -> T | None:
        return self._items.get(item_id)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items.values())

    def ids(self) -> Iterable[str]:
        return self._items.keys()

    def ordered(self) -> list[T]:
        if self._order is None:
            self._order = list(self._items.values())
        return self._order

    def position_after(self, marker: str) -> int | None:
        """Index of the first object after `marker`, or None for an unknown marker."""
        if self._index is None:
            self._index = {key: i for i, key in enumerate(self._items)}
        pos = self._index.get(marker)
        return None if pos is None else pos + 1

    def page(
        self,
        *,
        limit: int | None,
        marker: str | None,
        match: Callable[[T], bool] | None = None,
    ) -> tuple[list[T], bool]:
        """Objects after `marker` that `match`, up to `limit`; and whether more remain.

        Raises KeyError for a marker that names no object, as the services answer 400/404.
        """
        start = 0
        if marker:
            pos = self.position_after(marker)
            if pos is None:
                raise KeyError(marker)
            start = pos
        out: list[T] = []
        items = self.ordered()
        for i in range(start, len(items)):
            item = items[i]
            if match is not None and not match(item):
                continue
            if limit is not None and len(out) == limit:
                return out, True
            out.append(item)
        return out, False


@dataclass
class Faults:
    """What goes wrong in one region; switched on and off through /_sim/faults."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0  # share of requests answered 500/503
    timeout_rate: float = 0.0  # share of requests that hang
    malformed_rate: float = 0.0  # share of 200s whose JSON body is cut short
    unreachable: bool = False  # every request hangs, like a black-holed network
    hang_seconds: float = 120.0
    # What a proxy in front of an API, or a broken one, does (sim/faults.py applies them).
    status: int = 0  # every request answered with this HTTP status (429, 503 ...); 0: off
    retry_after: float = 0.0  # seconds sent in Retry-After with `status`; 0: no header
    html: bool = False  # a proxy's HTML error page (502) instead of the service's answer
    truncate: bool = False  # successful bodies cut off mid-stream, the connection dropped
    shape: str = ""  # successful JSON wrongly shaped: "null", "dict" or "no_ids"; "": off
    refuse: bool = False  # the connection is refused: no answer at all
    hang: bool = False  # every request waits until this is switched off or the client leaves

    def update(self, **changes: object) -> None:
        for key, value in changes.items():
            if not hasattr(self, key):
                raise KeyError(key)
            current = getattr(self, key)
            setattr(self, key, type(current)(value))


class Region:
    """Everything one region's Nova, Neutron, Placement and Cinder hold."""

    def __init__(self, name: str, started_at: float = 0.0) -> None:
        self.name = name
        self.backend = "ovs"  # one of BACKENDS
        self.faults = Faults()
        # RabbitMQ, Galera and memcached beneath the APIs (their probes' answers).
        self.backing = Backing(name, started_at)
        # One service's own faults, on top of the region's (a field set here wins).
        self.service_faults = {service: Faults() for service in SERVICES}
        self.hypervisors: Collection[Hypervisor] = Collection()
        self.compute_services: Collection[ComputeService] = Collection()
        self.volume_services: list[VolumeService] = []
        self.servers: Collection[Server] = Collection()
        self.agents: Collection[Agent] = Collection()
        self.routers: Collection[Router] = Collection()
        self.ports: Collection[Port] = Collection()
        self.security_group_rules: Collection[SecurityGroupRule] = Collection()
        self.floating_ips: Collection[FloatingIP] = Collection()
        self.external_network_id = ""
        self.external_subnet_id = ""
        self.max_l3_agents_per_router = 3
        self.hypervisors_by_host: dict[str, Hypervisor] = {}
        self.ha_ports_by_router: dict[str, list[str]] = {}
        self.gateway_port_by_router: dict[str, str] = {}  # OVN: router id -> gateway port id
        self.volumes: Collection[Volume] = Collection()
        self.volume_snapshots: Collection[VolumeSnapshot] = Collection()
        self.volume_types: list[str] = ["ceph"]
        # project id -> resource -> limit; projects not listed have the defaults
        self.quotas: dict[str, dict[str, int]] = {}  # Neutron's
        self.compute_quotas: dict[str, dict[str, int]] = {}
        self.volume_quotas: dict[str, dict[str, int]] = {}

    # -- Nova -------------------------------------------------------------

    def place_server(self, server: Server) -> None:
        """Add a server and count it against its hypervisor's usage."""
        self.servers.add(server.id, server)
        self._count(server, +1)

    def delete_server(self, server: Server, now: float) -> None:
        """Soft-delete as Nova does: still listed by `changes-since`."""
        if server.deleted:
            return
        self._count(server, -1)
        server.deleted = True
        server.deleted_at = now
        server.updated_at = now
        server.status = "DELETED"
        server.vm_state = "deleted"
        server.task_state = None
        server.power_state = 0

    def _count(self, server: Server, sign: int) -> None:
        hv = self.hypervisors_by_host.get(server.host or "")
        if hv is None or server.deleted:
            return
        hv.vcpus_used += sign * server.flavor.vcpus
        hv.memory_mb_used += sign * server.flavor.ram
        hv.local_gb_used += sign * server.flavor.disk
        hv.running_vms += sign
        hv.generation += 1

    def compute_quota(self, project_id: str) -> dict[str, int]:
        return self.compute_quotas.get(project_id, COMPUTE_QUOTA_DEFAULTS)

    def compute_service_for_host(self, host: str) -> ComputeService | None:
        hv = self.hypervisors_by_host.get(host)
        return hv.service if hv else None

    # -- Cinder -----------------------------------------------------------

    def volume_quota(self, project_id: str) -> dict[str, int]:
        """A project's limits, per volume type included (unlimited unless set)."""
        limits = dict(self.volume_quotas.get(project_id, VOLUME_QUOTA_DEFAULTS))
        for name in self.volume_types:
            for resource in VOLUME_TYPE_RESOURCES:
                limits.setdefault(f"{resource}_{name}", -1)
        return limits

    def project_volume_usage(self, project_id: str) -> dict[str, int]:
        volumes = [v for v in self.volumes if v.project_id == project_id]
        snapshots = [s for s in self.volume_snapshots if s.project_id == project_id]
        return volume_usage(volumes, snapshots, self.volume_types)

    # -- Neutron ----------------------------------------------------------

    def l3_agents(self) -> list[Agent]:
        return [a for a in self.agents if a.agent_type == L3_AGENT]

    def gateway_agents(self) -> list[Agent]:
        """OVN: the chassis that can hold router gateways."""
        return [a for a in self.agents if a.agent_type == OVN_GATEWAY]

    def gateway_port(self, router: Router) -> Port | None:
        """OVN: the router's gateway port (its `binding:host_id` is the active chassis)."""
        port_id = self.gateway_port_by_router.get(router.id)
        return self.ports.get(port_id) if port_id else None

    def place_gateway(self, router: Router, host: str, now: float) -> Port | None:
        """What Neutron does when OVN reports a router's chassis-redirect port claimed by
        the chassis `host` (the gateway port goes ACTIVE there) or by none ("": the host
        is cleared and the port goes DOWN)."""
        port = self.gateway_port(router)
        if port is None:
            return None
        status = "ACTIVE" if host else "DOWN"
        if (port.host, port.status) != (host, status):
            port.host, port.status = host, status
            port.updated_at = now
            port.revision += 1
        return port

    def agents_on_host(self, host: str) -> list[Agent]:
        return [a for a in self.agents if a.host == host]

    def routers_on_agent(self, agent_id: str) -> list[Router]:
        return [r for r in self.routers if agent_id in r.bindings]

    def reported_ha_state(self, router: Router, agent: Agent, now: float) -> str | None:
        """The ha_state `l3-agents` shows for one binding, rewritten as Neutron does.

        Neutron turns an `active` binding on a dead agent into `standby`, or into
        `unknown` when every agent of the router is dead; live bindings stand as stored.
        """
        if not router.ha:
            return None
        stored = router.bindings.get(agent.id, "standby")
        if agent.is_alive(now):
            return stored
        everyone_dead = all(
            not (a := self.agents.get(aid)) or not a.is_alive(now) for aid in router.bindings
        )
        return "unknown" if everyone_dead else "standby"


@dataclass
class RequestRecord:
    seq: int
    time: float
    method: str
    path: str
    region: str | None
    service: str
    status: int
    query: str = ""


class World:
    """One simulated cloud: Keystone's users and projects, and its regions."""

    def __init__(self, clock: SimClock, seed: int) -> None:
        self.clock = clock
        self.seed = seed
        self.rng = random.Random(seed ^ 0x5EED)
        self.regions: dict[str, Region] = {}
        self.projects: Collection[Project] = Collection()
        self.users: dict[str, User] = {}
        self.app_credentials: dict[str, AppCredential] = {}
        self.tokens: dict[str, Token] = {}
        self.token_ttl = 3600.0
        self.admin_project_id = ""
        self.identity_faults = Faults()
        self.requests: list[RequestRecord] = []
        self.request_seq = 0
        self.max_request_log = 200_000
        self.tickers: list[Callable[[float], None]] = []

    def now(self) -> float:
        return self.clock.now()

    def tick(self) -> float:
        """Let scenarios catch up with the clock; called on every request and step."""
        now = self.clock.now()
        for ticker in list(self.tickers):
            ticker(now)
        return now

    def region(self, name: str) -> Region | None:
        return self.regions.get(name)

    def log_request(
        self,
        method: str,
        path: str,
        region: str | None,
        service: str,
        status: int,
        query: str = "",
    ) -> None:
        self.request_seq += 1
        self.requests.append(
            RequestRecord(
                self.request_seq, self.now(), method, path, region, service, status, query
            )
        )
        if len(self.requests) > self.max_request_log:
            del self.requests[: len(self.requests) // 2]


def new_uuid(rng: random.Random) -> str:
    """A reproducible version-4 UUID."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def hex_id(rng: random.Random) -> str:
    """Keystone-style ids: 32 hex digits, no dashes."""
    return f"{rng.getrandbits(128):032x}"
