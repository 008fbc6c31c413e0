"""Statistics for SOC managers, every figure aggregated in SQL.

Durations (MTTA: created -> acknowledged, MTTR: created -> resolved) come from each incident's own times.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, Float, and_, case, func, literal_column, select, tuple_

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


def _epoch(column):
    """Seconds since 1970 as a double: fast on both databases (an interval's EXTRACT is slow on DuckDB, and
    PostgreSQL's EXTRACT returns numeric)."""
    return func.date_part("epoch", column)


def _float(value) -> float | None:
    return None if value is None else float(value)


QUANTILES = literal_column("ARRAY[0.5, 0.9]")  # median and p90 from one sort


def _durations(conn, where) -> dict:
    """MTTA and MTTR of the period, overall and by severity, in one query (exact quantiles: a sort each)."""
    created = _epoch(incidents.c.created_at)
    spans = {
        "mtta": _epoch(incidents.c.acknowledged_at) - created,
        "mttr": _epoch(incidents.c.resolved_at) - created,
    }
    columns = []
    for span in spans.values():  # NULL (not yet acknowledged / resolved) is left out of count and quantiles
        columns += [func.count(span), func.percentile_cont(QUANTILES).within_group(span)]
    rows = conn.execute(
        select(incidents.c.severity, func.grouping(incidents.c.severity), *columns)
        .where(where)
        .group_by(func.grouping_sets(tuple_(incidents.c.severity), tuple_()))
    ).all()
    figures = {name: DurationStats(0, None, None) for name in spans}
    by_severity: dict[str, dict[str, DurationStats]] = {f"{name}_by_severity": {} for name in spans}
    for severity, is_total, *measured in sorted(rows, key=lambda row: _rank(row[0])):
        for n, name in enumerate(spans):
            count, quantiles = measured[2 * n : 2 * n + 2]
            median, p90 = quantiles or (None, None)
            stats = DurationStats(count, _float(median), _float(p90))
            if is_total:
                figures[name] = stats
            elif count:
                by_severity[f"{name}_by_severity"][severity] = stats
    return {**figures, **by_severity}


def _rank(severity: str | None) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def _sorted_counts(counts: dict) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _breakdowns(conn, where) -> dict:
    """The period's counts: in all, critical, and by severity, status, tactic and source, from one GROUP BY of
    the four (a few hundred groups); incidents without a value are counted under NONE, never dropped."""
    names = ("severity", "status", "mitre_tactic", "source_siem")
    rows = conn.execute(
        select(*(incidents.c[name] for name in names), func.count())
        .where(where)
        .group_by(*(incidents.c[name] for name in names))
    ).all()
    counts: dict[str, Counter] = {name: Counter() for name in names}
    for *values, count in rows:
        for name, value in zip(names, values, strict=True):
            counts[name][NONE if value is None else value] += count
    return {
        "total": sum(counts["severity"].values()),
        "critical": counts["severity"]["critical"],
        "by_severity": {s: counts["severity"][s] for s in SEVERITIES},
        "by_status": {s: counts["status"][s] for s in STATUSES},
        "by_tactic": _sorted_counts(counts["mitre_tactic"]),
        "by_siem": _sorted_counts(counts["source_siem"]),
    }


def _backlog(conn, tenant: str, now: datetime) -> dict:
    """The open backlog now, whenever it was created: counts, per analyst and by age, in one query."""
    bucket = case(
        *[(incidents.c.created_at > now - timedelta(days=upper), name) for name, _, upper in AGE_BUCKETS if upper],
        else_=AGE_BUCKETS[-1][0],
    )
    critical = incidents.c.severity == "critical"
    rows = conn.execute(
        select(incidents.c.assigned_to, bucket, critical, func.count())
        .where(incidents.c.tenant_id == tenant, incidents.c.status.in_(OPEN_STATUSES))
        .group_by(incidents.c.assigned_to, bucket, critical)
    ).all()
    by_assignee: Counter = Counter()
    by_age: Counter = Counter()
    critical_open = 0
    for assignee, age, is_critical, count in rows:
        by_assignee[NONE if assignee is None else assignee] += count
        by_age[age] += count
        critical_open += count if is_critical else 0
    return {
        "open": sum(by_age.values()),
        "critical_open": critical_open,
        "unassigned_open": by_assignee.get(NONE, 0),
        "by_assignee": _sorted_counts(by_assignee),
        "backlog_by_age": {name: by_age.get(name, 0) for name, _, _ in AGE_BUCKETS},
    }


EPOCH_DAY = date(1970, 1, 1)


def _per_day(conn, column, tenant, created_from, created_to) -> dict[str, int]:
    """Incidents per UTC day of `column` (created_at or resolved_at) within the range."""
    where = and_(*filter_conditions(tenant, IncidentFilter(created_from=created_from, created_to=created_to), column))
    day = func.floor(_epoch(column) / literal_column("86400.0", Float))  # as a double (not numeric: slow)
    rows = conn.execute(select(day, func.count()).where(where, column.is_not(None)).group_by(day).order_by(day)).all()
    return {(EPOCH_DAY + timedelta(days=int(row[0]))).isoformat(): row[1] for row in rows}


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

    def counts(conn) -> dict:
        return {
            **_breakdowns(conn, where),
            **_backlog(conn, tenant, now or utcnow()),
            "created_per_day": _per_day(conn, incidents.c.created_at, tenant, created_from, created_to),
            "resolved_per_day": _per_day(conn, incidents.c.resolved_at, tenant, created_from, created_to),
        }

    durations, rest = _side_by_side(engine, lambda conn: _durations(conn, where), counts)
    return Stats(**durations, **rest)


def _side_by_side(engine: Bind, *jobs):
    """Each job's result, each run with a connection. On PostgreSQL they run at the same time on their own
    connections (a server process each: the quantiles' sorts take about as long as all the counts, and the
    machine has more than one core); on DuckDB, which already spreads one query over the cores, or on a
    caller's connection, one after the other."""
    if isinstance(engine, Engine) and engine.dialect.name == "postgresql":

        def run(job):
            with engine.connect() as conn:
                return job(conn)

        with ThreadPoolExecutor(len(jobs)) as pool:
            return list(pool.map(run, jobs))
    with connection(engine) as conn:
        return [job(conn) for job in jobs]
