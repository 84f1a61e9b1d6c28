"""`:` commands, as in k9s: `:routers`, `:region RegionTwo`, `:host cmp-17`, with Tab
completion (command names, region names, host names) and ↑/↓ history.

Parsing and completion are pure functions over what the console knows (its regions
and the hosts in its snapshots), so they are tested without a terminal; the prompt
is a one-line modal at the bottom; `run` does what the command says.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input

from osconsole.live import PANES
from osconsole.model import Kind

if TYPE_CHECKING:
    from osconsole.tui.app import ConsoleApp

COMMANDS: dict[str, str] = {
    "hypervisors": "the Hypervisors pane",
    "routers": "the L3 HA routers pane",
    "tenants": "the Tenants pane",
    "liveness": "the Liveness pane",
    "findings": "the findings list",
    "events": "the event timeline",
    "region": "NAME|all: show one region's rows only, or every region's",
    "host": "NAME: everything on one host",
    "find": "TEXT: search every pane for a name or id",
    "problems": "only the rows that need a look, in every pane (again: all rows)",
    "export": "[PATH.csv|PATH.json]: save the pane, findings or events shown",
    "quit": "leave the console",
}
ALIASES = {"hv": "hypervisors", "rt": "routers", "q": "quit", "live": "liveness", "ev": "events"}
ARGUMENT = {"region": "NAME|all", "host": "NAME", "find": "TEXT"}
OPTIONAL = {"export": "[PATH]"}  # commands whose argument may be left out
HISTORY_MAX = 100


class CommandError(ValueError):
    """What is wrong with a command line, in words fit to show."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    arg: str = ""


def parse(text: str) -> Command:
    """`:region RegionTwo` -> Command("region", "RegionTwo"); the colon is optional."""
    words = text.strip().removeprefix(":").split(None, 1)
    if not words:
        raise CommandError("type a command: " + ", ".join(COMMANDS))
    name = ALIASES.get(words[0].lower(), words[0].lower())
    arg = words[1].strip() if len(words) > 1 else ""
    if name not in COMMANDS:
        close = [c for c in COMMANDS if c.startswith(name[:2])]
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CommandError(f"no command {words[0]!r}{hint}; known: {', '.join(COMMANDS)}")
    if name in ARGUMENT and not arg:
        raise CommandError(f":{name} {ARGUMENT[name]}: {COMMANDS[name]}")
    if name not in ARGUMENT and name not in OPTIONAL and arg:
        raise CommandError(f":{name} takes no argument")
    return Command(name, arg)


def completions(text: str, regions: Sequence[str], hosts: Iterable[str]) -> list[str]:
    """Whole command lines that `text` may become: command names, then for :region the
    regions (and `all`), for :host the hosts; case-insensitive prefix matches, sorted."""
    typed = text.lstrip().removeprefix(":")
    if " " not in typed:
        return [name for name in COMMANDS if name.startswith(typed.lower())]
    name, _, partial = typed.partition(" ")
    name = ALIASES.get(name.lower(), name.lower())
    partial = partial.lstrip().lower()
    if name == "region":
        choices: Iterable[str] = [*regions, "all"]
    elif name == "host":
        choices = sorted(set(hosts))
    else:
        return []
    return [f"{name} {c}" for c in choices if c.lower().startswith(partial)]


def known_hosts(app: ConsoleApp) -> set[str]:
    """Every host name in the console's snapshots (hypervisors, services, agents)."""
    hosts: set[str] = set()
    fields = ((Kind.HYPERVISORS, "hostname"), (Kind.SERVICES, "host"), (Kind.AGENTS, "host"))
    for kind, field in fields:
        for snapshot in app.state.of_kind(kind):
            hosts.update(h for item in snapshot.items.values() if (h := getattr(item, field, "")))
    return hosts


def region_names(app: ConsoleApp) -> list[str]:
    return list(dict.fromkeys(ref.region for ref in app.state.regions))


class CommandSuggester(Suggester):
    """The first completion, shown greyed after the cursor (→ or Tab takes it)."""

    def __init__(self, app: ConsoleApp) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.console = app

    async def get_suggestion(self, value: str) -> str | None:
        found = completions(value, region_names(self.console), known_hosts(self.console))
        return found[0] if found and found[0] != value else None


class CommandPrompt(ModalScreen[str | None]):
    """The `:` line at the bottom: Enter runs, Esc cancels, Tab completes, ↑/↓ history."""

    DEFAULT_CSS = """
    CommandPrompt { align: left bottom; background: $background 0%; }
    CommandPrompt > Input { dock: bottom; width: 100%; border: tall $accent; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("tab", "complete", "Complete", priority=True),
        Binding("up", "history(-1)", "Earlier command"),
        Binding("down", "history(1)", "Later command"),
    ]

    def __init__(self, history: list[str], suggester: Suggester | None = None) -> None:
        super().__init__()
        self.history = history
        self._position = len(history)
        self._suggester = suggester

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder=":" + " | ".join(COMMANDS) + "  (Tab completes, Esc cancels)",
            suggester=self._suggester,
            id="command",
        )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def input(self) -> Input:
        return self.query_one("#command", Input)

    def action_complete(self) -> None:
        box = self.input
        if box._suggestion:  # the greyed completion Textual shows
            box.value = box._suggestion + (" " if box._suggestion.strip() in ARGUMENT else "")
            box.cursor_position = len(box.value)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._position = min(max(self._position + step, 0), len(self.history))
        box = self.input
        box.value = self.history[self._position] if self._position < len(self.history) else ""
        box.cursor_position = len(box.value)

    @on(Input.Submitted)
    def _run(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if text:
            if text in self.history:
                self.history.remove(text)
            self.history.append(text)
            del self.history[:-HISTORY_MAX]
        self.dismiss(text or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


def run(app: ConsoleApp, text: str | None) -> None:
    """Do what the command line says; a bad one is a message, never a traceback."""
    if not text:
        return
    try:
        command = parse(text)
    except CommandError as exc:
        app.notify(str(exc), title="Command", severity="warning", timeout=6, markup=False)
        return
    name, arg = command.name, command.arg
    if name == "quit":
        app.exit()
        return
    if name == "export":  # of the screen shown: before going back to the dashboard
        from osconsole.tui.copying import export

        export(app, arg)
        return
    dashboard = app.dashboard
    while app.screen is not dashboard and len(app.screen_stack) > 1:
        app.pop_screen()
    if name in PANES:
        dashboard.action_show_pane(name)
    elif name == "findings":
        app.action_findings()
    elif name == "events":
        app.action_events()
    elif name == "region":
        set_region(app, arg)
    elif name == "problems":
        dashboard.action_problems_only(everywhere=True)
    elif name == "host":
        from osconsole.tui.drill import open_host

        open_host(app, arg)
    elif name == "find":
        from osconsole.tui.search import open_search

        open_search(app, arg)


def set_region(app: ConsoleApp, name: str) -> None:
    """Show one region's rows in every pane (`all`: every region again)."""
    regions = region_names(app)
    wanted: str | None = None
    if name.lower() != "all":
        wanted = next((r for r in regions if r.lower() == name.lower()), None)
        if wanted is None:
            app.notify(
                f"no region {name!r}; known: {', '.join(regions) or 'none yet'}",
                title=":region",
                severity="warning",
                markup=False,
            )
            return
    app.dashboard.show_region(wanted)


__all__ = ["Command", "CommandError", "CommandPrompt", "completions", "parse", "run"]
