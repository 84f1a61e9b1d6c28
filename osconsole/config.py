"""config.yaml → typed settings, validated with one clear message (file, key, why).

Credentials stay in clouds.yaml / secure.yaml / `OS_*` (read by openstacksdk);
config.yaml only adds what is ours: which clouds and regions, how often to poll,
how hard we may hit the APIs, thresholds, theme, read-only.

Precedence, stated once: command-line flags > environment > config file > defaults.
The file is looked up at `--config`, then `$OSCONSOLE_CONFIG`, then
`$XDG_CONFIG_HOME/osconsole/config.yaml` (default `~/.config/osconsole/config.yaml`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from osconsole.model import Kind
from osconsole.probes.settings import RegionProbes

# Polling faster than this gains nothing on call and costs the APIs dearly.
INTERVAL_FLOORS = {
    Kind.HYPERVISORS: 10.0,
    Kind.SERVICES: 5.0,
    Kind.AGENTS: 5.0,
    Kind.ROUTERS: 10.0,
    Kind.TENANTS: 30.0,
}
DAY = 86_400.0  # no interval of a live console is longer


class ConfigError(Exception):
    """Config problems, worded for the operator: where, which key, and why; every
    problem of a file at once (`problems`), one per line, so one edit fixes them all."""

    def __init__(self, source: str, key: str, why: str, *more: tuple[str, str]) -> None:
        self.source = source
        self.key = key
        self.why = why
        self.problems: tuple[tuple[str, str], ...] = ((key, why), *more)
        super().__init__("\n".join(_problem_line(source, k, w) for k, w in self.problems))


def _problem_line(source: str, key: str, why: str) -> str:
    return f"{source}: {key}: {why}" if key else f"{source}: {why}"


class _Strict(BaseModel):
    # Every number must be finite: NaN compares false with every bound, so it would
    # slip past them (and an infinite interval or budget stalls a loop for ever).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML reads `yes` as true, and pydantic would take it as the number 1."""
        field = cls.model_fields.get(info.field_name or "")
        if isinstance(value, bool) and field is not None and field.annotation in (int, float):
            raise ValueError("a number is needed, not true/false")
        return value


class CloudSettings(_Strict):
    """One cloud to watch: a clouds.yaml entry, and optionally some of its regions."""

    name: str = Field(min_length=1, description="the clouds.yaml entry (as for --os-cloud)")
    regions: list[str] | None = Field(
        default=None, description="regions to watch; all regions of the catalog when omitted"
    )
    readonly: bool = Field(default=False, description="refuse every change in this cloud")


class Intervals(_Strict):
    """Seconds between the end of one poll of a kind and the start of the next."""

    hypervisors: float = Field(default=30.0, gt=0, le=DAY)
    services: float = Field(default=15.0, gt=0, le=DAY)
    agents: float = Field(default=15.0, gt=0, le=DAY)
    routers: float = Field(default=30.0, gt=0, le=DAY)
    tenants: float = Field(default=60.0, gt=0, le=DAY)
    full_resync: float = Field(
        default=600.0, ge=60.0, le=DAY, description="incremental polls fully resync this often"
    )

    def of(self, kind: Kind) -> float:
        """The interval for `kind`, never below its floor."""
        return max(float(getattr(self, kind.value)), INTERVAL_FLOORS[kind])


class Thresholds(_Strict):
    """When a fact becomes a finding (used by the health rules)."""

    heartbeat_warning_s: float = Field(default=45.0, gt=0, description="agent heartbeat age")
    router_debounce_s: float = Field(default=60.0, ge=0, description="HA conditions must last")
    stuck_server_s: float = Field(default=1800.0, gt=0, description="BUILD/task_state too long")
    nearly_full_ratio: float = Field(default=0.9, gt=0, le=1.0)
    overcommit_ratio: float = Field(default=1.0, gt=0, description="used / capacity above this")
    churn_per_hour: int = Field(default=20, ge=1, description="servers created+deleted per hour")
    quota_near_ratio: float = Field(default=0.9, gt=0, le=1.0)
    fip_burst_per_hour: int = Field(
        default=5, ge=1, description="floating IPs created per project per hour worth a look"
    )
    top_tenants: int = Field(default=50, ge=1)
    flap_transitions: int = Field(default=3, ge=2, description="transitions in flap_window_s")
    flap_window_s: float = Field(default=900.0, gt=0)
    max_l3_agents_per_router: int = Field(
        default=3, ge=1, description="Neutron's max_l3_agents_per_router: HA replicas expected"
    )
    tenant_score_jump: float = Field(
        default=20.0, gt=0, description="a project's score moving by more than this is an event"
    )
    # The control plane's own health (osconsole.health.availability, leadtimes, probes).
    api_success_min: float = Field(
        default=0.99, ge=0, le=1.0, description="a service's answered share over 5 minutes"
    )
    api_p95_max_ms: float = Field(default=2000.0, gt=0, description="a service's p95 over 5 min")
    api_min_requests: int = Field(
        default=10, ge=1, description="fewer calls in 5 minutes prove nothing either way"
    )
    api_debounce_s: float = Field(default=120.0, ge=0, description="API conditions must last")
    boot_slow_ratio: float = Field(
        default=3.0, gt=1.0, description="last hour's p95 boot time over the usual (median)"
    )
    min_gateway_chassis: int = Field(
        default=2, ge=1, description="OVN: fewer alive gateway chassis leave no failover"
    )
    min_gateway_candidates: int = Field(
        default=2, ge=1, description="OVN: live candidate chassis a router's gateway should have"
    )
    gateway_concentration_ratio: float = Field(
        default=0.5, gt=0, le=1.0, description="OVN: share of the gateways on one chassis"
    )


class Settings(_Strict):
    """Everything config.yaml may say; every field has a default."""

    clouds: list[CloudSettings] = Field(default_factory=list)
    intervals: Intervals = Field(default_factory=Intervals)
    concurrency: int = Field(default=8, ge=1, le=64, description="requests in flight per region")
    sweep_budget: float = Field(
        default=10.0,
        gt=0,
        le=1000,
        description="requests per second per region for per-object sweeps (l3-agents, quotas)",
    )
    request_timeout: float = Field(default=10.0, gt=0, le=300)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    theme: Literal["dark", "light", "high-contrast"] = "dark"
    readonly: bool = False
    bell: bool = Field(default=False, description="ring the terminal bell on a new critical")
    probes: list[RegionProbes] = Field(
        default_factory=list, description="RabbitMQ, MySQL, memcached per region (off if empty)"
    )

    @field_validator("clouds")
    @classmethod
    def _unique_clouds(cls, clouds: list[CloudSettings]) -> list[CloudSettings]:
        names = [c.name for c in clouds]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"cloud listed twice: {', '.join(duplicates)}")
        return clouds

    def floor_warnings(self) -> list[str]:
        """Intervals set below their floor (they are raised to the floor)."""
        notes = []
        for kind, floor in INTERVAL_FLOORS.items():
            asked = float(getattr(self.intervals, kind.value))
            if asked < floor:
                notes.append(
                    f"intervals.{kind.value}: {asked:g}s is below the floor of {floor:g}s "
                    f"that protects the APIs; using {floor:g}s"
                )
        return notes


def default_path(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "osconsole" / "config.yaml"


def find_config(explicit: str | None, env: dict[str, str] | None = None) -> Path | None:
    """The config file to read, following the lookup order; None when there is none."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return Path(explicit)
    if env.get("OSCONSOLE_CONFIG"):
        return Path(env["OSCONSOLE_CONFIG"])
    candidate = default_path(env)
    return candidate if candidate.is_file() else None


def parse_settings(text: str, source: str) -> Settings:
    """Settings from YAML text, or ConfigError naming the key and the reason."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(source, where, f"not valid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(source, "", "the file must be a mapping of settings (key: value)")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise _invalid(source, exc) from None


def _invalid(source: str, exc: ValidationError) -> ConfigError:
    """Every problem pydantic found, each with its key, in one ConfigError."""
    problems = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"]) or "(top level)"
        why = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            why = "unknown setting (see config.example.yaml)"
        problems.append((key, why))
    (key, why), *more = problems
    return ConfigError(source, key, why, *more)


def check_setting(name: str, value: Any, source: str) -> Any:
    """`value` for the top-level setting `name`, checked exactly as config.yaml's is
    (a command-line flag overriding it gets the same rules); ConfigError names `source`."""
    try:
        return getattr(Settings.model_validate({name: value}), name)
    except ValidationError as exc:
        raise ConfigError(source, "", _invalid(source, exc).why) from None


def load_settings(explicit: str | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read the config file found by the lookup order (defaults when there is none)."""
    path = find_config(explicit, env)
    if path is None:
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.__class__.__name__}") from None
    return parse_settings(text, str(path))


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """A copy with command-line flags applied (flags win over the file), checked as the
    file is: model_copy alone would take any value (a negative budget spins a loop)."""
    clean = {k: v for k, v in changes.items() if v is not None}
    try:
        return Settings.model_validate({**settings.model_dump(), **clean})
    except ValidationError as exc:
        raise _invalid("command line", exc) from None
