"""The demo cloud: `osconsole sim` in a child process, for `osconsole --demo`.

A separate process keeps the simulator's work (a lively scenario, latency, paging)
off the console's event loop and GIL, as a real cloud would be.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from openstack.config import OpenStackConfig

from osconsole.config import CloudSettings, Settings
from osconsole.sim.serve import CLOUD_NAME


class DemoCloudError(Exception):
    """The demo cloud could not start; the message says why."""


class DemoCloud:
    """A simulator child process on a free loopback port, with its clouds.yaml."""

    def __init__(
        self,
        *,
        size: str = "small",
        regions: int = 3,
        scenario: str | None = "demo",
        seed: int = 1,
        backends: str | None = None,
    ) -> None:
        # The last region of the demo runs ML2/OVN, the others ML2/OVS.
        backends = backends or ",".join(["ovs"] * (regions - 1) + ["ovn"] * (regions > 1))
        self.args = ["--size", size, "--regions", str(regions), "--seed", str(seed)]
        self.args += ["--backend", backends]
        if scenario:
            self.args += ["--scenario", scenario]
        self.workdir = Path(tempfile.mkdtemp(prefix="osconsole-demo-"))
        self.clouds_yaml = self.workdir / "clouds.yaml"
        self.cloud_name = CLOUD_NAME
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> DemoCloud:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable, "-m", "osconsole", "sim", "--port", str(port),
            "--clouds-yaml", str(self.clouds_yaml), *self.args,
        ]  # fmt: skip
        log = (self.workdir / "sim.log").open("wb")
        self._process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DemoCloudError(
                    f"the demo cloud exited: {(self.workdir / 'sim.log').read_text()[-500:]}"
                )
            if self.ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise DemoCloudError("the demo cloud did not start within a minute")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_sim/state", timeout=1) as answer:
                json.loads(answer.read())
            return self.clouds_yaml.exists()
        except (OSError, ValueError):
            return False

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> DemoCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_demo(settings: Settings) -> tuple[DemoCloud, Settings, OpenStackConfig]:
    """Start the demo cloud; the settings and clouds.yaml loader that watch it.

    Raises DemoCloudError with a message fit to print.
    """
    cloud = DemoCloud().start()
    watched = settings.model_copy(update={"clouds": [CloudSettings(name=cloud.cloud_name)]})
    config = OpenStackConfig(
        config_files=[str(cloud.clouds_yaml)], secure_files=[], load_envvars=False
    )
    return cloud, watched, config
