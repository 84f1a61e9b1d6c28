"""`osconsole snapshot`: one complete poll of every region, as a table or JSON, with
the findings (critical first) so a cron job or a chat bot can act on them.

It runs exactly the code the console runs (connect, collectors, poller), once,
with sweeps unpaced unless told otherwise, so its output is what the panes show.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from openstack.config import OpenStackConfig

from osconsole.cloud.connect import connect
from osconsole.config import Settings
from osconsole.health.findings import Finding
from osconsole.health.rules import findings_now
from osconsole.model import Kind, Snapshot
from osconsole.poller import Poller
from osconsole.report import findings_table, snapshot_document, snapshot_tables, to_json

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


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
) -> SnapshotOutcome:
    """Connect, poll everything once, and report; never raises for cloud trouble."""
    if sweep_budget is not None:
        settings = settings.model_copy(update={"sweep_budget": sweep_budget})
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
        snapshots = await poller.poll_once()
    finally:
        await connection.aclose()
    now = time.time()
    problems = list(connection.errors)
    for snap in snapshots:
        if snap.error:
            problems.append(f"{snap.ref} {snap.kind.value}: {snap.error}")
        elif not snap.complete:
            problems.append(f"{snap.ref} {snap.kind.value}: partial: {'; '.join(snap.notes)}")
    findings = findings_now(snapshots, settings.thresholds)
    document = snapshot_document(
        connection.regions,
        snapshots,
        connection.errors,
        now=now,
        extra={"findings": [f.as_dict() for f in findings]},
    )
    code = EXIT_OK if not problems else EXIT_PARTIAL
    return SnapshotOutcome(
        exit_code=code,
        output=findings_table(findings) + "\n\n" + snapshot_tables(snapshots, now),
        json_text=to_json(document),
        document=document,
        snapshots=snapshots,
        problems=problems,
        findings=list(findings),
    )
