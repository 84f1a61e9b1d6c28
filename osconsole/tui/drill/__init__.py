"""Drill-down screens: Enter on a row opens what it stands for (a hypervisor, a
router, an agent or service, a project), Esc goes back along the breadcrumb.

`open_drill_down(app, target)` is the one entry point the dashboard needs; the
pages are pure data (sections.py, pages.py and one module per kind) and
screen.py draws them.
"""

from __future__ import annotations

from typing import Any

from textual.app import App

from osconsole.live import PANE_TITLES, PANES
from osconsole.model import Kind
from osconsole.tui.context import console_of
from osconsole.tui.drill.context import host_target
from osconsole.tui.drill.pages import build_page, can_open
from osconsole.tui.drill.screen import DrillScreen, push_drill
from osconsole.views import Target, region_labels
from osconsole.widgets.pane import LivePane

__all__ = ["DrillScreen", "build_page", "open_drill_down", "open_host"]


def pane_of(kind: Kind) -> str:
    return next((pane for pane, kinds in PANES.items() if kind in kinds), kind.value)


def start_trail(app: App[Any], target: Target) -> tuple[str, str, str]:
    """("Dashboard", the pane, the region) that every top-level breadcrumb starts with."""
    refs = [*console_of(app).state.regions, target.ref]
    pane = pane_of(target.kind)
    return "Dashboard", PANE_TITLES.get(pane, pane), region_labels(refs)[target.ref]


def _origin(app: App[Any], target: Target) -> tuple[LivePane, str] | None:
    """The dashboard pane and row the operator pressed Enter on, to return to."""
    for pane in app.screen.query(LivePane):
        if pane.selected_target == target and pane.shown_keys:
            return pane, pane.shown_keys[pane.table.cursor_row]
    return None


def open_drill_down(app: App[Any], target: Target) -> None:
    """Push the drill-down screen of `target` (from a dashboard pane's Enter); Esc
    comes back with the pane's cursor on the same row, even if rows moved meanwhile."""
    if not can_open(target):
        app.notify(f"Nothing to open for a {target.kind.value} row", timeout=3)
        return
    origin = _origin(app, target)
    callback = None
    if origin is not None:
        pane, key = origin
        pane.select_key(key)  # the cursor follows its row while polls reorder the pane

        def callback(_: object) -> None:
            pane.select_key(key)

    push_drill(app, target, start_trail(app, target), callback)


def hosts_named(app: App[Any], name: str) -> list[tuple[Any, str]]:
    """(region ref, host) of every host called `name` (case-insensitive) in the last polls."""
    state = getattr(app, "state", None)
    found: dict[tuple[Any, str], None] = {}
    wanted = name.strip().lower()
    fields = ((Kind.HYPERVISORS, "hostname"), (Kind.SERVICES, "host"), (Kind.AGENTS, "host"))
    for kind, field in fields:
        for snapshot in state.of_kind(kind) if state is not None else ():
            for item in snapshot.items.values():
                host = getattr(item, field, "")
                if host and host.lower() == wanted:
                    found[(snapshot.ref, host)] = None
    refs = list(getattr(state, "regions", None) or ())
    return sorted(found, key=lambda pair: refs.index(pair[0]) if pair[0] in refs else len(refs))


def open_host(app: App[Any], name: str) -> None:
    """`:host NAME`: the host page (its first region when several have that name)."""
    found = hosts_named(app, name)
    if not found:
        app.notify(f"no host {name!r} in the last poll", title=":host", severity="warning",
                   markup=False)  # fmt: skip
        return
    (ref, host), others = found[0], found[1:]
    if others:
        where = ", ".join(str(r) for r, _ in others)
        app.notify(f"{host} is also in {where}", title=":host", markup=False)
    target = host_target(ref, host)
    assert target is not None
    push_drill(app, target, (*start_trail(app, target)[::2], "Host"))
