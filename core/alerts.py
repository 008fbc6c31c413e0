"""Alert escalation: a SIEM, an XDR or a SOAR playbook escalates alerts, which open an incident or join one.

An alert is its source and its id there; it belongs to one incident. Escalating again what was escalated
before (a retried webhook, the next alert of a campaign the SIEM already opened an incident for) links the
new alerts to the incident that exists, found by the incident's source reference or by an alert it already
holds, instead of opening a second incident. Each linked alert writes a timeline event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.exc import DBAPIError

from core import incidents as service
from core.auth import authorise
from core.db import Bind, connection, insert_rows, transaction
from core.errors import ValidationError
from core.models import alerts, events
from core.timeutil import as_utc, iso, utcnow
from core.validation import text

MAX_ALERTS = 100  # per escalation
RETRIES = 3  # a parallel escalation of the same alert or source reference won the race: look again


@dataclass(frozen=True)
class Alert:
    source: str
    alert_id: str
    incident_id: str
    title: str | None
    raised_at: datetime | None
    linked_at: datetime
    linked_by: str

    def to_dict(self) -> dict:
        return {**asdict(self), "raised_at": iso(self.raised_at), "linked_at": iso(self.linked_at)}


@dataclass(frozen=True)
class Escalation:
    incident: service.Incident
    created: bool  # False: the alerts joined an incident that existed
    linked: list[Alert]  # the alerts this escalation linked (those linked before are not repeated)


def _when(value, where: str) -> datetime | None:
    """When an alert was raised: a time (UTC when it has no zone), not in the future."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise ValidationError({where: "must be a date and time"})
    try:
        value = as_utc(value)
    except OverflowError:  # an offset that takes it out of the calendar (year 1 or 9999)
        raise ValidationError({where: "is not a time that exists in UTC"}) from None
    if value > utcnow():
        raise ValidationError({where: f"{iso(value)} is in the future"})
    return value


def clean_alerts(raw: Sequence[Mapping]) -> list[dict]:
    """Each alert checked (source and id required, one line each; an optional title and time, not in the
    future), in order, without repeats; ValidationError naming the alert and the field."""
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ValidationError({"alerts": "must be a list of alerts"})
    cleaned: dict[tuple[str, str], dict] = {}
    for n, alert in enumerate(raw):
        where = f"alerts[{n}]"
        if not isinstance(alert, Mapping):
            raise ValidationError({where: "must be an object with source and alert_id"})
        unknown = set(alert) - {"source", "alert_id", "title", "raised_at"}
        if unknown:
            raise ValidationError({f"{where}.{sorted(unknown)[0]}": "is not a field of an alert"})
        try:
            source = text(alert.get("source"), limit=100, required=True, single_line=True)
            alert_id = text(alert.get("alert_id"), limit=200, required=True, single_line=True)
            title = text(alert.get("title"), limit=500, single_line=True)
        except ValueError as exc:
            raise ValidationError({where: f"an alert's source, id or title {exc}"}) from None
        cleaned.setdefault(
            (source, alert_id),
            {"source": source, "alert_id": alert_id, "title": title, "raised_at": _when(alert.get("raised_at"), where)},
        )
        if len(cleaned) > MAX_ALERTS:
            raise ValidationError({"alerts": f"at most {MAX_ALERTS} different alerts at a time"})
    return list(cleaned.values())


def _linked(conn, tenant: str, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(source, alert id) -> incident id, of those alerts already linked."""
    if not keys:
        return {}
    rows = conn.execute(
        select(alerts.c.source, alerts.c.alert_id, alerts.c.incident_id).where(
            alerts.c.tenant_id == tenant, tuple_(alerts.c.source, alerts.c.alert_id).in_(keys)
        )
    )
    return {(row.source, row.alert_id): row.incident_id for row in rows}


def escalate(engine: Bind, *, tenant: str, actor: str, data: Mapping, alerts: Sequence[Mapping] = ()) -> Escalation:
    """Open an incident for `data` with `alerts`, or link the alerts to the incident that already has the
    same source reference (source_system + source_ref), or, without a reference, to the incident that holds
    some of these alerts already. Nothing is written unless everything is valid; the incident data is
    validated in every case. Parallel escalations of the same incident join one another."""
    cleaned = clean_alerts(alerts)
    planned = service.plan_create(tenant=tenant, actor=actor, data=data).incident  # the checks, either way
    reference = (planned.source_system, planned.source_ref) if planned.source_ref else None
    for attempt in range(RETRIES):
        try:
            return _escalate(engine, tenant, actor, data, reference, cleaned)
        except (DBAPIError, _Raced):  # a parallel escalation created the incident or linked an alert first
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


class _Raced(Exception):
    """Another escalation created the incident with this source reference between our look and our write."""


def _escalate(engine: Bind, tenant: str, actor: str, data: Mapping, reference, cleaned: list[dict]) -> Escalation:
    with transaction(engine) as conn:
        authorise(conn, tenant=tenant, actor=actor, action="create")
        known = _linked(conn, tenant, [(a["source"], a["alert_id"]) for a in cleaned])
        holders = set(known.values())
        existing = None
        if reference:
            existing = service.find_by_source(conn, tenant=tenant, source_system=reference[0], source_ref=reference[1])
        if existing is None and holders and reference:  # one source reference is one incident, always
            raise ValidationError(
                {
                    "alerts": f"these alerts already belong to incident {sorted(holders)[0]}, which has another source "
                    "reference: escalate them with its reference, or with none"
                }
            )
        if existing is None and len(holders) == 1:
            existing = holders.pop()
        if holders - {existing}:
            raise ValidationError(
                {"alerts": "some of these alerts already belong to another incident: " + ", ".join(sorted(holders))}
            )
        if existing is None:
            try:
                incident = service.create_incident(conn, tenant=tenant, actor=actor, data=data)
            except ValidationError as exc:
                if reference and "source_ref" in exc.errors:
                    raise _Raced() from exc
                raise
        else:
            incident = service.get_incident(conn, tenant=tenant, incident_id=existing)
        linked = _link(conn, tenant, actor, incident, [a for a in cleaned if (a["source"], a["alert_id"]) not in known])
    return Escalation(incident, existing is None, linked)


def plan_links(incident: service.Incident, new: list[dict], *, actor: str, at: datetime) -> tuple[list, list]:
    """The rows and timeline events that link `new` (cleaned) alerts to the incident; writes nothing."""
    link = {"tenant_id": incident.tenant_id, "incident_id": incident.id, "linked_at": at, "linked_by": actor}
    rows = [{**alert, **link} for alert in new]
    timeline = [
        service.event_row(
            incident.tenant_id,
            incident.id,
            at=at,
            actor=actor,
            kind="alert_linked",
            field="alert",
            new=f"{row['source']} {row['alert_id']}",
            note=row["title"],
            version=incident.version,  # the version it was linked to (linking makes none)
        )
        for row in rows
    ]
    return rows, timeline


def _link(conn, tenant: str, actor: str, incident: service.Incident, new: list[dict]) -> list[Alert]:
    if not new:
        return []
    rows, timeline = plan_links(incident, new, actor=actor, at=max(utcnow(), incident.updated_at))
    insert_rows(conn, alerts, rows)
    insert_rows(conn, events, timeline)
    return [Alert(**{k: v for k, v in row.items() if k != "tenant_id"}) for row in rows]


def alerts_of(engine: Bind, incident: service.Incident) -> list[Alert]:
    """The alerts of an incident the caller read through the service (so already its tenant's), oldest first."""
    with connection(engine) as conn:
        source, where = service.tenant_rows(conn, alerts, "incident_id", incident.id, incident.tenant_id)
        rows = conn.execute(
            select(*(source.c[name] for name in Alert.__dataclass_fields__))
            .where(where)
            .order_by(source.c.raised_at.asc().nulls_last(), source.c.linked_at, source.c.alert_id)
        )
        return [
            Alert(**{**row._mapping, "raised_at": as_utc(row.raised_at), "linked_at": as_utc(row.linked_at)})
            for row in rows
        ]
