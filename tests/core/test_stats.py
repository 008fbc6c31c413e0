"""Statistics computed in SQL, checked against values worked out by hand, on both databases."""

from datetime import UTC, date, datetime, timedelta

import pytest

from core import incidents as svc
from core.stats import incident_stats
from core.users import add_user

A, B = "tenant-a", "tenant-b"
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.fixture
def db(engine):
    add_user(engine, tenant=A, username="alice", role="manager")
    add_user(engine, tenant=A, username="bob")
    add_user(engine, tenant=B, username="mallory")
    return engine


def make(engine, *, tenant=A, severity="high", created, ack=None, resolved=None, siem="Splunk ES", **data):
    incident = svc.create_incident(
        engine,
        tenant=tenant,
        actor="alice" if tenant == A else "mallory",
        at=created,
        data={"title": f"{severity} thing", "severity": severity, "source_siem": siem, **data},
    )
    if ack:
        incident = svc.transition(
            engine,
            tenant=tenant,
            actor="alice" if tenant == A else "mallory",
            incident_id=incident.id,
            status="investigating",
            at=ack,
        )
    if resolved:
        incident = svc.transition(
            engine,
            tenant=tenant,
            actor="alice" if tenant == A else "mallory",
            incident_id=incident.id,
            status="resolved",
            resolution="done",
            at=resolved,
        )
    return incident


def test_counts_and_durations(db):
    day1 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    # critical: acknowledged after 1 h and 3 h, resolved after 10 h and 30 h
    make(db, severity="critical", created=day1, ack=day1 + H, resolved=day1 + 10 * H, mitre_technique="T1486")
    make(
        db,
        severity="critical",
        created=day1,
        ack=day1 + 3 * H,
        resolved=day1 + 30 * H,
        siem="Sentinel",
        assigned_to="alice",
    )
    make(db, severity="critical", created=NOW - 2 * H, assigned_to="bob")  # open, 2 h old
    make(db, severity="low", created=NOW - timedelta(days=40), ack=NOW - timedelta(days=39))  # open, > 30 days
    make(db, tenant=B, severity="critical", created=day1, ack=day1 + 100 * H)  # another tenant: never counted

    stats = incident_stats(db, tenant=A, now=NOW)
    assert (stats.total, stats.open, stats.critical, stats.critical_open, stats.unassigned_open) == (4, 2, 3, 1, 1)
    assert stats.by_severity == {"critical": 3, "high": 0, "medium": 0, "low": 1, "informational": 0}
    assert stats.by_status["resolved"] == 2 and stats.by_status["new"] == 1 and stats.by_status["investigating"] == 1
    assert stats.by_tactic == {"Impact": 1, "(none)": 3}  # incidents without a value are counted, not dropped
    assert stats.by_siem == {"Splunk ES": 3, "Sentinel": 1}
    assert stats.by_assignee == {"bob": 1, "(none)": 1}  # open incidents per analyst
    assert stats.backlog_by_age == {"< 1 day": 1, "1–3 days": 0, "3–7 days": 0, "7–30 days": 0, "> 30 days": 1}
    assert stats.mtta_by_severity["critical"].count == 2
    assert stats.mtta_by_severity["critical"].median_s == pytest.approx(2 * 3600)  # median of 1 h and 3 h
    assert stats.mtta_by_severity["critical"].p90_s == pytest.approx(2.8 * 3600)  # linear interpolation
    assert stats.mttr_by_severity["critical"].median_s == pytest.approx(20 * 3600)
    assert stats.mttr.count == 2 and "low" not in stats.mttr_by_severity
    assert stats.mtta.count == 3
    assert stats.created_per_day["2026-06-01"] == 2
    assert stats.resolved_per_day == {"2026-06-01": 1, "2026-06-02": 1}


def test_date_range_limits_the_periods_figures(db):
    make(db, created=datetime(2026, 5, 1, tzinfo=UTC), ack=datetime(2026, 5, 1, 1, tzinfo=UTC))
    make(db, created=datetime(2026, 6, 1, tzinfo=UTC))
    stats = incident_stats(db, tenant=A, created_from=date(2026, 6, 1), created_to=date(2026, 6, 30), now=NOW)
    assert stats.total == 1 and stats.mtta.count == 0 and stats.mtta.median_s is None
    assert stats.open == 2  # the backlog is what is open now, whenever it was created
    assert list(stats.created_per_day) == ["2026-06-01"]


def test_empty_tenant_has_zeroes_not_errors(db):
    stats = incident_stats(db, tenant="nobody", now=NOW)
    assert stats.total == 0 and stats.mttr.median_s is None and stats.created_per_day == {}
    assert stats.to_dict()["by_severity"]["critical"] == 0
