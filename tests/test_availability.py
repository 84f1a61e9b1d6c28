"""The rolling per-service history: windows, percentiles, outcomes, bounded rings."""

from __future__ import annotations

import math

import pytest

from osconsole.availability import (
    DAY,
    HOUR,
    MINUTE,
    RequestHistory,
    ServiceHistory,
    bin_value,
    is_failure,
    latency_bin,
    outcome_label,
)

T0 = 1_700_000_000.0 - (1_700_000_000.0 % HOUR)  # the start of an hour


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("ms", [0.3, 1.0, 7.5, 42.0, 180.0, 999.0, 3_000.0, 60_000.0])
def test_a_latency_is_reported_within_five_percent(ms: float) -> None:
    assert abs(bin_value(latency_bin(ms)) - ms) / ms < 0.05


def test_latency_bins_are_ordered_and_bounded() -> None:
    assert latency_bin(0.0) == 0 and latency_bin(float("nan")) == 0
    assert latency_bin(10) < latency_bin(11) <= latency_bin(100)
    assert latency_bin(1e12) == latency_bin(1e15)


def test_what_counts_against_availability() -> None:
    assert is_failure(503, "HTTP 503") and is_failure(500, "HTTP 500")
    assert is_failure(429, "HTTP 429")
    assert is_failure(0, "timeout") and is_failure(0, "unreachable")
    assert is_failure(200, "malformed JSON")
    assert not is_failure(200, None)
    assert not is_failure(404, "HTTP 404") and not is_failure(401, "HTTP 401")
    assert outcome_label(0, "timeout") == "timeout"
    assert outcome_label(200, "malformed JSON") == "malformed"
    assert outcome_label(503, "HTTP 503") == "503"


def test_windows_count_requests_failures_and_statuses() -> None:
    clock = Clock()
    history = RequestHistory(clock)
    for i in range(100):
        clock.now = T0 + i  # within two minutes
        history.record("compute", 10.0 + i, 200, None)
    for _ in range(3):
        history.record("compute", 5.0, 503, "HTTP 503")
    history.record("compute", 10_000.0, 0, "timeout")
    history.record("compute", 5.0, 404, "HTTP 404")
    stats = history.summary()["compute"]["5m"]
    assert stats.requests == 105
    assert stats.failures == 4  # the 404 is the caller's business
    assert stats.by_status == {"503": 3, "timeout": 1, "404": 1}
    assert stats.success_ratio == pytest.approx(101 / 105)
    # the 53rd of 105 calls: four of 5 ms, then 10..109 ms: 58 ms
    assert stats.p50_ms == pytest.approx(58, rel=0.05)
    assert stats.p99_ms is not None and stats.p99_ms > stats.p95_ms  # type: ignore[operator]


def test_nothing_seen_is_unknown_not_perfect() -> None:
    stats = ServiceHistory().window(T0, 300)
    assert stats.requests == 0
    assert stats.success_ratio is None and stats.p95_ms is None


def test_old_calls_leave_the_short_windows_and_stay_in_the_day() -> None:
    history = ServiceHistory()
    history.record(T0, 100.0, 503, "HTTP 503")
    history.record(T0 + 2 * HOUR, 20.0, 200, None)
    now = T0 + 2 * HOUR + 30
    assert history.window(now, 5 * MINUTE).failures == 0
    assert history.window(now, HOUR).requests == 1
    day = history.window(now, DAY)
    assert (day.requests, day.failures) == (2, 1)
    later = T0 + DAY + HOUR  # the first hour has left the day
    assert history.window(later, DAY).requests == 1


def test_a_ring_slot_is_reused_for_a_new_period_and_never_mixed() -> None:
    history = ServiceHistory()
    history.record(T0, 10.0, 200, None)
    history.record(T0 + HOUR, 10.0, 503, "HTTP 503")  # same minute slot, an hour later
    assert history.window(T0 + HOUR, 5 * MINUTE).requests == 1
    # a call older than what the slot holds now is dropped, not mixed in
    history.record(T0 + 30, 10.0, 200, None)
    assert history.window(T0 + HOUR, 5 * MINUTE).failures == 1


def test_minutes_give_one_point_per_minute_for_sparklines() -> None:
    history = ServiceHistory()
    history.record(T0 + 10, 100.0, 200, None)
    history.record(T0 + 70, 200.0, 500, "HTTP 500")
    points = history.minutes(T0 + 125, count=5)
    assert [p.requests for p in points] == [0, 0, 1, 1, 0]
    assert points[3].failures == 1
    assert points[-1].p95_ms is None
    assert math.isclose(points[2].p95_ms or 0, 100.0, rel_tol=0.05)


def test_summary_dict_is_plain_json_data() -> None:
    from osconsole.availability import summary_dict

    clock = Clock()
    history = RequestHistory(clock)
    history.record("network", 12.0, 200, None)
    document = summary_dict(history)
    assert set(document) == {"network"}
    five = document["network"]["5m"]  # type: ignore[index]
    assert five["requests"] == 1 and five["errors"] == 0 and five["success_ratio"] == 1.0
    assert set(document["network"]) == {"5m", "1h", "1d"}  # type: ignore[arg-type]
