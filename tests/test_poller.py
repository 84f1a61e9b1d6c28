"""The poller: never overlapping, backing off, keeping stale data, isolating regions."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from osconsole.cloud.http import ApiFailure, NotDeployed, Timeout
from osconsole.collect.base import Collected, Collector
from osconsole.config import Settings
from osconsole.model import Kind, RegionRef, Snapshot
from osconsole.poller import JITTER, MAX_BACKOFF_FACTOR, Poller, failed_snapshot, next_delay
from tests.support.clock import SteppedClock
from tests.support.waiting import wait_for


def test_delay_doubles_per_failure_up_to_a_cap_with_bounded_jitter() -> None:
    rng = random.Random(1)
    for failures, factor in [(0, 1), (1, 2), (2, 4), (3, 8), (4, 16), (9, MAX_BACKOFF_FACTOR)]:
        for _ in range(50):
            delay = next_delay(30.0, failures, rng)
            assert 30.0 * factor * 0.9 <= delay <= 30.0 * factor * 1.1


def test_a_failed_poll_keeps_the_previous_items_marked_stale() -> None:
    ref = RegionRef("c", "R1")
    previous = Snapshot(ref, Kind.AGENTS, Snapshot.freeze({"a": 1}), fetched_at=100.0)
    failed = failed_snapshot(previous, ref, Kind.AGENTS, "timeout", now=200.0)
    assert failed.items == {"a": 1}
    assert failed.stale and failed.error == "timeout"
    assert failed.fetched_at == 100.0  # its age keeps growing: staleness is never hidden
    first = failed_snapshot(None, ref, Kind.AGENTS, "timeout", now=200.0)
    assert first.items == {} and first.stale and not first.complete


class FakeClient:
    def __init__(self, cloud: str, region: str) -> None:
        self.cloud, self.region = cloud, region


class FakeSession:
    def __init__(self, region: str) -> None:
        self.ref = RegionRef("c", region)
        self.client = FakeClient("c", region)


class ScriptedCollector(Collector):
    """Answers from a script; counts concurrent polls to prove they never overlap."""

    kind = Kind.AGENTS
    scripts: dict[str, list[Any]] = {}
    running: dict[str, int] = {}
    max_running: dict[str, int] = {}

    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        region = self.client.region
        ScriptedCollector.running[region] = ScriptedCollector.running.get(region, 0) + 1
        ScriptedCollector.max_running[region] = max(
            ScriptedCollector.max_running.get(region, 0), ScriptedCollector.running[region]
        )
        try:
            await asyncio.sleep(0)  # let the other tasks run: an overlapping poll would start
            step = ScriptedCollector.scripts[region].pop(0)
            if isinstance(step, Exception):
                raise step
            return Collected({"n": step})
        finally:
            ScriptedCollector.running[region] -= 1


FAKES = {Kind.AGENTS: ScriptedCollector}
INTERVAL = Settings().intervals.of(Kind.AGENTS)


@pytest.fixture
def scripted() -> type[ScriptedCollector]:
    ScriptedCollector.scripts = {}
    ScriptedCollector.running = {}
    ScriptedCollector.max_running = {}
    return ScriptedCollector


async def test_one_failing_region_does_not_touch_the_others(scripted: Any) -> None:
    scripted.scripts = {"R1": [1, 2], "R2": [10, Timeout("network", "GET", "/x", "slow")]}
    seen: list[Snapshot[Any]] = []
    sessions = [FakeSession("R1"), FakeSession("R2")]
    poller = Poller(
        sessions, Settings(), kinds=[Kind.AGENTS], collectors=FAKES, on_snapshot=seen.append
    )  # type: ignore[arg-type]
    await poller.poll_once()
    second = {s.ref.region: s for s in await poller.poll_once()}
    assert second["R1"].items == {"n": 2} and not second["R1"].stale
    assert second["R2"].items == {"n": 10} and second["R2"].stale
    assert "slow" in (second["R2"].error or "")
    assert poller.failures[(RegionRef("c", "R2"), Kind.AGENTS)] == 1
    assert len(seen) == 4


async def test_polls_of_the_same_thing_never_overlap(scripted: Any) -> None:
    scripted.scripts = {"R1": list(range(20))}
    poller = Poller([FakeSession("R1")], Settings(), kinds=[Kind.AGENTS], collectors=FAKES)  # type: ignore[list-item]
    key = (RegionRef("c", "R1"), Kind.AGENTS)
    await asyncio.gather(*(poller.poll(key) for _ in range(8)))
    assert scripted.max_running["R1"] == 1
    assert poller.latest[key].items == {"n": 7}


def looping_poller(seen: list[int], clock: SteppedClock) -> tuple[Poller, asyncio.Task[None]]:
    """A poller of R1's agents running its loop on the stepped clock."""
    poller = Poller(
        [FakeSession("R1")],  # type: ignore[list-item]
        Settings(),
        kinds=[Kind.AGENTS],
        collectors=FAKES,
        on_snapshot=lambda s: seen.append(s.items.get("n", -1)),
        clock=clock.now,
        sleep=clock.sleep,
        seed=0,
    )
    return poller, asyncio.create_task(poller.run())


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_run_loops_and_refresh_wakes_without_doubling(scripted: Any) -> None:
    scripted.scripts = {"R1": list(range(100))}
    seen: list[int] = []
    clock = SteppedClock(1000.0)
    poller, task = looping_poller(seen, clock)
    await wait_for(lambda: clock.sleeping, 5, step=0, what="the loop waiting for its next poll")
    assert clock.advance(INTERVAL * (1 - JITTER) - 1) == 0  # its delay has not passed
    await asyncio.sleep(0)
    assert seen == [0]  # the interval (15 s) has not passed: one poll only
    for n in range(3):
        poller.refresh(Kind.AGENTS)
        poller.refresh()
        await wait_for(lambda: len(seen) > n + 1 and clock.sleeping, 5, step=0)  # noqa: B023
    await stop(task)
    assert seen == [0, 1, 2, 3]
    assert scripted.max_running["R1"] == 1


async def test_the_loop_polls_again_when_its_delay_has_passed(scripted: Any) -> None:
    scripted.scripts = {"R1": list(range(100))}
    seen: list[int] = []
    clock = SteppedClock(1000.0)
    _, task = looping_poller(seen, clock)
    for polls in (1, 2, 3):
        await wait_for(lambda: clock.sleeping, 5, step=0, what="the loop waiting")
        (deadline,) = clock.sleeping
        assert INTERVAL * (1 - JITTER) <= deadline - clock.now() <= INTERVAL * (1 + JITTER)
        assert len(seen) == polls
        clock.advance(deadline - clock.now() - 0.5)
        assert not clock.advance(0) and len(seen) == polls  # not yet due
        assert clock.advance(0.5) == 1
        await wait_for(lambda: len(seen) == polls + 1, 5, step=0)  # noqa: B023
    await stop(task)
    assert seen == [0, 1, 2, 3]


async def test_the_loop_waits_longer_after_each_failure(scripted: Any) -> None:
    failure = Timeout("network", "GET", "/x", "slow")
    scripted.scripts = {"R1": [failure, failure, failure, 7]}
    seen: list[int] = []
    clock = SteppedClock(1000.0)
    _, task = looping_poller(seen, clock)
    for failures in (1, 2, 3):
        await wait_for(lambda: len(seen) == failures and clock.sleeping, 5, step=0)  # noqa: B023
        (deadline,) = clock.sleeping
        factor = 2**failures
        assert INTERVAL * factor * (1 - JITTER) <= deadline - clock.now()
        assert deadline - clock.now() <= INTERVAL * factor * (1 + JITTER)
        clock.advance(deadline - clock.now())
    await wait_for(lambda: len(seen) == 4 and clock.sleeping, 5, step=0)
    (deadline,) = clock.sleeping
    assert deadline - clock.now() <= INTERVAL * (1 + JITTER)  # success: back to the interval
    await stop(task)
    assert seen == [-1, -1, -1, 7]


async def test_a_collector_bug_becomes_a_stale_snapshot_not_a_dead_loop(scripted: Any) -> None:
    scripted.scripts = {"R1": [1, ZeroDivisionError("bug"), 3]}
    poller = Poller([FakeSession("R1")], Settings(), kinds=[Kind.AGENTS], collectors=FAKES)  # type: ignore[list-item]
    key = (RegionRef("c", "R1"), Kind.AGENTS)
    await poller.poll(key)
    broken = await poller.poll(key)
    assert broken.stale and broken.error == "internal error: ZeroDivisionError"
    assert (await poller.poll(key)).items == {"n": 3}


def test_api_failures_read_well() -> None:
    failure = ApiFailure("compute", "GET", "/os-hypervisors", "HTTP 503: Service Unavailable", 503)
    assert str(failure) == "compute: GET /os-hypervisors: HTTP 503: Service Unavailable"


async def test_regions_added_while_running_are_polled_at_once(scripted: Any) -> None:
    scripted.scripts = {"R1": [1, 2], "R2": [7]}
    seen: list[tuple[str, int]] = []
    poller = Poller(
        [],
        Settings(),
        kinds=[Kind.AGENTS],
        collectors=FAKES,
        on_snapshot=lambda s: seen.append((s.ref.region, s.items["n"])),
    )
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(0.02)
    assert seen == []  # running, with nothing to poll yet
    poller.add([FakeSession("R2")])  # type: ignore[list-item]
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [("R2", 7)]


class NotHereCollector(Collector):
    kind = Kind.ROUTERS

    async def collect(self, previous: Snapshot[Any] | None) -> Collected:
        raise NotDeployed("network", self.client.region)


async def test_a_kind_whose_service_is_not_deployed_is_complete_and_empty() -> None:
    poller = Poller(
        [FakeSession("R1")],  # type: ignore[list-item]
        Settings(),
        kinds=[Kind.ROUTERS],
        collectors={Kind.ROUTERS: NotHereCollector},
        clock=lambda: 50.0,
    )
    (snap,) = await poller.poll_once()
    assert snap.complete and not snap.stale and snap.error is None and snap.items == {}
    assert snap.notes == ("not deployed: no network service (Neutron) in this region",)
    assert snap.fetched_at == 50.0
    assert poller.failures[(RegionRef("c", "R1"), Kind.ROUTERS)] == 0
