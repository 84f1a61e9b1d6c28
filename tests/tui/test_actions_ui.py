"""Acting from a drill-down: pick, parameters, the exact request, confirm or cancel,
the outcome; and read-only sessions have no action key at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from osconsole.config import CloudSettings, Settings
from osconsole.model import Kind
from osconsole.sim.world import World
from osconsole.tui.actions import AskParams, ConfirmPlan, PickAction
from osconsole.tui.app import ConsoleApp
from osconsole.tui.drill import DrillScreen, open_drill_down
from osconsole.views import Target
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.tui.fixtures import wait_for


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "osconsole"


def make_app(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp: Path, **kw: Any
) -> ConsoleApp:
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")], sweep_budget=1000, **kw)
    return ConsoleApp(
        settings,
        openstack_config=bridged_config(world, sim, tmp, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )


async def open_hypervisor(pilot: Pilot[Any], app: ConsoleApp, world: World) -> Any:
    region = world.regions["RegionOne"]
    hv = next(iter(region.hypervisors))
    await wait_for(pilot, lambda: app.state.snapshots.get((_ref(app), Kind.HYPERVISORS)))
    await wait_for(pilot, lambda: (_ref(app), Kind.SERVICES) in app.state.snapshots)
    open_drill_down(app, Target(_ref(app), Kind.HYPERVISORS, hv.id))
    await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
    return hv


def _ref(app: ConsoleApp) -> Any:
    return next(r.ref for r in app.connection.regions if r.ref.region == "RegionOne")  # type: ignore[union-attr]


def mutating(world: World) -> list[Any]:
    return [
        r for r in world.requests if r.method not in ("GET", "HEAD") and r.service != "identity"
    ]


async def test_disable_a_compute_service_with_a_reason(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    app = make_app(world, sim, sim_app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.connection is not None)
        hv = await open_hypervisor(pilot, app, world)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, PickAction))
        options = app.screen.query_one("#actions")
        names = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert "compute-service-disable" in names
        options.highlighted = names.index("compute-service-disable")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AskParams))
        await pilot.press(*"DIMM swap CHG-1")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPlan))
        shown = "\n".join(app.screen.plan.lines())
        assert "PUT" in shown and hv.service.id in shown and "DIMM swap CHG-1" in shown
        assert not mutating(world)  # nothing sent before the confirmation
        await pilot.press("y")
        await wait_for(pilot, lambda: hv.service.disabled)
    assert hv.service.disabled_reason == "DIMM swap CHG-1"
    (line,) = (state_dir / "audit.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert record["action"] == "compute-service-disable" and record["result"] == "succeeded"
    assert record["user"]["name"] == "admin" and record["region"] == "RegionOne"


async def test_cancelling_the_confirmation_sends_nothing(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    app = make_app(world, sim, sim_app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.connection is not None)
        hv = await open_hypervisor(pilot, app, world)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, PickAction))
        await pilot.press("enter")  # the first offered action
        if await _maybe_params(pilot, app):
            await pilot.press(*"reason", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPlan))
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
    assert not mutating(world)
    assert not hv.service.disabled


async def _maybe_params(pilot: Pilot[Any], app: ConsoleApp) -> bool:
    await wait_for(
        pilot,
        lambda: isinstance(app.screen, AskParams | ConfirmPlan),
        what="the parameters or the confirmation screen",
    )
    return isinstance(app.screen, AskParams)


async def test_read_only_has_no_action_key(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    app = make_app(world, sim, sim_app, tmp_path, readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.connection is not None)
        await open_hypervisor(pilot, app, world)
        assert "a" not in app.screen.active_bindings or not app.screen.active_bindings["a"].enabled
        await pilot.press("a")
        await pilot.pause(0.3)
        assert isinstance(app.screen, DrillScreen)
    assert not mutating(world)


async def test_the_header_says_ro_in_a_read_only_session(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    app = make_app(world, sim, sim_app, tmp_path, readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.screen.query_one("#findings-bar")
        await wait_for(pilot, lambda: bar.mode == "RO")
        assert str(bar.render()).startswith(" RO ")


async def test_the_header_says_get_only_for_a_get_only_credential(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim-readonly")], sweep_budget=1000)
    app = ConsoleApp(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.screen.query_one("#findings-bar")
        await wait_for(pilot, lambda: bar.mode == "GET-ONLY")


async def test_a_get_only_credential_has_no_action_key_and_no_palette_entry(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    """Once the credential is known to be GET-only, nothing is offered, as in read-only:
    before, `a` led to "This will be sent", then a refusal after `y`."""
    from textual.command import CommandList, CommandPalette

    settings = Settings(clouds=[CloudSettings(name="osconsole-sim-readonly")], sweep_budget=1000)
    app = ConsoleApp(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.connection is not None)
        await open_hypervisor(pilot, app, world)
        screen = app.screen
        assert "a" not in screen.active_bindings or not screen.active_bindings["a"].enabled
        await pilot.press("a")
        await pilot.pause(0.3)
        assert app.screen is screen  # no PickAction, no ConfirmPlan
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Disable")
        await pilot.pause(0.5)
        commands = app.screen.query_one(CommandList)
        shown = [str(commands.get_option_at_index(i).prompt) for i in range(commands.option_count)]
        assert not any("Disable" in line for line in shown), shown
        await pilot.press("escape")
    assert not mutating(world)
    assert not (state_dir / "audit.jsonl").exists()  # nothing was even attempted


async def test_the_command_palette_offers_the_actions_of_the_drilled_object(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path, state_dir: Path
) -> None:
    from textual.command import CommandPalette

    app = make_app(world, sim, sim_app, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.connection is not None)
        hv = await open_hypervisor(pilot, app, world)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Disable")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AskParams))
        await pilot.press(*"from the palette", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmPlan))
        await pilot.press("y")
        await wait_for(pilot, lambda: hv.service.disabled)
    assert hv.service.disabled_reason == "from the palette"
