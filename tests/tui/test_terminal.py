"""A terminal that goes away never stalls the console: writes to it are dropped, and the
SIGCONT of a hangup asks the App to exit instead of drawing again on a dead terminal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import signal
import sys
import threading
from collections.abc import Iterator
from typing import IO, Any

import pytest

termios = pytest.importorskip("termios", reason="terminals here are POSIX terminals")

from textual.drivers._writer_thread import MAX_QUEUED_WRITES, WriterThread  # noqa: E402

from osconsole.tui.terminal import HangupSafeDriver, TerminalOutput, terminal_gone  # noqa: E402

WRITES = MAX_QUEUED_WRITES * 3  # enough to fill the writer's queue several times over


@pytest.fixture
def hung_up() -> Iterator[IO[str]]:
    """The terminal end of a pty whose other end has been closed (a dropped session)."""
    master, slave = os.openpty()
    os.close(master)
    terminal = os.fdopen(slave, "w", encoding="utf-8")
    yield terminal
    with contextlib.suppress(OSError):  # what was buffered cannot be flushed any more
        terminal.close()


def test_a_hung_up_terminal_is_gone_and_a_live_one_or_a_file_is_not(
    hung_up: IO[str], tmp_path: Any
) -> None:
    master, slave = os.openpty()
    try:
        assert not terminal_gone(slave)
    finally:
        os.close(master)
        os.close(slave)
    assert terminal_gone(hung_up.fileno())
    with open(tmp_path / "plain", "w") as plain:  # never a terminal: not "gone"
        assert not terminal_gone(plain.fileno())


def write_all(writer: WriterThread, done: threading.Event) -> None:
    for _ in range(WRITES):
        writer.write("\x1b[2J frame ")
    done.set()


def test_writing_to_a_gone_terminal_drops_the_text_and_never_blocks(hung_up: IO[str]) -> None:
    lost: list[bool] = []
    writer = WriterThread(TerminalOutput(hung_up, lambda: lost.append(True)))  # type: ignore[arg-type]
    writer.start()
    done = threading.Event()
    threading.Thread(target=write_all, args=(writer, done), daemon=True).start()
    assert done.wait(10), "the writes blocked"
    stopping = threading.Thread(target=writer.stop, daemon=True)
    stopping.start()
    stopping.join(10)
    assert not stopping.is_alive() and not writer.is_alive()
    assert lost == [True]  # said once


def test_the_plain_terminal_file_stalls_the_writes_which_is_what_hung(hung_up: IO[str]) -> None:
    """The harness sees the failure: Textual's writer on the bare file dies at the first
    EIO, and once its queue is full the next write blocks (the loop, in the App)."""
    writer = WriterThread(hung_up)
    excepthook = threading.excepthook
    threading.excepthook = lambda args: None  # the writer thread's EIO is expected here
    try:
        writer.start()
        done = threading.Event()
        threading.Thread(target=write_all, args=(writer, done), daemon=True).start()
        assert not done.wait(1.0), "the writes went through: the harness cannot see a stall"
    finally:
        while not done.is_set():  # release the blocked writes
            with contextlib.suppress(queue.Empty):
                writer._queue.get(timeout=0.01)
        threading.excepthook = excepthook


class ExitRecorder:
    def __init__(self) -> None:
        self.exits = 0

    def exit(self) -> None:
        self.exits += 1


@pytest.fixture
def keep_signal_handlers() -> Iterator[None]:
    """LinuxDriver installs SIGTSTP and SIGCONT handlers: put the test runner's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTSTP, signal.SIGCONT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


async def test_sigcont_after_a_hangup_asks_to_exit_and_draws_nothing(
    hung_up: IO[str], keep_signal_handlers: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "__stdin__", hung_up)  # the driver reads the terminal there
    monkeypatch.setattr(sys, "__stderr__", hung_up)  # and draws there
    app = ExitRecorder()
    driver = HangupSafeDriver(app)  # type: ignore[arg-type]
    driver._sigcont_application()
    driver._sigcont_application()  # a second signal: still one exit
    await asyncio.sleep(0.05)
    assert app.exits == 1
    assert driver._writer_thread is None  # application mode was not started again
