"""One way for every test to wait for something to happen: `wait_for`.

A condition is checked, then the event loop (or a Textual pilot, which also lets the
App process its messages) runs a little, until the condition holds or `timeout`
seconds have passed, which fails the test with what was awaited. Code on a stepped
clock waits with `step=0`: the loop only yields, no real time passes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.pilot import Pilot


async def wait_for(
    condition: Callable[[], object],
    timeout: float = 10.0,
    *,
    what: str = "",
    pilot: Pilot[Any] | None = None,
    step: float = 0.02,
) -> None:
    """Return once `condition()` is true; fail after `timeout` seconds of waiting."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"not met in {timeout:g}s: {what or condition}")
        if pilot is not None:
            await pilot.pause(step)
        else:
            await asyncio.sleep(step)
