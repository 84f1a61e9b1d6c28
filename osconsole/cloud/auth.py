"""Authentication through keystoneauth, as every OpenStack tool does it.

openstacksdk's config loader reads clouds.yaml, secure.yaml and `OS_*` exactly as the
`openstack` CLI does, so operators bring the credentials they already have. All
keystoneauth calls are synchronous (requests), so they run in a worker thread; the
event loop only ever awaits them. One `CloudAuth` per cloud serves all its regions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keystoneauth1 import exceptions as ksa_exceptions
from openstack import exceptions as sdk_exceptions
from openstack.config import OpenStackConfig
from openstack.config.cloud_region import CloudRegion

from osconsole.logs import redact_userinfo

log = logging.getLogger(__name__)

# Refresh a token this long before it expires (or at a quarter of its life if shorter),
# so that no poll starts with a token that dies mid-flight.
REFRESH_MARGIN_SECONDS = 120.0


class AuthError(Exception):
    """Authentication or cloud configuration failed; the message is safe to show."""


@dataclass(frozen=True)
class Access:
    """What a successful authentication gives us (never logged: it holds the token)."""

    token: str
    issued_at: datetime
    expires_at: datetime
    user_name: str
    user_id: str
    project_id: str
    roles: tuple[str, ...]
    catalog: tuple[dict[str, Any], ...]
    access_rules: tuple[dict[str, Any], ...] = ()

    def __repr__(self) -> str:  # keep the token out of tracebacks and logs
        return f"Access(user={self.user_name!r}, expires_at={self.expires_at.isoformat()})"

    @property
    def get_only(self) -> bool:
        """True when the credential's access rules allow nothing but GET."""
        return bool(self.access_rules) and all(
            str(rule.get("method", "")).upper() == "GET" for rule in self.access_rules
        )

    def endpoint(self, service_type: str, region: str, interface: str = "public") -> str | None:
        for service in self.catalog:
            if service.get("type") != service_type:
                continue
            for endpoint in service.get("endpoints", []):
                region_id = endpoint.get("region_id") or endpoint.get("region")
                if region_id == region and endpoint.get("interface") == interface:
                    return str(endpoint["url"])
        return None

    def regions(self, service_type: str = "compute") -> list[str]:
        """Regions that offer `service_type`, in catalog order."""
        found: list[str] = []
        for service in self.catalog:
            if service.get("type") != service_type:
                continue
            for endpoint in service.get("endpoints", []):
                region_id = endpoint.get("region_id") or endpoint.get("region")
                if region_id and region_id not in found:
                    found.append(region_id)
        return found


def load_cloud(
    cloud: str | None,
    *,
    openstack_config: OpenStackConfig | None = None,
    region: str | None = None,
) -> tuple[CloudRegion, list[str]]:
    """The named clouds.yaml entry (or `OS_*` when `cloud` is None), as the CLI reads it,
    and the regions the entry names (`regions:` or `region_name`), if any."""
    config = openstack_config or OpenStackConfig(app_name="osconsole")
    try:
        cloud_region = config.get_one(cloud=cloud, region_name=region)
    except (sdk_exceptions.ConfigException, ksa_exceptions.ClientException, KeyError) as exc:
        what = f"cloud {cloud!r}" if cloud else "the OS_* environment"
        raise AuthError(f"cannot load {what} from clouds.yaml: {_safe(exc)}") from None
    return cloud_region, configured_regions(config, cloud, cloud_region)


def configured_regions(
    config: OpenStackConfig, cloud: str | None, cloud_region: CloudRegion
) -> list[str]:
    """Regions the clouds.yaml entry lists; the loader itself keeps only the first."""
    entry = config.cloud_config.get("clouds", {}).get(cloud or "", {}) if cloud else {}
    raw = entry.get("regions") or entry.get("region_name") or []
    if isinstance(raw, str):
        raw = raw.split(",")
    names: list[str] = []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else item
        if name and str(name).strip() not in names:
            names.append(str(name).strip())
    if not names and not cloud and cloud_region.region_name:
        names.append(cloud_region.region_name)  # OS_REGION_NAME
    return names


def _safe(exc: BaseException) -> str:
    """An exception's message without anything that looks like a secret (keystoneauth's
    messages repeat the auth_url, user and password included if it has them)."""
    text = redact_userinfo(str(exc) or type(exc).__name__)
    for marker in ("password", "secret", "token"):
        if marker in text.lower() and "=" in text:
            return type(exc).__name__
    return text


class CloudAuth:
    """Tokens and endpoints for one cloud, refreshed before expiry and on demand."""

    def __init__(
        self,
        name: str,
        cloud_region: CloudRegion,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.name = name
        self.clock = clock
        self.cloud_region = cloud_region
        self.interface = cloud_region.config.get("interface") or "public"
        self._session = cloud_region.get_session()
        self._plugin = self._session.auth
        self._access: Access | None = None
        self._lock = asyncio.Lock()
        verify, cert = cloud_region.get_requests_verify_args()
        self.verify: bool | str = True if verify is None else verify
        self.cert: str | tuple[str, str] | None = cert

    @property
    def get_only(self) -> bool:
        """True once an access has shown that this credential may only GET."""
        return self._access is not None and self._access.get_only

    async def access(self) -> Access:
        """A valid access, authenticating (in a thread) when none or close to expiry."""
        current = self._access
        if current is not None and not _expiring(current, self.clock()):
            return current
        async with self._lock:
            current = self._access
            if current is not None and not _expiring(current, self.clock()):
                return current
            self._access = await asyncio.to_thread(self._authenticate, current is not None)
            return self._access

    async def reauthenticate(self, rejected_token: str) -> Access:
        """A fresh access after a 401 for `rejected_token` (once, even if many saw it)."""
        async with self._lock:
            current = self._access
            if current is None or current.token == rejected_token:
                self._access = await asyncio.to_thread(self._authenticate, True)
            assert self._access is not None
            return self._access

    def _authenticate(self, force: bool) -> Access:
        if self._plugin is None:
            raise AuthError(f"cloud {self.name!r} has no auth configured")
        try:
            if force:
                self._plugin.invalidate()
            ref = self._plugin.get_access(self._session)
        except ksa_exceptions.Unauthorized:
            raise AuthError(f"cloud {self.name!r}: the credentials were refused (401)") from None
        except ksa_exceptions.ConnectFailure as exc:
            raise AuthError(f"cloud {self.name!r}: cannot reach Keystone: {_safe(exc)}") from None
        except ksa_exceptions.ClientException as exc:
            raise AuthError(f"cloud {self.name!r}: authentication failed: {_safe(exc)}") from None
        catalog = tuple(ref.service_catalog.catalog or ())
        rules: tuple[dict[str, Any], ...] = ()
        # keystoneauth has no accessor for a token's application credential.
        raw = getattr(ref, "_data", None) or {}
        app_cred = raw.get("token", {}).get("application_credential") or {}
        if isinstance(app_cred, dict):
            rules = tuple(app_cred.get("access_rules") or ())
        log.info("authenticated to cloud %s as %s", self.name, ref.username)
        return Access(
            token=ref.auth_token,
            issued_at=ref.issued,
            expires_at=ref.expires,
            user_name=ref.username or "",
            user_id=ref.user_id or "",
            project_id=ref.project_id or "",
            roles=tuple(ref.role_names or ()),
            catalog=catalog,
            access_rules=rules,
        )


def _expiring(access: Access, now: datetime) -> bool:
    lifetime = (access.expires_at - access.issued_at).total_seconds()
    margin = min(REFRESH_MARGIN_SECONDS, max(lifetime, 0) / 4)
    return (access.expires_at - now).total_seconds() <= margin
