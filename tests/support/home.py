"""Keep tests out of the operator's home: HOME and every XDG folder point at a temporary one.

osconsole writes its log and audit lines under $XDG_STATE_HOME (default
~/.local/state), reads config.yaml under $XDG_CONFIG_HOME, and openstacksdk looks for
clouds.yaml under both. A test must neither leave lines in the real audit log nor
pick up an operator's own configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

XDG_DIRS = {
    "XDG_STATE_HOME": ".local/state",
    "XDG_CONFIG_HOME": ".config",
    "XDG_CACHE_HOME": ".cache",
    "XDG_DATA_HOME": ".local/share",
    "XDG_RUNTIME_DIR": "run",
}

# A file's size and modification time, by its path below the folder watched.
Fingerprint = dict[str, tuple[int, int]]


def point_home_at(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """HOME and every XDG folder inside `home` (created; the runtime one private), and
    no $OSCONSOLE_CONFIG naming the operator's own config.yaml."""
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("OSCONSOLE_CONFIG", raising=False)
    for name, below in XDG_DIRS.items():
        folder = home / below
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    (home / XDG_DIRS["XDG_RUNTIME_DIR"]).chmod(0o700)


def home_env() -> dict[str, str]:
    """HOME and the XDG folders the tests run with, for a subprocess given an env of its own."""
    return {name: os.environ[name] for name in ("HOME", *XDG_DIRS) if name in os.environ}


def fingerprint(folder: Path) -> Fingerprint | None:
    """Every file and folder under `folder` with its size and mtime (None: no such folder)."""
    if not folder.exists():
        return None
    found: Fingerprint = {}
    for path in [folder, *folder.rglob("*")]:
        stat = path.stat()
        found[path.relative_to(folder).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return found


def changes(before: Fingerprint | None, after: Fingerprint | None) -> list[str]:
    """What was created, written or removed between two fingerprints of one folder."""
    if before == after:
        return []
    if before is None:
        return ["the folder was created"]
    if after is None:
        return ["the folder was removed"]
    found = [f"created {p}" for p in sorted(after.keys() - before.keys())]
    found += [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    found += [
        f"written {p}"
        for p in sorted(before.keys() & after.keys())
        if before[p] != after[p] and p != "."
    ]
    return found or ["its entries changed"]
