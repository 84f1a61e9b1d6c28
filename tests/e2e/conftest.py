"""End-to-end fixtures: the simulator on a real loopback socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from osconsole.sim.clock import SimClock
from osconsole.sim.generate import build_world
from osconsole.sim.serve import SimServer, clouds_yaml_text
from osconsole.sim.world import World


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, SimServer, Path]]:
    """(world, server, clouds.yaml path) for a small two-region cloud on loopback."""
    world = build_world(size="tiny", regions=2, seed=11, clock=SimClock(running=True))
    with SimServer(world) as server:
        path = tmp_path_factory.mktemp("clouds") / "clouds.yaml"
        path.write_text(clouds_yaml_text(world, server.url))
        yield world, server, path
