"""A router: which L3 agents host it and in which HA state (from the last sweep at
once, then live), its HA ports, its project, and the routers pane's verdict.

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
    yes_no,
)
from osconsole.views import Cell, Column, Severity, Tone, format_age, router_verdict

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
HA_STATE_TONES = {"active": Tone.OK, "standby": Tone.NONE}


def router_page(ctx: Context) -> Page:
    r: Router | None = ctx.items(Kind.ROUTERS).get(ctx.target.id)
    if r is None:
        return missing_page(ctx, Kind.ROUTERS, "Router")
    name = r.name or r.id
    sections = (_facts(ctx, r), _agents_from_sweep(ctx, r), _ports_from_poll(ctx, r))
    loaders: dict[str, Loader] = {
        "agents": _agents_loader(ctx, r),
        "ports": _ports_loader(ctx, r),
    }
    return Page(f"Router {name}", name, sections, loaders)


def _ovn(ctx: Context) -> bool:
    snap = ctx.snapshot(Kind.ROUTERS)
    return bool(snap is not None and snap.extra.get("ovn"))


def verdict_cell(r: Router, ovn: bool) -> Cell:
    """'CRITICAL: SPLIT-BRAIN, FEW REPLICAS (1)' or 'OK'; the words carry the meaning."""
    verdict = router_verdict(r, ovn)
    if verdict.severity is Severity.OK:
        return Cell("OK")
    text = f"{verdict.severity.name}: {', '.join(verdict.findings)}"
    return Cell(text, SEVERITY_TONES[verdict.severity])


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
    swept = _sweep_age(ctx, r)
    project = ctx.to(Kind.TENANTS, r.project_id) if r.project_id else None
    lines = [
        fact("Name", r.name or "-"),
        fact("Verdict", verdict_cell(r, ovn)),
        fact("Actives", router_verdict(r, ovn).actives),
        fact("Project", ctx.project_text(r.project_id), project),
        fact("Status", Cell(r.status, Tone.CRITICAL if r.status == "ERROR" else Tone.NONE)),
        fact("Admin", "up" if r.admin_state_up else Cell("ADMIN-DOWN", Tone.INFO)),
        fact("HA", yes_no(r.ha)),
        fact("Distributed", yes_no(r.distributed)),
        fact("Replica hosts", ", ".join(r.replica_hosts) or "none"),
        fact("Last sweep", "never" if swept is None else f"{format_age(swept)} ago"),
        fact("Id", r.id),
    ]
    return facts("router", "Router", lines, freshness(ctx.snapshot(Kind.ROUTERS), ctx.now))


def binding_line(ctx: Context, b: RouterBinding, heartbeat: float | None) -> Line:
    state = b.ha_state or "-"
    cells = (
        Cell(b.host or "?"),
        Cell(state, HA_STATE_TONES.get(state, Tone.WARNING)),
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
    if r.bindings is None:
        note = "OVN: no L3 agents" if _ovn(ctx) else "not swept yet"
    else:
        swept = _sweep_age(ctx, r)
        note = f"last sweep {format_age(swept)} ago" if swept is not None else "last sweep"
        if not r.bindings:
            note += ": no L3 agent hosts this router"
    return Section("agents", "L3 agents", AGENT_COLUMNS, tuple(lines), note=note)


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
        live = replace(r, bindings=bindings)
        verdict = verdict_cell(live, _ovn(ctx))
        if r.bindings is None:
            compared = "not swept before"
        elif _summary(r.bindings) == _summary(bindings):
            compared = "same as the last sweep"
        else:
            compared = f"CHANGED since the last sweep (was {_describe(r.bindings)})"
        note = f"live: {compared}; verdict now: {verdict.text}"
        tone = verdict.tone if verdict.tone else (Tone.WARNING if "CHANGED" in compared else "")
        return Section(
            "agents", "L3 agents", AGENT_COLUMNS, tuple(lines), note=note, note_tone=tone, live=True
        )

    return load


def _heartbeat(item: Any, server_time: float | None) -> float | None:
    beat = utc_timestamp(item.get("heartbeat_timestamp")) if isinstance(item, dict) else None
    return None if beat is None or server_time is None else server_time - beat


def _ports_from_poll(ctx: Context, r: Router) -> Section:
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
    async def load(client: RegionClient) -> Section:
        found, _ = await network.ports(client, device_id=r.id, device_owner=network.HA_PORT_OWNER)
        items = clean_tree(found)
        lines = [line for line in map(port_line, items) if line is not None]
        lines.sort(key=lambda line: line.cells[0].text)
        note = "live" if lines else "live: this router has no HA port"
        return Section("ports", "HA ports", PORT_COLUMNS, tuple(lines), note=note, live=True)

    return load
