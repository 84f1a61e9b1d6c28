"""Hypervisor rules: a compute host down with servers on it, disabled, or short of room.

Why each rule and its severity (the hypervisors pane uses the same verdicts):

- Down with servers on it: critical, the servers are unreachable and may need
  evacuating; the reason counts them ("12 servers at risk", from `running_vms`).
  Down with none, with an unknown count, or while disabled (maintenance): a warning.
  At once: Nova already waited `service_down_time` (60 s) before saying down.
- Disabled while up: info, with the disabled reason (someone took it out of
  scheduling, usually on purpose).
- A resource class over-committed (used beyond capacity, which already includes
  the allocation ratio: `thresholds.overcommit_ratio`) or nearly full
  (`thresholds.nearly_full_ratio`): a warning naming each class. At once: usage
  moves with boots, not with transient flaps.
- A state Nova could not tell ("unknown") is no finding: it says nothing wrong, and
  the assessor judges the hypervisor UNKNOWN (see `osconsole.health.assess`).
"""

from __future__ import annotations

from osconsole.config import Thresholds
from osconsole.health.findings import (
    Condition,
    Memo,
    Problem,
    Severity,
    Subject,
    observed_time,
    plural,
)
from osconsole.model import Capacity, Hypervisor, Kind, Snapshot
from osconsole.text import format_ratio

HYPERVISOR_DOWN = "hypervisor.down"
HYPERVISOR_DISABLED = "hypervisor.disabled"
HYPERVISOR_CAPACITY = "hypervisor.capacity"

RESOURCE_LABELS = (("vcpu", "vCPU"), ("memory_mb", "RAM"), ("disk_gb", "disk"))


def hypervisor_state_severity(h: Hypervisor) -> Severity:
    """Down with servers on it: critical. Down without (or while disabled): warning.
    Disabled, or a state we could not read: info."""
    if h.state == "down":
        if h.status == "disabled" or not h.running_vms:
            return Severity.WARNING
        return Severity.CRITICAL
    if h.state != "up" or h.status != "enabled":
        return Severity.INFO
    return Severity.OK


def capacity_finding(label: str, ratio: float | None, thresholds: Thresholds) -> str | None:
    """Words for a resource class over-committed or nearly full; None when neither or
    unknown (the drill-down's per-class emphasis uses it too)."""
    if ratio is None:
        return None
    if ratio > thresholds.overcommit_ratio:
        return f"{label} over-committed ({format_ratio(ratio)})"
    if ratio >= thresholds.nearly_full_ratio:
        return f"{label} nearly full ({format_ratio(ratio)})"
    return None


def _at_risk(h: Hypervisor) -> str:
    if h.running_vms is None:
        return "servers on it unknown"
    if not h.running_vms:
        return "no servers on it"
    return f"{plural(h.running_vms, 'server')} at risk"


def _down(h: Hypervisor) -> Problem:
    name = f"hypervisor {h.hostname}"
    severity = hypervisor_state_severity(h)
    began = h.service_updated_at  # the same Nova fact as its nova-compute's down (one since)
    if h.status == "disabled":
        reason = f": {h.disabled_reason}" if h.disabled_reason else ""
        text = f"{name} is down while disabled{reason} ({_at_risk(h)})"
        label = f"DOWN (disabled{reason})"
        essence = f"{name} down while disabled"
        return Problem(HYPERVISOR_DOWN, severity, label, text, essence, began)
    return Problem(
        HYPERVISOR_DOWN,
        severity,
        "DOWN",
        f"{name} is down with {_at_risk(h)}"
        if h.running_vms
        else f"{name} is down ({_at_risk(h)})",
        f"{name} down",
        began,
    )


def _capacity(h: Hypervisor, thresholds: Thresholds) -> Problem | None:
    words, essence = [], []
    for attr, label in RESOURCE_LABELS:
        cap: Capacity | None = getattr(h, attr)
        found = capacity_finding(label, None if cap is None else cap.used_ratio, thresholds)
        if found is not None:
            words.append(found)
            essence.append(found.rsplit(" (", 1)[0])
    if not words:
        return None
    name = f"hypervisor {h.hostname}"
    return Problem(
        HYPERVISOR_CAPACITY,
        Severity.WARNING,
        ", ".join(words),
        f"{name}: {', '.join(words)}",
        f"{name}: {', '.join(essence)}",
    )


def hypervisor_problems(h: Hypervisor, thresholds: Thresholds) -> list[Problem]:
    """Every problem one look at a hypervisor shows."""
    found: list[Problem] = []
    if h.state == "down":
        found.append(_down(h))
    elif h.state == "up" and h.status == "disabled":
        text = f"hypervisor {h.hostname} is disabled: {h.disabled_reason or 'no reason given'}"
        label = f"disabled: {h.disabled_reason}" if h.disabled_reason else "disabled"
        disabled = Problem(HYPERVISOR_DISABLED, Severity.INFO, label, text)
        found.append(disabled._replace(began=h.service_updated_at))  # as service.disabled
    capacity = _capacity(h, thresholds)
    if capacity is not None:
        found.append(capacity)
    return found


def hypervisor_conditions(
    snapshot: Snapshot[Hypervisor], thresholds: Thresholds, memo: Memo | None = None
) -> list[Condition]:
    """Conditions of every hypervisor in one snapshot (none of them debounced); `memo`
    keeps unchanged hypervisors' problems between looks."""
    at = observed_time(snapshot)
    judged = (memo or Memo()).problems(
        (snapshot.ref, snapshot.kind),
        thresholds,
        snapshot.items,
        lambda h: hypervisor_problems(h, thresholds),
    )
    return [
        Condition.of(problem, Subject(snapshot.ref, Kind.HYPERVISORS, h.id, h.hostname), at)
        for h, problems in judged
        for problem in problems
    ]
