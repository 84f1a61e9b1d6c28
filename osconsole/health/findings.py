"""Findings: what is wrong right now, since when, debounced, and acknowledged or not.

The rules (`routers`, `liveness`, `hypervisors`, and `rules` for tenants) turn one
set of snapshots into *conditions*: a fact seen at one moment. The `Tracker` turns
the stream of conditions into *findings*, the few things an operator on call must
look at:

- A condition becomes a finding only once it has been seen continuously for its
  rule's debounce time (like an alert's `for:`): during a normal VRRP failover a
  router is briefly active twice or nowhere, and that must wake nobody. A gap (a
  fresh look without the condition) resets the wait.
- `since` is the first sighting (the server's clock of that snapshot), not the
  moment the debounce elapsed: the operator wants to know when it started.
- A finding clears on the first fresh look that no longer shows it: an operator
  who fixed something wants to see it go. Hysteresis is on the way back: a
  cleared finding that returns within its debounce time comes back at once, with
  its first `since` and its acknowledgement, instead of waiting out the debounce
  again (a router that flaps in and out of split brain stays visible and one
  finding, not a new one every minute).
- Stale data proves nothing: a stale snapshot (its last poll failed) neither
  raises nor clears anything; its findings are held as they were. A partial
  snapshot clears only the findings of the subjects it did read in full.
- A finding whose subject was not read in the latest look (its kind's poll failed,
  or was partial for it) stays open, marked unconfirmed, instead of disappearing;
  a look that reads only part of a subject may confirm a finding, never weaken it
  (an unread signal must not turn a critical into a warning). The next full look
  at it confirms or clears it.
- Acknowledging keeps a finding listed but quiet until it changes: a new
  severity, or a new essence (its reason without the numbers that move every
  poll, such as ages, counts and percentages), un-acknowledges it, and so does
  the acknowledgement's expiry. Acknowledgements kept from an earlier run
  (`restore`) apply when their finding is seen again unchanged, and are forgotten
  on the first fresh look that does not show it.

Nothing here knows Textual; time is always passed in (the snapshots' own).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any, NamedTuple

from osconsole.acks import Acknowledgement
from osconsole.config import Thresholds
from osconsole.model import Kind, RegionRef, Snapshot


class Severity(IntEnum):
    """How bad something is: the one scale of every surface (panes, findings, wall,
    drill-downs, `snapshot`). UNKNOWN is an object not read (or not judgeable) yet: it
    is not OK, and it is below OK in value so that `>= WARNING` still means "bad";
    `rank` orders rows worst first with unknown between warnings and infos."""

    UNKNOWN = -1
    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3

    @property
    def rank(self) -> int:
        """Worst first: critical 4, warning 3, unknown 2, info 1, ok 0."""
        return _RANKS[self]

    @property
    def word(self) -> str:
        """ "critical", "warning", "info", "ok", "unknown" (JSON and plain text)."""
        return self.name.lower()


_RANKS = {
    Severity.CRITICAL: 4,
    Severity.WARNING: 3,
    Severity.UNKNOWN: 2,
    Severity.INFO: 1,
    Severity.OK: 0,
}


REGION = "region"
"""The kind of a region's own subject (its APIs answering or not): not a polled Kind."""

Scope = tuple[RegionRef, Kind | str]
"""What one snapshot covers: one kind in one region (or REGION: the region itself)."""


@dataclass(frozen=True, slots=True)
class Subject:
    """What a finding or an event is about; `kind` is the snapshot kind it comes from,
    so the UI can drill down to it (a `views.Target(ref, kind, id)`)."""

    ref: RegionRef
    kind: Kind | str  # a Kind, or REGION
    id: str
    name: str

    @property
    def cloud(self) -> str:
        return self.ref.cloud

    @property
    def region(self) -> str:
        return self.ref.region

    @property
    def scope(self) -> Scope:
        return (self.ref, self.kind)

    @property
    def key(self) -> str:
        return f"{self.ref.cloud}/{self.ref.region}/{self.kind}/{self.id}"

    def as_dict(self) -> dict[str, str]:
        return {
            "cloud": self.cloud,
            "region": self.region,
            "kind": str(self.kind),
            "id": self.id,
            "name": self.name,
        }


class Problem(NamedTuple):
    """One rule's verdict on one item, before it is placed in time.

    `label` is the pane's short words ("SPLIT-BRAIN", "agent dead"); `reason` the
    finding's sentence; `essence` what must change to un-acknowledge (None: the reason);
    `began` when the API says the condition began (a dead agent's last heartbeat, a
    down or disabled service's `updated_at`), None when it does not say.
    """

    rule: str
    severity: Severity
    label: str
    reason: str
    essence: str | None = None
    began: float | None = None
    began_from: str = "api"  # what `began` is: the API's time, or e.g. "last answer"


@dataclass(frozen=True, slots=True)
class Condition:
    """A problem seen on a subject at one moment (`observed_at`, the snapshot's time);
    it must last `debounce` seconds to become a finding."""

    rule: str
    severity: Severity
    subject: Subject
    reason: str
    observed_at: float
    debounce: float = 0.0
    essence: str | None = None
    label: str = ""
    began: float | None = None  # when the API says it began (see Problem)
    began_from: str = "api"

    @property
    def key(self) -> str:
        return finding_key(self.rule, self.subject)

    @classmethod
    def of(
        cls, problem: Problem, subject: Subject, observed_at: float, debounce: float = 0.0
    ) -> Condition:
        return cls(
            rule=problem.rule,
            severity=problem.severity,
            subject=subject,
            reason=problem.reason,
            observed_at=observed_at,
            debounce=debounce,
            essence=problem.essence,
            label=problem.label,
            began=problem.began,
            began_from=problem.began_from,
        )


def finding_key(rule: str, subject: Subject) -> str:
    """A finding's stable key: rule @ subject ("router.split_brain@c/r/routers/id")."""
    return f"{rule}@{subject.key}"


SINCE_API, SINCE_FIRST_SEEN = "api", "first seen"
"""Where a `since` comes from: the API's own time of the change, or our first sighting."""


def since_word(since_from: str) -> str:
    """How a surface introduces a `since`: "first seen" when it is only our first
    sighting (the condition may be older), else "since"."""
    return SINCE_FIRST_SEEN if since_from == SINCE_FIRST_SEEN else "since"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong, worth an operator's look; `key` is stable while it lasts.

    `since` is when it began: the API's time when it says (`since_from` "api"), else
    the first sighting on the server's clock ("first seen")."""

    key: str
    rule: str
    severity: Severity
    subject: Subject
    reason: str
    since: float
    last_seen: float
    acknowledged: bool = False
    since_from: str = SINCE_FIRST_SEEN
    label: str = ""
    ack: Acknowledgement | None = None  # who, when, why, until when (when acknowledged)
    confirmed: bool = True  # false: its subject could not be read since `last_seen`

    def as_dict(self) -> dict[str, Any]:
        """Plain data for `osconsole snapshot --json`, chat bots and the recorder."""
        return {
            "key": self.key,
            "rule": self.rule,
            "severity": self.severity.word,
            "subject": self.subject.as_dict(),
            "reason": self.reason,
            "since": self.since,
            "since_from": self.since_from,
            "last_seen": self.last_seen,
            "acknowledged": self.acknowledged,
            "acknowledgement": None if self.ack is None else self.ack.as_dict(),
            "confirmed": self.confirmed,
        }


ACTIVE, PENDING, ACKNOWLEDGED = "active", "pending", "acknowledged"
"""A problem's state: a finding (raised, not acknowledged), waiting out its debounce
(`fires_at` says when it becomes a finding), or a finding made quiet by an operator."""


class Judged(NamedTuple):
    """One problem of one object, placed in time by the tracker: what every surface
    shows of it (the pane's words are `label`, the findings list's `reason`)."""

    rule: str
    severity: Severity
    label: str
    reason: str
    state: str  # ACTIVE, PENDING or ACKNOWLEDGED
    since: float
    since_from: str = SINCE_FIRST_SEEN
    fires_at: float | None = None  # PENDING: when it becomes a finding
    key: str = ""
    confirmed: bool = True  # false: held while its object could not be read

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.word,
            "state": self.state,
            "since": self.since,
            "since_from": self.since_from,
            "fires_at": self.fires_at,
            "reason": self.reason,
            "confirmed": self.confirmed,
        }


class Assessment(NamedTuple):
    """The one verdict on one object: its severity (the highest of its active and
    acknowledged problems; OK with none; UNKNOWN when it could not be judged, `unknown`
    says why) and its problems, worst first, pending ones included.

    A NamedTuple, and shared: most objects are OK or unknown for the same reason, and
    30,000 of them are judged on every poll."""

    severity: Severity
    problems: tuple[Judged, ...] = ()
    unknown: str = ""

    @property
    def active(self) -> tuple[Judged, ...]:
        """The problems that are findings (acknowledged ones included)."""
        return tuple(p for p in self.problems if p.state != PENDING)

    @property
    def pending(self) -> tuple[Judged, ...]:
        return tuple(p for p in self.problems if p.state == PENDING)


OK_ASSESSMENT = Assessment(Severity.OK)


def judged(problems: tuple[Judged, ...], unknown: str = "") -> Assessment:
    """An object's assessment from its problems (worst first); `unknown` says why it
    could not be fully judged (it counts only when no problem is a finding)."""
    if not problems:
        return Assessment(Severity.UNKNOWN, (), unknown) if unknown else OK_ASSESSMENT
    severities = [p.severity for p in problems if p.state != PENDING]
    severity = max(severities) if severities else Severity.UNKNOWN if unknown else Severity.OK
    ordered = tuple(sorted(problems, key=lambda p: (p.state == PENDING, -p.severity)))
    return Assessment(severity, ordered, unknown)


@dataclass(frozen=True, slots=True)
class Coverage:
    """What a fresh snapshot lets the tracker conclude: `at` is its time; `ids` the
    subjects it read when it is partial (None: a complete snapshot, every subject)."""

    at: float
    ids: frozenset[str] | None = None

    def covers(self, subject_id: str) -> bool:
        return self.ids is None or subject_id in self.ids


@dataclass(frozen=True, slots=True)
class Look:
    """The conditions found in one look at the cloud, and which scopes that look was
    fresh for (only those may raise or clear findings)."""

    conditions: tuple[Condition, ...]
    fresh: Mapping[Scope, Coverage]


@dataclass(frozen=True, slots=True)
class Update:
    """What a tracker update leaves: every current finding (worst first), the ones
    raised by this update (new or back, not acknowledged: worth a bell on a new
    critical) and the ones it cleared (their last state, so the UI drops them by key)."""

    findings: tuple[Finding, ...]
    raised: tuple[Finding, ...] = ()
    cleared: tuple[Finding, ...] = ()


# -- time and words ------------------------------------------------------------------


def observed_time(snapshot: Snapshot[Any]) -> float:
    """The moment a snapshot shows: the server's clock when it gave one (Date header),
    else ours when the poll ended."""
    return snapshot.server_time if snapshot.server_time is not None else snapshot.fetched_at


def clock_time(ts: float) -> str:
    """A moment as "12:03:04 UTC": stable from poll to poll, unlike an age."""
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S UTC")


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# -- per-subject history ------------------------------------------------------------------


@dataclass(slots=True)
class _Life:
    last_at: float
    up: bool
    started_at: float | None
    transitions: deque[float] = field(default_factory=deque)
    restarts: deque[tuple[float, float]] = field(default_factory=deque)  # (noticed, started)


class History:
    """Per-subject state changes over a sliding window, for flapping and restarts.

    Fed with each fresh look at a subject (`observe`); a look no newer than the last
    one is ignored, so feeding the same snapshot twice changes nothing. Transitions
    and restarts are stamped with the time of the look that noticed them.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._lives: dict[str, _Life] = {}

    def observe(self, key: str, at: float, up: bool, started_at: float | None = None) -> None:
        life = self._lives.get(key)
        if life is None:
            self._lives[key] = _Life(at, up, started_at)
            return
        if at <= life.last_at:
            return
        if up != life.up:
            life.transitions.append(at)
        if started_at is not None and life.started_at is not None and started_at != life.started_at:
            life.restarts.append((at, started_at))
        life.last_at, life.up = at, up
        if started_at is not None:
            life.started_at = started_at
        self._prune(life, at)

    def _prune(self, life: _Life, now: float) -> None:
        horizon = now - self.window
        while life.transitions and life.transitions[0] < horizon:
            life.transitions.popleft()
        while life.restarts and life.restarts[0][0] < horizon:
            life.restarts.popleft()

    def transitions(self, key: str, now: float) -> tuple[float, ...]:
        """Times of up<->down changes noticed within the window before `now`."""
        life = self._lives.get(key)
        if life is None:
            return ()
        return tuple(t for t in life.transitions if now - self.window <= t <= now)

    def restarts(self, key: str, now: float) -> tuple[tuple[float, float], ...]:
        """(noticed at, new started_at) of restarts noticed within the window before `now`."""
        life = self._lives.get(key)
        if life is None:
            return ()
        return tuple(r for r in life.restarts if now - self.window <= r[0] <= now)

    def retain(self, prefix: str, keys: Iterable[str]) -> None:
        """Forget subjects under `prefix` that are not in `keys` (they were deleted)."""
        keep = set(keys)
        for key in [k for k in self._lives if k.startswith(prefix) and k not in keep]:
            del self._lives[key]

    def __len__(self) -> int:
        return len(self._lives)


# -- per-item problems, kept between looks ---------------------------------------------------


class Memo:
    """Each item's problems, kept while the item is the very same object and the scope's
    context (thresholds, expected replicas...) the same: collectors keep unchanged items
    from poll to poll, so a poll changing 1% of 20,000 routers judges about 200 again.
    Not thread-safe: one look at a time (the tracker's)."""

    def __init__(self) -> None:
        self._scopes: dict[Scope, tuple[Any, dict[str, tuple[Any, list[Problem]]]]] = {}

    def problems(
        self,
        scope: Scope,
        context: Any,
        items: Mapping[str, Any],
        judge: Callable[[Any], list[Problem]],
    ) -> list[tuple[Any, list[Problem]]]:
        """(item, problems) of every item of `items` that has problems."""
        known_context, known = self._scopes.get(scope, (None, {}))
        if known_context != context:
            known = {}
        kept: dict[str, tuple[Any, list[Problem]]] = {}
        found = []
        for item_id, item in items.items():
            hit = known.get(item_id)
            if hit is None or hit[0] is not item:
                hit = (item, judge(item))
            kept[item_id] = hit
            if hit[1]:
                found.append(hit)
        self._scopes[scope] = (context, kept)
        return found


# -- the tracker ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Track:
    condition: Condition
    first_seen: float
    last_seen: float
    reported: bool = False
    acknowledged: bool = False
    acked_as: tuple[Severity, str] | None = None
    cleared_at: float | None = None
    ack: Acknowledgement | None = None
    confirmed: bool = True

    @property
    def since(self) -> tuple[float, str]:
        began = self.condition.began
        if began is not None and began <= self.first_seen:
            return began, self.condition.began_from
        return self.first_seen, SINCE_FIRST_SEEN

    def finding(self) -> Finding:
        c = self.condition
        since, since_from = self.since
        return Finding(
            key=c.key,
            rule=c.rule,
            severity=c.severity,
            subject=c.subject,
            reason=c.reason,
            since=since,
            last_seen=self.last_seen,
            acknowledged=self.acknowledged,
            since_from=since_from,
            label=c.label,
            ack=self.ack if self.acknowledged else None,
            confirmed=self.confirmed,
        )

    def judged(self) -> Judged:
        c = self.condition
        since, since_from = self.since
        if not self.reported:
            state, fires = PENDING, self.first_seen + c.debounce
        else:
            state, fires = (ACKNOWLEDGED if self.acknowledged else ACTIVE), None
        return Judged(
            c.rule,
            c.severity,
            c.label,
            c.reason,
            state,
            since,
            since_from,
            fires,
            c.key,
            self.confirmed,
        )


def _essence(condition: Condition) -> tuple[Severity, str]:
    return (
        condition.severity,
        condition.essence if condition.essence is not None else condition.reason,
    )


def sort_key(finding: Finding) -> tuple[bool, int, float, str]:
    """Unacknowledged first, then the worst, then the newest."""
    return (finding.acknowledged, -finding.severity, -finding.since, finding.key)


class Tracker:
    """The debounce and acknowledge state machine over successive assessments.

    Pure apart from its own state: time comes only from the conditions and the
    coverage of each assessment. `history` is the per-subject memory the liveness
    rules read (flapping, restarts); `osconsole.health.assess.assess` feeds it.
    """

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self.history = History(self.thresholds.flap_window_s)
        self.memo = Memo()  # the rules' per-item results between looks
        self._tracks: dict[str, _Track] = {}
        self._restored: dict[str, Acknowledgement] = {}  # from an earlier run, not seen yet

    def update(self, assessment: Look) -> Update:
        raised: list[Finding] = []
        seen: set[str] = set()
        for condition in assessment.conditions:
            coverage = assessment.fresh.get(condition.subject.scope)
            if coverage is None or condition.key in seen:
                continue  # stale data raises nothing; one condition per key and look
            seen.add(condition.key)
            if not coverage.covers(condition.subject.id) and self._weaker(condition):
                self._tracks[condition.key].confirmed = False  # held as it was
                continue
            track = self._observe(condition)
            if track is not None:
                raised.append(track.finding())
        cleared = self._clear_absent(assessment.fresh, seen)
        return Update(self.findings(), tuple(raised), tuple(cleared))

    def _weaker(self, condition: Condition) -> bool:
        """Whether `condition` is less severe than the open finding of its key."""
        track = self._tracks.get(condition.key)
        return (
            track is not None
            and track.reported
            and track.cleared_at is None
            and condition.severity < track.condition.severity
        )

    def _observe(self, condition: Condition) -> _Track | None:
        """Record one sighting; the track when it is newly raised (and not acknowledged)."""
        at = condition.observed_at
        track = self._tracks.get(condition.key)
        revived = False
        if track is not None and track.cleared_at is not None:
            if at - track.cleared_at <= condition.debounce and at > track.cleared_at:
                track.cleared_at, revived = None, True
            else:
                track = None
        if track is None:
            track = self._tracks[condition.key] = _Track(condition, at, at)
            restored = self._restored.pop(condition.key, None)
            if restored is not None and _ack_holds(restored, condition, at):
                track.acknowledged, track.ack = True, restored
                track.acked_as = (Severity(restored.severity), restored.essence)
        elif at < track.last_seen:
            return None  # an older look than one already taken into account
        track.condition, track.last_seen = condition, at
        track.confirmed = True
        newly = revived
        if not track.reported and track.last_seen - track.first_seen >= condition.debounce:
            track.reported = newly = True
        expired = track.ack is not None and track.ack.expired(at)
        if track.acknowledged and (_essence(condition) != track.acked_as or expired):
            track.acknowledged, track.acked_as, track.ack = False, None, None
            newly = True  # it changed: worth the operator's attention again
        return track if newly and track.reported and not track.acknowledged else None

    def _clear_absent(self, fresh: Mapping[Scope, Coverage], seen: set[str]) -> list[Finding]:
        for key in [k for k in self._restored if k not in seen]:
            scope, subject_id = _scope_of(key)
            coverage = fresh.get(scope) if scope is not None else None
            if coverage is not None and coverage.covers(subject_id):
                del self._restored[key]  # it was fixed while we were away: forget it
        cleared: list[Finding] = []
        for key, track in list(self._tracks.items()):
            if key in seen:
                continue
            subject = track.condition.subject
            coverage = fresh.get(subject.scope)
            if coverage is None or not coverage.covers(subject.id):
                track.confirmed = False  # not looked at (stale, absent or unread): held
                continue
            if track.cleared_at is not None:
                if coverage.at - track.cleared_at > track.condition.debounce:
                    del self._tracks[key]  # past the re-arm window: forgotten
                continue
            if coverage.at < track.last_seen:
                continue  # an older look than the one that showed it
            if track.reported:
                track.cleared_at = coverage.at
                cleared.append(track.finding())
                if track.condition.debounce <= 0:
                    del self._tracks[key]
            else:
                del self._tracks[key]  # a flap shorter than its debounce: never reported
        return cleared

    def findings(self) -> tuple[Finding, ...]:
        """Every current finding: unacknowledged first, then worst first, then newest."""
        found = [t.finding() for t in self._tracks.values() if t.reported and t.cleared_at is None]
        return tuple(sorted(found, key=sort_key))

    def problems(self) -> dict[Scope, dict[str, list[Judged]]]:
        """Every current problem (findings and pending ones) by scope and subject id:
        what the assessor reads to place each object's problems in time."""
        found: dict[Scope, dict[str, list[Judged]]] = {}
        for track in self._tracks.values():
            if track.cleared_at is None:
                subject = track.condition.subject
                mine = found.setdefault(subject.scope, {}).setdefault(subject.id, [])
                mine.append(track.judged())
        return found

    def pending(self) -> tuple[Condition, ...]:
        """Conditions still waiting out their debounce (for a "pending" hint in the UI)."""
        return tuple(
            t.condition for t in self._tracks.values() if not t.reported and t.cleared_at is None
        )

    def acknowledge(
        self, key: str, *, by: str = "", at: float = 0.0, note: str = "", for_s: float | None = None
    ) -> Acknowledgement | None:
        """Make a current finding quiet until it changes (or `for_s` seconds pass);
        the acknowledgement, or None when there is no finding by `key`."""
        track = self._tracks.get(key)
        if track is None or not track.reported or track.cleared_at is not None:
            return None
        severity, essence = _essence(track.condition)
        at = at or track.last_seen
        expires = None if for_s is None else at + for_s
        ack = Acknowledgement(key, by, at, int(severity), essence, note, expires)
        track.acknowledged, track.acked_as, track.ack = True, (severity, essence), ack
        return ack

    def unacknowledge(self, key: str) -> bool:
        self._restored.pop(key, None)
        track = self._tracks.get(key)
        if track is None or not track.acknowledged:
            return False
        track.acknowledged, track.acked_as, track.ack = False, None, None
        return True

    def acknowledgements(self) -> tuple[Acknowledgement, ...]:
        """Every acknowledgement worth keeping: of current findings, and restored ones
        whose finding was not looked at yet."""
        current = [t.ack for t in self._tracks.values() if t.acknowledged and t.ack is not None]
        return (*current, *self._restored.values())

    def restore(self, acks: Mapping[str, Acknowledgement]) -> None:
        """Take the acknowledgements of the file as they are now (the console at start,
        the wall whenever the file changed): tracks are acknowledged, or not, to match;
        keys not seen yet wait for their finding."""
        for key, track in self._tracks.items():
            ack = acks.get(key)
            if ack is not None and _ack_holds(ack, track.condition, track.last_seen):
                track.acknowledged, track.ack = True, ack
                track.acked_as = (Severity(ack.severity), ack.essence)
            elif track.acknowledged and ack is None:
                track.acknowledged, track.acked_as, track.ack = False, None, None
        self._restored = {k: a for k, a in acks.items() if k not in self._tracks}


def _ack_holds(ack: Acknowledgement, condition: Condition, at: float) -> bool:
    """An acknowledgement applies to what the finding still says, and until it expires."""
    return (Severity(ack.severity), ack.essence) == _essence(condition) and not ack.expired(at)


def _scope_of(key: str) -> tuple[Scope | None, str]:
    """The scope and subject id in a finding key ("rule@cloud/region/kind/id")."""
    parts = key.partition("@")[2].split("/", 3)
    if len(parts) != 4:
        return None, ""
    cloud, region, kind, subject_id = parts
    try:
        return (RegionRef(cloud, region), Kind(kind)), subject_id
    except ValueError:
        return None, subject_id


def counts(findings: Iterable[Finding], *, acknowledged: bool = False) -> dict[Severity, int]:
    """Findings per severity for the findings bar (acknowledged ones left out unless asked)."""
    found = dict.fromkeys((Severity.CRITICAL, Severity.WARNING, Severity.INFO), 0)
    for f in findings:
        if acknowledged or not f.acknowledged:
            found[f.severity] = found.get(f.severity, 0) + 1
    return found
