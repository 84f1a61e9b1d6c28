"""What every probe gives back: a status, the figures, and why it failed if it did.

A probe talks to a service OpenStack depends on (not to OpenStack), with its own
read-only account and a timeout on every step. It never raises: an unreachable
service is a result ("unreachable"), shown and judged like any other. Error texts
are ours (the exception's class and a short reason), never a server's banner or a
credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK, UNREACHABLE, FAILED = "ok", "unreachable", "error"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe's answer at `at` (local clock): `figures` are plain JSON data."""

    name: str  # "rabbitmq", "mysql", "memcached"
    target: str  # host:port or URL, without credentials
    status: str  # ok / unreachable / error
    at: float
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "status": self.status,
            "error": self.error,
            **self.figures,
        }
