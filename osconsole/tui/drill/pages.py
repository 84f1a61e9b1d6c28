"""Which page a target opens: the one place that maps a row's Target to its builder."""

from __future__ import annotations

from collections.abc import Callable

from osconsole.live import LiveState
from osconsole.model import Kind
from osconsole.tui.drill.context import HOST, Context
from osconsole.tui.drill.host import host_page
from osconsole.tui.drill.hypervisor import hypervisor_page
from osconsole.tui.drill.liveness import agent_page, service_page
from osconsole.tui.drill.router import router_page
from osconsole.tui.drill.sections import Page
from osconsole.tui.drill.tenant import tenant_page
from osconsole.views import Target

Builder = Callable[[Context], Page]
BUILDERS: dict[Kind, Builder] = {
    Kind.HYPERVISORS: hypervisor_page,
    Kind.ROUTERS: router_page,
    Kind.AGENTS: agent_page,
    Kind.SERVICES: service_page,
    Kind.TENANTS: tenant_page,
}


def can_open(target: Target) -> bool:
    return target.kind in BUILDERS


def build_page(state: LiveState, target: Target, now: float) -> Page:
    """The page of `target` from the latest snapshots (pure; cheap enough to rebuild
    every few seconds while the screen is open)."""
    if target.detail == HOST:
        return host_page(Context(state, target, now))
    return BUILDERS[target.kind](Context(state, target, now))
