"""The control plane's liveness: Nova and Cinder services, Neutron agents.

Heartbeat ages are measured against the API server's own clock (its `Date`
header), not ours: an operator's laptop or a jump host with a drifting clock must
not make healthy agents look dead, nor hide dead ones.
"""

from __future__ import annotations

import asyncio
from typing import Any

from osconsole.clean import clean_optional, clean_text
from osconsole.cloud import compute, network, volume
from osconsole.cloud.http import ApiFailure, NotDeployed
from osconsole.collect.base import Collected, Collector, hold_unread
from osconsole.collect.parse import age, as_bool, utc_timestamp
from osconsole.model import Agent, Kind, Service, Snapshot


def parse_service(body: dict[str, Any], project: str, server_time: float | None) -> Service | None:
    """A Nova or Cinder service row. Cinder rows have no id: host + binary name them;
    a Nova row always has one (actions name the service by it), so one without is
    unreadable."""
    binary, host, raw_id = body.get("binary"), body.get("host"), body.get("id")
    if not isinstance(binary, str) or not isinstance(host, str):
        return None
    if raw_id is None and project == "nova":
        return None
    binary, host = clean_text(binary), clean_text(host)
    service_id = clean_text(raw_id) if raw_id is not None else f"{host}:{binary}"
    updated = utc_timestamp(body.get("updated_at"))
    return Service(
        id=f"{project}:{service_id}",
        project=project,
        binary=binary,
        host=host,
        zone=clean_optional(body.get("zone")),
        status=clean_text(body.get("status") or "unknown"),
        state=clean_text(body.get("state") or "unknown"),
        updated_at=updated,
        heartbeat_age=age(server_time, updated),
        disabled_reason=clean_text(body.get("disabled_reason")) or None,
        forced_down=as_bool(body.get("forced_down")),
    )


def parse_agent(body: dict[str, Any], server_time: float | None) -> Agent | None:
    agent_id, agent_type, host = body.get("id"), body.get("agent_type"), body.get("host")
    if not isinstance(agent_id, str) or not isinstance(agent_type, str) or host is None:
        return None
    heartbeat = utc_timestamp(body.get("heartbeat_timestamp"))
    return Agent(
        id=clean_text(agent_id.strip()),
        agent_type=clean_text(agent_type),
        binary=clean_text(body.get("binary") or ""),
        host=clean_text(host),
        alive=as_bool(body.get("alive")),
        admin_state_up=as_bool(body.get("admin_state_up"), default=True),
        heartbeat_at=heartbeat,
        heartbeat_age=age(server_time, heartbeat),
        started_at=utc_timestamp(body.get("started_at")),
        availability_zone=clean_optional(body.get("availability_zone")),
    )


def _index(parsed: list[Any]) -> tuple[dict[str, Any], int]:
    """Items by id, and how many records could not be read (they make the poll partial:
    an unreadable service may be the one that is down)."""
    items = {p.id: p for p in parsed if p is not None}
    return items, sum(1 for p in parsed if p is None)


class ServiceCollector(Collector):
    """Nova and Cinder services; one unavailable project still gives the other, and a
    project the region does not have (often Cinder) is a note, not a failure."""

    kind = Kind.SERVICES

    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        nova, cinder = await asyncio.gather(
            compute.services(self.client), volume.services(self.client), return_exceptions=True
        )
        items: dict[str, Service] = {}
        notes: list[str] = []
        server_time = None
        failures: list[ApiFailure] = []
        absent: list[NotDeployed] = []
        unread: set[str] = set()  # projects not read in full: their last rows are held
        for project, result in (("nova", nova), ("cinder", cinder)):
            if isinstance(result, NotDeployed):  # not deployed here: a note, not a failure
                absent.append(result)
                notes.append(result.reason)
                continue
            if isinstance(result, BaseException):
                if not isinstance(result, ApiFailure):
                    raise result
                failures.append(result)
                unread.add(project)
                notes.append(f"{project} services unavailable: {result.reason}")
                continue
            bodies, when = result
            server_time = server_time or when
            parsed = [
                parse_service(b, project, when) if isinstance(b, dict) else None for b in bodies
            ]
            found, skipped = _index(parsed)
            items.update(found)
            if skipped:
                unread.add(project)
                notes.append(f"{skipped} {project} service record(s) unreadable, skipped")
        if failures and len(failures) + len(absent) == 2:
            raise failures[0]  # nothing could be read
        if len(absent) == 2:
            raise absent[0]
        held = hold_unread(previous, items, lambda s: s.project in unread)
        for project in sorted(unread):
            count = sum(1 for key in held if items[key].project == project)
            if count:
                notes.append(f"{count} {project} service(s) not read, shown as last read")
        return Collected(items, server_time, complete=not unread, notes=tuple(notes), held=held)


class AgentCollector(Collector):
    """Neutron agents of every type (OVN agent types included, as they come)."""

    kind = Kind.AGENTS

    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        bodies, server_time = await network.agents(self.client)
        parsed = [parse_agent(b, server_time) if isinstance(b, dict) else None for b in bodies]
        items, skipped = _index(parsed)
        ovn = any(a.is_ovn for a in items.values())
        notes = [f"{skipped} agent record(s) unreadable, skipped"] if skipped else []
        # Which agents the unreadable records are is unknown: those not read stay held.
        held = hold_unread(previous, items, lambda _: True) if skipped else {}
        if held:
            notes.append(f"{len(held)} agent(s) not read, shown as last read")
        return Collected(
            items, server_time, not skipped, tuple(notes), extra={"ovn": ovn}, held=held
        )
