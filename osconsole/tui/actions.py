"""Acting from the console: pick an action, give its parameters, see exactly what will be
sent, confirm, and see the outcome; the affected kinds are polled again at once.

Only what `ActionRunner.offered` lists is shown, so in a read-only session there is
nothing to pick (first depth); the runner refuses again (second), and the HTTP
client refuses any method but GET (third). Cancelling at any step sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import Hit, Hits, Provider
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from osconsole.actions import (
    Action,
    ActionRunner,
    ActionTarget,
    Outcome,
    Plan,
    PlanError,
    Result,
    choices,
    server_target,
    target_of,
)
from osconsole.audit import AuditLog
from osconsole.model import Kind, RegionRef
from osconsole.views import Target

log = logging.getLogger(__name__)

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 90; max-width: 100%; height: auto; max-height: 100%;
    border: thick $warning; background: $surface; padding: 0 1;
}}
{name} .title {{ text-style: bold; }}
{name} .hint {{ color: $text-muted; }}
"""


def runner_of(app: App[Any]) -> ActionRunner | None:
    """The app's action runner over its connected regions (None before connecting)."""
    connection = getattr(app, "connection", None)
    if connection is None:
        return None
    runner = getattr(app, "_action_runner", None)
    if runner is None or runner.sessions.keys() != {r.ref for r in connection.regions}:
        runner = ActionRunner(AuditLog(), connection.regions)
        app._action_runner = runner  # type: ignore[attr-defined]
    return runner


def actions_allowed(app: App[Any], ref: RegionRef) -> bool:
    """Whether the action key exists on a screen of `ref`: never in a read-only session,
    nor where the credential is known to be GET-only (before connecting it does, to say
    that nothing can be done yet)."""
    settings = getattr(app, "settings", None)
    if settings is not None and settings.readonly:
        return False
    runner = runner_of(app)
    return runner is None or runner.may_act(ref)


def action_target(app: App[Any], target: Target, row_subject: Any = None) -> ActionTarget | None:
    """What an action would act on: the selected server row, else the screen's object."""
    if isinstance(row_subject, dict):
        return server_target(target.ref, row_subject)
    state = getattr(app, "state", None)
    if state is None:
        return None
    kind = Kind.SERVICES if target.detail in ("nova", "cinder") else target.kind
    snapshot = state.snapshots.get((target.ref, kind))
    item = None if snapshot is None else snapshot.items.get(target.id)
    return None if item is None else target_of(target.ref, item)


class PickAction(ModalScreen[Action | None]):
    """The actions offered for one target (dangerous ones say so)."""

    DEFAULT_CSS = MODAL_CSS.format(name="PickAction")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, target: ActionTarget, actions: Sequence[Action]) -> None:
        super().__init__()
        self.target = target
        self.actions = list(actions)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Actions on {self.target.label()} in {self.target.ref}", classes="title")
            yield OptionList(
                *(
                    Option(f"{a.title}{'  [changes the cloud]' if a.dangerous else ''}", id=a.name)
                    for a in self.actions
                ),
                id="actions",
            )
            yield Static("Enter to choose, Esc to cancel", classes="hint")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(next(a for a in self.actions if a.name == event.option.id))

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskParams(ModalScreen[dict[str, str] | None]):
    """The action's parameters: a reason, an L3 agent to move to..."""

    DEFAULT_CSS = MODAL_CSS.format(name="AskParams")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, action: Action, target: ActionTarget, options: dict[str, list[tuple[str, str]]]
    ) -> None:
        super().__init__()
        self.action = action
        self.target = target
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{self.action.title}: {self.target.label()}", classes="title")
            for param in self.action.params:
                yield Label(param.label + ("" if param.required else " (optional)"))
                if param.choices:
                    pairs = self.options.get(param.name, [])
                    yield Select([(label, value) for value, label in pairs], id=f"p-{param.name}")
                else:
                    yield Input(max_length=param.max_length, id=f"p-{param.name}")
            yield Static("Enter to continue, Esc to cancel", classes="hint")

    def on_mount(self) -> None:
        if self.action.params:
            self.query_one(f"#p-{self.action.params[0].name}").focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        values: dict[str, str] = {}
        for param in self.action.params:
            widget = self.query_one(f"#p-{param.name}")
            value = widget.value if isinstance(widget, Input | Select) else None
            values[param.name] = "" if value in (None, Select.BLANK) else str(value)
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmPlan(ModalScreen[bool]):
    """Exactly what will be sent; `y` sends it, anything else sends nothing."""

    DEFAULT_CSS = MODAL_CSS.format(name="ConfirmPlan")
    BINDINGS = [
        Binding("y", "send", "Send"),
        Binding("n,escape", "cancel", "Cancel"),
    ]

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("This will be sent:", classes="title")
            yield Static("\n".join(self.plan.lines()), markup=False)
            yield Static("y to send it, n or Esc to cancel (nothing is sent)", classes="hint")

    def action_send(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def param_options(
    app: App[Any], action: Action, target: ActionTarget
) -> dict[str, list[tuple[str, str]]]:
    """Choices for parameters picked from the snapshots (the router move's L3 agents)."""
    state = getattr(app, "state", None)
    agents: list[Any] = []
    if state is not None:
        snapshot = state.snapshots.get((target.ref, Kind.AGENTS))
        agents = list(snapshot.items.values()) if snapshot is not None else []
    found: dict[str, list[tuple[str, str]]] = {}
    for param in action.params:
        if param.choices:
            found[param.name] = choices(param, target, agents)
    return found


async def act(app: App[Any], target: ActionTarget, chosen: Action | None = None) -> Outcome | None:
    """The whole flow for one target, run in a worker (it waits on modal screens);
    returns the outcome, or None when cancelled or refused before planning."""
    runner = runner_of(app)
    if runner is None:
        app.notify("Not connected yet: no action can be taken", severity="warning")
        return None
    offered = runner.offered(target)
    if not offered:
        app.notify(
            f"No action is offered for {target.label()} (read-only, or a GET-only credential)",
            timeout=4,
        )
        return None
    if chosen is not None and chosen.name in {a.name for a in offered}:
        action: Action | None = chosen
    else:
        action = await app.push_screen_wait(PickAction(target, offered))
    if action is None:
        return None
    params: dict[str, str] = {}
    if action.params:
        given = await app.push_screen_wait(
            AskParams(action, target, param_options(app, action, target))
        )
        if given is None:
            return None
        params = given
    try:
        plan = runner.plan(action, target, params)
    except PlanError as exc:
        app.notify(str(exc), title="Not sent", severity="warning", timeout=8)
        return None
    if not await app.push_screen_wait(ConfirmPlan(plan)):
        app.notify("Cancelled: nothing was sent", timeout=3)
        return None
    outcome = await runner.run(plan)
    severity = "information" if outcome.result is Result.SUCCEEDED else "error"
    app.notify(outcome.message, title=action.title, severity=severity, timeout=10)
    poller = getattr(app, "poller", None)
    for kind in outcome.repoll:
        if poller is not None:
            poller.refresh(kind)
    return outcome


class ActionCommands(Provider):
    """The command palette lists the actions of the object a drill-down shows
    (nothing in read-only sessions nor for a GET-only credential: `offered` is empty)."""

    async def search(self, query: str) -> Hits:
        from osconsole.tui.drill import DrillScreen

        screen = self.screen
        if not isinstance(screen, DrillScreen):
            return
        runner = runner_of(self.app)
        target = action_target(self.app, screen.target)
        if runner is None or target is None:
            return
        matcher = self.matcher(query)
        for action in runner.offered(target):
            title = f"{action.title}: {target.label()}"
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(_start, self.app, target, action),
                    help="changes the cloud: you will see exactly what is sent first",
                )


def _start(app: App[Any], target: ActionTarget, action: Action) -> None:
    app.run_worker(act(app, target, action), exclusive=True, group="action")
