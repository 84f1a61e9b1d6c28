"""Acknowledgements: who, when, why, until when; kept across restarts, and forgotten
when what they acknowledged is fixed or changes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from osconsole.acks import AckFile, Acknowledgement, parse_duration
from osconsole.health.findings import Severity, Tracker
from tests.health.test_findings import cond, look

IMMEDIATE = dict(rule="agent.down", debounce=0.0, reason="L3 agent on net01 is dead")


def raised(tracker: Tracker, at: float = 1000.0) -> str:
    condition = cond(at, **IMMEDIATE)
    tracker.update(look(at, condition))
    return condition.key


def test_an_acknowledgement_records_who_when_why_and_until_when() -> None:
    tracker = Tracker()
    key = raised(tracker)
    ack = tracker.acknowledge(key, by="alice", at=1005.0, note="CHG-1", for_s=3600)
    assert ack is not None and (ack.by, ack.at, ack.note, ack.expires) == (
        "alice",
        1005.0,
        "CHG-1",
        4605.0,
    )
    (finding,) = tracker.findings()
    assert finding.acknowledged and finding.ack == ack
    assert finding.as_dict()["acknowledgement"]["by"] == "alice"


def test_an_acknowledgement_expires_and_the_finding_is_raised_again() -> None:
    tracker = Tracker()
    key = raised(tracker)
    tracker.acknowledge(key, by="alice", at=1000.0, for_s=60)
    assert tracker.update(look(1030, cond(1030, **IMMEDIATE))).findings[0].acknowledged
    update = tracker.update(look(1061, cond(1061, **IMMEDIATE)))
    assert not update.findings[0].acknowledged and [f.key for f in update.raised] == [key]
    assert tracker.acknowledgements() == ()


def test_acknowledgements_of_a_last_run_apply_to_the_same_finding_seen_again() -> None:
    before = Tracker()
    key = raised(before)
    before.acknowledge(key, by="alice", at=1000.0, note="on it")
    kept = {a.key: a for a in before.acknowledgements()}
    after = Tracker()  # a restart
    after.restore(kept)
    update = after.update(look(1100, cond(1100, **IMMEDIATE)))
    assert update.findings[0].acknowledged and update.raised == ()
    assert update.findings[0].ack is not None and update.findings[0].ack.note == "on it"


def test_a_restored_acknowledgement_does_not_hide_a_finding_that_changed() -> None:
    before = Tracker()
    key = raised(before)
    before.acknowledge(key, by="alice", at=1000.0)
    after = Tracker()
    after.restore({a.key: a for a in before.acknowledgements()})
    worse = cond(1100, **{**IMMEDIATE, "reason": "L3 agent on net01 was deleted"})
    update = after.update(look(1100, worse))
    assert not update.findings[0].acknowledged and [f.key for f in update.raised] == [key]


def test_a_restored_acknowledgement_is_forgotten_when_a_fresh_look_shows_it_fixed() -> None:
    before = Tracker()
    key = raised(before)
    before.acknowledge(key, by="alice", at=1000.0)
    after = Tracker()
    after.restore({a.key: a for a in before.acknowledgements()})
    assert [a.key for a in after.acknowledgements()] == [key]  # not looked at yet: kept
    after.update(look(1100))  # fixed while the console was down
    assert after.acknowledgements() == ()
    update = after.update(look(1200, cond(1200, **IMMEDIATE)))  # a new incident: loud
    assert not update.findings[0].acknowledged


def test_restore_mirrors_the_file_for_current_findings() -> None:
    tracker = Tracker()
    key = raised(tracker)
    tracker.acknowledge(key, by="alice", at=1000.0)
    tracker.restore({})  # someone took it back (the wall follows the console's file)
    assert not tracker.findings()[0].acknowledged


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("", None), ("30m", 1800.0), ("1h30m", 5400.0), ("2d", 172800.0), ("45", 2700.0)],
)
def test_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "1x", "0m", "-5m", "1h soon"])
def test_bad_durations_say_why(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_file_round_trips_is_private_and_survives_a_bad_entry(tmp_path: Path) -> None:
    path = tmp_path / "state" / "acknowledged.json"
    ack = Acknowledgement("k@c/r/agents/a", "alice", 1.0, int(Severity.CRITICAL), "dead", "n", 9.0)
    AckFile(path).save([ack])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert AckFile(path).load() == {ack.key: ack}
    path.write_text(json.dumps({"acknowledged": [{"key": "x"}, ack.as_dict()]}))
    assert AckFile(path).load() == {ack.key: ack}  # the entry that does not parse is skipped
    assert AckFile(tmp_path / "absent.json").load() == {}
