"""config.yaml's `probes:`: which supporting services to probe in which region.

Off unless configured. Each entry names a region (and its cloud, when several are
watched) and any of a RabbitMQ management API, a MySQL/Galera server and memcached
servers. Accounts must be read-only (RabbitMQ's `monitoring` tag; MySQL's `USAGE`
is enough for SHOW GLOBAL STATUS); passwords are SecretStr, never logged or shown.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RabbitProbe(_Strict):
    """A RabbitMQ management API, read with a user tagged `monitoring`."""

    url: str = Field(min_length=1, description="http(s)://host:15672")
    username: str = Field(min_length=1)
    password: SecretStr

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        if "@" in url.split("//", 1)[1].split("/", 1)[0]:
            raise ValueError("put the credentials in username and password, not in the URL")
        return url


class MysqlProbe(_Strict):
    """A MySQL/MariaDB (Galera) server, read with an account that may only connect."""

    host: str = Field(min_length=1)
    port: int = Field(default=3306, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: SecretStr
    cluster_size: int | None = Field(
        default=None, ge=1, description="Galera nodes expected; fewer is a finding"
    )


class MemcachedProbe(_Strict):
    """memcached servers, as host:port."""

    servers: list[str] = Field(min_length=1)

    @field_validator("servers")
    @classmethod
    def _host_port(cls, servers: list[str]) -> list[str]:
        for server in servers:
            host, _, port = server.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return servers


class RegionProbes(_Strict):
    """The probes of one region; `cloud` may be left out when one cloud is watched."""

    region: str = Field(min_length=1)
    cloud: str | None = None
    interval: float = Field(default=30.0, ge=10.0, description="seconds between rounds")
    timeout: float = Field(default=5.0, gt=0, le=60)
    rabbitmq: RabbitProbe | None = None
    mysql: MysqlProbe | None = None
    memcached: MemcachedProbe | None = None
