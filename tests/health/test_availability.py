"""API availability and latency findings: raised after their debounce, cleared, held."""

from __future__ import annotations

from osconsole.availability import WindowStats
from osconsole.config import Thresholds
from osconsole.health.assess import assess, assess_once
from osconsole.health.availability import API_AVAILABILITY, API_LATENCY, api_problems
from osconsole.health.findings import Severity, Tracker
from osconsole.health.plane import Aspect, PlaneLook
from osconsole.model import RegionRef

REF = RegionRef("cloud", "RegionOne")
T = Thresholds()


def stats(requests: int = 100, failures: int = 0, p95: float = 100.0) -> WindowStats:
    by_status = {"503": failures} if failures else {}
    return WindowStats(requests, failures, by_status, p95 / 2, p95, p95 * 1.2)


def test_a_healthy_service_has_no_problem() -> None:
    assert api_problems("compute", stats(), T) == []


def test_failing_calls_are_a_warning_then_critical_when_most_fail() -> None:
    (warning,) = api_problems("compute", stats(failures=5), T)
    assert warning.rule == API_AVAILABILITY and warning.severity is Severity.WARNING
    assert "95.0% of 100 calls" in warning.reason and "503 x5" in warning.reason
    (critical,) = api_problems("compute", stats(failures=80), T)
    assert critical.severity is Severity.CRITICAL


def test_a_slow_p95_is_a_warning() -> None:
    (slow,) = api_problems("network", stats(p95=5000.0), T)
    assert slow.rule == API_LATENCY and "5000 ms" in slow.reason


def test_too_few_calls_prove_nothing() -> None:
    assert api_problems("compute", stats(requests=3, failures=3), T) == []


def look(at: float, **api: WindowStats) -> PlaneLook:
    return PlaneLook(ref=REF, at=at, api=api)


def test_a_failing_service_becomes_a_finding_after_its_debounce_and_clears() -> None:
    tracker = Tracker(T)
    t0 = 1000.0
    assert assess([], tracker, [look(t0, compute=stats(failures=10))]).findings == ()
    later = t0 + T.api_debounce_s
    (finding,) = assess([], tracker, [look(later, compute=stats(failures=10))]).findings
    assert finding.rule == API_AVAILABILITY and finding.since == t0
    assert finding.subject.kind == Aspect.API and finding.subject.id == "compute"
    # too few calls in the window: held as it was, neither cleared nor raised again
    held = assess([], tracker, [look(later + 30, compute=stats(requests=2))])
    assert [f.key for f in held.findings] == [finding.key]
    update = assess([], tracker, [look(later + 60, compute=stats())])
    assert update.findings == () and [f.key for f in update.cleared] == [finding.key]


def test_one_look_reports_at_once_for_the_snapshot_command() -> None:
    (finding,) = assess_once([], Tracker(T), [look(1.0, volume=stats(failures=60))]).findings
    assert finding.severity is Severity.CRITICAL and finding.subject.name == "volume API"
