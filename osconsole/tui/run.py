"""Starting the console for real: the demo cloud if asked, the App, a clean exit."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from osconsole.config import Settings
from osconsole.sim.background import DemoCloud, DemoCloudError, start_demo

log = logging.getLogger(__name__)


def run_console_app(
    settings: Settings,
    *,
    os_cloud: str | None,
    region: str | None,
    demo: bool,
    warnings: list[str],
    log_path: Path,
) -> int:
    from osconsole.tui.app import ConsoleApp

    cloud: DemoCloud | None = None
    openstack_config = None
    subtitle = ""
    if demo:
        print("osconsole: starting the demo cloud (3 simulated regions)...", file=sys.stderr)
        try:
            cloud, settings, openstack_config = start_demo(settings, probes=True)
        except DemoCloudError as exc:
            print(f"osconsole: {exc}", file=sys.stderr)
            return 1
        os_cloud = None
        subtitle = f"demo cloud at {cloud.url}"
    try:
        app = ConsoleApp(
            settings,
            os_cloud=os_cloud,
            region=region,
            openstack_config=openstack_config,
            subtitle=subtitle,
        )
        app.demo = demo  # its acknowledgements and audit lines go to files of their own
        for warning in warnings:
            log.warning(warning)
        app.startup_notes = warnings
        if cloud is not None:
            app.mysql_sources = cloud.mysql_sources
        app.run()
        return app.return_code or 0
    finally:
        if cloud is not None:
            cloud.stop()
        print(f"osconsole: log at {log_path}", file=sys.stderr)
