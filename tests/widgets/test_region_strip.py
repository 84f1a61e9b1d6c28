"""RegionStrip: each region's status in words, one line at 80 columns, detail when wide."""

from __future__ import annotations

import dataclasses

from textual.app import App, ComposeResult

from osconsole.model import RegionRef
from osconsole.views import RegionStatus
from osconsole.widgets.region_strip import (
    RegionStrip,
    error_counts,
    slowest_service,
    status_word,
    strip_lines,
)


def status(
    region: str,
    state: str,
    age: float | None,
    detail: str = "",
    latency: dict[str, tuple[float | None, float | None]] | None = None,
    errors: dict[str, int] | None = None,
    cloud: str = "prod",
) -> RegionStatus:
    return RegionStatus(
        RegionRef(cloud, region), state, age, latency or {}, errors or {}, detail=detail
    )


THREE = [
    status("RegionOne", "ok", 4.2, latency={"compute": (40.0, 120.0), "network": (12.0, 30.0)}),
    status(
        "RegionTwo",
        "stale",
        130,
        detail="compute 503",
        latency={"compute": (900.0, 2500.0)},
        errors={"compute": 3, "network": 1},
    ),
    status("RegionThree", "connecting", None),
]


def plain(lines: list) -> list[str]:
    return [line.plain for line in lines]


def test_three_regions_fit_one_line_at_80_columns() -> None:
    assert plain(strip_lines(THREE, 80)) == [
        "RegionOne ok 4s | RegionTwo STALE 2m (compute 503) | RegionThree connecting"
    ]


def test_wide_strip_adds_the_slowest_service_and_error_counts() -> None:
    (line,) = plain(strip_lines(THREE, 200, max_lines=3))
    assert "RegionOne ok 4s compute p50 40ms p95 120ms" in line
    assert "RegionTwo STALE 2m (compute 503) compute p50 900ms p95 2500ms" in line
    assert "errors compute 3, network 1" in line
    assert line.endswith("RegionThree connecting")


def test_many_regions_fold_the_ok_ones_to_stay_on_one_line() -> None:
    regions = [status(f"Region{n:02d}", "ok", 3) for n in range(12)]
    regions[5] = status("Region05", "down", 600, detail="auth 401")
    regions[9] = status("Region09", "degraded", 8, detail="timeout")
    (line,) = plain(strip_lines(regions, 80))
    assert line == "Region05 DOWN 10m (auth 401) | Region09 DEGRADED 8s (timeout) | 10 more ok"
    regions[9] = status("Region09", "degraded", 8, detail="neutron timed out after 30s")
    (line,) = plain(strip_lines(regions, 80))
    assert line == "Region05 DOWN 10m | Region09 DEGRADED 8s | 10 more ok"  # details go first
    assert plain(strip_lines([status(f"R{n}", "ok", 1) for n in range(30)], 80)) == ["all 30 ok"]


def test_regions_that_cannot_fit_are_counted_not_dropped() -> None:
    regions = [status(f"VeryLongRegionName{n}", "down", 60) for n in range(10)]
    (line,) = plain(strip_lines(regions, 60))
    assert line == "VeryLongRegionName0 DOWN 1m | +9 more"  # never dropped silently
    (line,) = strip_lines(regions[:1], 12)
    assert line.plain == "VeryLongReg…"


def test_every_status_is_a_word() -> None:
    assert [status_word(s) for s in ("ok", "degraded", "stale", "down", "connecting")] == [
        "ok",
        "DEGRADED",
        "STALE",
        "DOWN",
        "connecting",
    ]
    assert status_word("unreachable") == "UNREACHABLE"


def test_several_clouds_name_regions_by_cloud() -> None:
    statuses = [status("RegionOne", "ok", 1), status("RegionOne", "ok", 2, cloud="lab")]
    assert plain(strip_lines(statuses, 80)) == ["prod/RegionOne ok 1s | lab/RegionOne ok 2s"]


def test_latency_and_errors_helpers_skip_unknowns() -> None:
    assert slowest_service(status("R", "ok", 1, latency={"compute": (None, None)})) == ""
    half = status("R", "ok", 1, latency={"a": (10.0, None), "b": (5.0, 8.0)})
    assert slowest_service(half) == "a p50 10ms p95 ?"
    assert error_counts(status("R", "ok", 1, errors={"compute": 0})) == ""


class StripApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RegionStrip()


async def test_strip_shows_words_and_updates_in_place() -> None:
    async with StripApp().run_test(size=(100, 20)) as pilot:
        strip = pilot.app.query_one(RegionStrip)
        assert strip.plain == "no regions yet"
        strip.show(THREE)
        await pilot.pause()
        assert strip.plain == (
            "RegionOne ok 4s | RegionTwo STALE 2m (compute 503) | RegionThree connecting"
        )
        assert strip.region.height == 1
        rendered = strip.render_line(0).text
        assert "RegionTwo STALE 2m" in rendered

        strip.show([status("RegionOne", "down", 61, detail="auth 401"), *THREE[1:]])
        await pilot.pause()
        assert strip.plain.startswith("RegionOne DOWN 1m (auth 401) | RegionTwo STALE 2m")
        stale_style = strip.get_component_rich_style("strip--stale", partial=True)
        assert stale_style.bold and stale_style.reverse


async def test_a_wide_terminal_gives_the_strip_more_lines() -> None:
    regions = [
        status(f"Region{n}", "ok", 5, latency={"compute": (30.0 + n, 90.0 + n)}) for n in range(8)
    ]
    async with StripApp().run_test(size=(200, 40)) as pilot:
        strip = pilot.app.query_one(RegionStrip)
        strip.show(regions)
        await pilot.pause()
        lines = strip.plain.splitlines()
        assert 1 < len(lines) <= 3
        assert strip.region.height == len(lines)
        assert "Region7 ok 5s compute p50 37ms p95 97ms" in strip.plain


async def test_a_layout_pass_only_when_the_strip_changes_height() -> None:
    """A layout pass repaints every scrollbar on screen: an age that moves must not."""
    regions = [status(f"Region{n}", "ok", 5, latency={"compute": (30.0, 90.0)}) for n in range(8)]
    async with StripApp().run_test(size=(200, 40)) as pilot:
        strip = pilot.app.query_one(RegionStrip)
        strip.show(regions)
        await pilot.pause()
        layouts: list[bool] = []
        refresh = strip.refresh

        def spy(*regions: object, layout: bool = False, **kwargs: object) -> object:
            layouts.append(layout)
            return refresh(*regions, layout=layout, **kwargs)

        strip.refresh = spy  # type: ignore[method-assign]
        strip.show(regions)  # the same: nothing at all
        older = [dataclasses.replace(s, age=6) for s in regions]
        strip.show(older)  # one second older: same lines, no layout
        await pilot.pause()
        assert "Region7 ok 6s" in strip.plain
        strip.show(older[:1])  # one region left: fewer lines, so a layout pass
        await pilot.pause()
        assert layouts[:2] == [False, True]
        assert strip.region.height == 1


def test_a_back_off_is_said_even_at_80_columns() -> None:
    waiting = dataclasses.replace(
        THREE[1], detail="agents: network: backing off", backoff={"network": 24.2, "volume": 3}
    )
    (line,) = plain(strip_lines([THREE[0], waiting, THREE[2]], 80))
    assert "RegionTwo STALE 2m backing off network 25s, volume 3s" in line
