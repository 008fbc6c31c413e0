"""The incident service: every read and write of incidents, scoped to one tenant.

All functions take the engine first and keyword-only arguments after it, and return plain dataclasses.
Another tenant's incident behaves exactly like a missing one.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Boolean, String, and_, func, insert, literal, literal_column, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from core import attack
from core.auth import authorise
from core.db import Bind, connection, transaction
from core.errors import NotFoundError, ValidationError, VersionConflictError
from core.iocs import refang
from core.lifecycle import SEVERITIES, STATUSES, check_outcome, label, plan_transition
from core.models import events, incidents, severity_rank
from core.permissions import Principal, require
from core.timeutil import as_utc, day_start, iso, utcnow
from core.users import is_assignable
from core.validation import EDITABLE_FIELDS, check_attack_pair, check_tenant, clean_fields, text

TIMESTAMP_FIELDS = ("acknowledged_at", "resolved_at", "closed_at", "created_at", "updated_at")
INCIDENT_FIELDS = (
    "id",
    "tenant_id",
    "title",
    "description",
    "severity",
    "status",
    "mitre_tactic",
    "mitre_technique",
    "source_siem",
    "assigned_to",
    "resolution",
    "classification",
    "affected_assets",
    "iocs",
    "source_system",
    "source_ref",
    *TIMESTAMP_FIELDS,
    "created_by",
    "updated_by",
    "version",
)
SORTS = {
    "priority": "Most severe, oldest first",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "updated": "Recently updated",
}
MAX_PAGE = 1_000
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class Incident:
    id: str
    tenant_id: str
    title: str
    description: str
    severity: str
    status: str
    mitre_tactic: str | None
    mitre_technique: str | None
    source_siem: str | None
    assigned_to: str | None
    resolution: str | None
    classification: str | None
    affected_assets: list[str]
    iocs: list[dict]
    source_system: str | None
    source_ref: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    version: int

    def state(self) -> dict:
        """The fields as a dict, sharing the values (unlike dataclasses.asdict, which deep-copies them)."""
        return {name: getattr(self, name) for name in INCIDENT_FIELDS}

    def to_dict(self) -> dict:
        """The seed's field names (plus version, classification, source), times in ISO 8601 UTC."""
        data = asdict(self)
        for name in TIMESTAMP_FIELDS:
            data[name] = iso(data[name])
        return data


@dataclass(frozen=True)
class Event:
    id: str
    incident_id: str
    at: datetime
    actor: str
    kind: str
    field: str | None
    old_value: str | None
    new_value: str | None
    note: str | None
    version: int | None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["at"] = iso(self.at)
        return data


@dataclass(frozen=True)
class IncidentFilter:
    severity: tuple[str, ...] = ()
    status: tuple[str, ...] = ()
    tactic: str | None = None
    technique: str | None = None
    source_siem: str | None = None
    assignee: str | None = None
    unassigned: bool = False
    search: str | None = None
    created_from: date | datetime | None = None
    created_to: date | datetime | None = None  # inclusive: a date means the whole day


@dataclass(frozen=True)
class IncidentPage:
    items: list[Incident]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class IncidentDetail:
    incident: Incident
    timeline: list[Event] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------- reading


def _row_to_incident(row) -> Incident:
    data = {name: row._mapping[name] for name in INCIDENT_FIELDS}
    for name in TIMESTAMP_FIELDS:
        data[name] = as_utc(data[name])
    for name in ("affected_assets", "iocs"):
        if isinstance(data[name], str):  # some drivers hand JSON back as text
            data[name] = json.loads(data[name])
        data[name] = list(data[name] or [])
    return Incident(**data)


def _columns():
    return [incidents.c[name] for name in INCIDENT_FIELDS]


def canonical_id(value) -> str | None:
    """An incident id in its one stored form (lower-case, hyphenated UUID), or None if it is not one."""
    if not isinstance(value, str) or len(value) > 45:  # the longest form Python reads: urn:uuid:{…}
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def tenant_rows(conn: Connection, table, key: str, value: str, tenant: str):
    """(source, condition) to select the rows of `table` whose column `key` is `value`, of `tenant` only.

    On DuckDB the key is looked up alone in a subquery the optimiser keeps apart (OFFSET 0), because it uses
    an index only for a filter on the indexed column alone; the tenant condition applies on top of it, in the
    same statement. Elsewhere it is one WHERE, the tenant first (PostgreSQL's indexes lead with tenant_id)."""
    if conn.dialect.name == "duckdb":
        source = select(table).where(table.c[key] == value).offset(0).subquery(table.name)
        return source, source.c.tenant_id == tenant
    return table, and_(table.c.tenant_id == tenant, table.c[key] == value)


def _fetch(conn: Connection, tenant: str, incident_id: str, *names: str):
    """The incident (or the named columns' row) of this tenant; NotFoundError otherwise."""
    key = canonical_id(incident_id)
    if key is None:
        raise NotFoundError(str(incident_id)[:64])
    source, where = tenant_rows(conn, incidents, "id", key, tenant)
    row = conn.execute(select(*(source.c[name] for name in names or INCIDENT_FIELDS)).where(where)).first()
    if row is None:
        raise NotFoundError(key)
    return row if names else _row_to_incident(row)


def get_incident(engine: Bind, *, tenant: str, incident_id: str) -> Incident:
    with connection(engine) as conn:
        return _fetch(conn, tenant, incident_id)


def get_timeline(engine: Bind, *, tenant: str, incident_id: str) -> list[Event]:
    """The incident's events, newest first."""
    with connection(engine) as conn:
        return _timeline(conn, tenant, _fetch(conn, tenant, incident_id, "id").id)


def _timeline(conn: Connection, tenant: str, incident_id: str) -> list[Event]:
    source, where = tenant_rows(conn, events, "incident_id", incident_id, tenant)
    rows = conn.execute(
        select(*(source.c[name] for name in Event.__dataclass_fields__))
        .where(where)
        .order_by(source.c.at.desc(), source.c.version.desc().nulls_last(), source.c.id.desc())
    )
    return [Event(**{**row._mapping, "at": as_utc(row.at)}) for row in rows]


def get_detail(engine: Bind, *, tenant: str, incident_id: str) -> IncidentDetail:
    with connection(engine) as conn:
        incident = _fetch(conn, tenant, incident_id)
        return IncidentDetail(incident, _timeline(conn, tenant, incident.id))


def filter_conditions(tenant: str, filters: IncidentFilter, date_column=None) -> list:
    """WHERE clauses for a filter; the tenant condition always comes first.

    The date range applies to `date_column` (created_at unless given)."""
    date_column = incidents.c.created_at if date_column is None else date_column
    conditions = [incidents.c.tenant_id == tenant]
    if filters.severity:  # as ranks: PostgreSQL's list indexes are ordered by the rank
        conditions.append(severity_rank().in_([literal_column(str(SEVERITIES.index(s))) for s in filters.severity]))
    if filters.status:
        conditions.append(incidents.c.status.in_(list(filters.status)))
    if filters.tactic:
        conditions.append(incidents.c.mitre_tactic == (attack.normalise_tactic(filters.tactic) or filters.tactic))
    if filters.technique:
        technique = filters.technique.strip().upper()
        conditions.append(
            or_(
                incidents.c.mitre_technique == technique,
                incidents.c.mitre_technique.startswith(technique + ".", autoescape=True),
            )
        )
    if filters.source_siem:
        conditions.append(incidents.c.source_siem == filters.source_siem)
    if filters.unassigned:
        conditions.append(incidents.c.assigned_to.is_(None))
    elif filters.assignee:
        conditions.append(incidents.c.assigned_to == filters.assignee)
    if filters.search and filters.search.strip():
        for word in search_words(filters.search):
            conditions.append(contains_text(incidents.c.search_text, word))
    if filters.created_from:
        conditions.append(date_column >= day_start(filters.created_from))
    if filters.created_to:
        end = filters.created_to
        if isinstance(end, datetime):
            conditions.append(date_column <= as_utc(end))
        elif end < date.max:  # the last day there is has no end to compare with
            conditions.append(date_column < day_start(end + timedelta(days=1)))
    return conditions


class contains_text(FunctionElement):
    """contains_text(column, word): `column` contains `word` literally (no wildcards). LIKE '%word%' with the
    wildcards escaped, which PostgreSQL answers from its trigram index; on DuckDB contains(), about three times
    faster than a LIKE whose pattern is a parameter."""

    inherit_cache = True
    type = Boolean()

    def __init__(self, column, word: str):
        escaped = word.replace("/", "//").replace("%", "/%").replace("_", "/_")
        super().__init__(column, literal(word, String()), literal(escaped, String()))


@compiles(contains_text)
def _contains_like(element, compiler, **kw):
    column, _, escaped = element.clauses
    return f"{compiler.process(column, **kw)} LIKE '%%' || {compiler.process(escaped, **kw)} || '%%' ESCAPE '/'"


@compiles(contains_text, "duckdb")
def _contains_duckdb(element, compiler, **kw):
    column, word, _ = element.clauses
    return f"contains({compiler.process(column, **kw)}, {compiler.process(word, **kw)})"


def check_filter(filters: IncidentFilter) -> None:
    """ValidationError for a severity or status that does not exist (rather than an empty list), and for
    filter text that no field can hold (control characters, line breaks, over 200 characters)."""
    for name, allowed in (("severity", SEVERITIES), ("status", STATUSES)):
        unknown = [value for value in getattr(filters, name) if value not in allowed]
        if unknown:
            raise ValidationError({name: f"unknown {name} '{unknown[0]}'; use one of: {', '.join(allowed)}"})
    for name in ("tactic", "technique", "source_siem", "assignee", "search"):
        try:
            text(getattr(filters, name), limit=MAX_SEARCH_LENGTH, single_line=True)
        except ValueError as exc:
            raise ValidationError({name: f"the filter {exc}"}) from None


MAX_SEARCH_WORDS = 12
MAX_SEARCH_LENGTH = 200


def search_words(search: str) -> list[str]:
    """The words of a free-text search (every one must match); ValidationError for a search too long to run."""
    if len(search) > MAX_SEARCH_LENGTH or len(search.split()) > MAX_SEARCH_WORDS:
        raise ValidationError(
            {"search": f"search for at most {MAX_SEARCH_WORDS} words and {MAX_SEARCH_LENGTH} characters"}
        )
    try:
        search.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError({"search": "is not valid Unicode text"}) from None
    return refang(search).lower().split()  # 198.51.100[.]7 finds 198.51.100.7, as shown defanged


def _sort_keys(sort: str) -> list[tuple]:
    """(key, descending) of a sort; the id last, so that the order is total."""
    keys = {
        "newest": [(incidents.c.created_at, True)],
        "oldest": [(incidents.c.created_at, False)],
        "updated": [(incidents.c.updated_at, True)],
        "priority": [(severity_rank(), False), (incidents.c.created_at, False)],
    }
    return [*keys[sort], (incidents.c.id, False)]


def _order(sort: str, *, reverse: bool = False) -> list:
    return [key.desc() if descending != reverse else key.asc() for key, descending in _sort_keys(sort)]


def list_incidents(
    engine: Bind,
    *,
    tenant: str,
    filters: IncidentFilter = IncidentFilter(),
    sort: str = "priority",
    limit: int = 50,
    offset: int = 0,
) -> IncidentPage:
    """One page of matching incidents, and how many match in all."""
    if sort not in SORTS:
        raise ValidationError({"sort": f"unknown sort '{sort}'; use one of: {', '.join(SORTS)}"})
    check_filter(filters)
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError({"limit": f"must be between 1 and {MAX_PAGE}"})
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationError({"offset": f"must be between 0 and {MAX_OFFSET}"})
    where = and_(*filter_conditions(tenant, filters))
    with connection(engine) as conn:
        page = _scanned_page if conn.dialect.name == "duckdb" else _indexed_page
        total, rows = page(conn, where, sort, limit, offset)
        items = [_row_to_incident(row) for row in rows]
    return IncidentPage(items, total, limit, offset)


def _indexed_page(conn: Connection, where, sort: str, limit: int, offset: int) -> tuple[int, list]:
    """PostgreSQL: the count, then the page read in order from an index (core/models.py). A page in the second
    half is read backwards from the end, so that the last page is as quick as the first."""
    total = conn.execute(select(func.count()).select_from(incidents).where(where)).scalar_one()
    from_end = offset > total // 2
    take, skip = limit, offset
    if from_end:
        take, skip = min(limit, max(total - offset, 0)), max(total - offset - limit, 0)
    query = select(*_columns()).where(where).order_by(*_order(sort, reverse=from_end)).limit(take).offset(skip)
    rows = conn.execute(query).all() if take else []
    return total, rows[::-1] if from_end else rows


def _scanned_page(conn: Connection, where, sort: str, limit: int, offset: int) -> tuple[int, list]:
    """DuckDB: one scan collects the row ids and sort keys of every match (its filters cost a scan each time,
    a free-text search most), which give the count and the page; only the page's rows are read whole."""
    keys = _sort_keys(sort)
    matched = (
        select(literal_column("rowid").label("row"), *(key.label(f"k{n}") for n, (key, _) in enumerate(keys)))
        .where(where)
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )
    order = [matched.c[f"k{n}"].desc() if down else matched.c[f"k{n}"] for n, (_, down) in enumerate(keys)]
    page = select(matched.c.row).order_by(*order).limit(limit).offset(offset)
    total = select(func.count()).select_from(matched).scalar_subquery()
    rows = conn.execute(
        select(total.label("total"), *_columns())
        .where(literal_column("incidents.rowid").in_(page))
        .order_by(*_order(sort))
    ).all()
    if not rows:  # past the end (or nothing matches): the count alone
        return conn.execute(select(func.count()).select_from(incidents).where(where)).scalar_one(), []
    return rows[0].total, rows


def iter_incidents(
    engine: Bind,
    *,
    tenant: str,
    filters: IncidentFilter = IncidentFilter(),
    sort: str = "priority",
    batch=1000,
):
    """Every matching incident, fetched a page at a time (for exports), without loading all at once."""
    offset = 0
    while True:
        page = list_incidents(engine, tenant=tenant, filters=filters, sort=sort, limit=batch, offset=offset)
        yield from page.items
        offset += batch
        if offset >= page.total or not page.items:
            return


def distinct_values(engine: Bind, *, tenant: str, column: str) -> list[str]:
    """The values in use for a filter column (source_siem, mitre_tactic, assigned_to)."""
    if column not in ("source_siem", "mitre_tactic", "assigned_to"):
        raise ValueError(column)
    col = incidents.c[column]
    with connection(engine) as conn:
        rows = conn.execute(
            select(col).where(incidents.c.tenant_id == tenant, col.is_not(None)).group_by(col).order_by(col)
        )
        return [row[0] for row in rows]


# ---------------------------------------------------------------------------------------------- writing


def _search_text(state: Mapping) -> str:
    parts = [state.get("title") or "", state.get("description") or ""]
    parts += [ioc["value"] for ioc in state.get("iocs") or []]
    parts += list(state.get("affected_assets") or [])
    return "\n".join(parts).lower()


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def event_row(tenant, incident_id, *, at, actor, kind, field=None, old=None, new=None, note=None, version=None):
    """A timeline event as a table row (values as text)."""
    return dict(
        tenant_id=tenant,
        id=str(uuid.uuid4()),
        incident_id=incident_id,
        at=at,
        actor=actor,
        kind=kind,
        field=field,
        old_value=_as_text(old),
        new_value=_as_text(new),
        note=note,
        version=version,
    )


MAX_COMMENT = 20_000
MAX_REASON = 2_000


def _when(at: datetime | None, *, not_before: datetime | None = None, what: str = "last change") -> datetime:
    """The time of a change: a given (backdated) time, which must not be in the future nor before
    `not_before` (the incident's `what`), or now — never before `not_before`, so an incident's times never
    go backwards even when application servers' clocks differ a little."""
    if at is None:
        now = utcnow()
        return max(now, not_before) if not_before is not None else now
    if not isinstance(at, datetime):
        raise ValidationError({"at": "must be a date and time"})
    at = as_utc(at)
    if at > utcnow():
        raise ValidationError({"at": f"{iso(at)} is in the future"})
    if not_before is not None and at < not_before:
        raise ValidationError({"at": f"{iso(at)} is before the incident's {what} ({iso(not_before)})"})
    return at


def _actor(actor: str) -> str:
    try:
        name = text(actor, limit=100, required=True, single_line=True)
    except ValueError as exc:
        raise ValidationError({"actor": f"every change must name who made it: the name {exc}"}) from None
    return name


def may_assign(who: Principal, before: str | None, after: str | None) -> bool:
    """Whether `who` may change an incident's assignee from `before` to `after`: taking an unassigned incident
    or letting go of one's own is an analyst's; assigning anyone else, or taking over a colleague's
    incident, is a manager's (else two steps, take then let go, would unassign anyone's)."""
    mine_or_nobodys = before in (None, who.username)
    return (after in (None, who.username) and mine_or_nobodys) or who.may("assign_others")


def check_assignment(who: Principal, before: str | None, after: str | None) -> None:
    """PermissionDeniedError unless `may_assign`."""
    if not may_assign(who, before, after):
        require(who, "assign_others")


def check_permitted(who: Principal, current: Incident, diff: Mapping) -> None:
    """The role rules of a planned change of `current`: a lifecycle move (reopening a closed incident is a
    manager's) and the assignment. PermissionDeniedError when `who` may not."""
    if "status" in diff:
        require(who, "reopen_closed" if current.status == "closed" else "transition")
    if "assigned_to" in diff:
        check_assignment(who, current.assigned_to, diff["assigned_to"])


def _check_assignee(conn: Connection, tenant: str, username: str | None) -> None:
    if username and not is_assignable(conn, tenant=tenant, username=username):
        raise ValidationError({"assigned_to": f"'{username}' is not an active analyst of this tenant"})


@dataclass(frozen=True)
class Planned:
    """A change worked out in memory: the incident after it, the columns that differ, the events it writes.

    The service executes plans one at a time; an importer can chain them and write many in bulk."""

    incident: Incident
    diff: dict
    events: list[dict]

    def row(self) -> dict:
        """The incident as a table row (with its search text)."""
        data = self.incident.state()
        return {**data, "search_text": _search_text(data)}


def plan_create(
    *, tenant: str, actor: str, data: Mapping, at: datetime | None = None, incident_id: str | None = None
) -> Planned:
    """Validate a new incident (status new) and plan its row and 'created' event; writes nothing.

    `incident_id` keeps a given id (re-importing our own export); checks that need the database (assignee,
    unique source reference, a free id) are the caller's."""
    actor = _actor(actor)
    check_tenant(tenant)
    unknown = set(data) - set(EDITABLE_FIELDS) - {"source_system", "source_ref", "status"}
    errors = {name: "cannot be set when creating an incident" for name in sorted(unknown)}
    if data.get("status") not in (None, "new"):
        errors["status"] = "a new incident starts as new; move it through the lifecycle afterwards"
    if data.get("resolution"):
        errors["resolution"] = "a resolution is given when resolving"
    try:
        cleaned = clean_fields(
            {"title": None, "severity": None, **data},
            fields=(*EDITABLE_FIELDS, "source_system", "source_ref"),
        )
    except ValidationError as exc:
        errors.update(exc.errors)
        raise ValidationError(errors) from None
    if errors:
        raise ValidationError(errors)
    if bool(cleaned.get("source_system")) != bool(cleaned.get("source_ref")):
        raise ValidationError({"source_ref": "a source reference needs both the source system and its id"})
    if incident_id is not None and canonical_id(incident_id) is None:
        raise ValidationError({"id": f"'{str(incident_id)[:64]}' is not a UUID"})
    cleaned.update(check_attack_pair(cleaned))
    now = _when(at)
    values = {name: None for name in INCIDENT_FIELDS} | {"description": "", "affected_assets": [], "iocs": []}
    values.update(cleaned)
    values.update(
        tenant_id=tenant,
        id=canonical_id(incident_id) if incident_id else str(uuid.uuid4()),
        status="new",
        created_at=now,
        updated_at=now,
        created_by=actor,
        updated_by=actor,
        version=1,
    )
    incident = Incident(**values)
    created = event_row(tenant, incident.id, at=now, actor=actor, kind="created", note=incident.title, version=1)
    return Planned(incident, values, [created])


def create_incident(engine: Bind, *, tenant: str, actor: str, data: Mapping, at: datetime | None = None) -> Incident:
    """Create an incident in status new. `at` backdates it (imports, demo history)."""
    plan = plan_create(tenant=tenant, actor=actor, data=data, at=at)
    incident = plan.incident
    with transaction(engine) as conn:
        who = authorise(conn, tenant=tenant, actor=plan.incident.created_by, action="create")
        check_assignment(who, None, incident.assigned_to)
        _check_assignee(conn, tenant, incident.assigned_to)
        if incident.source_ref:
            existing = find_by_source(
                conn, tenant=tenant, source_system=incident.source_system, source_ref=incident.source_ref
            )
            if existing:
                raise ValidationError(
                    {
                        "source_ref": f"incident {existing} already has source reference "
                        f"{incident.source_system}:{incident.source_ref}"
                    }
                )
        conn.execute(insert(incidents).values(**plan.row()))
        conn.execute(insert(events), plan.events)
    return incident


def find_by_source(engine: Bind, *, tenant: str, source_system: str, source_ref: str) -> str | None:
    """The id of this tenant's incident with that source reference, if any."""
    with connection(engine) as conn:
        return conn.execute(
            select(incidents.c.id).where(
                incidents.c.tenant_id == tenant,
                incidents.c.source_system == source_system,
                incidents.c.source_ref == source_ref,
            )
        ).scalar()


UPDATABLE = (*EDITABLE_FIELDS, "status", "classification", "reason")


def update_incident(
    engine: Bind,
    *,
    tenant: str,
    actor: str,
    incident_id: str,
    changes: Mapping,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """PATCH semantics: change the given fields; a `status` goes through the lifecycle (with `resolution`,
    `classification` and `reason` as that move needs). Nothing is written unless every check passes.
    Returns the incident unchanged (same version) when nothing differs."""
    return _update(engine, tenant, actor, incident_id, changes, expected_version, at, require_move=False)


def plan_update(
    current: Incident, *, actor: str, changes: Mapping, at: datetime | None = None, require_move: bool = False
) -> Planned | None:
    """Validate a change of `current` and plan it; None when nothing would differ. Writes nothing.

    The assignee check (it needs the database) is the caller's."""
    actor = _actor(actor)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise ValidationError({name: "cannot be changed" for name in unknown})
    cleaned = clean_fields(changes, fields=EDITABLE_FIELDS)
    try:
        reason = text(changes.get("reason"), limit=MAX_REASON)
    except ValueError as exc:
        raise ValidationError({"reason": f"the reason {exc}"}) from None
    if require_move and changes.get("status") == current.status:
        raise ValidationError({"status": f"the incident is already {current.status}"})
    now = _when(at, not_before=current.updated_at)
    state = current.state()
    new_values = dict(cleaned)
    target = changes.get("status")
    if target is not None and target != current.status:
        new_values.pop("resolution", None)  # the lifecycle decides whether this move takes one
        new_values.update(
            plan_transition(
                state,
                str(target),
                at=now,
                resolution=cleaned.get("resolution"),
                classification=changes.get("classification"),
                reason=reason,
            )
        )
    elif changes.get("classification") is not None:
        if current.status != "closed":
            raise ValidationError({"classification": "only a closed incident has a classification"})
        new_values["classification"] = _classification(changes["classification"])
    elif reason:
        raise ValidationError({"reason": "a reason is given when reopening"})
    merged = {**state, **new_values}
    check_outcome(state, merged)
    new_values.update(check_attack_pair(merged))
    merged.update(new_values)
    diff = {k: v for k, v in new_values.items() if state.get(k) != v}
    if not diff:
        return None
    version = current.version + 1
    merged.update(updated_at=now, updated_by=actor, version=version)
    change_events = _change_events(current.tenant_id, current, diff, changes, actor=actor, at=now, version=version)
    return Planned(Incident(**{name: merged[name] for name in INCIDENT_FIELDS}), diff, change_events)


STALE_RETRIES = 10


def _update(engine, tenant, actor, incident_id, changes, expected_version, at, *, require_move: bool) -> Incident:
    """Apply a change; without an expected version, a concurrent write is not a conflict: the change is
    planned again on the latest state (a few times) instead."""
    if expected_version is not None and (
        isinstance(expected_version, bool) or not isinstance(expected_version, int) or expected_version < 1
    ):
        raise ValidationError({"expected_version": "must be a whole number from 1"})
    for attempt in range(STALE_RETRIES):
        try:
            return _apply_update(engine, tenant, actor, incident_id, changes, expected_version, at, require_move)
        except _StaleWrite as stale:
            if expected_version is not None or attempt == STALE_RETRIES - 1 or isinstance(engine, Connection):
                with connection(engine) as conn:
                    raise _conflict(conn, tenant, stale.incident, stale.incident.version) from None
            time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # let the other writer finish
    raise AssertionError("unreachable")


class _StaleWrite(Exception):
    """The row changed between our read and our UPDATE (PostgreSQL: 0 rows; DuckDB: a write conflict)."""

    def __init__(self, incident: Incident):
        self.incident = incident


def _apply_update(engine, tenant, actor, incident_id, changes, expected_version, at, require_move) -> Incident:
    with transaction(engine) as conn:
        who = authorise(conn, tenant=tenant, actor=_actor(actor), action="update")
        current = _fetch(conn, tenant, incident_id)
        if expected_version is not None and expected_version > current.version:
            raise ValidationError(
                {"expected_version": f"version {expected_version} does not exist (now {current.version})"}
            )
        if expected_version is not None and expected_version != current.version:
            raise _conflict(conn, tenant, current, expected_version)
        plan = plan_update(current, actor=actor, changes=changes, at=at, require_move=require_move)
        if plan is None:
            return current
        check_permitted(who, current, plan.diff)
        if "assigned_to" in plan.diff:
            _check_assignee(conn, tenant, plan.diff["assigned_to"])
        after = plan.incident
        statement = (
            update(incidents)
            .where(
                incidents.c.tenant_id == tenant,
                incidents.c.id == current.id,
                incidents.c.version == current.version,
            )
            .values(
                **plan.diff,
                search_text=plan.row()["search_text"],
                updated_at=after.updated_at,
                updated_by=after.updated_by,
                version=after.version,
            )
        )
        try:
            result = conn.execute(statement)
        except DBAPIError as exc:
            if type(exc.orig).__name__ != "TransactionException":  # DuckDB's write-write conflict
                raise
            raise _StaleWrite(current) from exc
        if result.rowcount != 1:
            raise _StaleWrite(current)
        conn.execute(insert(events), plan.events)
    return after


def _classification(value) -> str:
    from core.lifecycle import CLASSIFICATIONS

    if value not in CLASSIFICATIONS:
        raise ValidationError({"classification": f"must be one of: {', '.join(CLASSIFICATIONS)}"})
    return value


def _change_events(tenant, current: Incident, diff: dict, changes: Mapping, *, actor, at, version) -> list[dict]:
    old = current.state()
    common = dict(at=at, actor=actor, version=version)
    result = []
    if "status" in diff:
        note = changes.get("reason") or changes.get("resolution") or None
        if diff.get("classification"):
            note = f"classified as {label(diff['classification'])}" + (f"; {note}" if note else "")
        result.append(
            event_row(
                tenant,
                current.id,
                kind="status_changed",
                field="status",
                old=current.status,
                new=diff["status"],
                note=note,
                **common,
            )
        )
    for name, value in diff.items():
        if name in ("status", "acknowledged_at") or (name in ("resolved_at", "closed_at") and value is not None):
            continue  # stamped by the status change, which the event above records
        if "status" in diff and name in ("classification", "resolution") and value is not None:
            continue  # named in the status change's note
        kind = "assigned" if name == "assigned_to" else "field_changed"
        result.append(event_row(tenant, current.id, kind=kind, field=name, old=old[name], new=value, **common))
    return result


def _conflict(conn: Connection, tenant: str, current: Incident, expected: int) -> VersionConflictError:
    latest = _fetch(conn, tenant, current.id)
    source, where = tenant_rows(conn, events, "incident_id", current.id, tenant)
    rows = conn.execute(
        select(source.c.actor, source.c.field).where(where, source.c.version > expected).order_by(source.c.at)
    ).all()
    actors = list(dict.fromkeys(row.actor for row in rows)) or [latest.updated_by]
    fields = list(dict.fromkeys(row.field for row in rows if row.field))
    return VersionConflictError(current.id, expected, latest.version, ", ".join(actors), fields)


def transition(
    engine: Bind,
    *,
    tenant: str,
    actor: str,
    incident_id: str,
    status: str,
    resolution: str | None = None,
    classification: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Incident:
    """Move an incident to `status`; the lifecycle decides whether it may and what it needs."""
    if status not in STATUSES:
        raise ValidationError({"status": f"unknown status '{status}'; use one of: {', '.join(STATUSES)}"})
    changes = {"status": status, "resolution": resolution, "classification": classification, "reason": reason}
    changes = {k: v for k, v in changes.items() if v is not None}
    return _update(engine, tenant, actor, incident_id, changes, expected_version, at, require_move=True)


def plan_comment(incident_id: str, *, tenant: str, actor: str, comment: str, at: datetime) -> dict:
    """Validate a comment and plan its timeline event; writes nothing."""
    actor = _actor(actor)
    try:
        body = text(comment, limit=MAX_COMMENT, required=True)
    except ValueError as exc:
        raise ValidationError({"comment": f"a comment {exc}"}) from None
    return event_row(tenant, incident_id, at=at, actor=actor, kind="comment", note=body)


def add_comment(
    engine: Bind, *, tenant: str, actor: str, incident_id: str, text: str, at: datetime | None = None
) -> Event:
    """Add a comment to the timeline. Comments do not change the incident's version."""
    with transaction(engine) as conn:
        authorise(conn, tenant=tenant, actor=_actor(actor), action="comment")
        found = _fetch(conn, tenant, incident_id, "id", "created_at")
        row = plan_comment(
            found.id,
            tenant=tenant,
            actor=actor,
            comment=text,
            at=_when(at, not_before=as_utc(found.created_at), what="creation"),
        )
        conn.execute(insert(events).values(row))
    return Event(**{k: v for k, v in row.items() if k != "tenant_id"})


def get_source_record(engine: Bind, *, tenant: str, incident_id: str) -> dict | None:
    """The original record an importer read the incident from (None for incidents made here)."""
    with connection(engine) as conn:
        value = _fetch(conn, tenant, incident_id, "source_record").source_record
    return json.loads(value) if isinstance(value, str) else value
