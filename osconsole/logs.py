"""Logging to a file in the XDG state directory, never onto the screen, never a secret.

A full-screen console cannot print logs (they would tear the display), and logs
get pasted into tickets: tokens and passwords are scrubbed before anything is written.
"""

from __future__ import annotations

import logging
import os
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

SECRET_PATTERNS = [
    # header-style: X-Auth-Token: abc, X-Subject-Token: abc
    re.compile(r"(?i)(x-(?:auth|subject)-token['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"),
    # JSON or YAML fields: "password": "x", secret: x, token=x
    re.compile(
        r"(?i)(['\"]?(?:password|secret|token|auth_token)['\"]?\s*[:=]\s*['\"]?)([^\s'\",}]+)"
    ),
]


def scrub(text: str) -> str:
    """`text` with anything that looks like a credential replaced by ***."""
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


def setup_file_logging(level: int = logging.INFO, env: dict[str, str] | None = None) -> Path:
    """Send every log record to <state dir>/osconsole.log (rotated); return its path."""
    directory = state_dir(env)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "osconsole.log"
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
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
