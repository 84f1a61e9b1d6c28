"""memcached: `stats` over its text protocol (no dependency): uptime, evictions, hit
ratio, connections against the limit. Keystone's tokens and Horizon's sessions live
there: evictions or a full connection table show up as logins that fail at random."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from osconsole.probes.base import FAILED, OK, UNREACHABLE, ProbeResult

MAX_REPLY = 64 * 1024  # `stats` is a few kilobytes; more is not memcached


def parse_stats(text: str) -> dict[str, str]:
    """`STAT name value` lines up to `END` -> {name: value}; ValueError otherwise."""
    stats: dict[str, str] = {}
    for line in text.splitlines():
        if line == "END":
            return stats
        parts = line.split(" ", 2)
        if len(parts) != 3 or parts[0] != "STAT":
            raise ValueError("not a memcached stats reply")
        stats[parts[1]] = parts[2]
    raise ValueError("the stats reply has no END")


def figures(stats: dict[str, str]) -> dict[str, Any]:
    def number(key: str) -> int | None:
        try:
            return int(stats[key])
        except (KeyError, ValueError):
            return None

    hits, misses = number("get_hits"), number("get_misses")
    lookups = (hits or 0) + (misses or 0)
    return {
        "uptime_s": number("uptime"),
        "evictions": number("evictions"),
        "hit_ratio": None if hits is None or misses is None or not lookups else hits / lookups,
        "connections": number("curr_connections"),
        "max_connections": number("max_connections"),
    }


async def probe(host: str, port: int, timeout: float = 5.0) -> ProbeResult:
    """One `stats` round trip, bounded by `timeout` as a whole."""
    target = f"{host}:{port}"
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(b"stats\r\n")
                await writer.drain()
                raw = await reader.readuntil(b"END\r\n")
            finally:
                writer.close()
    except (TimeoutError, OSError) as exc:
        return ProbeResult("memcached", target, UNREACHABLE, time.time(), error=_why(exc))
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return ProbeResult("memcached", target, FAILED, time.time(), error="cut-short reply")
    try:
        stats = parse_stats(raw[:MAX_REPLY].decode("ascii", "replace"))
    except ValueError as exc:
        return ProbeResult("memcached", target, FAILED, time.time(), error=str(exc))
    return ProbeResult("memcached", target, OK, time.time(), figures(stats))


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return f"cannot connect ({type(exc).__name__})"
