"""Running the configured probes of each region: once (snapshot) or in a loop (console).

Each region's probes run together, one round every `interval` seconds, the next
round armed when the last ends (like the poller), each probe bounded by `timeout`.
The latest result and the one before it are kept per probe (growth is judged from
the two), so memory is two results per configured probe.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import httpx

from osconsole.model import RegionRef
from osconsole.probes import memcached, mysql, rabbitmq
from osconsole.probes.base import ProbeResult
from osconsole.probes.settings import RegionProbes

log = logging.getLogger(__name__)


def probes_of(ref: RegionRef, configured: Iterable[RegionProbes]) -> RegionProbes | None:
    """The configured probes of a region (an entry without a cloud fits every cloud)."""
    for entry in configured:
        if entry.region == ref.region and entry.cloud in (None, ref.cloud):
            return entry
    return None


class ProbeRunner:
    """The probes of every watched region that has some configured."""

    def __init__(
        self,
        configured: Iterable[RegionProbes],
        regions: Iterable[RegionRef],
        *,
        clock: Callable[[], float] = time.time,
        mysql_sources: Mapping[RegionRef, mysql.StatusSource] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.configured = list(configured)
        self.entries: dict[RegionRef, RegionProbes] = {}
        self._group: asyncio.TaskGroup | None = None
        self.add(regions)
        self.clock = clock
        self.mysql_sources = dict(mysql_sources or {})
        self.transport = transport
        self.latest: dict[RegionRef, dict[str, ProbeResult]] = {}
        self.before: dict[RegionRef, dict[str, ProbeResult]] = {}

    async def round(self, ref: RegionRef) -> dict[str, ProbeResult]:
        """Every probe of one region, at once; the results are kept and returned."""
        entry = self.entries[ref]
        calls: dict[str, asyncio.Future[ProbeResult] | asyncio.Task[ProbeResult]] = {}
        async with asyncio.TaskGroup() as group:
            if entry.rabbitmq is not None:
                rabbit = entry.rabbitmq
                calls["rabbitmq"] = group.create_task(
                    rabbitmq.probe(
                        rabbit.url,
                        rabbit.username,
                        rabbit.password.get_secret_value(),
                        timeout=entry.timeout,
                        transport=self.transport,
                    )
                )
            if entry.mysql is not None:
                db = entry.mysql
                source = self.mysql_sources.get(ref) or mysql.pymysql_source(
                    db.host, db.port, db.username, db.password.get_secret_value(), entry.timeout
                )
                target = f"{db.host}:{db.port}"
                calls["mysql"] = group.create_task(mysql.probe(source, target, entry.timeout))
            for server in entry.memcached.servers if entry.memcached else []:
                host, _, port = server.rpartition(":")
                calls[f"memcached {server}"] = group.create_task(
                    memcached.probe(host, int(port), entry.timeout)
                )
        now = self.clock()
        results = {name: replace(task.result(), name=name, at=now) for name, task in calls.items()}
        if entry.mysql is not None and entry.mysql.cluster_size is not None:
            db_result = results["mysql"]
            figures = {**db_result.figures, "expected_cluster_size": entry.mysql.cluster_size}
            results["mysql"] = replace(db_result, figures=figures)
        self.before[ref] = self.latest.get(ref, {})
        self.latest[ref] = results
        return results

    async def poll_once(self) -> None:
        await asyncio.gather(*(self.round(ref) for ref in self.entries))

    def add(self, regions: Iterable[RegionRef]) -> None:
        """Probe these regions too, those with probes configured (a cloud connects
        later than others): their rounds start at once when the runner runs."""
        for ref in regions:
            if ref in self.entries or (entry := probes_of(ref, self.configured)) is None:
                continue
            self.entries[ref] = entry
            if self._group is not None:
                self._group.create_task(self._loop(ref), name=f"probes {ref}")

    async def run(self) -> None:
        """Every region's rounds until cancelled (regions added later too); a round
        never overlaps the next."""
        async with asyncio.TaskGroup() as group:
            self._group = group
            for ref in list(self.entries):
                group.create_task(self._loop(ref), name=f"probes {ref}")
            await asyncio.Future()  # until cancelled, even with no region yet

    async def _loop(self, ref: RegionRef) -> None:
        while True:
            try:
                await self.round(ref)
            except Exception:  # a bug in one round must not stop the rest: logged
                log.exception("probes of %s failed", ref)
            await asyncio.sleep(self.entries[ref].interval)
