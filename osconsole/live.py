"""The live pipeline of every viewer (the console and the wall): the latest snapshot
of each (region, kind), the one judge's verdicts on them, the findings tracker and
the event timeline, and which panes a new snapshot makes out of date.

The App owns one LiveState and applies snapshot messages to it; on each repaint a
frozen copy is judged (`judge`: every arrival goes through the event timeline, and
`osconsole.health.assess` runs over the latest snapshots) and its views are built
from the verdicts, in a worker thread. No Textual here, so the wall, `snapshot` and
tests use it as it is.

The big views (hypervisors, routers, liveness) are kept between polls by incremental
builders (views.IncrementalRows): a poll that changes 1% of 30,000 rows rebuilds
about 300, and the other rows are the very objects of the previous view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any, Protocol

from osconsole.acks import Acknowledgement
from osconsole.cloud.http import ServiceStats
from osconsole.config import Settings
from osconsole.events import Event, Timeline
from osconsole.health.assess import Verdicts, assess
from osconsole.health.findings import Finding, Scope, Tracker, sort_key
from osconsole.health.plane import PlaneLook
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
EVENTS_KEPT = 5000  # the timeline's bound (a deque): days of a wall stay flat

# Panes whose rows a kind's snapshot can change besides its own: a hypervisor and
# its nova-compute service are one fact (the newer look wins, see assess.reconcile);
# the routers' expected replicas count live L3 agents; routers show project names.
ALSO_AFFECTS: dict[Kind, tuple[str, ...]] = {
    Kind.SERVICES: ("hypervisors",),
    Kind.HYPERVISORS: ("liveness",),
    Kind.AGENTS: ("routers",),
    Kind.TENANTS: ("routers",),
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
    """Latest snapshots, the verdicts on them, and the views built from those.

    `tracker` and `timeline` are shared with frozen copies: `judge` runs on one copy
    at a time (repaints never overlap), in a worker thread."""

    def __init__(self, settings: Settings, keep_events: int = EVENTS_KEPT) -> None:
        self.settings = settings
        self.snapshots: dict[tuple[RegionRef, Kind], Snapshot[Any]] = {}
        self.regions: list[RegionRef] = []
        self.expected_polls = 0
        self.tracker = Tracker(settings.thresholds)
        self.timeline = Timeline(settings.thresholds, keep=keep_events)
        self.verdicts = Verdicts()
        self._arrivals: list[Snapshot[Any]] = []  # not judged yet, oldest first
        self._looked: dict[Scope, Snapshot[Any]] = {}
        self._rejudge = False  # an acknowledgement changed the verdicts
        self.plane: list[PlaneLook] = []  # the control plane's figures, set before judging
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
        """Keep `snapshot` (to be judged on the next repaint); return the panes it
        makes out of date."""
        self.snapshots[(snapshot.ref, snapshot.kind)] = snapshot
        self._arrivals.append(snapshot)
        panes = {pane for pane, kinds in PANES.items() if snapshot.kind in kinds}
        panes.update(ALSO_AFFECTS.get(snapshot.kind, ()))
        return panes

    def frozen(self) -> LiveState:
        """A copy that later snapshots do not change, for judging and building views in
        a thread; it takes the arrivals not judged yet."""
        copy = LiveState.__new__(LiveState)
        copy.settings = self.settings
        copy.snapshots = dict(self.snapshots)
        copy.regions = list(self.regions)
        copy.expected_polls = self.expected_polls
        copy.tracker, copy.timeline = self.tracker, self.timeline
        copy.verdicts = self.verdicts
        copy._arrivals, self._arrivals = self._arrivals, []
        copy._rejudge, self._rejudge = self._rejudge, False
        copy.plane = self.plane
        copy._looked = self._looked
        copy.auths = self.auths
        copy._hypervisors = self._hypervisors
        copy._routers = self._routers
        copy._liveness = self._liveness
        return copy

    @property
    def pending_arrivals(self) -> int:
        return len(self._arrivals)

    def judge(self) -> Verdicts:
        """Every arrival through the event timeline, in order, and the one judge over
        the latest snapshots: once per repaint, and once more before a scope's second
        snapshot in the same batch, so that no poll goes unjudged (a condition seen
        by one poll only still starts its debounce)."""
        batch: set[Scope] = set()
        verdicts = self.verdicts
        for snapshot in self._arrivals:
            scope = (snapshot.ref, snapshot.kind)
            if scope in batch:
                verdicts = assess(self._looked.values(), self.tracker, self.plane)
                batch.clear()
            self._looked[scope] = snapshot
            batch.add(scope)
            self.timeline.observe(snapshot)
        self._arrivals = []
        if batch or self._rejudge or not verdicts.snapshots or self.plane:
            looked = self._looked.values() or self.snapshots.values()
            verdicts = assess(looked, self.tracker, self.plane)
        self._rejudge = False
        self.verdicts = verdicts
        return verdicts

    def acknowledge(self, key: str, **how: Any) -> Acknowledgement | None:
        """Acknowledge a finding (quiet until it changes; `how`: by, at, note, for_s, as
        Tracker.acknowledge). The findings say so at once; the next repaint judges
        again, so the panes say so too."""
        ack = self.tracker.acknowledge(key, **how)
        if ack is not None:
            self._mark(key, ack)
        return ack

    def unacknowledge(self, key: str) -> bool:
        done = self.tracker.unacknowledge(key)
        if done:
            self._mark(key, None)
        return done

    def rejudge(self) -> None:
        """Judge again on the next repaint though nothing arrived (acknowledgements
        restored from the file)."""
        self._rejudge = True

    def _mark(self, key: str, ack: Acknowledgement | None) -> None:
        findings = tuple(
            replace(f, acknowledged=ack is not None, ack=ack) if f.key == key else f
            for f in self.verdicts.findings
        )
        self.verdicts = replace(self.verdicts, findings=tuple(sorted(findings, key=sort_key)))
        self._rejudge = True

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.verdicts.findings

    def newest_events(self, count: int) -> tuple[Event, ...]:
        """The latest `count` events, newest first."""
        return tuple(islice(reversed(self.timeline.events), count))

    def views(self, panes: Iterable[str], now: float) -> dict[str, TableView]:
        return {pane: self.view(pane, now) for pane in panes}

    def of_kind(self, kind: Kind) -> list[Snapshot[Any]]:
        """The latest snapshots of `kind`, as judged (the facts every surface shows)."""
        judged = self.verdicts.snapshots
        return [judged.get(key, s) for key, s in self.snapshots.items() if key[1] == kind]

    def view(self, pane: str, now: float) -> TableView:
        thresholds, verdicts = self.settings.thresholds, self.verdicts
        if pane == "hypervisors":
            snaps = self.of_kind(Kind.HYPERVISORS)
            return self._hypervisors.view(snaps, now, thresholds, verdicts)
        if pane == "routers":
            names = project_names(self.of_kind(Kind.TENANTS))
            return self._routers.view(self.of_kind(Kind.ROUTERS), now, names, verdicts)
        if pane == "tenants":
            return tenants_view(self.of_kind(Kind.TENANTS), now, thresholds, verdicts)
        if pane == "liveness":
            return self._liveness.view(
                self.of_kind(Kind.AGENTS),
                self.of_kind(Kind.SERVICES),
                now,
                thresholds,
                verdicts,
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
