"""`osconsole snapshot` never echoes a credential: an `auth_url` may carry a user and a
password (`https://user:pass@host/...`), and keystoneauth repeats that URL in its
warnings and errors."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from osconsole.sim.serve import SimServer
from osconsole.sim.world import World

pytestmark = pytest.mark.e2e

PASSWORD = "hunter2-in-the-url"


def closed_port() -> int:
    """A loopback port nothing listens on (Keystone down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def with_userinfo(clouds: Path, tmp_path: Path, host: str) -> Path:
    """The simulator's clouds.yaml, its admin entry's auth_url on `host` with userinfo."""
    entries = yaml.safe_load(clouds.read_text())
    auth = entries["clouds"]["osconsole-sim"]["auth"]
    path = auth["auth_url"].split("/", 3)[3]
    auth["auth_url"] = f"http://admin:{PASSWORD}@{host}/{path}"
    out = tmp_path / "clouds.yaml"
    out.write_text(yaml.safe_dump(entries))
    return out


def snapshot(clouds: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_STATE_HOME": str(home / "state"),
    }
    command = [sys.executable, "-m", "osconsole", "snapshot", "--os-cloud", "osconsole-sim"]
    return subprocess.run(
        [*command, "--kinds", "agents"], capture_output=True, text=True, env=env, timeout=120
    )


def test_keystone_unreachable_through_a_url_with_a_password(
    served: tuple[World, SimServer, Path], tmp_path: Path
) -> None:
    _, _, clouds = served
    result = snapshot(with_userinfo(clouds, tmp_path, f"127.0.0.1:{closed_port()}"), tmp_path)
    assert result.returncode == 2
    assert "cannot" in result.stderr or "failed" in result.stderr  # it still says why
    assert "http://***@127.0.0.1" in result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    log = tmp_path / "state" / "osconsole" / "osconsole.log"
    assert PASSWORD not in log.read_text()  # keystoneauth's warning went there, scrubbed
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_a_working_url_with_a_password_is_not_shown_either(
    served: tuple[World, SimServer, Path], tmp_path: Path
) -> None:
    _, server, clouds = served
    host = server.url.split("//", 1)[1].rstrip("/")
    result = snapshot(with_userinfo(clouds, tmp_path, host), tmp_path)
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
