"""Virtual time for the simulated cloud.

Tests step the clock explicitly so that heartbeats, expiries and scenarios are
deterministic; the demo lets it run with the wall clock. Every time-dependent
fact in the world (heartbeats, service state, token expiry) is derived from it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SimClock:
    """Epoch seconds that either follow the wall clock or move only when stepped."""

    def __init__(self, start: float | None = None, *, running: bool = False) -> None:
        self._base = time.time() if start is None else float(start)
        self._offset = 0.0
        self._running = running
        self._started_monotonic = time.monotonic()

    @property
    def running(self) -> bool:
        return self._running

    def now(self) -> float:
        elapsed = time.monotonic() - self._started_monotonic if self._running else 0.0
        return self._base + elapsed + self._offset

    def step(self, seconds: float) -> float:
        """Move time forward (never backward) and return the new now."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        return self.now()


def iso(ts: float | None, *, zulu: bool = False, micro: bool = False) -> str | None:
    """Render epoch seconds the way OpenStack services do (UTC, no zone unless `zulu`)."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S.%f" if micro else "%Y-%m-%dT%H:%M:%S")
    return text + "Z" if zulu else text


def neutron_ts(ts: float | None) -> str | None:
    """Neutron agent timestamps: `2018-04-08 07:32:42`, UTC with no zone."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_iso(text: str) -> float:
    """Parse the ISO 8601 forms clients send in `changes-since` / `changed_since`."""
    cleaned = text.strip().replace(" ", "T")
    if cleaned.endswith("Z"):
        cleaned = cleaned[:-1] + "+00:00"
    dt = datetime.fromisoformat(cleaned)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
