"""`osconsole snapshot` with a Keystone that hangs: a real process over a real socket ends
within the request timeout with one clear line (it used to wait 200 s)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osconsole.sim.serve import SimServer
from osconsole.sim.world import World

pytestmark = pytest.mark.e2e

TIMEOUT = 2  # request_timeout in config.yaml
SLACK = 8  # the interpreter's start, loading clouds.yaml, a loaded machine


def test_snapshot_ends_within_the_timeout_when_keystone_hangs_at_start(
    served: tuple[World, SimServer, Path], tmp_path: Path
) -> None:
    world, _, clouds = served
    config = tmp_path / "config.yaml"
    config.write_text(f"request_timeout: {TIMEOUT}\n")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    command = [sys.executable, "-m", "osconsole", "snapshot", "--os-cloud", "osconsole-sim"]
    world.identity_faults.update(unreachable=True)  # every identity request hangs 120 s
    try:
        started = time.monotonic()
        result = subprocess.run(
            [*command, "--config", str(config)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        took = time.monotonic() - started
    finally:
        world.identity_faults.update(unreachable=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().endswith(
        f"osconsole: cloud 'osconsole-sim': Keystone did not answer within {TIMEOUT}s"
    )
    assert "Traceback" not in result.stderr
    assert took < TIMEOUT + SLACK, f"took {took:.1f}s"
