"""Real memcached, MariaDB and RabbitMQ for the probes' end-to-end tests.

Each is started from its Debian package's binaries on loopback, with its data in a
throwaway directory, within a bounded time, and stopped (its whole process group)
at the end. When a binary is missing the test is skipped and says which package
would bring it (`.ci/run` installs them when it runs as root with apt-get).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

RABBITMQ_START_S = 90.0  # first start of a broker (with the management plugin)
MARIADB_START_S = 60.0
MEMCACHED_START_S = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need(binary: str, package: str) -> str:
    path = shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.path.exists(p)), None
    )
    if path is None:
        pytest.skip(f"{binary} is not installed (Debian package {package})")
    return path


def wait_until(
    ready: Callable[[], bool],
    seconds: float,
    what: str,
    log: Path,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ready():
            return
        if process is not None and process.poll() is not None:
            seconds = time.monotonic() - deadline + seconds
            break  # it died: no use waiting
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
    pytest.fail(f"{what} did not start within {seconds:.0f} s:\n{tail}")


@contextmanager
def process_group(
    command: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True, cwd=log.parent,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes], grace: float = 20.0) -> None:
    """TERM the process group, then KILL what is left after `grace` seconds."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def memcached_server(tmp: Path) -> Iterator[int]:
    binary = need("memcached", "memcached")
    port = free_port()
    command = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "8"]
    if os.geteuid() == 0:
        command += ["-u", "root"]
    with process_group(command, tmp / "memcached.log") as process:
        log = tmp / "memcached.log"
        wait_until(lambda: port_open(port), MEMCACHED_START_S, "memcached", log, process)
        yield port


@contextmanager
def mariadb_server(tmp: Path) -> Iterator[tuple[int, Path]]:
    """(port, socket) of a MariaDB with a throwaway datadir; root over the socket."""
    server = need("mariadbd", "mariadb-server")
    install = need("mariadb-install-db", "mariadb-server")
    datadir, sock, port = tmp / "mariadb", tmp / "mariadb.sock", free_port()
    user = ["--user=root"] if os.geteuid() == 0 else []
    log = tmp / "mariadb.log"
    with log.open("wb") as out:
        done = subprocess.run(
            [install, f"--datadir={datadir}", "--auth-root-authentication-method=socket",
             "--skip-test-db", *user],
            stdout=out, stderr=out, timeout=MARIADB_START_S, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"mariadb-install-db failed: {log.read_text(errors='replace')[-800:]}")
    command = [
        server, "--no-defaults", f"--datadir={datadir}", f"--socket={sock}",
        f"--port={port}", "--bind-address=127.0.0.1", f"--pid-file={tmp / 'mariadb.pid'}",
        "--skip-name-resolve", "--innodb-buffer-pool-size=16M", *user,
    ]  # fmt: skip
    with process_group(command, tmp / "mariadbd.log") as process:
        log = tmp / "mariadbd.log"
        wait_until(lambda: port_open(port), MARIADB_START_S, "mariadbd", log, process)
        yield port, sock


@contextmanager
def rabbitmq_server(tmp: Path) -> Iterator[int]:
    """The management API's port of a one-node broker with its state under `tmp`."""
    server = need("rabbitmq-server", "rabbitmq-server")
    plugins = need("rabbitmq-plugins", "rabbitmq-server")
    # Debian's wrapper runs the broker as the rabbitmq user, who cannot enter pytest's
    # private temporary folders: its state goes to a folder of its own, removed after.
    base = Path(tempfile.mkdtemp(prefix="osconsole-rabbitmq-"))
    base.chmod(0o755)
    for sub in ("mnesia", "log", "home"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    node, dist, api, epmd = free_port(), free_port(), free_port(), free_port()
    (base / "rabbitmq.conf").write_text(
        f"management.tcp.port = {api}\nmanagement.tcp.ip = 127.0.0.1\nloopback_users = none\n"
    )
    env = {
        **os.environ,
        "HOME": str(base / "home"),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_NODENAME": f"osconsole{node}@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
        "RABBITMQ_NODE_PORT": str(node),
        "RABBITMQ_DIST_PORT": str(dist),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_FEATURE_FLAGS_FILE": str(base / "feature_flags"),
        "ERL_EPMD_PORT": str(epmd),
        "RABBITMQ_PID_FILE": str(base / "broker.pid"),
    }
    subprocess.run(
        [plugins, "--offline", "enable", "rabbitmq_management"],
        env=env, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    if os.geteuid() == 0:  # Debian's wrapper runs the broker as the rabbitmq user
        subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", str(base)], check=False)
    try:
        with process_group([server], base / "server.log", env=env) as process:
            log = base / "server.log"
            wait_until(lambda: _api_up(api), RABBITMQ_START_S, "rabbitmq-server", log, process)
            yield api
    finally:
        _stop_broker(base / "broker.pid")
        epmd_binary = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        subprocess.run(  # its own epmd (on a port of its own): asked to go
            [epmd_binary, "-port", str(epmd), "-kill"], capture_output=True, timeout=10, check=False
        )
        shutil.rmtree(base, ignore_errors=True)


def _stop_broker(pid_file: Path, grace: float = 30.0) -> None:
    """The broker runs in a session of its own (Debian's wrapper uses su): stop it by
    the pid it wrote, TERM then KILL."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _api_up(port: int) -> bool:
    import httpx

    try:
        return (
            httpx.get(
                f"http://127.0.0.1:{port}/api/overview", auth=("guest", "guest"), timeout=1
            ).status_code
            == 200
        )
    except httpx.HTTPError:
        return False
