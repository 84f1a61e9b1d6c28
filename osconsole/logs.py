"""Logging to a file in the XDG state directory, never onto the screen, never a secret.

A full-screen console cannot print logs (they would tear the display), and logs
get pasted into tickets: tokens and passwords are scrubbed before anything is written,
and the file is the user's alone (0600), like the audit log.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

FILE_MODE = 0o600
# A URL's userinfo: `https://user:password@host/...`, up to the last @ before the path.
# Never across a quote or a backslash, so that a match stays inside one JSON string.
URL_USERINFO = re.compile(r'(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@"\\<>]*(?:@[^/?#\s@"\\<>]*)*@')

SECRET_PATTERNS = [
    # header-style: X-Auth-Token: abc, X-Subject-Token: abc
    re.compile(r"(?i)(x-(?:auth|subject)-token['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"),
    # JSON or YAML fields: "password": "x", secret: x, token=x
    re.compile(
        r"(?i)(['\"]?(?:password|secret|token|auth_token)['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"
    ),
]


def redact_userinfo(text: str) -> str:
    """`text` with the user and password of every URL in it replaced by ***
    (an `auth_url` may carry them, and keystoneauth's messages repeat the URL)."""
    return URL_USERINFO.sub(r"\1***@", text)


def scrub(text: str) -> str:
    """`text` with anything that looks like a credential replaced by ***."""
    text = redact_userinfo(text)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


class ScrubbingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def state_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "osconsole"


def open_private(path: Path) -> int:
    """A descriptor appending to `path`, created 0600, or narrowed to 0600 if it was
    created before (or under a loose umask)."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) & 0o077:
            os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose every file, the first and each after a rollover, is 0600."""

    def _open(self) -> TextIO:
        fd = open_private(Path(self.baseFilename))
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_file_logging(level: int = logging.INFO, env: dict[str, str] | None = None) -> Path:
    """Send every log record to <state dir>/osconsole.log (rotated); return its path."""
    directory = state_dir(env)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / "osconsole.log"
    handler = PrivateRotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # Their debug logs echo requests; ours say what matters.
    for noisy in ("keystoneauth", "openstack", "httpx", "httpcore", "urllib3", "stevedore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return path
