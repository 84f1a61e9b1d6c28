"""Benchmark (b): requests per minute in steady state, per kind, at `large` size.

One region of 10,000 hypervisors, 20,000 HA routers and 100,000 servers. Each kind
is polled back to back until it has been complete twice (the first polls are the
cold start: paced sweeps take several polls to read everything once); the last
poll's request count, at the configured interval, gives requests per minute. Sweeps
are paced by the configured budget (the count per poll, not the waiting, is what
matters here, so the bucket is given a large burst).

The comparison is one-request-per-object polling at the same intervals, as
openstack-exporter does: every list, plus Placement inventories and usages per
hypervisor, `l3-agents` per router and quota details per project, on every poll.

Then the same region on ML2/OVN (gateway chassis instead of L3 agents): the routers
and agents kinds, beside the ML2/OVS figures, and how much of the first picture one
poll gives (every router's active gateway chassis comes from one paged listing of
the gateway ports; the candidate chassis are swept within the budget like the L3
agents' bindings).

Usage: python benchmarks/steady_state_load.py [--size large] [--sweep-budget 10]
                                              [--backends ovs,ovn]
Prints figures and ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
import warnings
from pathlib import Path

from openstack.config import OpenStackConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simprocess import control, sim_process

from osconsole.cloud.connect import connect
from osconsole.collect.base import SweepBudget
from osconsole.collect.registry import COLLECTORS
from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind, Snapshot

PAGE = 1000
MAX_WARMUP_POLLS = 200


def pages(count: int) -> int:
    return math.ceil(count / PAGE) or 1


def naive_per_poll(counts: dict[str, int]) -> dict[Kind, int]:
    """One request per object, every poll (lists paged at 1000 like ours)."""
    return {
        Kind.HYPERVISORS: pages(counts["hypervisors"]) + 2 * counts["hypervisors"],
        Kind.SERVICES: 2,
        Kind.AGENTS: pages(counts["agents"]),
        Kind.ROUTERS: pages(counts["routers"]) + counts["routers"],
        Kind.TENANTS: pages(counts["servers"])
        + pages(counts["ports"])
        + 2
        + pages(counts["floating_ips"])
        + counts["projects"],
    }


OVN_KINDS = [Kind.AGENTS, Kind.ROUTERS]  # the other kinds do not depend on the backend


async def measure(
    clouds: Path, settings: Settings, polls: int, kinds: list[Kind] | None = None
) -> tuple[dict[Kind, list[tuple]], dict[str, int]]:
    config = OpenStackConfig(config_files=[str(clouds)], secure_files=[], load_envvars=False)
    connection = await connect(settings, openstack_config=config)
    assert connection.regions, connection.errors
    client = connection.regions[0].client
    results: dict[Kind, list[tuple]] = {}
    first_picture: dict[str, int] = {}
    try:
        for kind in kinds or list(Kind):
            budget = SweepBudget(settings.sweep_budget, burst=1e9)
            collector = COLLECTORS[kind](client, settings, budget)
            previous = None
            # Paced sweeps need several polls before the first complete picture; the
            # steady state is measured after that.
            steady_polls = 0
            for _ in range(MAX_WARMUP_POLLS):
                started = time.perf_counter()
                previous = await collector.poll(previous)
                elapsed = time.perf_counter() - started
                results.setdefault(kind, []).append(
                    (previous.requests, elapsed, previous.complete, len(previous.items))
                )
                if kind == Kind.ROUTERS and not first_picture:
                    first_picture = _first_picture(previous)
                steady_polls += previous.complete
                if steady_polls >= polls:
                    break
    finally:
        await connection.aclose()
    return results, first_picture


def _first_picture(snapshot: Snapshot) -> dict[str, int]:
    """What the first routers poll knew: gateways placed (OVN), candidates/bindings swept."""
    routers = list(snapshot.items.values())
    return {
        "routers": len(routers),
        "requests": snapshot.requests,
        "gateways": sum(1 for r in routers if r.gateway is not None),
        "active_gateways": sum(1 for r in routers if r.gateway is not None and r.gateway.active),
        "swept": sum(1 for r in routers if r.bindings is not None),
    }


def run_backend(
    backend: str, args: argparse.Namespace, settings: Settings, kinds: list[Kind] | None
) -> tuple[dict, dict[Kind, list[tuple]], dict[str, int]]:
    sim_args = ["--size", args.size, "--regions", "1", "--no-latency", "--backend", backend]
    with sim_process(*sim_args, timeout=300) as (url, clouds):
        state = control(url, "GET", "/state")
        counts = dict(next(iter(state["regions"].values())))
        counts["projects"] = state["projects"]
        print(f"{backend}: size {args.size}: {counts}; sweep budget {args.sweep_budget:g} req/s")
        results, first = asyncio.run(measure(clouds, settings, args.polls, kinds))
    return counts, results, first


def print_table(
    settings: Settings, counts: dict, results: dict[Kind, list[tuple]], label: str
) -> None:
    naive = naive_per_poll(counts)
    total_ours = total_naive = 0.0
    print(f"{label:12} {'interval':>8} {'first':>7} {'steady':>7} {'ours/min':>9} "
          f"{'naive/min':>10} {'ratio':>7}  steady poll time")  # fmt: skip
    for kind, runs in results.items():
        interval = settings.intervals.of(kind)
        cold, steady = runs[0][0], runs[-1][0]
        ours = steady * 60 / interval
        theirs = naive[kind] * 60 / interval
        total_ours += ours
        total_naive += theirs
        print(
            f"{kind.value:12} {interval:>7.0f}s {cold:>7} {steady:>7} {ours:>9.0f} "
            f"{theirs:>10.0f} {theirs / ours:>6.1f}x  {runs[-1][1]:.1f}s "
            f"(first {runs[0][1]:.1f}s, {len(runs)} polls, {runs[-1][3]} items, "
            f"complete={runs[-1][2]})"
        )
    print(f"{'all':12} {'':>8} {'':>7} {'':>7} {total_ours:>9.0f} {total_naive:>10.0f} "
          f"{total_naive / total_ours:>6.1f}x")  # fmt: skip


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large")
    parser.add_argument("--sweep-budget", type=float, default=10.0)
    parser.add_argument(
        "--polls", type=int, default=2, help="complete polls before the one measured"
    )
    parser.add_argument(
        "--backends", default="ovs,ovn", help="Neutron backends to measure, in turn (ovs,ovn)"
    )
    args = parser.parse_args()
    settings = Settings(
        clouds=[CloudSettings(name="osconsole-sim")],
        sweep_budget=args.sweep_budget,
        request_timeout=120,
    )
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        kinds = OVN_KINDS if backend == "ovn" else None
        counts, results, first = run_backend(backend, args, settings, kinds)
        print_table(settings, counts, results, f"[{backend}] kind")
        if backend == "ovn":
            print(
                f"first routers poll on ovn: {first['requests']} requests; gateway chassis "
                f"known for {first['gateways']} of {first['routers']} routers "
                f"({first['active_gateways']} active), candidates swept for {first['swept']}"
            )
        print()


if __name__ == "__main__":
    main()
