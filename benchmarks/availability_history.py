"""Benchmark: what the availability history costs, in requests and in memory.

1. Requests: every kind of every region of a tiny simulated cloud (in process) is
   polled a few times; the simulator's request log, the clients' own count and the
   history's count must be the same figure: the history is fed by the calls already
   made and sends none of its own.
2. Memory: a day of calls into 3 regions x 5 services (identity, compute, network,
   placement, volume) on a stepped clock, `--rate` calls per second per service, with
   some errors; tracemalloc measures what the histories hold at the end, and once
   more after a second day (it must not grow: fixed rings). Also times a summary.

Usage: python benchmarks/availability_history.py [--rate 0.2] [--polls 3]
Prints figures and ratios; it asserts nothing. The target is <= 20 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from osconsole.availability import DAY, RequestHistory
from osconsole.cloud.connect import connect
from osconsole.config import CloudSettings, Settings
from osconsole.poller import Poller
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from tests.support.bridge import bridged_config

SERVICES = ("identity", "compute", "network", "placement", "volume")
REGIONS = 3


async def requests_cost(polls: int) -> None:
    world = build_world(size="tiny", regions=REGIONS, seed=1, clock=SimClock(time.time()))
    app = create_app(world)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim.test") as sim:
        with tempfile.TemporaryDirectory() as tmp:
            config = bridged_config(world, sim, Path(tmp), "http://sim.test")
            settings = Settings(clouds=[CloudSettings(name="osconsole-sim")])
            connection = await connect(settings, openstack_config=config, transport=transport)
            try:
                for session in connection.regions:
                    session.client.history = RequestHistory()
                sent_before = sum(r.client.requests_sent for r in connection.regions)
                world.requests.clear()
                poller = Poller(connection.regions, settings, unpaced_sweeps=True)
                for _ in range(polls):
                    await poller.poll_once()
                sent = sum(r.client.requests_sent for r in connection.regions) - sent_before
                received = len(world.requests)  # keystone too (its projects listing)
                recorded = sum(
                    w["1h"].requests
                    for r in connection.regions
                    for w in r.client.history.summary().values()
                )
            finally:
                await connection.aclose()
    print(f"requests: {polls} polls of every kind in {REGIONS} regions")
    print(f"  received by the simulator : {received}")
    print(f"  sent by the clients       : {sent}")
    print(f"  recorded in the histories : {recorded}")
    print(f"  extra requests            : {received - sent}  (ratio {received / sent:.3f})")


def memory_cost(rate: float) -> None:
    rng = random.Random(1)
    now = [1_700_000_000.0]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    histories = [RequestHistory(lambda: now[0]) for _ in range(REGIONS)]
    step = 1.0 / rate
    calls = 0
    started = time.perf_counter()
    figures = []
    for day in range(2):
        end = now[0] + DAY
        while now[0] < end:
            for history in histories:
                for service in SERVICES:
                    failed = rng.random() < 0.01
                    status = 503 if failed else 200
                    history.record(service, rng.lognormvariate(4, 0.6), status, None)
                    calls += 1
            now[0] += step
        figures.append((day + 1, tracemalloc.get_traced_memory()[0] - base))
    elapsed = time.perf_counter() - started
    tracemalloc.stop()
    began = time.perf_counter()
    for history in histories:
        history.summary()
    summary_ms = (time.perf_counter() - began) * 1000
    print(f"memory: {REGIONS} regions x {len(SERVICES)} services, {rate:g} calls/s each")
    for day, used in figures:
        print(f"  after day {day}: {used / 1e6:6.2f} MB  (target <= 20 MB)")
    print(f"  calls recorded: {calls} in {elapsed:.1f} s ({calls / elapsed:,.0f}/s traced)")
    print(f"  one summary of every window, all regions: {summary_ms:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.2, help="calls/s per service")
    parser.add_argument("--polls", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    asyncio.run(requests_cost(args.polls))
    memory_cost(args.rate)


if __name__ == "__main__":
    main()
