"""Hypervisors with their compute service's state and their capacity and usage.

Below Nova 2.88 the usage fields come with `os-hypervisors/detail`. From 2.88 they
are gone and Placement has them: a hypervisor's id is its resource provider uuid.
Placement has no bulk inventory call, so instead of two requests per hypervisor on
every poll we list the providers once (one request) and refetch inventories and
usages only for providers whose `generation` moved (it moves on every inventory or
allocation change), within the region's sweep budget.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from osconsole.clean import clean_optional, clean_text
from osconsole.cloud import compute, placement
from osconsole.cloud.http import ApiFailure, NotDeployed
from osconsole.collect.base import Collected, Collector, hold_unread
from osconsole.collect.parse import as_int, utc_timestamp
from osconsole.model import Capacity, Hypervisor, Kind, Snapshot

RESOURCE_CLASSES = {"vcpu": "VCPU", "memory_mb": "MEMORY_MB", "disk_gb": "DISK_GB"}


@dataclass(frozen=True)
class ProviderUsage:
    """Placement's view of one compute node at a given provider generation."""

    generation: int | None
    inventories: dict[str, dict[str, Any]]
    usages: dict[str, int]


def capacity_from_placement(
    inventories: dict[str, dict[str, Any]], usages: dict[str, int], resource_class: str
) -> Capacity | None:
    inventory = inventories.get(resource_class)
    if not isinstance(inventory, dict):
        return None
    total, used = as_int(inventory.get("total")), as_int(usages.get(resource_class))
    if total is None or used is None:  # Placement lists a usage for every inventory
        return None
    ratio = inventory.get("allocation_ratio", 1.0)
    return Capacity(
        total=total,
        used=used,
        reserved=as_int(inventory.get("reserved")) or 0,
        allocation_ratio=float(ratio) if isinstance(ratio, int | float) else 1.0,
    )


def capacity_from_nova(body: dict[str, Any], total_key: str, used_key: str) -> Capacity | None:
    """Pre-2.88 usage: Nova knows totals and use, not reservations or ratios."""
    total, used = as_int(body.get(total_key)), as_int(body.get(used_key))
    if total is None or used is None:
        return None
    return Capacity(total=total, used=used)


def parse_hypervisor(
    body: dict[str, Any],
    service: dict[str, Any] | None,
    usage: ProviderUsage | None,
) -> Hypervisor | None:
    """A Hypervisor from a list/detail item, its nova-compute row, and Placement usage."""
    hv_id, hostname = body.get("id"), body.get("hypervisor_hostname")
    if hv_id is None or not isinstance(hostname, str):
        return None
    embedded = body.get("service") if isinstance(body.get("service"), dict) else {}
    service = service or {}
    servers = body.get("servers")
    running = as_int(body.get("running_vms"))
    if running is None and isinstance(servers, list):
        running = len(servers)  # 2.88+: the servers listed with the hypervisor
    fields: dict[str, Any] = {}
    if usage is not None:
        for field, resource_class in RESOURCE_CLASSES.items():
            fields[field] = capacity_from_placement(usage.inventories, usage.usages, resource_class)
        source = "placement"
    elif "vcpus" in body:
        fields["vcpu"] = capacity_from_nova(body, "vcpus", "vcpus_used")
        fields["memory_mb"] = capacity_from_nova(body, "memory_mb", "memory_mb_used")
        fields["disk_gb"] = capacity_from_nova(body, "local_gb", "local_gb_used")
        source = "nova"
    else:
        source = "none"
    return Hypervisor(
        id=clean_text(hv_id),
        hostname=clean_text(hostname),
        state=clean_text(body.get("state") or "unknown"),
        status=clean_text(body.get("status") or "unknown"),
        host_ip=clean_optional(body.get("host_ip")),
        hypervisor_type=clean_optional(body.get("hypervisor_type")),
        service_id=clean_optional(service.get("id") or embedded.get("id")),
        service_host=clean_text(service.get("host") or embedded.get("host") or hostname),
        disabled_reason=clean_optional(
            service.get("disabled_reason") or embedded.get("disabled_reason")
        ),
        running_vms=running,
        usage_source=source,
        service_updated_at=utc_timestamp(service.get("updated_at") or embedded.get("updated_at")),
        **fields,
    )


def providers_to_refresh(
    generations: dict[str, int | None],
    cached: dict[str, ProviderUsage],
    allowance: int | None,
) -> list[str]:
    """Providers whose usage must be fetched: never fetched first, then moved generations."""
    never = [p for p in generations if p not in cached]
    moved = [
        p
        for p, generation in generations.items()
        if p in cached and (generation is None or cached[p].generation != generation)
    ]
    ordered = never + moved
    return ordered if allowance is None else ordered[:allowance]


class HypervisorCollector(Collector):
    kind = Kind.HYPERVISORS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._usage: dict[str, ProviderUsage] = {}

    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        client = self.client
        notes: list[str] = []
        complete = True
        # Which calls, and which fields they have, depend on the version: negotiated
        # first if it is not known (the region failed at start), or the poll fails.
        await client.version("compute")
        modern = compute.at_least(client, "2.88")
        # Below 2.88 usage comes only with detail; from 2.88 the list call (detail asks
        # every host for its uptime) with the servers on each host, for running VMs.
        listing, services = await asyncio.gather(
            compute.hypervisors(client, detail=not modern, with_servers=modern),
            compute.services(client, binary="nova-compute"),
            return_exceptions=True,
        )
        if isinstance(listing, BaseException):
            raise listing
        bodies, server_time = listing
        by_host: dict[str, dict[str, Any]] = {}
        if isinstance(services, BaseException):
            notes.append(f"compute services unavailable: {_reason(services)}")
            complete = False
        else:
            rows = [s for s in services[0] if isinstance(s, dict)]
            by_host = {s.get("host"): s for s in rows}
            if len(rows) != len(services[0]):
                notes.append(f"{len(services[0]) - len(rows)} compute service row(s) unreadable")
                complete = False
        usage: dict[str, ProviderUsage] = {}
        if modern:
            usage, placement_notes, placement_complete = await self._placement_usage(bodies)
            notes += placement_notes
            complete = complete and placement_complete
        items: dict[str, Hypervisor] = {}
        skipped = 0
        for body in bodies:
            if not isinstance(body, dict):
                skipped += 1
                continue
            hv_id = str(body.get("id"))
            service = by_host.get(body.get("hypervisor_hostname"))
            parsed = parse_hypervisor(body, service, usage.get(hv_id))
            if parsed is None:
                skipped += 1
                continue
            items[parsed.id] = parsed
        extra = {"microversion": client.current_version("compute"), "usage_cached": len(usage)}
        # From 2.88 usage comes only from Placement: a hypervisor without it is read in
        # part (its capacity is unknown, so no capacity finding of its clears).
        partly = frozenset(i for i in items if i not in usage) if modern else frozenset()
        held: dict[str, float] = {}
        if skipped:
            notes.append(f"{skipped} hypervisor record(s) unreadable, skipped")
            complete = False
            # Which hypervisors they are is unknown: those not read stay, held.
            held = hold_unread(previous, items, lambda _: True)
            if held:
                notes.append(f"{len(held)} hypervisor(s) not read, shown as last read")
        return Collected(items, server_time, complete, tuple(notes), extra, partly, held)

    def versions_changed(self, services: list[str]) -> None:
        self._usage.clear()  # inventories and usages read at the old version

    async def _placement_usage(
        self, bodies: list[Any]
    ) -> tuple[dict[str, ProviderUsage], list[str], bool]:
        """Usage per provider, refreshing only providers whose generation moved."""
        ids = {str(b.get("id")) for b in bodies if isinstance(b, dict) and b.get("id")}
        try:
            providers = await placement.resource_providers(self.client)
        except NotDeployed as exc:
            # Placement left the catalog: Nova below 2.88 has the usage, from the next poll.
            self.client.rediscover("compute")
            return {}, [f"{exc.reason}: usage from Nova from the next poll"], False
        except ApiFailure as exc:  # what was read before is kept, and said to be old
            held = "usage from an earlier poll" if self._usage else "no usage"
            return dict(self._usage), [f"Placement unavailable, {held}: {exc.reason}"], False
        readable = [p for p in providers if isinstance(p, dict) and isinstance(p.get("uuid"), str)]
        generations = {p["uuid"]: as_int(p.get("generation")) for p in readable if p["uuid"] in ids}
        for gone in set(self._usage) - set(generations):
            del self._usage[gone]
        allowance = self.budget.per_poll(self.settings.intervals.of(self.kind))
        # Two requests per provider: the allowance counts requests.
        wanted = providers_to_refresh(
            generations, self._usage, None if allowance is None else max(1, allowance // 2)
        )
        results = await asyncio.gather(
            *(self._fetch_usage(p, generations[p]) for p in wanted), return_exceptions=True
        )
        failures = 0
        for provider, result in zip(wanted, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, ApiFailure):
                    raise result
                failures += 1
                continue
            self._usage[provider] = result
        notes = []
        unreadable = len(providers) - len(readable)
        if unreadable:
            notes.append(f"{unreadable} resource provider(s) unreadable")
        missing = len(generations) - len(self._usage)
        if failures:
            notes.append(f"Placement usage failed for {failures} provider(s)")
        if missing:
            notes.append(f"Placement usage not yet read for {missing} hypervisor(s)")
        stale = sum(
            1 for p, g in generations.items() if p in self._usage and self._usage[p].generation != g
        )
        if stale:
            notes.append(f"Placement usage of {stale} hypervisor(s) from an earlier poll")
        return dict(self._usage), notes, missing == 0 and failures == 0 and not unreadable

    async def _fetch_usage(self, provider: str, generation: int | None) -> ProviderUsage:
        await self.budget.acquire()
        await self.budget.acquire()
        inventories, usages = await asyncio.gather(
            placement.inventories(self.client, provider), placement.usages(self.client, provider)
        )
        return ProviderUsage(generation, inventories, usages)


def _reason(exc: BaseException) -> str:
    return exc.reason if isinstance(exc, ApiFailure) else type(exc).__name__
