"""Rules on each service's availability and response times over the last 5 minutes.

A service that fails calls or answers slowly is found from the calls osconsole makes
anyway, so the verdict costs nothing and says "as seen from here". Fewer than
`api_min_requests` calls in the window prove nothing either way: no condition, and
no clearing on that basis either (the look is fresh, but a quiet service is not
judged healthy or sick). Debounced by `api_debounce_s` like router conditions: one
slow poll is not an incident.
"""

from __future__ import annotations

from osconsole.availability import WindowStats
from osconsole.config import Thresholds
from osconsole.health.findings import Condition, Problem, Severity, Subject
from osconsole.health.plane import Aspect, PlaneLook

API_AVAILABILITY = "api.availability"
API_LATENCY = "api.latency"
MOSTLY_FAILING = 0.5  # below this share answered, the service is as good as down


def api_problems(service: str, stats: WindowStats, thresholds: Thresholds) -> list[Problem]:
    """What is wrong with one service over the window (nothing when too few calls)."""
    if stats.requests < thresholds.api_min_requests:
        return []
    found = []
    ratio = stats.success_ratio
    if ratio is not None and ratio < thresholds.api_success_min:
        severity = Severity.CRITICAL if ratio < MOSTLY_FAILING else Severity.WARNING
        worst = sorted(stats.by_status.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        how = ", ".join(f"{label} x{count}" for label, count in worst)
        found.append(
            Problem(
                API_AVAILABILITY,
                severity,
                "API failing",
                f"{service} API answered {ratio:.1%} of {stats.requests} calls in 5 minutes "
                f"(below {thresholds.api_success_min:.1%}): {how}",
                essence=f"{service} API failing ({severity.name.lower()})",
            )
        )
    if stats.p95_ms is not None and stats.p95_ms > thresholds.api_p95_max_ms:
        found.append(
            Problem(
                API_LATENCY,
                Severity.WARNING,
                "API slow",
                f"{service} API p95 is {stats.p95_ms:.0f} ms over 5 minutes "
                f"(above {thresholds.api_p95_max_ms:.0f} ms)",
                essence=f"{service} API slow",
            )
        )
    return found


def judged(look: PlaneLook, thresholds: Thresholds) -> list[str]:
    """The services with enough calls in the window to raise or clear a finding."""
    return [s for s, stats in look.api.items() if stats.requests >= thresholds.api_min_requests]


def api_conditions(look: PlaneLook, thresholds: Thresholds) -> list[Condition]:
    found = []
    for service, stats in sorted(look.api.items()):
        subject = Subject(look.ref, Aspect.API, service, f"{service} API")  # type: ignore[arg-type]
        for problem in api_problems(service, stats, thresholds):
            found.append(Condition.of(problem, subject, look.at, thresholds.api_debounce_s))
    return found
