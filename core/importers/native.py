"""Our own CSV and JSON (what the dashboard and `incidents list --format csv|json` export).

CSV from spreadsheets works: a UTF-8 byte-order mark, `,`, `;` or tab delimiters, quoted newlines, and cells
neutralised against formula injection on export (a leading apostrophe) are restored. Incidents made here
keep their id and are matched on re-import by it (source system "threatops"); imported ones keep their
original source reference; a row with neither (new incidents typed into a spreadsheet) is matched by a hash
of its title, creation time, source and severity.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from core.export import CSV_FIELDS, restore
from core.importers.base import RecordError, SourceRecord, UnreadableInput, first
from core.importers.jsonfiles import json_records

SOURCE = "threatops"
csv.field_size_limit(min(sys.maxsize, 64 * 1024 * 1024))  # descriptions can be long; the default is 128 KiB


def _header(text: str) -> tuple[str, list[str]]:
    """The first line's delimiter (the most frequent of , ; and tab) and its cells."""
    line = text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    delimiter = max(",;\t", key=line.count)
    return delimiter, [cell.strip().strip('"') for cell in line.split(delimiter)]


def looks_like_csv(path: Path, head: str) -> bool:
    return {"title", "severity"} <= set(_header(head)[1])


def looks_like_json(path: Path, head: str) -> bool:
    text = head.lstrip("\ufeff").lstrip()
    return text.startswith(("[", "{")) and '"title"' in text[:4000] and '"severity"' in text[:4000]


def _lines(value) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value)
    except ValueError:
        return [part.strip() for part in str(value).replace("\n", ";").split(";") if part.strip()]
    return parsed if isinstance(parsed, list) else [parsed]


def _record(row: dict, location: str) -> SourceRecord:
    row = {k.strip().lstrip("\ufeff"): restore(v) if isinstance(v, str) else v for k, v in row.items() if k}
    incident_id = first(row.get("id"))
    system = first(row.get("source_system")) or SOURCE
    ref = first(row.get("source_ref")) or incident_id or _content_ref(row)
    return SourceRecord(
        location=location,
        source_system=str(system),
        source_ref=None if ref is None else str(ref),
        title=first(row.get("title")),
        description=row.get("description") or "",
        severity=first(row.get("severity")),
        status=first(row.get("status")),
        classification=first(row.get("classification")),
        resolution=first(row.get("resolution")),
        tactics=[row["mitre_tactic"]] if first(row.get("mitre_tactic")) else [],
        techniques=[row["mitre_technique"]] if first(row.get("mitre_technique")) else [],
        source_siem=first(row.get("source_siem")),
        assignee=first(row.get("assigned_to")),
        assets=_lines(row.get("affected_assets")),
        iocs=_lines(row.get("iocs")),
        created=first(row.get("created_at")),
        acknowledged=first(row.get("acknowledged_at")),
        resolved=first(row.get("resolved_at")),
        closed=first(row.get("closed_at")),
        updated=first(row.get("updated_at")),
        raw={k: v for k, v in row.items() if k in CSV_FIELDS or k in ("source_system", "source_ref")},
        incident_id=str(incident_id) if incident_id and system == SOURCE else None,
    )


def _content_ref(row: dict) -> str | None:
    """A stable reference for a row without an id (a spreadsheet of new incidents), so a re-import of the
    same file finds the same incidents."""
    key = "|".join(str(row.get(name) or "") for name in ("title", "created_at", "source_siem", "severity"))
    return "sha1:" + hashlib.sha1(key.encode()).hexdigest()[:16] if first(row.get("title")) else None


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableInput(f"cannot read {path}: {exc}") from None


def parse_csv(path: Path) -> Iterator[SourceRecord | RecordError]:
    text = _read_text(path)
    delimiter, _ = _header(text)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if not reader.fieldnames or "title" not in [f.strip().lstrip("\ufeff") for f in reader.fieldnames]:
        raise UnreadableInput(f"{path.name}: not an incidents CSV (no 'title' column in the header)")
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # the CSV itself is broken from here on
            raise UnreadableInput(f"{path.name}:{reader.line_num}: {exc}") from None
        location = f"{path.name}:{reader.line_num}"
        if None in row:  # more cells than the header has
            yield RecordError(location, f"{len(row[None])} more cells than the header has columns")
            continue
        yield _record(row, location)


def parse_json(path: Path) -> Iterator[SourceRecord | RecordError]:
    """A JSON array of incidents (our export), an object holding them under "incidents", or NDJSON."""
    return json_records(path, unwrap=_incidents, build=_from_json, what="an incident")


def _incidents(location: str, value) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict) and isinstance(value.get("incidents"), list):
        for index, element in enumerate(value["incidents"]):
            yield from _incidents(f"{location}[{index}]", element)
    elif not isinstance(value, dict):
        yield location, RecordError(location, "not a JSON object")
    else:
        yield location, value


def _from_json(location: str, row: dict) -> SourceRecord:
    return _record(row, location + (f" ({row['id']})" if row.get("id") else ""))
