"""The console leaves when its terminal goes, whatever screen or dialog is open: a real
process in a real pty, driven by keys, then the pty is closed as a dropped SSH session
or `tmux kill-server` closes it (the kernel sends SIGHUP and SIGCONT).

The stall this guards against was a race (how much was drawn just then): it showed in
about one run in three on the demo. tests/tui/test_terminal.py pins its two causes
without a race."""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from osconsole.sim.serve import SimServer
from osconsole.sim.world import World

pty = pytest.importorskip("pty", reason="needs POSIX pseudo-terminals")
fcntl = pytest.importorskip("fcntl", reason="needs POSIX pseudo-terminals")
termios = pytest.importorskip("termios", reason="needs POSIX pseudo-terminals")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux pty semantics"),
]

EXIT_BOUND = 5.0  # seconds from the hangup to the process gone
SIZE = (45, 160)  # rows, columns
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")
KEYS = {"enter": b"\r", "escape": b"\x1b"}


class Terminal:
    """`osconsole` in a pseudo-terminal of its own (it is the session leader, as under
    tmux or sshd), with what it draws kept as plain text."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: nothing but exec
            os.execve(sys.executable, [sys.executable, "-m", "osconsole", *args], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, _winsize(*SIZE))
        self.seen = b""
        self.status: int | None = None

    def read(self, seconds: float) -> None:
        """Take what it drew for `seconds` (it must be read, or its writes block)."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:
                    return

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        """Until `text` is drawn (after the last key sent)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read(0.2)
            if text.encode() in ANSI.sub(b"", self.seen):
                return
        plain = ANSI.sub(b"", self.seen)[-2000:].decode("utf-8", "replace")
        raise AssertionError(f"{text!r} not drawn in {timeout:g}s; last drawn:\n{plain}")

    def press(self, *keys: str) -> None:
        self.seen = b""
        for key in keys:
            os.write(self.fd, KEYS.get(key, key.encode()))
            self.read(0.1)

    def hang_up(self) -> None:
        os.close(self.fd)

    def gone_within(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return True
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        if self.status is None:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)


def _winsize(rows: int, columns: int) -> bytes:
    return rows.to_bytes(2, sys.byteorder) + columns.to_bytes(2, sys.byteorder) + bytes(4)


@pytest.fixture
def console(served: tuple[World, SimServer, Path], tmp_path: Path) -> Iterator[Terminal]:
    _, _, clouds = served
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "OS_CLIENT_CONFIG_FILE": str(clouds),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    terminal = Terminal(["--os-cloud", "osconsole-sim"], env)
    try:
        yield terminal
    finally:
        terminal.kill()


def open_the_confirmation(terminal: Terminal) -> None:
    """A hypervisor's drill-down, its first action, a reason: "This will be sent"."""
    terminal.wait_for("rows")
    for _ in range(5):  # the first rows may land after the first Enter
        terminal.press("enter")
        try:
            terminal.wait_for("Placement usage", timeout=5)
            break
        except AssertionError:
            continue
    terminal.press("a")
    terminal.wait_for("Actions on")
    terminal.press("enter")
    terminal.wait_for("Enter on Continue")
    terminal.press(*"maintenance", "enter")
    terminal.wait_for("This will be sent")


@pytest.mark.parametrize("then", ["dialog open", "action refused"])
def test_the_console_exits_when_its_terminal_goes(console: Terminal, then: str) -> None:
    open_the_confirmation(console)
    if then == "action refused":
        console.press("n")
        console.wait_for("nothing was sent")
    console.hang_up()
    assert console.gone_within(EXIT_BOUND), f"still running {EXIT_BOUND:g}s after the hangup"
