"""The console's state between polls: the latest snapshot of each (region, kind),
and which panes a new snapshot makes out of date.

The App owns one LiveState and applies snapshot messages to it; views are computed
from it on demand. No Textual here, so the wall and tests use it as it is.

The big views (hypervisors, routers, liveness) are kept between polls by incremental
builders (views.IncrementalRows): a poll that changes 1% of 30,000 rows rebuilds
about 300, and the other rows are the very objects of the previous view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from osconsole.cloud.http import ServiceStats
from osconsole.config import Settings
from osconsole.model import Kind, RegionRef, Snapshot
from osconsole.views import (
    HypervisorRows,
    LivenessRows,
    RegionStatus,
    RouterRows,
    TableView,
    project_names,
    region_statuses,
    tenants_view,
)

PANES: dict[str, tuple[Kind, ...]] = {
    "hypervisors": (Kind.HYPERVISORS,),
    "routers": (Kind.ROUTERS,),
    "tenants": (Kind.TENANTS,),
    "liveness": (Kind.AGENTS, Kind.SERVICES),
}
PANE_TITLES = {
    "hypervisors": "Hypervisors",
    "routers": "L3 HA routers",
    "tenants": "Tenants",
    "liveness": "Liveness",
}


class AuthHealth(Protocol):
    """How renewing a region's token goes (a CloudAuth)."""

    auth_error: str | None
    auth_failing_since: datetime | None


class LiveState:
    """Latest snapshots and the views built from them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.snapshots: dict[tuple[RegionRef, Kind], Snapshot[Any]] = {}
        self.regions: list[RegionRef] = []
        self.expected_polls = 0
        self.findings: tuple[Any, ...] = ()  # the latest findings (health.Finding), for pages
        self.auths: dict[RegionRef, AuthHealth] = {}
        # Shared with frozen copies: each builder serialises its own builds.
        self._hypervisors = HypervisorRows()
        self._routers = RouterRows()
        self._liveness = LivenessRows()

    def expect(self, regions: Iterable[RegionRef], kinds: Iterable[Kind] = tuple(Kind)) -> None:
        """The regions (and kinds) that will report, for progress before the first poll."""
        self.regions = list(regions)
        self.expected_polls = len(self.regions) * len(tuple(kinds))

    def watch_auth(self, auths: Mapping[RegionRef, AuthHealth]) -> None:
        """Where each region's token comes from, for the strip to say when renewing fails."""
        self.auths = dict(auths)

    @property
    def first_poll_progress(self) -> tuple[int, int]:
        """(polls arrived, polls expected) until every region has reported every kind."""
        return len(self.snapshots), self.expected_polls

    def apply(self, snapshot: Snapshot[Any]) -> set[str]:
        """Keep `snapshot`; return the panes it makes out of date."""
        self.snapshots[(snapshot.ref, snapshot.kind)] = snapshot
        panes = {pane for pane, kinds in PANES.items() if snapshot.kind in kinds}
        if snapshot.kind is Kind.TENANTS:
            panes.add("routers")  # routers show project names from the tenants poll
        return panes

    def frozen(self) -> LiveState:
        """A copy that later snapshots do not change, for building views in a thread."""
        copy = LiveState(self.settings)
        copy.snapshots = dict(self.snapshots)
        copy.regions = list(self.regions)
        copy.expected_polls = self.expected_polls
        copy.auths = self.auths
        copy._hypervisors = self._hypervisors
        copy._routers = self._routers
        copy._liveness = self._liveness
        return copy

    def views(self, panes: Iterable[str], now: float) -> dict[str, TableView]:
        return {pane: self.view(pane, now) for pane in panes}

    def of_kind(self, kind: Kind) -> list[Snapshot[Any]]:
        return [s for (_, k), s in self.snapshots.items() if k == kind]

    def view(self, pane: str, now: float) -> TableView:
        thresholds = self.settings.thresholds
        if pane == "hypervisors":
            return self._hypervisors.view(self.of_kind(Kind.HYPERVISORS), now, thresholds)
        if pane == "routers":
            names = project_names(self.of_kind(Kind.TENANTS))
            return self._routers.view(self.of_kind(Kind.ROUTERS), now, names)
        if pane == "tenants":
            return tenants_view(self.of_kind(Kind.TENANTS), now, thresholds)
        if pane == "liveness":
            return self._liveness.view(
                self.of_kind(Kind.AGENTS),
                self.of_kind(Kind.SERVICES),
                now,
                thresholds,
            )
        raise KeyError(pane)

    def statuses(
        self, stats: Mapping[RegionRef, Mapping[str, ServiceStats]], now: float
    ) -> list[RegionStatus]:
        known = {ref: stats.get(ref, {}) for ref in self.regions}
        failing = {
            ref: (auth.auth_error, auth.auth_failing_since.timestamp())
            for ref, auth in self.auths.items()
            if auth.auth_error and auth.auth_failing_since is not None
        }
        return region_statuses(known, self.snapshots.values(), now, failing)
