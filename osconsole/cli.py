"""The `osconsole` command and its subcommands.

Exit codes are part of the interface (cron jobs and chat bots use them):
0 success, 1 partial result, 2 bad usage, config or auth.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from osconsole.sim.generate import REGION_NAMES, SIZES

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osconsole",
        description="A live console for OpenStack operators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_sim(sub)
    return parser


def _add_sim(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser(
        "sim",
        help="serve a simulated multi-region OpenStack cloud",
        description=(
            "Serve a simulated OpenStack cloud (Keystone, Nova, Neutron, Placement, Cinder) "
            "and print a clouds.yaml entry for it. Listens on loopback unless told otherwise."
        ),
    )
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    sim.add_argument("--port", type=int, default=0, help="port to listen on (0: a free one)")
    sim.add_argument(
        "--regions", type=int, default=3, help=f"number of regions, 1-{len(REGION_NAMES)} (3)"
    )
    sim.add_argument("--size", choices=list(SIZES), default="small", help="cloud size (small)")
    sim.add_argument("--seed", type=int, default=1, help="seed of the generated world (1)")
    sim.add_argument("--scenario", help="scenario to run on the clock, e.g. demo")
    sim.add_argument(
        "--no-latency", action="store_true", help="no injected network latency between regions"
    )
    sim.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow --host to be a non-loopback address (the simulator has no real security)",
    )
    sim.add_argument("--clouds-yaml", metavar="PATH", help="also write the clouds.yaml to PATH")


def run_sim(args: argparse.Namespace) -> int:
    from osconsole.sim.app import is_loopback
    from osconsole.sim.clock import SimClock
    from osconsole.sim.generate import build_world
    from osconsole.sim.serve import bind_socket, clouds_yaml_text, serve_forever, url_for

    if not is_loopback(args.host) and not args.allow_non_loopback:
        print(
            f"osconsole sim: refusing to listen on {args.host}: not a loopback address "
            "(add --allow-non-loopback if you really mean it)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    started = time.perf_counter()
    try:
        world = build_world(
            size=args.size,
            regions=args.regions,
            seed=args.seed,
            clock=SimClock(running=True),
            latency=not args.no_latency,
        )
        if args.scenario:
            from osconsole.sim.scenarios import start_scenario

            start_scenario(world, args.scenario)
        sock = bind_socket(args.host, args.port)
    except (ValueError, KeyError, OSError) as exc:
        print(f"osconsole sim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    host, port = sock.getsockname()[:2]
    url = url_for(host, port)
    text = clouds_yaml_text(world, url)
    if args.clouds_yaml:
        with open(args.clouds_yaml, "w", encoding="utf-8") as out:
            out.write(text)
    first = next(iter(world.regions.values()))
    print(
        f"# osconsole sim: {len(world.regions)} region(s), size {args.size}, seed {args.seed}; "
        f"{len(first.hypervisors)} hypervisors, {len(first.routers)} routers and "
        f"{len(first.servers)} servers in {first.name}; generated in "
        f"{time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    print(f"# serving {url} (Ctrl-C to stop); control API at {url}/_sim/state", file=sys.stderr)
    print("# clouds.yaml entry (e.g. save as ~/.config/openstack/clouds.yaml):", file=sys.stderr)
    print(text, flush=True)
    serve_forever(world, sock)
    return EXIT_OK


COMMANDS = {"sim": run_sim}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
