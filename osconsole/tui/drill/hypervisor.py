"""A hypervisor: its servers in every project (live, from Nova), its compute service
and its Placement capacity. What an operator needs before evacuating or draining it."""

from __future__ import annotations

from osconsole.clean import clean_tree
from osconsole.cloud import compute, placement
from osconsole.cloud.http import RegionClient
from osconsole.collect.hypervisors import RESOURCE_CLASSES, capacity_from_placement
from osconsole.health.hypervisors import capacity_finding
from osconsole.model import Capacity, Hypervisor, Kind, Service
from osconsole.tui.drill.context import (
    Context,
    host_target,
    missing_page,
    server_columns,
    server_lines,
    service_admin,
    service_state,
)
from osconsole.tui.drill.sections import (
    SEVERITY_TONES,
    Line,
    Loader,
    Page,
    Section,
    age_cell,
    aged,
    capped,
    fact,
    facts,
    freshness,
    verdict_cell,
    yes_no,
)
from osconsole.views import Cell, Column, Tone, format_ratio

SERVICE_COLUMNS = (
    Column("binary", "Binary"),
    Column("state", "State"),
    Column("status", "Status"),
    Column("forced", "Forced down"),
    Column("heartbeat", "Heartbeat", numeric=True),
    Column("zone", "Zone"),
)
USAGE_COLUMNS = (
    Column("class", "Class"),
    Column("total", "Total", numeric=True),
    Column("reserved", "Reserved", numeric=True),
    Column("ratio", "Ratio", numeric=True),
    Column("capacity", "Capacity", numeric=True),
    Column("used", "Used", numeric=True),
    Column("pct", "Used %", numeric=True),
)
CLASS_LABELS = {"VCPU": "vCPU", "MEMORY_MB": "RAM", "DISK_GB": "disk"}


def hypervisor_page(ctx: Context) -> Page:
    h: Hypervisor | None = ctx.items(Kind.HYPERVISORS).get(ctx.target.id)
    snap = ctx.snapshot(Kind.HYPERVISORS)
    if h is None:
        return missing_page(ctx, Kind.HYPERVISORS, "Hypervisor")
    host = h.service_host or h.hostname
    sections = (
        _facts(ctx, h),
        _servers_placeholder(h),
        _service(ctx, h),
        _usage_section(
            ctx,
            {rc: getattr(h, attr) for attr, rc in RESOURCE_CLASSES.items()},
            f"source: {h.usage_source}; {freshness(snap, ctx.now)}",
        ),
    )
    loaders = {"servers": _servers_loader(ctx, host)}
    if h.usage_source == "placement":
        loaders["usage"] = _usage_loader(ctx, h.id)
    return Page(f"Hypervisor {h.hostname}", h.hostname, sections, loaders)


def _facts(ctx: Context, h: Hypervisor) -> Section:
    judged = ctx.verdict(Kind.HYPERVISORS, h.id)
    severity = judged.severity
    state = "up" if h.state == "up" else ("DOWN" if h.state == "down" else h.state)
    lines = [
        fact("Verdict", verdict_cell(judged)),
        fact("Host", h.hostname, host_target(ctx.target.ref, h.service_host or h.hostname)),
        fact("State", Cell(state, SEVERITY_TONES[severity] if state != "up" else Tone.NONE)),
        fact("Status", h.status + (f" ({h.disabled_reason})" if h.disabled_reason else "")),
        fact("Running VMs", "-" if h.running_vms is None else str(h.running_vms)),
        *([fact("Type", h.hypervisor_type)] if h.hypervisor_type else []),
        *([fact("Host IP", h.host_ip)] if h.host_ip else []),
        fact("Id", h.id),
    ]
    return facts(
        "hypervisor", "Hypervisor", lines, freshness(ctx.snapshot(Kind.HYPERVISORS), ctx.now)
    )


def _servers_placeholder(h: Hypervisor) -> Section:
    return Section(
        "servers",
        f"Servers on {h.hostname} (all projects)",
        server_columns("project"),
        note="fetched live from Nova",
    )


def _servers_loader(ctx: Context, host: str) -> Loader:
    async def load(client: RegionClient) -> Section:
        found, server_time = await compute.servers(client, host=host)
        bodies = clean_tree(found)
        lines, note = capped(server_lines(bodies, ctx, "project", server_time), "")
        return Section(
            "servers",
            f"Servers on {host} (all projects): {len(bodies)}",
            server_columns("project"),
            lines,
            note=note or ("no servers on this host" if not bodies else ""),
            live=True,
        )

    return load


def _compute_services(ctx: Context, h: Hypervisor) -> list[Service]:
    wanted_id = f"nova:{h.service_id}" if h.service_id else None
    host = h.service_host or h.hostname
    return [
        s
        for s in ctx.items(Kind.SERVICES).values()
        if s.id == wanted_id
        or (s.project == "nova" and s.binary == "nova-compute" and s.host == host)
    ]


def _service(ctx: Context, h: Hypervisor) -> Section:
    snap = ctx.snapshot(Kind.SERVICES)
    late = ctx.thresholds.heartbeat_warning_s
    lines = []
    for s in _compute_services(ctx, h):
        cells = (
            Cell(s.binary),
            service_state(s),
            service_admin(s),
            Cell("FORCED DOWN", Tone.WARNING) if s.forced_down else Cell(yes_no(False)),
            age_cell(aged(s.heartbeat_age, snap, ctx.now), late),
            Cell(s.zone or "-"),
        )
        lines.append(Line(s.id, cells, ctx.to(Kind.SERVICES, s.id, "nova")))
    note = freshness(snap, ctx.now)
    if not lines:
        note = f"no nova-compute service of this host in the last poll; {note}"
    return Section("service", "Compute service", SERVICE_COLUMNS, tuple(lines), note=note)


def _usage_section(
    ctx: Context, caps: dict[str, Capacity | None], note: str, live: bool = False
) -> Section:
    lines = []
    for rc, cap in caps.items():
        label = CLASS_LABELS.get(rc, rc)
        if cap is None:
            lines.append(Line(rc, (Cell(rc), *(Cell("-") for _ in range(6)))))
            continue
        ratio = cap.used_ratio
        finding = capacity_finding(label, ratio, ctx.thresholds)
        tone = Tone.WARNING if finding else Tone.NONE
        pct = format_ratio(ratio)
        if finding:
            pct += (
                " OVER"
                if ratio is not None and ratio > ctx.thresholds.overcommit_ratio
                else " FULL"
            )
        cells = (
            Cell(rc),
            Cell(str(cap.total), sort=cap.total),
            Cell(str(cap.reserved), sort=cap.reserved),
            Cell(f"{cap.allocation_ratio:g}", sort=cap.allocation_ratio),
            Cell(f"{cap.capacity:.0f}", sort=cap.capacity),
            Cell(str(cap.used), sort=cap.used),
            Cell(pct, tone, ratio),
        )
        lines.append(Line(rc, cells))
    return Section("usage", "Placement usage", USAGE_COLUMNS, tuple(lines), note=note, live=live)


def _usage_loader(ctx: Context, provider: str) -> Loader:
    async def load(client: RegionClient) -> Section:
        inventories = clean_tree(await placement.inventories(client, provider))
        usages = clean_tree(await placement.usages(client, provider))
        classes = sorted(set(inventories) | set(RESOURCE_CLASSES.values()))
        caps = {rc: capacity_from_placement(inventories, usages, rc) for rc in classes}
        return _usage_section(ctx, caps, "source: placement, live", live=True)

    return load
