"""Operator actions and their guard: actions as data, plans that show exactly what will
be sent, and a runner that refuses, sends, reports what to re-poll and audits.

A screen lists `runner.offered(target)`, asks for the action's `params`, shows
`runner.plan(...).lines()` for confirmation, then awaits `runner.run(plan)`.
"""

from osconsole.actions.catalog import (
    ACTIONS,
    CATALOG,
    action_named,
    actions_for,
    build_plan,
    choices,
    no_choice_reason,
)
from osconsole.actions.model import (
    Action,
    ActionTarget,
    Facts,
    Param,
    Plan,
    PlanError,
    Request,
    TargetKind,
    agent_target,
    hypervisor_target,
    router_target,
    server_target,
    service_target,
    target_of,
)
from osconsole.actions.runner import ActionRunner, Outcome, Result, Step, StepState, is_readonly

__all__ = [
    "ACTIONS",
    "CATALOG",
    "Action",
    "ActionRunner",
    "ActionTarget",
    "Facts",
    "Outcome",
    "Param",
    "Plan",
    "PlanError",
    "Request",
    "Result",
    "Step",
    "StepState",
    "TargetKind",
    "action_named",
    "actions_for",
    "agent_target",
    "build_plan",
    "choices",
    "hypervisor_target",
    "is_readonly",
    "no_choice_reason",
    "router_target",
    "server_target",
    "service_target",
    "target_of",
]
