"""What a screen may use of the App it runs in: a typed contract, not getattr.

Screens (the dashboard, drill-downs, the findings and the timeline, the actions
flow) are given the console through `console_of(app)`, typed as `Console`: the live
state (snapshots, verdicts, timeline), the connection and the poller, the clock and
whether repaints are paused, and the few things a screen may ask of the App. What
changed reaches them as messages (`VerdictsChanged`), not as calls from the App into
screen classes it would have to import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.app import App

from osconsole.config import Settings
from osconsole.live import LiveState

if TYPE_CHECKING:
    from osconsole.cloud.connect import Connection
    from osconsole.events import Timeline
    from osconsole.health.findings import Finding
    from osconsole.health.incidents import Incident
    from osconsole.poller import Poller
    from osconsole.views import Target


@runtime_checkable
class Console(Protocol):
    """The console as its screens see it."""

    settings: Settings
    state: LiveState
    clock: Callable[[], float]
    connection: Connection | None
    poller: Poller | None
    paused: bool

    @property
    def findings(self) -> tuple[Finding, ...]: ...

    @property
    def incidents(self) -> tuple[Incident, ...]: ...

    @property
    def timeline(self) -> Timeline: ...

    def acknowledge(self, key: str, *, note: str = "", for_s: float | None = None) -> bool: ...

    def unacknowledge(self, key: str) -> None: ...


@runtime_checkable
class ShowsObject(Protocol):
    """A screen showing one object (a drill-down): what the command palette acts on."""

    target: Target


def console_of(app: App[Any]) -> Console:
    """`app` as the console contract; a TypeError names what it lacks (a bug, not a
    state a user can reach)."""
    if not isinstance(app, Console):
        raise TypeError(f"{type(app).__name__} is not a console (see osconsole.tui.context)")
    return app
