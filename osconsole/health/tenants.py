"""Scoring a project's behaviour in one region: a number to rank by and the reasons, in words.

The tenants pane shows the few projects most worth an operator's look among
thousands, so the score ranks what can hurt *others* above what hurts only the
project itself. Each signal adds a capped number of points (a cap keeps one
noisy signal from burying every other project), and every point comes with a
reason an operator can act on. The pane's severities are cut at 50 (critical),
20 (warning) and above 0 (info), so the weights below are set against those cuts:

- Spoofing ports, 30 for the first and 10 for each further one, at most 50.
  A port with a 0.0.0.0/0 allowed address pair, or with port security off, can
  send traffic as any address: reflection attacks, ARP/IP hijacking of
  neighbours. It is the strongest sign of a compromised or abusive workload, and
  it harms other tenants and the outside world, so one such port is a warning on
  its own and three are critical.
- Sensitive ports open to the world, 20 for the first and 10 for each further
  one, at most 40; a rule opening every port (port 0) counts 40 on its own.
  SSH, RDP, databases, Redis, Elasticsearch, MongoDB and the Docker API open to
  0.0.0.0/0 are what gets brute-forced and ransomed first, and a compromised VM
  becomes the next abuse report. Open web ports (80, 443, ...) are normal and
  score nothing. Spoofing plus a sensitive open port reaches critical.
- Servers in ERROR, 5 each, at most 25: failed builds mostly hurt the project,
  but many at once point at automation retrying in a loop, or at a capacity problem.
- Stuck servers (BUILD or a task for too long), 3 each, at most 15: often the
  first sign of a wedged compute host or conductor, and they hold quota.
- Churn above `thresholds.churn_per_hour` (servers created + deleted in the last
  hour): 10 points per threshold's worth of churn, at most 30. Create/delete
  loops load the scheduler, Placement and Neutron for everyone, and burn-and-churn
  is how crypto-mining abuse avoids detection.
- Floating IPs created in the last hour, from 5 on: 2 each, at most 20. Hopping
  public addresses is how spam and scanning evade blocklists; IPv4 is scarce.
- Quota near its limit (`thresholds.quota_near_ratio`): 5 per resource, at most
  15, of Neutron (every resource), Nova (instances, cores, RAM) and Cinder
  (volumes, gigabytes, snapshots), named with its service: `nova cores 95% (38/40)`.
  It hurts only the project (its next create fails), so it weighs least, but
  support wants to know before the ticket arrives. Unlimited (-1) and zero limits
  are ignored. A service's quota that could not be read is not 0%: it scores
  nothing and is named in the score's `unread`.

Reasons come back most telling first (the highest points first), so the pane
can show the first one and "(+N more)". A signal that could not be read (None)
scores nothing and is named in `unread`: the score is then a lower bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from osconsole.config import Thresholds
from osconsole.model import TenantSignals

SENSITIVE_PORTS = frozenset({22, 3389, 3306, 5432, 6379, 9200, 27017, 2375, 0})
ALL_PORTS = 0  # a rule without a port range opens every port

SPOOF_FIRST, SPOOF_EACH, SPOOF_CAP = 30.0, 10.0, 50.0
OPEN_FIRST, OPEN_EACH, OPEN_CAP = 20.0, 10.0, 40.0
ERROR_EACH, ERROR_CAP = 5.0, 25.0
STUCK_EACH, STUCK_CAP = 3.0, 15.0
CHURN_PER_THRESHOLD, CHURN_CAP = 10.0, 30.0
FIP_EACH, FIP_CAP = 2.0, 20.0
QUOTA_EACH, QUOTA_CAP = 5.0, 15.0


@dataclass(frozen=True, slots=True)
class TenantScore:
    """How much a project is worth a look (0: nothing to see), and why, in words."""

    score: float
    reasons: tuple[str, ...] = ()
    # What could not be read, so not judged ("spoofing ports", "nova quota"): the score
    # is then a lower bound.
    unread: tuple[str, ...] = ()


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _first_and_each(n: int, first: float, each: float, cap: float) -> float:
    return 0.0 if n <= 0 else min(cap, first + each * (n - 1))


def _spoofing(s: TenantSignals, t: Thresholds) -> tuple[float, str] | None:
    n = len(s.spoofing_ports or ())
    if not n:
        return None
    verb = "allows" if n == 1 else "allow"
    what = f"{_plural(n, 'port', 'ports')} {verb} spoofing"
    reason = f"{what} (0.0.0.0/0 address pairs or port security off)"
    return _first_and_each(n, SPOOF_FIRST, SPOOF_EACH, SPOOF_CAP), reason


def _open_ports(s: TenantSignals, t: Thresholds) -> tuple[float, str] | None:
    sensitive = sorted(set(s.open_ingress_ports or ()) & SENSITIVE_PORTS)
    if not sensitive:
        return None
    if ALL_PORTS in sensitive:
        return OPEN_CAP, "ingress from 0.0.0.0/0 to all ports"
    points = _first_and_each(len(sensitive), OPEN_FIRST, OPEN_EACH, OPEN_CAP)
    return points, f"ingress from 0.0.0.0/0 to {', '.join(map(str, sensitive))}"


def _errors(s: TenantSignals, t: Thresholds) -> tuple[float, str] | None:
    n = len(s.error_servers or ())
    if not n:
        return None
    return min(ERROR_CAP, ERROR_EACH * n), f"{_plural(n, 'server', 'servers')} in ERROR"


def _stuck(s: TenantSignals, t: Thresholds) -> tuple[float, str] | None:
    n = len(s.stuck_servers or ())
    if not n:
        return None
    return (
        min(STUCK_CAP, STUCK_EACH * n),
        f"{_plural(n, 'server', 'servers')} stuck in BUILD/task state",
    )


def _churn(s: TenantSignals, t: Thresholds) -> tuple[float, str] | None:
    if s.created_last_hour is None or s.deleted_last_hour is None:
        return None
    churn = s.created_last_hour + s.deleted_last_hour
    if churn <= t.churn_per_hour:
        return None
    points = min(CHURN_CAP, CHURN_PER_THRESHOLD * churn / t.churn_per_hour)
    created = _plural(s.created_last_hour, "server", "servers")
    reason = (
        f"churn: {created} created and {s.deleted_last_hour} deleted in the last hour "
        f"(threshold {t.churn_per_hour})"
    )
    return points, reason


def _floating_ips(s: TenantSignals, t: Thresholds) -> tuple[float, str] | None:
    n = s.floating_ips_created_last_hour
    if n is None or n < t.fip_burst_per_hour:
        return None
    return min(FIP_CAP, FIP_EACH * n), f"floating IPs: {n} created in the last hour"


def quota_phrase(service: str, resource: str, used: int, limit: int) -> str:
    """How full one quota is, as the reasons and the drill-down say it:
    'nova cores 95% (38/40)' (a positive limit)."""
    return f"{service} {resource} {used * 100 // limit}% ({used}/{limit})"


def fullest(
    quotas: Mapping[str, Mapping[str, tuple[int, int]]],
) -> list[tuple[str, str, int, int]]:
    """Every limited quota (limit > 0) of every service as (service, resource, used,
    limit), the fullest first."""
    ranked = sorted(
        (-used / limit, service, resource, used, limit)
        for service, usage in quotas.items()
        for resource, (used, limit) in usage.items()
        if limit > 0
    )
    return [(service, resource, used, limit) for _, service, resource, used, limit in ranked]


def _quota(s: TenantSignals, t: Thresholds) -> tuple[float, str] | None:
    near = [q for q in fullest(s.quotas) if q[2] >= t.quota_near_ratio * q[3]]
    if not near:
        return None
    text = ", ".join(quota_phrase(*q) for q in near)
    return min(QUOTA_CAP, QUOTA_EACH * len(near)), f"quota: {text}"


# In this order reasons of equal points are listed (the heavier concern first).
RULES: tuple[Callable[[TenantSignals, Thresholds], tuple[float, str] | None], ...] = (
    _spoofing,
    _open_ports,
    _churn,
    _errors,
    _stuck,
    _floating_ips,
    _quota,
)


def score(signals: TenantSignals, thresholds: Thresholds) -> TenantScore:
    """The project's score (the sum of every rule's capped points) and its reasons,
    the highest points first; and what could not be judged."""
    unread = signals.unread + tuple(f"{service} quota" for service in signals.quotas_unknown)
    found = [hit for rule in RULES if (hit := rule(signals, thresholds)) is not None]
    if not found:
        return TenantScore(0.0, unread=unread)
    ranked = sorted(found, key=lambda hit: -hit[0])  # stable: RULES order breaks ties
    total = round(sum(points for points, _ in found), 1)
    return TenantScore(total, tuple(reason for _, reason in ranked), unread)
