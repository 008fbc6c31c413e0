"""ServiceNow incident event log (CSV): one row per event, grouped into one SourceRecord per incident.

The input is the audit trail of ServiceNow's ``incident`` table as exported for process mining (the UCI
"Incident management process enriched event log"): a header row naming ServiceNow fields (``number``,
``incident_state``, ``sys_updated_at``, ``opened_at``, ``priority``, ``closed_code``, ...), then one row per
update of an incident. Dates are day-first ``D/M/YYYY HH:MM`` without a zone; ``?`` means empty.

How rows become records:

* Rows of one incident (same ``number``) are contiguous; the parser groups them in one pass and keeps only
  a running summary of the current group (its last row, state changes, event count), never the rows themselves,
  so memory does not grow with the file or with an incident's event count.
* The **last** row of a group (file order) is the incident's current state: status, severity (the raw
  ``priority``), assignee, category fields, resolve/close times.
* ``history`` has one ``(sys_updated_at, incident_state, sys_updated_by)`` per row whose state differs from
  the previous row's (the first row included), so a reopen (Resolved -> Active) is visible.
  ``acknowledged`` is the ``sys_updated_at`` of the first row whose state is not ``New``.
* Everything stays in ServiceNow's vocabulary (``3 - Moderate``, ``Awaiting User Info``, the junk state
  ``-100``, date strings); ``core.importers.normalise`` maps it.

Errors, each a ``RecordError`` after which parsing goes on:

* a row with the wrong number of columns or without a ``number``: its whole incident is skipped (its state
  and history cannot be trusted), or the row alone when it has no readable ``number``;
* an incident ``number`` that reappears after other incidents: the later group is reported, never merged
  into nor duplicated over the first one (remembering the numbers seen costs one small dict entry per
  incident, not per row).

``UnreadableInput`` when the file is missing, is not UTF-8, or its header lacks the ServiceNow columns.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.importers.base import RecordError, SourceRecord, UnreadableInput, first

SOURCE_SYSTEM = "servicenow"
SOURCE_SIEM = "ServiceNow"

# Columns without which a file is not a ServiceNow incident event log.
REQUIRED_COLUMNS = ("number", "incident_state", "opened_at", "sys_updated_at")
# Columns that, together with the required ones, identify the format in looks_like().
_SIGNATURE_COLUMNS = (*REQUIRED_COLUMNS, "sys_updated_by", "priority")

# (label, column) lines of the description, in order; `?` values are left out.
_DESCRIPTION_FIELDS = (
    ("Caller", "caller_id"),
    ("Opened by", "opened_by"),
    ("Location", "location"),
    ("Contact type", "contact_type"),
    ("Assignment group", "assignment_group"),
    ("Configuration item", "cmdb_ci"),
    ("Made SLA", "made_sla"),
    ("Knowledge", "knowledge"),
    ("Priority confirmed", "u_priority_confirmation"),
    ("Notify", "notify"),
    ("Problem", "problem_id"),
    ("Change (RFC)", "rfc"),
    ("Vendor", "vendor"),
    ("Caused by", "caused_by"),
    ("Close code", "closed_code"),
    ("Resolved by", "resolved_by"),
)


def looks_like(path: Path, head: str) -> bool:
    """True when the first line is a CSV header with the ServiceNow event-log columns."""
    line = head.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if "," not in line:
        return False
    try:
        columns = {c.strip().lower() for c in next(csv.reader([line]))}
    except (csv.Error, StopIteration):
        return False
    return all(c in columns for c in _SIGNATURE_COLUMNS)


def parse(path: Path) -> Iterator[SourceRecord | RecordError]:
    """Stream one SourceRecord per incident of a ServiceNow event-log CSV (or a RecordError per bad one)."""
    path = Path(path)
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise UnreadableInput(f"{path}: no such file") from None
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot open: {exc.strerror or exc}") from None
    with handle:
        yield from _parse_stream(handle, path.name)


def _parse_stream(handle, name: str) -> Iterator[SourceRecord | RecordError]:
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise UnreadableInput(f"{name}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise UnreadableInput(f"{name}: not a readable CSV file ({exc})") from None
    if header is None:
        raise UnreadableInput(f"{name}: the file is empty")
    columns = [c.strip() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise UnreadableInput(
            f"{name}: not a ServiceNow incident event log: the header lacks {', '.join(missing)} "
            f"(found {', '.join(columns[:8])}{'...' if len(columns) > 8 else ''})"
        )
    width = len(columns)
    number_at = columns.index("number")

    seen: dict[str, int] = {}  # number -> line of its group's first row (to report a reappearing number)
    group: _Group | None = None
    previous_end = reader.line_num  # physical line of the end of the previous row
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except UnicodeDecodeError as exc:
            raise UnreadableInput(
                f"{name}: not UTF-8 text after line {previous_end} ({exc.reason}); the records before it were read"
            ) from None
        except csv.Error as exc:
            # A broken quote or a NUL byte: the reader cannot resynchronise reliably, so stop here.
            raise UnreadableInput(f"{name}:{previous_end + 1}: CSV syntax error ({exc})") from None
        line = previous_end + 1
        previous_end = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line

        number = row[number_at].strip() if len(row) > number_at else ""
        bad = f"line {line} has {len(row)} columns, the header {width}" if len(row) != width else None
        if not number:
            # A row without a number cannot be attributed to any incident: report it alone.
            yield RecordError(f"{name}:{line}", f"{bad or f'line {line} has no incident number'}; row skipped")
            continue

        if group is None or number != group.number:
            if group is not None:
                yield group.result()
            first_line = seen.get(number)
            group = _Group(name, number, line, columns, reappears_after=first_line)
            if first_line is None:
                seen[number] = line
        group.add(row, line, bad)
    if group is not None:
        yield group.result()


class _Group:
    """The running summary of one incident's rows (never the rows themselves)."""

    def __init__(self, name: str, number: str, line: int, columns: list[str], reappears_after: int | None):
        self.name = name
        self.number = number
        self.line = line
        self.columns = columns
        self.reappears_after = reappears_after
        self.count = 0
        self.last: dict[str, str] | None = None
        self.history: list[tuple[Any, Any, str | None]] = []
        self.acknowledged: str | None = None
        self.previous_state: str | None = None
        self.bad: str | None = None

    @property
    def location(self) -> str:
        return f"{self.name}:{self.line} ({self.number})"

    def add(self, row: list[str], line: int, bad: str | None) -> None:
        self.count += 1
        if bad is not None or self.bad is not None or self.reappears_after is not None:
            if self.bad is None:
                self.bad = bad
            return
        values = dict(zip(self.columns, row, strict=True))
        self.last = values
        state = values["incident_state"]
        if self.count == 1 or state != self.previous_state:
            self.history.append((first(values["sys_updated_at"]), state, first(values.get("sys_updated_by"))))
        if self.acknowledged is None and first(state) is not None and state.strip().lower() != "new":
            self.acknowledged = first(values["sys_updated_at"])
        self.previous_state = state

    def result(self) -> SourceRecord | RecordError:
        if self.reappears_after is not None:
            return RecordError(
                self.location,
                f"incident {self.number} reappears after other incidents (its first rows start at line "
                f"{self.reappears_after}); these {self.count} rows are not merged into it",
            )
        if self.bad is not None:
            return RecordError(self.location, f"{self.bad}; the incident's {self.count} rows are skipped")
        return _record(self.location, self.number, self.last, self.count, self.history, self.acknowledged)


def _value(row: dict[str, str], column: str) -> str | None:
    """The column's value, stripped, or None when absent, empty or a placeholder such as `?`."""
    value = first(row.get(column))
    return " ".join(value.split()) if isinstance(value, str) else value


def _title(number: str, last: dict[str, str]) -> str:
    parts = [p for p in (_value(last, "category"), _value(last, "subcategory")) if p]
    title = f"ServiceNow {number}"
    if parts:
        title += ": " + " / ".join(parts)
    symptom = _value(last, "u_symptom")
    if symptom:
        title += f" ({symptom})" if parts else f": {symptom}"
    return title


def _description(last: dict[str, str], count: int) -> str:
    lines = ["Imported from a ServiceNow incident event log."]
    for label, column in _DESCRIPTION_FIELDS:
        value = _value(last, column)
        if value is not None:
            lines.append(f"{label}: {value}")
    grading = [f"{c} {_value(last, c)}" for c in ("impact", "urgency", "priority") if _value(last, c)]
    if grading:
        lines.append("Grading: " + ", ".join(grading))
    counts = [
        f"{label} {_value(last, c)}"
        for label, c in (("reassignments", "reassignment_count"), ("reopens", "reopen_count"))
        if _value(last, c) is not None
    ]
    counts.append(f"events in the log {count}")
    lines.append("Counts: " + ", ".join(counts))
    return "\n".join(lines)


def _record(
    location: str,
    number: str,
    last: dict[str, str],
    count: int,
    history: list[tuple[Any, Any, str | None]],
    acknowledged: str | None,
) -> SourceRecord:
    state = last["incident_state"].strip()
    close_code = _value(last, "closed_code")
    resolution = None
    if close_code:
        resolution = f"Closed in ServiceNow with close code {close_code}"
        resolved_by = _value(last, "resolved_by")
        if resolved_by:
            resolution += f" by {resolved_by}"
    resolved, closed = first(last.get("resolved_at")), first(last.get("closed_at"))
    notes = []
    if (resolved or closed) and state.lower() not in ("resolved", "closed"):
        given = [n for n, v in (("resolved_at", resolved), ("closed_at", closed)) if v]
        notes.append(
            f"the event log ends at state {state!r} although {' and '.join(given)} "
            f"{'are' if len(given) > 1 else 'is'} given (this log knows an incident's resolve and close times "
            "from its first rows)"
        )
    raw = {k: v for k, v in last.items() if first(v) is not None}
    raw["event_count"] = count
    cmdb_ci = _value(last, "cmdb_ci")
    return SourceRecord(
        location=location,
        source_system=SOURCE_SYSTEM,
        source_ref=number,
        title=_title(number, last),
        description=_description(last, count),
        severity=first(last.get("priority")),
        status=first(state),
        resolution=resolution,
        source_siem=SOURCE_SIEM,
        assignee=_value(last, "assigned_to"),
        assets=[cmdb_ci] if cmdb_ci else [],
        created=first(last.get("opened_at")),
        acknowledged=acknowledged,
        resolved=resolved,
        closed=closed,
        updated=first(last.get("sys_updated_at")),
        history=history,
        notes=notes,
        raw=raw,
        dayfirst=True,
    )
