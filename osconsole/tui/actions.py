"""Acting from the console: pick an action, give its parameters, see exactly what will be
sent, confirm, and see the outcome; the affected kinds are polled again at once.

Only what `ActionRunner.offered` lists is shown, so in a read-only session there is
nothing to pick (first depth); the runner refuses again (second), and the HTTP
client refuses any method but GET (third). Cancelling at any step sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, Select, Static
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
    no_choice_reason,
    server_target,
    target_of,
)
from osconsole.audit import AuditLog, audit_path
from osconsole.model import Kind, RegionRef
from osconsole.tui.keys import CURSOR_BINDINGS, move_cursor
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
        demo = bool(getattr(app, "demo", False))
        runner = ActionRunner(AuditLog(audit_path(demo=demo)), connection.regions)
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
    found = None if item is None else target_of(target.ref, item)
    if found is not None and found.forced_down is None and kind is Kind.HYPERVISORS:
        services = state.snapshots.get((target.ref, Kind.SERVICES))
        service = None if services is None else services.items.get(f"nova:{found.id}")
        if service is not None:  # a hypervisor's service says whether it is forced down
            found = replace(found, forced_down=service.forced_down)
    return found


class PickAction(ModalScreen[Action | None]):
    """The actions offered for one target (dangerous ones say so)."""

    DEFAULT_CSS = MODAL_CSS.format(name="PickAction")
    BINDINGS = [Binding("escape", "cancel", "Cancel"), *CURSOR_BINDINGS]

    def __init__(self, target: ActionTarget, actions: Sequence[Action]) -> None:
        super().__init__()
        self.target = target
        self.actions = list(actions)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"Actions on {self.target.label()} in {self.target.ref}",
                classes="title",
                markup=False,
            )
            yield OptionList(
                *(
                    Option(
                        Text(f"{a.title}{'  [changes the cloud]' if a.dangerous else ''}"),
                        id=a.name,
                    )
                    for a in self.actions
                ),
                id="actions",
            )
            yield Static("Enter to choose, Esc to cancel", classes="hint")

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(next(a for a in self.actions if a.name == event.option.id))

    def action_cursor(self, direction: str) -> None:
        move_cursor(self.focused, direction)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskParams(ModalScreen[dict[str, str] | None]):
    """The action's parameters: a reason, an L3 agent to move to...

    Completed from the keyboard: choosing in a list moves on to the next field, and
    Enter on the last field (or on Continue) goes to the confirmation. A list with
    nothing to choose says why (`unavailable`) instead of showing an empty list."""

    DEFAULT_CSS = MODAL_CSS.format(name="AskParams") + (
        "AskParams .why { color: $text-warning; }\nAskParams #continue { margin: 1 0 0 0; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel"), *CURSOR_BINDINGS]

    def __init__(
        self,
        action: Action,
        target: ActionTarget,
        options: dict[str, list[tuple[str, str]]],
        unavailable: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.action = action
        self.target = target
        self.options = options
        self.unavailable = unavailable or {}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                f"{self.action.title}: {self.target.label()}", classes="title", markup=False
            )
            for param in self.action.params:
                yield Label(param.label + ("" if param.required else " (optional)"))
                if param.choices:
                    pairs = self.options.get(param.name, [])
                    yield Select(
                        [(Text(label), value) for value, label in pairs],
                        id=f"p-{param.name}",
                        value=pairs[0][0] if len(pairs) == 1 else Select.NULL,
                        disabled=not pairs,
                    )
                    why = self.unavailable.get(param.name)
                    if why:
                        yield Static(why, classes="why", markup=False)
                else:
                    yield Input(max_length=param.max_length, id=f"p-{param.name}")
            yield Button("Continue", id="continue", variant="warning")
            yield Static(
                "Enter to choose and go on, Enter on Continue to see what is sent, Esc to cancel",
                classes="hint",
            )

    def on_mount(self) -> None:
        self._first_to_fill(self._fields()).focus()

    def _fields(self) -> list[Widget]:
        """The fields in order, then Continue: what Enter walks through."""
        fields: list[Widget] = []
        for param in self.action.params:
            widget = self.query_one(f"#p-{param.name}")
            if not widget.disabled:
                fields.append(widget)
        return [*fields, self.query_one("#continue", Button)]

    @staticmethod
    def _first_to_fill(fields: list[Widget]) -> Widget:
        """The first field still to fill: a list already chosen (the only free agent) is
        skipped; text boxes are not (an optional reason is worth the stop). Else Continue."""
        for field in fields:
            if not (isinstance(field, Select) and field.value is not Select.NULL):
                return field
        return fields[-1]

    def _next_field(self, current: Widget) -> None:
        fields = self._fields()
        if current in fields:
            self._first_to_fill(fields[fields.index(current) + 1 :]).focus()

    @on(Select.Changed)
    def _chosen(self, event: Select.Changed) -> None:
        """The operator chose (not a list set when the form opened): go on."""
        focused = self.focused
        chosen_here = focused is event.select or (
            focused is not None and event.select in focused.ancestors
        )
        if chosen_here and event.value is not Select.NULL:
            self._next_field(event.select)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter in a text box: the next field, or the confirmation from the last one."""
        fields = self._fields()
        if event.input in fields and fields.index(event.input) + 2 < len(fields):
            self._next_field(event.input)
        else:
            self.dismiss(self.values())

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        self.dismiss(self.values())

    def values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for param in self.action.params:
            widget = self.query_one(f"#p-{param.name}")
            value = widget.value if isinstance(widget, Input | Select) else None
            values[param.name] = "" if value in (None, Select.NULL) else str(value)
        return values

    def action_cursor(self, direction: str) -> None:
        move_cursor(self.focused, direction)

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


def _agents(app: App[Any], target: ActionTarget) -> list[Any]:
    state = getattr(app, "state", None)
    snapshot = None if state is None else state.snapshots.get((target.ref, Kind.AGENTS))
    return list(snapshot.items.values()) if snapshot is not None else []


def param_options(
    app: App[Any], action: Action, target: ActionTarget
) -> dict[str, list[tuple[str, str]]]:
    """Choices for parameters picked from the snapshots (the router move's L3 agents)."""
    agents = _agents(app, target)
    return {p.name: choices(p, target, agents) for p in action.params if p.choices}


def unavailable_choices(app: App[Any], action: Action, target: ActionTarget) -> dict[str, str]:
    """Why a parameter's list is empty, per parameter (the router is on every L3 agent)."""
    agents = _agents(app, target)
    found = {p.name: no_choice_reason(p, target, agents) for p in action.params if p.choices}
    return {name: why for name, why in found.items() if why}


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
            markup=False,
        )
        return None
    if chosen is not None and chosen.name in {a.name for a in offered}:
        action: Action | None = chosen
    else:
        action = await app.push_screen_wait(PickAction(target, offered))
    if action is None:
        return None
    params: dict[str, str] = {}
    unavailable = unavailable_choices(app, action, target)
    blocking = [why for p in action.params if p.required and (why := unavailable.get(p.name))]
    if blocking:  # a list with nothing to pick: say why rather than open a dead end
        app.notify("; ".join(blocking), title=f"{action.title}: not possible", timeout=10)
        return None
    if action.params:
        given = await app.push_screen_wait(
            AskParams(action, target, param_options(app, action, target), unavailable)
        )
        if given is None:
            return None
        params = given
    try:
        plan = runner.plan(action, target, params)
    except PlanError as exc:
        app.notify(str(exc), title="Not sent", severity="warning", timeout=8, markup=False)
        return None
    if not await app.push_screen_wait(ConfirmPlan(plan)):
        app.notify("Cancelled: nothing was sent", timeout=3)
        return None
    outcome = await runner.run(plan)
    severity = "information" if outcome.result is Result.SUCCEEDED else "error"
    app.notify(outcome.message, title=action.title, severity=severity, timeout=10, markup=False)
    poller = getattr(app, "poller", None)
    for kind in outcome.repoll:
        if poller is not None:
            poller.refresh(kind)
    return outcome


class ActionCommands(Provider):
    """The command palette lists the actions of the object a drill-down shows, or of
    the dashboard's selected row (nothing in read-only sessions nor for a GET-only
    credential: `offered` is empty)."""

    def _offered(self) -> list[tuple[str, Any]]:
        from osconsole.tui.dashboard import DashboardScreen
        from osconsole.tui.drill import DrillScreen

        screen = self.screen
        if isinstance(screen, DrillScreen):
            shown: Target | None = screen.target
        elif isinstance(screen, DashboardScreen):
            shown = screen.focused_pane().selected_target  # the selected row's object
        else:
            return []
        runner = runner_of(self.app)
        target = None if shown is None else action_target(self.app, shown)
        if runner is None or target is None:
            return []
        return [
            (f"{action.title}: {target.label()}", partial(_start, self.app, target, action))
            for action in runner.offered(target)
        ]

    async def discover(self) -> Hits:
        for title, run in self._offered():
            yield DiscoveryHit(title, run, help=DANGER_HELP)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run in self._offered():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlighted(matcher, title), run, help=DANGER_HELP)


DANGER_HELP = "changes the cloud: you will see exactly what is sent first"


def highlighted(matcher: Matcher, text: str) -> Content:
    """`text` with the letters the query matched highlighted, as plain text
    (Matcher.highlight parses its candidate as markup, and names are not markup)."""
    content = Content(text)
    _, offsets = matcher.fuzzy_search.match(matcher.query, text)
    for offset in offsets:
        if not text[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


def _start(app: App[Any], target: ActionTarget, action: Action) -> None:
    app.run_worker(act(app, target, action), exclusive=True, group="action")
