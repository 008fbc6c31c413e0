"""Microsoft Sentinel incidents in the REST API shape (``Microsoft.SecurityInsights/incidents``).

Read as NDJSON (one incident a line), or a JSON document holding a list of incidents or an API page
``{"value": [...], "nextLink": ...}`` (pages may also be NDJSON lines). An incident's fields are under
``properties``; a record without ``properties`` is read as the properties themselves.

Values stay Sentinel's own: ``High``/``Medium``/``Low``/``Informational``, ``New``/``Active``/``Closed``,
``TruePositive``/``BenignPositive``/``FalsePositive``/``Undetermined``, CamelCase tactics (``InitialAccess``),
ISO 8601 UTC times. The owner is nested (``owner.email`` / ``userPrincipalName`` / ``assignedTo``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.importers.base import RecordError, SourceRecord, as_list, first
from core.importers.jsonfiles import json_records, text_or_none, unique

SOURCE_SYSTEM = "sentinel"
SOURCE_SIEM = "Microsoft Sentinel"

_TYPE_MARKER = re.compile(r'"type"\s*:\s*"Microsoft\.SecurityInsights/incidents"', re.IGNORECASE)
_KEYS = ("incidentNumber", "createdTimeUtc", "lastModifiedTimeUtc", "incidentUrl", "providerIncidentId")


def looks_like(path: Path, head: str) -> bool:
    """Sentinel incidents: the SecurityInsights resource type, or at least two of its property names."""
    if _TYPE_MARKER.search(head):
        return True
    return sum(f'"{key}"' in head for key in _KEYS) >= 2


def parse(path: Path) -> Iterator[SourceRecord | RecordError]:
    """One SourceRecord per Sentinel incident in the file; a RecordError for each one that cannot be read."""
    return json_records(path, unwrap=_incidents, build=_record, what="a Sentinel incident")


def _incidents(location: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and isinstance(value.get("value"), list) and "properties" not in value:
        for index, incident in enumerate(value["value"]):  # an API page
            yield from _incidents(f"{location} value[{index}]", incident)
        return
    if not isinstance(value, dict):
        yield location, RecordError(location, f"expected a JSON object, found {type(value).__name__}")
        return
    props = value.get("properties") if isinstance(value.get("properties"), dict) else value
    if first(props.get("incidentNumber"), value.get("name"), props.get("title")) is None:
        yield location, RecordError(location, "no incidentNumber, name or title: not a Sentinel incident")
        return
    yield location, value


def _owner(owner: Any) -> str | None:
    if isinstance(owner, dict):
        return text_or_none(first(owner.get("email"), owner.get("userPrincipalName"), owner.get("assignedTo")))
    return text_or_none(owner)


def _labels(labels: Any) -> list[str]:
    names = []
    for label in as_list(labels):
        name = label.get("labelName") if isinstance(label, dict) else label
        if first(name) is not None:
            names.append(str(name).strip())
    return unique(names)


def _record(location: str, incident: dict) -> SourceRecord:
    props = incident.get("properties") if isinstance(incident.get("properties"), dict) else incident
    extra = props.get("additionalData") if isinstance(props.get("additionalData"), dict) else {}
    number = first(props.get("incidentNumber"))
    ref = str(number).strip() if number is not None else text_or_none(incident.get("name"))
    status = first(props.get("status"))
    notes: list[str] = []

    reason = text_or_none(props.get("classificationReason"))
    if reason:
        notes.append(f"Classification reason: {reason}")
    labels = _labels(props.get("labels"))
    if labels:
        notes.append(f"Labels: {', '.join(labels)}")
    for key, label in (("firstActivityTimeUtc", "First activity"), ("lastActivityTimeUtc", "Last activity")):
        moment = text_or_none(props.get(key))
        if moment:
            notes.append(f"{label}: {moment}")
    products = as_list(extra.get("alertProductNames"))
    if products:
        notes.append(f"Alert products: {', '.join(map(str, products))}")
    counts = [
        f"{label} {extra[key]}"
        for key, label in (("alertsCount", "alerts"), ("bookmarksCount", "bookmarks"), ("commentsCount", "comments"))
        if first(extra.get(key)) is not None
    ]
    if counts:
        notes.append(f"In Sentinel: {', '.join(counts)}")
    provider = text_or_none(props.get("providerName"))
    provider_ref = text_or_none(props.get("providerIncidentId"))
    if provider and provider.replace(" ", "").lower() != "azuresentinel":
        notes.append(f"Provider: {provider}" + (f" (incident {provider_ref})" if provider_ref else ""))
    url = text_or_none(props.get("incidentUrl"))
    if url:
        notes.append(f"Sentinel: {url}")

    # Sentinel has no close time: lastModifiedTimeUtc is the best reading of it, and only while the incident
    # is Closed (a later edit of a closed incident moves it too, which this cannot tell apart).
    modified = first(props.get("lastModifiedTimeUtc"))
    closed = modified if isinstance(status, str) and status.strip().lower() == "closed" else None
    return SourceRecord(
        location=location,
        source_system=SOURCE_SYSTEM,
        source_ref=ref,
        title=text_or_none(props.get("title")) or f"Sentinel incident {ref}",
        description=text_or_none(props.get("description")) or "",
        severity=first(props.get("severity")),
        status=status,
        classification=first(props.get("classification")),
        resolution=text_or_none(props.get("classificationComment")),
        tactics=[str(t) for t in as_list(extra.get("tactics"))],
        techniques=[str(t) for t in as_list(extra.get("techniques"))],
        source_siem=SOURCE_SIEM,
        assignee=_owner(props.get("owner")),
        created=first(props.get("createdTimeUtc")),
        updated=modified,
        resolved=closed,
        closed=closed,
        notes=notes,
        raw=incident,
    )
