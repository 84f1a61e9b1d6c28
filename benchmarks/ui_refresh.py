"""Benchmark (issue 4, point 7): one live refresh of the console at 10,000 hypervisors
and 20,000 HA routers (3 regions), headless at 200x50 (the 2x2 grid).

The snapshots are model objects built here (no simulator, no network), fed to a
ConsoleApp that does not poll (poll=False), the way its poller would: one
SnapshotArrived per (region, kind). After the first poll is on screen, each later
poll changes 1% of the rows in place (more cells, a failover; with --severe some of
them also change severity, so rows move to the top) and is measured:

 (a) latency: from posting the snapshots to ViewsApplied and the next frame written.
     The App repaints at once after a quiet spell (the snapshots posted together are
     one repaint) and waits at most REPAINT_DELAY (0.2 s) after the previous repaint
     began; each measured poll comes after a quiet spell, so the coalescing wait is
     about nothing. The figure is also given without that wait, and split into the
     view build (a worker thread), the panes' apply (on the event loop) and the frame.
     When no visible line changed (the changed rows are all scrolled out of sight)
     no frame is due: the latency then ends at ViewsApplied.
 (b) the longest event-loop stall during that refresh: a task sleeping 1 ms in a
     loop records how late it wakes up (the App runs in this same loop).
 (c) the bytes written to the terminal for that refresh.

Where the bytes are counted: Textual's HeadlessDriver.write() is a no-op, and
App._display() does not even call it when the App is headless (`not self.is_headless`
guards the write), so wrapping the driver counts nothing (the script checks and
prints how often it was called). Frames are therefore counted one step earlier, in
App._display(): the CompositorUpdate it receives is rendered exactly as a real
terminal's _display() renders it (render_segments(console) + the cursor move,
between the synchronized-output markers), and those bytes are counted. The colour
system decides the length of every style escape; it is set with --colors (the
default, 256, is tmux's and the on-call target; truecolor is longer).

The App's one-second tick (ages move) is held during the measurement so that only
the refresh is counted; one tick is measured on its own afterwards. The App's clock
stands still by default (every poll is measured at the same time); --clock-step S
moves it S seconds per poll, and the polls' fetch times with it, as a real poller
would: ages in cells (the routers' Checked column) then change as well. Unchanged
items are the same objects from poll to poll by default; --new-objects makes every
item of every poll a new (equal) object, as a real poller parsing fresh JSON does.
Garbage collections during each refresh are listed too (gc.callbacks): they were a
large part of the stalls. --profile runs pyinstrument on the event loop's thread for the last
poll (the views are built in a worker thread, timed alone before the App starts).

Usage: python benchmarks/ui_refresh.py [--colors 256|truecolor] [--changed 0.01]
       [--severe 0.1] [--clock-step 0] [--new-objects] [--runs 3] [--profile]
Prints figures and ratios; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import gc
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

HYPERVISORS = 10_000
ROUTERS = 20_000
REGIONS = ("RegionOne", "RegionTwo", "RegionThree")
CLOUD = "bench"
NOW = 1_700_000_000.0
SIZE = (200, 50)
TARGET_LATENCY_MS = 50.0
TARGET_STALL_MS = 50.0
TARGET_BYTES = 8 * 1024
SETTLE_S = 0.15  # no new frame for this long: the refresh is over


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--colors", default="256", choices=["256", "truecolor", "standard"])
    parser.add_argument("--changed", type=float, default=0.01, help="share of rows changed")
    parser.add_argument(
        "--severe",
        type=float,
        default=0.0,
        help="share of the changed rows that also change severity (so rows move)",
    )
    parser.add_argument(
        "--clock-step",
        type=float,
        default=0.0,
        help="seconds the clock moves per poll (0: every poll at the same time)",
    )
    parser.add_argument(
        "--new-objects",
        action="store_true",
        help="every item of every poll a new object (equal when unchanged)",
    )
    parser.add_argument("--runs", type=int, default=3, help="second polls measured")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the last run")
    return parser.parse_args()


# -- the snapshots -----------------------------------------------------------------------------


def build_polls(
    changed: float,
    severe: float,
    runs: int,
    step: float = 0.0,
    new_objects: bool = False,
    seed: int = 1,
) -> tuple[list, list[list]]:
    """The first poll, then `runs` + 1 polls each changing `changed` of the rows of the
    one before (a new set each time), `severe` of those changing severity; poll n is
    fetched `step` * n seconds after the first; with `new_objects`, every item of a
    poll is a new object."""
    from osconsole.model import Kind, RegionRef, Snapshot

    rng = random.Random(seed)
    first = []
    for index, region in enumerate(REGIONS):
        ref = RegionRef(CLOUD, region)
        hypervisors = {
            h.id: h for h in (hypervisor(region, n, rng) for n in share(HYPERVISORS, index))
        }
        routers = {r.id: r for r in (router(region, n, rng) for n in share(ROUTERS, index))}
        first.append(snapshot(Snapshot, ref, Kind.HYPERVISORS, hypervisors))
        first.append(snapshot(Snapshot, ref, Kind.ROUTERS, routers))
    polls = []
    previous = first
    for n in range(1, runs + 2):
        previous = [changed_snapshot(s, changed, severe, rng, NOW + n * step) for s in previous]
        polls.append([renewed(s) for s in previous] if new_objects else previous)
    return first, polls


def share(total: int, index: int) -> range:
    """This region's part of `total` (3 near-equal parts)."""
    size = total // len(REGIONS) + (index < total % len(REGIONS))
    return range(size)


def snapshot(cls: Any, ref: Any, kind: Any, items: dict) -> Any:
    return cls(
        ref=ref,
        kind=kind,
        items=cls.freeze(items),
        fetched_at=NOW,
        server_time=NOW,
        duration_ms=800.0,
        requests=12,
    )


def hypervisor(region: str, n: int, rng: random.Random) -> Any:
    from osconsole.model import Capacity, Hypervisor

    host = f"{region.lower()}-cmp{n:05d}"
    vcpus = rng.choice((64, 128, 256))
    return Hypervisor(
        id=f"{region}-hv-{n:05d}",
        hostname=host,
        state="up",
        status="enabled",
        host_ip=f"10.{n // 65536}.{n // 256 % 256}.{n % 256}",
        hypervisor_type="QEMU",
        service_id=f"{region}-svc-{n}",
        service_host=host,
        running_vms=rng.randint(0, 40),
        vcpu=Capacity(vcpus, rng.randint(0, vcpus * 3), allocation_ratio=4.0),
        memory_mb=Capacity(512 * 1024, rng.randint(0, 400 * 1024), reserved=512),
        disk_gb=Capacity(4000, rng.randint(0, 3000)),
        usage_source="placement",
    )


def router(region: str, n: int, rng: random.Random) -> Any:
    from osconsole.model import Router, RouterBinding

    hosts = rng.sample([f"{region.lower()}-net{i:03d}" for i in range(1, 31)], 3)
    bindings = tuple(
        RouterBinding(f"agent-{h}", h, "active" if i == 0 else "standby", True, True)
        for i, h in enumerate(hosts)
    )
    return Router(
        id=f"{region}-router-{n:05d}",
        name=f"project{n % 2000:04d}-router-{n:05d}",
        project_id=f"project-{n % 2000:04d}",
        status="ACTIVE",
        admin_state_up=True,
        ha=True,
        distributed=False,
        replica_hosts=tuple(hosts),
        bindings=bindings,
        bindings_checked_at=NOW - rng.randint(0, 600),
    )


def changed_snapshot(
    snap: Any, changed: float, severe: float, rng: random.Random, at: float = NOW
) -> Any:
    """`snap` with `changed` of its items changed, `severe` of those changing severity,
    fetched `at` (on both clocks)."""
    items = dict(snap.items)
    for key in rng.sample(sorted(items), round(len(items) * changed)):
        items[key] = changed_item(items[key], rng.random() < severe)
    return dataclasses.replace(snap, items=snap.freeze(items), fetched_at=at, server_time=at)


def renewed(snap: Any) -> Any:
    """`snap` with every item a new object, equal to the old one (nested values too)."""
    items = {key: copy.deepcopy(item) for key, item in snap.items.items()}
    return dataclasses.replace(snap, items=snap.freeze(items))


def changed_item(item: Any, severe: bool) -> Any:
    from osconsole.model import Hypervisor

    if isinstance(item, Hypervisor):
        if severe:  # the compute service goes down (or comes back)
            return dataclasses.replace(item, state="down" if item.state == "up" else "up")
        vcpu = item.vcpu
        return dataclasses.replace(
            item,
            running_vms=(item.running_vms or 0) + 1,
            vcpu=dataclasses.replace(vcpu, used=vcpu.used + 2),
        )
    bindings = item.bindings
    if severe:  # split brain (or healed)
        split = bindings[1].ha_state == "active"
        state = "standby" if split else "active"
        bindings = (bindings[0], dataclasses.replace(bindings[1], ha_state=state), *bindings[2:])
    else:  # a failover: the active moves to the next replica
        bindings = (*bindings[1:], bindings[0])
        bindings = tuple(
            dataclasses.replace(b, ha_state="active" if i == 0 else "standby")
            for i, b in enumerate(bindings)
        )
    return dataclasses.replace(item, bindings=bindings)


# -- instruments --------------------------------------------------------------------------------


@dataclass
class Refresh:
    """What one refresh cost, in perf_counter seconds and bytes."""

    posted: float = 0.0
    timer_fired: float = 0.0  # the coalescing timer ran _repaint_now
    views_built: float = 0.0  # the worker thread returned the views (first show_view)
    applied: float = 0.0  # _repaint_now finished (every pane applied)
    views_applied: float = 0.0  # the ViewsApplied message was handled
    first_frame: float = 0.0  # the first frame written after the apply
    frames: list[tuple[float, int, float]] = field(default_factory=list)  # (at, bytes, s)
    stall: float = 0.0
    stall_at: float = 0.0
    gc_pauses: list[tuple[int, float, float]] = field(default_factory=list)  # (gen, at, s)

    @property
    def done(self) -> float:
        return max(self.views_applied, self.first_frame)

    @property
    def bytes(self) -> int:
        return sum(n for _, n, _ in self.frames)

    def ms(self, start: float, end: float) -> float:
        return (end - start) * 1000


class Meter:
    """Instruments a ConsoleApp without changing what it does."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.current = Refresh()
        self.views_applied = asyncio.Event()
        self.driver_writes = 0
        self._tick_held = True
        self._wrap_display()
        self._wrap_repaint()
        self._hold_tick()
        app.views_applied_hook = self._on_views_applied

    def _on_views_applied(self) -> None:
        self.current.views_applied = time.perf_counter()
        self.views_applied.set()

    def _wrap_display(self) -> None:
        """Render each frame as a real terminal's App._display would, and count it."""
        from rich.control import Control
        from textual._compositor import CompositorUpdate
        from textual.app import SYNC_END, SYNC_START

        app = self.app
        original = app._display
        sync = len(SYNC_START) + len(SYNC_END)

        def display(screen: Any, renderable: Any) -> None:
            if renderable is not None and not app._batch_count:
                started = time.perf_counter()
                if isinstance(renderable, CompositorUpdate):
                    cursor = screen.outer_size.clamp_offset(app.cursor_position)
                    data = renderable.render_segments(app.console)
                    data += Control.move_to(*cursor).segment.text
                else:
                    data = app.console._render_buffer(app.console.render(renderable))
                size = len(data.encode("utf-8")) + sync
                if size > sync:
                    ended = time.perf_counter()
                    self.current.frames.append((ended, size, ended - started))
                    if self.current.applied and not self.current.first_frame:
                        self.current.first_frame = ended
            original(screen, renderable)

        app._display = display

    def _wrap_repaint(self) -> None:
        app = self.app
        repaint_now = app._repaint_now

        async def timed_repaint() -> None:
            self.current.timer_fired = time.perf_counter()
            screen = app.dashboard
            show_view = screen.show_view

            def first_show(name: str, view: Any) -> None:
                if not self.current.views_built:
                    self.current.views_built = time.perf_counter()
                show_view(name, view)

            screen.show_view = first_show
            try:
                await repaint_now()
            finally:
                del screen.show_view
            self.current.applied = time.perf_counter()

        app._repaint_now = timed_repaint

    def _hold_tick(self) -> None:
        app = self.app
        self.tick = app._tick
        app._tick = lambda: None if self._tick_held else self.tick()

    def count_driver_writes(self) -> None:
        driver = self.app._driver
        write = driver.write

        def counted(data: str) -> None:
            self.driver_writes += 1
            write(data)

        driver.write = counted

    async def refresh(self, snapshots: list, pilot: Any) -> Refresh:
        """Post `snapshots` as the poller would, and wait until the frame is written."""
        from osconsole.tui.messages import SnapshotArrived

        await pilot.pause()
        self.current = Refresh()
        self.views_applied.clear()
        stop = asyncio.Event()
        monitor = asyncio.create_task(stalls(stop, self.current))
        await asyncio.sleep(0.01)
        self.current.posted = time.perf_counter()
        with gc_timed(self.current):
            for snap in snapshots:
                self.app.post_message(SnapshotArrived(snap))
            await self.views_applied.wait()
            await first_frame(self.current)
            await settle(self.current)
        stop.set()
        await monitor
        return self.current

    async def one_tick(self, pilot: Any) -> Refresh:
        """The App's every-second tick on its own (ages move by one second)."""
        await pilot.pause()
        self.current = Refresh(posted=time.perf_counter())
        self.current.applied = self.current.posted
        self.tick()
        await settle(self.current)
        return self.current


async def idle_stall(seconds: float = 0.3) -> float:
    record = Refresh()
    stop = asyncio.Event()
    monitor = asyncio.create_task(stalls(stop, record))
    await asyncio.sleep(seconds)
    stop.set()
    await monitor
    return record.stall


@contextmanager
def gc_timed(record: Refresh) -> Iterator[None]:
    """Record every garbage collection (generation, start, duration) meanwhile."""
    started: list[float] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            at = started.pop()
            record.gc_pauses.append((info["generation"], at, time.perf_counter() - at))

    gc.callbacks.append(callback)
    try:
        yield
    finally:
        gc.callbacks.remove(callback)


async def stalls(stop: asyncio.Event, record: Refresh) -> None:
    """The longest the loop kept a 1 ms sleep waiting beyond its 1 ms."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.001)
        late = time.perf_counter() - started - 0.001
        if late > record.stall:
            record.stall, record.stall_at = late, started


async def first_frame(record: Refresh) -> None:
    """Wait for the first frame after the apply; none within SETTLE_S: nothing visible
    changed (the changed rows are all scrolled out of sight), so no frame is due."""
    while not record.first_frame:
        if record.applied and time.perf_counter() - record.applied > SETTLE_S:
            return
        await asyncio.sleep(0.001)


async def settle(record: Refresh) -> None:
    """Wait until no frame has been written for SETTLE_S."""
    while True:
        last = record.frames[-1][0] if record.frames else record.posted
        if time.perf_counter() - last > SETTLE_S:
            return
        await asyncio.sleep(0.01)


# -- the run ------------------------------------------------------------------------------------


def metered_app_class() -> type:
    from osconsole.tui.app import ConsoleApp
    from osconsole.tui.messages import ViewsApplied

    class MeteredConsole(ConsoleApp):
        """The console, telling the meter when ViewsApplied is handled."""

        views_applied_hook: Callable[[], None] | None = None

        def on_views_applied(self, message: ViewsApplied) -> None:
            if self.views_applied_hook is not None:
                self.views_applied_hook()

    return MeteredConsole


async def measure(args: argparse.Namespace) -> None:
    from osconsole.config import Settings
    from osconsole.model import Kind, RegionRef
    from osconsole.tui.polling import REPAINT_DELAY

    started = time.perf_counter()
    step = args.clock_step
    first, polls = build_polls(args.changed, args.severe, args.runs, step, args.new_objects)
    rows = sum(len(s.items) for s in first)
    changed = sum(
        1 for a, b in zip(first, polls[0], strict=True) for k in a.items if a.items[k] != b.items[k]
    )
    print(
        f"{HYPERVISORS:,} hypervisors + {ROUTERS:,} routers in {len(REGIONS)} regions "
        f"({rows:,} rows), built in {time.perf_counter() - started:.1f}s; each later poll "
        f"changes {changed:,} rows ({changed / rows:.1%}, {args.severe:.0%} of them changing "
        f"severity); terminal {SIZE[0]}x{SIZE[1]}, "
        f"colours {os.environ['TEXTUAL_COLOR_SYSTEM']}; the clock moves {step:g} s per poll; "
        f"{'every item a new object' if args.new_objects else 'unchanged items kept'}"
    )
    views_alone(first, polls[0], step)
    clock_now = [NOW + 5]
    app = metered_app_class()(Settings(), poll=False, clock=lambda: clock_now[0])
    meter = Meter(app)
    profiler = None
    async with app.run_test(size=SIZE) as pilot:
        meter.count_driver_writes()
        app.state.expect(
            [RegionRef(CLOUD, r) for r in REGIONS], kinds=(Kind.HYPERVISORS, Kind.ROUTERS)
        )
        noise = await idle_stall() * 1000
        print(f"longest loop stall while idle (the monitor's own noise): {noise:.1f} ms")
        cold = await meter.refresh(first, pilot)
        report("first poll (cold)", cold, REPAINT_DELAY)
        warm: list[Refresh] = []
        for i, poll in enumerate(polls[1:], 1):
            if args.profile and i == len(polls) - 1:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005, async_mode="disabled")
                profiler.start()
            clock_now[0] = NOW + 5 + (i + 1) * step  # polls[i] was fetched at NOW + (i+1)*step
            warm.append(await meter.refresh(poll, pilot))
            if profiler is not None:
                profiler.stop()
            report(f"poll {i} ({args.changed:.0%} changed)", warm[-1], REPAINT_DELAY)
        app._tick = meter.tick
        clock_now[0] += 1
        tick = await meter.one_tick(pilot)
        print(
            f"one 1-second tick on its own (ages move): {tick.bytes:,} bytes in "
            f"{len(tick.frames)} frame(s)"
        )
        print(f"HeadlessDriver.write() calls during all of this: {meter.driver_writes}")
    summary(warm, REPAINT_DELAY)
    if profiler is not None:
        print(
            profiler.output_text(
                unicode=False,
                color=False,
                show_all=True,
                processor_options={"filter_threshold": 0.02},
            )
        )


def views_alone(first: list, second: list, step: float) -> None:
    """The views the App builds in its worker thread, built here with nothing else running:
    the first poll's, then (timed) the next poll's, which LiveState builds incrementally."""
    from osconsole.config import Settings
    from osconsole.live import LiveState

    state = LiveState(Settings())
    for snap in first:
        state.apply(snap)
    state.views(("hypervisors", "routers"), NOW + 5)
    for snap in second:
        state.apply(snap)
    timings = {}
    for pane in ("hypervisors", "routers"):
        started = time.perf_counter()
        state.view(pane, NOW + 5 + step)
        timings[pane] = (time.perf_counter() - started) * 1000
    print(
        "views of the next poll built alone (no App): "
        + ", ".join(f"{pane} {ms:.0f} ms" for pane, ms in timings.items())
    )


def report(label: str, r: Refresh, delay: float) -> None:
    print(
        f"{label}: posted -> ViewsApplied+frame {r.ms(r.posted, r.done):.0f} ms "
        f"(coalescing wait {r.ms(r.posted, r.timer_fired):.0f}, views in thread "
        f"{r.ms(r.timer_fired, r.views_built):.0f}, panes applied on the loop "
        f"{r.ms(r.views_built, r.applied):.0f}, to the frame "
        f"{frame_text(r)}); longest stall {r.stall * 1000:.0f} ms "
        f"at +{r.ms(r.posted, r.stall_at):.0f} ms; {r.bytes:,} bytes in {len(r.frames)} frames; "
        f"{gc_text(r)}"
    )


def frame_text(r: Refresh) -> str:
    return f"{r.ms(r.applied, r.first_frame):.0f}" if r.first_frame else "none due"


def gc_text(r: Refresh) -> str:
    """The garbage collections of a refresh: '2 GCs, 140 ms, longest gen2 120 ms at +530'."""
    if not r.gc_pauses:
        return "no GC"
    gen, at, longest = max(r.gc_pauses, key=lambda p: p[2])
    total = sum(p[2] for p in r.gc_pauses) * 1000
    return (
        f"{len(r.gc_pauses)} GCs {total:.0f} ms, longest gen{gen} {longest * 1000:.0f} ms "
        f"at +{r.ms(r.posted, at):.0f} ms"
    )


def summary(runs: list[Refresh], delay: float) -> None:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    latency = median([r.ms(r.posted, r.done) for r in runs])
    work = median([r.ms(r.timer_fired, r.done) for r in runs])
    stall = median([r.stall * 1000 for r in runs])
    sent = median([r.bytes for r in runs])
    print(f"\nmedian of {len(runs)} polls      figure     target   figure/target")
    rows = [
        ("(a) latency, posted->frame", latency, TARGET_LATENCY_MS, "ms"),
        ("(a) without the coalescing wait", work, TARGET_LATENCY_MS, "ms"),
        ("(b) longest loop stall", stall, TARGET_STALL_MS, "ms"),
        ("(c) bytes to the terminal", sent / 1024, TARGET_BYTES / 1024, "KB"),
    ]
    for name, figure, target, unit in rows:
        print(f"{name:30} {figure:7.1f} {unit:2} {target:6.0f} {unit:2} {figure / target:8.2f}x")


def main() -> None:
    args = parse_args()
    # Textual reads the colour system when it is imported: set it before any import.
    os.environ["TEXTUAL_COLOR_SYSTEM"] = {"256": "256", "truecolor": "truecolor"}.get(
        args.colors, "standard"
    )
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
