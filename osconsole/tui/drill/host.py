"""One host, everything on it: the first question in a host-down incident.

Its hypervisor (state, status, Placement usage) and compute service, every Neutron
agent and service on it, the HA routers it hosts (active or standby), its servers by
project (live from Nova) and the open findings about any of these. Built from the
snapshots like every drill-down page; opened by `:host NAME` or Enter on a "Host" line.
"""

from __future__ import annotations

from typing import Any

from osconsole.collect.hypervisors import RESOURCE_CLASSES
from osconsole.health.findings import Finding
from osconsole.model import Kind, Router
from osconsole.tui.drill.context import (
    HOST,
    NEIGHBOUR_COLUMNS,
    Context,
    host_neighbours,
    host_target,
    hypervisors_of_host,
)
from osconsole.tui.drill.hypervisor import (
    _facts,
    _servers_loader,
    _servers_placeholder,
    _service,
    _usage_section,
)
from osconsole.tui.drill.sections import Line, Page, Section, freshness
from osconsole.views import Cell, Column, Severity, Target, Tone

ROUTER_COLUMNS = (
    Column("router", "Router"),
    Column("ha_state", "HA state here"),
    Column("agent", "Agent here"),
    Column("replicas", "Replicas", numeric=True),
    Column("id", "Router id"),
)
FINDING_COLUMNS = (Column("severity", "Severity"), Column("what", "What"))
HA_TONES = {"active": Tone.OK, "standby": Tone.NONE}
SEVERITY_CELL_TONES = {Severity.CRITICAL: Tone.CRITICAL, Severity.WARNING: Tone.WARNING}


def host_page(ctx: Context) -> Page:
    host = ctx.target.id
    sections: list[Section] = [_findings(ctx, host)]
    loaders: dict[str, Any] = {}
    hypervisors = hypervisors_of_host(ctx, host)
    for h in hypervisors:
        sections += [
            _facts(ctx, h),
            _service(ctx, h),
            _usage_section(
                ctx,
                {rc: getattr(h, attr) for attr, rc in RESOURCE_CLASSES.items()},
                f"source: {h.usage_source}; {freshness(ctx.snapshot(Kind.HYPERVISORS), ctx.now)}",
            ),
        ]
    sections.append(_agents_and_services(ctx, host))
    sections.append(_routers(ctx, host))
    if hypervisors:
        sections.append(_servers_placeholder(hypervisors[0]))
        loaders["servers"] = _servers_loader(ctx, hypervisors[0].service_host or host)
    return Page(f"Host {host}", host, tuple(sections), loaders)


def _findings(ctx: Context, host: str) -> Section:
    ids = _ids_on(ctx, host)
    found: list[Finding] = [
        f
        for f in getattr(ctx.state, "findings", ())
        if f.subject.ref == ctx.target.ref and (f.subject.id in ids or host in f.reason)
    ]
    lines = tuple(
        Line(
            f.key,
            (
                Cell(
                    f.severity.name + (" (ack)" if f.acknowledged else ""),
                    SEVERITY_CELL_TONES.get(Severity(int(f.severity)), Tone.NONE),
                ),
                Cell(f.reason),
            ),
            Target(f.subject.ref, f.subject.kind, f.subject.id),
        )
        for f in found
    )
    note = "" if lines else "no open finding about this host"
    return Section("findings", "Open findings", FINDING_COLUMNS, lines, note=note)


def _ids_on(ctx: Context, host: str) -> set[str]:
    ids = {h.id for h in hypervisors_of_host(ctx, host)}
    ids |= {a.id for a in ctx.items(Kind.AGENTS).values() if a.host == host}
    ids |= {s.id for s in ctx.items(Kind.SERVICES).values() if s.host == host}
    return ids


def _agents_and_services(ctx: Context, host: str) -> Section:
    lines = host_neighbours(ctx, host, but="")
    note = freshness(ctx.snapshot(Kind.AGENTS), ctx.now)
    if not lines:
        note = f"no agent or service on {host} in the last poll; {note}"
    return Section("agents", "Agents and services", NEIGHBOUR_COLUMNS, tuple(lines), note=note)


def _routers(ctx: Context, host: str) -> Section:
    routers: list[Router] = list(ctx.items(Kind.ROUTERS).values())
    lines = []
    for r in routers:
        here = [b for b in r.bindings or () if b.host == host]
        if not here:
            continue
        binding = here[0]
        alive = "alive" if binding.agent_alive else "DEAD"
        cells = (
            Cell(r.name or r.id),
            Cell(binding.ha_state or "-", HA_TONES.get(binding.ha_state or "", Tone.WARNING)),
            Cell(alive, Tone.NONE if binding.agent_alive else Tone.CRITICAL),
            Cell(str(len(r.bindings or ())), sort=len(r.bindings or ())),
            Cell(r.id),
        )
        lines.append(Line(r.id, cells, ctx.to(Kind.ROUTERS, r.id)))
    lines.sort(key=lambda line: (line.cells[1].text != "active", line.cells[0].text))
    active = sum(1 for line in lines if line.cells[1].text == "active")
    note = freshness(ctx.snapshot(Kind.ROUTERS), ctx.now, "last sweep")
    title = f"HA routers hosted here: {len(lines)} ({active} active)"
    return Section("routers", title, ROUTER_COLUMNS, tuple(lines), note=note)


__all__ = ["HOST", "host_page", "host_target"]
