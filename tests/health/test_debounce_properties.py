"""Properties of the debounce, over any sequence of looks hypothesis can think of.

- No finding for any flap shorter than the debounce, however many flaps.
- Exactly one finding for a condition that lasts longer, raised once, at the first
  look at or past the debounce, with `since` = its first sighting.
- Stale looks (the scope not fresh) change nothing, wherever they fall.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from osconsole.health.findings import (
    Condition,
    Coverage,
    Severity,
    Subject,
    Tracker,
    Update,
)
from osconsole.health.findings import (
    Look as Seen,
)
from osconsole.model import Kind, RegionRef

REF = RegionRef("cloud", "RegionOne")
SCOPE = (REF, Kind.ROUTERS)
SUBJECT = Subject(REF, Kind.ROUTERS, "r1", "web-1")
START = 1_000_000.0


@dataclass(frozen=True)
class Look:
    at: float
    present: bool
    fresh: bool = True


def apply(tracker: Tracker, look: Look, debounce: float) -> Update:
    conditions = ()
    if look.present:
        reason = "router web-1 is active on 2 agents: net01, net02 (split brain)"
        conditions = (
            Condition("router.split_brain", Severity.CRITICAL, SUBJECT, reason, look.at, debounce),
        )
    fresh = {SCOPE: Coverage(look.at)} if look.fresh else {}
    return tracker.update(Seen(conditions, fresh))


debounces = st.integers(min_value=1, max_value=300).map(float)
gaps = st.integers(min_value=1, max_value=90)


@st.composite
def flap(draw: st.DrawFn, debounce: float) -> list[float]:
    """Gaps between the present looks of one flap, spanning less than the debounce."""
    span, out = 0.0, []
    for gap in draw(st.lists(gaps, max_size=8)):
        if span + gap >= debounce:
            break
        span += gap
        out.append(float(gap))
    return out


@st.composite
def flapping(draw: st.DrawFn, debounce: float) -> list[Look]:
    """Flaps shorter than `debounce`, each followed by one or more fresh looks without it."""
    looks: list[Look] = []
    t = START
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        t += draw(gaps)
        looks.append(Look(t, True))
        for gap in draw(flap(debounce)):
            t += gap
            looks.append(Look(t, True))
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            t += draw(gaps)
            looks.append(Look(t, False))
    return looks


@given(data=st.data(), debounce=debounces)
@settings(max_examples=200, deadline=None)
def test_no_finding_for_any_flap_shorter_than_the_debounce(
    data: st.DataObject, debounce: float
) -> None:
    tracker = Tracker()
    for look in data.draw(flapping(debounce)):
        update = apply(tracker, look, debounce)
        assert update.findings == () and update.raised == ()


@given(data=st.data(), debounce=debounces, extra=st.lists(gaps, max_size=6))
@settings(max_examples=200, deadline=None)
def test_a_condition_lasting_longer_is_exactly_one_finding_since_its_first_sighting(
    data: st.DataObject, debounce: float, extra: list[int]
) -> None:
    tracker = Tracker()
    before = data.draw(flapping(debounce))
    for look in before:
        apply(tracker, look, debounce)
    # Far enough after the flaps that nothing can be revived: a new condition.
    start = (before[-1].at if before else START) + debounce + data.draw(gaps)
    times = [start]
    while times[-1] - start < debounce:
        times.append(times[-1] + data.draw(gaps))
    times += [times[-1] + sum(extra[: i + 1]) for i in range(len(extra))]
    raised_at = []
    for t in times:
        update = apply(tracker, Look(t, True), debounce)
        raised_at += [t for _ in update.raised]
        if t - start >= debounce:
            assert len(update.findings) == 1
            assert update.findings[0].since == start and update.findings[0].last_seen == t
        else:
            assert update.findings == ()
    assert raised_at == [next(t for t in times if t - start >= debounce)]


@given(
    data=st.data(),
    debounce=debounces,
    stale=st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=10),
)
@settings(max_examples=200, deadline=None)
def test_stale_looks_change_nothing_wherever_they_fall(
    data: st.DataObject, debounce: float, stale: list[tuple[int, bool]]
) -> None:
    looks = data.draw(flapping(debounce))
    t = looks[-1].at
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        t += data.draw(gaps)
        looks.append(Look(t, data.draw(st.booleans())))
    plain, mixed = Tracker(), Tracker()
    plain_seen = [apply(plain, look, debounce).findings for look in looks]
    mixed_seen = []
    insert_at = {index % len(looks): present for index, present in stale}
    for index, look in enumerate(looks):
        if index in insert_at:
            stale_look = Look(look.at - 0.5, insert_at[index], fresh=False)
            stale_update = apply(mixed, stale_look, debounce)
            assert stale_update.raised == () and stale_update.cleared == ()
        mixed_seen.append(apply(mixed, look, debounce).findings)
    assert mixed_seen == plain_seen


@given(times=st.lists(gaps, min_size=1, max_size=10))
@settings(max_examples=100, deadline=None)
def test_without_a_debounce_every_sighting_is_a_finding_at_once(times: list[int]) -> None:
    tracker = Tracker()
    t = START
    for gap in times:
        t += gap
        update = apply(tracker, Look(t, True), 0.0)
        assert [f.since for f in update.findings] == [START + times[0]]
