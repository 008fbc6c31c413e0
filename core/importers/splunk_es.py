"""Splunk Enterprise Security notable events.

A file holds one notable (a JSON object), a list of them, or one a line (NDJSON); search-API wrappers
``{"result": {...}}`` and ``{"results": [...]}`` are unwrapped.

What Splunk gives, and how it is passed on (in Splunk's own vocabulary):

* Fields are a string or a list of strings for the same key, depending on the event: read with `as_list`/`first`.
* Masked values (``xxx``, ``xxx.xxx.x.x``, ``XXXXXXXX-XXXX-...``) are not values: never IOCs, assets or ids.
* ``status`` is a number as a string (``"1"``) with ``status_label`` (``New``): the label is passed as the
  status, the number stays in the raw record (and is the fallback when there is no label).
* ``urgency`` (ES's priority-weighted severity) is passed as the severity, falling back to ``severity``.
* ``disposition_label`` (``True Positive - Suspicious Activity``, ``False Positive - Inaccurate Data``...) is the
  classification, unless ``disposition_default`` is ``true`` (ES's "not set yet" ``Undetermined``).
* Times: ``_time`` (ISO 8601) is the notable's creation, falling back to ``time``/``event_time``/``_indextime``
  (epoch strings); ``orig_time`` (the original event's time) goes into the notes.
* ATT&CK from the ``annotations.mitre_attack*`` fields (flat keys, or a nested / JSON-string ``annotations``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.importers.base import RecordError, SourceRecord, as_list, first
from core.importers.jsonfiles import json_records, unique

SOURCE_SYSTEM = "splunk_es"
SOURCE_SIEM = "Splunk ES"  # as the demo, the dashboard and SOAR playbooks name it

_KEYS = (
    "status_label",
    "urgency",
    "rule_title",
    "rule_name",
    "search_name",
    "event_id",
    "notable_type",
    "security_domain",
    "disposition_label",
    "orig_sid",
)
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")
_PLACEHOLDERS = ("unassigned", "unknown", "none", "null", "n/a", "-")
_TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.:]*)\$")

# Where hosts and users are, besides what the notable's extract_artifacts names.
_HOST_FIELDS = ("dest", "dest_host", "dest_dns", "dest_nt_host", "src", "src_host", "src_dns", "src_nt_host")
_USER_FIELDS = ("user", "src_user", "dest_user")
_IP_FIELDS = ("src_ip", "dest_ip")
_HASH_FIELDS = ("file_hash", "file_hashes", "hash", "md5", "sha1", "sha256", "file_md5", "file_sha1", "file_sha256")
_URL_FIELDS = ("url",)
_FILENAME_FIELDS = ("file_name",)
_DOMAIN_FIELDS = ("dest_domain", "src_domain", "query")


def looks_like(path: Path, head: str) -> bool:
    """Splunk ES notables: at least three of the notable's own field names."""
    return sum(f'"{key}"' in head for key in _KEYS) >= 3


def is_masked(value: Any) -> bool:
    """A value hidden by masking: 'xxx', 'xxx.xxx.x.x', 'XXXXXXXX-XXXX', 'root:xxx' (any run of 3+ x's), '???'."""
    text = str(value).strip()
    runs = _ALNUM_RUN.findall(text)
    if not runs:
        return True  # nothing but punctuation: '???', '-'
    masked = [run for run in runs if set(run.lower()) == {"x"}]
    return len(masked) == len(runs) or any(len(run) >= 3 for run in masked)


def _values(event: dict, key: str) -> list[str]:
    """The field's values as stripped strings, without empties, placeholders or masked values."""
    out = []
    for value in as_list(event.get(key)):
        if isinstance(value, dict | list):
            continue
        text = str(value).strip()
        if text and text.lower() not in _PLACEHOLDERS and not is_masked(text):
            out.append(text)
    return out


def _one(event: dict, *keys: str) -> str | None:
    for key in keys:
        values = _values(event, key)
        if values:
            return values[0]
    return None


def _expand(text: str | None, event: dict) -> str | None:
    """ES writes "$dest$"-style tokens into rule titles and descriptions: fill them from the event's fields
    (the first value; a missing or masked field leaves the token as it is)."""
    if not text:
        return text
    return _TOKEN.sub(lambda m: _one(event, m.group(1)) or m.group(0), text)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


def parse(path: Path) -> Iterator[SourceRecord | RecordError]:
    """One SourceRecord per notable event in the file; a RecordError for each one that cannot be read."""
    return json_records(path, unwrap=_events, build=_record, what="a Splunk ES notable")


def _events(location: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and isinstance(value.get("results"), list):  # search API: a page of results
        for index, event in enumerate(value["results"]):
            yield from _events(f"{location} results[{index}]", event)
        return
    if isinstance(value, dict) and isinstance(value.get("result"), dict):  # export API: one result a line
        value = value["result"]
    if not isinstance(value, dict):
        yield location, RecordError(location, f"expected a JSON object, found {type(value).__name__}")
        return
    if _one(value, "event_id", "rule_id", "_cd", "rule_title", "rule_name", "search_name") is None:
        yield location, RecordError(location, "no event_id, rule_id, _cd or rule name: not a Splunk ES notable")
        return
    yield location, value


def _artifact_fields(event: dict) -> tuple[list[str], list[str]]:
    """The asset and identity field names the notable's extract_artifacts names (a JSON string or object)."""
    spec = first(event.get("extract_artifacts"))
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError:
            return [], []
    if not isinstance(spec, dict):
        return [], []
    return (
        [str(f) for f in as_list(spec.get("asset")) if isinstance(f, str)],
        [str(f) for f in as_list(spec.get("identity")) if isinstance(f, str)],
    )


def _mitre(event: dict) -> tuple[list[str], list[str]]:
    """(tactics, techniques) from annotations.mitre_attack*: flat keys, a nested dict, or a JSON string."""
    annotations = event.get("annotations")
    if isinstance(annotations, str):
        try:
            annotations = json.loads(annotations)
        except json.JSONDecodeError:
            annotations = None
    flat: dict[str, Any] = {k: v for k, v in event.items() if k.startswith("annotations.mitre_attack")}
    if isinstance(annotations, dict):
        nested = annotations.get("mitre_attack")
        if isinstance(nested, dict):
            flat.update({f"annotations.mitre_attack.{k}": v for k, v in nested.items()})
        elif nested is not None:
            flat.setdefault("annotations.mitre_attack", nested)
        for key, value in annotations.items():
            if key.startswith("mitre_attack."):
                flat.setdefault(f"annotations.{key}", value)
    techniques = _values(flat, "annotations.mitre_attack") + _values(
        flat, "annotations.mitre_attack.mitre_technique_id"
    )
    tactics = _values(flat, "annotations.mitre_attack.mitre_tactic_id") or _values(
        flat, "annotations.mitre_attack.mitre_tactic"
    )
    return unique(tactics), unique(techniques)


def _record(location: str, event: dict) -> SourceRecord:
    ref = _one(event, "event_id", "rule_id", "_cd")
    title = _expand(_one(event, "rule_title", "rule_name", "search_name"), event) or f"Splunk ES notable {ref}"
    notes: list[str] = []

    rule_description = _expand(_one(event, "rule_description", "savedsearch_description"), event)
    event_description = _one(event, "description")
    description = rule_description or event_description or ""
    if event_description and event_description != description:
        notes.append(f"Event: {event_description}")
    signature = _one(event, "signature")
    if signature and signature not in (description, event_description):
        notes.append(f"Signature: {signature}")

    urgency = _one(event, "urgency")
    event_severity = _one(event, "severity")
    if urgency and event_severity and urgency.lower() != event_severity.lower():
        notes.append(f"event severity: {event_severity}")
    search_name = _one(event, "search_name")
    if search_name and search_name != title:
        notes.append(f"Correlation search: {search_name}")
    domain = _one(event, "security_domain")
    if domain:
        notes.append(f"Security domain: {domain}")
    orig_time = _one(event, "orig_time")
    if orig_time:
        notes.append(f"Original event time (epoch s): {orig_time}")
    risk = [
        f"{key.removesuffix('_risk_score')} {value}"
        for key in event
        if key.endswith("_risk_score")
        if (value := _one(event, key)) and value != "0"
    ]
    if _one(event, "risk_score"):
        risk.insert(0, f"total {_one(event, 'risk_score')}")
    if risk:
        notes.append(f"Risk scores: {', '.join(risk)}")

    asset_fields, identity_fields = _artifact_fields(event)
    assets: list[str] = []
    iocs: list[Any] = []
    for key in unique(list(_HOST_FIELDS) + asset_fields):
        for value in _values(event, key):
            (iocs if _is_ip(value) else assets).append(value)
    for key in unique(list(_USER_FIELDS) + identity_fields):
        assets.extend(_values(event, key))
    for key in _IP_FIELDS:
        iocs.extend(_values(event, key))
    for key in _HASH_FIELDS + _URL_FIELDS:
        iocs.extend(_values(event, key))
    for key in _FILENAME_FIELDS:
        iocs.extend({"type": "filename", "value": v} for v in _values(event, key))
    for key in _DOMAIN_FIELDS:
        iocs.extend({"type": "domain", "value": v} for v in _values(event, key) if not _is_ip(v))

    comments = []
    comment = _one(event, "comment")
    if comment:
        comments.append((_one(event, "review_time"), _one(event, "reviewer"), comment))

    # A notable has no close time; when its status is an end status (status_end), the last review set it.
    reviewed = _one(event, "review_time")
    ended = _one(event, "status_end") == "true"
    status = _one(event, "status_label") or _one(event, "status")
    # ES sets every new notable to "Undetermined" with disposition_default "true": that is no classification yet.
    classification = None if _one(event, "disposition_default") == "true" else _one(event, "disposition_label")
    tactics, techniques = _mitre(event)
    return SourceRecord(
        location=location,
        source_system=SOURCE_SYSTEM,
        source_ref=ref,
        title=title,
        description=description,
        severity=urgency or event_severity,
        status=status,
        classification=classification,
        tactics=tactics,
        techniques=techniques,
        source_siem=SOURCE_SIEM,
        assignee=_one(event, "owner"),
        assets=unique(assets),
        iocs=unique(iocs),
        created=_one(event, "_time", "time", "event_time", "_indextime"),
        updated=reviewed,
        resolved=reviewed if ended else None,
        closed=reviewed if ended and str(status).lower() == "closed" else None,
        comments=comments,
        notes=notes,
        raw=event,
    )
