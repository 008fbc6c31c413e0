"""Import of our own CSV/JSON on both databases: round trip, spreadsheet CSV, bad records, idempotency."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import incidents as svc
from core.cli import main
from core.export import write_csv, write_json
from core.importers import import_paths
from core.models import events, incidents
from core.users import add_user

A = "tenant-a"
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
COMPARED = (
    "id",
    "title",
    "description",
    "severity",
    "status",
    "mitre_tactic",
    "mitre_technique",
    "source_siem",
    "assigned_to",
    "resolution",
    "classification",
    "affected_assets",
    "iocs",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
)


@pytest.fixture
def db(engine):
    add_user(engine, tenant=A, username="alice", email="alice@example.com", role="manager")
    return engine


def _made(engine):
    def new(title, **data):
        return svc.create_incident(
            engine, tenant=A, actor="alice", at=T0, data={"title": title, "severity": "high", **data}
        )

    def move(incident, status, at, **extra):
        return svc.transition(engine, tenant=A, actor="alice", incident_id=incident.id, status=status, at=at, **extra)

    made = [
        new(
            '=HYPERLINK("http://evil.example","click")',
            description="line one\nline two; with ;",
            mitre_technique="T1566.001",
            iocs=["198.51.100.7", "hxxps://evil[.]example/x"],
            affected_assets=["WS-1", "WS-2"],
            assigned_to="alice",
            source_siem="Splunk ES",
        )
    ]
    contained = move(new("Containment", mitre_tactic="Impact"), "investigating", T0 + H)
    made.append(move(contained, "containment", T0 + 2 * H))
    resolved = move(new("Resolved"), "resolved", T0 + H, resolution="reimaged")
    made.append(move(resolved, "closed", T0 + 3 * H, classification="true_positive"))
    made.append(move(new("False alarm"), "closed", T0 + H, classification="false_positive"))
    reopened = move(made[-2], "investigating", T0 + 4 * H, reason="again")
    made[-2] = reopened
    made.append(new("Untouched", severity="informational"))
    return made


def _export(engine, writer, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer(svc.iter_incidents(engine, tenant=A), handle)
    return path


@pytest.mark.parametrize("writer", [write_csv, write_json], ids=["csv", "json"])
def test_export_then_import_gives_the_same_incidents(db, second_engine, tmp_path, writer):
    made = _made(db)
    path = _export(db, writer, tmp_path / "export.out")
    empty = second_engine  # an empty database with the same people
    add_user(empty, tenant=A, username="alice", email="alice@example.com", role="manager")
    report = import_paths(empty, tenant=A, actor="alice", paths=[path], format=writer.__name__[6:])
    assert (report.read, report.created, report.rejected) == (len(made), len(made), [])
    for original in made:
        copy = svc.get_incident(empty, tenant=A, incident_id=original.id)
        assert {k: getattr(copy, k) for k in COMPARED} == {k: getattr(original, k) for k in COMPARED}
    assert made[0].title.startswith("=HYPERLINK")  # neutralised in the file, restored on import
    again = import_paths(empty, tenant=A, actor="alice", paths=[path], format="auto")
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(made))


def test_spreadsheet_csv_with_bom_semicolons_and_quoted_newlines(db, tmp_path):
    path = tmp_path / "from-excel.csv"
    path.write_bytes(
        "\ufeffid;title;severity;status;created_at;description;iocs\r\n"
        ';"Phishing; wave";High;New;2026-05-01T08:00:00Z;"first line\r\nsecond line";198.51.100.9\r\n'.encode()
    )
    report = import_paths(db, tenant=A, actor="alice", paths=[path])
    assert report.created == 1, report.rejected
    incident = svc.list_incidents(db, tenant=A).items[0]
    assert incident.title == "Phishing; wave" and incident.severity == "high"
    assert incident.description == "first line\nsecond line"
    assert incident.iocs == [{"type": "ipv4", "value": "198.51.100.9"}]


def _counts(engine):
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar() for t in (incidents, events))


def test_bad_records_are_reported_and_the_rest_imported(db, tmp_path):
    path = tmp_path / "mixed.ndjson"
    good = {
        "id": "",
        "source_system": "soc",
        "source_ref": "1",
        "title": "Good",
        "severity": "low",
        "status": "new",
        "created_at": "2026-05-01T08:00:00Z",
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "source_ref": "2", "severity": "catastrophic"}),
        json.dumps({**good, "source_ref": "3", "created_at": "2026-02-30T08:00:00Z"}),
        json.dumps({**good, "source_ref": "4", "title": ""}),
        json.dumps({**good, "source_ref": "5", "status": "resolved", "resolved_at": "2026-05-02T08:00:00Z"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    report = import_paths(db, tenant=A, actor="alice", paths=[path], format="json")
    assert (report.read, report.created) == (6, 2)
    reasons = {e.location: e.reason for e in report.rejected}
    assert "not valid JSON" in reasons["mixed.ndjson:2"]
    assert "unknown severity 'catastrophic'" in reasons["mixed.ndjson:3"]
    assert "impossible" in reasons["mixed.ndjson:4"]
    assert "no title" in reasons["mixed.ndjson:5"]
    resolved = svc.get_incident(
        db, tenant=A, incident_id=svc.find_by_source(db, tenant=A, source_system="soc", source_ref="5")
    )
    assert resolved.status == "resolved" and resolved.resolved_at == datetime(2026, 5, 2, 8, tzinfo=UTC)
    assert resolved.resolution.startswith("Resolved in soc")  # required by the lifecycle, said plainly
    assert _counts(db)[0] == 2


def test_a_changed_record_updates_the_incident_with_timeline_events(db, tmp_path):
    path = tmp_path / "feed.json"
    record = {
        "source_system": "soc",
        "source_ref": "42",
        "title": "Beacon",
        "severity": "medium",
        "status": "new",
        "created_at": "2026-05-01T08:00:00Z",
        "assigned_to": "alice@example.com",
    }
    path.write_text(json.dumps([record]))
    import_paths(db, tenant=A, actor="alice", paths=[path])
    incident_id = svc.find_by_source(db, tenant=A, source_system="soc", source_ref="42")
    assert svc.get_incident(db, tenant=A, incident_id=incident_id).assigned_to == "alice"  # matched by e-mail
    path.write_text(
        json.dumps(
            [
                {
                    **record,
                    "severity": "critical",
                    "status": "closed",
                    "classification": "true_positive",
                    "closed_at": "2026-05-02T08:00:00Z",
                }
            ]
        )
    )
    report = import_paths(db, tenant=A, actor="alice", paths=[path])
    assert (report.updated, report.created) == (1, 0)
    incident = svc.get_incident(db, tenant=A, incident_id=incident_id)
    assert (incident.severity, incident.status, incident.classification) == ("critical", "closed", "true_positive")
    kinds = [(e.kind, e.field) for e in svc.get_timeline(db, tenant=A, incident_id=incident_id)]
    assert ("field_changed", "severity") in kinds and ("status_changed", "status") in kinds
    assert svc.get_source_record(db, tenant=A, incident_id=incident_id)["severity"] == "critical"


def test_cli_exit_codes(db, db_url, tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps([{"source_ref": "1", "title": "t", "severity": "low", "created_at": "2026-05-01"}]))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"source_ref": "2", "title": "t", "severity": "??", "created_at": "2026-05-01"}]))
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01 nothing we know")
    as_alice = ["--db", db_url, "--tenant", A, "--actor", "alice"]
    assert main([*as_alice, "import", str(good)]) == 0
    assert main([*as_alice, "import", str(good), str(bad)]) == 1
    assert main([*as_alice, "import", str(garbage)]) == 2
    out = capsys.readouterr().out
    assert "rejected    bad.json:1[0]: unknown severity '??'" in out
    assert out.strip().splitlines()[-1].startswith("read 0, created 0")


def test_importing_an_export_into_the_same_tenant_changes_nothing(db, tmp_path):
    made = _made(db)
    path = _export(db, write_csv, tmp_path / "export.csv")
    report = import_paths(db, tenant=A, actor="alice", paths=[path])
    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, len(made), [])
    assert svc.list_incidents(db, tenant=A).total == len(made)


def test_source_actors_are_marked_so_they_never_pass_for_our_users(db, tmp_path):
    log = Path(__file__).resolve().parents[2] / "fixtures" / "imports" / "servicenow_small.csv"
    import_paths(db, tenant=A, actor="alice", paths=[log], format="servicenow")
    incident_id = svc.find_by_source(db, tenant=A, source_system="servicenow", source_ref="INC0100001")
    actors = {e.actor for e in svc.get_timeline(db, tenant=A, incident_id=incident_id)}
    assert actors - {"alice"} and all(a.startswith("servicenow:") for a in actors - {"alice"})


def test_a_file_that_breaks_midway_keeps_and_reports_what_was_read(db, tmp_path):
    log = Path(__file__).resolve().parents[2] / "fixtures" / "imports" / "servicenow_small.csv"
    header, *rows = log.read_bytes().splitlines(keepends=True)
    first = [row for row in rows if row.startswith(b"INC0100001,")]
    copies = [row.replace(b"INC0100001", b"INC9%06d" % n) for n in range(300) for row in first]  # > a read buffer
    broken = tmp_path / "broken.csv"
    broken.write_bytes(header + b"".join(copies) + b"\xff\xfe not UTF-8\n" + b"".join(first))
    report = import_paths(db, tenant=A, actor="alice", paths=[broken], format="servicenow")
    assert report.created >= 1 and report.unreadable and "before it were imported" in report.unreadable[0]
    assert not report.nothing_read


def test_resolved_without_a_resolution_time_is_still_resolved(db, tmp_path):
    path = tmp_path / "resolved.json"
    path.write_text(
        json.dumps(
            [
                {
                    "source_system": "soc",
                    "source_ref": "9",
                    "title": "Done",
                    "severity": "low",
                    "status": "resolved",
                    "resolution": "patched",
                    "created_at": "2026-05-01T08:00:00Z",
                    "updated_at": "2026-05-02T08:00:00Z",
                }
            ]
        )
    )
    import_paths(db, tenant=A, actor="alice", paths=[path])
    incident = svc.get_incident(
        db, tenant=A, incident_id=svc.find_by_source(db, tenant=A, source_system="soc", source_ref="9")
    )
    assert (incident.status, incident.resolution) == ("resolved", "patched")


def test_a_viewer_or_analyst_cannot_import(db, tmp_path):
    from core.permissions import PermissionDeniedError

    add_user(db, tenant=A, username="ann")  # an analyst
    path = tmp_path / "one.json"
    path.write_text(json.dumps([{"source_ref": "1", "title": "t", "severity": "low", "created_at": "2026-05-01"}]))
    with pytest.raises(PermissionDeniedError, match="import"):
        import_paths(db, tenant=A, actor="ann", paths=[path])
    assert svc.list_incidents(db, tenant=A).total == 0
