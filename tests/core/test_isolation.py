"""Tenant isolation on every path, on both databases: another tenant's incident is indistinguishable from a
missing one, and nothing of one tenant ever shows up in, or is changed from, another.

Paths: list (every filter), free-text search, filter value lists, detail/get/timeline by id, update,
transition, comment, statistics, export, import (the same source reference in two tenants), the CLI
(show/update/comment/list/stats with --tenant). The dashboard's paths are in tests/dashboard/test_sign_in.py.
"""

import json

import pytest

from core import incidents as svc
from core.cli import main
from core.errors import NotFoundError
from core.export import export, write_csv, write_json
from core.importers import import_paths
from core.stats import incident_stats
from core.users import add_user

A, B = "tenant-a", "tenant-b"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def two_tenants(engine):
    add_user(engine, tenant=A, username="alice", role="manager")
    add_user(engine, tenant=B, username="bert", role="manager")
    theirs = svc.create_incident(
        engine,
        tenant=B,
        actor="bert",
        data={
            "title": "B-only secret beacon",
            "severity": "critical",
            "source_siem": "B-SIEM",
            "mitre_technique": "T1486",
            "iocs": ["203.0.113.99"],
            "affected_assets": ["B-HOST"],
            "source_system": "feed",
            "source_ref": "7",
        },
    )
    ours = svc.create_incident(engine, tenant=A, actor="alice", data={"title": "A incident", "severity": "low"})
    return engine, ours, theirs


def test_reads_never_show_another_tenants_data(two_tenants):
    engine, ours, theirs = two_tenants
    for filters in (
        svc.IncidentFilter(),
        svc.IncidentFilter(search="secret"),
        svc.IncidentFilter(search="203.0.113"),
        svc.IncidentFilter(search="b-host"),
        svc.IncidentFilter(severity=("critical",)),
        svc.IncidentFilter(source_siem="B-SIEM"),
        svc.IncidentFilter(tactic="Impact"),
        svc.IncidentFilter(technique="T1486"),
        svc.IncidentFilter(unassigned=True),
    ):
        assert theirs.id not in {i.id for i in svc.list_incidents(engine, tenant=A, filters=filters).items}
    assert {i.id for i in svc.iter_incidents(engine, tenant=A)} == {ours.id}
    for column in ("source_siem", "mitre_tactic", "assigned_to"):
        assert svc.distinct_values(engine, tenant=A, column=column) in ([], [None])
    stats = incident_stats(engine, tenant=A)
    assert stats.total == 1 and stats.critical == 0 and "B-SIEM" not in stats.by_siem


def test_another_tenants_id_behaves_like_a_missing_one_everywhere(two_tenants):
    engine, _, theirs = two_tenants
    calls = {
        "get": lambda i: svc.get_incident(engine, tenant=A, incident_id=i),
        "detail": lambda i: svc.get_detail(engine, tenant=A, incident_id=i),
        "timeline": lambda i: svc.get_timeline(engine, tenant=A, incident_id=i),
        "source record": lambda i: svc.get_source_record(engine, tenant=A, incident_id=i),
        "update": lambda i: svc.update_incident(
            engine, tenant=A, actor="alice", incident_id=i, changes={"severity": "low"}
        ),
        "transition": lambda i: svc.transition(engine, tenant=A, actor="alice", incident_id=i, status="investigating"),
        "comment": lambda i: svc.add_comment(engine, tenant=A, actor="alice", incident_id=i, text="hi"),
    }
    for name, call in calls.items():
        messages = []
        for incident_id in (theirs.id, MISSING):
            with pytest.raises(NotFoundError) as info:
                call(incident_id)
            messages.append(str(info.value).replace(incident_id, "ID"))
        assert messages[0] == messages[1], name
    untouched = svc.get_detail(engine, tenant=B, incident_id=theirs.id)
    assert untouched.incident.version == 1 and [e.kind for e in untouched.timeline] == ["created"]


def test_export_holds_only_the_tenants_incidents(two_tenants):
    engine, ours, theirs = two_tenants
    for writer in (write_csv, write_json):
        text = export(engine, tenant=A, actor="alice", writer=writer)
        assert ours.id in text and theirs.id not in text and "B-only" not in text


def test_import_matches_source_references_within_the_tenant_only(two_tenants, tmp_path):
    engine, _, theirs = two_tenants
    path = tmp_path / "feed.json"
    path.write_text(
        json.dumps(
            [
                {
                    "source_system": "feed",
                    "source_ref": "7",
                    "title": "A's own record 7",
                    "severity": "high",
                    "created_at": "2026-05-01T08:00:00Z",
                }
            ]
        )
    )
    report = import_paths(engine, tenant=A, actor="alice", paths=[path])
    assert (report.created, report.updated) == (1, 0)  # a new incident in A, not an update of B's
    assert svc.get_incident(engine, tenant=B, incident_id=theirs.id).title == "B-only secret beacon"


def test_the_cli_is_scoped_by_tenant(two_tenants, db_url, capsys):
    _engine, ours, theirs = two_tenants
    as_alice = ["--db", db_url, "--tenant", A, "--actor", "alice"]
    assert main([*as_alice, "show", theirs.id]) == 3
    assert main([*as_alice, "update", theirs.id, "--severity", "low"]) == 3
    assert main([*as_alice, "comment", theirs.id, "hello"]) == 3
    capsys.readouterr()
    assert main([*as_alice, "list", "--format", "json", "--all"]) == 0
    listed = capsys.readouterr().out
    assert ours.id in listed and theirs.id not in listed
    assert main([*as_alice, "stats", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 1
    assert main(["--db", db_url, "--tenant", A, "--actor", "bert", "comment", ours.id, "x"]) == 5  # not A's user
