"""Each service's availability and response times over time, from the calls we make.

Operators watch OpenStack as a set of micro-services: is compute answering, how fast,
since when not. Every request a region client sends already has a latency and an
outcome (`cloud.http.ServiceStats`); this keeps them over the last day in fixed-size
rings, so the history costs no extra request and bounded memory however long it runs:
per service, 60 one-minute slots and 25 one-hour slots, each with counts and a latency
histogram. A window (5 minutes, an hour, a day) is the sum of its slots.

Percentiles come from the histogram: 8 bins per doubling from 0.25 ms, each reported
at its geometric middle, so a p95 is within 5% of the true value (exact figures of the
last 256 calls stay in ServiceStats). What counts against availability is what says
the service failed: a 5xx, a 429, no answer (timeout, refused connection) or a body
that is not JSON. A 401 that re-authentication fixes, a 403 or a 404 is the caller's
business: counted by status code, not as unavailability.

Pure and synchronous; time comes from the injected clock (the local one: this is what
this process saw, when it saw it).
"""

from __future__ import annotations

import math
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
WINDOWS = {"5m": 5 * MINUTE, "1h": HOUR, "1d": DAY}
MINUTE_SLOTS = 60  # the last hour, a slot per minute
HOUR_SLOTS = 25  # the last day, a slot per hour (24 whole ones and the current one)
BINS_PER_DOUBLING = 8
SMALLEST_MS = 0.25
BINS = 8 * 20  # up to 0.25 ms * 2**20: about 4 minutes; slower calls share the last bin
NO_ANSWER = 0  # the status recorded for a timeout or a refused connection


def latency_bin(ms: float) -> int:
    """The histogram bin of a latency (bin 0: up to SMALLEST_MS)."""
    if not ms > SMALLEST_MS:  # also NaN
        return 0
    index = int(math.log2(ms / SMALLEST_MS) * BINS_PER_DOUBLING) + 1
    return min(index, BINS - 1)


def bin_value(index: int) -> float:
    """The latency a bin stands for: the geometric middle of its bounds."""
    if index == 0:
        return SMALLEST_MS
    return SMALLEST_MS * 2 ** ((index - 0.5) / BINS_PER_DOUBLING)


def is_failure(status: int, error: str | None) -> bool:
    """Whether a call says the service is unavailable (see the module docstring)."""
    if status == NO_ANSWER or status >= 500 or status == 429:
        return True
    return error is not None and status < 400  # e.g. malformed JSON in a 200


def outcome_label(status: int, error: str | None) -> str:
    """How a call ended, for the errors-by-status table: "503", "timeout", "malformed"."""
    if status == NO_ANSWER:
        return error or "no answer"
    if error is not None and status < 400:
        return "malformed"
    return str(status)


class _Slot:
    """The calls of one minute or one hour of one service."""

    __slots__ = ("failures", "latency", "outcomes", "period", "requests")

    def __init__(self, period: int) -> None:
        self.period = period  # minutes or hours since the epoch
        self.requests = 0
        self.failures = 0
        self.latency = array("I", bytes(4 * BINS))
        self.outcomes: Counter[str] | None = None  # only calls that were not 2xx/3xx

    def add(self, ms: float, status: int, error: str | None) -> None:
        self.requests += 1
        self.latency[latency_bin(ms)] += 1
        if is_failure(status, error):
            self.failures += 1
        if error is not None or status >= 400 or status == NO_ANSWER:
            if self.outcomes is None:
                self.outcomes = Counter()
            self.outcomes[outcome_label(status, error)] += 1


@dataclass(frozen=True, slots=True)
class WindowStats:
    """One service over one window: what was asked, what failed, how fast."""

    requests: int = 0
    failures: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def success_ratio(self) -> float | None:
        """Answered calls over all calls; None when there was none (unknown, not 100%)."""
        return None if self.requests == 0 else 1.0 - self.failures / self.requests

    def as_dict(self) -> dict[str, object]:
        ratio = self.success_ratio
        return {
            "requests": self.requests,
            "errors": self.failures,
            "success_ratio": None if ratio is None else round(ratio, 5),
            "p50_ms": _round(self.p50_ms),
            "p95_ms": _round(self.p95_ms),
            "p99_ms": _round(self.p99_ms),
            "by_status": dict(sorted(self.by_status.items())),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def percentiles(histogram: array, qs: tuple[float, ...]) -> list[float | None]:
    """The latencies at quantiles `qs` of a histogram (None when it is empty)."""
    total = sum(histogram)
    if total == 0:
        return [None for _ in qs]
    found: list[float | None] = []
    for q in qs:
        rank = max(1, math.ceil(q * total))
        seen = 0
        for index, count in enumerate(histogram):
            seen += count
            if seen >= rank:
                found.append(bin_value(index))
                break
    return found


@dataclass(frozen=True, slots=True)
class Point:
    """One minute of one service, for a sparkline: None figures mean no call then."""

    minute: int
    requests: int
    failures: int
    p95_ms: float | None


class ServiceHistory:
    """One service's calls in one region over the last day, in fixed rings."""

    __slots__ = ("_hours", "_minutes")

    def __init__(self) -> None:
        self._minutes: list[_Slot | None] = [None] * MINUTE_SLOTS
        self._hours: list[_Slot | None] = [None] * HOUR_SLOTS

    def record(self, at: float, ms: float, status: int, error: str | None) -> None:
        for ring, period in ((self._minutes, int(at // MINUTE)), (self._hours, int(at // HOUR))):
            index = period % len(ring)
            slot = ring[index]
            if slot is None or slot.period != period:
                if slot is not None and slot.period > period:
                    continue  # older than anything the ring still holds: dropped
                slot = ring[index] = _Slot(period)
            slot.add(ms, status, error)

    def _slots(self, now: float, seconds: float) -> Iterator[_Slot]:
        """The slots inside the `seconds` before `now`: minutes up to an hour, then hours."""
        if seconds <= HOUR:
            ring, size = self._minutes, MINUTE
        else:
            ring, size = self._hours, HOUR
        current = int(now // size)
        oldest = current - max(1, round(seconds / size)) + 1
        for slot in ring:
            if slot is not None and oldest <= slot.period <= current:
                yield slot

    def window(self, now: float, seconds: float) -> WindowStats:
        """Requests, failures, outcomes and p50/p95/p99 over the last `seconds`
        (rounded to whole minutes, or whole hours beyond an hour)."""
        requests = failures = 0
        outcomes: Counter[str] = Counter()
        histogram = array("I", bytes(4 * BINS))
        for slot in self._slots(now, seconds):
            requests += slot.requests
            failures += slot.failures
            if slot.outcomes:
                outcomes.update(dict(slot.outcomes))  # a copy: the loop may be adding
            for index, count in enumerate(slot.latency):
                if count:
                    histogram[index] += count
        p50, p95, p99 = percentiles(histogram, (0.5, 0.95, 0.99))
        return WindowStats(requests, failures, dict(outcomes), p50, p95, p99)

    def minutes(self, now: float, count: int = MINUTE_SLOTS) -> list[Point]:
        """The last `count` minutes, oldest first, one point each (for sparklines)."""
        current = int(now // MINUTE)
        by_period = {s.period: s for s in self._minutes if s is not None}
        points = []
        for minute in range(current - min(count, MINUTE_SLOTS) + 1, current + 1):
            slot = by_period.get(minute)
            if slot is None:
                points.append(Point(minute, 0, 0, None))
            else:
                (p95,) = percentiles(slot.latency, (0.95,))
                points.append(Point(minute, slot.requests, slot.failures, p95))
        return points


class RequestHistory:
    """Every service's history in one region; what `RegionClient` feeds on each call."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.services: dict[str, ServiceHistory] = {}

    def record(self, service: str, elapsed_ms: float, status: int, error: str | None) -> None:
        history = self.services.get(service)
        if history is None:
            history = self.services[service] = ServiceHistory()
        history.record(self.clock(), elapsed_ms, status, error)

    def summary(self, now: float | None = None) -> dict[str, dict[str, WindowStats]]:
        """{service: {"5m"|"1h"|"1d": WindowStats}} at `now` (the clock's now by default)."""
        now = self.clock() if now is None else now
        return {
            service: {name: history.window(now, seconds) for name, seconds in WINDOWS.items()}
            for service, history in sorted(list(self.services.items()))
        }


def summary_dict(history: RequestHistory, now: float | None = None) -> dict[str, object]:
    """The snapshot JSON's `availability`: per service, per window, plain figures."""
    return {
        service: {name: stats.as_dict() for name, stats in windows.items()}
        for service, windows in history.summary(now).items()
    }
