"""What every source parser produces: one SourceRecord per incident, in the source's own vocabulary.

A parser only reads and extracts; `core.importers.normalise` is the one place that turns vendors' severities,
statuses, classifications, tactics, technique ids and times into ours, and `core.importers.writer` the one
that writes them through the service's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RecordError(Exception):
    """One record could not be imported; the rest go on. `location` says where (file:line or record id)."""

    def __init__(self, location: str, reason: str):
        self.location = location
        self.reason = reason
        super().__init__(f"{location}: {reason}")


class UnreadableInput(Exception):
    """The input as a whole cannot be read (missing file, wrong format, not UTF-8...): exit code 2."""


@dataclass
class SourceRecord:
    """One incident as a source describes it. Values are the source's own (raw) unless said otherwise."""

    location: str  # where the record is, for messages: "incidents.ndjson:3", "notable.json (notable 1234)"
    source_system: str  # our key for the source: cortex_xdr, sentinel, defender, splunk_es, servicenow, veris...
    source_ref: str | None  # the source's own id of the incident (with source_system: unique per tenant)
    title: str | None
    description: str = ""
    severity: Any = None  # e.g. "low", "High", 3, "1 - Critical"
    status: Any = None  # e.g. "resolved_false_positive", "Closed", "Awaiting User Info"
    classification: Any = None  # e.g. "FalsePositive", "truePositive"
    resolution: str | None = None  # resolve comment, closing notes
    tactics: list[str] = field(default_factory=list)  # any spelling: "TA0010 - Exfiltration", "InitialAccess"
    techniques: list[str] = field(default_factory=list)  # strings containing ids: "T1048 - Exfiltration ..."
    source_siem: str | None = None  # the product name shown to analysts, e.g. "Palo Alto Cortex XDR"
    assignee: str | None = None  # e-mail, user name or display name as the source gives it
    assets: list[str] = field(default_factory=list)  # host, user, app names, cleaned of agent ids etc.
    iocs: list[Any] = field(default_factory=list)  # str (type detected) or {"type": ..., "value": ...}
    created: Any = None  # times: epoch s/ms/ns (int or digit string), ISO 8601 strings, datetimes
    acknowledged: Any = None
    resolved: Any = None
    closed: Any = None
    updated: Any = None
    history: list[tuple[Any, Any, str | None]] = field(default_factory=list)  # (time, source status, actor)
    comments: list[tuple[Any, str | None, str]] = field(default_factory=list)  # (time, author, text)
    notes: list[str] = field(default_factory=list)  # facts that fit no field, kept visible in the description
    raw: dict | None = None  # the original record, kept with the incident for audit
    dayfirst: bool = False  # naive date strings are day-first (ServiceNow: D/M/YYYY HH:MM)
    incident_id: str | None = None  # our own exports only: the id to keep


def first(*values: Any) -> Any:
    """The first value that is not None, '' or a placeholder such as '?', 'Unknown', 'NA'."""
    for value in values:
        if value is None:
            continue
        if isinstance(value, str) and value.strip().lower() in ("", "?", "unknown", "na", "n/a", "none", "null"):
            continue
        return value
    return None


def as_list(value: Any) -> list:
    """Sources give one value or a list of them for the same field: always a list, without empties."""
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [v for v in values if first(v) is not None]
