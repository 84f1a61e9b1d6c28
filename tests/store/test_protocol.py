"""A viewer rebuilds every snapshot exactly from the collector's deltas."""

from __future__ import annotations

from dataclasses import replace

import pytest

from osconsole.collector.protocol import (
    ProtocolError,
    apply_message,
    check_hello,
    delta,
    hello,
    line,
    read_line,
    scope_of,
)
from osconsole.model import Agent, Kind, RegionRef, Snapshot

REF = RegionRef("c", "r")


def agent(key: str, alive: bool = True) -> Agent:
    return Agent(key, "L3 agent", "neutron-l3-agent", f"h-{key}", alive, True, 1.0, 2.0, 0.5)


def snap(*agents: Agent, at: float = 10.0) -> Snapshot:
    return Snapshot(REF, Kind.AGENTS, Snapshot.freeze({a.id: a for a in agents}), fetched_at=at)


def test_a_delta_carries_only_what_changed_and_rebuilds_the_snapshot() -> None:
    before = snap(agent("a"), agent("b"), agent("c"))
    after = snap(agent("a"), agent("b", alive=False), agent("d"), at=20.0)
    message = read_line(line(delta(before, after)))
    assert message["type"] == "delta"
    assert set(message["changed"]) == {"b", "d"}
    assert message["removed"] == ["c"]
    rebuilt = apply_message({(REF, Kind.AGENTS): before}, message)
    assert rebuilt == after


def test_the_first_message_of_a_scope_is_the_whole_snapshot() -> None:
    first = snap(agent("a"))
    message = read_line(line(delta(None, first)))
    assert message["type"] == "snapshot"
    assert scope_of(message) == (REF, Kind.AGENTS)
    assert apply_message({}, message) == first


def test_a_delta_without_its_base_is_refused() -> None:
    message = read_line(line(delta(snap(agent("a")), snap(agent("b")))))
    with pytest.raises(ProtocolError, match="never sent"):
        apply_message({}, message)


def test_malformed_lines_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError):
        read_line(b"{not json")
    with pytest.raises(ProtocolError):
        read_line(b"[1, 2]")
    broken = read_line(line(delta(snap(agent("a")), replace(snap(agent("b")), fetched_at=3))))
    broken["changed"]["b"] = {"id": "b"}
    with pytest.raises(ProtocolError):
        apply_message({(REF, Kind.AGENTS): snap(agent("a"))}, broken)


def test_hello_names_the_regions_and_refuses_another_version() -> None:
    message = read_line(line(hello([REF], started_at=1.0)))
    assert check_hello(message) == [REF]
    with pytest.raises(ProtocolError, match="protocol 99"):
        check_hello({**message, "version": 99})
