"""The fault matrix: the faults the simulator injects, which kinds each service feeds,
and what a failing kind's reason must say; shared by the snapshot, console and wall
suites of tests/faults.

Every fault hits REGION (one service of it, or all of it); the other regions stay
healthy, so a test can also check that they are untouched.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from osconsole.model import Kind
from osconsole.sim.world import Faults, Router, World

CLOUD = "osconsole-sim"
REGION = "RegionTwo"
HEALTHY = ("RegionOne", "RegionThree")
SERVICES = ("compute", "network", "placement", "volume")
WHOLE_REGION = "region"  # a fault on every service of REGION

# The kinds each service feeds: a fault on the service leaves each of them unread or
# incomplete in REGION (Nova and Cinder both feed services; Placement feeds usage).
READS: dict[str, tuple[Kind, ...]] = {
    "compute": (Kind.HYPERVISORS, Kind.SERVICES, Kind.TENANTS),
    "network": (Kind.AGENTS, Kind.ROUTERS, Kind.TENANTS),
    "placement": (Kind.HYPERVISORS,),
    "volume": (Kind.SERVICES,),
    WHOLE_REGION: tuple(Kind),
}


@dataclass(frozen=True)
class Fault:
    """One fault: the simulator's settings, and how a reason must (not) describe it."""

    name: str
    settings: dict[str, Any] = field(default_factory=dict)
    says: str = ""  # a regex the reason matches: what happened, in words
    never: str = ""  # a regex it must not match: how it used to be misdescribed

    def described(self, reason: str) -> bool:
        return bool(re.search(self.says, reason)) and not (
            self.never and re.search(self.never, reason)
        )


# Retry-After is short here so that recovery, once it is honoured, is a second away.
FAULTS = {
    f.name: f
    for f in (
        Fault("429", {"status": 429, "retry_after": 1}, says=r"429"),
        Fault("503", {"status": 503, "retry_after": 1}, says=r"503"),
        Fault("html", {"html": True}, says=r"(?i)\bhtml\b", never=r"(?i)malformed json"),
        Fault(
            "truncate",
            {"truncate": True},
            says=r"(?i)\bcut\b|incomplete|truncat|mid-?stream|short",
            never=r"(?i)cannot connect",
        ),
        Fault("refuse", {"refuse": True}, says=r"(?i)refused|cannot connect"),
        Fault("null", {"shape": "null"}, never=r"(?i)internal error"),
        Fault("dict", {"shape": "dict"}, never=r"(?i)internal error"),
        Fault("no_ids", {"shape": "no_ids"}, never=r"(?i)internal error"),
    )
}


def inject(world: World, fault: Fault, service: str) -> None:
    """Switch `fault` on for `service` of REGION (or the whole region)."""
    region = world.regions[REGION]
    target = region.faults if service == WHOLE_REGION else region.service_faults[service]
    target.update(**fault.settings)


def clear(world: World) -> None:
    """Every fault off: the region, its services and Keystone."""
    region = world.regions[REGION]
    for faults in (region.faults, *region.service_faults.values(), world.identity_faults):
        faults.update(**asdict(Faults()))


def known_bugs(cases: list[tuple[str, str]], bugs: dict[tuple[str, str], str]) -> list[Any]:
    """pytest params for (fault, service) cases; those in `bugs` are strict xfails whose
    reason names the issue's item, so the lead knows what to un-xfail after a fix."""
    return [
        pytest.param(
            fault,
            service,
            id=f"{fault}-{service}",
            marks=[pytest.mark.xfail(strict=True, reason=bugs[(fault, service)])]
            if (fault, service) in bugs
            else [],
        )
        for fault, service in cases
    ]


# -- Keystone, and routers ------------------------------------------------------------------

# Authentication said to be failing (not merely under way: "authenticating...").
AUTH_FAILING = (
    r"(?i)(keystone|authenticat|identity|token).*(fail|time|answer|hang|unreach|down|refused)"
    r"|(fail|cannot|no answer|timed? out).*(keystone|authenticat|identity|token)"
)


def touch_a_server(world: World) -> None:
    """A server of REGION changes, as one does every minute in a real cloud: a poll that
    lists only the servers changed since the last one (the console's tenants poll) has
    an item for a fault that rewrites items (no ids) to meet."""
    server = next(iter(world.regions[REGION].servers))
    server.updated_at = world.now()


def revoke_tokens(world: World) -> None:
    """Every token the simulator issued expires: the next call of each region gets a 401
    and must authenticate again."""
    for token in world.tokens.values():
        token.expires_at = world.now() - 1


def split_brain(world: World) -> Router:
    """A router of REGION active on two live L3 agents (a VRRP split brain)."""
    router = next(r for r in world.regions[REGION].routers.ordered() if len(r.bindings) > 1)
    for agent_id in router.bindings:
        router.bindings[agent_id] = "active"
    return router


# -- hostile text --------------------------------------------------------------------------

# What a tenant can put in a router's name: set the terminal's title, clear the screen,
# draw at row 5; Rich markup that crashes a parser; a bidi override that reverses text.
HOSTILE = "\x1b]0;PWNED\x07\x1b[2J\x1b[5;1Hweb[/]-router-1 [bold]x\u202e\x9b31m"
BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


def raw_controls(text: str) -> list[str]:
    """The characters of `text` that a terminal would obey instead of showing: C0 and C1
    controls (line breaks aside), DEL, and bidi overrides and isolates."""
    found = []
    for char in text:
        if char in "\n\r\t":
            continue
        if unicodedata.category(char) == "Cc" or char in BIDI:
            found.append(char)
    return found
