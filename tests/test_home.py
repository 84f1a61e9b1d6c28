"""Tests never touch the operator's home: every XDG folder and HOME are temporary,
for in-process code and subprocesses alike, and the session checks the real state
directory was not written (tests/conftest.py)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from osconsole.audit import AuditLog, audit_path
from osconsole.config import default_path
from osconsole.logs import setup_file_logging, state_dir
from tests.conftest import REAL_STATE_DIR
from tests.support.home import XDG_DIRS, changes, fingerprint
from tests.test_audit import entry


def test_home_and_every_xdg_folder_are_temporary(home: Path, tmp_path: Path) -> None:
    assert Path(os.environ["HOME"]) == home == Path.home()
    assert Path("~").expanduser() == home
    for name in XDG_DIRS:
        folder = Path(os.environ[name])
        assert folder.is_relative_to(home) and folder.is_dir(), name
    assert home.parent == tmp_path.parent  # pytest's temporary folder of this session
    assert not state_dir().is_relative_to(REAL_STATE_DIR)
    assert state_dir().is_relative_to(home)
    assert audit_path().is_relative_to(home)
    assert default_path(dict(os.environ)).is_relative_to(home)
    assert stat_mode(Path(os.environ["XDG_RUNTIME_DIR"])) == 0o700


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_each_test_has_a_home_of_its_own(home: Path, session_home: Path) -> None:
    assert home != session_home
    assert not (home / ".local" / "state" / "osconsole").exists()  # no other test's lines


def test_logs_and_audit_lines_land_in_the_temporary_state_dir(home: Path) -> None:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        log_path = setup_file_logging()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    AuditLog().append(entry())
    folder = home / ".local" / "state" / "osconsole"
    assert log_path == folder / "osconsole.log"
    assert json.loads((folder / "audit.jsonl").read_text())["action"] == "server-lock"


def test_a_subprocess_inherits_the_temporary_folders(home: Path) -> None:
    code = "from osconsole.logs import state_dir; print(state_dir())"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert Path(result.stdout.strip()).is_relative_to(home)


def test_the_session_check_sees_a_file_created_written_or_removed(tmp_path: Path) -> None:
    """The check on the real state directory can fail: it sees every kind of write."""
    folder = tmp_path / "state"
    assert changes(None, fingerprint(folder)) == []
    folder.mkdir()
    created = fingerprint(folder)
    assert changes(None, created) == ["the folder was created"]
    (folder / "audit.jsonl").write_text("one\n")
    one = fingerprint(folder)
    assert changes(created, one) == ["created audit.jsonl"]
    with (folder / "audit.jsonl").open("a") as appended:
        appended.write("two\n")
    two = fingerprint(folder)
    assert changes(one, two) == ["written audit.jsonl"]
    assert changes(two, fingerprint(folder)) == []
    (folder / "audit.jsonl").unlink()
    assert changes(two, fingerprint(folder)) == ["removed audit.jsonl"]
