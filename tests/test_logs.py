"""The log file: scrubbed of credentials (URLs' userinfo included) and the user's alone."""

from __future__ import annotations

import logging
import logging.handlers
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from osconsole.audit import scrubbed
from osconsole.logs import redact_userinfo, scrub, setup_file_logging

PASSWORD = "S3cret-pw"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            f"Unable to establish connection to https://alice:{PASSWORD}@keystone.example:5000/v3",
            "Unable to establish connection to https://***@keystone.example:5000/v3",
        ),
        (f"http://alice:{PASSWORD}@10.0.0.1", "http://***@10.0.0.1"),
        ("https://token-only@host/v3", "https://***@host/v3"),
        (f"https://alice:p@ss{PASSWORD}@host/v3", "https://***@host/v3"),  # a raw @ inside
        (
            f"'http://a:{PASSWORD}@h/' and 'https://b:{PASSWORD}@k/'",
            "'http://***@h/' and 'https://***@k/'",
        ),
    ],
)
def test_the_userinfo_of_every_url_is_redacted(text: str, shown: str) -> None:
    assert redact_userinfo(text) == shown
    assert PASSWORD not in scrub(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://keystone.example:5000/v3",
        "https://host/v3?next=a@b and mail ops@example.org",
        "rone-cmp00001 user@host disabled",
        '{"a":"ftp://","b":"x@y"}',  # never across JSON strings
    ],
)
def test_text_without_userinfo_is_left_alone(text: str) -> None:
    assert redact_userinfo(text) == text


def test_the_audit_log_redacts_userinfo_too() -> None:
    record = scrubbed({"message": f"cannot reach https://alice:{PASSWORD}@host/v3"})
    assert record == {"message": "cannot reach https://***@host/v3"}


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """setup_file_logging takes over the root logger: give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_the_log_file_is_private_and_scrubbed(tmp_path: Path, root_logger: logging.Logger) -> None:
    old_umask = os.umask(0o022)  # a usual umask would give 0644
    try:
        path = setup_file_logging(env={"XDG_STATE_HOME": str(tmp_path)})
    finally:
        os.umask(old_umask)
    logging.getLogger("keystoneauth.identity").warning(
        "Failed to discover versions when contacting https://alice:%s@host/v3", PASSWORD
    )
    logging.getLogger("osconsole").info("X-Auth-Token: gAAAAAsecret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "https://***@host/v3" in text and PASSWORD not in text
    assert "gAAAAAsecret" not in text


def test_a_log_file_made_readable_before_is_narrowed_and_so_is_each_rollover(
    tmp_path: Path, root_logger: logging.Logger
) -> None:
    directory = tmp_path / "osconsole"
    directory.mkdir()
    (directory / "osconsole.log").write_text("from an older version\n")
    (directory / "osconsole.log").chmod(0o644)
    path = setup_file_logging(env={"XDG_STATE_HOME": str(tmp_path)})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (handler,) = root_logger.handlers
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    old_umask = os.umask(0o022)
    try:
        handler.doRollover()
    finally:
        os.umask(old_umask)
    logging.getLogger("osconsole").warning("after the rollover")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "after the rollover" in path.read_text()
