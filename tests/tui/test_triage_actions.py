"""Actions an operator completes from the keyboard in triage: what reaches the
simulator is the proof (its request log), not what the screens say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from textual.pilot import Pilot

from osconsole.model import Kind
from osconsole.sim.neutron import _unplug_ha_port
from osconsole.sim.world import L3_AGENT, World
from osconsole.tui.actions import AskParams, ConfirmPlan, PickAction
from osconsole.tui.app import ConsoleApp
from osconsole.tui.drill import DrillScreen, open_drill_down
from osconsole.views import Target
from tests.tui.fixtures import wait_for
from tests.tui.test_actions_ui import _ref, make_app, mutating, open_hypervisor, state_dir

__all__ = ["state_dir"]  # the fixture, used by name


def free_one_agent(world: World) -> tuple[Any, Any, Any]:
    """RegionOne's first router loses its replica on the last L3 agent: that agent is
    then the one free destination. Returns (router, first agent, free agent)."""
    region = world.regions["RegionOne"]
    l3 = sorted((a for a in region.agents if a.agent_type == L3_AGENT), key=lambda a: a.host)
    router = next(r for r in region.routers if r.ha and l3[2].id in r.bindings)
    del router.bindings[l3[2].id]
    _unplug_ha_port(region, router, l3[2])
    return router, l3[0], l3[2]


async def open_router(pilot: Pilot[Any], app: ConsoleApp, router_id: str) -> None:
    def swept() -> bool:
        snap = app.state.snapshots.get((_ref(app), Kind.ROUTERS))
        item = None if snap is None else snap.items.get(router_id)
        return item is not None and item.bindings is not None

    await wait_for(pilot, lambda: app.connection is not None)
    await wait_for(pilot, swept, what="the router's agents swept")
    await wait_for(pilot, lambda: (_ref(app), Kind.AGENTS) in app.state.snapshots)
    open_drill_down(app, Target(_ref(app), Kind.ROUTERS, router_id))
    await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))


async def pick(pilot: Pilot[Any], app: ConsoleApp, name: str) -> None:
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, PickAction))
    options = app.screen.query_one("#actions")
    names = [options.get_option_at_index(i).id for i in range(options.option_count)]
    assert name in names, names
    options.highlighted = names.index(name)
    await pilot.press("enter")


async def test_the_router_move_form_completes_from_the_keyboard_and_reaches_neutron(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    router, source, destination = free_one_agent(world)
    app = make_app(world, sim, sim_app, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_router(pilot, app, router.id)
        await pick(pilot, app, "router-move")
        await wait_for(pilot, lambda: isinstance(app.screen, AskParams))
        # From: open the list, go down past the blank entry to the first agent, choose.
        await pilot.press("enter", "down", "enter")
        # The only free agent is chosen already; focus moved on: Enter on Continue.
        await wait_for(pilot, lambda: getattr(app.focused, "id", None) == "continue")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPlan))
        assert not mutating(world)  # nothing before the confirmation
        await pilot.press("y")
        await wait_for(pilot, lambda: len(mutating(world)) == 2, what="both requests sent")
    add, remove = mutating(world)
    assert add.method == "POST" and add.status == 201
    assert add.path == f"/RegionOne/network/v2.0/agents/{destination.id}/l3-routers"
    assert remove.method == "DELETE" and remove.status == 204
    assert remove.path == f"/RegionOne/network/v2.0/agents/{source.id}/l3-routers/{router.id}"
    assert set(router.bindings) == {
        a.id for a in world.regions["RegionOne"].agents if a.agent_type == L3_AGENT
    } - {source.id}


async def test_no_free_agent_says_why_and_opens_no_form(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    region = world.regions["RegionOne"]
    router = next(r for r in region.routers if r.ha)  # on every L3 agent of the region
    app = make_app(world, sim, sim_app, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_router(pilot, app, router.id)
        await pick(pilot, app, "router-move")
        await wait_for(pilot, lambda: app._notifications, what="a notification")
        await pilot.pause()
        assert isinstance(app.screen, DrillScreen)
        said = " ".join(str(n.message) for n in app._notifications)
        assert f"no L3 agent can take {router.name}" in said
        assert "3 already host it" in said
    assert not mutating(world)


async def test_forcing_a_host_down_from_its_drill_down_is_confirmed_and_audited_apart_in_demo(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    app = make_app(world, sim, sim_app, tmp_path)
    app.demo = True  # as `osconsole --demo` sets it
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: app.connection is not None)
        hv = await open_hypervisor(pilot, app, world)
        await pick(pilot, app, "compute-service-force-down")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPlan))
        shown = "\n".join(app.screen.plan.lines())
        assert f"PUT compute /os-services/{hv.service.id}" in shown
        assert '{"forced_down": true}' in shown and "fenced" in shown
        assert not mutating(world)
        await pilot.press("y")
        await wait_for(pilot, lambda: hv.service.forced_down, what="forced down in Nova")
    assert not (state_dir / "audit.jsonl").exists()  # the demo cloud's actions apart
    (line,) = (state_dir / "demo-audit.jsonl").read_text().splitlines()
    assert '"action":"compute-service-force-down"' in line
