"""Palo Alto Cortex XDR incidents, as the incidents API returns them, one JSON value a line (NDJSON).

A line is an incident, or an API envelope ``{"reply": {"incidents": [...], "result_count": ...}}`` whose
incidents are imported too (an empty envelope yields nothing), or ``{"reply": {"incident": {...}}}`` (the
get_incident_extra_data shape). A JSON document holding one such value or a list of them is read as well.

Values stay Cortex's own: epoch-millisecond times, ``new`` / ``under_investigation`` /
``resolved_false_positive`` statuses (the normaliser derives the classification from ``resolved_*``), MITRE as
``"TA0010 - Exfiltration"`` / ``"T1048 - ..."`` strings (lists, possibly null). Hosts come as
``name:agentid`` and are kept as the name.

This module also holds `iter_json_values`, the JSON/NDJSON reader the other vendor parsers share.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.importers.base import RecordError, SourceRecord, as_list, first
from core.importers.jsonfiles import json_records, short_title, text_or_none, unique

SOURCE_SYSTEM = "cortex_xdr"
SOURCE_SIEM = "Palo Alto Cortex XDR"

# Keys that only Cortex XDR incidents carry (with "incident_id"), or its API envelope.
_MARKERS = re.compile(
    r'"(?:xdr_url|incident_sources|mitre_tactics_ids_and_names|mitre_techniques_ids_and_names|'
    r'assigned_user_pretty_name|resolve_comment|alerts_grouping_status)"\s*:'
)
_ENVELOPE = re.compile(r'"reply"\s*:\s*\{\s*"incidents?"\s*:')
_AGENT_ID = re.compile(r"^(?P<name>.+?):[0-9A-Fa-f]{16,}$")
_QUOTED = re.compile(r"'([^']+)'")


# ------------------------------------------------------------------------------------------ detection


def looks_like(path: Path, head: str) -> bool:
    """Cortex XDR incidents: "incident_id" with a key only Cortex uses, or the API's reply envelope."""
    if _ENVELOPE.search(head):
        return True
    return '"incident_id"' in head and _MARKERS.search(head) is not None


# ------------------------------------------------------------------------------------------ parsing


def parse(path: Path) -> Iterator[SourceRecord | RecordError]:
    """One SourceRecord per Cortex XDR incident in the file; a RecordError for each one that cannot be read."""
    return json_records(path, unwrap=_incidents, build=_record, what="a Cortex XDR incident")


def _incidents(location: str, value: Any) -> Iterator[tuple[str, Any]]:
    """The incidents a JSON value holds: an incident, or an API envelope's reply.incidents / reply.incident."""
    if not isinstance(value, dict):
        yield location, RecordError(location, f"expected a JSON object, found {type(value).__name__}")
        return
    if "reply" in value and "incident_id" not in value:
        reply = value["reply"]
        if isinstance(reply, dict) and isinstance(reply.get("incidents"), list):
            for index, incident in enumerate(reply["incidents"]):
                where = f"{location} reply.incidents[{index}]"
                if isinstance(incident, dict):
                    yield where, incident
                else:
                    yield where, RecordError(where, f"expected a JSON object, found {type(incident).__name__}")
            return
        if isinstance(reply, dict) and isinstance(reply.get("incident"), dict):
            yield f"{location} reply.incident", reply["incident"]
            return
        yield location, RecordError(location, "API envelope without reply.incidents or reply.incident")
        return
    if first(value.get("incident_id")) is None:
        yield location, RecordError(location, "no incident_id: not a Cortex XDR incident")
        return
    yield location, value


def host_name(host: Any) -> str | None:
    """'computer1:7a7370f8934c4e60b1e7dc5d0c8b0477' -> 'computer1' (the agent id dropped)."""
    text = text_or_none(host)
    if text is None:
        return None
    match = _AGENT_ID.match(text)
    return match.group("name") if match else text


def _title(incident: dict, description: str | None, ref: str) -> str:
    name = text_or_none(incident.get("incident_name"))
    if name:
        return name
    if description:
        # "2 'Large Upload (Generic)' alerts detected by ..." -> the first alert name
        quoted = _QUOTED.search(description)
        return short_title(quoted.group(1) if quoted else description)
    return f"Cortex XDR incident {ref}"


def _record(location: str, incident: dict) -> SourceRecord:
    ref = str(incident["incident_id"]).strip()
    notes: list[str] = []

    generated = text_or_none(incident.get("description"))
    manual = text_or_none(incident.get("manual_description"))
    description = manual or generated or ""
    if manual and generated and manual != generated:
        notes.append(f"Cortex XDR description: {generated}")
    analyst_notes = text_or_none(incident.get("notes"))
    if analyst_notes:
        description = f"{description}\n\nNotes: {analyst_notes}" if description else analyst_notes

    severity = first(incident.get("manual_severity"), incident.get("severity"))
    computed = first(incident.get("severity"))
    if first(incident.get("manual_severity")) is not None and computed is not None and computed != severity:
        notes.append(f"severity set by an analyst (Cortex XDR computed: {computed})")

    sources = as_list(incident.get("incident_sources"))
    if sources:
        notes.append(f"Incident sources: {', '.join(map(str, sources))}")
    alert_count = first(incident.get("alert_count"))
    if alert_count is not None:
        by_severity = [
            f"{count} {label}"
            for key, label in (
                ("critical_severity_alert_count", "critical"),
                ("high_severity_alert_count", "high"),
                ("med_severity_alert_count", "medium"),
                ("low_severity_alert_count", "low"),
            )
            if (count := first(incident.get(key)))
        ]
        notes.append(f"Alerts: {alert_count}" + (f" ({', '.join(by_severity)})" if by_severity else ""))
    categories = as_list(incident.get("alert_categories"))
    if categories:
        notes.append(f"Alert categories: {', '.join(map(str, categories))}")
    score = first(incident.get("manual_score"), incident.get("aggregated_score"))
    if score is not None:
        notes.append(f"Cortex XDR score: {score}")
    if first(incident.get("wildfire_hits")):
        notes.append(f"WildFire hits: {incident['wildfire_hits']}")
    if incident.get("starred") is True:
        notes.append("starred in Cortex XDR")
    tags = as_list(incident.get("tags")) or as_list(incident.get("original_tags"))
    if tags:
        notes.append(f"Tags: {', '.join(map(str, tags))}")
    url = text_or_none(incident.get("xdr_url"))
    if url:
        notes.append(f"Cortex XDR: {url}")

    hosts = [host_name(h) for h in as_list(incident.get("hosts"))]
    users = [text_or_none(u) for u in as_list(incident.get("users"))]
    return SourceRecord(
        location=location,
        source_system=SOURCE_SYSTEM,
        source_ref=ref,
        title=_title(incident, generated or manual, ref),
        description=description,
        severity=severity,
        status=first(incident.get("status")),
        classification=None,  # the normaliser reads it from the resolved_* status
        resolution=text_or_none(incident.get("resolve_comment")),
        tactics=[str(t) for t in as_list(incident.get("mitre_tactics_ids_and_names"))],
        techniques=[str(t) for t in as_list(incident.get("mitre_techniques_ids_and_names"))],
        source_siem=SOURCE_SIEM,
        assignee=text_or_none(first(incident.get("assigned_user_mail"), incident.get("assigned_user_pretty_name"))),
        assets=unique([a for a in hosts + users if a]),
        created=first(incident.get("creation_time")),
        updated=first(incident.get("modification_time")),
        resolved=first(incident.get("resolved_timestamp")),
        notes=notes,
        raw=incident,
    )
