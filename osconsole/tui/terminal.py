"""Leaving cleanly when the terminal goes away (an SSH session drops, tmux is killed).

On a hangup the kernel sends SIGHUP and SIGCONT. Textual's LinuxDriver answers SIGCONT
by starting application mode again on the dead terminal: its new writer thread dies at
its first write (EIO), nothing drains its bounded queue any more, and the next writes
block the event loop for good, so neither the SIGHUP handler's exit nor the terminal
check ever completes and the process lingers, orphaned, until someone kills it. It
happened whenever enough was drawn at that moment: a dialog, a notification.

`HangupSafeDriver` keeps the driver but never lets a gone terminal stall it: SIGCONT
on a gone terminal only asks the App to exit, and writes to a gone terminal are
dropped, so the writer thread keeps draining its queue and the shutdown completes.
"""

from __future__ import annotations

import errno
import logging
import termios
import threading
from collections.abc import Callable
from typing import IO, Any

from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

log = logging.getLogger(__name__)

# What a hung-up (or revoked) terminal answers; ENOTTY only means "never a terminal".
GONE_ERRNOS = frozenset({errno.EIO, errno.ENXIO, errno.EBADF})


def terminal_gone(fd: int) -> bool:
    """True when `fd` was a terminal and has been hung up."""
    try:
        termios.tcgetattr(fd)
    except (termios.error, OSError) as exc:
        code = exc.errno if isinstance(exc, OSError) else exc.args[0]
        return code in GONE_ERRNOS
    return False


class TerminalOutput:
    """The driver's output file, dropping whatever is written once the terminal is gone
    (and saying so once), so that the writer thread never dies with writes queued."""

    def __init__(self, file: IO[str], on_gone: Callable[[], None]) -> None:
        self._file = file
        self._on_gone = on_gone
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self._file.write(text)
            except OSError:
                self._lost()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._file.flush()
            except OSError:
                self._lost()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return self._file.isatty()

    def _lost(self) -> None:
        self.gone = True
        self._on_gone()


class HangupSafeDriver(LinuxDriver):
    """Textual's LinuxDriver, which exits instead of stalling when its terminal goes."""

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._leaving = threading.Event()
        self._file = TerminalOutput(self._file, self.terminal_lost)  # type: ignore[arg-type]

    def _sigcont_application(self, *args: Any) -> None:
        if terminal_gone(self.fileno):
            self.terminal_lost()
            return  # starting application mode again on a dead terminal is what stalled
        super()._sigcont_application(*args)

    def terminal_lost(self) -> None:
        """Ask the App to exit, once; safe from any thread and from a signal handler."""
        if self._leaving.is_set():
            return
        self._leaving.set()
        log.info("the terminal went away; exiting")
        self._loop.call_soon_threadsafe(self._app.exit)  # the App's loop (Driver keeps it)
