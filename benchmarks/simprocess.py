"""Run `osconsole sim` in its own process for benchmarks (no GIL shared with the client)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def sim_process(*args: str, timeout: float = 180.0) -> Iterator[tuple[str, Path]]:
    """(base URL, clouds.yaml path) of a simulator started with `args`."""
    workdir = Path(tempfile.mkdtemp(prefix="osconsole-bench-"))
    clouds = workdir / "clouds.yaml"
    port = free_port()
    command = [
        sys.executable, "-m", "osconsole", "sim", "--port", str(port),
        "--clouds-yaml", str(clouds), *args,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_sim/state", timeout=2):
                    break
            except OSError:
                if process.poll() is not None:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"the simulator exited: {stderr}") from None
                if time.monotonic() > deadline:
                    raise TimeoutError("the simulator did not start") from None
                time.sleep(0.2)
        yield url, clouds
    finally:
        process.terminate()
        process.wait(timeout=10)


def control(url: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/_sim{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def clouds_env(clouds: Path) -> dict[str, str]:
    """An environment in which only the simulator's clouds.yaml is read."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(clouds.parent),
        "OS_CLIENT_CONFIG_FILE": str(clouds),
    }
