"""Every snapshot the poller makes comes back from plain data as the very same object."""

from __future__ import annotations

import json

import pytest

from osconsole.cloud.connect import Connection
from osconsole.codec import (
    DecodeError,
    dumps,
    item_from_builtins,
    loads,
    plane_look_from_builtins,
    plane_look_to_builtins,
    snapshot_from_builtins,
    snapshot_to_builtins,
)
from osconsole.config import Settings
from osconsole.controlplane import plane_looks
from osconsole.model import Kind
from osconsole.poller import Poller


@pytest.fixture
async def polled(connection: Connection) -> list:
    poller = Poller(connection.regions, Settings(), unpaced_sweeps=True)
    return await poller.poll_once()


async def test_every_kind_round_trips_through_json(polled: list) -> None:
    assert {s.kind for s in polled} == set(Kind)
    for snapshot in polled:
        wire = dumps(snapshot_to_builtins(snapshot))
        back = snapshot_from_builtins(loads(wire))
        assert back == snapshot, snapshot.kind
        assert dict(back.items) == dict(snapshot.items)
        assert back.extra == snapshot.extra


async def test_typed_extras_come_back_as_objects(polled: list) -> None:
    tenants = next(s for s in polled if s.kind is Kind.TENANTS)
    back = snapshot_from_builtins(json.loads(dumps(snapshot_to_builtins(tenants))))
    assert type(back.extra["lead_times"]) is type(tenants.extra["lead_times"])


async def test_plane_looks_round_trip(connection: Connection, polled: list) -> None:
    for look in plane_looks(connection.regions, 1e9, polled):
        assert plane_look_from_builtins(loads(dumps(plane_look_to_builtins(look)))) == look


def test_a_wrongly_typed_item_fails_loudly() -> None:
    with pytest.raises(DecodeError, match="Agent"):
        item_from_builtins(Kind.AGENTS, {"id": "a", "alive": "maybe"})
    with pytest.raises(DecodeError):
        snapshot_from_builtins({"kind": "nonsense"})
