"""A Neutron agent or a Nova/Cinder service: its details, what it carries (an L3
agent's routers, a nova-compute's hypervisor) and everything else on its host.

An agent is rarely dead alone: the host section shows at a glance whether the
whole node went away (every agent and service on it DEAD) or one process did."""

from __future__ import annotations

from typing import Any

from osconsole.clean import clean_tree
from osconsole.cloud import network
from osconsole.cloud.http import RegionClient
from osconsole.model import Agent, Hypervisor, Kind, Router, Service
from osconsole.tui.drill.context import (
    NEIGHBOUR_COLUMNS,
    Context,
    agent_admin,
    agent_state,
    host_neighbours,
    host_target,
    hypervisors_of_host,
    missing_page,
    service_admin,
    service_state,
)
from osconsole.tui.drill.sections import (
    SEVERITY_TONES,
    Line,
    Loader,
    Page,
    Section,
    aged,
    fact,
    facts,
    freshness,
    verdict_cell,
    when,
    yes_no,
)
from osconsole.views import Cell, Column, Tone, format_age, format_ratio

L3_AGENT = "L3 agent"
ROUTER_COLUMNS = (
    Column("router", "Router"),
    Column("ha_state", "HA state here"),
    Column("verdict", "Verdict"),
    Column("project", "Project"),
    Column("status", "Status"),
    Column("id", "Router id"),
)
HYPERVISOR_COLUMNS = (
    Column("host", "Hypervisor"),
    Column("state", "State"),
    Column("status", "Status"),
    Column("vcpu", "vCPU %", numeric=True),
    Column("ram", "RAM %", numeric=True),
    Column("disk", "Disk %", numeric=True),
    Column("vms", "VMs", numeric=True),
)


def _heartbeat_fact(age: float | None, late_after: float) -> Cell:
    if age is None:
        return Cell("-")
    return Cell(f"{format_age(age)} ago", Tone.WARNING if age > late_after else Tone.NONE)


def _host_section(ctx: Context, host: str, but: str) -> Section:
    lines = host_neighbours(ctx, host, but)
    note = "" if lines else "nothing else on this host in the last poll"
    return Section("host", f"Also on {host}", NEIGHBOUR_COLUMNS, tuple(lines), note=note)


# -- agents -------------------------------------------------------------------------------


def agent_page(ctx: Context) -> Page:
    a: Agent | None = ctx.items(Kind.AGENTS).get(ctx.target.id)
    if a is None:
        return missing_page(ctx, Kind.AGENTS, "Agent")
    sections = [_agent_facts(ctx, a)]
    loaders: dict[str, Loader] = {}
    if a.agent_type == L3_AGENT:
        sections.append(_routers_from_sweep(ctx, a))
        loaders["routers"] = _routers_loader(ctx, a)
    sections.append(_host_section(ctx, a.host, a.id))
    return Page(
        f"{a.agent_type} on {a.host}", f"{a.agent_type} @ {a.host}", tuple(sections), loaders
    )


def _agent_facts(ctx: Context, a: Agent) -> Section:
    snap = ctx.snapshot(Kind.AGENTS)
    server_now = _server_now(ctx, Kind.AGENTS)
    lines = [
        fact("Verdict", verdict_cell(ctx.verdict(Kind.AGENTS, a.id))),
        fact("Type", a.agent_type),
        fact("Binary", a.binary or "-"),
        fact("Host", a.host, host_target(ctx.target.ref, a.host)),
        fact("Alive", agent_state(a)),
        fact("Admin", agent_admin(a)),
        fact(
            "Heartbeat",
            _heartbeat_fact(
                aged(a.heartbeat_age, snap, ctx.now), ctx.thresholds.heartbeat_warning_s
            ),
        ),
        fact("Started", when(a.started_at, server_now)),
        fact("Zone", a.availability_zone or "-"),
        fact("Id", a.id),
    ]
    return facts("agent", "Agent", lines, freshness(snap, ctx.now))


def _server_now(ctx: Context, kind: Kind) -> float | None:
    """The server's clock now, from the snapshot's Date header carried forward."""
    snap = ctx.snapshot(kind)
    if snap is None or snap.server_time is None:
        return None
    return snap.server_time + ctx.now - snap.fetched_at


def _router_line(ctx: Context, router_id: str, a: Agent, body: dict[str, Any] | None) -> Line:
    """A router hosted by `a`: its ha_state on this agent comes from the last sweep
    (`l3-routers` does not say it); its name and project from the body when live."""
    r: Router | None = ctx.items(Kind.ROUTERS).get(router_id)
    body = body or {}
    binding = next((b for b in (r.bindings or ()) if b.agent_id == a.id), None) if r else None
    if binding is not None:
        state = binding.ha_state or "-"
        state_cell = Cell(state, Tone.OK if state == "active" else Tone.NONE)
    else:
        state_cell = Cell("not swept" if r is None or r.bindings is None else "not bound", Tone.DIM)
    project = str(body.get("project_id") or body.get("tenant_id") or (r.project_id if r else ""))
    cells = (
        Cell(str(body.get("name") or (r.name if r else "")) or router_id),
        state_cell,
        verdict_cell(ctx.verdict(Kind.ROUTERS, r.id))
        if r
        else Cell("not in the last poll", Tone.DIM),
        Cell(ctx.names.get(project, project) or "-"),
        Cell(str(body.get("status") or (r.status if r else "?"))),
        Cell(router_id),
    )
    return Line(router_id, cells, ctx.to(Kind.ROUTERS, router_id))


def _ovn(ctx: Context) -> bool:
    snap = ctx.snapshot(Kind.ROUTERS)
    return bool(snap is not None and snap.extra.get("ovn"))


def _routers_from_sweep(ctx: Context, a: Agent) -> Section:
    hosted = [
        r.id
        for r in ctx.items(Kind.ROUTERS).values()
        if any(b.agent_id == a.id for b in r.bindings or ())
    ]
    lines = sorted((_router_line(ctx, rid, a, None) for rid in hosted), key=_router_order)
    note = f"from the last sweep ({freshness(ctx.snapshot(Kind.ROUTERS), ctx.now)})"
    return Section("routers", "Routers on this agent", ROUTER_COLUMNS, tuple(lines), note=note)


def _router_order(line: Line) -> tuple[int, str]:
    """Routers active here first (they fail over if this agent dies), then by name."""
    return (0 if line.cells[1].text == "active" else 1), line.cells[0].text.casefold()


def _routers_loader(ctx: Context, a: Agent) -> Loader:
    async def load(client: RegionClient) -> Section:
        found, _ = await network.agent_l3_routers(client, a.id)
        items = clean_tree(found)
        bodies = [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]
        lines = sorted((_router_line(ctx, b["id"], a, b) for b in bodies), key=_router_order)
        active = sum(1 for line in lines if line.cells[1].text == "active")
        note = f"live: {len(lines)} routers, {active} active here (HA state from the last sweep)"
        return Section(
            "routers", "Routers on this agent", ROUTER_COLUMNS, tuple(lines), note=note, live=True
        )

    return load


# -- services -----------------------------------------------------------------------------


def service_page(ctx: Context) -> Page:
    s: Service | None = ctx.items(Kind.SERVICES).get(ctx.target.id)
    if s is None:
        return missing_page(ctx, Kind.SERVICES, "Service")
    sections = [_service_facts(ctx, s)]
    if s.binary == "nova-compute":
        sections.append(_hypervisor_section(ctx, s))
    sections.append(_host_section(ctx, s.host, s.id))
    return Page(f"{s.binary} on {s.host}", f"{s.binary} @ {s.host}", tuple(sections))


def _service_facts(ctx: Context, s: Service) -> Section:
    snap = ctx.snapshot(Kind.SERVICES)
    server_now = _server_now(ctx, Kind.SERVICES)
    lines = [
        fact("Verdict", verdict_cell(ctx.verdict(Kind.SERVICES, s.id))),
        fact("Service", f"{s.project} {s.binary}"),
        fact("Host", s.host, host_target(ctx.target.ref, s.host)),
        fact("State", service_state(s)),
        fact("Status", service_admin(s)),
        fact("Forced down", Cell("FORCED DOWN", Tone.WARNING) if s.forced_down else "no"),
        fact(
            "Heartbeat",
            _heartbeat_fact(
                aged(s.heartbeat_age, snap, ctx.now), ctx.thresholds.heartbeat_warning_s
            ),
        ),
        fact("Updated", when(s.updated_at, server_now)),
        fact("Zone", s.zone or "-"),
        fact("Id", s.id.split(":", 1)[-1]),
    ]
    return facts("service", "Service", lines, freshness(snap, ctx.now))


def _pct(cap: Any) -> Cell:
    ratio = None if cap is None else cap.used_ratio
    return Cell(format_ratio(ratio), sort=-1 if ratio is None else ratio)


def hypervisor_line(ctx: Context, h: Hypervisor) -> Line:
    severity = ctx.verdict(Kind.HYPERVISORS, h.id).severity
    state = "up" if h.state == "up" else ("DOWN" if h.state == "down" else h.state)
    cells = (
        Cell(h.hostname),
        Cell(state, Tone.NONE if state == "up" else SEVERITY_TONES[severity]),
        Cell(h.status, Tone.NONE if h.status == "enabled" else Tone.INFO),
        _pct(h.vcpu),
        _pct(h.memory_mb),
        _pct(h.disk_gb),
        Cell(yes_no(None) if h.running_vms is None else str(h.running_vms)),
    )
    return Line(h.id, cells, ctx.to(Kind.HYPERVISORS, h.id))


def _hypervisor_section(ctx: Context, s: Service) -> Section:
    found = hypervisors_of_host(ctx, s.host)
    lines = tuple(hypervisor_line(ctx, h) for h in found)
    note = freshness(ctx.snapshot(Kind.HYPERVISORS), ctx.now)
    if not lines:
        note = f"no hypervisor of this host in the last poll; {note}"
    return Section("hypervisor", "Hypervisor", HYPERVISOR_COLUMNS, lines, note=note)
