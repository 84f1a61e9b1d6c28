"""The region strip says when renewing a region's token fails, and since when: polls go on
with the old token only until it expires, so "ok 5m" alone would be a lie."""

from __future__ import annotations

from osconsole.cloud.http import ServiceStats
from osconsole.model import Kind, RegionRef, Snapshot
from osconsole.views import region_statuses
from osconsole.widgets.region_strip import strip_lines

ONE, TWO = RegionRef("prod", "RegionOne"), RegionRef("prod", "RegionTwo")
NOW = 1_000_000.0
WHY = "cloud 'prod': Keystone did not answer within 5s"


def fresh(ref: RegionRef) -> Snapshot[object]:
    return Snapshot(ref, Kind.AGENTS, {}, fetched_at=NOW - 4, requests=1)


def test_a_region_whose_token_cannot_be_renewed_is_degraded_and_says_why() -> None:
    stats: dict[RegionRef, dict[str, ServiceStats]] = {ONE: {}, TWO: {}}
    one, two = region_statuses(
        stats, [fresh(ONE), fresh(TWO)], NOW, auth_failures={ONE: (WHY, NOW - 180)}
    )
    assert one.status == "degraded" and one.auth_failing == 180
    assert one.detail == f"auth: {WHY}"
    assert two.status == "ok" and two.auth_failing is None


def test_the_strip_says_auth_failing_even_at_80_columns_with_many_regions() -> None:
    refs = [RegionRef("prod", f"Region{n}") for n in range(8)]
    statuses = region_statuses(
        {ref: {} for ref in refs},
        [fresh(ref) for ref in refs],
        NOW,
        auth_failures={refs[3]: (WHY, NOW - 180)},
    )
    (line,) = [line.plain for line in strip_lines(statuses, 80)]
    assert "Region3 DEGRADED 4s AUTH FAILING 3m" in line
    assert "7 more ok" in line
    (wide,) = [line.plain for line in strip_lines(statuses[3:4], 200, max_lines=3)]
    assert wide == (
        "Region3 DEGRADED 4s AUTH FAILING 3m "
        "(auth: cloud 'prod': Keystone did not answer within 5s)"
    )
