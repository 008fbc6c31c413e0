"""The ServiceNow event-log parser: grouping rows into incidents in one pass, the fields of each SourceRecord,
the state history, errors, format detection, and the real 120,000-row log (time and peak memory)."""

from __future__ import annotations

import csv
import inspect
import itertools
import time
import tracemalloc
from pathlib import Path

import pytest

from core.importers import servicenow
from core.importers.base import RecordError, SourceRecord, UnreadableInput
from tests.conftest import skip_or_fail

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "imports" / "servicenow_small.csv"
REALDATA = Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
REAL_LOG = REALDATA / "servicenow" / "incident_event_log.csv"

HEADER = FIXTURE.read_text(encoding="utf-8").split("\n", 1)[0]
COLUMNS = HEADER.split(",")


def head(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(65536).decode("utf-8", errors="replace")


def read(path: Path) -> tuple[dict[str, SourceRecord], list[RecordError]]:
    records: dict[str, SourceRecord] = {}
    errors: list[RecordError] = []
    for item in servicenow.parse(path):
        if isinstance(item, RecordError):
            errors.append(item)
        else:
            assert item.source_ref not in records, f"{item.source_ref} yielded twice"
            records[item.source_ref] = item
    return records, errors


def row(number: str, state: str, updated_at: str, **values: str) -> list[str]:
    """One event row of a made-up incident, `?` where not given."""
    base = {c: "?" for c in COLUMNS}
    base.update(number=number, incident_state=state, sys_updated_at=updated_at, opened_at="1/2/2026 08:00")
    base.update(values)
    return [base[c] for c in COLUMNS]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def fixture_result() -> tuple[dict[str, SourceRecord], list[RecordError]]:
    return read(FIXTURE)


# --- the shipped fixture --------------------------------------------------------------------------------


def test_fixture_groups_rows_into_incidents_and_reports_the_bad_ones(fixture_result):
    records, errors = fixture_result
    assert list(records) == ["INC0100001", "INC0100002", "INC0100003", "INC0100005"]
    assert [(e.location, e.reason.split(";")[0]) for e in errors] == [
        ("servicenow_small.csv:17 (INC0100004)", "line 18 has 35 columns, the header 36"),
        ("servicenow_small.csv:24", "line 24 has no incident number"),
        (
            "servicenow_small.csv:25 (INC0100001)",
            "incident INC0100001 reappears after other incidents (its first rows start at line 2)",
        ),
    ]
    assert "3 rows are skipped" in errors[0].reason
    assert "not merged" in errors[2].reason


def test_simple_incident_takes_its_current_state_from_the_last_row(fixture_result):
    record = fixture_result[0]["INC0100001"]
    assert record.location == "servicenow_small.csv:2 (INC0100001)"
    assert (record.source_system, record.source_ref, record.source_siem) == ("servicenow", "INC0100001", "ServiceNow")
    assert record.title == "ServiceNow INC0100001: Category 10 / Subcategory 20 (Symptom 30)"
    assert (record.severity, record.status) == ("3 - Moderate", "Closed")
    assert record.dayfirst is True
    assert record.created == "1/3/2026 09:02"
    assert record.acknowledged == "1/3/2026 10:40"  # the first row whose state is not New
    assert (record.resolved, record.closed, record.updated) == ("1/3/2026 10:40", "6/3/2026 11:00", "6/3/2026 11:00")
    assert record.assignee == "Resolver 5"
    assert record.resolution == "Closed in ServiceNow with close code code 1 by Resolved by 5"
    assert record.history == [
        ("1/3/2026 09:05", "New", "Updated by 1"),
        ("1/3/2026 10:40", "Resolved", "Updated by 2"),
        ("6/3/2026 11:00", "Closed", "Updated by 908"),
    ]
    assert record.assets == []  # cmdb_ci is `?`
    assert (record.tactics, record.techniques, record.iocs, record.notes) == ([], [], [], [])


def test_reopen_is_visible_in_the_history(fixture_result):
    record = fixture_result[0]["INC0100002"]
    assert [status for _, status, _ in record.history] == [
        "New",
        "Active",
        "Resolved",
        "Active",  # reopened
        "Awaiting User Info",
        "Active",
        "Resolved",
        "Closed",
    ]
    assert record.history[3] == ("4/3/2026 09:15", "Active", "Updated by 12")
    assert record.acknowledged == "2/3/2026 08:30"
    assert record.assignee == "Resolver 9"  # the last row's, not the first assignee's
    assert record.severity == "2 - High"
    assert record.assets == ["Server 12"]
    assert record.title == "ServiceNow INC0100002: Category 11 / Subcategory 21"  # symptom `?` left out
    lines = record.description.splitlines()
    assert "Location: Location 7, Building B" in lines  # a quoted field with a comma
    assert "Assignment group: Group 9" in lines
    assert "Grading: impact 1 - High, urgency 2 - Medium, priority 2 - High" in lines
    assert "Counts: reassignments 1, reopens 1, events in the log 8" in lines
    assert "Made SLA: false" in lines
    assert not any("?" in line for line in lines)


def test_same_state_rows_add_no_history_and_awaiting_states_pass_raw(fixture_result):
    record = fixture_result[0]["INC0100003"]
    assert record.status == "Awaiting Problem"
    assert record.severity == "1 - Critical"
    assert [status for _, status, _ in record.history] == ["New", "Awaiting Vendor", "Awaiting Problem"]
    assert record.history[1] == ("10/3/2026 07:00", "Awaiting Vendor", "Updated by 16")
    assert record.acknowledged == "10/3/2026 07:00"
    assert (record.resolved, record.closed, record.resolution) == (None, None, None)
    assert record.updated == "13/3/2026 12:30"
    assert record.assignee == "Resolver Zoë"
    assert record.title == "ServiceNow INC0100003: Symptom 31"  # category and subcategory are `?`
    assert "Problem: Problem 4" in record.description
    assert "Vendor: Vendor 2" in record.description


def test_raw_values_pass_through_unchecked(fixture_result):
    record = fixture_result[0]["INC0100005"]
    assert record.created == "31/2/2026 25:61"  # not a date: the normaliser reports it
    assert ("15/3/2026 08:05", "-100", "Updated by 23") in record.history  # the junk state, as it is
    assert record.severity == "4 - Low"
    assert record.title == "ServiceNow INC0100005: Category 13 / Subcategory 23"


def test_raw_is_the_last_row_without_placeholders_plus_the_event_count(fixture_result):
    record = fixture_result[0]["INC0100002"]
    assert record.raw["incident_state"] == "Closed"
    assert record.raw["sys_updated_at"] == "17/3/2026 18:00"
    assert record.raw["event_count"] == 8
    assert "u_symptom" not in record.raw  # `?`
    assert set(record.raw) <= {*COLUMNS, "event_count"}


# --- made-up files --------------------------------------------------------------------------------------


def test_parse_is_a_generator_that_yields_before_reading_the_whole_file(tmp_path):
    path = tmp_path / "log.csv"
    rows = [row(f"INC{i:07d}", "New", "1/2/2026 09:00") for i in range(2000)]  # ~400 KB, many read blocks
    write(path, rows)
    with path.open("ab") as handle:
        handle.write(b"INC9999999,\xff\xfe broken bytes\n")
    stream = servicenow.parse(path)
    assert inspect.isgenerator(stream)
    assert next(stream).source_ref == "INC0000000"
    assert next(stream).source_ref == "INC0000001"
    with pytest.raises(UnreadableInput, match="not UTF-8"):
        list(stream)


def test_a_record_is_yielded_as_soon_as_the_next_incident_starts(tmp_path):
    path = write(tmp_path / "log.csv", [row("INC1", "New", "1/2/2026 09:00"), row("INC2", "New", "1/2/2026 09:01")])
    stream = servicenow.parse(path)
    first = next(stream)
    assert (first.source_ref, first.location) == ("INC1", "log.csv:2 (INC1)")
    assert next(stream).location == "log.csv:3 (INC2)"
    assert next(stream, None) is None


def test_locations_count_physical_lines_of_multiline_fields(tmp_path):
    path = write(
        tmp_path / "log.csv",
        [
            row("INC1", "New", "1/2/2026 09:00", location="Floor 2\nRoom 7"),
            row("INC2", "Active", "1/2/2026 09:01"),
        ],
    )
    records, errors = read(path)
    assert errors == []
    assert records["INC2"].location == "log.csv:4 (INC2)"
    assert "Location: Floor 2 Room 7" in records["INC1"].description.splitlines()


def test_a_bad_row_spoils_only_its_own_incident(tmp_path):
    short = row("INC2", "Active", "1/2/2026 10:00")[:-3]
    path = write(
        tmp_path / "log.csv",
        [row("INC1", "New", "1/2/2026 09:00"), row("INC2", "New", "1/2/2026 09:30"), short, row("INC3", "New", "x")],
    )
    records, errors = read(path)
    assert list(records) == ["INC1", "INC3"]
    assert [e.location for e in errors] == ["log.csv:3 (INC2)"]
    assert "line 4 has 33 columns" in errors[0].reason


def test_a_reappearing_number_is_reported_not_merged(tmp_path):
    path = write(
        tmp_path / "log.csv",
        [
            row("INC1", "New", "1/2/2026 09:00"),
            row("INC2", "New", "1/2/2026 09:05"),
            row("INC1", "Active", "1/2/2026 09:10"),
            row("INC1", "Resolved", "1/2/2026 09:20"),
            row("INC3", "New", "1/2/2026 09:30"),
        ],
    )
    records, errors = read(path)
    assert list(records) == ["INC1", "INC2", "INC3"]
    assert records["INC1"].status == "New"  # the first group only
    assert [s for _, s, _ in records["INC1"].history] == ["New"]
    assert len(errors) == 1 and errors[0].location == "log.csv:4 (INC1)"
    assert "these 2 rows are not merged" in errors[0].reason


def test_resolve_times_on_an_open_last_state_are_passed_and_noted(tmp_path):
    path = write(
        tmp_path / "log.csv",
        [row("INC1", "New", "1/2/2026 09:00", resolved_at="2/2/2026 10:00", closed_at="7/2/2026 10:00")],
    )
    record = read(path)[0]["INC1"]
    assert (record.status, record.resolved, record.closed, record.acknowledged) == (
        "New",
        "2/2/2026 10:00",
        "7/2/2026 10:00",
        None,
    )
    assert record.notes and "ends at state 'New' although resolved_at and closed_at are given" in record.notes[0]


def test_blank_lines_and_a_bom_are_tolerated(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(
        "\ufeff" + ",".join(COLUMNS) + "\n\n" + ",".join(row("INC1", "New", "1/2/2026 09:00")) + "\n\n",
        encoding="utf-8",
    )
    records, errors = read(path)
    assert list(records) == ["INC1"] and errors == []
    assert records["INC1"].location == "log.csv:3 (INC1)"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"id,name\n1,x\n", "not a ServiceNow incident event log"),
        (b'{"number": "INC1"}\n', "not a ServiceNow incident event log"),
        (b"number,incident_state,opened_at,sys_updated_at\n" + b"\xff\xfe\n", "not UTF-8"),
    ],
)
def test_unreadable_inputs(tmp_path, content, message):
    path = tmp_path / "log.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableInput, match=message):
        list(servicenow.parse(path))


def test_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableInput, match="no such file"):
        list(servicenow.parse(tmp_path / "absent.csv"))


def test_looks_like():
    assert servicenow.looks_like(FIXTURE, head(FIXTURE))
    assert servicenow.looks_like(Path("x.csv"), "\ufeff" + HEADER + "\r\nINC1,New\r\n")
    assert not servicenow.looks_like(Path("x.csv"), "number,state,opened\nINC1,New,x\n")
    assert not servicenow.looks_like(Path("x.json"), '{"number": "INC1", "incident_state": "New"}')
    assert not servicenow.looks_like(Path("x.csv"), "")


# --- the real event log ---------------------------------------------------------------------------------


def test_real_event_log_counts_and_time():
    if not REAL_LOG.is_file():
        skip_or_fail(f"the real ServiceNow event log is absent ({REAL_LOG})")
    count = events = 0
    errors: list[RecordError] = []
    statuses: dict[str, int] = {}
    junk: list[str] = []
    reopens = 0
    started = time.perf_counter()
    for item in servicenow.parse(REAL_LOG):
        if isinstance(item, RecordError):
            errors.append(item)
            continue
        count += 1
        events += item.raw["event_count"]
        statuses[item.status] = statuses.get(item.status, 0) + 1
        states = [status for _, status, _ in item.history]
        if "-100" in states:
            junk.append(item.source_ref)
        if item.raw.get("reopen_count", "0") != "0":
            reopens += 1
            # a reopen shows in the history as a state going back from Resolved (226) or even Closed (8)
            done = ("Resolved", "Closed")
            assert any(a in done and b not in done for a, b in itertools.pairwise(states)), item.source_ref
    elapsed = time.perf_counter() - started
    print(f"\nServiceNow real log: {count} incidents from {events} events in {elapsed:.2f} s ({reopens} reopened)")

    assert errors == []
    assert count == 20_769
    assert events == 119_998
    assert statuses == {"Closed": 20_768, "New": 1}  # the last incident's log ends at its first event
    assert junk == ["INC0028089"]  # the junk state -100 (two rows) is passed through raw
    assert reopens == 234
    assert elapsed < 60


def test_real_event_log_memory_stays_bounded():
    """Peak memory (tracemalloc, which makes the pass about ten times slower) stays far below the 39 MB file."""
    if not REAL_LOG.is_file():
        skip_or_fail(f"the real ServiceNow event log is absent ({REAL_LOG})")
    count = 0
    tracemalloc.start()
    try:
        for item in servicenow.parse(REAL_LOG):
            count += isinstance(item, SourceRecord)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nServiceNow real log: peak traced memory {peak / 2**20:.1f} MiB")
    assert count == 20_769
    assert peak < 50 * 2**20


def test_real_event_log_first_incident():
    if not REAL_LOG.is_file():
        skip_or_fail(f"the real ServiceNow event log is absent ({REAL_LOG})")
    assert servicenow.looks_like(REAL_LOG, head(REAL_LOG))
    record = next(servicenow.parse(REAL_LOG))
    assert record.location == "incident_event_log.csv:2 (INC0000045)"
    assert record.title == "ServiceNow INC0000045: Category 55 / Subcategory 170 (Symptom 72)"
    assert (record.severity, record.status, record.created) == ("3 - Moderate", "Closed", "29/2/2016 01:16")
    assert [s for _, s, _ in record.history] == ["New", "Resolved", "Closed"]
    assert record.raw["event_count"] == 4
