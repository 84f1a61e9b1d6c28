"""From settings to one ready client per region: load clouds, authenticate, negotiate.

Which clouds, in order: `--os-cloud` (one cloud), then config.yaml's `clouds:`, then
`$OS_CLOUD`, then the `OS_*` variables alone. Which regions: `--region`, then the
config's list, then the clouds.yaml entry's, then every region of the catalog that
has any service we read (a region with Neutron but no Nova shows what it has).
A cloud that cannot be loaded or authenticated is reported, and the others go on;
the live viewers keep trying it (`cloud/reconnect.py`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from openstack.config import OpenStackConfig

from osconsole.cloud.auth import AuthError, CloudAuth, CredentialsRefused, load_cloud
from osconsole.cloud.discovery import negotiate, negotiate_service
from osconsole.cloud.http import CATALOG_TYPES, RegionClient
from osconsole.config import CloudSettings, Settings
from osconsole.model import RegionRef

ENV_CLOUD = "(OS_* environment)"
# The catalog types we read; a region is watched if it offers any of them.
WATCHED_TYPES = tuple(
    CATALOG_TYPES.get(s, s) for s in ("compute", "network", "placement", "volume")
)


@dataclass
class RegionSession:
    """One region of one cloud, ready to poll."""

    ref: RegionRef
    client: RegionClient
    auth: CloudAuth
    readonly: bool
    notes: list[str] = field(default_factory=list)


@dataclass
class Connection:
    """The regions we could reach, and why the others are missing."""

    regions: list[RegionSession]
    errors: list[str]

    def add(self, attempt: CloudAttempt) -> None:
        self.regions += attempt.sessions
        self.errors += attempt.errors

    async def aclose(self) -> None:
        clients = {id(r.client.http): r.client.http for r in self.regions}
        await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)


def clouds_to_watch(
    settings: Settings, os_cloud: str | None, env: dict[str, str] | None = None
) -> list[CloudSettings | None]:
    """The clouds in precedence order; None stands for the bare `OS_*` environment."""
    env = dict(os.environ) if env is None else env
    if os_cloud:
        known = {c.name: c for c in settings.clouds}
        return [known.get(os_cloud, CloudSettings(name=os_cloud))]
    if settings.clouds:
        return list(settings.clouds)
    if env.get("OS_CLOUD"):
        return [CloudSettings(name=env["OS_CLOUD"])]
    return [None]


async def connect(
    settings: Settings,
    *,
    os_cloud: str | None = None,
    region: str | None = None,
    openstack_config: OpenStackConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    env: dict[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> Connection:
    """Authenticate every cloud (in threads) and build a client per region (once).
    `clock` is the clients' (Retry-After back-offs): the same as the poller's and the
    viewer's, or the strip would measure a back-off on one clock against another."""
    targets = clouds_to_watch(settings, os_cloud, env)
    attempts = await asyncio.gather(
        *(
            connect_cloud(settings, target, region, openstack_config, transport, clock=clock)
            for target in targets
        )
    )
    connection = Connection([], [])
    for attempt in attempts:
        connection.add(attempt)
    return connection


def cloud_label(target: CloudSettings | None) -> str:
    return target.name if target else ENV_CLOUD


@dataclass
class CloudAttempt:
    """One try at connecting one cloud: its regions' sessions, or why there are none."""

    cloud: str
    sessions: list[RegionSession]
    errors: list[str]
    retry: bool = True  # whether trying again later may help without a person


async def connect_cloud(
    settings: Settings,
    target: CloudSettings | None,
    region_filter: str | None,
    openstack_config: OpenStackConfig | None,
    transport: httpx.AsyncBaseTransport | None,
    *,
    clock: Callable[[], float] = time.time,
) -> CloudAttempt:
    """Authenticate one cloud and build its regions' clients; never raises for the
    cloud's trouble. Refused credentials are not worth retrying on their own: each
    try could count towards locking the account."""
    name = target.name if target else None
    label = cloud_label(target)
    try:
        cloud_region, entry_regions = await asyncio.to_thread(
            load_cloud, name, openstack_config=openstack_config
        )
        auth = await asyncio.to_thread(
            CloudAuth, label, cloud_region, timeout=settings.request_timeout
        )
        access = await auth.access()
    except CredentialsRefused as exc:
        return CloudAttempt(label, [], [str(exc)], retry=False)
    except AuthError as exc:
        return CloudAttempt(label, [], [str(exc)])
    catalog_regions: list[str] = []
    for catalog_type in WATCHED_TYPES:
        catalog_regions += [r for r in access.regions(catalog_type) if r not in catalog_regions]
    if region_filter:
        wanted = [region_filter]
    elif target and target.regions:
        wanted = list(target.regions)
    else:
        wanted = entry_regions or catalog_regions
    errors = [
        f"cloud {label!r}: region {r!r} has no compute, network, placement or volume "
        f"endpoint in the catalog (the catalog has: {', '.join(catalog_regions) or 'none'})"
        for r in wanted
        if r not in catalog_regions
    ]
    readonly = settings.readonly or bool(target and target.readonly)
    http = httpx.AsyncClient(
        verify=auth.verify,
        cert=auth.cert,
        timeout=httpx.Timeout(settings.request_timeout),
        limits=httpx.Limits(max_connections=settings.concurrency * 4),
        transport=transport,
        follow_redirects=False,
    )
    sessions = []
    for region in (r for r in wanted if r in catalog_regions):
        client = RegionClient(
            label,
            region,
            auth,
            http,
            concurrency=settings.concurrency,
            timeout=settings.request_timeout,
            readonly=readonly,
            interface=auth.interface,
            negotiator=negotiate_service,
            clock=clock,
        )
        sessions.append(RegionSession(RegionRef(label, region), client, auth, readonly))
    notes = await asyncio.gather(*(negotiate(s.client) for s in sessions))
    for session, session_notes in zip(sessions, notes, strict=True):
        session.notes.extend(session_notes)
    if not sessions:
        await http.aclose()
    return CloudAttempt(label, sessions, errors)
