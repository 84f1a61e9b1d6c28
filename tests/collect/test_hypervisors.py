"""Hypervisors: Nova state, Placement usage at 2.88+, generations, microversion fallbacks."""

from __future__ import annotations

import pytest

from osconsole.cloud import compute, placement
from osconsole.cloud.http import ApiFailure, RegionClient
from osconsole.collect.base import SweepBudget
from osconsole.collect.hypervisors import (
    HypervisorCollector,
    ProviderUsage,
    capacity_from_placement,
    parse_hypervisor,
    providers_to_refresh,
)
from osconsole.config import Settings
from osconsole.sim.world import World


def _collector(client: RegionClient, budget: SweepBudget | None = None) -> HypervisorCollector:
    return HypervisorCollector(client, Settings(), budget or SweepBudget(None))


async def test_every_hypervisor_with_placement_usage_equal_to_the_world(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    assert compute.at_least(region_one, "2.88"), region_one.microversions
    snap = await _collector(region_one).poll(None)
    assert snap.complete, snap.notes
    assert set(snap.items) == set(region.hypervisors.ids())
    for hv in region.hypervisors:
        seen = snap.items[hv.id]
        assert seen.hostname == hv.hostname and seen.state == "up"
        assert seen.usage_source == "placement"
        assert seen.vcpu is not None and seen.memory_mb is not None
        assert seen.vcpu.used == hv.vcpus_used and seen.vcpu.total == hv.vcpus
        assert seen.vcpu.capacity == hv.vcpus * hv.cpu_allocation_ratio
        assert seen.memory_mb.capacity == (hv.memory_mb - 512) * hv.ram_allocation_ratio
        assert seen.running_vms == hv.running_vms
    # hypervisors + compute services + providers, then 2 per provider on the first poll
    assert snap.requests == 3 + 2 * len(region.hypervisors)


async def test_only_providers_whose_generation_moved_are_fetched_again(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    collector = _collector(region_one)
    first = await collector.poll(None)
    server = next(s for s in region.servers if s.host and not s.deleted)
    region.delete_server(server, world.now())
    second = await collector.poll(first)
    assert second.requests == 3 + 2
    hv = region.hypervisors_by_host[server.host or ""]
    assert second.items[hv.id].vcpu.used == first.items[hv.id].vcpu.used - server.flavor.vcpus  # type: ignore[union-attr]
    third = await collector.poll(second)
    assert third.requests == 3


async def test_a_paced_budget_reads_usage_over_several_polls(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    budget = SweepBudget(rate=0.1, burst=100)  # 0.1 rps * 30 s = 3 requests: 1 provider per poll
    collector = _collector(region_one, budget)
    snap = await collector.poll(None)
    assert snap.requests == 3 + 2
    assert not snap.complete
    assert any("not yet read" in note for note in snap.notes)
    with_usage = [h for h in snap.items.values() if h.usage_source == "placement"]
    assert len(with_usage) == 1 and len(snap.items) == len(region.hypervisors)


async def test_usage_not_read_marks_the_hypervisors_read_in_part(
    world: World, region_one: RegionClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    region = world.regions["RegionOne"]
    budget = SweepBudget(rate=0.1, burst=100)  # one provider per poll
    collector = _collector(region_one, budget)
    first = await collector.poll(None)
    read = {h.id for h in first.items.values() if h.usage_source == "placement"}
    assert len(read) == 1 and first.partly_read == frozenset(first.items) - read

    async def down(client: RegionClient) -> None:
        raise ApiFailure("placement", "GET", "/resource_providers", "HTTP 503: busy", 503)

    monkeypatch.setattr(placement, "resource_providers", down)
    second = await collector.poll(first)
    # What was read before is kept and said to be old, not dropped to "no usage".
    assert {h.id for h in second.items.values() if h.usage_source == "placement"} == read
    assert "Placement unavailable, usage from an earlier poll: HTTP 503: busy" in second.notes
    assert second.partly_read == frozenset(region.hypervisors.ids()) - read
    assert not second.complete


async def test_hypervisors_whose_records_are_unreadable_are_held_as_last_read(
    world: World, region_one: RegionClient
) -> None:
    collector = _collector(region_one)
    first = await collector.poll(None)
    world.regions["RegionOne"].service_faults["compute"].update(shape="no_ids")
    second = await collector.poll(first)
    # Which hypervisors the records without ids are is unknown: none vanishes.
    assert not second.complete
    assert set(second.items) == set(first.items) == set(second.held)
    assert all(second.items[k] is first.items[k] for k in first.items)
    assert set(second.held.values()) == {first.fetched_at}
    count = len(first.items)
    assert f"{count} hypervisor record(s) unreadable, skipped" in second.notes
    assert f"{count} hypervisor(s) not read, shown as last read" in second.notes

    world.regions["RegionOne"].service_faults["compute"].update(shape="")
    third = await collector.poll(second)
    assert third.complete and third.held == {} and set(third.items) == set(first.items)


async def test_below_2_88_usage_comes_from_nova_detail(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    region_one.microversions["compute"] = "2.60"
    snap = await _collector(region_one).poll(None)
    assert snap.requests == 2  # detail and services, no Placement
    for hv in region.hypervisors:
        seen = snap.items[hv.id]
        assert seen.usage_source == "nova"
        # Nova counts reserved host memory as used, as the real one does.
        used_with_reserved = hv.memory_mb_used + hv.reserved_host_memory_mb
        assert seen.memory_mb is not None and seen.memory_mb.used == used_with_reserved
        assert seen.running_vms == hv.running_vms


async def test_a_down_and_disabled_host_carries_its_reason(
    world: World, region_one: RegionClient
) -> None:
    region = world.regions["RegionOne"]
    hv = next(iter(region.hypervisors))
    hv.service.stopped_at = world.now()
    hv.service.disabled = True
    hv.service.disabled_reason = "maintenance: RAM"
    world.clock.step(70)
    snap = await _collector(region_one).poll(None)
    seen = snap.items[hv.id]
    assert (seen.state, seen.status, seen.disabled_reason) == (
        "down",
        "disabled",
        "maintenance: RAM",
    )
    assert seen.service_id == hv.service.id


def test_capacity_arithmetic_and_bad_records() -> None:
    inventories = {"VCPU": {"total": 8, "reserved": 2, "allocation_ratio": 4.0}}
    cap = capacity_from_placement(inventories, {"VCPU": 30}, "VCPU")
    assert cap is not None and cap.capacity == 24.0 and cap.free == -6.0
    assert cap.used_ratio == 30 / 24
    assert capacity_from_placement({}, {}, "VCPU") is None
    assert capacity_from_placement({"VCPU": {"total": "x"}}, {}, "VCPU") is None
    assert parse_hypervisor({"id": "x"}, None, None) is None
    hv = parse_hypervisor({"id": 3, "hypervisor_hostname": "h"}, None, None)
    assert hv is not None and hv.id == "3" and hv.usage_source == "none"


def test_providers_never_read_come_before_moved_ones_within_the_allowance() -> None:
    cached = {"a": ProviderUsage(1, {}, {}), "b": ProviderUsage(1, {}, {})}
    generations = {"a": 1, "b": 2, "c": 1, "d": None}
    assert providers_to_refresh(generations, cached, None) == ["c", "d", "b"]
    assert providers_to_refresh(generations, cached, 2) == ["c", "d"]
