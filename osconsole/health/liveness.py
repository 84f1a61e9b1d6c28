"""Liveness rules: Neutron agents and Nova/Cinder services, judged one by one.

Why each rule and its severity (the liveness pane uses the same verdicts):

- Dead agent / service down: critical. Neutron declares an agent dead after
  `agent_down_time` (75 s) without a heartbeat, Nova a service down after
  `service_down_time` (60 s): the server has already waited, so the finding is
  raised at once (no debounce of ours on top). Dead while admin-down, or down while
  disabled: a warning, someone took it out on purpose.
- Heartbeat late (older than `thresholds.heartbeat_warning_s`) while still alive:
  a warning, it is about to be declared dead; at once, the age is already a duration.
- Forced down (Nova's fencing by an operator or an HA tool): a warning, with the
  disabled reason. Disabled (Nova/Cinder) or admin-down (Neutron) while up: info,
  with the reason when there is one.
- Flapping: `thresholds.flap_transitions` up<->down changes noticed within
  `thresholds.flap_window_s`: a warning; it lasts while the window holds that many.
- Restarted: an agent's `started_at` changed between two looks: info, for
  `flap_window_s` after it was noticed (a restart nobody planned is worth a look,
  and a restart loop shows as several).
- Heartbeat in the future by more than `SKEW_NOTICE_S`: info. The API server's clock
  and the clock that stamped the heartbeat disagree; liveness itself then lies
  (Neutron computes `alive` from those clocks), so it is worth knowing, and never a
  reason to call the agent late.

History-based rules (flapping, restarts) read a `History` that `observe` feeds
with every fresh agents/services snapshot.
"""

from __future__ import annotations

from typing import Any

from osconsole.config import Thresholds
from osconsole.health.findings import (
    Condition,
    History,
    Problem,
    Severity,
    Subject,
    clock_time,
    observed_time,
    plural,
)
from osconsole.model import Agent, Kind, Service, Snapshot
from osconsole.text import format_age

SKEW_NOTICE_S = 10.0  # a heartbeat this far in the future is clock skew, not rounding
OVN_GATEWAY_AGENT = "OVN Controller Gateway agent"
GATEWAY_DEAD = (
    ": a gateway chassis; the router gateways it holds keep forwarding with the flows "
    "they have, and no change reaches them (failover needs its datapath to die too)"
)

AGENT_DOWN = "agent.down"
AGENT_LATE = "agent.heartbeat_late"
AGENT_ADMIN_DOWN = "agent.admin_down"
AGENT_FLAPPING = "agent.flapping"
AGENT_RESTARTED = "agent.restarted"
AGENT_SKEW = "agent.clock_skew"
SERVICE_DOWN = "service.down"
SERVICE_LATE = "service.heartbeat_late"
SERVICE_FORCED_DOWN = "service.forced_down"
SERVICE_DISABLED = "service.disabled"
SERVICE_FLAPPING = "service.flapping"
SERVICE_SKEW = "service.clock_skew"


def agent_name(agent: Agent) -> str:
    """ "L3 agent on net01", as an operator names an agent."""
    return f"{agent.agent_type} on {agent.host}"


def service_name(service: Service) -> str:
    return f"{service.binary} on {service.host}"


def _late(age: float | None, thresholds: Thresholds) -> bool:
    return age is not None and age > thresholds.heartbeat_warning_s


def _last_beat(at: float | None) -> str:
    return "never reported" if at is None else f"last heartbeat {clock_time(at)}"


def _skew(name: str, rule: str, age: float | None) -> Problem | None:
    if age is None or age >= -SKEW_NOTICE_S:
        return None
    return Problem(
        rule,
        Severity.INFO,
        "clock skew",
        f"{name}: heartbeat {format_age(-age)} in the future (clock skew between the API "
        "server and the host that stamped it)",
        f"{name}: heartbeat in the future",
    )


# -- agents ---------------------------------------------------------------------------


def agent_state(agent: Agent, thresholds: Thresholds) -> Problem | None:
    """The agent's liveness verdict (dead, late, admin-down), or None when healthy."""
    name = agent_name(agent)
    if not agent.alive:
        beat = _last_beat(agent.heartbeat_at)
        if agent.admin_state_up and agent.agent_type == OVN_GATEWAY_AGENT:
            text = f"{name} is dead ({beat}){GATEWAY_DEAD}"
            return Problem(
                AGENT_DOWN, Severity.CRITICAL, "gateway chassis dead", text, f"{name} is dead"
            )
        if agent.admin_state_up:
            text = f"{name} is dead ({beat})"
            return Problem(
                AGENT_DOWN, Severity.CRITICAL, "agent dead", text, None, agent.heartbeat_at
            )
        return Problem(
            AGENT_DOWN,
            Severity.WARNING,
            "dead while admin-down (expected)",
            f"{name} is dead while administratively down ({beat})",
            None,
            agent.heartbeat_at,
        )
    if _late(agent.heartbeat_age, thresholds):
        limit = f"over {thresholds.heartbeat_warning_s:g}s"
        return Problem(
            AGENT_LATE,
            Severity.WARNING,
            f"heartbeat late ({limit})",
            f"{name}: heartbeat late, last one {format_age(agent.heartbeat_age or 0)} ago "
            f"({limit}: about to be declared dead)",
            f"{name}: heartbeat late",
        )
    if not agent.admin_state_up:
        return Problem(
            AGENT_ADMIN_DOWN, Severity.INFO, "admin-down", f"{name} is administratively down"
        )
    return None


def agent_problems(agent: Agent, thresholds: Thresholds) -> list[Problem]:
    """Every problem one look at an agent shows (history-based ones aside)."""
    found = [
        agent_state(agent, thresholds),
        _skew(agent_name(agent), AGENT_SKEW, agent.heartbeat_age),
    ]
    return [p for p in found if p is not None]


def _flapping(name: str, rule: str, times: tuple[float, ...], t: Thresholds) -> Problem | None:
    if len(times) < t.flap_transitions:
        return None
    window = format_age(t.flap_window_s)
    return Problem(
        rule,
        Severity.WARNING,
        "FLAPPING",
        f"{name} is flapping: {plural(len(times), 'up/down change')} in the last {window}",
        f"{name} is flapping",
    )


def _restarted(name: str, restarts: tuple[tuple[float, float], ...]) -> Problem | None:
    if not restarts:
        return None
    started = clock_time(restarts[-1][1])
    again = f" ({plural(len(restarts), 'restart')} recently)" if len(restarts) > 1 else ""
    return Problem(
        AGENT_RESTARTED,
        Severity.INFO,
        "restarted",
        f"{name} restarted at {started} (started_at changed){again}",
    )


def agent_conditions(
    snapshot: Snapshot[Agent], thresholds: Thresholds, history: History | None = None
) -> list[Condition]:
    """Conditions of every agent in one agents snapshot (flapping and restarts from
    `history`, when given, as of this snapshot's time)."""
    at = observed_time(snapshot)
    prefix = _prefix(snapshot)
    found: list[Condition] = []
    for agent in snapshot.items.values():
        problems = agent_problems(agent, thresholds)
        if history is not None:
            key = prefix + agent.id
            name = agent_name(agent)
            flap = _flapping(name, AGENT_FLAPPING, history.transitions(key, at), thresholds)
            restart = _restarted(name, history.restarts(key, at))
            problems += [p for p in (flap, restart) if p is not None]
        if problems:
            subject = Subject(snapshot.ref, Kind.AGENTS, agent.id, agent_name(agent))
            found += [Condition.of(p, subject, at) for p in problems]
    return found


def _prefix(snapshot: Snapshot[Any]) -> str:
    """The start of every subject key of a snapshot (`Subject.key` without the id)."""
    return f"{snapshot.ref.cloud}/{snapshot.ref.region}/{snapshot.kind.value}/"


# -- services ---------------------------------------------------------------------------


def _with_reason(text: str, reason: str | None) -> str:
    return f"{text}: {reason}" if reason else text


def service_state(service: Service, thresholds: Thresholds) -> Problem | None:
    """The service's liveness verdict (forced down, down, late, disabled), or None."""
    name = service_name(service)
    reason = service.disabled_reason
    began = service.updated_at  # Nova stamps a service row when it changes or reports
    if service.forced_down:
        return Problem(
            SERVICE_FORCED_DOWN,
            Severity.WARNING,
            _with_reason("forced down by an operator", reason),
            _with_reason(f"{name} is forced down by an operator", reason),
            None,
            began,
        )
    if service.state != "up":
        beat = _last_beat(service.updated_at)
        if service.status == "disabled":
            return Problem(
                SERVICE_DOWN,
                Severity.WARNING,
                _with_reason("down while disabled (expected)", reason),
                _with_reason(f"{name} is down while disabled ({beat})", reason),
                None,
                began,
            )
        text = f"{name} is down ({beat})"
        return Problem(SERVICE_DOWN, Severity.CRITICAL, "service down", text, None, began)
    if _late(service.heartbeat_age, thresholds):
        limit = f"over {thresholds.heartbeat_warning_s:g}s"
        return Problem(
            SERVICE_LATE,
            Severity.WARNING,
            f"heartbeat late ({limit})",
            f"{name}: heartbeat late, last report {format_age(service.heartbeat_age or 0)} ago "
            f"({limit})",
            f"{name}: heartbeat late",
        )
    if service.status != "enabled":
        return Problem(
            SERVICE_DISABLED,
            Severity.INFO,
            _with_reason("disabled", reason),
            _with_reason(f"{name} is disabled", reason or "no reason given"),
            None,
            began,
        )
    return None


def service_problems(service: Service, thresholds: Thresholds) -> list[Problem]:
    found = [
        service_state(service, thresholds),
        _skew(service_name(service), SERVICE_SKEW, service.heartbeat_age),
    ]
    return [p for p in found if p is not None]


def service_conditions(
    snapshot: Snapshot[Service], thresholds: Thresholds, history: History | None = None
) -> list[Condition]:
    """Conditions of every Nova/Cinder service in one services snapshot."""
    at = observed_time(snapshot)
    prefix = _prefix(snapshot)
    found: list[Condition] = []
    for service in snapshot.items.values():
        problems = service_problems(service, thresholds)
        if history is not None:
            times = history.transitions(prefix + service.id, at)
            flap = _flapping(service_name(service), SERVICE_FLAPPING, times, thresholds)
            problems += [flap] if flap is not None else []
        if problems:
            subject = Subject(snapshot.ref, Kind.SERVICES, service.id, service_name(service))
            found += [Condition.of(p, subject, at) for p in problems]
    return found


# -- history ------------------------------------------------------------------------------


def observe(history: History, snapshot: Snapshot[Agent] | Snapshot[Service]) -> None:
    """Feed one fresh agents or services snapshot into `history` (stale ones are ignored:
    they show nothing new, nor do items held from an earlier poll). A complete snapshot
    also forgets deleted subjects."""
    if snapshot.stale or snapshot.kind not in (Kind.AGENTS, Kind.SERVICES):
        return
    at = observed_time(snapshot)
    prefix = _prefix(snapshot)
    keys = []
    for item in snapshot.items.values():
        if item.id in snapshot.held:
            continue
        key = prefix + item.id
        keys.append(key)
        if isinstance(item, Agent):
            history.observe(key, at, item.alive, item.started_at)
        else:
            history.observe(key, at, item.state == "up")
    if snapshot.complete:
        history.retain(prefix, keys)
