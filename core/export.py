"""CSV and JSON exports of incidents, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from core.incidents import INCIDENT_FIELDS, Incident

#: characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection guidance)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_FIELDS = tuple(name for name in INCIDENT_FIELDS if name != "tenant_id")


def neutralise(cell: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with an apostrophe (and one that already looks
    neutralised, so that `restore` gives it back exactly)."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) or _looks_neutralised(cell) else cell


def _looks_neutralised(cell: str) -> bool:
    return cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_PREFIXES)


def restore(cell: str) -> str:
    """Undo `neutralise` (for importing our own exports)."""
    return cell[1:] if _looks_neutralised(cell) else cell


def _flat(name: str, value) -> str:
    if value is None:
        return ""
    if name == "affected_assets":
        return json.dumps(value, ensure_ascii=False)
    if name == "iocs":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_row(incident: Incident) -> dict[str, str]:
    data = incident.to_dict()
    return {name: neutralise(_flat(name, data[name])) for name in CSV_FIELDS}


def write_csv(incidents: Iterable[Incident], stream: io.TextIOBase) -> int:
    """Write incidents as CSV (lists as JSON text); returns the number of rows."""
    writer = csv.DictWriter(stream, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for incident in incidents:
        writer.writerow(csv_row(incident))
        count += 1
    return count


def write_json(incidents: Iterable[Incident], stream: io.TextIOBase) -> int:
    """Write incidents as a JSON array, one incident at a time; returns the number of rows."""
    stream.write("[")
    count = 0
    for incident in incidents:
        stream.write(",\n" if count else "\n")
        data = incident.to_dict()
        data.pop("tenant_id")
        stream.write(json.dumps(data, ensure_ascii=False))
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count


def export(engine, *, tenant: str, actor: str, writer, filters=None, sort: str = "priority") -> str:
    """Every incident matching `filters`, rendered by `writer` (write_csv or write_json), for a user whose
    role may export (managers); PermissionDeniedError otherwise."""
    from core.auth import authorise
    from core.incidents import IncidentFilter, iter_incidents

    authorise(engine, tenant=tenant, actor=actor, action="export")
    buffer = io.StringIO()
    writer(iter_incidents(engine, tenant=tenant, filters=filters or IncidentFilter(), sort=sort), buffer)
    return buffer.getvalue()
