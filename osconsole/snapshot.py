"""`osconsole snapshot`: one complete poll of every region, as a table or JSON, with
the findings (critical first) and every object's assessment (the one judge's, as
the console shows it) so a cron job or a chat bot can act on them.

It runs exactly the code the console runs (connect, collectors, poller), once,
with sweeps unpaced unless told otherwise, so its output is what the panes show.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from openstack.config import OpenStackConfig

from osconsole.cloud.connect import connect
from osconsole.config import Settings, with_overrides
from osconsole.controlplane import plane_looks, region_plane
from osconsole.health.assess import assess_once
from osconsole.health.findings import Finding, Tracker
from osconsole.model import Kind, Snapshot
from osconsole.poller import Poller
from osconsole.probes.runner import ProbeRunner
from osconsole.report import (
    assessments_document,
    failures,
    findings_table,
    snapshot_document,
    snapshot_tables,
    to_json,
)

# The exit codes are an interface (cron jobs, chat bots): README.md has the table.
EXIT_OK = 0  # every region and kind read completely
EXIT_PARTIAL = 1  # something was read, something was not (stderr and `errors` say what)
EXIT_USAGE = 2  # config or command-line error, or no cloud could be authenticated
EXIT_NOTHING = 3  # regions were reached but not one kind could be read anywhere
EXIT_FINDINGS = 4  # reserved: findings at or above `--fail-on` (not implemented yet)


@dataclass
class SnapshotOutcome:
    exit_code: int
    output: str = ""
    json_text: str = ""
    document: dict[str, Any] = field(default_factory=dict)
    snapshots: list[Snapshot[Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


async def take_snapshot(
    settings: Settings,
    *,
    kinds: list[Kind],
    os_cloud: str | None = None,
    region: str | None = None,
    sweep_budget: float | None = None,
    openstack_config: OpenStackConfig | None = None,
    transport: Any = None,
    probe_kwargs: dict[str, Any] | None = None,
) -> SnapshotOutcome:
    """Connect, poll everything once (and the probes), and report; never raises for
    cloud trouble. `probe_kwargs` go to the ProbeRunner (tests inject the simulator's)."""
    probe_kwargs = probe_kwargs or {}
    if sweep_budget is not None:  # checked as config.yaml's (ConfigError otherwise)
        settings = with_overrides(settings, sweep_budget=sweep_budget)
    connection = await connect(
        settings,
        os_cloud=os_cloud,
        region=region,
        openstack_config=openstack_config,
        transport=transport,
    )
    try:
        if not connection.regions:
            problems = connection.errors or ["no region to poll"]
            return SnapshotOutcome(EXIT_USAGE, problems=problems)
        poller = Poller(
            connection.regions, settings, kinds=kinds, unpaced_sweeps=sweep_budget is None
        )
        probes = ProbeRunner(settings.probes, [r.ref for r in connection.regions], **probe_kwargs)
        snapshots, _ = await asyncio.gather(poller.poll_once(), probes.poll_once())
    finally:
        await connection.aclose()
    now = time.time()
    failed = failures(snapshots, connection.errors)
    problems = [problem_line(f) for f in failed]
    looks = plane_looks(connection.regions, now, snapshots, probes)
    verdicts = assess_once(snapshots, Tracker(settings.thresholds), looks)
    findings = verdicts.findings
    judged = [verdicts.snapshots.get((s.ref, s.kind), s) for s in snapshots]
    document = snapshot_document(
        connection.regions,
        judged,
        failed,
        now=now,
        extra={
            "findings": [f.as_dict() for f in findings],
            "assessments": assessments_document(verdicts),
        },
        plane={s.ref: region_plane(s, now, snapshots, probes) for s in connection.regions},
    )
    return SnapshotOutcome(
        exit_code=exit_code(snapshots, failed),
        output=findings_table(findings) + "\n\n" + snapshot_tables(judged, now, verdicts),
        json_text=to_json(document),
        document=document,
        snapshots=snapshots,
        problems=problems,
        findings=list(findings),
    )


def exit_code(snapshots: list[Snapshot[Any]], failed: list[dict[str, Any]]) -> int:
    """0 complete, 1 partial, 3 when no kind of any region could be read."""
    if snapshots and all(snap.error for snap in snapshots):
        return EXIT_NOTHING
    return EXIT_PARTIAL if failed else EXIT_OK


def problem_line(failure: dict[str, Any]) -> str:
    """One failure as stderr says it: "cloud/region kind: [partial: ]reason"."""
    if failure["region"] is None:
        return str(failure["reason"])
    partial = "partial: " if failure["partial"] else ""
    where = f"{failure['cloud']}/{failure['region']} {failure['kind']}"
    return f"{where}: {partial}{failure['reason']}"
