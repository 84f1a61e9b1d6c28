"""Snapshots, items and control-plane looks as plain data and back, exactly.

The store keeps them as rows and the collector sends them to viewers; both must
get back the very objects the poller made (frozen dataclasses, tuples, the typed
`extra` entries the rules read), or a replayed or remote console would judge other
facts than the live one did. msgspec does the walking and the typed decoding (a
missing or wrongly typed field fails loudly instead of becoming a default); this
module only says which type each kind's items and each typed `extra` entry have.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from osconsole.availability import WindowStats
from osconsole.health.plane import PlaneLook
from osconsole.leadtimes import LeadTimeSummary
from osconsole.model import (
    Agent,
    Hypervisor,
    Kind,
    RegionRef,
    Router,
    Service,
    Snapshot,
    TenantSignals,
)
from osconsole.probes.base import ProbeResult

ITEM_TYPES: dict[Kind, type] = {
    Kind.HYPERVISORS: Hypervisor,
    Kind.SERVICES: Service,
    Kind.AGENTS: Agent,
    Kind.ROUTERS: Router,
    Kind.TENANTS: TenantSignals,
}
# `extra` entries that are objects, not plain data (the rest stay as JSON gives them).
EXTRA_TYPES: dict[str, type] = {"lead_times": LeadTimeSummary}


class DecodeError(ValueError):
    """Stored or received data that does not have the shape of what it claims to be."""


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, MappingProxyType):
        return dict(obj)
    if isinstance(obj, frozenset | set):
        return sorted(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)


def to_builtins(obj: Any) -> Any:
    """`obj` (dataclasses, tuples, mappings) as dicts, lists, strings and numbers."""
    return msgspec.to_builtins(obj, enc_hook=_enc_hook)


def dumps(obj: Any) -> bytes:
    """`obj` as compact JSON (dataclasses included)."""
    return _ENCODER.encode(obj)


def loads(data: bytes | str) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(str(exc)) from exc


def _convert(data: Any, kind_type: Any) -> Any:
    try:
        return msgspec.convert(data, kind_type, strict=False)
    except msgspec.ValidationError as exc:
        raise DecodeError(f"{getattr(kind_type, '__name__', kind_type)}: {exc}") from exc


def item_to_builtins(item: Any) -> Any:
    return to_builtins(item)


def item_from_builtins(kind: Kind, data: Any) -> Any:
    """One item of `kind` (a Hypervisor, a Router, ...) from its plain data."""
    return _convert(data, ITEM_TYPES[kind])


def snapshot_header(snapshot: Snapshot[Any]) -> dict[str, Any]:
    """Everything of a snapshot but its items (the store keeps items as changes)."""
    return {
        "cloud": snapshot.ref.cloud,
        "region": snapshot.ref.region,
        "kind": str(snapshot.kind),
        "fetched_at": snapshot.fetched_at,
        "server_time": snapshot.server_time,
        "duration_ms": snapshot.duration_ms,
        "requests": snapshot.requests,
        "error": snapshot.error,
        "stale": snapshot.stale,
        "complete": snapshot.complete,
        "notes": list(snapshot.notes),
        "extra": to_builtins(dict(snapshot.extra)),
        "partly_read": sorted(snapshot.partly_read),
        "held": dict(snapshot.held),
    }


def snapshot_to_builtins(snapshot: Snapshot[Any]) -> dict[str, Any]:
    """A whole snapshot as plain data: its header and {id: item}."""
    data = snapshot_header(snapshot)
    data["items"] = {key: to_builtins(item) for key, item in snapshot.items.items()}
    return data


def _extra_from(data: Mapping[str, Any]) -> dict[str, Any]:
    extra = dict(data)
    for key, kind_type in EXTRA_TYPES.items():
        if extra.get(key) is not None:
            extra[key] = _convert(extra[key], kind_type)
    return extra


def snapshot_from_header(header: Mapping[str, Any], items: Mapping[str, Any]) -> Snapshot[Any]:
    """The snapshot a header says, with `items` (already objects)."""
    try:
        kind = Kind(header["kind"])
        return Snapshot(
            ref=RegionRef(str(header["cloud"]), str(header["region"])),
            kind=kind,
            items=Snapshot.freeze(items),
            fetched_at=float(header["fetched_at"]),
            server_time=header.get("server_time"),
            duration_ms=float(header.get("duration_ms") or 0.0),
            requests=int(header.get("requests") or 0),
            error=header.get("error"),
            stale=bool(header.get("stale")),
            complete=bool(header.get("complete", True)),
            notes=tuple(header.get("notes") or ()),
            extra=_extra_from(header.get("extra") or {}),
            partly_read=frozenset(header.get("partly_read") or ()),
            held=Snapshot.freeze({k: float(v) for k, v in (header.get("held") or {}).items()}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError(f"not a snapshot: {exc}") from exc


def snapshot_from_builtins(data: Mapping[str, Any]) -> Snapshot[Any]:
    try:
        kind = Kind(data["kind"])
        raw_items = data.get("items") or {}
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError(f"not a snapshot: {exc}") from exc
    items = {key: item_from_builtins(kind, value) for key, value in raw_items.items()}
    return snapshot_from_header(data, items)


def plane_look_to_builtins(look: PlaneLook) -> dict[str, Any]:
    data = to_builtins(look)
    data["ref"] = {"cloud": look.ref.cloud, "region": look.ref.region}
    return data


def plane_look_from_builtins(data: Mapping[str, Any]) -> PlaneLook:
    """A region's control-plane figures as the collector judged them."""
    try:
        ref = RegionRef(str(data["ref"]["cloud"]), str(data["ref"]["region"]))
        lead = data.get("lead_times")
        return PlaneLook(
            ref=ref,
            at=float(data["at"]),
            api={k: _convert(v, WindowStats) for k, v in (data.get("api") or {}).items()},
            lead_times=None if lead is None else _convert(lead, LeadTimeSummary),
            lead_times_at=data.get("lead_times_at"),
            probes={k: _convert(v, ProbeResult) for k, v in (data.get("probes") or {}).items()},
            probes_before={
                k: _convert(v, ProbeResult) for k, v in (data.get("probes_before") or {}).items()
            },
        )
    except (KeyError, TypeError) as exc:
        raise DecodeError(f"not a control-plane look: {exc}") from exc
