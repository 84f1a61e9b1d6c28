"""The command palette (ctrl+p) lists every command of the console, not only Textual's
own (keys, quit, screenshot, theme): pause, refresh, each pane, findings, events,
the region filter, problems only, the `:` line, and the actions of the selected object
(tui.actions.ActionCommands)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from osconsole.live import PANE_TITLES, PANES
from osconsole.tui.actions import highlighted

if TYPE_CHECKING:
    from osconsole.tui.app import ConsoleApp


def console_commands(app: ConsoleApp) -> Iterator[tuple[str, Callable[[], Any], str]]:
    """(title, what it runs, help) of every console command, as the palette lists them."""
    from osconsole.tui import command_line

    run = partial(command_line.run, app)
    yield ("Resume polling" if app.paused else "Pause polling"), app.action_toggle_pause, "p"
    yield "Refresh now: poll every region", app.action_refresh, "r"
    for index, pane in enumerate(PANES, 1):
        yield f"Show {PANE_TITLES[pane]}", partial(run, pane), f"{index} or :{pane}"
    yield "Findings", app.action_findings, "f or :findings"
    yield "Events (timeline)", app.action_events, "e or :events"
    yield "Problems only (every pane)", partial(run, "problems"), "! per pane, :problems"
    yield "Region: all regions", partial(run, "region all"), ":region all"
    for region in command_line.region_names(app):
        yield f"Region: {region} only", partial(run, f"region {region}"), f":region {region}"
    yield "Command line (:)", app.action_command_line, ":"
    yield "Keys of this screen", app.action_help, "?"


class ConsoleCommands(Provider):
    """Every console command, listed when the palette opens and matched as one types."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        from osconsole.tui.app import ConsoleApp

        return list(console_commands(self.app)) if isinstance(self.app, ConsoleApp) else []

    async def discover(self) -> Hits:
        for title, run, help_text in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, highlighted(matcher, title), run, help=help_text)
