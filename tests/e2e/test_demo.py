"""`osconsole --demo` end to end: the demo cloud in its own process, the console over
a real loopback socket, with the lively scenario running."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest
from openstack.config import OpenStackConfig

from osconsole.config import CloudSettings, Settings
from osconsole.model import RegionRef
from osconsole.sim.background import DemoCloud
from osconsole.tui.app import ConsoleApp
from osconsole.widgets.pane import LivePane
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoCloud]:
    with DemoCloud(size="tiny") as cloud:
        yield cloud


def test_the_demo_cloud_serves_three_regions_with_the_demo_scenario(demo: DemoCloud) -> None:
    with urllib.request.urlopen(f"{demo.url}/_sim/state", timeout=5) as answer:
        state = json.loads(answer.read())
    assert list(state["regions"]) == ["RegionOne", "RegionTwo", "RegionThree"]
    assert [s["name"] for s in state["scenarios"]] == ["demo"]
    assert state["clock_running"] is True


async def test_the_console_fills_every_pane_from_the_demo_cloud(demo: DemoCloud) -> None:
    config = OpenStackConfig(
        config_files=[str(demo.clouds_yaml)], secure_files=[], load_envvars=False
    )
    settings = Settings(clouds=[CloudSettings(name=demo.cloud_name)])
    app = ConsoleApp(settings, openstack_config=config)
    async with app.run_test(size=(200, 50)) as pilot:
        panes = {name: app.screen.query_one(f"#pane-{name}", LivePane) for name in
                 ("hypervisors", "routers", "tenants", "liveness")}  # fmt: skip
        await wait_for(
            lambda: all(p.shown_keys for name, p in panes.items() if name != "tenants"),
            30,
            what="every pane but Tenants filled",
            pilot=pilot,
            step=0.1,
        )
        assert panes["hypervisors"].shown_keys and panes["routers"].shown_keys
        assert panes["liveness"].shown_keys
        strip = app.screen.query_one("#regions").plain
        for region in ("RegionOne", "RegionTwo", "RegionThree"):
            assert region in strip
        await pilot.press("q")
    assert app.return_code in (0, None)


def test_stopping_the_demo_cloud_leaves_nothing_behind() -> None:
    cloud = DemoCloud(size="tiny").start()
    url, workdir = cloud.url, cloud.workdir
    cloud.stop()
    assert not workdir.exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/_sim/state", timeout=2)


async def test_the_demo_clouds_probes_answer_over_real_sockets(demo: DemoCloud) -> None:
    """What `osconsole --demo` probes: RabbitMQ over HTTP, memcached over TCP, Galera
    through the injected source, all from the demo cloud's own process."""
    from osconsole.probes.runner import ProbeRunner

    configured = demo.probes()
    refs = [RegionRef(demo.cloud_name, p.region) for p in configured]
    assert [r.region for r in refs] == ["RegionOne", "RegionTwo", "RegionThree"]
    assert all(p.interval == 10 and p.memcached is not None for p in configured)
    runner = ProbeRunner(configured, refs, mysql_sources=demo.mysql_sources)
    await runner.poll_once()
    for ref in refs:
        results = runner.latest[ref]
        assert len(results) == 3 and all(r.ok for r in results.values()), results
        assert results["mysql"].figures["cluster_status"] == "Primary"
