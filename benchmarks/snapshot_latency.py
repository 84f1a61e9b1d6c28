"""Benchmark (a): time to a complete snapshot of 3 regions 50 ms away.

Compares `osconsole snapshot` (in process, the same code as the console) with
 - the ideal for that latency: identity round trips, one discovery round, then each
   region's requests issued `concurrency` at a time with no server time at all;
 - gathering the same facts with `openstack` CLI commands run one after another, as
   an operator would (one command per list, one per router for its HA state, one per
   project for its network quota).

Usage: python benchmarks/snapshot_latency.py [--latency-ms 50] [--size tiny] [--runs 3]
       [--no-cli]
Prints figures and ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

from openstack.config import OpenStackConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simprocess import clouds_env, control, sim_process

from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind
from osconsole.snapshot import take_snapshot

REGIONS = ["RegionOne", "RegionTwo", "RegionThree"]
OPENSTACK = Path(sys.executable).with_name("openstack")


async def one_snapshot(clouds: Path, settings: Settings) -> tuple[float, int]:
    config = OpenStackConfig(config_files=[str(clouds)], secure_files=[], load_envvars=False)
    started = time.perf_counter()
    outcome = await take_snapshot(settings, kinds=list(Kind), openstack_config=config)
    elapsed = time.perf_counter() - started
    if outcome.exit_code != 0:
        print("snapshot was not complete:", outcome.problems)
    return elapsed, outcome.exit_code


def ideal_seconds(url: str, since: int, latency_s: float, concurrency: int) -> tuple[float, dict]:
    log = control(url, "GET", f"/requests?since={since}&limit=1000000")["requests"]
    identity = sum(1 for r in log if r["service"] == "identity")
    per_region = Counter(r["region"] for r in log if r["region"])
    rounds = identity + 1 + max(math.ceil((n - 3) / concurrency) for n in per_region.values())
    return rounds * latency_s, {"identity": identity, **per_region, "rounds": rounds}


def run_cli(clouds: Path, region: str, args: list[str]) -> tuple[float, str]:
    command = [str(OPENSTACK), "--os-cloud", "osconsole-sim", "--os-region-name", region, *args]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=clouds_env(clouds))
    if result.returncode != 0:
        print(f"  ! {' '.join(args)}: {result.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - started, result.stdout


def cli_gather(clouds: Path) -> tuple[float, int]:
    """Every command an operator would run, one after another; (seconds, commands)."""
    total, count = 0.0, 0
    for region in REGIONS:
        base = [
            ["hypervisor", "list", "--long"],
            ["compute", "service", "list", "--long"],
            ["volume", "service", "list", "--long"],
            ["network", "agent", "list", "--long"],
            ["server", "list", "--all-projects", "--long", "-n"],
            ["port", "list", "--long"],
            ["security", "group", "rule", "list", "--ingress", "--long"],
            ["floating", "ip", "list", "--long"],
            ["project", "list"],
        ]
        for args in base:
            seconds, _ = run_cli(clouds, region, args)
            total, count = total + seconds, count + 1
        seconds, out = run_cli(clouds, region, ["router", "list", "-f", "value", "-c", "ID"])
        total, count = total + seconds, count + 1
        for router in out.split():
            seconds, _ = run_cli(
                clouds, region, ["network", "agent", "list", "--router", router, "--long"]
            )
            total, count = total + seconds, count + 1
        seconds, out = run_cli(clouds, region, ["project", "list", "-f", "value", "-c", "ID"])
        total, count = total + seconds, count + 1
        for project in out.split():
            seconds, _ = run_cli(clouds, region, ["quota", "show", "--network", "--usage", project])
            total, count = total + seconds, count + 1
    return total, count


def main() -> None:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="skip the openstack CLI comparison")
    args = parser.parse_args()
    latency = args.latency_ms / 1000.0
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")])
    sim_args = ["--size", args.size, "--regions", "3", "--no-latency"]
    with sim_process(*sim_args) as (url, clouds):
        for target in [*REGIONS, "identity"]:
            control(url, "PUT", f"/faults/{target}", {"latency_ms": args.latency_ms})
        timings = []
        ideal, detail = 0.0, {}
        for _ in range(args.runs):
            since = control(url, "GET", "/requests?limit=0")["last_seq"]
            elapsed, _code = asyncio.run(one_snapshot(clouds, settings))
            timings.append(elapsed)
            ideal, detail = ideal_seconds(url, since, latency, settings.concurrency)
        measured = statistics.median(timings)
        print(f"size {args.size}, 3 regions, {args.latency_ms:g} ms per request")
        print(f"requests: {detail}")
        print(f"osconsole snapshot: median {measured:.2f} s over {args.runs} runs {timings}")
        print(f"ideal for {detail['rounds']} rounds of {args.latency_ms:g} ms: {ideal:.2f} s")
        print(f"ratio measured / ideal: {measured / ideal:.2f}")
        if args.no_cli or not OPENSTACK.exists():
            return
        cli_seconds, commands = cli_gather(clouds)
        print(f"openstack CLI, {commands} commands one after another: {cli_seconds:.1f} s")
        print(f"ratio CLI / osconsole: {cli_seconds / measured:.1f}x")
        print(
            "note: the CLI cannot read Placement usage without the osc-placement plugin "
            "(not counted), nor allowed address pairs without one `port show` per port."
        )


if __name__ == "__main__":
    main()
