"""What a collector sends its viewers: newline-delimited JSON messages on one stream.

A viewer asks `GET /v1/stream` and gets, at once, a `hello` and the current state
(a `snapshot` message for every (region, kind) the collector holds), then, as polls
end, a `delta` per new snapshot: its header and only the items that changed or went
since the previous snapshot of that (region, kind) on the same stream. A viewer that
holds the previous snapshot rebuilds the new one exactly (`apply_delta`); a delta
for a scope it does not hold is a protocol error (the stream is then dropped and
opened again, which starts with the full state). JSON keeps it debuggable with
curl; at `large` a delta of a poll that changed 1% of 20,000 routers is ~200 items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from osconsole.codec import (
    DecodeError,
    dumps,
    item_from_builtins,
    item_to_builtins,
    loads,
    snapshot_from_builtins,
    snapshot_from_header,
    snapshot_header,
    snapshot_to_builtins,
)
from osconsole.model import Kind, RegionRef, Snapshot

VERSION = 1
STREAM_PATH = "/v1/stream"
Scope = tuple[RegionRef, Kind]


class ProtocolError(ValueError):
    """A message that does not follow this protocol (or another version of it)."""


def line(message: Mapping[str, Any]) -> bytes:
    """One message as one line of the stream."""
    return dumps(message) + b"\n"


def read_line(raw: bytes | str) -> dict[str, Any]:
    try:
        message = loads(raw)
    except DecodeError as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("a message without a type")
    return message


def hello(regions: Iterable[RegionRef], **about: Any) -> dict[str, Any]:
    """The first message: the protocol version, the regions polled, and `about` the
    collector (its start time, the errors of clouds not connected, ...)."""
    return {
        "type": "hello",
        "version": VERSION,
        "regions": [{"cloud": r.cloud, "region": r.region} for r in regions],
        **about,
    }


def check_hello(message: Mapping[str, Any]) -> list[RegionRef]:
    """The regions of a `hello`; a ProtocolError for another version."""
    if message.get("type") != "hello":
        raise ProtocolError(f"expected hello, got {message.get('type')!r}")
    if message.get("version") != VERSION:
        raise ProtocolError(
            f"the collector speaks protocol {message.get('version')!r}, this viewer {VERSION}"
        )
    try:
        return [RegionRef(str(r["cloud"]), str(r["region"])) for r in message["regions"]]
    except (KeyError, TypeError) as exc:
        raise ProtocolError(f"a hello without regions: {exc}") from exc


def full(snapshot: Snapshot[Any]) -> dict[str, Any]:
    """A whole snapshot (the state a new viewer starts from)."""
    return {"type": "snapshot", "snapshot": snapshot_to_builtins(snapshot)}


def delta(previous: Snapshot[Any] | None, current: Snapshot[Any]) -> dict[str, Any]:
    """`current` as the change from `previous` (a full snapshot when there is none)."""
    if previous is None:
        return full(current)
    before = previous.items
    changed = {
        key: item_to_builtins(item)
        for key, item in current.items.items()
        if (old := before.get(key)) is not item and old != item
    }
    removed = [key for key in before if key not in current.items]
    return {
        "type": "delta",
        "header": snapshot_header(current),
        "changed": changed,
        "removed": removed,
    }


def scope_of(message: Mapping[str, Any]) -> Scope:
    data = message["snapshot"] if message["type"] == "snapshot" else message["header"]
    return RegionRef(str(data["cloud"]), str(data["region"])), Kind(data["kind"])


def apply_message(held: Mapping[Scope, Snapshot[Any]], message: Mapping[str, Any]) -> Snapshot[Any]:
    """The snapshot a `snapshot` or `delta` message makes of what the viewer `held`."""
    try:
        if message["type"] == "snapshot":
            return snapshot_from_builtins(message["snapshot"])
        scope = scope_of(message)
        previous = held.get(scope)
        if previous is None:
            raise ProtocolError(f"a delta for {scope[0]} {scope[1]}, which this stream never sent")
        items = dict(previous.items)
        for key in message["removed"]:
            items.pop(key, None)
        for key, data in message["changed"].items():
            items[key] = item_from_builtins(scope[1], data)
        return snapshot_from_header(message["header"], items)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(f"a malformed {message.get('type')} message: {exc}") from exc
