"""A router: which L3 agents host it and in which HA state (from the last sweep at
once, then live), its HA ports, its project, and the routers pane's verdict. On an
ML2/OVN region: the chassis its gateway is active on, its gateway port, its candidate
gateway chassis, and the region's gateway chassis with how many gateways each holds.

The live `l3-agents` call is the one an operator would make by hand to confirm a
split brain or a failover before acting; the page says when it disagrees with the
last sweep, which is the interesting case."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from osconsole.clean import clean_tree
from osconsole.cloud import network
from osconsole.cloud.http import RegionClient
from osconsole.collect.parse import utc_timestamp
from osconsole.collect.routers import parse_binding
from osconsole.health import ovn as ovn_rules
from osconsole.health.routers import (
    expected_replicas,
    live_l3_agents,
    replica_hosts,
    router_problems,
)
from osconsole.model import Kind, Router, RouterBinding
from osconsole.tui.drill.context import Context, missing_page
from osconsole.tui.drill.sections import (
    SEVERITY_TONES,
    Line,
    Loader,
    Page,
    Section,
    age_cell,
    aged,
    fact,
    facts,
    freshness,
    verdict_cell,
    yes_no,
)
from osconsole.views import Cell, Chassis, Column, Tone, active_on_text, actives_text, format_age

AGENT_COLUMNS = (
    Column("host", "Host"),
    Column("ha_state", "HA state"),
    Column("alive", "Alive"),
    Column("admin", "Admin"),
    Column("heartbeat", "Heartbeat", numeric=True),
    Column("agent", "Agent id"),
)
PORT_COLUMNS = (
    Column("host", "Host"),
    Column("status", "Status"),
    Column("ip", "IP"),
    Column("admin", "Admin"),
    Column("port", "Port id"),
)
CANDIDATE_COLUMNS = (
    Column("host", "Chassis"),
    Column("ha_state", "Priority", numeric=True),
    *AGENT_COLUMNS[2:],
)
CHASSIS_COLUMNS = (
    Column("host", "Chassis"),
    Column("alive", "Alive"),
    Column("admin", "Admin"),
    Column("gateways", "Gateways", numeric=True),
    Column("agent", "Gateway agent id"),
)
HA_STATE_TONES = {"active": Tone.OK, "standby": Tone.NONE}


def router_page(ctx: Context) -> Page:
    r: Router | None = ctx.items(Kind.ROUTERS).get(ctx.target.id)
    if r is None:
        return missing_page(ctx, Kind.ROUTERS, "Router")
    name = r.name or r.id
    sections = (_facts(ctx, r), _agents_from_sweep(ctx, r), _ports_from_poll(ctx, r))
    if _ovn(ctx):
        sections += (_region_chassis(ctx),)
    loaders: dict[str, Loader] = {
        "agents": _agents_loader(ctx, r),
        "ports": _ports_loader(ctx, r),
    }
    return Page(f"Router {name}", name, sections, loaders)


def _ovn(ctx: Context) -> bool:
    snap = ctx.snapshot(Kind.ROUTERS)
    return bool(snap is not None and snap.extra.get("ovn"))


def _chassis(ctx: Context) -> Chassis | None:
    """An OVN region's gateway chassis by host (None: not OVN, or not known)."""
    snap = ctx.snapshot(Kind.ROUTERS)
    listed = ovn_rules.gateway_chassis(snap) if snap is not None else None
    return None if listed is None else {c.host: c for c in listed}


def _sweep_age(ctx: Context, r: Router) -> float | None:
    snap = ctx.snapshot(Kind.ROUTERS)
    if snap is None or r.bindings_checked_at is None:
        return None
    server_now = (
        ctx.now if snap.server_time is None else snap.server_time + ctx.now - snap.fetched_at
    )
    return server_now - r.bindings_checked_at


def _facts(ctx: Context, r: Router) -> Section:
    ovn = _ovn(ctx)
    if ovn:
        return _ovn_facts(ctx, r)
    swept = _sweep_age(ctx, r)
    project = ctx.to(Kind.TENANTS, r.project_id) if r.project_id else None
    lines = [
        fact("Name", r.name or "-"),
        fact("Verdict", verdict_cell(ctx.verdict(Kind.ROUTERS, r.id))),
        fact("Actives", actives_text(r, ovn)[0]),
        fact("Project", ctx.project_text(r.project_id), project),
        fact("Status", Cell(r.status, Tone.CRITICAL if r.status == "ERROR" else Tone.NONE)),
        fact("Admin", "up" if r.admin_state_up else Cell("ADMIN-DOWN", Tone.INFO)),
        fact("HA", yes_no(r.ha)),
        fact("Distributed", yes_no(r.distributed)),
        fact("Replica hosts", ", ".join(replica_hosts(r)) or "none"),
        fact("Last sweep", "never" if swept is None else f"{format_age(swept)} ago"),
        fact("Id", r.id),
    ]
    return facts("router", "Router", lines, freshness(ctx.snapshot(Kind.ROUTERS), ctx.now))


def _ovn_facts(ctx: Context, r: Router) -> Section:
    """An OVN router's facts: where its gateway is active, its gateway port."""
    chassis = _chassis(ctx)
    swept = _sweep_age(ctx, r)
    project = ctx.to(Kind.TENANTS, r.project_id) if r.project_id else None
    gateway = r.gateway
    active_on = active_on_text(r, True, chassis)
    holder = (chassis or {}).get(gateway.host) if gateway is not None and gateway.host else None
    status = "-" if gateway is None else gateway.status
    lines = [
        fact("Name", r.name or "-"),
        fact("Verdict", verdict_cell(ctx.verdict(Kind.ROUTERS, r.id))),
        fact("HA", "OVN (gateway chassis)"),
        fact(
            "Active on",
            Cell(active_on, Tone.NONE if gateway is not None and gateway.active else Tone.WARNING),
            ctx.to(Kind.AGENTS, holder.agent_id, "agent") if holder is not None else None,
        ),
        fact("Gateway port", "none" if gateway is None else gateway.port_id),
        fact(
            "Port status", Cell(status, Tone.NONE if status in ("ACTIVE", "-") else Tone.CRITICAL)
        ),
        fact("Port host", "-" if gateway is None else (gateway.host or "none (unbound)")),
        fact("Project", ctx.project_text(r.project_id), project),
        fact("Status", Cell(r.status, Tone.CRITICAL if r.status == "ERROR" else Tone.NONE)),
        fact("Admin", "up" if r.admin_state_up else Cell("ADMIN-DOWN", Tone.INFO)),
        fact("Last sweep", "never" if swept is None else f"{format_age(swept)} ago"),
        fact("Id", r.id),
    ]
    return facts("router", "Router", lines, freshness(ctx.snapshot(Kind.ROUTERS), ctx.now))


def _region_chassis(ctx: Context) -> Section:
    """The region's gateway chassis: alive or not, and how many gateways each holds."""
    chassis = _chassis(ctx)
    lines = []
    for c in sorted((chassis or {}).values(), key=lambda c: c.host):
        cells = (
            Cell(c.host or "?"),
            Cell("alive") if c.alive else Cell("DEAD", Tone.CRITICAL),
            Cell("up") if c.admin_state_up else Cell("ADMIN-DOWN", Tone.INFO),
            Cell(str(c.gateways), sort=c.gateways),
            Cell(c.agent_id),
        )
        lines.append(Line(c.agent_id, cells, ctx.to(Kind.AGENTS, c.agent_id, "agent")))
    if chassis is None:
        note = "gateway agents not read"
    else:
        live = sum(1 for c in chassis.values() if c.alive)
        note = f"{live} of {len(chassis)} alive; gateways each holds, from the last poll"
    title = f"Gateway chassis of {ctx.target.ref.region}"
    return Section("chassis", title, CHASSIS_COLUMNS, tuple(lines), note=note)


def binding_line(ctx: Context, b: RouterBinding, heartbeat: float | None) -> Line:
    state = b.ha_state or (str(b.priority) if b.priority is not None else "-")
    cells = (
        Cell(b.host or "?"),
        Cell(
            state, HA_STATE_TONES.get(state, Tone.NONE if b.priority is not None else Tone.WARNING)
        ),
        Cell("alive") if b.agent_alive else Cell("DEAD", Tone.CRITICAL),
        Cell("up") if b.agent_admin_up else Cell("ADMIN-DOWN", Tone.INFO),
        age_cell(heartbeat, ctx.thresholds.heartbeat_warning_s),
        Cell(b.agent_id),
    )
    return Line(b.agent_id, cells, ctx.to(Kind.AGENTS, b.agent_id, "agent"))


def _agents_from_sweep(ctx: Context, r: Router) -> Section:
    agents = ctx.snapshot(Kind.AGENTS)
    known = ctx.items(Kind.AGENTS)
    lines = []
    for b in r.bindings or ():
        agent = known.get(b.agent_id)
        heartbeat = aged(agent.heartbeat_age, agents, ctx.now) if agent else None
        lines.append(binding_line(ctx, b, heartbeat))
    ovn = _ovn(ctx)
    if r.bindings is None:
        note = "not swept yet"
    else:
        swept = _sweep_age(ctx, r)
        note = f"last sweep {format_age(swept)} ago" if swept is not None else "last sweep"
        if not r.bindings:
            note += ": no gateway chassis" if ovn else ": no L3 agent hosts this router"
    title, columns = _agents_heading(ovn)
    return Section("agents", title, columns, tuple(lines), note=note)


def _agents_heading(ovn: bool) -> tuple[str, tuple[Column, ...]]:
    if ovn:
        return "Candidate gateway chassis", CANDIDATE_COLUMNS
    return "L3 agents", AGENT_COLUMNS


def _summary(bindings: Iterable[RouterBinding]) -> set[tuple[str, str | None, bool]]:
    return {(b.agent_id, b.ha_state, b.agent_alive) for b in bindings}


def _describe(bindings: Iterable[RouterBinding]) -> str:
    return ", ".join(f"{b.host}:{b.ha_state or '-'}" for b in bindings) or "no agent"


def _agents_loader(ctx: Context, r: Router) -> Loader:
    async def load(client: RegionClient) -> Section:
        found, server_time = await network.router_l3_agents(client, r.id)
        items = clean_tree(found)
        pairs = [(b, item) for item in items if (b := parse_binding(item)) is not None]
        bindings = tuple(b for b, _ in pairs)
        lines = [binding_line(ctx, b, _heartbeat(item, server_time)) for b, item in pairs]
        verdict = _live_verdict(ctx, replace(r, bindings=bindings))
        if r.bindings is None:
            compared = "not swept before"
        elif _summary(r.bindings) == _summary(bindings):
            compared = "same as the last sweep"
        else:
            compared = f"CHANGED since the last sweep (was {_describe(r.bindings)})"
        note = f"live: {compared}; verdict now: {verdict.text}"
        tone = verdict.tone if verdict.tone else (Tone.WARNING if "CHANGED" in compared else "")
        title, columns = _agents_heading(_ovn(ctx))
        return Section("agents", title, columns, tuple(lines), note=note, note_tone=tone, live=True)

    return load


def _live_verdict(ctx: Context, live: Router) -> Cell:
    """The judge's rules on this live look (not debounced: a look, not a finding)."""
    snap = ctx.snapshot(Kind.ROUTERS)
    expected = expected_replicas(ctx.thresholds, live_l3_agents(snap.extra if snap else {}))
    ovn = _ovn(ctx)
    problems = router_problems(live, ovn=ovn, expected=expected)
    if ovn:  # its gateway, as health.ovn judges it (candidates from this live look)
        chassis = _chassis(ctx)
        alive = None if chassis is None else len(ovn_rules.live_chassis(list(chassis.values())))
        required = ovn_rules.required_candidates(ctx.thresholds, alive)
        problems += ovn_rules.gateway_problems(live, chassis, required)
        problems.sort(key=lambda p: -p.severity)
    if not problems:
        return Cell("OK")
    worst = max(p.severity for p in problems)
    return Cell(f"{worst.name}: {', '.join(p.label for p in problems)}", SEVERITY_TONES[worst])


def _heartbeat(item: Any, server_time: float | None) -> float | None:
    beat = utc_timestamp(item.get("heartbeat_timestamp")) if isinstance(item, dict) else None
    return None if beat is None or server_time is None else server_time - beat


def _ports_from_poll(ctx: Context, r: Router) -> Section:
    if _ovn(ctx):
        gateway = r.gateway
        lines = []
        if gateway is not None:
            status = Cell(gateway.status, Tone.NONE if gateway.active else Tone.CRITICAL)
            host = Cell(gateway.host or "UNBOUND")
            lines.append(
                Line(gateway.port_id, (host, status, Cell("?"), Cell("?"), Cell(gateway.port_id)))
            )
        note = "from the last poll" if lines else "this router has no gateway port"
        return Section("ports", "Gateway port", PORT_COLUMNS, tuple(lines), note=note)
    lines = [
        Line(f"host:{host}", (Cell(host), Cell("?"), Cell("?"), Cell("?"), Cell("?")))
        for host in r.replica_hosts
    ]
    return Section(
        "ports",
        "HA ports",
        PORT_COLUMNS,
        tuple(lines),
        note=f"hosts from the last poll ({len(lines)} replicas)",
    )


def port_line(body: dict[str, Any]) -> Line | None:
    port_id = body.get("id")
    if not isinstance(port_id, str):
        return None
    ips = [ip.get("ip_address", "") for ip in body.get("fixed_ips") or () if isinstance(ip, dict)]
    status = str(body.get("status") or "?")
    cells = (
        Cell(str(body.get("binding:host_id") or "") or "UNBOUND"),
        Cell(status, Tone.NONE if status == "ACTIVE" else Tone.WARNING),
        Cell(", ".join(ips) or "-"),
        Cell("up") if body.get("admin_state_up", True) else Cell("ADMIN-DOWN", Tone.INFO),
        Cell(port_id),
    )
    return Line(port_id, cells)


def _ports_loader(ctx: Context, r: Router) -> Loader:
    ovn = _ovn(ctx)
    owner = network.GATEWAY_PORT_OWNER if ovn else network.HA_PORT_OWNER
    title = "Gateway port" if ovn else "HA ports"

    async def load(client: RegionClient) -> Section:
        found, _ = await network.ports(client, device_id=r.id, device_owner=owner)
        items = clean_tree(found)
        lines = [line for line in map(port_line, items) if line is not None]
        lines.sort(key=lambda line: line.cells[0].text)
        note = "live" if lines else f"live: this router has no {title.lower()}"
        return Section("ports", title, PORT_COLUMNS, tuple(lines), note=note, live=True)

    return load
