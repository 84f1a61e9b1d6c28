"""Lead times of common operations, read passively from the servers listing.

How long a boot or a delete takes is what users feel of a cloud's health, and Nova
says it in the listing the tenants collector reads anyway (full, then `changes-since`):
a boot is `created` -> `OS-SRV-USG:launched_at`; a delete is the moment a server was
first seen deleting (its `updated`, set when task_state became `deleting`) ->
`OS-SRV-USG:terminated_at`, for the servers seen deleting (a delete quicker than the
poll interval is not timed: the listing does not say when it was asked). Nothing is
created in the cloud to measure this, and no request is added.

Ports in BUILD come from the ports listing of the same collector (its `status` and
`updated_at`): stuck past the threshold, they count as the servers do (None until a
full ports listing has been read). Volumes are not listed by any collector yet, so
`volume_create` is unknown (None), not zero. Samples are kept a day (one per server
id), so memory follows the day's boots, not the cloud's size.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from osconsole.collect.parse import utc_timestamp

HOUR, DAY = 3600.0, 86400.0
MIN_USUAL = 5  # boots needed before "usual" means something
DELETING = "deleting"


def _quantile(values: list[float], q: float) -> float | None:
    """Nearest-rank quantile (the same rule as everywhere a p95 is shown)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class LeadStat:
    """One operation over a window: how many finished, how long they took, how many hang."""

    count: int
    p50_s: float | None
    p95_s: float | None
    stuck: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "p50_s": None if self.p50_s is None else round(self.p50_s, 1),
            "p95_s": None if self.p95_s is None else round(self.p95_s, 1),
            "stuck": self.stuck,
        }


@dataclass(frozen=True, slots=True)
class HourStat:
    """Boots and deletes finished in one hour (for the drill-down's table)."""

    hour: int  # hours since the epoch
    boot: LeadStat
    delete: LeadStat


@dataclass(frozen=True, slots=True)
class LeadTimeSummary:
    """A region's lead times at `at` (server time): the last hour, and the day's usual."""

    at: float
    boot: LeadStat
    delete: LeadStat
    usual_boot_s: float | None  # the median boot of the day before the last hour
    hours: tuple[HourStat, ...] = ()
    stuck_boot_ids: tuple[str, ...] = ()
    stuck_delete_ids: tuple[str, ...] = ()
    stuck_port_ids: tuple[str, ...] | None = None  # None: no full ports listing read

    @property
    def port_stuck(self) -> int | None:
        return None if self.stuck_port_ids is None else len(self.stuck_port_ids)

    @property
    def stuck(self) -> int:
        """Everything hanging right now: boots, deletes and ports (those known)."""
        return self.boot.stuck + self.delete.stuck + (self.port_stuck or 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "window_s": HOUR,
            "boot": self.boot.as_dict(),
            "delete": self.delete.as_dict(),
            "port_build": None if self.port_stuck is None else {"stuck": self.port_stuck},
            "volume_create": None,  # no collector lists volumes yet: unknown
            "usual_boot_s": None if self.usual_boot_s is None else round(self.usual_boot_s, 1),
        }


def boot_sample(body: Mapping[str, Any]) -> tuple[float, float] | None:
    """(launched_at, seconds from created) of one listed server, when it has booted."""
    created = utc_timestamp(body.get("created"))
    launched = utc_timestamp(body.get("OS-SRV-USG:launched_at"))
    if created is None or launched is None or launched < created:
        return None
    return launched, launched - created


class LeadTimes:
    """Boot and delete samples of one region over the last day, fed every listing."""

    def __init__(self) -> None:
        self.boots: dict[str, tuple[float, float]] = {}  # id -> (launched_at, seconds)
        self.deletes: dict[str, tuple[float, float]] = {}  # id -> (terminated_at, seconds)
        self.deleting_since: dict[str, float] = {}  # id -> updated when seen deleting

    def observe(self, bodies: Iterable[Any], now: float, *, full: bool = False) -> None:
        """Take the servers of one listing (full or `changes-since`) at server time `now`;
        a server deleting before a full listing that no longer shows it is gone, untimed."""
        listed: set[str] = set()
        for body in bodies:
            if not isinstance(body, dict) or not isinstance(body.get("id"), str):
                continue
            server_id = body["id"]
            listed.add(server_id)
            boot = boot_sample(body)
            if boot is not None and boot[0] >= now - DAY:
                self.boots.setdefault(server_id, boot)
            task_state = body.get("OS-EXT-STS:task_state")
            if task_state == DELETING and str(body.get("status")).upper() != "DELETED":
                since = utc_timestamp(body.get("updated")) or now
                self.deleting_since.setdefault(server_id, since)
            elif str(body.get("status")).upper() == "DELETED":
                since_deleting = self.deleting_since.pop(server_id, None)
                ended = utc_timestamp(body.get("OS-SRV-USG:terminated_at"))
                if since_deleting is not None and ended is not None and ended >= since_deleting:
                    self.deletes.setdefault(server_id, (ended, ended - since_deleting))
            else:
                self.deleting_since.pop(server_id, None)  # a delete that did not happen
        if full:
            for gone in self.deleting_since.keys() - listed:
                del self.deleting_since[gone]
        self._prune(now)

    def _prune(self, now: float) -> None:
        for samples in (self.boots, self.deletes):
            for key in [k for k, (at, _) in samples.items() if at < now - DAY]:
                del samples[key]
        for key in [k for k, since in self.deleting_since.items() if since < now - DAY]:
            del self.deleting_since[key]

    def summary(
        self,
        now: float,
        servers: Mapping[str, Any],
        stuck_after: float,
        ports: Mapping[str, Any] | None = None,
    ) -> LeadTimeSummary:
        """The last hour's figures at `now`; `servers` are the collector's current records
        (status, task_state, created, updated) and `ports` its port records (with
        `building_since`; None: not read yet) for what is stuck right now."""
        stuck_boots = sorted(
            sid
            for sid, rec in servers.items()
            if rec.status == "BUILD" and rec.created is not None and now - rec.created > stuck_after
        )
        stuck_deletes = sorted(
            sid for sid, since in self.deleting_since.items() if now - since > stuck_after
        )
        stuck_ports = None
        if ports is not None:
            stuck_ports = tuple(
                sorted(
                    pid
                    for pid, rec in ports.items()
                    if rec.building_since is not None and now - rec.building_since > stuck_after
                )
            )
        boot = _stat(self.boots.values(), now - HOUR, now, len(stuck_boots))
        delete = _stat(self.deletes.values(), now - HOUR, now, len(stuck_deletes))
        before = [s for at, s in self.boots.values() if at < now - HOUR]
        if len(before) < MIN_USUAL:
            before = [s for _, s in self.boots.values()]
        usual = statistics.median(before) if len(before) >= MIN_USUAL else None
        return LeadTimeSummary(
            at=now,
            boot=boot,
            delete=delete,
            usual_boot_s=usual,
            hours=self.hours(now),
            stuck_boot_ids=tuple(stuck_boots),
            stuck_delete_ids=tuple(stuck_deletes),
            stuck_port_ids=stuck_ports,
        )

    def hours(self, now: float) -> tuple[HourStat, ...]:
        """Each of the last 24 hours with something finished, oldest first."""
        current = int(now // HOUR)
        found = []
        for hour in range(current - 23, current + 1):
            start, end = hour * HOUR, (hour + 1) * HOUR
            boot = _stat(self.boots.values(), start, end, 0)
            delete = _stat(self.deletes.values(), start, end, 0)
            if boot.count or delete.count:
                found.append(HourStat(hour, boot, delete))
        return tuple(found)


def _stat(samples: Iterable[tuple[float, float]], start: float, end: float, stuck: int) -> LeadStat:
    values = [seconds for at, seconds in samples if start < at <= end]
    return LeadStat(len(values), _quantile(values, 0.5), _quantile(values, 0.95), stuck)
