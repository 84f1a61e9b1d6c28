"""Build a reproducible simulated cloud from a seed and a size.

The same seed and size always give the same ids, names and bindings, so tests can
name objects and benchmarks compare like with like. `large` is the scale the
product must handle in one region: 10,000 hypervisors, 20,000 HA routers and
100,000 servers. Further regions are smaller and (optionally) further away.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from osconsole.sim.clock import SimClock
from osconsole.sim.world import (
    BACKENDS,
    COMPUTE_QUOTA_DEFAULTS,
    DHCP_AGENT,
    HA_INTERFACE_OWNER,
    L3_AGENT,
    MAX_GATEWAY_CHASSIS,
    METADATA_AGENT,
    OVN_CONTROLLER,
    OVN_GATEWAY,
    OVN_METADATA,
    OVS_AGENT,
    ROUTER_GATEWAY_OWNER,
    VOLUME_QUOTA_DEFAULTS,
    Agent,
    AppCredential,
    ComputeService,
    Flavor,
    FloatingIP,
    Hypervisor,
    Port,
    Project,
    Region,
    Router,
    SecurityGroupRule,
    Server,
    User,
    Volume,
    VolumeService,
    VolumeSnapshot,
    World,
    compute_usage,
    hex_id,
    new_uuid,
    volume_usage,
)


@dataclass(frozen=True)
class Size:
    hypervisors: int
    l3_agents: int
    routers: int
    servers: int
    projects: int


SIZES: dict[str, Size] = {
    "tiny": Size(hypervisors=6, l3_agents=3, routers=8, servers=40, projects=5),
    "small": Size(hypervisors=40, l3_agents=4, routers=60, servers=400, projects=16),
    "medium": Size(hypervisors=1_000, l3_agents=24, routers=2_000, servers=10_000, projects=200),
    "large": Size(
        hypervisors=10_000, l3_agents=120, routers=20_000, servers=100_000, projects=2_000
    ),
}

# ML2/OVN clouds run a few gateway chassis, however many routers they carry.
MAX_OVN_GATEWAY_CHASSIS = 12

REGION_NAMES = ["RegionOne", "RegionTwo", "RegionThree", "RegionFour", "RegionFive"]
# Each further region is smaller than the first, and further away when latency is on.
REGION_SCALE = [1.0, 0.5, 0.25, 0.2, 0.1]
REGION_LATENCY_MS = [(2.0, 1.0), (15.0, 5.0), (45.0, 15.0), (80.0, 20.0), (120.0, 30.0)]

FLAVORS = [
    Flavor("m1.tiny", 1, 512, 1),
    Flavor("m1.small", 1, 2048, 20),
    Flavor("m1.medium", 2, 4096, 40),
    Flavor("m1.large", 4, 8192, 80),
    Flavor("m1.xlarge", 8, 16384, 160),
]
FLAVOR_WEIGHTS = [5, 30, 35, 20, 10]

# (status, vm_state, task_state, power_state, weight)
SERVER_STATES = [
    ("ACTIVE", "active", None, 1, 850),
    ("SHUTOFF", "stopped", None, 4, 80),
    ("ERROR", "error", None, 0, 20),
    ("BUILD", "building", "spawning", 0, 10),
    ("PAUSED", "paused", None, 3, 10),
    ("SUSPENDED", "suspended", None, 7, 10),
    ("VERIFY_RESIZE", "resized", None, 1, 5),
    ("ACTIVE", "active", "deleting", 1, 5),
    ("REBOOT", "active", "rebooting", 1, 5),
    ("MIGRATING", "active", "migrating", 1, 5),
]
SERVER_STATE_WEIGHTS = [s[4] for s in SERVER_STATES]
# A generated boot in flight began spawning (its `updated`) this long after it was asked
# (`created`): scheduling, networking and its volume (created a minute after the server).
BOOT_BEFORE_SPAWN_S = 60.0
SERVER_ROLES = ["app", "db", "web", "worker", "cache"]

PROJECT_WORDS = [
    "acme",
    "globex",
    "initech",
    "umbrella",
    "hooli",
    "stark",
    "wayne",
    "tyrell",
    "cyberdyne",
    "soylent",
    "wonka",
    "vandelay",
    "aperture",
    "blackmesa",
    "oscorp",
    "gringotts",
    "monarch",
    "nakatomi",
    "pied",
    "massive",
]
PROJECT_TEAMS = ["web", "data", "ci", "ml", "db", "edge", "batch", "api", "infra", "lab"]

ADMIN_PASSWORD = "osconsole-sim-admin"
MEMBER_PASSWORD = "osconsole-sim-member"
APP_CRED_SECRET = "osconsole-sim-appcred"
READONLY_APP_CRED_SECRET = "osconsole-sim-appcred-readonly"
BACKING_UPTIME = 12 * 86400.0  # RabbitMQ, Galera and memcached have run 12 days


def build_world(
    *,
    size: str = "tiny",
    regions: int = 1,
    seed: int = 1,
    clock: SimClock | None = None,
    latency: bool = False,
    backends: str | Sequence[str] = "ovs",
) -> World:
    """Generate a cloud of `regions` regions; the first has the full `size`.

    `backends` is the Neutron backend of every region ("ovs" or "ovn"), or one per
    region ("ovs,ovs,ovn" or a list): a mixed cloud has both side by side.
    """
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}: choose one of {', '.join(SIZES)}")
    if not 1 <= regions <= len(REGION_NAMES):
        raise ValueError(f"regions must be between 1 and {len(REGION_NAMES)}")
    per_region = region_backends(backends, regions)
    clock = clock or SimClock()
    world = World(clock, seed)
    rng = random.Random(seed)
    now = clock.now()
    base = SIZES[size]
    _identity(world, rng, base.projects)
    for index in range(regions):
        name = REGION_NAMES[index]
        region = Region(name, started_at=now - BACKING_UPTIME)
        region.backend = per_region[index]
        scale = REGION_SCALE[index]
        region_size = Size(
            hypervisors=max(3, round(base.hypervisors * scale)),
            l3_agents=max(3, round(base.l3_agents * scale)),
            routers=max(3, round(base.routers * scale)),
            servers=max(10, round(base.servers * scale)),
            projects=base.projects,
        )
        if latency:
            region.faults.latency_ms, region.faults.jitter_ms = REGION_LATENCY_MS[index]
        _populate(world, region, region_size, random.Random(f"{seed}:{name}"), now)
        world.regions[name] = region
    return world


def region_backends(backends: str | Sequence[str], regions: int) -> list[str]:
    """One backend per region from "ovn" (all), "ovs,ovn,ovs" or a list (one each)."""
    names = backends.split(",") if isinstance(backends, str) else list(backends)
    names = [n.strip().lower() for n in names]
    unknown = sorted({n for n in names if n not in BACKENDS})
    if unknown:
        raise ValueError(f"unknown backend {unknown[0]!r}: choose from {', '.join(BACKENDS)}")
    if len(names) == 1:
        return names * regions
    if len(names) != regions:
        raise ValueError(f"{len(names)} backends given for {regions} regions: give one or one each")
    return names


def _identity(world: World, rng: random.Random, count: int) -> None:
    admin = Project(
        hex_id(rng), "admin", description="Bootstrap project for initializing the cloud."
    )
    service = Project(hex_id(rng), "service", description="Service accounts")
    world.projects.add(admin.id, admin)
    world.projects.add(service.id, service)
    world.admin_project_id = admin.id
    for i in range(count):
        word = PROJECT_WORDS[i % len(PROJECT_WORDS)]
        team = PROJECT_TEAMS[(i // len(PROJECT_WORDS)) % len(PROJECT_TEAMS)]
        suffix = i // (len(PROJECT_WORDS) * len(PROJECT_TEAMS))
        name = f"{word}-{team}" + (f"-{suffix}" if suffix else "")
        project = Project(hex_id(rng), name, description=f"{word.title()} {team} team")
        world.projects.add(project.id, project)
    member_project = next(p for p in world.projects if p.name not in ("admin", "service"))
    admin_user = User(hex_id(rng), "admin", ADMIN_PASSWORD, admin.id, ("admin", "member", "reader"))
    member = User(hex_id(rng), "member", MEMBER_PASSWORD, member_project.id, ("member", "reader"))
    world.users = {u.name: u for u in (admin_user, member)}
    full = AppCredential(
        hex_id(rng), "osconsole", APP_CRED_SECRET, admin_user.id, admin.id, admin_user.roles
    )
    readonly = AppCredential(
        hex_id(rng),
        "osconsole-readonly",
        READONLY_APP_CRED_SECRET,
        admin_user.id,
        admin.id,
        admin_user.roles,
        access_rules=[{"id": hex_id(rng), "service": "*", "method": "GET", "path": "**"}],
    )
    world.app_credentials = {c.id: c for c in (full, readonly)}


def _populate(world: World, region: Region, size: Size, rng: random.Random, now: float) -> None:
    prefix = region.name.lower().replace("region", "r")
    tenants = [p for p in world.projects if p.name not in ("admin", "service")]
    _external_network(region, rng)
    _control_plane(region, rng, now, prefix)
    _computes(region, rng, now, prefix, size.hypervisors)
    if region.backend == "ovn":
        chassis = min(size.l3_agents, MAX_OVN_GATEWAY_CHASSIS)
        l3_agents = _gateway_chassis(region, rng, now, prefix, chassis)
    else:
        l3_agents = _network_nodes(region, rng, now, prefix, size.l3_agents)
    networks = _tenant_networks(region, rng, tenants)
    _security_groups(region, rng, now, tenants, networks)
    _routers(region, rng, now, tenants, l3_agents, size.routers, networks)
    _servers(world, region, rng, now, tenants, size.servers, networks)
    _floating_ips(region, rng, now, tenants)
    for project in tenants:
        region.quotas[project.id] = {
            "network": 100,
            "subnet": 100,
            "port": 500 if rng.random() > 0.05 else 60,
            "router": 10,
            "floatingip": 50 if rng.random() > 0.05 else 5,
            "security_group": 10,
            "security_group_rule": 100,
            "rbac_policy": 10,
            "subnetpool": -1,
        }
    _volumes(region, rng, now, tenants)
    _compute_and_volume_quotas(region, rng, tenants)


VOLUME_SIZES = [10, 20, 50, 100, 200, 500]
VOLUME_SIZE_WEIGHTS = [20, 30, 25, 15, 8, 2]


def _volumes(region: Region, rng: random.Random, now: float, tenants: list[Project]) -> None:
    """About a third of the servers have a data volume, a few projects keep detached
    ones, and some volumes have a snapshot."""
    volume_type = region.volume_types[0]

    def volume(project_id: str, server_id: str | None, created: float) -> None:
        size = rng.choices(VOLUME_SIZES, weights=VOLUME_SIZE_WEIGHTS)[0]
        vol = Volume(new_uuid(rng), project_id, size, volume_type, created, server_id)
        region.volumes.add(vol.id, vol)
        if rng.random() < 0.15:
            snap = VolumeSnapshot(
                new_uuid(rng), project_id, vol.id, volume_type, size, created + 86400
            )
            region.volume_snapshots.add(snap.id, snap)

    for server in region.servers:
        if not server.deleted and rng.random() < 0.3:
            volume(server.project_id, server.id, server.created_at + 60)
    for project in tenants:
        for _ in range(rng.choice([0, 0, 1, 2])):
            volume(project.id, None, now - rng.uniform(1, 300) * 86400)


# Quota limits are set with room above what a project uses (at least a quarter more,
# rounded up to these steps), so no project starts near a limit; scenarios fill them.
QUOTA_STEPS = {
    "instances": 5,
    "cores": 10,
    "ram": 10240,
    "volumes": 5,
    "snapshots": 5,
    "gigabytes": 500,
}


def _room(default: int, used: int, headroom: float, step: int) -> int:
    return max(default, math.ceil(used * headroom / step) * step)


def _compute_and_volume_quotas(region: Region, rng: random.Random, tenants: list[Project]) -> None:
    servers: dict[str, list[Server]] = {}
    for server in region.servers:
        servers.setdefault(server.project_id, []).append(server)
    volumes: dict[str, list[Volume]] = {}
    for vol in region.volumes:
        volumes.setdefault(vol.project_id, []).append(vol)
    snapshots: dict[str, list[VolumeSnapshot]] = {}
    for snap in region.volume_snapshots:
        snapshots.setdefault(snap.project_id, []).append(snap)
    for project in tenants:
        headroom = rng.uniform(1.25, 2.0)
        used = compute_usage(servers.get(project.id, []))
        limits = dict(COMPUTE_QUOTA_DEFAULTS)
        for resource in ("instances", "cores", "ram"):
            limits[resource] = _room(
                limits[resource], used[resource], headroom, QUOTA_STEPS[resource]
            )
        region.compute_quotas[project.id] = limits
        volume_used = volume_usage(
            volumes.get(project.id, []), snapshots.get(project.id, []), region.volume_types
        )
        volume_limits = dict(VOLUME_QUOTA_DEFAULTS)
        for resource in ("volumes", "snapshots", "gigabytes"):
            volume_limits[resource] = _room(
                volume_limits[resource], volume_used[resource], headroom, QUOTA_STEPS[resource]
            )
        region.volume_quotas[project.id] = volume_limits


def _external_network(region: Region, rng: random.Random) -> None:
    region.external_network_id = new_uuid(rng)
    region.external_subnet_id = new_uuid(rng)


def _mac(rng: random.Random) -> str:
    return "fa:16:3e:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))


def _control_plane(region: Region, rng: random.Random, now: float, prefix: str) -> None:
    for n in range(1, 4):
        host = f"{prefix}-ctl{n:02d}"
        for binary in ("nova-scheduler", "nova-conductor"):
            svc = ComputeService(
                id=new_uuid(rng),
                int_id=len(region.compute_services) + 1,
                binary=binary,
                host=host,
                zone="internal",
                phase=rng.uniform(0, 10),
                created_at=now - 400 * 86400,
            )
            region.compute_services.add(svc.id, svc)
        region.volume_services.append(
            VolumeService("cinder-scheduler", host, "nova", rng.uniform(0, 10))
        )
    for n in range(1, 3):
        host = f"{prefix}-stor{n:02d}@ceph"
        region.volume_services.append(
            VolumeService("cinder-volume", host, "nova", rng.uniform(0, 10), cluster="ceph")
        )
    region.volume_services.append(
        VolumeService("cinder-backup", f"{prefix}-stor01", "nova", rng.uniform(0, 10))
    )


MAINTENANCE_REASONS = [
    "maintenance: DIMM replacement (CHG-4211)",
    "hardware: PSU failure reported by iDRAC",
    "decommissioning, drain before 2026-12-01",
]


def _computes(region: Region, rng: random.Random, now: float, prefix: str, count: int) -> None:
    for n in range(1, count + 1):
        host = f"{prefix}-cmp{n:05d}"
        svc = ComputeService(
            id=new_uuid(rng),
            int_id=len(region.compute_services) + 1,
            binary="nova-compute",
            host=host,
            zone="nova",
            phase=rng.uniform(0, 10),
            created_at=now - rng.uniform(30, 700) * 86400,
        )
        if rng.random() < 0.01:
            svc.disabled = True
            svc.disabled_reason = rng.choice(MAINTENANCE_REASONS)
        region.compute_services.add(svc.id, svc)
        hv = Hypervisor(
            id=new_uuid(rng),
            int_id=n,
            hostname=host,
            host_ip=f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
            vcpus=rng.choice([32, 48, 64, 96, 128]),
            memory_mb=rng.choice([262144, 393216, 524288, 786432]),
            local_gb=rng.choice([1600, 3200, 6400]),
            service=svc,
            cpu_allocation_ratio=rng.choice([4.0, 4.0, 8.0, 16.0]),
            ram_allocation_ratio=rng.choice([1.0, 1.0, 1.0, 1.5]),
        )
        region.hypervisors.add(hv.id, hv)
        region.hypervisors_by_host[host] = hv
        if region.backend == "ovn":
            _agent(region, rng, now, OVN_CONTROLLER, host, None, _chassis_config(rng))
            _agent(region, rng, now, OVN_METADATA, host, None, {"log_agent_heartbeats": False})
        else:
            tunnels = {"devices": 0, "tunnel_types": ["vxlan"]}
            _agent(region, rng, now, OVS_AGENT, host, None, tunnels)


def _chassis_config(rng: random.Random, gateway: bool = False) -> dict:
    """What ML2/OVN shows of a chassis: its name and bridge mappings."""
    return {
        "chassis_name": new_uuid(rng),
        "bridge-mappings": "public:br-ex" if gateway else "",
        "datapath-type": "system",
        "iface-types": "geneve,internal,patch,system,tap,vxlan",
        "log_agent_heartbeats": False,
    }


def _gateway_chassis(
    region: Region, rng: random.Random, now: float, prefix: str, count: int
) -> list[Agent]:
    """OVN network nodes: chassis that can hold router gateways, one gateway agent each."""
    chassis = []
    for n in range(1, count + 1):
        config = _chassis_config(rng, gateway=True)
        chassis.append(_agent(region, rng, now, OVN_GATEWAY, f"{prefix}-gw{n:03d}", "nova", config))
    return chassis


def _agent(
    region: Region,
    rng: random.Random,
    now: float,
    agent_type: str,
    host: str,
    zone: str | None,
    configurations: dict,
) -> Agent:
    started = now - rng.uniform(1, 90) * 86400
    agent = Agent(
        id=new_uuid(rng),
        agent_type=agent_type,
        host=host,
        zone=zone,
        phase=rng.uniform(0, 30),
        created_at=started - rng.uniform(0, 300) * 86400,
        started_at=started,
        configurations=configurations,
    )
    region.agents.add(agent.id, agent)
    return agent


def _network_nodes(
    region: Region, rng: random.Random, now: float, prefix: str, count: int
) -> list[Agent]:
    l3_agents = []
    for n in range(1, count + 1):
        host = f"{prefix}-net{n:03d}"
        l3 = _agent(
            region,
            rng,
            now,
            L3_AGENT,
            host,
            "nova",
            {
                "agent_mode": "legacy",
                "gateway_external_network_id": "",
                "handle_internal_only_routers": True,
                "routers": 0,
                "interfaces": 0,
                "floating_ips": 0,
                "interface_driver": "openvswitch",
                "log_agent_heartbeats": False,
                "ex_gw_ports": 0,
            },
        )
        l3_agents.append(l3)
        dhcp = {
            "networks": 0,
            "subnets": 0,
            "ports": 0,
            "dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq",
        }
        _agent(region, rng, now, DHCP_AGENT, host, "nova", dhcp)
        _agent(region, rng, now, METADATA_AGENT, host, None, {"log_agent_heartbeats": False})
        _agent(region, rng, now, OVS_AGENT, host, None, {"devices": 0, "tunnel_types": ["vxlan"]})
    return l3_agents


@dataclass(frozen=True)
class TenantNetwork:
    network_id: str
    subnet_id: str
    security_group_id: str
    third_octet: int


def _tenant_networks(
    region: Region, rng: random.Random, tenants: list[Project]
) -> dict[str, TenantNetwork]:
    return {
        p.id: TenantNetwork(new_uuid(rng), new_uuid(rng), new_uuid(rng), i % 250)
        for i, p in enumerate(tenants)
    }


def _security_groups(
    region: Region,
    rng: random.Random,
    now: float,
    tenants: list[Project],
    networks: dict[str, TenantNetwork],
) -> None:
    """Default-group rules everywhere; a few projects open SSH/RDP/DB to the world."""
    for project in tenants:
        created = now - rng.uniform(30, 600) * 86400
        project_sg = networks[project.id].security_group_id
        rules: list[tuple[str, str, str | None, int | None, str | None, bool]] = [
            ("egress", "IPv4", None, None, None, False),
            ("egress", "IPv6", None, None, None, False),
            ("ingress", "IPv4", None, None, None, True),
            ("ingress", "IPv6", None, None, None, True),
        ]
        roll = rng.random()
        if roll < 0.15:
            rules.append(("ingress", "IPv4", "tcp", 22, "0.0.0.0/0", False))
        if roll < 0.05:
            rules.append(
                ("ingress", "IPv4", "tcp", rng.choice([3389, 3306, 5432]), "0.0.0.0/0", False)
            )
        if rng.random() < 0.3:
            rules.append(("ingress", "IPv4", "tcp", 443, "0.0.0.0/0", False))
        for direction, ethertype, protocol, port, prefix, from_group in rules:
            rule = SecurityGroupRule(
                id=new_uuid(rng),
                security_group_id=project_sg,
                project_id=project.id,
                direction=direction,
                ethertype=ethertype,
                protocol=protocol,
                port_range_min=port,
                port_range_max=port,
                remote_ip_prefix=prefix,
                remote_group_id=project_sg if from_group else None,
                created_at=created,
                updated_at=created,
                belongs_to_default_sg=True,
            )
            region.security_group_rules.add(rule.id, rule)


def _ovn_gateway(
    region: Region, rng: random.Random, router: Router, chassis: list[Agent], n: int
) -> list[Agent]:
    """The router's candidate chassis (OVN's scheduler spreads the first priority round
    robin; a few routers got fewer candidates) and its gateway port, ACTIVE on the
    highest-priority one."""
    k = min(MAX_GATEWAY_CHASSIS, len(chassis))
    if rng.random() < 0.03:
        k = max(1, k - 1)
    start = n % len(chassis)
    candidates = [chassis[(start + i) % len(chassis)] for i in range(k)]
    router.ha = False  # OVN has no l3-ha extension: HA is the gateway chassis list
    router.gateway_chassis = [a.id for a in candidates]
    port = Port(
        id=new_uuid(rng),
        name="",
        network_id=region.external_network_id,
        project_id="",
        device_owner=ROUTER_GATEWAY_OWNER,
        device_id=router.id,
        host=candidates[0].host,
        mac=_mac(rng),
        ip=router.gateway_ip or "",
        subnet_id=region.external_subnet_id,
        created_at=router.created_at,
        updated_at=router.updated_at,
        port_security_enabled=False,
    )
    region.ports.add(port.id, port)
    region.gateway_port_by_router[router.id] = port.id
    return []  # no L3 agent hosts it


def _routers(
    region: Region,
    rng: random.Random,
    now: float,
    tenants: list[Project],
    l3_agents: list[Agent],
    count: int,
    networks: dict[str, TenantNetwork],
) -> None:
    """HA routers bound to 2-3 L3 agents with exactly one active, plus a few legacy ones;
    on OVN (`l3_agents` are then gateway chassis) routers with a gateway port instead."""
    replicas = min(region.max_l3_agents_per_router, len(l3_agents))
    ha_network_id = new_uuid(rng)
    ha_subnet_id = new_uuid(rng)
    for n in range(count):
        project = tenants[n % len(tenants)]
        created = now - rng.uniform(1, 500) * 86400
        router = Router(
            id=new_uuid(rng),
            name=f"{project.name}-router-{n // len(tenants) + 1}",
            project_id=project.id,
            created_at=created,
            updated_at=created + rng.uniform(0, 3600),
            gateway_network_id=region.external_network_id,
            gateway_ip=f"172.24.{(n >> 8) & 255}.{n & 255}",
            gateway_subnet_id=region.external_subnet_id,
        )
        legacy = rng.random() < 0.03
        if region.backend == "ovn":
            agents = _ovn_gateway(region, rng, router, l3_agents, n)
        elif legacy:
            router.ha = False
            agents = [rng.choice(l3_agents)]
            router.bindings = {agents[0].id: "active"}
        else:
            k = replicas if rng.random() > 0.02 else max(2, replicas - 1)
            agents = rng.sample(l3_agents, k)
            router.bindings = {
                a.id: ("active" if i == 0 else "standby") for i, a in enumerate(agents)
            }
        region.routers.add(router.id, router)
        if router.ha:
            ha_ports = []
            for i, agent in enumerate(agents):
                port = Port(
                    id=new_uuid(rng),
                    name=f"HA port tenant {project.id}",
                    network_id=ha_network_id,
                    project_id="",
                    device_owner=HA_INTERFACE_OWNER,
                    device_id=router.id,
                    host=agent.host,
                    mac=_mac(rng),
                    ip=f"169.254.{192 + (n * 3 + i) // 65536 % 64}.{(n * 3 + i) // 256 % 256}",
                    subnet_id=ha_subnet_id,
                    created_at=created,
                    updated_at=created,
                )
                region.ports.add(port.id, port)
                ha_ports.append(port.id)
            region.ha_ports_by_router[router.id] = ha_ports
        net = networks[project.id]
        interface = Port(
            id=new_uuid(rng),
            name="",
            network_id=net.network_id,
            project_id=project.id,
            device_owner="network:router_interface",
            device_id=router.id,
            host="",
            mac=_mac(rng),
            ip=f"10.{net.third_octet // 256}.{net.third_octet}.1",
            subnet_id=net.subnet_id,
            created_at=created,
            updated_at=created,
        )
        region.ports.add(interface.id, interface)
        for agent in agents:
            agent.configurations["routers"] = agent.configurations.get("routers", 0) + 1


def _servers(
    world: World,
    region: Region,
    rng: random.Random,
    now: float,
    tenants: list[Project],
    count: int,
    networks: dict[str, TenantNetwork],
) -> None:
    hypervisors = region.hypervisors.ordered()
    # Skewed placement: a few hosts are packed, most are comfortable.
    weights = [rng.paretovariate(2.0) for _ in hypervisors]
    users = {p.id: hex_id(rng) for p in tenants}
    images = [new_uuid(rng) for _ in range(6)]
    hosts = rng.choices(hypervisors, weights=weights, k=count)
    flavors = rng.choices(FLAVORS, weights=FLAVOR_WEIGHTS, k=count)
    states = rng.choices(SERVER_STATES, weights=SERVER_STATE_WEIGHTS, k=count)
    for n in range(count):
        project = tenants[rng.randrange(len(tenants))]
        flavor = flavors[n]
        hv = hosts[n]
        if hv.memory_mb_used + flavor.ram > (hv.memory_mb - 512) * hv.ram_allocation_ratio:
            hv = hypervisors[rng.randrange(len(hypervisors))]
        status, vm_state, task_state, power_state, _ = states[n]
        created = now - rng.uniform(0.02, 400) * 86400
        # Transitional states have been in them a while only when stuck.
        updated = now - rng.uniform(5, 120) if task_state or status == "BUILD" else created
        if status == "BUILD":  # a boot in flight was asked moments ago, not months ago
            created = updated - BOOT_BEFORE_SPAWN_S
        if status == "ERROR" and rng.random() < 0.5:
            hv = None  # failed to schedule: NoValidHost leaves no host
        net = networks[project.id]
        ip = f"10.{net.third_octet // 256}.{net.third_octet}.{2 + n % 250}"
        server = Server(
            id=new_uuid(rng),
            name=f"{project.name.split('-')[0]}-{rng.choice(SERVER_ROLES)}-{n:06d}",
            project_id=project.id,
            user_id=users[project.id],
            flavor=flavor,
            image_id=images[n % len(images)],
            host=hv.hostname if hv else None,
            node=hv.hostname if hv else None,
            hypervisor_id=hv.id if hv else None,
            zone="nova",
            created_at=created,
            updated_at=updated,
            status=status,
            vm_state=vm_state,
            task_state=task_state,
            power_state=power_state,
            launched_at=None if status in ("BUILD", "ERROR") else created + 30,
            ip=ip,
            mac=_mac(rng),
            network_name=f"{project.name}-net",
        )
        region.place_server(server)
        port = Port(
            id=new_uuid(rng),
            name="",
            network_id=net.network_id,
            project_id=project.id,
            device_owner="compute:nova",
            device_id=server.id,
            host=server.host or "",
            mac=server.mac,
            ip=ip,
            subnet_id=net.subnet_id,
            created_at=created,
            updated_at=created,
            status="ACTIVE" if status == "ACTIVE" else "DOWN",
            security_groups=[net.security_group_id],
        )
        if rng.random() < 0.01:
            port.port_security_enabled = False
            port.security_groups = []
        elif rng.random() < 0.02:
            port.allowed_address_pairs = [
                {"ip_address": f"10.{net.third_octet}.0.0/24", "mac_address": port.mac}
            ]
        region.ports.add(port.id, port)


def _floating_ips(region: Region, rng: random.Random, now: float, tenants: list[Project]) -> None:
    by_project: dict[str, list[Port]] = {}
    for port in region.ports:
        if port.device_owner == "compute:nova":
            by_project.setdefault(port.project_id, []).append(port)
    routers_by_project: dict[str, str] = {}
    for router in region.routers:
        routers_by_project.setdefault(router.project_id, router.id)
    n = 0
    for project in tenants:
        ports = by_project.get(project.id, [])
        for port in ports[: max(1, len(ports) // 10)]:
            n += 1
            created = now - rng.uniform(1, 300) * 86400
            attached = rng.random() < 0.85
            fip = FloatingIP(
                id=new_uuid(rng),
                project_id=project.id,
                floating_ip=f"203.0.{(n >> 8) & 255}.{n & 255}",
                floating_network_id=region.external_network_id,
                created_at=created,
                updated_at=created,
                port_id=port.id if attached else None,
                fixed_ip=port.ip if attached else None,
                router_id=routers_by_project.get(project.id) if attached else None,
                status="ACTIVE" if attached else "DOWN",
            )
            region.floating_ips.add(fip.id, fip)
