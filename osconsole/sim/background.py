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
from osconsole.model import RegionRef
from osconsole.probes.mysql import StatusSource
from osconsole.probes.settings import RegionProbes
from osconsole.sim.backing import http_galera_source
from osconsole.sim.serve import CLOUD_NAME

DEMO_PROBE_INTERVAL = 10.0  # the shortest config.yaml allows: the demo's incidents move


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
        # What the MySQL probe of each region reads instead of a MySQL server.
        self.mysql_sources: dict[RegionRef, StatusSource] = {}

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

    def probes(self, interval: float = DEMO_PROBE_INTERVAL) -> list[RegionProbes]:
        """Probes of each region's RabbitMQ, Galera and memcached as the simulator
        serves them (`/_sim/probes`); the Galera reads go through `mysql_sources`."""
        with urllib.request.urlopen(f"{self.url}/_sim/probes", timeout=5) as answer:
            entries = json.loads(answer.read())
        probes = [RegionProbes.model_validate({**e, "interval": interval}) for e in entries]
        self.mysql_sources = {
            RegionRef(self.cloud_name, p.region): http_galera_source(self.url, p.region)
            for p in probes
        }
        return probes

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


def start_demo(
    settings: Settings, *, probes: bool = False
) -> tuple[DemoCloud, Settings, OpenStackConfig]:
    """Start the demo cloud; the settings and clouds.yaml loader that watch it (and,
    with `probes`, probe its RabbitMQ, Galera and memcached: pass `cloud.mysql_sources`
    to the ProbeRunner).

    Raises DemoCloudError with a message fit to print.
    """
    cloud = DemoCloud().start()
    update: dict[str, object] = {"clouds": [CloudSettings(name=cloud.cloud_name)]}
    if probes:
        try:
            update["probes"] = cloud.probes()
        except (OSError, ValueError) as exc:
            cloud.stop()
            raise DemoCloudError(f"the demo cloud's probes could not be read: {exc}") from exc
    watched = settings.model_copy(update=update)
    config = OpenStackConfig(
        config_files=[str(cloud.clouds_yaml)], secure_files=[], load_envvars=False
    )
    return cloud, watched, config
