"""Authentication through keystoneauth, as every OpenStack tool does it.

openstacksdk's config loader reads clouds.yaml, secure.yaml and `OS_*` exactly as the
`openstack` CLI does, so operators bring the credentials they already have. All
keystoneauth calls are synchronous (requests), so they run in a worker thread; the
event loop only ever awaits them. One `CloudAuth` per cloud serves all its regions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
# After a failed renewal, while the current token lasts, try again this often.
RETRY_SECONDS = 10.0


class AuthError(Exception):
    """Authentication or cloud configuration failed; the message is safe to show."""


class CredentialsRefused(AuthError):
    """Keystone refused the credentials (401): retrying alone would not help, and
    repeated tries can lock the account."""


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
    """Tokens and endpoints for one cloud, refreshed ahead of expiry and on demand.

    Every identity exchange (version discovery and token request) is bounded by
    `timeout`: keystoneauth's session gets it for each request, and the loop's await is
    bounded too, so a Keystone that hangs past every timeout keeps a thread, never a
    poll. A token close to expiry is renewed in the background while requests go on
    with it; callers share one renewal. When renewing fails, the current token is used
    until it really expires, and the failure is kept (`auth_error`, since when) for the
    region strip to say so.
    """

    def __init__(
        self,
        name: str,
        cloud_region: CloudRegion,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.clock = clock
        self.timeout = timeout
        self.cloud_region = cloud_region
        self.interface = cloud_region.config.get("interface") or "public"
        self._session = cloud_region.get_session()
        self._session.timeout = float(timeout)  # each of keystoneauth's requests
        self._plugin = self._session.auth
        self._access: Access | None = None
        self._renewal: asyncio.Task[Access] | None = None
        self._retry_at: datetime | None = None  # after a failed renewal, not before
        self.auth_error: str | None = None  # why the last renewal failed (None: it worked)
        self.auth_failing_since: datetime | None = None  # the first failure in a row
        verify, cert = cloud_region.get_requests_verify_args()
        self.verify: bool | str = True if verify is None else verify
        self.cert: str | tuple[str, str] | None = cert

    @property
    def get_only(self) -> bool:
        """True once an access has shown that this credential may only GET."""
        return self._access is not None and self._access.get_only

    @property
    def renewing(self) -> bool:
        """A renewal is in flight."""
        return self._renewal is not None

    async def access(self) -> Access:
        """A valid access: the current one while it lasts (starting its renewal in the
        background once it nears expiry), else the outcome of one shared renewal."""
        now = self.clock()
        current = self._access
        if current is not None and now < current.expires_at:
            due = self._retry_at is None or now >= self._retry_at
            if _expiring(current, now) and due and self._renewal is None:
                self._renew(force=True)
            return current
        return await self._renewed(force=current is not None)

    async def reauthenticate(self, rejected_token: str) -> Access:
        """A fresh access after a 401 for `rejected_token` (once, even if many saw it)."""
        current = self._access
        if current is not None and current.token != rejected_token and self._renewal is None:
            return current  # renewed since that token was sent
        return await self._renewed(force=True)

    async def _renewed(self, force: bool) -> Access:
        """Wait for the renewal in flight, or start one (shielded: a caller that gives
        up does not cancel it for the others)."""
        renewal = self._renewal or self._renew(force)
        return await asyncio.shield(renewal)

    def _renew(self, force: bool) -> asyncio.Task[Access]:
        renewal = asyncio.get_running_loop().create_task(
            self._renewing(force), name=f"keystone {self.name}"
        )
        renewal.add_done_callback(_retrieve)
        self._renewal = renewal
        return renewal

    async def _renewing(self, force: bool) -> Access:
        try:
            try:
                found = await asyncio.wait_for(
                    _in_thread(self._authenticate, force), timeout=self.timeout
                )
            except TimeoutError:
                raise AuthError(self._no_answer()) from None
        except AuthError as exc:
            now = self.clock()
            self.auth_error = str(exc)
            self.auth_failing_since = self.auth_failing_since or now
            self._retry_at = now + timedelta(seconds=RETRY_SECONDS)
            log.warning("%s", exc)
            raise
        finally:
            self._renewal = None
        self._access = found
        self.auth_error = None
        self.auth_failing_since = None
        self._retry_at = None
        return found

    def _no_answer(self) -> str:
        return f"cloud {self.name!r}: Keystone did not answer within {self.timeout:g}s"

    def _why(self, exc: ksa_exceptions.ClientException) -> str:
        """What failed, in one line; a timeout reads the same whichever side saw it."""
        if _timed_out(exc):
            return self._no_answer()
        if isinstance(exc, ksa_exceptions.ConnectFailure):
            return f"cloud {self.name!r}: cannot reach Keystone: {_safe(exc)}"
        return f"cloud {self.name!r}: authentication failed: {_safe(exc)}"

    def _authenticate(self, force: bool) -> Access:
        if self._plugin is None:
            raise AuthError(f"cloud {self.name!r} has no auth configured")
        try:
            if force:
                self._plugin.invalidate()
            ref = self._plugin.get_access(self._session)
        except ksa_exceptions.Unauthorized:
            raise CredentialsRefused(
                f"cloud {self.name!r}: the credentials were refused (401)"
            ) from None
        except ksa_exceptions.ClientException as exc:
            raise AuthError(self._why(exc)) from None
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


def _timed_out(exc: BaseException | None) -> bool:
    """A timeout, or a failure raised while handling one (keystoneauth's discovery
    turns a timeout into "Could not find versioned identity endpoints")."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, ksa_exceptions.ConnectTimeout | ksa_exceptions.RequestTimeout):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _retrieve(task: asyncio.Task[Access]) -> None:
    """A background renewal's failure is kept on CloudAuth: never "never retrieved"."""
    if not task.cancelled():
        task.exception()


def _in_thread(function: Callable[..., Access], *args: Any) -> asyncio.Future[Access]:
    """`function(*args)` in a daemon thread of its own: a Keystone that hangs past every
    timeout may keep that thread, never the default executor, nor the process at exit."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Access] = loop.create_future()

    def settle(outcome: Access | BaseException) -> None:
        if future.done():  # the loop's side gave up (timeout) or was cancelled
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def run() -> None:
        try:
            outcome: Access | BaseException = function(*args)
        except BaseException as exc:  # handed to the loop, raised there
            outcome = exc
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="keystone", daemon=True).start()
    return future


def _expiring(access: Access, now: datetime) -> bool:
    lifetime = (access.expires_at - access.issued_at).total_seconds()
    margin = min(REFRESH_MARGIN_SECONDS, max(lifetime, 0) / 4)
    return (access.expires_at - now).total_seconds() <= margin
