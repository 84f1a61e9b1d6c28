"""What every page builder reads: the latest snapshots of the target's region, the
time, and the pieces several pages share (server listings, a host's neighbours)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from osconsole.collect.parse import as_bool, utc_timestamp
from osconsole.config import Thresholds
from osconsole.health.findings import Assessment
from osconsole.live import LiveState
from osconsole.model import Agent, Hypervisor, Kind, RegionRef, Service, Snapshot
from osconsole.tui.drill.sections import Line, Page, Section, age_cell, aged, freshness
from osconsole.views import Cell, Column, Target, Tone, project_names


@dataclass(frozen=True)
class Context:
    """The target and the snapshots of its region, at `now`."""

    state: LiveState
    target: Target
    now: float

    @property
    def thresholds(self) -> Thresholds:
        return self.state.settings.thresholds

    def snapshot(self, kind: Kind) -> Snapshot[Any] | None:
        """The latest snapshot of `kind` in the target's region, as judged (the facts
        the panes show: see osconsole.health.assess.reconcile)."""
        key = (self.target.ref, kind)
        judged = self.state.verdicts.snapshots.get(key)
        return judged if judged is not None else self.state.snapshots.get(key)

    def verdict(self, kind: Kind, item_id: str) -> Assessment:
        """The one judge's assessment of an object of the target's region."""
        return self.state.verdicts.of(self.target.ref, kind, item_id)

    def items(self, kind: Kind) -> Mapping[str, Any]:
        snap = self.snapshot(kind)
        return snap.items if snap is not None else {}

    @cached_property
    def names(self) -> dict[str, str]:
        """Project id -> name from every tenants snapshot (ids are global)."""
        return project_names(self.state.of_kind(Kind.TENANTS))

    def to(self, kind: Kind, item_id: str, detail: str = "") -> Target:
        return Target(self.target.ref, kind, item_id, detail)

    def project_text(self, project_id: str) -> str:
        name = self.names.get(project_id)
        return f"{name} ({project_id})" if name else project_id or "-"

    @cached_property
    def hypervisor_ids(self) -> dict[str, str]:
        """Compute host name -> hypervisor id, for links from a server to its host."""
        found: dict[str, str] = {}
        for h in self.items(Kind.HYPERVISORS).values():
            found[h.hostname] = h.id
            if h.service_host:
                found[h.service_host] = h.id
        return found


HOST = "host"  # Target.detail of a host page: its id is the host name


def host_target(ref: RegionRef, host: str) -> Target | None:
    """The host page of `host` (None when the host is not known): Enter on a "Host" line."""
    return Target(ref, Kind.HYPERVISORS, host, HOST) if host else None


# -- servers (a hypervisor's, a project's) -----------------------------------------------

SERVER_TAIL = (
    Column("status", "Status"),
    Column("task", "Task"),
    Column("vcpus", "vCPU", numeric=True),
    Column("ram", "RAM MB", numeric=True),
    Column("age", "Age", numeric=True),
    Column("locked", "Locked"),
)
STATUS_TONES = {"ERROR": Tone.CRITICAL, "BUILD": Tone.WARNING, "SHUTOFF": Tone.INFO}


def server_columns(by: str) -> tuple[Column, ...]:
    """Columns of a server listing; `by` is the column that differs ("project"/"host")."""
    other = Column("project", "Project") if by == "project" else Column("host", "Host")
    return (Column("name", "Name"), other, *SERVER_TAIL, Column("id", "Id"))


def _number(value: Any) -> Cell:
    return Cell(str(value), sort=value) if isinstance(value, int) else Cell("-", sort=-1)


def server_line(
    body: Mapping[str, Any], ctx: Context, by: str, server_time: float | None
) -> Line | None:
    """One server of `/servers/detail`; Enter opens its project (`by` "project") or its
    hypervisor (`by` "host"). None for an item without an id."""
    server_id = body.get("id")
    if not isinstance(server_id, str):
        return None
    status = str(body.get("status") or "?")
    task = body.get("OS-EXT-STS:task_state")
    flavor = body.get("flavor") if isinstance(body.get("flavor"), dict) else {}
    created = utc_timestamp(body.get("created"))
    now = server_time if server_time is not None else ctx.now
    locked = body.get("locked")
    reason = body.get("locked_reason")
    locked_text = "?" if locked is None else ("LOCKED" if as_bool(locked) else "no")
    if reason and as_bool(locked):
        locked_text += f" ({reason})"
    project = str(body.get("tenant_id") or body.get("project_id") or "")
    host = str(body.get("OS-EXT-SRV-ATTR:host") or "")
    if by == "project":
        other = Cell(ctx.names.get(project, project))
        target = ctx.to(Kind.TENANTS, project) if project else None
    else:
        other = Cell(host or "-")
        hv = ctx.hypervisor_ids.get(host)
        target = ctx.to(Kind.HYPERVISORS, hv) if hv else None
    cells = (
        Cell(str(body.get("name") or "")),
        other,
        Cell(status, STATUS_TONES.get(status, Tone.NONE)),
        Cell(str(task), Tone.WARNING) if task else Cell("-"),
        _number(flavor.get("vcpus")),
        _number(flavor.get("ram")),
        age_cell(None if created is None else now - created),
        Cell(locked_text, Tone.INFO if locked_text.startswith("LOCKED") else Tone.NONE),
        Cell(server_id),
    )
    return Line(server_id, cells, target, subject=body)


def server_order(line: Line) -> tuple[int, str]:
    """ERROR first, then servers in a task or building, then by name."""
    status, task = line.cells[2].text, line.cells[3].text
    rank = 0 if status == "ERROR" else (1 if status == "BUILD" or task != "-" else 2)
    return rank, line.cells[0].text.casefold()


def server_lines(
    bodies: Iterable[Any], ctx: Context, by: str, server_time: float | None
) -> list[Line]:
    found = (server_line(b, ctx, by, server_time) for b in bodies if isinstance(b, dict))
    return sorted((line for line in found if line is not None), key=server_order)


# -- a host's neighbours -----------------------------------------------------------------

NEIGHBOUR_COLUMNS = (
    Column("kind", "Kind"),
    Column("what", "Type/Binary"),
    Column("state", "State"),
    Column("admin", "Admin"),
    Column("heartbeat", "Heartbeat", numeric=True),
)


def agent_state(agent: Agent) -> Cell:
    return Cell("alive") if agent.alive else Cell("DEAD", Tone.CRITICAL)


def agent_admin(agent: Agent) -> Cell:
    return Cell("up") if agent.admin_state_up else Cell("ADMIN-DOWN", Tone.INFO)


def service_state(service: Service) -> Cell:
    if service.forced_down:
        return Cell("FORCED DOWN", Tone.WARNING)
    return Cell("up") if service.state == "up" else Cell(service.state.upper(), Tone.CRITICAL)


def service_admin(service: Service) -> Cell:
    reason = f" ({service.disabled_reason})" if service.disabled_reason else ""
    if service.status == "enabled":
        return Cell("enabled")
    return Cell(f"{service.status}{reason}", Tone.INFO)


def host_neighbours(ctx: Context, host: str, but: str) -> list[Line]:
    """Every agent and service on `host` except `but`, worst first: a dead host shows
    as many dead rows, a lone dead agent as one."""
    late = ctx.thresholds.heartbeat_warning_s
    ranked: list[tuple[int, Line]] = []
    agents = ctx.snapshot(Kind.AGENTS)
    for a in ctx.items(Kind.AGENTS).values():
        if a.host != host or a.id == but:
            continue
        severity = ctx.verdict(Kind.AGENTS, a.id).severity
        cells = (
            Cell("neutron"),
            Cell(a.agent_type),
            agent_state(a),
            agent_admin(a),
            age_cell(aged(a.heartbeat_age, agents, ctx.now), late),
        )
        ranked.append((-severity.rank, Line(a.id, cells, ctx.to(Kind.AGENTS, a.id, "agent"))))
    services = ctx.snapshot(Kind.SERVICES)
    for s in ctx.items(Kind.SERVICES).values():
        if s.host != host or s.id == but:
            continue
        severity = ctx.verdict(Kind.SERVICES, s.id).severity
        cells = (
            Cell(s.project),
            Cell(s.binary),
            service_state(s),
            service_admin(s),
            age_cell(aged(s.heartbeat_age, services, ctx.now), late),
        )
        ranked.append((-severity.rank, Line(s.id, cells, ctx.to(Kind.SERVICES, s.id, s.project))))
    ranked.sort(key=lambda pair: (pair[0], pair[1].cells[0].text, pair[1].cells[1].text))
    return [line for _, line in ranked]


def hypervisors_of_host(ctx: Context, host: str) -> list[Hypervisor]:
    return [h for h in ctx.items(Kind.HYPERVISORS).values() if host in (h.service_host, h.hostname)]


def missing_page(ctx: Context, kind: Kind, what: str) -> Page:
    """The page of an object the last poll no longer has (deleted, or its region failed)."""
    section = Section(
        what.lower(),
        what,
        (),
        note=f"{ctx.target.id} is not in the last poll ({freshness(ctx.snapshot(kind), ctx.now)})",
        note_tone=Tone.WARNING,
    )
    return Page(f"{what} {ctx.target.id}", ctx.target.id, (section,))
