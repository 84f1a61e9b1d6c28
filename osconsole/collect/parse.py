"""Reading the timestamps and flags that OpenStack services write in their own ways."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc_timestamp(value: Any) -> float | None:
    """Epoch seconds from the forms the services use; None for missing or unreadable.

    Neutron writes `2018-04-08 07:32:42` (UTC, no zone), Nova `2012-10-29T13:42:02.000000`
    (UTC, no zone), Keystone and Neutron's standard attributes `...Z`.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def age(now: float | None, then: float | None) -> float | None:
    """Seconds from `then` to `now`; negative ages (clock skew) are kept, not hidden."""
    if now is None or then is None:
        return None
    return now - then


def as_bool(value: Any, default: bool = False) -> bool:
    return value if isinstance(value, bool) else default


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def iso_utc(ts: float) -> str:
    """A timestamp as `changes-since` / `changed_since` accept it."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
