"""Read-only in depth, driven like a user would: random key sequences on a read-only
console over the simulator never make a mutating request reach it.

The property can only be trusted if its inputs reach the actions. So the strategy
mixes single keys with attempts to act (open the selected row, maybe move to another
section or row, `a` and a pick or the command palette, a reason, Enter, then `y`, `n`
or Esc), and paces each key: most wait until the console has settled (a screen pushed
by a worker is up, a drill-down's live sections have loaded), some are pressed at
once, as a hurried user would. The second test proves the reach: the same examples,
with read-only off, change the cloud.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from osconsole.config import CloudSettings, Settings
from osconsole.sim.app import create_app
from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.tui.actions import AskParams, ConfirmPlan, PickAction
from osconsole.tui.app import ConsoleApp
from tests.conftest import SIM_URL, T0
from tests.support.bridge import bridged_config
from tests.support.waiting import wait_for

# Every key that navigates, opens, acts or confirms somewhere in the console.
KEYS = ["a", "y", "enter", "escape", "tab", "down", "up", "1", "2", "3", "4", "f", "e", "k",
        "r", "s", "p", "slash", "x"]  # fmt: skip
# What an operator types in the command palette to find an action of a drill-down.
PALETTE_QUERIES = ["disable", "enable", "lock", "pause", "suspend", "move"]
# A modal of an action flow: the action's worker waits there for the user.
WAITING_FOR_THE_USER = (PickAction, AskParams, ConfirmPlan)
SETTLE_TIMEOUT = 20.0  # seconds: a console that never settles fails the test

Press = tuple[str, bool]  # a key, and whether the user waits for the console to settle


@st.composite
def action_attempt(draw: st.DrawFn) -> list[str]:
    """The keys of one attempt to change something, from the dashboard or a drill-down."""
    keys = ["enter"]  # open the selected row
    keys += draw(st.lists(st.sampled_from(["tab", "down"]), max_size=2))  # a section, a server
    if draw(st.booleans()):
        keys += ["a", *["down"] * draw(st.integers(0, 2)), "enter"]  # pick an action
    else:
        keys += ["ctrl+p", *draw(st.sampled_from(PALETTE_QUERIES)), "enter"]
    keys += draw(st.lists(st.sampled_from("abcdefgh"), max_size=3))  # a reason
    keys += ["enter", draw(st.sampled_from(["y", "y", "n", "escape"]))]  # send it, or not
    return keys


@st.composite
def key_presses(draw: st.DrawFn) -> list[Press]:
    """Single keys and attempts to act, each key waiting for the console or hurried."""
    moves = draw(
        st.lists(
            st.one_of(st.sampled_from(KEYS).map(lambda key: [key]), action_attempt()),
            min_size=1,
            max_size=3,
        )
    )
    pace = st.sampled_from([True, True, True, False])  # mostly wait, sometimes hurry
    return [(key, draw(pace)) for move in moves for key in move]


def mutating(world: Any) -> list[Any]:
    return [
        r for r in world.requests if r.method not in ("GET", "HEAD") and r.service != "identity"
    ]


def settled(app: ConsoleApp) -> bool:
    """Nothing is under way but polling, and an action flow waiting for the user."""
    waiting = any(isinstance(s, WAITING_FOR_THE_USER) for s in app.screen_stack)
    return all(
        worker.is_finished or worker.group == "poller" or (worker.group == "action" and waiting)
        for worker in app.workers
    )


def first_poll_shown(app: ConsoleApp) -> bool:
    arrived, expected = app.state.first_poll_progress
    return (
        bool(expected)
        and arrived >= expected
        and all(app.dashboard.pane(p).shown_keys for p in ("hypervisors", "routers", "liveness"))
    )


async def drive(presses: list[Press], readonly: bool = True) -> list[Any]:
    """Press the keys on a console over a fresh one-region cloud; the mutating requests
    that reached the cloud."""
    world = build_world(size="tiny", regions=1, seed=3, clock=SimClock(start=T0))
    app_under_test = create_app(world)
    transport = httpx.ASGITransport(app=app_under_test)
    with tempfile.TemporaryDirectory() as tmp:
        async with httpx.AsyncClient(transport=transport, base_url=SIM_URL) as sim:
            console = ConsoleApp(
                Settings(clouds=[CloudSettings(name="osconsole-sim")], readonly=readonly),
                openstack_config=bridged_config(world, sim, Path(tmp), SIM_URL),
                transport=httpx.ASGITransport(app=app_under_test),
            )
            async with console.run_test(size=(100, 30)) as pilot:
                await wait_for(lambda: first_poll_shown(console), 30, pilot=pilot)
                for key, wait in presses:
                    await pilot.press(key)
                    if wait:
                        await settle(console)
                await settle(console)  # a late request still lands before counting
    return mutating(world)


async def settle(console: ConsoleApp) -> None:
    """Let the console run (its loop, not only the pilot's screen) until it has settled."""
    await wait_for(lambda: settled(console), SETTLE_TIMEOUT, step=0.01, what="settled")


SEED = 1912  # both tests below draw the same examples, on every run
EXAMPLES = settings(
    max_examples=8,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@seed(SEED)
@EXAMPLES
@given(presses=key_presses())
def test_no_key_sequence_changes_anything_in_read_only(presses: list[Press]) -> None:
    assert asyncio.run(drive(presses)) == []


def test_the_same_key_sequences_do_change_the_cloud_when_not_read_only() -> None:
    """The property above cannot pass for want of reaching the actions: its examples,
    with read-only off, send a change (the first one that does ends the search)."""
    sent: list[Any] = []

    @seed(SEED)
    @EXAMPLES
    @given(presses=key_presses())
    def not_read_only(presses: list[Press]) -> None:
        if not sent:
            sent.extend(asyncio.run(drive(presses, readonly=False)))

    not_read_only()
    assert sent, "no example sent a change with read-only off: the property tests nothing"
