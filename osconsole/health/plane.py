"""The control plane's own health as conditions for the findings tracker.

The other rules judge what the APIs report (hypervisors, routers, agents); these
judge the APIs and what lies beneath them: each service's availability and response
times as this process saw them (`osconsole.availability`), the lead times of boots
and deletes (`osconsole.leadtimes`, from the tenants collector's listings), and the
optional probes of RabbitMQ, MySQL/Galera and memcached (`osconsole.probes`).

None of these is a polled kind of its own, so each is an `Aspect` of a region: a
finding's subject is `Subject(ref, aspect, id, name)` and its scope `(ref, aspect)`,
fresh when what it is judged from is fresh. `PlaneLook` is one region's figures at
one moment; `plane_assessment` turns looks into a `Look` that the assessor
(`osconsole.health.assess`) merges with the others', so these findings are debounced,
held, cleared and acknowledged like every other, and count in their region's
assessment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from osconsole.config import Thresholds
from osconsole.health.findings import Condition, Coverage, Look, Scope


class Aspect(StrEnum):
    """A side of a region's control plane that findings are about (a Subject's kind)."""

    API = "api"  # availability and response times of each service
    LEAD_TIMES = "lead_times"  # boots and deletes
    PROBES = "probes"  # RabbitMQ, MySQL/Galera, memcached


@dataclass(frozen=True, slots=True)
class PlaneLook:
    """One region's control-plane figures at `at` (local clock).

    `api`: {service: WindowStats over the last 5 minutes}; `lead_times`: the tenants
    snapshot's `extra["lead_times"]` (a LeadTimeSummary) with `lead_times_at`, the
    server time of that snapshot, or None when it is stale or missing; `probes`:
    {name: ProbeResult}, the latest of each configured probe, and `probes_before` the
    one before it (for what grows).
    """

    ref: Any  # RegionRef
    at: float
    api: Mapping[str, Any] = field(default_factory=dict)
    lead_times: Any = None
    lead_times_at: float | None = None
    probes: Mapping[str, Any] = field(default_factory=dict)
    probes_before: Mapping[str, Any] = field(default_factory=dict)


def plane_assessment(looks: Iterable[PlaneLook], thresholds: Thresholds) -> Look:
    """Every control-plane rule over every look; a scope is fresh when its look is."""
    from osconsole.health import availability, leadtimes, probes

    conditions: list[Condition] = []
    fresh: dict[Scope, Coverage] = {}
    for look in looks:
        conditions += availability.api_conditions(look, thresholds)
        judged = frozenset(availability.judged(look, thresholds))
        fresh[(look.ref, Aspect.API)] = Coverage(look.at, judged)  # type: ignore[index]
        if look.lead_times is not None and look.lead_times_at is not None:
            conditions += leadtimes.lead_time_conditions(look, thresholds)
            scope = (look.ref, Aspect.LEAD_TIMES)
            fresh[scope] = Coverage(look.lead_times_at)  # type: ignore[index]
        if look.probes:
            found, seen = probes.probe_conditions(look, thresholds)
            conditions += found
            fresh[(look.ref, Aspect.PROBES)] = Coverage(look.at, frozenset(seen))  # type: ignore[index]
    return Look(tuple(conditions), fresh)


def merged(first: Look, second: Look) -> Look:
    """Two looks at different scopes as one."""
    return Look(first.conditions + second.conditions, {**first.fresh, **second.fresh})


# The region strip's word for each control-plane finding ({id}: the subject's id).
STRIP_WORDS = {
    "api.availability": "{id} FAILING",
    "api.latency": "{id} SLOW",
    "lead.boot_slow": "boots SLOW",
    "lead.stuck": "{id}s STUCK",
    "probe.rabbitmq_partition": "rabbitmq PARTITION",
    "probe.rabbitmq_node_down": "rabbitmq NODE DOWN",
    "probe.rabbitmq_alarm": "rabbitmq ALARM",
    "probe.rabbitmq_queue_growing": "rabbitmq QUEUE GROWING",
    "probe.galera_not_primary": "galera NOT PRIMARY",
    "probe.galera_size": "galera NODE MISSING",
    "probe.galera_state": "galera NOT SYNCED",
    "probe.unreachable": "{id} UNREACHABLE",
}


def strip_words(findings: Iterable[Any]) -> dict[Any, str]:
    """{RegionRef: "rabbitmq PARTITION +1"}: the worst open control-plane finding of
    each region, in a word, and how many more (acknowledged ones are left quiet)."""
    from osconsole.health.findings import sort_key

    aspects = {a.value for a in Aspect}
    by_region: dict[Any, list[Any]] = {}
    for finding in findings:
        if finding.subject.kind in aspects and not finding.acknowledged:
            by_region.setdefault(finding.subject.ref, []).append(finding)
    words = {}
    for ref, found in by_region.items():
        worst = min(found, key=sort_key)
        name = worst.subject.id.split(" ")[0]
        template = STRIP_WORDS.get(worst.rule, "{id} " + worst.rule.rsplit("_", 1)[-1].upper())
        more = f" +{len(found) - 1}" if len(found) > 1 else ""
        words[ref] = template.format(id=name) + more
    return words
