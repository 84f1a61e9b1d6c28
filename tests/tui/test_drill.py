"""Drill-down screens driven by Textual's pilot against the in-process simulator.

Every assertion is checked against the simulated world: the servers of a host, a
router's agents and their ha_state, an L3 agent's routers, a project's open rules
and floating IPs, and the reasons of its score.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual import on
from textual.pilot import Pilot

from osconsole.config import CloudSettings, Settings, Thresholds
from osconsole.health.tenants import score
from osconsole.model import Kind, RegionRef, Snapshot, TenantSignals
from osconsole.sim.world import HA_INTERFACE_OWNER, L3_AGENT, Region, World, compute_usage
from osconsole.tui.app import ConsoleApp
from osconsole.tui.drill import DrillScreen, build_page, open_drill_down
from osconsole.tui.drill.sections import fit_trail
from osconsole.tui.drill.tenant import quota_text, rule_ports, spoof_reason
from osconsole.tui.drill.widgets import SectionView
from osconsole.views import Row, Target
from osconsole.widgets.pane import LivePane
from tests.conftest import SIM_URL
from tests.support.bridge import bridged_config
from tests.tui.fixtures import wait_for

SEP = " \u203a "


class DrillingConsole(ConsoleApp):
    """The console with the dashboard's Enter handler, as dashboard.py adds it."""

    @on(LivePane.Selected)
    def _drill_down(self, event: LivePane.Selected) -> None:
        if not isinstance(self.screen, DrillScreen):  # the dashboard's own handler won
            open_drill_down(self, event.target)


@pytest.fixture
async def app(
    world: World, sim: httpx.AsyncClient, sim_app: Any, tmp_path: Path
) -> DrillingConsole:
    settings = Settings(clouds=[CloudSettings(name="osconsole-sim")], sweep_budget=1000)
    return DrillingConsole(
        settings,
        openstack_config=bridged_config(world, sim, tmp_path, SIM_URL),
        transport=httpx.ASGITransport(app=sim_app),
    )


# -- helpers ---------------------------------------------------------------------------------


async def polled(pilot: Pilot[Any], app: ConsoleApp) -> None:
    """Every region has reported every kind, and the panes show it."""

    def done() -> bool:
        arrived, expected = app.state.first_poll_progress
        return bool(expected) and arrived >= expected and bool(pane(app, "liveness").shown_keys)

    await wait_for(pilot, done)
    await wait_for(pilot, lambda: all(pane(app, p).shown_keys for p in ("hypervisors", "routers")))


def pane(app: ConsoleApp, name: str) -> LivePane:
    return app.dashboard.pane(name)


def choose(app: ConsoleApp, name: str, wanted: Callable[[Row], bool]) -> tuple[LivePane, str]:
    """Put the pane's cursor on the first row `wanted` accepts; (pane, row key)."""
    live = pane(app, name)
    assert live.view is not None
    row = next(r for r in live.view.rows if wanted(r))
    assert live.select_key(row.key)
    return live, row.key


async def enter_on(pilot: Pilot[Any], app: ConsoleApp, name: str, key: str) -> DrillScreen:
    app.dashboard.action_show_pane(name)
    await pilot.pause()
    assert pane(app, name).select_key(key)
    await pilot.press("enter")
    return await opened(pilot, app)


async def opened(pilot: Pilot[Any], app: ConsoleApp) -> DrillScreen:
    """The drill screen on top, once every live section has answered (or failed)."""
    await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
    screen = app.screen
    assert isinstance(screen, DrillScreen)
    await wait_for(pilot, lambda: all(v.state != "loading" for v in screen.views.values()))
    await pilot.pause()
    return screen


def section(screen: DrillScreen, key: str) -> SectionView:
    return screen.views[key]


def trail(screen: DrillScreen) -> str:
    """The whole breadcrumb (the screen shows its end when it is too long)."""
    full = SEP.join((*screen.trail, screen.crumb))
    shown = str(screen.query_one("#trail").render())
    assert full.endswith(shown.removeprefix("…")), shown
    return full


def region_one(world: World) -> Region:
    return world.regions["RegionOne"]


def rows(view: SectionView) -> dict[str, tuple[str, ...]]:
    """Row key -> cell texts of what the section shows."""
    return {line.key: tuple(c.text for c in line.cells) for line in view.section.lines}


async def focus_row(pilot: Pilot[Any], view: SectionView, key: str) -> None:
    table = view.table
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()


# -- hypervisor ------------------------------------------------------------------------------


async def test_hypervisor_shows_its_servers_service_and_usage_and_esc_comes_back(
    app: DrillingConsole, world: World
) -> None:
    region = region_one(world)
    busiest = max(region.hypervisors, key=lambda h: h.running_vms)
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        hv_pane, key = choose(app, "hypervisors", lambda r: r.target.id == busiest.id)
        screen = await enter_on(pilot, app, "hypervisors", key)

        assert trail(screen) == SEP.join(
            ["Dashboard", "Hypervisors", "RegionOne", busiest.hostname]
        )
        servers = section(screen, "servers")
        assert servers.state == "live"
        on_host = {s.id: s for s in region.servers if s.host == busiest.hostname and not s.deleted}
        assert set(rows(servers)) == set(on_host)
        names = {p.id: p.name for p in world.projects}
        for server_id, cells in rows(servers).items():
            server = on_host[server_id]
            assert cells[0] == server.name
            assert cells[1] == names[server.project_id]
            assert cells[2] == server.status
            assert cells[4:6] == (str(server.flavor.vcpus), str(server.flavor.ram))
        service = rows(section(screen, "service"))
        assert [c[:3] for c in service.values()] == [("nova-compute", "up", "enabled")]
        usage = rows(section(screen, "usage"))
        vcpu = usage["VCPU"]
        assert vcpu[1] == str(busiest.vcpus) and vcpu[5] == str(busiest.vcpus_used)
        assert vcpu[3] == f"{busiest.cpu_allocation_ratio:g}"
        assert usage["MEMORY_MB"][2] == str(busiest.reserved_host_memory_mb)

        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DrillScreen))
        assert hv_pane.shown_keys[hv_pane.table.cursor_row] == key


# -- router, then one of its agents, and back twice ------------------------------------------


async def test_router_shows_agents_ha_state_ports_and_project(
    app: DrillingConsole, world: World
) -> None:
    region = region_one(world)
    router = next(r for r in region.routers if r.ha and len(r.bindings) >= 2)
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        await wait_for(pilot, lambda: _swept(app, router.id))
        # A second active appears after the sweep: the live refetch must show it.
        standby = next(aid for aid, state in router.bindings.items() if state == "standby")
        router.bindings[standby] = "active"
        _, key = choose(app, "routers", lambda r: r.target.id == router.id)
        screen = await enter_on(pilot, app, "routers", key)

        assert trail(screen).endswith(SEP.join(["RegionOne", router.name]))
        agents = section(screen, "agents")
        assert agents.state == "live"
        shown = rows(agents)
        assert set(shown) == set(router.bindings)
        for agent_id, state in router.bindings.items():
            host = region.agents.get(agent_id).host
            assert shown[agent_id][:3] == (host, state, "alive")
        assert "CHANGED since the last sweep" in agents.text()
        assert "SPLIT-BRAIN" in agents.text()
        ports = rows(section(screen, "ports"))
        ha_ports = {
            p.id: p.host
            for p in region.ports
            if p.device_id == router.id and p.device_owner == HA_INTERFACE_OWNER
        }
        assert {k: v[0] for k, v in ports.items()} == ha_ports
        project = next(p for p in world.projects if p.id == router.project_id)
        facts = rows(section(screen, "router"))
        assert facts["Project"][1] == f"{project.name} ({project.id})"


def _swept(app: ConsoleApp, router_id: str) -> bool:
    snap = app.state.snapshots.get((RegionRef("osconsole-sim", "RegionOne"), Kind.ROUTERS))
    return snap is not None and snap.items[router_id].bindings is not None


async def test_nested_drill_router_to_agent_and_back_twice(
    app: DrillingConsole, world: World
) -> None:
    region = region_one(world)
    router = next(r for r in region.routers if r.ha and r.bindings)
    agent_id = next(iter(router.bindings))
    agent = region.agents.get(agent_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        await wait_for(pilot, lambda: _swept(app, router.id))
        routers_pane, key = choose(app, "routers", lambda r: r.target.id == router.id)
        router_screen = await enter_on(pilot, app, "routers", key)

        await focus_row(pilot, section(router_screen, "agents"), agent_id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not router_screen)
        agent_screen = await opened(pilot, app)
        assert agent_screen.target == Target(
            router_screen.target.ref, Kind.AGENTS, agent_id, "agent"
        )
        assert trail(agent_screen) == SEP.join(
            [*trail(router_screen).split(SEP), "Agents", f"{L3_AGENT} @ {agent.host}"]
        )
        hosted = rows(section(agent_screen, "routers"))
        assert set(hosted) == {r.id for r in region.routers_on_agent(agent_id)}
        assert hosted[router.id][:2] == (router.name, router.bindings[agent_id])

        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is router_screen)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DrillScreen))
        assert routers_pane.shown_keys[routers_pane.table.cursor_row] == key


# -- liveness: an L3 agent, a nova-compute service ----------------------------------------------


async def test_l3_agent_lists_its_routers_with_their_ha_state_here(
    app: DrillingConsole, world: World
) -> None:
    region = region_one(world)
    agent = next(a for a in region.l3_agents() if region.routers_on_agent(a.id))
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        await wait_for(pilot, lambda: all(_swept(app, r.id) for r in region.routers))
        _, key = choose(app, "liveness", lambda r: r.target.id == agent.id)
        screen = await enter_on(pilot, app, "liveness", key)

        assert trail(screen) == SEP.join(
            ["Dashboard", "Liveness", "RegionOne", f"{L3_AGENT} @ {agent.host}"]
        )
        facts = rows(section(screen, "agent"))
        assert facts["Host"][1] == agent.host and facts["Alive"][1] == "alive"
        routers = section(screen, "routers")
        assert routers.state == "live"
        hosted = region.routers_on_agent(agent.id)
        assert {k: v[:2] for k, v in rows(routers).items()} == {
            r.id: (r.name, r.bindings[agent.id]) for r in hosted
        }
        neighbours = rows(section(screen, "host"))
        assert {v[1] for v in neighbours.values()} == {
            a.agent_type for a in region.agents_on_host(agent.host) if a.id != agent.id
        }


async def test_nova_compute_service_links_to_its_hypervisor(
    app: DrillingConsole, world: World
) -> None:
    hv = next(iter(region_one(world).hypervisors))
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        _, key = choose(
            app,
            "liveness",
            lambda r: (
                r.target.detail == "nova" and hv.hostname in r.text() and "compute" in r.text()
            ),
        )
        screen = await enter_on(pilot, app, "liveness", key)
        facts = rows(section(screen, "service"))
        assert facts["Service"][1] == "nova nova-compute" and facts["Host"][1] == hv.hostname
        hypervisors = section(screen, "hypervisor")
        assert list(rows(hypervisors)) == [hv.id]

        await focus_row(pilot, hypervisors, hv.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is not screen)
        nested = await opened(pilot, app)
        assert nested.target.kind is Kind.HYPERVISORS and nested.target.id == hv.id
        assert trail(nested).endswith(SEP.join(["Hypervisors", hv.hostname]))


# -- tenant ------------------------------------------------------------------------------------


async def test_tenant_shows_reasons_open_rules_spoofing_ports_and_floating_ips(
    app: DrillingConsole, world: World
) -> None:
    region = region_one(world)
    open_rules = [
        r
        for r in region.security_group_rules
        if r.direction == "ingress" and r.remote_ip_prefix in ("0.0.0.0/0", "::/0")
    ]
    project_id = next(r.project_id for r in open_rules if r.port_range_min == 22)
    spoofing = next(
        p
        for p in region.ports
        if p.project_id == project_id and p.device_owner.startswith("compute:")
    )
    spoofing.allowed_address_pairs = [{"ip_address": "0.0.0.0/0", "mac_address": spoofing.mac}]
    cores = compute_usage(s for s in region.servers if s.project_id == project_id)["cores"]
    assert cores > 0
    region.compute_quotas[project_id] = {**region.compute_quota(project_id), "cores": cores}
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        await wait_for(pilot, lambda: bool(pane(app, "tenants").shown_keys))
        _, key = choose(app, "tenants", lambda r: r.target.id == project_id)
        screen = await enter_on(pilot, app, "tenants", key)

        signals = _signals(app, project_id)
        reasons = score(signals, app.settings.thresholds).reasons
        assert any("spoofing" in reason for reason in reasons)
        assert f"quota: nova cores 100% ({cores}/{cores})" in reasons
        why = rows(section(screen, "why"))
        assert [why[f"Reason {i}"][1] for i in range(1, len(reasons) + 1)] == list(reasons)
        assert why["Quota, fullest"][1].startswith(f"nova cores 100% ({cores}/{cores}), ")
        assert "Not read" not in why

        rules = rows(section(screen, "rules"))
        mine = {r.id: r for r in open_rules if r.project_id == project_id}
        assert set(rules) == set(mine)
        for rule_id, cells in rules.items():
            assert cells[1] == str(mine[rule_id].port_range_min)
            assert cells[2] == mine[rule_id].remote_ip_prefix
        assert rules[next(i for i, r in mine.items() if r.port_range_min == 22)][3] == "SENSITIVE"

        ports = rows(section(screen, "ports"))
        assert list(ports) == [spoofing.id]
        assert ports[spoofing.id][0] == "allowed pair 0.0.0.0/0"

        fips = rows(section(screen, "fips"))
        assert {v[0] for v in fips.values()} == {
            f.floating_ip for f in region.floating_ips if f.project_id == project_id
        }
        servers = rows(section(screen, "servers"))
        assert set(servers) == {
            s.id for s in region.servers if s.project_id == project_id and not s.deleted
        }


def _signals(app: ConsoleApp, project_id: str) -> TenantSignals:
    snap = app.state.snapshots[(RegionRef("osconsole-sim", "RegionOne"), Kind.TENANTS)]
    return snap.items[project_id]


# -- failures and small screens ---------------------------------------------------------------


async def test_an_api_error_during_a_drill_is_shown_not_raised(
    app: DrillingConsole, world: World
) -> None:
    region = region_one(world)
    hv = next(h for h in region.hypervisors if h.running_vms)
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        _, key = choose(app, "hypervisors", lambda r: r.target.id == hv.id)
        region.faults.error_rate = 1.0
        screen = await enter_on(pilot, app, "hypervisors", key)

        servers = section(screen, "servers")
        assert servers.state == "failed"
        assert "ERROR: compute: GET /servers/detail: HTTP 50" in servers.text()
        usage = section(screen, "usage")
        assert usage.state == "failed" and "placement" in usage.error
        assert rows(usage)["VCPU"][1] == str(hv.vcpus)  # the last poll still shows
        assert rows(section(screen, "hypervisor"))["Host"][1] == hv.hostname

        region.faults.error_rate = 0.0
        await pilot.press("r")
        await wait_for(pilot, lambda: servers.state == "live")
        assert len(servers.section.lines) == hv.running_vms
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DrillScreen))
        assert app.is_running


async def test_a_slow_api_shows_loading_and_esc_cancels_the_fetch(
    app: DrillingConsole, world: World
) -> None:
    region = region_one(world)
    hv = next(iter(region.hypervisors))
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        choose(app, "hypervisors", lambda r: r.target.id == hv.id)
        region.faults.latency_ms = 30_000
        app.dashboard.action_show_pane("hypervisors")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DrillScreen))
        screen = app.screen
        assert isinstance(screen, DrillScreen)
        await pilot.pause()
        servers = section(screen, "servers")
        assert servers.state == "loading" and "loading…" in servers.text()
        assert rows(section(screen, "hypervisor"))["Host"][1] == hv.hostname  # at once
        fetches = [w for w in app.workers if w.name.startswith("drill ")]
        assert fetches and all(w.is_running for w in fetches)

        await pilot.press("escape")  # the loop is free: the key is handled at once
        await wait_for(pilot, lambda: not isinstance(app.screen, DrillScreen))
        await wait_for(pilot, lambda: all(w.is_cancelled for w in fetches))


async def test_small_terminal_tab_reaches_every_section(app: DrillingConsole, world: World) -> None:
    router = next(r for r in region_one(world).routers if r.ha)
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        _, key = choose(app, "routers", lambda r: r.target.id == router.id)
        screen = await enter_on(pilot, app, "routers", key)
        tables = [v.table for v in screen.views.values() if v.section.lines]
        assert screen.focused is tables[0]
        for table in tables[1:]:
            await pilot.press("tab")
            assert screen.focused is table
            assert screen.can_view_partial(table)
        assert max(t.size.width for t in tables) <= 80


# -- pure pieces -------------------------------------------------------------------------------


def test_breadcrumb_drops_its_oldest_parts_first() -> None:
    parts = ["Dashboard", "L3 HA routers", "RegionOne", "router-1", "Agents", "L3 agent @ net01"]
    assert fit_trail(parts, 200) == SEP.join(parts)
    fitted = fit_trail(parts, 40)
    assert fitted.endswith(SEP.join(["Agents", "L3 agent @ net01"])) and len(fitted) <= 40
    assert fitted.startswith("…")


def test_rule_ports_and_spoof_reasons() -> None:
    assert rule_ports({"port_range_min": 22, "port_range_max": 22}) == ("22", True)
    assert rule_ports({"port_range_min": 8000, "port_range_max": 8100}) == ("8000-8100", False)
    assert rule_ports({"port_range_min": 1, "port_range_max": 1024}) == ("1-1024", True)
    assert rule_ports({"port_range_min": None, "port_range_max": None}) == ("all", True)
    assert spoof_reason({"allowed_address_pairs": [{"ip_address": "::/0"}]}) == "allowed pair ::/0"
    assert spoof_reason({"port_security_enabled": False}) == "port security OFF"
    quotas = {
        "neutron": {"port": (15, 500), "router": (9, 10), "subnet": (0, 100)},
        "nova": {"cores": (38, 40)},
        "cinder": {"gigabytes": (120, 1000)},
    }
    assert quota_text(quotas) == (
        "nova cores 95% (38/40), neutron router 90% (9/10), cinder gigabytes 12% (120/1000)"
    )


def test_a_tenant_whose_quotas_could_not_be_read_says_so() -> None:
    from osconsole.live import LiveState

    ref = RegionRef("c", "r")
    state = LiveState(Settings(thresholds=Thresholds()))
    unread = TenantSignals(
        "p1", "acme", quotas={"neutron": {"port": (3, 500)}}, quotas_unknown=("nova", "cinder")
    )
    state.apply(Snapshot(ref, Kind.TENANTS, Snapshot.freeze({"p1": unread}), fetched_at=100.0))
    page = build_page(state, Target(ref, Kind.TENANTS, "p1"), 130.0)
    why = {line.key: line.cells[1].text for line in page.sections[0].lines}
    assert why["Quota, fullest"] == "neutron port 0% (3/500)"
    assert why["Not read"] == "nova quota, cinder quota (not read yet, or the read failed)"
    assert not any("nova" in text and "%" in text for text in why.values())


def test_a_target_missing_from_the_snapshots_says_so() -> None:
    from osconsole.live import LiveState

    ref = RegionRef("c", "r")
    state = LiveState(Settings(thresholds=Thresholds()))
    state.apply(Snapshot(ref, Kind.HYPERVISORS, Snapshot.freeze({}), fetched_at=100.0))
    page = build_page(state, Target(ref, Kind.HYPERVISORS, "gone"), 130.0)
    assert page.loaders == {}
    assert "gone is not in the last poll (last poll 30s ago)" in page.sections[0].note
