"""`osconsole snapshot` as a user runs it: a real process, a real socket, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from osconsole.sim.serve import SimServer
from osconsole.sim.world import World
from tests.support.home import home_env

pytestmark = pytest.mark.e2e


def snapshot(clouds: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess:
    env = {
        **home_env(),  # the XDG folders of the test, never the real ones
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(clouds.parent),
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "XDG_CONFIG_HOME": str(clouds.parent / "xdg"),
    }
    command = [sys.executable, "-m", "osconsole", "snapshot", *args]
    if config:
        command += ["--config", str(config)]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_json_snapshot_of_every_region_matches_the_world(
    served: tuple[World, SimServer, Path],
) -> None:
    world, _, clouds = served
    result = snapshot(clouds, "--os-cloud", "osconsole-sim", "-f", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    counts = {(s["region"], s["kind"]): s["count"] for s in document["snapshots"]}
    for name, region in world.regions.items():
        assert counts[(name, "hypervisors")] == len(region.hypervisors)
        assert counts[(name, "routers")] == len(region.routers)
        assert counts[(name, "agents")] == len(region.agents)
    assert "osconsole-sim-admin" not in result.stdout + result.stderr


def test_table_for_one_region_and_some_kinds(served: tuple[World, SimServer, Path]) -> None:
    world, _, clouds = served
    args = ["--os-cloud", "osconsole-sim", "--region", "RegionTwo", "--kinds", "agents,routers"]
    result = snapshot(clouds, *args)
    assert result.returncode == 0, result.stderr
    assert "== osconsole-sim/RegionTwo agents" in result.stdout
    assert "== osconsole-sim/RegionTwo routers" in result.stdout
    assert "RegionOne" not in result.stdout and "hypervisors" not in result.stdout
    for router in world.regions["RegionTwo"].routers:
        assert router.name in result.stdout


def test_a_region_in_trouble_exits_1_and_says_why(served: tuple[World, SimServer, Path]) -> None:
    world, _, clouds = served
    world.regions["RegionTwo"].faults.update(error_rate=1.0)
    try:
        result = snapshot(clouds, "--os-cloud", "osconsole-sim", "--kinds", "agents")
    finally:
        world.regions["RegionTwo"].faults.update(error_rate=0.0)
    assert result.returncode == 1
    assert "RegionTwo agents" in result.stderr and "HTTP 50" in result.stderr
    assert "== osconsole-sim/RegionOne agents" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_bad_config_exits_2_with_one_clear_line(
    served: tuple[World, SimServer, Path], tmp_path: Path
) -> None:
    _, _, clouds = served
    config = tmp_path / "config.yaml"
    config.write_text("intervals:\n  routers: often\n")
    result = snapshot(clouds, config=config)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"osconsole: {config}: intervals.routers: "
        "Input should be a valid number, unable to parse string as a number"
    )


def test_unknown_cloud_and_bad_kind_exit_2_without_traceback(
    served: tuple[World, SimServer, Path],
) -> None:
    _, _, clouds = served
    unknown = snapshot(clouds, "--os-cloud", "nowhere")
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr
    bad_kind = snapshot(clouds, "--os-cloud", "osconsole-sim", "--kinds", "volumes")
    assert bad_kind.returncode == 2 and "unknown kind" in bad_kind.stderr
    assert "Traceback" not in unknown.stderr + bad_kind.stderr
