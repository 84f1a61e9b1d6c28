"""A project in one region: why it ranks where it does (the score's reasons), then
the evidence, fetched live: its servers, its spoofing ports, its ingress rules open
to the world and its floating IPs. Enough to write the abuse ticket or the email."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from osconsole.clean import clean_tree
from osconsole.cloud import compute, network
from osconsole.cloud.http import RegionClient
from osconsole.collect.parse import utc_timestamp
from osconsole.collect.tenants import is_open_prefix
from osconsole.health.tenants import SENSITIVE_PORTS, fullest, quota_phrase, score
from osconsole.model import Kind, TenantSignals
from osconsole.tui.drill.context import Context, server_columns, server_lines
from osconsole.tui.drill.sections import (
    SEVERITY_TONES,
    Line,
    Loader,
    Page,
    Section,
    age_cell,
    capped,
    fact,
    facts,
    freshness,
    verdict_cell,
)
from osconsole.views import Cell, Column, Tone

PORT_BATCH = 50  # port ids per request: keeps the query string well under URL limits
PORT_COLUMNS = (
    Column("why", "Why"),
    Column("device", "Device"),
    Column("host", "Host"),
    Column("ips", "IPs"),
    Column("status", "Status"),
    Column("id", "Port id"),
)
RULE_COLUMNS = (
    Column("protocol", "Proto"),
    Column("ports", "Ports"),
    Column("remote", "From"),
    Column("risk", "Risk"),
    Column("group", "Security group"),
    Column("id", "Rule id"),
)
FIP_COLUMNS = (
    Column("address", "Floating IP"),
    Column("fixed", "Fixed IP"),
    Column("status", "Status"),
    Column("age", "Age", numeric=True),
    Column("port", "Port"),
    Column("id", "Id"),
)


def tenant_page(ctx: Context) -> Page:
    pid = ctx.target.id
    signals: TenantSignals | None = ctx.items(Kind.TENANTS).get(pid)
    name = signals.project_name if signals else ctx.names.get(pid, pid)
    sections = (
        _why(ctx, signals),
        Section("servers", "Servers", server_columns("host"), note="fetched live from Nova"),
        _ports_from_poll(signals),
        _rules_from_poll(signals),
        _fips_from_poll(signals),
    )
    loaders: dict[str, Loader] = {
        "servers": _servers_loader(ctx, pid),
        "rules": _rules_loader(pid),
        "fips": _fips_loader(ctx, pid),
    }
    if signals and signals.spoofing_ports:
        loaders["ports"] = _ports_loader(signals.spoofing_ports)
    return Page(f"Project {name}", name, sections, loaders)


def _why(ctx: Context, s: TenantSignals | None) -> Section:
    snap = ctx.snapshot(Kind.TENANTS)
    if s is None:
        note = f"not in the last tenants poll ({freshness(snap, ctx.now)})"
        return facts("why", "Why it is listed", [fact("Project", ctx.target.id)], note)
    result = score(s, ctx.thresholds)
    judged = ctx.verdict(Kind.TENANTS, s.project_id)
    severity = judged.severity
    lines = [
        fact("Verdict", verdict_cell(judged)),
        fact("Project", f"{s.project_name} ({s.project_id})"),
        fact("Score", Cell(f"{result.score:.0f}", SEVERITY_TONES[severity])),
    ]
    for i, reason in enumerate(result.reasons or ("nothing found",), start=1):
        lines.append(fact(f"Reason {i}", Cell(reason, SEVERITY_TONES[severity])))
    if result.unread:
        unread = f"{', '.join(result.unread)} (not read yet, or the read failed)"
        lines.append(fact("Not read", Cell(unread, Tone.DIM)))
    lines += [
        fact(
            "Servers",
            "?"
            if s.servers is None or s.error_servers is None or s.stuck_servers is None
            else f"{s.servers} ({len(s.error_servers)} ERROR, {len(s.stuck_servers)} stuck)",
        ),
        fact(
            "Churn, last hour",
            "?"
            if s.created_last_hour is None or s.deleted_last_hour is None
            else f"+{s.created_last_hour} created, -{s.deleted_last_hour} deleted",
        ),
        fact(
            "Open ports",
            "?"
            if s.open_ingress_ports is None
            else ", ".join(map(_port_word, s.open_ingress_ports)) or "none",
        ),
        fact(
            "Floating IPs",
            "?"
            if s.floating_ips is None
            else f"{s.floating_ips} (+{s.floating_ips_created_last_hour} last hour)",
        ),
    ]
    if s.quotas:
        lines.append(fact("Quota, fullest", quota_text(s.quotas) or "no limited resource"))
    return facts("why", "Why it is listed", lines, freshness(snap, ctx.now))


def quota_text(quotas: Mapping[str, Mapping[str, tuple[int, int]]], shown: int = 3) -> str:
    """The `shown` fullest resources of every service, on one line:
    'nova cores 95% (38/40), neutron router 90% (9/10), cinder gigabytes 12% (120/1000)'."""
    return ", ".join(quota_phrase(*q) for q in fullest(quotas)[:shown])


def _port_word(port: int) -> str:
    return "all" if port == 0 else str(port)


# -- servers --------------------------------------------------------------------------------


def _servers_loader(ctx: Context, pid: str) -> Loader:
    async def load(client: RegionClient) -> Section:
        found, server_time = await compute.servers(client, project_id=pid)
        bodies = clean_tree(found)
        lines, note = capped(server_lines(bodies, ctx, "host", server_time), "live")
        return Section(
            "servers",
            f"Servers: {len(bodies)}",
            server_columns("host"),
            lines,
            note=note,
            live=True,
        )

    return load


# -- spoofing ports ------------------------------------------------------------------------------


def _ports_from_poll(s: TenantSignals | None) -> Section:
    ids = (s.spoofing_ports if s else ()) or ()
    lines = tuple(Line(pid, (Cell("?"),) * 5 + (Cell(pid),)) for pid in ids)
    note = "none in the last poll" if not ids else "from the last poll; details loading"
    if s is not None and s.spoofing_ports is None:
        note = "not read: the ports listing has not answered"
    return Section("ports", "Ports allowing spoofing", PORT_COLUMNS, lines, note=note)


def spoof_reason(body: dict[str, Any]) -> str:
    pairs = [
        str(p.get("ip_address"))
        for p in body.get("allowed_address_pairs") or ()
        if isinstance(p, dict) and is_open_prefix(p.get("ip_address"))
    ]
    if pairs:
        return f"allowed pair {', '.join(pairs)}"
    if body.get("port_security_enabled") is False:
        return "port security OFF"
    return "no longer spoofing"


def port_line(body: dict[str, Any]) -> Line | None:
    port_id = body.get("id")
    if not isinstance(port_id, str):
        return None
    reason = spoof_reason(body)
    ips = [ip.get("ip_address", "") for ip in body.get("fixed_ips") or () if isinstance(ip, dict)]
    owner, device = str(body.get("device_owner") or ""), str(body.get("device_id") or "")
    cells = (
        Cell(reason, Tone.DIM if reason.startswith("no longer") else Tone.CRITICAL),
        Cell(f"{owner} {device}".strip() or "-"),
        Cell(str(body.get("binding:host_id") or "-")),
        Cell(", ".join(ips) or "-"),
        Cell(str(body.get("status") or "?")),
        Cell(port_id),
    )
    return Line(port_id, cells)


def _ports_loader(ids: tuple[str, ...]) -> Loader:
    async def load(client: RegionClient) -> Section:
        bodies: list[dict[str, Any]] = []
        for start in range(0, len(ids), PORT_BATCH):
            found, _ = await network.ports(client, id=list(ids[start : start + PORT_BATCH]))
            bodies.extend(clean_tree(found))
        lines = [line for line in map(port_line, bodies) if line is not None]
        gone = len(ids) - len(lines)
        note = "live" + (f"; {gone} deleted since the last poll" if gone else "")
        return Section(
            "ports", "Ports allowing spoofing", PORT_COLUMNS, tuple(lines), note=note, live=True
        )

    return load


# -- open ingress rules -------------------------------------------------------------------------


def _rules_from_poll(s: TenantSignals | None) -> Section:
    ids = (s.open_ingress_rules if s else ()) or ()
    lines = tuple(Line(rid, (Cell("?"),) * 5 + (Cell(rid),)) for rid in ids)
    note = "none in the last poll" if not ids else "from the last poll; details loading"
    if s is not None and s.open_ingress_rules is None:
        note = "not read: the security group rules listing has not answered"
    return Section("rules", "Ingress open to the world", RULE_COLUMNS, lines, note=note)


def rule_ports(body: dict[str, Any]) -> tuple[str, bool]:
    """('22', True) / ('8000-8100', False) / ('all', True): the range and whether it
    opens a port the tenant score counts as sensitive."""
    low, high = body.get("port_range_min"), body.get("port_range_max")
    if low is None:
        return "all", True
    text = str(low) if high in (None, low) else f"{low}-{high}"
    top = high if isinstance(high, int) else low
    sensitive = any(p and isinstance(low, int) and low <= p <= top for p in SENSITIVE_PORTS)
    return text, sensitive


def rule_line(body: dict[str, Any]) -> Line | None:
    rule_id = body.get("id")
    if not isinstance(rule_id, str):
        return None
    ports, sensitive = rule_ports(body)
    cells = (
        Cell(str(body.get("protocol") or "any")),
        Cell(ports),
        Cell(str(body.get("remote_ip_prefix"))),
        Cell("SENSITIVE", Tone.CRITICAL) if sensitive else Cell("-"),
        Cell(str(body.get("security_group_id") or "-")),
        Cell(rule_id),
    )
    return Line(rule_id, cells)


def _rules_loader(pid: str) -> Loader:
    async def load(client: RegionClient) -> Section:
        found, _ = await network.security_group_rules(client, project_id=pid, direction="ingress")
        bodies = clean_tree(found)
        open_rules = [b for b in bodies if is_open_prefix(b.get("remote_ip_prefix"))]
        lines = [line for line in map(rule_line, open_rules) if line is not None]
        lines.sort(key=lambda line: (line.cells[3].text != "SENSITIVE", line.cells[1].text))
        note = f"live: {len(lines)} of {len(bodies)} ingress rules are open to 0.0.0.0/0 or ::/0"
        return Section(
            "rules", "Ingress open to the world", RULE_COLUMNS, tuple(lines), note=note, live=True
        )

    return load


# -- floating IPs -------------------------------------------------------------------------------


def _fips_from_poll(s: TenantSignals | None) -> Section:
    count = s.floating_ips if s else 0
    shown = "?" if count is None else str(count)
    return Section("fips", "Floating IPs", FIP_COLUMNS, note=f"{shown} in the last poll; loading")


def fip_line(body: dict[str, Any], now: float) -> Line | None:
    fip_id = body.get("id")
    if not isinstance(fip_id, str):
        return None
    created = utc_timestamp(body.get("created_at"))
    status = str(body.get("status") or "?")
    cells = (
        Cell(str(body.get("floating_ip_address") or "-")),
        Cell(str(body.get("fixed_ip_address") or "-")),
        Cell(status, Tone.NONE if status == "ACTIVE" else Tone.INFO),
        age_cell(None if created is None else now - created),
        Cell(str(body.get("port_id") or "unattached")),
        Cell(fip_id),
    )
    return Line(fip_id, cells)


def _fips_loader(ctx: Context, pid: str) -> Loader:
    async def load(client: RegionClient) -> Section:
        found, server_time = await network.floating_ips(client, project_id=pid)
        bodies = clean_tree(found)
        now = server_time if server_time is not None else ctx.now
        mine = [b for b in bodies if (b.get("project_id") or b.get("tenant_id")) == pid]
        lines = sorted(
            (line for b in mine if (line := fip_line(b, now)) is not None),
            key=lambda line: line.cells[3].sort_value,
        )
        return Section(
            "fips", f"Floating IPs: {len(lines)}", FIP_COLUMNS, tuple(lines), note="live", live=True
        )

    return load
