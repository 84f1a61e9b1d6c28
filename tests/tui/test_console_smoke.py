from __future__ import annotations

import asyncio

from osconsole.tui.app import ConsoleApp
from osconsole.widgets.pane import LivePane
from tests.tui.fixtures import wait_for


async def test_dashboard_fills_from_the_first_poll(console: ConsoleApp, world) -> None:  # type: ignore[no-untyped-def]
    async with console.run_test(size=(120, 40)) as pilot:
        pane = console.screen.query_one("#pane-hypervisors", LivePane)
        total = sum(len(r.hypervisors) for r in world.regions.values())
        await wait_for(pilot, lambda: len(pane.shown_keys) == total)
        print(pane.header_text)
        print(console.screen.query_one("#regions").plain)
        await asyncio.sleep(0)
