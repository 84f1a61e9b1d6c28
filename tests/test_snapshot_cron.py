"""`osconsole snapshot` for cron jobs and chat bots: --fail-on, --findings-only, a
versioned JSON with every moment in ISO 8601 UTC, trouble first in the tables."""

from __future__ import annotations

import json
import re
from typing import Any

from osconsole.cli import EXIT_FINDINGS, exit_code, snapshot_output
from osconsole.model import Kind
from osconsole.report import SCHEMA_VERSION, snapshot_tables
from osconsole.sim.world import World
from osconsole.snapshot import EXIT_OK, EXIT_PARTIAL
from tests.test_snapshot import run

__all__ = ["run"]  # the fixture, used by name

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def kill_an_agent(world: World) -> Any:
    region = world.regions["RegionOne"]
    dead = next(a for a in region.agents if a.agent_type == "L3 agent")
    dead.stopped_at = world.now()
    world.clock.step(100)
    return dead


async def test_fail_on_gives_4_only_for_findings_at_or_above(run: Any, world: World) -> None:
    healthy = await run(kinds=[Kind.AGENTS])
    assert healthy.exit_code == EXIT_OK
    assert exit_code(healthy, "critical") == EXIT_OK
    kill_an_agent(world)
    outcome = await run(kinds=[Kind.AGENTS])
    assert outcome.exit_code == EXIT_OK  # what it was: complete, findings or not
    assert exit_code(outcome, None) == EXIT_OK
    assert exit_code(outcome, "critical") == EXIT_FINDINGS
    assert exit_code(outcome, "warning") == EXIT_FINDINGS


async def test_a_partial_snapshot_with_findings_says_findings(run: Any, world: World) -> None:
    kill_an_agent(world)
    world.regions["RegionTwo"].faults.update(error_rate=1.0)
    outcome = await run(kinds=[Kind.AGENTS])
    assert outcome.exit_code == EXIT_PARTIAL
    assert exit_code(outcome, "critical") == EXIT_FINDINGS


async def test_findings_only_and_every_moment_in_iso_8601_utc(run: Any, world: World) -> None:
    dead = kill_an_agent(world)
    outcome = await run(kinds=[Kind.AGENTS, Kind.SERVICES])
    document = json.loads(outcome.json_text)
    assert document["schema_version"] == SCHEMA_VERSION
    moments = [document["generated_at"]]
    for snap in document["snapshots"]:
        moments += [snap["fetched_at"], snap["server_time"]]
        for item in snap["items"]:
            moments += [v for k, v in item.items() if k.endswith("_at") and v is not None]
    for finding in document["findings"]:
        moments += [finding["since"], finding["last_seen"]]
    assert moments and all(ISO_UTC.match(m) for m in moments), moments
    only = json.loads(snapshot_output(outcome, "json", findings_only=True))
    assert set(only) == {"schema_version", "generated_at", "findings", "errors"}
    assert any(f["subject"]["id"] == dead.id for f in only["findings"])
    assert ISO_UTC.match(only["findings"][0]["since"])
    table = snapshot_output(outcome, "table", findings_only=True)
    assert table.startswith("== Findings: ") and "\n\n" not in table


async def test_stale_and_partial_regions_come_first_in_the_tables(run: Any, world: World) -> None:
    world.regions["RegionThree"].faults.update(error_rate=1.0)
    outcome = await run(kinds=[Kind.AGENTS])
    titles = [line for line in snapshot_tables(outcome.snapshots, 0).splitlines() if "==" in line]
    assert "RegionThree" in titles[0]
    assert [t.split()[1] for t in titles[1:]] == [
        "osconsole-sim/RegionOne",
        "osconsole-sim/RegionTwo",
    ]
