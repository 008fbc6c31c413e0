"""Writing normalised records: new incidents in bulk, changed ones through the service, each record whole.

Every incident goes through the service's planners (`plan_create`, `plan_update`, `plan_comment`) and the
lifecycle table, replaying the source's status history at the source's times, so imported incidents obey
exactly the rules of hand-made ones. New incidents are written a batch per transaction; if a batch fails,
its records are written one by one so that only the bad one is rejected and none is left half-written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.exc import SQLAlchemyError

from core import incidents as service
from core.auth import authorise
from core.db import Bind, connection, insert_rows, transaction
from core.errors import IncidentError, ValidationError
from core.importers.base import RecordError, SourceRecord, UnreadableInput
from core.importers.normalise import Move, Normalised, normalise
from core.lifecycle import path_to, requirement
from core.models import events, incidents
from core.timeutil import utcnow
from core.users import list_users
from core.validation import EDITABLE_FIELDS

BATCH = 500
COMPARED = tuple(f for f in EDITABLE_FIELDS if f != "resolution")  # a resolution comes with its status move


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RecordError] = field(default_factory=list)
    stopped: str | None = None  # why the rest of the input could not be read, if it could not

    def summary(self) -> str:
        return (
            f"read {self.read}, created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"rejected {len(self.rejected)}"
        )


def people_of(engine: Bind, tenant: str) -> dict[str, str]:
    """Lower-cased user names and e-mails of the tenant's assignable users -> user name."""
    people = {}
    for user in list_users(engine, tenant=tenant):
        if user.role != "viewer":
            people[user.username.lower()] = user.username
            if user.email:
                people[user.email.lower()] = user.username
    return people


def _source_text(norm: Normalised) -> str:
    return norm.data.get("source_siem") or norm.data["source_system"]


def _source_actor(norm: Normalised, name: str | None) -> str | None:
    """Who the source says acted, marked with the source ("servicenow:Updated by 21") so that it can never
    pass for one of our users."""
    return f"{norm.data['source_system']}:{name}"[:100] if name else None


def _replay(incident: service.Incident, norm: Normalised, actor: str) -> tuple[service.Incident, list[dict]]:
    """Move `incident` along the record's status history (in memory) and add its comments."""
    planned: list[dict] = []
    last = incident.updated_at
    source = _source_text(norm)
    for move in norm.moves:
        at = max(move.at, last)
        for step in path_to(incident.status, move.status, classification=norm.classification):
            need = requirement(incident.status, step)
            changes = {"status": step}
            if need.resolution:
                changes["resolution"] = norm.resolution or f"Resolved in {source} (the export has no resolution text)"
            if need.classification:
                changes["classification"] = norm.classification or "undetermined"
            if need.reason:
                changes["reason"] = f"Reopened in {source}"
            plan = service.plan_update(incident, actor=_source_actor(norm, move.actor) or actor, changes=changes, at=at)
            if plan is not None:
                incident = plan.incident
                planned.extend(plan.events)
        last = at
    for at, author, body in norm.comments:
        planned.append(
            service.plan_comment(
                incident.id, tenant=incident.tenant_id, actor=_source_actor(norm, author) or actor, comment=body, at=at
            )
        )
    return incident, planned


def _plan_new(tenant: str, actor: str, norm: Normalised) -> tuple[dict, list[dict]]:
    created = service.plan_create(
        tenant=tenant, actor=actor, data=norm.data, at=norm.created_at, incident_id=norm.incident_id
    )
    incident, planned = _replay(created.incident, norm, actor)
    row = service.Planned(incident, {}, []).row()
    row["source_record"] = norm.raw
    return row, [*created.events, *planned]


def _write_new(engine: Bind, batch: list[tuple[Normalised, dict, list[dict]]], report: ImportReport) -> None:
    if not batch:
        return
    try:
        with transaction(engine) as conn:
            insert_rows(conn, incidents, [row for _, row, _ in batch])
            insert_rows(conn, events, [event for _, _, planned in batch for event in planned])
        report.created += len(batch)
        return
    except SQLAlchemyError:
        if len(batch) == 1:
            norm = batch[0][0]
            report.rejected.append(RecordError(norm.location, "the database refused the record"))
            return
    for item in batch:  # find the one the database refuses; the others still go in
        _write_new(engine, [item], report)


def _apply_change(
    engine: Bind, tenant: str, actor: str, existing: service.Incident, stored_raw, norm: Normalised
) -> bool:
    """Bring an existing incident up to date with its changed source record; False when nothing changed.

    The fields the source sets take the source's values (a source that names no user of ours keeps the local
    assignee), and the status moves to the source's through the lifecycle, with timeline events."""
    fields = {name: norm.data[name] for name in COMPARED if getattr(existing, name) != norm.data[name]}
    if "assigned_to" in fields and fields["assigned_to"] is None:
        fields.pop("assigned_to")
    incident, planned = existing, []
    if fields:
        plan = service.plan_update(incident, actor=actor, changes=fields)
        if plan is not None:
            incident, planned = plan.incident, list(plan.events)
    if incident.status != norm.final_status:
        move = Move(utcnow(), norm.final_status)
        incident, more = _replay(incident, replace(norm, moves=[move], comments=[]), actor)
        planned += more
    with transaction(engine) as conn:
        if planned:
            result = conn.execute(
                update(incidents)
                .where(
                    incidents.c.tenant_id == tenant,
                    incidents.c.id == existing.id,
                    incidents.c.version == existing.version,
                )
                .values(**_changed_columns(existing, incident))
            )
            if result.rowcount != 1:
                raise IncidentError("the incident was changed by someone else during the import; import again")
            insert_rows(conn, events, planned)
        conn.execute(
            update(incidents)
            .where(incidents.c.tenant_id == tenant, incidents.c.id == existing.id)
            .values(source_record=norm.raw)
        )
    return bool(planned)


def _changed_columns(before: service.Incident, after: service.Incident) -> dict:
    row = service.Planned(after, {}, []).row()
    return {
        name: value
        for name, value in row.items()
        if name in ("search_text", "updated_at", "updated_by", "version") or getattr(before, name, None) != value
    }


def import_records(
    engine: Bind,
    *,
    tenant: str,
    actor: str,
    records: Iterable[SourceRecord | RecordError],
    now: datetime | None = None,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import records into `tenant`; idempotent by (source system, source id). Never raises for a bad
    record: each is reported with its location and reason, and the rest are imported."""
    authorise(engine, tenant=tenant, actor=actor, action="import")
    report = ImportReport()
    people = people_of(engine, tenant)
    pending: list[tuple[SourceRecord | RecordError, Normalised | None]] = []

    # PostgreSQL: refresh the planner's statistics as the import grows the tables (see _analyse)
    analysed_at = max(1, _rows_known_to_planner(engine) // 2)

    def flush() -> None:
        nonlocal analysed_at
        _flush(engine, tenant, actor, pending, people, report)
        pending.clear()
        if report.created >= 2 * analysed_at:
            _analyse(engine)
            analysed_at = report.created
        if progress:
            progress(report)

    try:
        for record in records:
            report.read += 1
            if isinstance(record, RecordError):
                report.rejected.append(record)
                continue
            try:
                pending.append((record, normalise(record, people=people, now=now)))
            except RecordError as exc:
                report.rejected.append(exc)
            if len(pending) >= BATCH:
                flush()
    except UnreadableInput as exc:  # the rest of the file cannot be read: keep (and report) what was read
        report.stopped = str(exc)
    flush()
    return report


def _flush(engine, tenant, actor, pending, people, report: ImportReport) -> None:
    if not pending:
        return
    refs: dict[str, list[str]] = {}
    for _, norm in pending:
        refs.setdefault(norm.data["source_system"], []).append(norm.data["source_ref"])
    rows = []
    with connection(engine) as conn:  # one indexed lookup per source system in the batch
        for system, system_refs in refs.items():
            rows += conn.execute(
                select(
                    incidents.c.source_system, incidents.c.source_ref, incidents.c.id, incidents.c.source_record
                ).where(
                    incidents.c.tenant_id == tenant,
                    incidents.c.source_system == system,
                    incidents.c.source_ref.in_(system_refs),
                )
            ).all()
    existing = {(r.source_system, r.source_ref): (r.id, _json(r.source_record)) for r in rows}
    own = {
        norm.incident_id: key
        for _, norm in pending
        if norm.incident_id and (key := (norm.data["source_system"], norm.data["source_ref"])) not in existing
    }
    if own:  # our own export of incidents made here: they are found by their id
        with connection(engine) as conn:
            for row in conn.execute(
                select(incidents.c.id, incidents.c.source_record).where(
                    incidents.c.tenant_id == tenant, incidents.c.id.in_(list(own))
                )
            ):
                existing[own[row.id]] = (row.id, _json(row.source_record))
    fresh: list[tuple[Normalised, dict, list[dict]]] = []
    seen: set[tuple[str, str]] = set()
    for _record, norm in pending:
        key = (norm.data["source_system"], norm.data["source_ref"])
        try:
            if key in existing and existing[key][1] == norm.raw:
                report.unchanged += 1  # the same record as last time: nothing to read or write
            elif key in existing or key in seen:
                _write_new(engine, fresh, report)  # an earlier copy in this batch must be written first
                fresh = []
                incident_id, stored = existing.get(key) or (
                    service.find_by_source(engine, tenant=tenant, source_system=key[0], source_ref=key[1]),
                    None,
                )
                current = service.get_incident(engine, tenant=tenant, incident_id=incident_id)
                if _apply_change(engine, tenant, actor, current, stored, norm):
                    report.updated += 1
                else:
                    report.unchanged += 1
                existing[key] = (incident_id, norm.raw)
            else:
                row, planned = _plan_new(tenant, actor, norm)
                fresh.append((norm, row, planned))
                seen.add(key)
        except (IncidentError, ValidationError) as exc:
            report.rejected.append(RecordError(norm.location, str(exc)))
    _write_new(engine, fresh, report)


def _rows_known_to_planner(engine: Bind) -> int:
    """PostgreSQL's estimate of the incidents there are (0 on DuckDB, or before the first ANALYZE)."""
    with connection(engine) as conn:
        if conn.dialect.name != "postgresql":
            return 0
        estimate = conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'incidents'")).scalar()
    return max(int(estimate or 0), 0)


def _analyse(engine: Bind) -> None:
    """On PostgreSQL, ANALYZE the tables a bulk import fills: with statistics of a near-empty table the
    planner keeps scanning whole tables for each batch's lookups, and an import slows down quadratically
    until autovacuum catches up (measured: 81 s instead of 30 s for 20,769 ServiceNow incidents). Called each
    time the import has doubled what the planner knew of (so not at all when it adds little to a big table:
    there each ANALYZE costs a second and changes no plan)."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE incidents, incident_events"))


def _json(value):
    return json.loads(value) if isinstance(value, str) else value
