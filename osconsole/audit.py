"""The audit log: every attempt to change the cloud, one JSON line each, never a secret.

"Who disabled compute-17, and why?" is asked days later, often by someone else. Each
attempt (refused, failed, partial or succeeded) becomes one line of
<state dir>/audit.jsonl: when, where, which Keystone user, what, on what, the exact
requests, and how it ended. Lines are appended with O_APPEND in a single write, so
two consoles of the same operator never interleave; the file is the user's alone
(0600). Every string goes through the log scrubber, and the session's own token is
blanked wherever it might appear, because audit lines get pasted into tickets.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from osconsole.logs import open_private, scrub, state_dir

FILE_NAME = "audit.jsonl"
DEMO_FILE_NAME = "demo-audit.jsonl"  # the demo cloud's actions: never mixed with real ones
HIDDEN = "***"
SECRET_KEYS = re.compile(r"(?i)(password|secret|token|credential)")
FERNET = re.compile(r"gAAAAA[A-Za-z0-9_\-]{40,}=*")  # Keystone's Fernet tokens
RESULTS = ("succeeded", "partial", "failed", "refused")


def audit_path(env: dict[str, str] | None = None, *, demo: bool = False) -> Path:
    return state_dir(env) / (DEMO_FILE_NAME if demo else FILE_NAME)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class AuditEntry:
    """One attempt, as the audit line records it."""

    cloud: str
    region: str
    user_name: str
    user_id: str
    project_id: str
    action: str
    dangerous: bool
    target_kind: str
    target_id: str
    target_name: str
    params: Mapping[str, Any]
    requests: tuple[Mapping[str, Any], ...]
    allowed: bool  # whether the guard let it through to the API
    result: str  # one of RESULTS
    message: str
    readonly: bool = False
    time: datetime = field(default_factory=utc_now)

    def record(self) -> dict[str, Any]:
        return {
            "time": iso_utc(self.time),
            "cloud": self.cloud,
            "region": self.region,
            "user": {"name": self.user_name, "id": self.user_id, "project_id": self.project_id},
            "action": self.action,
            "dangerous": self.dangerous,
            "target": {"kind": self.target_kind, "id": self.target_id, "name": self.target_name},
            "params": dict(self.params),
            "requests": [dict(r) for r in self.requests],
            "readonly": self.readonly,
            "allowed": self.allowed,
            "result": self.result,
            "message": self.message,
        }


def scrubbed(value: Any, secrets: Iterable[str] = ()) -> Any:
    """`value` with every string scrubbed, values under secret-looking keys hidden, and
    the given secrets (the session's token) blanked wherever they appear."""
    known = tuple(s for s in secrets if s)
    if isinstance(value, str):
        for secret in known:
            value = value.replace(secret, HIDDEN)
        return FERNET.sub(HIDDEN, scrub(value))
    if isinstance(value, Mapping):
        return {
            str(k): HIDDEN if SECRET_KEYS.search(str(k)) else scrubbed(v, known)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrubbed(item, known) for item in value]
    return value


class AuditLog:
    """Appends audit lines to one file (by default <state dir>/audit.jsonl)."""

    def __init__(self, path: Path | None = None, *, env: dict[str, str] | None = None) -> None:
        self.path = path if path is not None else audit_path(env)
        self._lock = threading.Lock()

    def append(self, entry: AuditEntry, secrets: Iterable[str] = ()) -> dict[str, Any]:
        """Write one line; return the record as written (scrubbed)."""
        if entry.result not in RESULTS:
            raise ValueError(f"audit result must be one of {RESULTS}, not {entry.result!r}")
        record = scrubbed(entry.record(), secrets)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._write(line.encode("utf-8"))
        return record

    def check(self) -> None:
        """Raise OSError unless a line could be appended now (nothing is written):
        a change that could not be audited is not made."""
        os.close(self._open())

    def _open(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return open_private(self.path)

    def _write(self, data: bytes) -> None:
        with self._lock:
            fd = self._open()
            try:
                written = os.write(fd, data)  # one write: O_APPEND keeps lines whole
                if written != len(data):  # only on a full disk; never leave half a line
                    os.write(fd, b"\n")
                    raise OSError(f"audit log {self.path}: short write ({written} bytes)")
            finally:
                os.close(fd)

    def entries(self, last: int | None = None) -> list[dict[str, Any]]:
        """The lines written so far (newest last), skipping any that do not parse."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for raw in text.splitlines():
            try:
                found.append(json.loads(raw))
            except ValueError:
                continue
        return found[-last:] if last else found
