"""The messages of the console, in the order data flows:
ConnectionReady (per cloud) → SnapshotArrived → ViewsApplied; ConnectionFailed while
some cloud is not connected (it is tried again)."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from osconsole.cloud.connect import Connection
from osconsole.model import Snapshot


class ConnectionReady(Message):
    """A cloud connected; `connection` holds every region connected so far."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection


class ConnectionFailed(Message):
    """The clouds not connected (yet): why (auth, config, network) and when each is
    tried next; empty once every cloud is connected."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__()
        self.errors = errors


class SnapshotArrived(Message):
    """A poll of one kind in one region ended (successfully or not)."""

    def __init__(self, snapshot: Snapshot[Any]) -> None:
        super().__init__()
        self.snapshot = snapshot


class ViewsApplied(Message):
    """The panes named were redrawn from the latest snapshots (tests and benchmarks wait on it)."""

    def __init__(self, panes: frozenset[str]) -> None:
        super().__init__()
        self.panes = panes


class VerdictsChanged(Message):
    """The one judge ran again (new findings, incidents, events): posted to the screen
    on top, which redraws what it shows of them (the findings list, the timeline)."""
