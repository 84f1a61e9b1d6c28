"""Which collector gathers which kind."""

from __future__ import annotations

from osconsole.collect.base import Collector
from osconsole.collect.hypervisors import HypervisorCollector
from osconsole.collect.liveness import AgentCollector, ServiceCollector
from osconsole.collect.routers import RouterCollector
from osconsole.collect.tenants import TenantCollector
from osconsole.model import Kind

COLLECTORS: dict[Kind, type[Collector]] = {
    Kind.HYPERVISORS: HypervisorCollector,
    Kind.SERVICES: ServiceCollector,
    Kind.AGENTS: AgentCollector,
    Kind.ROUTERS: RouterCollector,
    Kind.TENANTS: TenantCollector,
}
