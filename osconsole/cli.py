"""The `osconsole` command and its subcommands.

Exit codes are part of the interface (cron jobs and chat bots use them):
0 success, 1 partial result, 2 bad usage, config or auth; `snapshot` also exits 3
when nothing could be read, and 4 with `--fail-on` when findings at or above that
severity exist (README.md has the table).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from osconsole.config import DAY, ConfigError, check_setting, load_settings
from osconsole.health.findings import Severity
from osconsole.logs import redact_userinfo
from osconsole.model import Kind
from osconsole.sim.generate import REGION_NAMES, SIZES

if TYPE_CHECKING:
    from osconsole.snapshot import SnapshotOutcome

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_FINDINGS = 4  # snapshot --fail-on: findings at or above that severity
FAIL_ON = ("critical", "warning")


def setting(name: str) -> Callable[[str], Any]:
    """An argparse type for a flag that overrides config.yaml's `name`: the very checks
    of the file (finite, in range), worded as argparse words a bad flag."""

    def parse(text: str) -> Any:
        try:
            return check_setting(name, text, f"--{name.replace('_', '-')}")
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(f"{text!r}: {exc.why}") from None

    return parse


def bounded(low: float, high: float, *, integer: bool = False) -> Callable[[str], float]:
    """An argparse type for a number in [low, high] (finite; a whole number if `integer`)."""

    def parse(text: str) -> float:
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise argparse.ArgumentTypeError(f"{text!r}: not {kind}") from None
        if not math.isfinite(value) or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r}: must be from {low:g} to {high:g}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osconsole",
        description="A live console for OpenStack operators.",
    )
    _add_cloud_options(parser)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start a simulated three-region cloud in the background and watch it",
    )
    parser.add_argument(
        "--theme", choices=["dark", "light", "high-contrast"], help="colour theme (config: theme)"
    )
    parser.add_argument(
        "--readonly",
        action="store_true",
        help="no change can be made to any cloud (config: readonly)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_sim(sub)
    _add_snapshot(sub)
    _add_wall(sub)
    return parser


def _add_cloud_options(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """The options every command takes, before or after its name: a subcommand's copy
    has no default, so `osconsole --region X snapshot` keeps X (argparse would reset it)."""
    default = argparse.SUPPRESS if sub else None
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config.yaml (else $OSCONSOLE_CONFIG, XDG)",
    )
    parser.add_argument(
        "--os-cloud",
        metavar="NAME",
        default=default,
        help="clouds.yaml entry to use (overrides the config's clouds)",
    )
    parser.add_argument("--region", metavar="NAME", default=default, help="only this region")


def _add_demo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS,  # `osconsole --demo COMMAND` works the same
        help="watch a simulated three-region cloud (started in the background)",
    )


def _add_snapshot(sub: argparse._SubParsersAction) -> None:
    snap = sub.add_parser(
        "snapshot",
        help="poll every region once and print what was found",
        description=(
            "One complete poll of every region, printed. Exit 0 when complete, 1 when "
            "partial (what failed on stderr), 2 on config or auth errors, 3 when nothing "
            "could be read, 4 with --fail-on when findings at or above that severity exist."
        ),
    )
    _add_cloud_options(snap, sub=True)
    _add_demo(snap)
    snap.add_argument("-f", "--format", choices=["table", "json"], default="table")
    snap.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        help=f"exit {EXIT_FINDINGS} when findings of this severity or worse exist",
    )
    snap.add_argument(
        "--findings-only",
        action="store_true",
        help="print only the findings (table or JSON), not every object",
    )
    snap.add_argument(
        "--kinds",
        metavar="KIND[,KIND]",
        help=f"what to poll (default all): {', '.join(k.value for k in Kind)}",
    )
    snap.add_argument(
        "--sweep-budget",
        type=setting("sweep_budget"),
        metavar="RPS",
        help="pace per-object sweeps (default: unpaced, bounded by concurrency)",
    )


def _add_wall(sub: argparse._SubParsersAction) -> None:
    wall = sub.add_parser(
        "wall",
        help="the read-only NOC wall: region tiles, critical findings, events, rotating panes",
        description=(
            "A read-only screen for a NOC wall: one tile per region, the critical findings, "
            "the latest events and the console's panes in turn. Nothing can be changed from "
            "it, whatever the config says. --serve shows it in browsers (textual-serve, which "
            "has no authentication: put it behind an authenticating proxy)."
        ),
    )
    _add_cloud_options(wall, sub=True)
    wall.add_argument(
        "--rotate",
        type=bounded(0, DAY),
        default=20.0,  # osconsole.tui.wall.ROTATE_DEFAULT (not imported: it loads Textual)
        metavar="SECONDS",
        help="show each pane this long (default 20; at least 3; 0: no rotation)",
    )
    _add_demo(wall)
    wall.add_argument(
        "--serve", action="store_true", help="serve the wall to browsers (textual-serve)"
    )
    wall.add_argument("--host", default="127.0.0.1", help="with --serve: address (127.0.0.1)")
    wall.add_argument(
        "--port",
        type=bounded(1, 65535, integer=True),
        default=8000,
        help="with --serve: port (8000)",
    )
    wall.add_argument(
        "--public-url",
        metavar="URL",
        help="with --serve: the URL browsers use (the proxy's), e.g. https://wall.example.org",
    )


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
    sim.add_argument(
        "--port",
        type=bounded(0, 65535, integer=True),
        default=0,
        help="port to listen on (0: a free one)",
    )
    sim.add_argument(
        "--regions",
        type=bounded(1, len(REGION_NAMES), integer=True),
        default=3,
        help=f"number of regions, 1-{len(REGION_NAMES)} (3)",
    )
    sim.add_argument("--size", choices=list(SIZES), default="small", help="cloud size (small)")
    sim.add_argument("--seed", type=int, default=1, help="seed of the generated world (1)")
    sim.add_argument("--scenario", help="scenario to run on the clock, e.g. demo")
    sim.add_argument(
        "--backend",
        default="ovs",
        help="Neutron backend: ovs (L3 agents) or ovn (gateway chassis), for every region "
        "or one per region, e.g. ovs,ovs,ovn (ovs)",
    )
    sim.add_argument(
        "--no-latency", action="store_true", help="no injected network latency between regions"
    )
    sim.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow --host to be a non-loopback address (the simulator has no real security)",
    )
    sim.add_argument("--clouds-yaml", metavar="PATH", help="also write the clouds.yaml to PATH")


def config_failed(exc: ConfigError) -> int:
    """Every config problem on its own line, then the exit code of a config error."""
    for line in str(exc).splitlines():
        print(f"osconsole: {line}", file=sys.stderr)
    return EXIT_USAGE


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
            backends=args.backend,
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


def parse_kinds(text: str | None) -> list[Kind]:
    if not text:
        return list(Kind)
    kinds = []
    for word in (w.strip() for w in text.split(",") if w.strip()):
        try:
            kinds.append(Kind(word))
        except ValueError:
            known = ", ".join(k.value for k in Kind)
            raise ConfigError("--kinds", word, f"unknown kind (known: {known})") from None
    return kinds


def run_snapshot(args: argparse.Namespace) -> int:
    from osconsole.snapshot import take_snapshot

    try:
        settings = load_settings(args.config)
        kinds = parse_kinds(args.kinds)
    except ConfigError as exc:
        return config_failed(exc)
    for warning in settings.floor_warnings():
        print(f"osconsole: {warning}", file=sys.stderr)
    _log_to_file()
    cloud = None
    openstack_config = None
    os_cloud = args.os_cloud
    if args.demo:
        from osconsole.sim.background import DemoCloudError, start_demo

        print("osconsole: starting the demo cloud (3 simulated regions)...", file=sys.stderr)
        try:
            cloud, settings, openstack_config = start_demo(settings)
        except DemoCloudError as exc:
            print(f"osconsole: {exc}", file=sys.stderr)
            return EXIT_USAGE
        os_cloud = None
    try:
        outcome = asyncio.run(
            take_snapshot(
                settings,
                kinds=kinds,
                os_cloud=os_cloud,
                region=args.region,
                sweep_budget=args.sweep_budget,
                openstack_config=openstack_config,
            )
        )
    finally:
        if cloud is not None:
            cloud.stop()
    if outcome.output:
        print(
            redact_userinfo(snapshot_output(outcome, args.format, findings_only=args.findings_only))
        )
    for problem in outcome.problems:
        print(f"osconsole: {redact_userinfo(problem)}", file=sys.stderr)
    return exit_code(outcome, args.fail_on)


def snapshot_output(outcome: SnapshotOutcome, form: str, *, findings_only: bool) -> str:
    from osconsole.report import findings_document, findings_table, to_json

    if not findings_only:
        return outcome.output if form == "table" else outcome.json_text
    if form == "table":
        return findings_table(outcome.findings)
    errors = outcome.document.get("errors", [])
    return to_json(findings_document(outcome.findings, errors, now=time.time()))


def exit_code(outcome: SnapshotOutcome, fail_on: str | None) -> int:
    """The snapshot's own code, or EXIT_FINDINGS when what was read shows findings at
    or above `fail_on` (a config or auth error, or nothing read, keeps its code)."""
    if fail_on is None or outcome.exit_code not in (EXIT_OK, EXIT_PARTIAL):
        return outcome.exit_code
    threshold = Severity[fail_on.upper()]
    if any(f.severity >= threshold for f in outcome.findings):
        return EXIT_FINDINGS
    return outcome.exit_code


def _log_to_file() -> None:
    """Library warnings (keystoneauth's repeat the auth_url, password and all) go to the
    scrubbed log file, not to stderr; where no file can be written, nowhere."""
    from osconsole.logs import setup_file_logging

    try:
        setup_file_logging()
    except OSError:
        logging.getLogger().addHandler(logging.NullHandler())


def run_wall(args: argparse.Namespace) -> int:
    """The read-only NOC wall, in this terminal or (--serve) in browsers."""
    from osconsole.logs import setup_file_logging
    from osconsole.sim.app import is_loopback
    from osconsole.tui.wall import ROTATE_MIN, run_wall_app, serve_wall

    try:
        settings = load_settings(args.config)
        if args.rotate and args.rotate < ROTATE_MIN:
            raise ConfigError("--rotate", f"{args.rotate:g}", f"at least {ROTATE_MIN:g}s, or 0")
    except ConfigError as exc:
        return config_failed(exc)
    if args.theme:
        settings = settings.model_copy(update={"theme": args.theme})
    log_path = setup_file_logging()
    if args.serve:
        return serve_wall(
            config=args.config,
            os_cloud=args.os_cloud,
            region=args.region,
            rotate=args.rotate,
            theme=args.theme,
            demo=args.demo,
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            loopback=is_loopback(args.host),
        )
    return run_wall_app(
        settings,
        os_cloud=args.os_cloud,
        region=args.region,
        rotate=args.rotate,
        demo=args.demo,
        warnings=settings.floor_warnings(),
        log_path=log_path,
    )


COMMANDS = {"sim": run_sim, "snapshot": run_snapshot, "wall": run_wall}


def run_console(args: argparse.Namespace) -> int:
    """The live console (the default command)."""
    from osconsole.logs import setup_file_logging

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return config_failed(exc)
    if args.theme:
        settings = settings.model_copy(update={"theme": args.theme})
    if args.readonly:
        settings = settings.model_copy(update={"readonly": True})
    log_path = setup_file_logging()
    from osconsole.tui.run import run_console_app

    return run_console_app(
        settings,
        os_cloud=args.os_cloud,
        region=args.region,
        demo=args.demo,
        warnings=settings.floor_warnings(),
        log_path=log_path,
    )


def main(argv: Sequence[str] | None = None) -> int:
    # openstacksdk warns about its own deprecations on import; operators cannot act on them.
    warnings.filterwarnings("ignore", module="openstack")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return run_console(args)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
