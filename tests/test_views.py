"""The panes' view-models: rows, keys, severities in words, order, ages, titles, freshness.

Model objects are built directly (no simulator) for the rules; one test polls the
simulated world for real and checks every view accepts what the collectors produce.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from osconsole import views
from osconsole.cloud.connect import Connection
from osconsole.cloud.http import ServiceStats
from osconsole.config import Settings, Thresholds
from osconsole.health.assess import Verdicts, assess_once
from osconsole.health.findings import Severity, Tracker
from osconsole.health.rules import tenant_severity
from osconsole.live import LiveState
from osconsole.model import (
    Agent,
    Capacity,
    Hypervisor,
    Kind,
    RegionRef,
    Router,
    RouterBinding,
    Service,
    Snapshot,
    TenantSignals,
)
from osconsole.poller import Poller
from osconsole.sim.world import World
from osconsole.views import (
    TONES,
    UNKNOWN_SORT,
    AgeCell,
    TableView,
    Tone,
    format_age,
    format_ratio,
    project_names,
    region_statuses,
    shorten,
    shown_age,
)

# The views only show the one judge's verdicts: these wrappers judge the snapshots once
# (osconsole.health.assess.assess_once, as `osconsole snapshot` does) and build the view.


def judge(snapshots: list[Snapshot[Any]], thresholds: Thresholds | None = None) -> Verdicts:
    return assess_once(snapshots, Tracker(thresholds))


def hypervisors_view(snaps: Any, now: float, thresholds: Thresholds | None = None) -> TableView:
    return views.hypervisors_view(snaps, now, thresholds, judge(snaps, thresholds))


def routers_view(snaps: Any, now: float, names: Any = None) -> TableView:
    return views.routers_view(snaps, now, names, judge(snaps))


def tenants_view(snaps: Any, now: float, thresholds: Thresholds | None = None) -> TableView:
    return views.tenants_view(snaps, now, thresholds, judge(snaps, thresholds))


def liveness_view(
    agents: Any, services: Any, now: float, thresholds: Thresholds | None = None
) -> TableView:
    verdicts = judge([*agents, *services], thresholds)
    return views.liveness_view(agents, services, now, thresholds, verdicts)


class HypervisorRows(views.HypervisorRows):
    def view(self, snaps: Any, now: float, thresholds: Any = None, _: Any = None) -> TableView:
        return super().view(snaps, now, thresholds, judge(snaps, thresholds))


class RouterRows(views.RouterRows):
    def view(self, snaps: Any, now: float, names: Any = None, _: Any = None) -> TableView:
        return super().view(snaps, now, names, judge(snaps))


class LivenessRows(views.LivenessRows):
    def view(
        self, agents: Any, services: Any, now: float, thresholds: Any = None, _: Any = None
    ) -> TableView:
        verdicts = judge([*agents, *services], thresholds)
        return super().view(agents, services, now, thresholds, verdicts)


ONE = RegionRef("prod", "RegionOne")
TWO = RegionRef("prod", "RegionTwo")
NOW = 10_000.0


def snap(ref: RegionRef, kind: Kind, items: list[Any], **fields: Any) -> Snapshot[Any]:
    fields.setdefault("fetched_at", NOW - 5)
    return Snapshot(
        ref,
        kind,
        Snapshot.freeze({i.id if hasattr(i, "id") else i.project_id: i for i in items}),
        **fields,
    )


def column(view: TableView, key: str) -> int:
    return [c.key for c in view.columns].index(key)


def texts(view: TableView, key: str) -> list[str]:
    i = column(view, key)
    return [row.cells[i].text for row in view.rows]


def row_of(view: TableView, key: str) -> dict[str, Any]:
    """A row as {column key: cell}, plus its severity, by the row's key."""
    row = next(r for r in view.rows if r.key == key)
    return {**{c.key: cell for c, cell in zip(view.columns, row.cells, strict=True)}, "_": row}


# -- formatting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0, "0s"),
        (5.4, "5s"),
        (119.4, "119s"),
        (119.6, "2m"),
        (180, "3m"),
        (7_140, "119m"),
        (7_560, "2.1h"),
        (3 * 86_400, "3.0d"),
        (-0.4, "0s"),  # whole-second Date headers: rounding, not skew
        (-4, "-4s (skew)"),
        (-300, "-5m (skew)"),
    ],
)
def test_format_age(seconds: float | None, text: str) -> None:
    assert format_age(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "sort"),
    [
        (-4, -4),
        (5.4, 5),
        (119.4, 119),
        (119.6, 120),
        (150, 120),
        (170, 180),
        (7_140, 7_140),
        (7_560, 7_560),
    ],
)
def test_shown_age_rounds_as_format_age_shows(seconds: float, sort: float) -> None:
    assert shown_age(seconds) == sort
    # Two ages that read the same sort the same (and are then one cell).
    same = [s for s in (seconds - 0.2, seconds + 0.2) if format_age(s) == format_age(seconds)]
    assert all(shown_age(s) == shown_age(seconds) for s in same)


@pytest.mark.parametrize(
    ("ratio", "text"), [(None, "-"), (0.0, "0%"), (0.944, "94%"), (1.12, "112%")]
)
def test_format_ratio(ratio: float | None, text: str) -> None:
    assert format_ratio(ratio) == text


def test_shorten_marks_the_cut() -> None:
    assert shorten("abc", 5) == "abc"
    assert shorten("abcdefgh", 5) == "abcd…"
    assert len(shorten("x" * 200, 60)) == 60


# -- hypervisors ----------------------------------------------------------------------------


def hyp(host: str, state: str = "up", status: str = "enabled", **more: Any) -> Hypervisor:
    more.setdefault("running_vms", 3)
    more.setdefault("vcpu", Capacity(total=48, used=14, allocation_ratio=16.0))
    more.setdefault("memory_mb", Capacity(total=100_000, used=40_000))
    more.setdefault("disk_gb", Capacity(total=1000, used=100))
    return Hypervisor(id=f"id-{host}", hostname=host, state=state, status=status, **more)


@pytest.mark.parametrize(
    ("hypervisor", "severity", "state", "reason"),
    [
        (hyp("a"), Severity.OK, "up", ""),
        (
            hyp("a", status="disabled", disabled_reason="maintenance"),
            Severity.INFO,
            "up",
            "disabled: maintenance",
        ),
        (hyp("a", state="down", running_vms=4), Severity.CRITICAL, "DOWN", "DOWN"),
        (hyp("a", state="down", running_vms=0), Severity.WARNING, "DOWN", "DOWN"),
        (hyp("a", state="down", running_vms=None), Severity.WARNING, "DOWN", "DOWN"),
        (
            hyp("a", state="down", status="disabled", running_vms=4, disabled_reason="RMA"),
            Severity.WARNING,
            "DOWN",
            "DOWN (disabled: RMA)",
        ),
        (
            hyp("a", memory_mb=Capacity(total=1000, used=1120)),
            Severity.WARNING,
            "up",
            "RAM over-committed (112%)",
        ),
        (
            hyp("a", disk_gb=Capacity(total=1000, used=900)),
            Severity.WARNING,
            "up",
            "disk nearly full (90%)",
        ),
        (
            hyp("a", state="down", running_vms=2, vcpu=Capacity(total=10, used=10)),
            Severity.CRITICAL,
            "DOWN",
            "DOWN, vCPU nearly full (100%)",
        ),
        (hyp("a", state="unknown"), Severity.UNKNOWN, "unknown", "? state unknown to Nova"),
    ],
)
def test_hypervisor_severity_and_words(
    hypervisor: Hypervisor, severity: Severity, state: str, reason: str
) -> None:
    view = hypervisors_view([snap(ONE, Kind.HYPERVISORS, [hypervisor])], NOW)
    row = row_of(view, "prod/RegionOne/id-a")
    assert row["_"].severity == severity
    assert row["state"].text == state
    assert row["reason"].text == reason
    if state == "DOWN":  # the word carries it; the tone only adds emphasis
        assert row["state"].tone == TONES[severity]
    if reason and severity >= Severity.WARNING:
        assert row["reason"].tone == TONES[severity]


def test_hypervisor_cells_carry_numbers_to_sort_by() -> None:
    h = hyp("cmp1", running_vms=5, memory_mb=Capacity(total=1000, used=250, reserved=0))
    view = hypervisors_view([snap(ONE, Kind.HYPERVISORS, [h])], NOW)
    row = row_of(view, "prod/RegionOne/id-cmp1")
    assert row["vcpu"].text == "14/768 2%"
    assert row["vcpu"].sort == pytest.approx(14 / 768)
    assert (row["ram"].text, row["ram"].sort) == ("25%", 0.25)
    assert (row["disk"].text, row["disk"].sort) == ("10%", 0.1)
    assert (row["vms"].text, row["vms"].sort) == ("5", 5)
    assert (row["status"].text, row["host"].text, row["region"].text) == (
        "enabled",
        "cmp1",
        "RegionOne",
    )
    unknown = hyp("cmp2", running_vms=None, vcpu=None, memory_mb=Capacity(total=0, used=0))
    row = row_of(
        hypervisors_view([snap(ONE, Kind.HYPERVISORS, [unknown])], NOW), "prod/RegionOne/id-cmp2"
    )
    assert [row[k].text for k in ("vcpu", "ram", "vms")] == ["-", "-", "-"]
    assert row["vcpu"].sort < 0 and row["vms"].sort < 0


def test_hypervisors_across_regions_sorted_worst_first_then_region_then_host() -> None:
    one = [hyp("b"), hyp("a"), hyp("z", state="down", running_vms=1), hyp("d", status="disabled")]
    two = [hyp("a"), hyp("c", state="down", running_vms=0), hyp("y", state="down", running_vms=9)]
    view = hypervisors_view(
        [snap(TWO, Kind.HYPERVISORS, two), snap(ONE, Kind.HYPERVISORS, one)], NOW
    )
    assert [r.key for r in view.rows] == [
        "prod/RegionOne/id-z",
        "prod/RegionTwo/id-y",
        "prod/RegionTwo/id-c",
        "prod/RegionOne/id-d",
        "prod/RegionOne/id-a",
        "prod/RegionOne/id-b",
        "prod/RegionTwo/id-a",
    ]
    assert view.rows[0].target.ref == ONE and view.rows[0].target.kind == Kind.HYPERVISORS
    assert view.rows[0].target.id == "id-z"
    assert view.counts == {
        Severity.CRITICAL: 2,
        Severity.WARNING: 1,
        Severity.UNKNOWN: 0,
        Severity.INFO: 1,
        Severity.OK: 3,
    }
    assert view.title == "Hypervisors 2 critical, 1 warning / 7"
    assert view.kind == "hypervisors"


def test_thresholds_decide_nearly_full() -> None:
    h = hyp("a", memory_mb=Capacity(total=100, used=80))
    snaps = [snap(ONE, Kind.HYPERVISORS, [h])]
    assert hypervisors_view(snaps, NOW).rows[0].severity == Severity.OK
    strict = Thresholds(nearly_full_ratio=0.8)
    assert hypervisors_view(snaps, NOW, strict).rows[0].severity == Severity.WARNING


def test_freshness_stale_regions_notes_and_title_counts() -> None:
    many = [hyp(f"h{i:04d}") for i in range(1234)]
    fresh = snap(ONE, Kind.HYPERVISORS, many, fetched_at=NOW - 10, notes=("usage from Nova",))
    stale = snap(
        TWO,
        Kind.HYPERVISORS,
        [hyp("x")],
        fetched_at=NOW - 400,
        stale=True,
        error="compute: GET /os-hypervisors: HTTP 503",
    )
    view = hypervisors_view([fresh, stale], NOW)
    assert view.title == "Hypervisors OK / 1,235"
    assert view.oldest_age == 400
    assert view.stale_regions == ("RegionTwo",)
    assert view.notes == (
        "RegionOne: usage from Nova",
        "RegionTwo: STALE hypervisors, 7m old: compute: GET /os-hypervisors: HTTP 503",
    )


def test_an_empty_view_before_the_first_poll() -> None:
    view = hypervisors_view([], NOW)
    assert view.rows == () and view.oldest_age is None and view.stale_regions == ()
    assert view.title == "Hypervisors OK / 0"
    assert view.counts == dict.fromkeys(Severity, 0)


def test_a_region_whose_kind_was_never_read_is_named_in_the_title() -> None:
    """RegionTwo's compute API refused from the start: its hosts are not absent, they
    are unknown; the title never says a bare OK over them."""
    fresh = snap(ONE, Kind.HYPERVISORS, [hyp(f"h{i}") for i in range(9)])
    never = snap(TWO, Kind.HYPERVISORS, [], stale=True, error="connection refused")
    view = hypervisors_view([fresh, never], NOW)
    assert view.title == "Hypervisors OK / 9 · RegionTwo not read"
    # Read once, then failing: its last rows are shown, stale; nothing unread to say.
    read = snap(TWO, Kind.HYPERVISORS, [hyp("x")], stale=True, error="connection refused")
    assert hypervisors_view([fresh, read], NOW).title == "Hypervisors OK / 10"


def test_several_clouds_name_their_regions() -> None:
    other = RegionRef("lab", "RegionOne")
    view = hypervisors_view(
        [snap(ONE, Kind.HYPERVISORS, [hyp("a")]), snap(other, Kind.HYPERVISORS, [hyp("a")])],
        NOW,
    )
    assert texts(view, "region") == ["lab/RegionOne", "prod/RegionOne"]
    assert {r.key for r in view.rows} == {"lab/RegionOne/id-a", "prod/RegionOne/id-a"}


# -- routers -----------------------------------------------------------------------------------


def bind(
    host: str, state: str | None = "standby", alive: bool = True, admin: bool = True
) -> RouterBinding:
    return RouterBinding(f"agent-{host}", host, state, alive, admin)


HEALTHY = (bind("net1", "active"), bind("net2"), bind("net3"))
LIVE_L3 = {"l3_agents": {n: {"alive": True, "admin_state_up": True} for n in ("a", "b", "c")}}


def router(rid: str = "r1", **more: Any) -> Router:
    more.setdefault("ha", True)
    more.setdefault("bindings", HEALTHY)
    more.setdefault("replica_hosts", ("net1", "net2", "net3"))
    more.setdefault("bindings_checked_at", NOW - 30)
    return Router(
        id=rid,
        name=more.pop("name", f"router-{rid}"),
        project_id=more.pop("project_id", "p1"),
        status=more.pop("status", "ACTIVE"),
        admin_state_up=more.pop("admin_state_up", True),
        distributed=False,
        **more,
    )


@pytest.mark.parametrize(
    ("r", "ovn", "severity", "finding", "actives", "agents"),
    [
        (router(), False, Severity.OK, "", "1", "net1:active, net2:standby, net3:standby"),
        (
            router(bindings=(bind("net1", "active"), bind("net2", "active"), bind("net3"))),
            False,
            Severity.CRITICAL,
            "SPLIT-BRAIN",
            "2 SPLIT",
            "net1:active, net2:active, net3:standby",
        ),
        (
            router(bindings=(bind("net1"), bind("net2"), bind("net3"))),
            False,
            Severity.CRITICAL,
            "NO ACTIVE",
            "0 NONE",
            "net1:standby, net2:standby, net3:standby",
        ),
        (
            router(bindings=(bind("net1", "active", alive=False), bind("net2"), bind("net3"))),
            False,
            Severity.CRITICAL,
            "ACTIVE ON DEAD AGENT",
            "1 DEAD",
            "net1:active(DEAD), net2:standby, net3:standby",
        ),
        (
            router(
                bindings=(bind("net1", "active", alive=False), bind("net2", "active"), bind("n3"))
            ),
            False,
            Severity.WARNING,  # a live agent is active too: traffic flows
            "ACTIVE ON DEAD AGENT",
            "2 (1 DEAD)",
            "net1:active(DEAD), net2:active, n3:standby",
        ),
        (
            router(bindings=(bind("net1", "active"), bind("net2", admin=False))),
            False,
            Severity.WARNING,  # two replicas where three L3 agents live
            "FEW REPLICAS (2)",
            "1",
            "net1:active, net2:standby(ADMIN-DOWN)",
        ),
        (
            router(replica_hosts=("net1",), bindings=(bind("net1", "active"),)),
            False,
            Severity.WARNING,
            "FEW REPLICAS (1)",
            "1",
            "net1:active",
        ),
        (router(status="ERROR"), False, Severity.CRITICAL, "ERROR", "1", None),
        (
            router(bindings=None, bindings_checked_at=None),
            False,
            Severity.UNKNOWN,
            "? not checked yet",
            "?",
            "not checked yet",
        ),
        (
            router(bindings=None, bindings_checked_at=None, replica_hosts=()),
            True,
            Severity.OK,
            "",
            "-",  # OVN, no gateway port: nothing to be active
            "not checked yet",
        ),
        (
            router(admin_state_up=False, bindings=(bind("net1"), bind("net2"))),
            False,
            Severity.WARNING,  # no active is expected of it; two replicas are still few
            "FEW REPLICAS (2)",
            "0 NONE",
            None,
        ),
        (router(bindings=()), False, Severity.WARNING, "NO L3 AGENT", "0 NONE", "no L3 agent"),
        (
            router(ha=False, replica_hosts=(), bindings=(bind("net1", None),)),
            False,
            Severity.OK,
            "",
            "-",
            "net1",
        ),
        (
            router(ha=False, replica_hosts=(), bindings=(bind("net1", None, alive=False),)),
            False,
            Severity.CRITICAL,
            "AGENT DEAD",
            "-",
            "net1(DEAD)",
        ),
        (
            router(ha=None, bindings=(bind("net1", "active"), bind("net2", "active"))),
            False,
            Severity.CRITICAL,
            "SPLIT-BRAIN",
            "2 SPLIT",
            None,
        ),
    ],
)
def test_router_severity_and_words(
    r: Router, ovn: bool, severity: Severity, finding: str, actives: str, agents: str | None
) -> None:
    view = routers_view([snap(ONE, Kind.ROUTERS, [r], extra={"ovn": ovn, **LIVE_L3})], NOW)
    row = row_of(view, "prod/RegionOne/r1")
    assert row["_"].severity == severity
    assert row["finding"].text.startswith(finding)
    assert row["actives"].text == actives
    assert row["severity"].text == views.SEVERITY_WORDS[severity]
    if agents is not None:
        assert row["agents"].text == agents


def test_router_findings_list_every_problem_worst_first() -> None:
    r = router(
        status="ERROR",
        replica_hosts=("net1",),
        bindings=(bind("net1", "active"), bind("net2", "active")),
    )
    view = routers_view([snap(ONE, Kind.ROUTERS, [r], extra=LIVE_L3)], NOW)
    assert row_of(view, "prod/RegionOne/r1")["finding"].text == (
        "ERROR, SPLIT-BRAIN, FEW REPLICAS (2)"
    )


def test_router_columns_ha_replicas_project_names() -> None:
    rows = [
        router("r1", project_id="p1"),
        router("r2", ha=False, replica_hosts=(), bindings=(bind("n", None),), project_id="p2"),
        router("r3", ha=None, bindings=None, bindings_checked_at=None),
    ]
    names = project_names(
        [snap(ONE, Kind.TENANTS, [TenantSignals("p1", "acme"), TenantSignals("p2", "p2")])]
    )
    assert names == {"p1": "acme"}  # a name that is only the id is no name
    view = routers_view([snap(ONE, Kind.ROUTERS, rows)], NOW, names)
    r1, r2, r3 = (row_of(view, f"prod/RegionOne/{rid}") for rid in ("r1", "r2", "r3"))
    assert (r1["ha"].text, r2["ha"].text, r3["ha"].text) == ("HA", "legacy", "?")
    assert (r1["replicas"].text, r1["replicas"].sort) == ("3", 3)
    assert r2["replicas"].text == "-"
    assert (r1["project"].text, r2["project"].text) == ("acme", "p2")
    assert r1["router"].text == "router-r1"
    assert r1["_"].target.kind == Kind.ROUTERS and r1["_"].target.id == "r1"


def test_router_checked_age_is_on_the_server_clock_carried_to_now() -> None:
    # The server's clock runs 100 s behind ours; the sweep was 30 s before the poll.
    r = router(bindings_checked_at=NOW - 100 - 30 - 5)
    polled = snap(ONE, Kind.ROUTERS, [r], fetched_at=NOW - 5, server_time=NOW - 100 - 5)
    view = routers_view([polled], NOW + 25)
    cell = row_of(view, "prod/RegionOne/r1")["checked"]
    assert (cell.text, cell.sort) == ("60s", 60)
    # Without a Date header: our own clock.
    local = snap(ONE, Kind.ROUTERS, [router(bindings_checked_at=NOW - 12)], server_time=None)
    assert row_of(routers_view([local], NOW), "prod/RegionOne/r1")["checked"].text == "12s"
    never = snap(ONE, Kind.ROUTERS, [router(bindings=None, bindings_checked_at=None)])
    cell = row_of(routers_view([never], NOW), "prod/RegionOne/r1")["checked"]
    assert cell.text == "-" and cell.sort == float("inf")


def test_routers_sorted_worst_first_then_region_then_name() -> None:
    split = (bind("net1", "active"), bind("net2", "active"))
    view = routers_view(
        [
            snap(
                TWO, Kind.ROUTERS, [router("t1", name="b"), router("t2", name="a", bindings=split)]
            ),
            snap(
                ONE, Kind.ROUTERS, [router("o1", name="c"), router("o2", name="d", bindings=None)]
            ),
        ],
        NOW,
    )
    assert [r.key for r in view.rows] == [
        "prod/RegionTwo/t2",
        "prod/RegionOne/o2",
        "prod/RegionOne/o1",
        "prod/RegionTwo/t1",
    ]
    assert view.title == "Routers 1 critical, 1 unknown / 4"  # o2 was never swept


# -- tenants ------------------------------------------------------------------------------------


def tenant(pid: str, name: str | None = None, **facts: Any) -> TenantSignals:
    return TenantSignals(project_id=pid, project_name=name or pid, **facts)


@pytest.mark.parametrize(
    ("points", "severity"),
    [(0, Severity.OK), (0.5, Severity.INFO), (19.9, Severity.INFO), (20, Severity.WARNING),
     (49.9, Severity.WARNING), (50, Severity.CRITICAL), (200, Severity.CRITICAL)],
)  # fmt: skip
def test_tenant_severity_cuts(points: float, severity: Severity) -> None:
    assert tenant_severity(points) == severity


def test_tenants_top_n_across_regions_scored_and_explained() -> None:
    one = [
        tenant("quiet", servers=10),
        tenant(
            "p-spoof",
            "spoofer",
            servers=4,
            spoofing_ports=("a", "b"),
            open_ingress_rules=("r1",),
            open_ingress_ports=(22,),
            created_last_hour=30,
            deleted_last_hour=2,
            floating_ips=7,
            floating_ips_created_last_hour=6,
        ),
        tenant("p-err", "broken", error_servers=("s1",)),
    ]
    two = [tenant("p-open", "opener", open_ingress_rules=("r", "s"), open_ingress_ports=(22, 80))]
    view = tenants_view(
        [snap(ONE, Kind.TENANTS, one), snap(TWO, Kind.TENANTS, two)], NOW, Thresholds(top_tenants=2)
    )
    assert [r.key for r in view.rows] == ["prod/RegionOne/p-spoof", "prod/RegionTwo/p-open"]
    top = row_of(view, "prod/RegionOne/p-spoof")
    assert top["_"].severity == Severity.CRITICAL
    assert top["project"].text == "spoofer"
    assert (top["score"].text, top["score"].sort) == ("88", 88.0)
    assert top["churn"].text == "+30/-2" and top["churn"].sort == 32
    assert (top["spoof"].text, top["open"].text, top["fips"].text) == ("2", "1", "7 (+6)")
    assert top["why"].text == (
        "2 ports allow spoofing (0.0.0.0/0 address pairs or port security off) (+3 more)"
    )
    second = row_of(view, "prod/RegionTwo/p-open")
    assert second["_"].severity == Severity.WARNING
    assert second["why"].text == "ingress from 0.0.0.0/0 to 22"
    assert second["_"].target.kind == Kind.TENANTS and second["_"].target.id == "p-open"
    assert view.title == "Tenants 1 critical, 1 warning / 4"
    assert view.notes[0] == "showing the top 2 of 3 projects with findings"


def test_tenant_signals_not_read_show_as_a_dimmed_question_mark_not_zero() -> None:
    unknown = tenant(
        "p-open",
        "opener",
        spoofing_ports=None,
        open_ingress_rules=("r",),
        open_ingress_ports=(22,),
        floating_ips=None,
        floating_ips_created_last_hour=None,
    )
    view = tenants_view([snap(ONE, Kind.TENANTS, [unknown], complete=False)], NOW)
    row = row_of(view, "prod/RegionOne/p-open")
    for key in ("spoof", "fips"):
        assert (row[key].text, row[key].tone) == ("?", Tone.DIM)
        assert row[key].sort == UNKNOWN_SORT
    assert (row["open"].text, row["servers"].text) == ("1", "0")  # these were read
    assert row["why"].text == (
        "ingress from 0.0.0.0/0 to 22 (not read: spoofing ports, floating IPs)"
    )


def test_the_snapshot_table_prints_unknown_tenant_counts_as_a_question_mark() -> None:
    from osconsole.report import snapshot_tables

    unknown = tenant(
        "p",
        "proj",
        servers=None,
        error_servers=None,
        stuck_servers=None,
        created_last_hour=None,
        deleted_last_hour=None,
        spoofing_ports=None,
    )
    table = snapshot_tables([snap(ONE, Kind.TENANTS, [unknown], complete=False)], NOW)
    (line,) = [line for line in table.splitlines() if line.startswith("proj")]
    assert line.split() == ["proj", "?", "?", "?", "?", "?", "0", "0"]  # fmt: skip


def test_tenants_with_nothing_to_see_are_left_out() -> None:
    view = tenants_view([snap(ONE, Kind.TENANTS, [tenant("a"), tenant("b", servers=3)])], NOW)
    assert view.rows == () and view.title == "Tenants OK / 2"


def test_tenants_quota_pressure_names_the_service_and_an_unread_quota_adds_no_row() -> None:
    full = tenant(
        "p-full", "full", quotas={"nova": {"cores": (38, 40)}, "cinder": {"volumes": (1, 10)}}
    )
    unread = tenant("p-unread", quotas_unknown=("nova", "cinder"))
    view = tenants_view([snap(ONE, Kind.TENANTS, [full, unread])], NOW)
    assert [r.key for r in view.rows] == ["prod/RegionOne/p-full"]
    row = row_of(view, "prod/RegionOne/p-full")
    assert row["why"].text == "quota: nova cores 95% (38/40)"
    assert row["_"].severity == Severity.INFO and row["score"].text == "5"
    assert view.title == "Tenants 1 unknown / 2"  # p-unread: its quotas were never read


def test_tenants_read_in_part_with_nothing_found_are_counted_unknown_not_ok() -> None:
    blind = tenant("p-blind", spoofing_ports=None, open_ingress_rules=None, floating_ips=None)
    view = tenants_view([snap(ONE, Kind.TENANTS, [blind, tenant("p-fine")])], NOW)
    assert view.rows == () and view.title == "Tenants 1 unknown / 2"
    assert view.counts[Severity.UNKNOWN] == 1


# -- liveness -----------------------------------------------------------------------------------


def agent(aid: str = "a1", **more: Any) -> Agent:
    more.setdefault("alive", True)
    more.setdefault("admin_state_up", True)
    more.setdefault("heartbeat_age", 12.0)
    return Agent(
        id=aid,
        agent_type=more.pop("agent_type", "L3 agent"),
        binary="neutron-l3-agent",
        host=more.pop("host", "net1"),
        heartbeat_at=NOW - 12,
        started_at=NOW - 1000,
        **more,
    )


def service(sid: str = "nova:s1", **more: Any) -> Service:
    more.setdefault("status", "enabled")
    more.setdefault("state", "up")
    more.setdefault("heartbeat_age", 3.0)
    return Service(
        id=sid,
        project=more.pop("project", "nova"),
        binary=more.pop("binary", "nova-compute"),
        host=more.pop("host", "cmp1"),
        zone="nova",
        updated_at=NOW - 3,
        **more,
    )


@pytest.mark.parametrize(
    ("item", "severity", "state", "admin", "reason"),
    [
        (agent(), Severity.OK, "alive", "up", ""),
        (agent(alive=False, heartbeat_age=300.0), Severity.CRITICAL, "DEAD", "up", "agent dead"),
        (
            agent(alive=False, admin_state_up=False),
            Severity.WARNING,
            "DEAD",
            "ADMIN-DOWN",
            "dead while admin-down (expected)",
        ),
        (agent(heartbeat_age=60.0), Severity.WARNING, "alive", "up", "heartbeat late (over 45s)"),
        (agent(admin_state_up=False), Severity.INFO, "alive", "ADMIN-DOWN", "admin-down"),
        (service(), Severity.OK, "up", "enabled", ""),
        (service(state="down"), Severity.CRITICAL, "DOWN", "enabled", "service down"),
        (
            service(state="down", status="disabled", disabled_reason="drained"),
            Severity.WARNING,
            "DOWN",
            "disabled",
            "down while disabled (expected): drained",
        ),
        (
            service(state="down", forced_down=True),
            Severity.WARNING,
            "FORCED DOWN",
            "enabled",
            "forced down by an operator",
        ),
        (
            service(status="disabled", disabled_reason="upgrade"),
            Severity.INFO,
            "up",
            "disabled",
            "disabled: upgrade",
        ),
        (service(status="disabled"), Severity.INFO, "up", "disabled", "disabled"),
        (
            service(heartbeat_age=50.0),
            Severity.WARNING,
            "up",
            "enabled",
            "heartbeat late (over 45s)",
        ),
    ],
)
def test_liveness_severity_and_words(
    item: Agent | Service, severity: Severity, state: str, admin: str, reason: str
) -> None:
    if isinstance(item, Agent):
        view = liveness_view([snap(ONE, Kind.AGENTS, [item])], [], NOW)
    else:
        view = liveness_view([], [snap(ONE, Kind.SERVICES, [item])], NOW)
    row = row_of(view, f"prod/RegionOne/{item.id}")
    assert row["_"].severity == severity
    assert (row["state"].text, row["admin"].text, row["reason"].text) == (state, admin, reason)


def test_liveness_rows_kinds_targets_heartbeats() -> None:
    agents = [agent("a1", heartbeat_age=-5.0), agent("a2", host="net2", alive=False)]
    services = [
        service("nova:s1"),
        service("cinder:vol1:cinder-volume", project="cinder", binary="cinder-volume", host="vol1"),
    ]
    view = liveness_view(
        [snap(ONE, Kind.AGENTS, agents, fetched_at=NOW)],
        [snap(ONE, Kind.SERVICES, services, stale=True, error="nova: HTTP 500")],
        NOW,
        Thresholds(heartbeat_warning_s=30),
    )
    assert view.rows[0].key == "prod/RegionOne/a2"  # the dead agent first
    skewed = row_of(view, "prod/RegionOne/a1")
    assert skewed["heartbeat"].text == "-5s (skew)"
    assert skewed["heartbeat"].origin == NOW + 5  # sorts by when it beat: older first
    assert skewed["heartbeat"].sort == -(NOW + 5)
    assert (skewed["kind"].text, skewed["type"].text) == ("neutron", "L3 agent")
    assert skewed["_"].target.kind == Kind.AGENTS and skewed["_"].target.detail == "agent"
    volume = row_of(view, "prod/RegionOne/cinder:vol1:cinder-volume")
    assert (volume["kind"].text, volume["type"].text, volume["host"].text) == (
        "cinder",
        "cinder-volume",
        "vol1",
    )
    assert volume["_"].target.kind == Kind.SERVICES and volume["_"].target.detail == "cinder"
    assert row_of(view, "prod/RegionOne/nova:s1")["_"].target.detail == "nova"
    assert view.title == "Liveness 1 critical / 4"
    assert view.stale_regions == ("RegionOne",)
    assert view.stale_since == (("RegionOne", NOW - 5),)
    assert view.oldest_age == 5
    # The services' last poll failed: their rows are dimmed and say so.
    assert {cell.tone for cell in volume["_"].cells} == {Tone.DIM}
    assert {cell.tone for cell in skewed["_"].cells} != {Tone.DIM}


def test_heartbeat_ages_keep_counting_from_the_poll() -> None:
    """A heartbeat 12 s old at a poll 5 s ago is 17 s old now, and reads so later on."""
    view = liveness_view([snap(ONE, Kind.AGENTS, [agent("a1", heartbeat_age=12.0)])], [], NOW)
    cell = row_of(view, "prod/RegionOne/a1")["heartbeat"]
    assert isinstance(cell, AgeCell) and cell.text == "17s" and cell.origin == NOW - 17
    later = liveness_view([snap(ONE, Kind.AGENTS, [agent("a1", heartbeat_age=12.0)])], [], NOW + 60)
    assert row_of(later, "prod/RegionOne/a1")["heartbeat"].text == "77s"
    unknown = liveness_view([snap(ONE, Kind.AGENTS, [agent("a2", heartbeat_age=None)])], [], NOW)
    assert row_of(unknown, "prod/RegionOne/a2")["heartbeat"].text == "-"
    assert view.columns[column(view, "heartbeat")].ticks


def test_rows_held_from_an_earlier_poll_are_dimmed_their_ages_counting_from_then() -> None:
    """Nova did not answer this poll (Cinder did): its rows stay, as read 65 s ago."""
    services = [
        service("nova:s1", heartbeat_age=12.0),
        service("cinder:vol1:cinder-volume", project="cinder", binary="cinder-volume", host="vol1"),
    ]
    polled = snap(ONE, Kind.SERVICES, services, complete=False, held={"nova:s1": NOW - 65})
    rows = LivenessRows()
    view = rows.view([], [polled], NOW)
    held = row_of(view, "prod/RegionOne/nova:s1")
    assert {cell.tone for cell in held["_"].cells} == {Tone.DIM}
    assert held["heartbeat"].text == "77s" and held["heartbeat"].origin == NOW - 77
    fresh = row_of(view, "prod/RegionOne/cinder:vol1:cinder-volume")
    assert {cell.tone for cell in fresh["_"].cells} != {Tone.DIM}
    assert view.stale_regions == ()  # the kind was read: partial, not stale
    # Read again: the very same item, no longer held, is redone undimmed.
    again = rows.view([], [dataclasses.replace(polled, held={}, complete=True)], NOW)
    assert {cell.tone for cell in row_of(again, "prod/RegionOne/nova:s1")["_"].cells} != {Tone.DIM}
    held_hv = snap(ONE, Kind.HYPERVISORS, [hyp("h1")], held={"id-h1": NOW - 65})
    dimmed = HypervisorRows().view([held_hv], NOW)
    assert {cell.tone for cell in row_of(dimmed, "prod/RegionOne/id-h1")["_"].cells} == {Tone.DIM}


# -- the region strip -----------------------------------------------------------------------


def stats(*latencies: float, errors: int = 0, last_error: str | None = None) -> ServiceStats:
    s = ServiceStats()
    for ms in latencies:
        s.record(ms, 200, None)
    s.errors, s.last_error = errors, last_error
    return s


def test_region_statuses_from_snapshots_and_service_stats() -> None:
    three, four, five = (RegionRef("prod", n) for n in ("RegionThree", "RegionFour", "R5"))
    long_error = "compute: GET /os-hypervisors/detail: no answer within 10s " + "x" * 50
    snapshots = [
        snap(ONE, Kind.AGENTS, [], fetched_at=NOW - 3),
        snap(ONE, Kind.ROUTERS, [], fetched_at=NOW - 20),
        snap(TWO, Kind.AGENTS, [], stale=True, error="network: HTTP 503"),
        snap(TWO, Kind.HYPERVISORS, [], stale=True, error=long_error),
        snap(three, Kind.AGENTS, []),
        snap(three, Kind.ROUTERS, [], stale=True, error="network: HTTP 500"),
        snap(four, Kind.TENANTS, [], complete=False, notes=("ports: HTTP 500",)),
    ]
    service_stats = {
        ONE: {"network": stats(*range(1, 101)), "compute": stats()},
        TWO: {"network": stats(5.0, errors=3, last_error="HTTP 503")},
        three: {},
        four: {},
        five: {},
    }
    found = {s.ref: s for s in region_statuses(service_stats, snapshots, NOW)}
    assert [s.ref for s in region_statuses(service_stats, snapshots, NOW)] == list(service_stats)
    assert found[ONE].status == "ok" and found[ONE].age == 20 and found[ONE].detail == ""
    assert found[ONE].latency == {"compute": (None, None), "network": (51, 95)}
    assert found[ONE].errors == {"compute": 0, "network": 0}
    assert found[TWO].status == "down" and found[TWO].errors == {"network": 3}
    assert found[TWO].detail == shorten(f"hypervisors: {long_error}", 60)
    assert len(found[TWO].detail) == 60
    assert found[three].status == "stale" and found[three].detail == "routers: network: HTTP 500"
    assert found[four].status == "degraded" and found[four].detail == "tenants: ports: HTTP 500"
    assert found[five].status == "connecting" and found[five].age is None


def test_regions_with_snapshots_but_no_stats_are_listed_too() -> None:
    other = RegionRef("lab", "RegionOne")
    found = region_statuses({ONE: {}}, [snap(other, Kind.AGENTS, [])], NOW)
    assert [(s.ref, s.status) for s in found] == [(ONE, "connecting"), (other, "ok")]


# -- against the simulated world ---------------------------------------------------------


async def test_every_view_accepts_real_snapshots_of_the_simulated_world(
    connection: Connection, world: World
) -> None:
    region = world.regions["RegionOne"]
    dead = region.l3_agents()[0]
    dead.stop(world.clock.now())
    world.clock.step(120)
    poller = Poller(connection.regions, Settings(), unpaced_sweeps=True)
    snapshots = await poller.poll_once()
    now = time.time()
    of = {kind: [s for s in snapshots if s.kind == kind] for kind in Kind}

    hypervisors = hypervisors_view(of[Kind.HYPERVISORS], now)
    assert len(hypervisors.rows) == sum(len(r.hypervisors) for r in world.regions.values())
    assert {r.key for r in hypervisors.rows} == {
        f"osconsole-sim/{name}/{h.id}" for name, r in world.regions.items() for h in r.hypervisors
    }

    routers = routers_view(of[Kind.ROUTERS], now, project_names(of[Kind.TENANTS]))
    assert len(routers.rows) == sum(len(r.routers) for r in world.regions.values())
    hosted = {r.id for r in region.routers_on_agent(dead.id)}
    assert hosted
    for key in hosted:
        row = row_of(routers, f"osconsole-sim/RegionOne/{key}")
        assert f"{dead.host}:" in row["agents"].text and "(DEAD)" in row["agents"].text
    projects = {p.id: p.name for p in world.projects}
    assert set(texts(routers, "project")) <= set(projects.values())

    liveness = liveness_view(of[Kind.AGENTS], of[Kind.SERVICES], now)
    expected = sum(
        len(r.agents) + len(r.compute_services) + len(r.volume_services)
        for r in world.regions.values()
    )
    assert len(liveness.rows) == expected
    assert len({r.key for r in liveness.rows}) == expected
    dead_row = row_of(liveness, f"osconsole-sim/RegionOne/{dead.id}")
    assert dead_row["state"].text == "DEAD" and dead_row["_"].severity == Severity.CRITICAL
    assert liveness.rows[0].severity == Severity.CRITICAL

    tenants = tenants_view(of[Kind.TENANTS], now)
    watched = sum(len(s.items) for s in of[Kind.TENANTS])
    assert tenants.title.endswith(f"/ {watched}")
    assert all(float(t) > 0 for t in texts(tenants, "score"))
    errors = {
        (name, s.project_id)
        for name, r in world.regions.items()
        for s in r.servers
        if s.status == "ERROR" and not s.deleted
    }
    shown = {(r.target.ref.region, r.target.id) for r in tenants.rows}
    assert errors and errors <= shown

    for view in (hypervisors, routers, liveness, tenants):
        assert view.stale_regions == ()
        assert view.oldest_age is not None and view.oldest_age < 60
        assert sum(view.counts.values()) == len(view.rows)

    stats = {s.ref: s.client.stats for s in connection.regions}
    strip = region_statuses(stats, snapshots, now)
    assert [s.ref.region for s in strip] == [s.ref.region for s in connection.regions]
    assert {s.status for s in strip} == {"ok"}
    assert all(s.latency["network"][0] is not None for s in strip)


# -- incremental builders: a poll costs about what it changed --------------------------------


def replaced(snapshot: Snapshot[Any], *items: Any, drop: tuple[str, ...] = ()) -> Snapshot[Any]:
    """`snapshot` polled again: `items` new or changed (by id), `drop` gone."""
    kept = {k: v for k, v in snapshot.items.items() if k not in drop}
    kept.update({i.id: i for i in items})
    return dataclasses.replace(snapshot, items=Snapshot.freeze(kept))


def kept_rows(before: TableView, after: TableView) -> set[str]:
    """Keys of the rows of `after` that are the very same objects as in `before`."""
    old = set(map(id, before.rows))
    return {row.key for row in after.rows if id(row) in old}


def test_hypervisor_rows_match_one_off_views_and_keep_unchanged_rows() -> None:
    hosts = [hyp(f"cmp{n}") for n in range(6)]
    polls = [[snap(ONE, Kind.HYPERVISORS, hosts[:3]), snap(TWO, Kind.HYPERVISORS, hosts[3:])]]
    one, two = polls[0]
    # cmp1 goes down (moves to the top), cmp4 gains a VM, cmp5 is gone, cmp6 is new
    # and cmp0 comes back as an equal but new object.
    polls.append(
        [
            replaced(one, hyp("cmp1", state="down", running_vms=4), hyp("cmp0")),
            replaced(two, hyp("cmp4", running_vms=4), hyp("cmp6"), drop=("id-cmp5",)),
        ]
    )
    polls.append([polls[1][0], replaced(polls[1][1], hyp("cmp1b"))])  # RegionOne unchanged
    polls.append([polls[2][1]])  # RegionOne dropped
    builder = HypervisorRows()
    views = []
    for poll in polls:
        views.append(builder.view(poll, NOW))
        assert views[-1] == hypervisors_view(poll, NOW)
    assert views[1].rows[0].key == "prod/RegionOne/id-cmp1"
    assert kept_rows(views[0], views[1]) == {
        f"prod/{region}/id-{host}"
        for region, host in [("RegionOne", "cmp0"), ("RegionOne", "cmp2"), ("RegionTwo", "cmp3")]
    }
    assert len(kept_rows(views[1], views[2])) == len(views[1].rows)
    assert {row.target.ref for row in views[3].rows} == {TWO}
    # Other thresholds: every row is judged again.
    strict = Thresholds(nearly_full_ratio=0.1)
    assert builder.view(polls[3], NOW, strict) == hypervisors_view(polls[3], NOW, strict)
    assert views[3].counts[Severity.WARNING] == 0
    assert builder.view(polls[3], NOW, strict).counts[Severity.WARNING] == len(views[3].rows)


def test_router_rows_follow_names_time_and_failovers() -> None:
    routers = [router(f"r{n}", bindings_checked_at=NOW - 60 * n) for n in range(5)]
    first = snap(ONE, Kind.ROUTERS, routers, server_time=NOW - 5)
    names = {"p1": "alpha"}
    builder = RouterRows()
    view = builder.view([first], NOW, names)
    assert view == routers_view([first], NOW, names)

    # One second later, nothing polled: only rows whose Checked age reads differently
    # are new (r0 "0s" and r1 "60s" move on; r2..r4 read "2m".."4m" and stay).
    later = builder.view([first], NOW + 1, names)
    assert later == routers_view([first], NOW + 1, names)
    assert kept_rows(view, later) == {f"prod/RegionOne/r{n}" for n in (2, 3, 4)}
    assert row_of(later, "prod/RegionOne/r0")["checked"].text == "1s"

    # A failover to a dead agent moves r3 to the top; new project names redo every row.
    failed = (bind("net1", "active", alive=False), bind("net2"), bind("net3"))
    second = replaced(first, router("r3", bindings=failed, bindings_checked_at=NOW - 90))
    moved = builder.view([second], NOW + 1, names)
    assert moved == routers_view([second], NOW + 1, names)
    assert moved.rows[0].key == "prod/RegionOne/r3"
    assert kept_rows(later, moved) == {f"prod/RegionOne/r{n}" for n in (0, 1, 2, 4)}
    renamed = builder.view([second], NOW + 1, {"p1": "beta"})
    assert renamed == routers_view([second], NOW + 1, {"p1": "beta"})
    assert set(texts(renamed, "project")) == {"beta"} and not kept_rows(moved, renamed)


def test_liveness_rows_keep_agents_and_services_apart() -> None:
    agents = snap(ONE, Kind.AGENTS, [agent("x"), agent("a2", host="net2")])
    services = snap(ONE, Kind.SERVICES, [service("x"), service("s2", host="cmp2")])
    builder = LivenessRows()
    view = builder.view([agents], [services], NOW)
    assert view == liveness_view([agents], [services], NOW)
    assert len(view.rows) == 4  # agent "x" and service "x" share a key, not a row
    dead = replaced(agents, agent("x", alive=False, heartbeat_age=300.0))
    after = builder.view([dead], [services], NOW)
    assert after == liveness_view([dead], [services], NOW)
    assert after.rows[0].target.kind == Kind.AGENTS and after.rows[0].severity.name == "CRITICAL"
    before = set(map(id, view.rows))
    kept = {(row.target.kind, row.target.id) for row in after.rows if id(row) in before}
    assert kept == {(Kind.AGENTS, "a2"), (Kind.SERVICES, "s2"), (Kind.SERVICES, "x")}
    assert builder.view([dead], [], NOW) == liveness_view([dead], [], NOW)


def test_live_state_builds_views_incrementally_even_from_frozen_copies() -> None:
    state = LiveState(Settings())
    hosts = snap(ONE, Kind.HYPERVISORS, [hyp(f"cmp{n}") for n in range(4)])
    state.apply(hosts)
    frozen = state.frozen()
    frozen.judge()
    before = frozen.view("hypervisors", NOW)
    state.apply(replaced(hosts, hyp("cmp2", state="down", running_vms=1)))
    frozen = state.frozen()
    frozen.judge()
    after = frozen.view("hypervisors", NOW)
    assert after == hypervisors_view(state.of_kind(Kind.HYPERVISORS), NOW)
    assert after.rows[0].key == "prod/RegionOne/id-cmp2"
    assert len(kept_rows(before, after)) == 3


def test_ovn_router_rows_show_the_gateway_chassis() -> None:
    from osconsole.model import RouterGateway

    def gw(
        rid: str, host: str, status: str = "ACTIVE", alive: tuple[bool, ...] = (True, True)
    ) -> Router:
        candidates = tuple(
            RouterBinding(f"agent-gw{i}", f"gw{i}", None, a, True, 32767 - i)
            for i, a in enumerate(alive)
        )
        return router(
            rid,
            ha=None,
            replica_hosts=(),
            bindings=candidates,
            gateway=RouterGateway(f"port-{rid}", host, status),
        )

    chassis = {
        f"agent-gw{i}": {"host": f"gw{i}", "alive": i != 1, "admin_state_up": True}
        for i in range(3)
    }
    routers = [
        gw("r1", "gw0"),
        gw("r2", "", "DOWN"),
        gw("r3", "gw1"),
        gw("r4", "gw0", alive=(True, False)),
    ]
    view = routers_view(
        [snap(ONE, Kind.ROUTERS, routers, extra={"ovn": True, "gateway_chassis": chassis})], NOW
    )
    cells = {
        rid: (
            row_of(view, f"prod/RegionOne/{rid}")["_"].severity,
            row_of(view, f"prod/RegionOne/{rid}")["ha"].text,
            row_of(view, f"prod/RegionOne/{rid}")["actives"].text,
            row_of(view, f"prod/RegionOne/{rid}")["active_on"].text,
            row_of(view, f"prod/RegionOne/{rid}")["agents"].text,
            row_of(view, f"prod/RegionOne/{rid}")["replicas"].text,
            row_of(view, f"prod/RegionOne/{rid}")["finding"].text,
        )
        for rid in ("r1", "r2", "r3", "r4")
    }
    assert cells == {
        "r1": (Severity.OK, "OVN", "1", "gw0", "gw0, gw1", "2", ""),
        "r2": (Severity.CRITICAL, "OVN", "0 NONE", "none", "gw0, gw1", "2", "NO GATEWAY"),
        "r3": (Severity.WARNING, "OVN", "1", "gw1(DEAD)", "gw0, gw1", "2", "ON DEAD CHASSIS"),
        "r4": (Severity.WARNING, "OVN", "1", "gw0", "gw0, gw1(DEAD)", "2", "FEW CHASSIS (1)"),
    }
