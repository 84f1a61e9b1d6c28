"""Tenant scoring: each signal's points and words, the caps, the order of reasons, the edges."""

from __future__ import annotations

import pytest

from osconsole.config import Thresholds
from osconsole.health.tenants import SENSITIVE_PORTS, TenantScore, score
from osconsole.model import TenantSignals

DEFAULT = Thresholds()


def signals(**facts: object) -> TenantSignals:
    return TenantSignals(project_id="p1", project_name="acme", **facts)  # type: ignore[arg-type]


def ids(n: int, prefix: str = "id") -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(n))


# (case, facts, expected score, expected reasons in order)
CASES = [
    ("nothing at all", {}, 0.0, ()),
    ("servers alone are normal", {"servers": 40, "floating_ips": 3}, 0.0, ()),
    (
        "one spoofing port",
        {"spoofing_ports": ids(1)},
        30.0,
        ("1 port allows spoofing (0.0.0.0/0 address pairs or port security off)",),
    ),
    (
        "two spoofing ports",
        {"spoofing_ports": ids(2)},
        40.0,
        ("2 ports allow spoofing (0.0.0.0/0 address pairs or port security off)",),
    ),
    (
        "spoofing is capped",
        {"spoofing_ports": ids(40)},
        50.0,
        ("40 ports allow spoofing (0.0.0.0/0 address pairs or port security off)",),
    ),
    (
        "sensitive ports open, sorted",
        {"open_ingress_rules": ids(2), "open_ingress_ports": (3389, 22)},
        30.0,
        ("ingress from 0.0.0.0/0 to 22, 3389",),
    ),
    (
        "web ports open are normal",
        {"open_ingress_rules": ids(2), "open_ingress_ports": (80, 443)},
        0.0,
        (),
    ),
    (
        "only the sensitive ones are named",
        {"open_ingress_rules": ids(3), "open_ingress_ports": (22, 443, 6379)},
        30.0,
        ("ingress from 0.0.0.0/0 to 22, 6379",),
    ),
    (
        "every port open",
        {"open_ingress_rules": ids(1), "open_ingress_ports": (0,)},
        40.0,
        ("ingress from 0.0.0.0/0 to all ports",),
    ),
    (
        "every port open beats the list",
        {"open_ingress_rules": ids(2), "open_ingress_ports": (0, 22)},
        40.0,
        ("ingress from 0.0.0.0/0 to all ports",),
    ),
    (
        "sensitive ports are capped",
        {"open_ingress_rules": ids(8), "open_ingress_ports": (22, 2375, 3306, 5432, 9200, 27017)},
        40.0,
        ("ingress from 0.0.0.0/0 to 22, 2375, 3306, 5432, 9200, 27017",),
    ),
    ("one server in ERROR", {"error_servers": ids(1)}, 5.0, ("1 server in ERROR",)),
    ("servers in ERROR", {"error_servers": ids(3)}, 15.0, ("3 servers in ERROR",)),
    ("ERROR is capped", {"error_servers": ids(30)}, 25.0, ("30 servers in ERROR",)),
    (
        "stuck servers",
        {"stuck_servers": ids(4)},
        12.0,
        ("4 servers stuck in BUILD/task state",),
    ),
    ("stuck is capped", {"stuck_servers": ids(9)}, 15.0, ("9 servers stuck in BUILD/task state",)),
    ("churn at the threshold", {"created_last_hour": 10, "deleted_last_hour": 10}, 0.0, ()),
    (
        "churn over the threshold",
        {"created_last_hour": 25, "deleted_last_hour": 18},
        21.5,
        ("churn: 25 servers created and 18 deleted in the last hour (threshold 20)",),
    ),
    (
        "churn is capped",
        {"created_last_hour": 1, "deleted_last_hour": 500},
        30.0,
        ("churn: 1 server created and 500 deleted in the last hour (threshold 20)",),
    ),
    ("a few new floating IPs", {"floating_ips_created_last_hour": 4}, 0.0, ()),
    (
        "a burst of new floating IPs",
        {"floating_ips": 9, "floating_ips_created_last_hour": 6},
        12.0,
        ("floating IPs: 6 created in the last hour",),
    ),
    (
        "quota near its limit",
        {"quotas": {"neutron": {"port": (470, 500), "network": (1, 100)}}},
        5.0,
        ("quota: neutron port 94% (470/500)",),
    ),
    (
        "quota exactly at the ratio, and over the limit, the fullest first",
        {"quotas": {"neutron": {"port": (450, 500), "floatingip": (12, 10)}}},
        10.0,
        ("quota: neutron floatingip 120% (12/10), neutron port 90% (450/500)",),
    ),
    (
        "nova cores near the limit",
        {"quotas": {"nova": {"cores": (38, 40), "instances": (9, 20), "ram": (1024, 51200)}}},
        5.0,
        ("quota: nova cores 95% (38/40)",),
    ),
    (
        "every service's resources count, named with their service",
        {
            "quotas": {
                "neutron": {"router": (9, 10)},
                "nova": {"instances": (10, 10), "cores": (19, 20)},
                "cinder": {"gigabytes": (990, 1000), "volumes": (3, 10)},
            }
        },
        15.0,
        (
            "quota: nova instances 100% (10/10), cinder gigabytes 99% (990/1000), "
            "nova cores 95% (19/20), neutron router 90% (9/10)",
        ),
    ),
    (
        "unlimited and zero quotas are ignored",
        {
            "quotas": {
                "neutron": {"port": (9000, -1), "router": (3, 0)},
                "nova": {"cores": (500, -1), "instances": (0, 0)},
            }
        },
        0.0,
        (),
    ),
    (
        "quota is capped",
        {"quotas": {"nova": {k: (10, 10) for k in ("a", "b", "c", "d", "e")}}},
        15.0,
        (
            "quota: nova a 100% (10/10), nova b 100% (10/10), nova c 100% (10/10), "
            "nova d 100% (10/10), nova e 100% (10/10)",
        ),
    ),
]


@pytest.mark.parametrize(
    ("facts", "points", "reasons"),
    [pytest.param(f, p, r, id=case) for case, f, p, r in CASES],
)
def test_each_signal_scores_and_says_why(
    facts: dict[str, object], points: float, reasons: tuple[str, ...]
) -> None:
    assert score(signals(**facts), DEFAULT) == TenantScore(points, reasons)


def test_empty_signals_score_zero_with_no_reasons() -> None:
    result = score(TenantSignals(project_id="p", project_name="p"), DEFAULT)
    assert result.score == 0 and result.reasons == ()


def test_points_add_up_and_reasons_come_heaviest_first() -> None:
    result = score(
        signals(
            spoofing_ports=ids(1),  # 30
            open_ingress_rules=ids(1),
            open_ingress_ports=(22,),  # 20
            error_servers=ids(1),  # 5
            stuck_servers=ids(1),  # 3
            quotas={"neutron": {"port": (99, 100)}},  # 5
        ),
        DEFAULT,
    )
    assert result.score == 63.0
    assert result.reasons == (
        "1 port allows spoofing (0.0.0.0/0 address pairs or port security off)",
        "ingress from 0.0.0.0/0 to 22",
        "1 server in ERROR",
        "quota: neutron port 99% (99/100)",
        "1 server stuck in BUILD/task state",
    )


def test_equal_points_keep_the_rules_order() -> None:
    # 5 (one ERROR) ties with 5 (one quota): ERROR is the heavier concern.
    result = score(signals(error_servers=ids(1), quotas={"nova": {"cores": (10, 10)}}), DEFAULT)
    assert result.reasons == ("1 server in ERROR", "quota: nova cores 100% (10/10)")


@pytest.mark.parametrize(
    ("churn_per_hour", "quota_near_ratio", "points"),
    [(20, 0.9, 0.0), (5, 0.9, 20.0), (20, 0.5, 5.0), (5, 0.5, 25.0)],
)
def test_thresholds_come_from_the_settings(
    churn_per_hour: int, quota_near_ratio: float, points: float
) -> None:
    facts = signals(
        created_last_hour=6, deleted_last_hour=4, quotas={"cinder": {"volumes": (60, 100)}}
    )
    thresholds = Thresholds(churn_per_hour=churn_per_hour, quota_near_ratio=quota_near_ratio)
    assert score(facts, thresholds).score == points


def test_every_sensitive_port_counts_alone() -> None:
    for port in SENSITIVE_PORTS - {0}:
        result = score(signals(open_ingress_ports=(port,)), DEFAULT)
        assert result == TenantScore(20.0, (f"ingress from 0.0.0.0/0 to {port}",))


def test_spoofing_plus_an_open_sensitive_port_outweighs_any_single_other_signal() -> None:
    worst_other = max(
        score(signals(**facts), DEFAULT).score
        for facts in (
            {"error_servers": ids(100)},
            {"stuck_servers": ids(100)},
            {"created_last_hour": 1000},
            {"floating_ips_created_last_hour": 1000},
            {"quotas": {"nova": {str(i): (1, 1) for i in range(10)}}},
        )
    )
    both = score(signals(spoofing_ports=ids(1), open_ingress_ports=(22,)), DEFAULT).score
    assert both == 50.0 > worst_other


# -- quotas that could not be read --------------------------------------------------------


def test_an_unread_quota_is_unknown_not_zero_percent() -> None:
    unread = signals(quotas={"neutron": {"port": (3, 500)}}, quotas_unknown=("nova", "cinder"))
    result = score(unread, DEFAULT)
    assert result == TenantScore(0.0, (), ("nova quota", "cinder quota"))
    assert not any("nova" in reason or "0%" in reason for reason in result.reasons)
    # Known and fine is not the same verdict as unknown.
    known = score(signals(quotas={"nova": {"cores": (0, 40)}}), DEFAULT)
    assert known == TenantScore(0.0) and known.unread == ()


def test_what_is_known_still_scores_beside_an_unknown_quota() -> None:
    facts = signals(
        spoofing_ports=ids(1), quotas={"neutron": {"router": (10, 10)}}, quotas_unknown=("nova",)
    )
    result = score(facts, DEFAULT)
    assert result.score == 35.0
    assert result.reasons[-1] == "quota: neutron router 100% (10/10)"
    assert result.unread == ("nova quota",)
