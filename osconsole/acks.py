"""Acknowledgements: who said "seen, on it" about a finding, when, why and until when,
kept across restarts.

An acknowledged finding stays listed but quiet (health.findings.Tracker) until it
changes or its acknowledgement expires. Restarting the console must not wake
everyone again, so acknowledgements are kept in a small JSON file in the XDG state
dir (`acknowledged.json`; the demo cloud's in `demo-acknowledged.json`), written
whole and atomically, the user's alone (0600). Until the project's store exists
this file is the record; the wall reads it, and never writes it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from osconsole.logs import state_dir

FILE_NAME = "acknowledged.json"
DEMO_FILE_NAME = "demo-acknowledged.json"
FORMAT_VERSION = 1
NOTE_MAX = 200
_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """One finding acknowledged: `key` is the finding's; `severity` and `essence` what it
    said when acknowledged (a change un-acknowledges it); times are UTC epoch seconds."""

    key: str
    by: str
    at: float
    severity: int
    essence: str
    note: str = ""
    expires: float | None = None

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Acknowledgement | None:
        """None for an entry that does not parse (a hand-edited file is not fatal)."""
        try:
            expires = data.get("expires")
            return cls(
                key=str(data["key"]),
                by=str(data.get("by", "")),
                at=float(data["at"]),
                severity=int(data["severity"]),
                essence=str(data["essence"]),
                note=str(data.get("note", ""))[:NOTE_MAX],
                expires=None if expires is None else float(expires),
            )
        except (KeyError, TypeError, ValueError):
            return None


def parse_duration(text: str) -> float | None:
    """ "90m", "1h30m", "2d", "45s" -> seconds; "" -> None (no expiry). ValueError if bad."""
    text = text.strip().lower()
    if not text:
        return None
    if text.isdigit():
        text += "m"  # a bare number is minutes, as people say "ack for 30"
    found = _DURATION.findall(text)
    if not found or _DURATION.sub("", text).strip():
        raise ValueError(f"{text!r} is not a duration: say 30m, 2h, 1h30m or 1d")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in found)
    if seconds <= 0:
        raise ValueError("an expiry must be in the future")
    return float(seconds)


def acks_path(*, demo: bool = False, env: dict[str, str] | None = None) -> Path:
    return state_dir(env) / (DEMO_FILE_NAME if demo else FILE_NAME)


class AckFile:
    """The acknowledgements file: read whole, written whole (temporary file + rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def stamp(self) -> float | None:
        """The file's modification time (None if absent): read again only when it moved."""
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None

    def load(self) -> dict[str, Acknowledgement]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = data.get("acknowledged", []) if isinstance(data, dict) else []
        found = (Acknowledgement.from_dict(e) for e in entries if isinstance(e, dict))
        return {ack.key: ack for ack in found if ack is not None}

    def save(self, acks: Iterable[Acknowledgement]) -> None:
        document = {
            "version": FORMAT_VERSION,
            "acknowledged": [a.as_dict() for a in sorted(acks, key=lambda a: a.key)],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".ack-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(document, out, indent=1)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
