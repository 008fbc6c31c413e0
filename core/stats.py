"""Statistics for SOC managers, every figure aggregated in SQL.

Durations (MTTA: created -> acknowledged, MTTR: created -> resolved) come from each incident's own times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal, select

from core.db import Bind, connection
from core.incidents import IncidentFilter, filter_conditions
from core.lifecycle import OPEN_STATUSES, SEVERITIES, STATUSES
from core.models import incidents
from core.timeutil import utcnow

#: open-incident age buckets: (label, lower bound in days, upper bound in days or None)
AGE_BUCKETS = (("< 1 day", 0, 1), ("1–3 days", 1, 3), ("3–7 days", 3, 7), ("7–30 days", 7, 30), ("> 30 days", 30, None))


#: the key under which incidents without a tactic, source or assignee are counted
NONE = "(none)"


@dataclass(frozen=True)
class DurationStats:
    count: int
    median_s: float | None
    p90_s: float | None


@dataclass(frozen=True)
class Stats:
    # incidents created in the period
    total: int
    critical: int
    by_severity: dict[str, int]
    by_status: dict[str, int]
    by_tactic: dict[str, int]
    by_siem: dict[str, int]
    created_per_day: dict[str, int]
    resolved_per_day: dict[str, int]  # by the day they were resolved, within the period
    # the open backlog now, whenever it was created
    open: int
    critical_open: int
    unassigned_open: int
    by_assignee: dict[str, int]  # open incidents per analyst (NONE: unassigned)
    backlog_by_age: dict[str, int]
    # durations of the period's incidents (MTTR: of those resolved)
    mtta: DurationStats
    mttr: DurationStats
    mtta_by_severity: dict[str, DurationStats]
    mttr_by_severity: dict[str, DurationStats]

    def to_dict(self) -> dict:
        return asdict(self)


def _seconds(later, earlier):
    return func.extract("epoch", later - earlier)


def _durations(conn, where, end_column, start_column) -> tuple[DurationStats, dict[str, DurationStats]]:
    seconds = _seconds(end_column, start_column)
    measured = and_(where, end_column.is_not(None))
    columns = (
        func.count(),
        func.percentile_cont(0.5).within_group(seconds),
        func.percentile_cont(0.9).within_group(seconds),
    )
    overall = conn.execute(select(*columns).where(measured)).one()
    rows = conn.execute(select(incidents.c.severity, *columns).where(measured).group_by(incidents.c.severity))
    by_severity = {row[0]: DurationStats(row[1], _float(row[2]), _float(row[3])) for row in rows}
    ordered = {s: by_severity[s] for s in SEVERITIES if s in by_severity}
    return DurationStats(overall[0], _float(overall[1]), _float(overall[2])), ordered


def _float(value) -> float | None:
    return None if value is None else float(value)


def _counts(conn, column, where, order: tuple[str, ...] | None = None) -> dict[str, int]:
    """Counts per value; incidents without a value are counted under NONE, never dropped."""
    rows = conn.execute(select(column, func.count()).where(where).group_by(column)).all()
    counts = {NONE if row[0] is None else row[0]: row[1] for row in rows}
    if order is not None:
        return {key: counts.get(key, 0) for key in order}
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _per_day(conn, column, tenant, created_from, created_to) -> dict[str, int]:
    """Incidents per UTC day of `column` (created_at or resolved_at) within the range."""
    where = and_(*filter_conditions(tenant, IncidentFilter(created_from=created_from, created_to=created_to), column))
    day = func.date_trunc("day", column)
    rows = conn.execute(select(day, func.count()).where(where, column.is_not(None)).group_by(day).order_by(day)).all()
    return {row[0].date().isoformat(): row[1] for row in rows}


def incident_stats(
    engine: Bind,
    *,
    tenant: str,
    created_from: date | datetime | None = None,
    created_to: date | datetime | None = None,
    now: datetime | None = None,
) -> Stats:
    """Every statistic of the statistics page: of incidents created in the range (all when unset), and of
    the open backlog as it is now."""
    where = and_(*filter_conditions(tenant, IncidentFilter(created_from=created_from, created_to=created_to)))
    is_open = incidents.c.status.in_(OPEN_STATUSES)
    open_now = and_(incidents.c.tenant_id == tenant, is_open)
    critical = incidents.c.severity == "critical"
    now = now or utcnow()
    age_days = _seconds(literal(now), incidents.c.created_at) / 86400.0
    with connection(engine) as conn:
        total, critical_count = conn.execute(select(func.count(), func.count().filter(critical)).where(where)).one()
        open_count, critical_open, unassigned_open = conn.execute(
            select(
                func.count(),
                func.count().filter(critical),
                func.count().filter(incidents.c.assigned_to.is_(None)),
            ).where(open_now)
        ).one()
        bucket = case(
            *[
                (age_days < upper, name) if upper is not None else (age_days >= lower, name)
                for name, lower, upper in AGE_BUCKETS
            ],
        )
        backlog = _counts(conn, bucket, open_now, order=tuple(b[0] for b in AGE_BUCKETS))
        mtta, mtta_by = _durations(conn, where, incidents.c.acknowledged_at, incidents.c.created_at)
        mttr, mttr_by = _durations(conn, where, incidents.c.resolved_at, incidents.c.created_at)
        return Stats(
            total=total,
            open=open_count,
            critical=critical_count,
            critical_open=critical_open,
            unassigned_open=unassigned_open,
            by_severity=_counts(conn, incidents.c.severity, where, order=SEVERITIES),
            by_status=_counts(conn, incidents.c.status, where, order=STATUSES),
            by_tactic=_counts(conn, incidents.c.mitre_tactic, where),
            by_siem=_counts(conn, incidents.c.source_siem, where),
            by_assignee=_counts(conn, incidents.c.assigned_to, open_now),
            created_per_day=_per_day(conn, incidents.c.created_at, tenant, created_from, created_to),
            resolved_per_day=_per_day(conn, incidents.c.resolved_at, tenant, created_from, created_to),
            backlog_by_age=backlog,
            mtta=mtta,
            mttr=mttr,
            mtta_by_severity=mtta_by,
            mttr_by_severity=mttr_by,
        )
