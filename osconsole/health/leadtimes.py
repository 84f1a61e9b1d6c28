"""Rules on lead times: boots far slower than usual, boots and deletes that hang.

Judged from the tenants snapshot's lead times (osconsole.leadtimes), already counted
over the last hour or past `stuck_server_s`, so raised at once (no debounce).
"""

from __future__ import annotations

from osconsole.config import Thresholds
from osconsole.health.findings import Condition, Problem, Severity, Subject, plural
from osconsole.health.plane import Aspect, PlaneLook
from osconsole.leadtimes import LeadTimeSummary

BOOT_SLOW = "lead.boot_slow"
STUCK = "lead.stuck"
MIN_BOOTS = 3  # boots in the last hour before their p95 means something


def lead_time_problems(
    summary: LeadTimeSummary, thresholds: Thresholds
) -> list[tuple[str, Problem]]:
    """(subject id, problem) pairs: "boot" or "delete"."""
    found: list[tuple[str, Problem]] = []
    boot, usual = summary.boot, summary.usual_boot_s
    ratio = thresholds.boot_slow_ratio
    if boot.count >= MIN_BOOTS and usual and boot.p95_s is not None and boot.p95_s > ratio * usual:
        found.append(
            (
                "boot",
                Problem(
                    BOOT_SLOW,
                    Severity.WARNING,
                    "boots slow",
                    f"p95 boot time of the last hour is {boot.p95_s:.0f} s over "
                    f"{plural(boot.count, 'boot')}, {boot.p95_s / usual:.1f}x the usual "
                    f"{usual:.0f} s (above {ratio:g}x)",
                    essence="boots slow",
                ),
            )
        )
    minutes = thresholds.stuck_server_s / 60
    for what, count, state, noun in (
        ("boot", summary.boot.stuck, "in BUILD", "server"),
        ("delete", summary.delete.stuck, "deleting", "server"),
        ("port", summary.port_stuck, "in BUILD", "port"),
    ):
        if count:
            found.append(
                (
                    what,
                    Problem(
                        STUCK,
                        Severity.WARNING,
                        f"{what}s stuck",
                        f"{plural(count, noun)} {state} for more than {minutes:.0f} min",
                        essence=f"{what}s stuck",
                    ),
                )
            )
    return found


def lead_time_conditions(look: PlaneLook, thresholds: Thresholds) -> list[Condition]:
    summary = look.lead_times
    if not isinstance(summary, LeadTimeSummary) or look.lead_times_at is None:
        return []
    found = []
    for what, problem in lead_time_problems(summary, thresholds):
        subject = Subject(look.ref, Aspect.LEAD_TIMES, what, f"{what} lead time")  # type: ignore[arg-type]
        found.append(Condition.of(problem, subject, look.lead_times_at))
    return found
