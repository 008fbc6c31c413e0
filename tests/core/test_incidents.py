"""The incident service on DuckDB and PostgreSQL: validation, lifecycle, timeline, isolation, concurrency."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import incidents as svc
from core.errors import NotFoundError, ValidationError, VersionConflictError
from core.lifecycle import STATUSES, TRANSITIONS, requirement
from core.models import events, incidents
from core.users import add_user

A, B = "tenant-a", "tenant-b"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(engine):
    add_user(engine, tenant=A, username="alice", role="manager")
    add_user(engine, tenant=A, username="bob", role="manager")
    add_user(engine, tenant=A, username="ann")  # an analyst
    add_user(engine, tenant=A, username="victor", role="viewer")
    add_user(engine, tenant=B, username="mallory")
    for n in range(6):
        add_user(engine, tenant=A, username=f"user{n}")
    return engine


def new(engine, tenant=A, at=T0, **data):
    data = {"title": "Ransomware on FS-01", "severity": "high", **data}
    return svc.create_incident(engine, tenant=tenant, actor="alice" if tenant == A else "mallory", data=data, at=at)


def counts(engine):
    with engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(incidents)).scalar(),
            conn.execute(select(func.count()).select_from(events)).scalar(),
        )


def test_create_normalises_and_records_an_event(db):
    incident = new(
        db,
        description="Files encrypted",
        mitre_technique="t1486",
        source_siem="Splunk ES",
        affected_assets=["FS-01", " FS-01 ", "WS-7"],
        iocs=["1[.]2[.]3[.]4", "hxxps://evil[.]example/x", "D41D8CD98F00B204E9800998ECF8427E"],
        assigned_to="bob",
    )
    assert incident.status == "new" and incident.version == 1
    assert incident.mitre_technique == "T1486" and incident.mitre_tactic == "Impact"
    assert incident.affected_assets == ["FS-01", "WS-7"]
    assert [i["type"] for i in incident.iocs] == ["ipv4", "url", "md5"]
    assert incident.iocs[2]["value"] == "d41d8cd98f00b204e9800998ecf8427e"
    assert incident.created_at == T0 == incident.updated_at
    timeline = svc.get_timeline(db, tenant=A, incident_id=incident.id)
    assert [(e.kind, e.actor) for e in timeline] == [("created", "alice")]
    assert svc.get_incident(db, tenant=A, incident_id=incident.id) == incident


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 501}, "title"),
        ({"title": None}, "title"),
        ({"severity": "urgent"}, "severity"),
        ({"mitre_technique": "T99"}, "mitre_technique"),
        ({"mitre_technique": "T9999"}, "mitre_technique"),
        ({"mitre_tactic": "Lunch Break"}, "mitre_tactic"),
        ({"mitre_technique": "T1486", "mitre_tactic": "Initial Access"}, "mitre_tactic"),
        ({"iocs": [{"type": "md5", "value": "abc"}]}, "iocs"),
        ({"iocs": [{"type": "ipv4", "value": "1.2.3.256"}]}, "iocs"),
        ({"affected_assets": "FS-01"}, "affected_assets"),
        ({"assigned_to": "mallory"}, "assigned_to"),  # an analyst of another tenant
        ({"assigned_to": "victor"}, "assigned_to"),  # a viewer cannot own incidents
        ({"status": "closed"}, "status"),
        ({"version": 7}, "version"),
        ({"source_system": "splunk"}, "source_ref"),
    ],
)
def test_create_rejects_bad_fields_and_writes_nothing(db, data, field):
    before = counts(db)
    with pytest.raises(ValidationError) as info:
        new(db, **data)
    assert field in info.value.errors
    assert counts(db) == before


def test_create_reports_every_bad_field_at_once(db):
    with pytest.raises(ValidationError) as info:
        svc.create_incident(db, tenant=A, actor="alice", data={"title": "", "severity": "x", "mitre_tactic": "?"})
    assert set(info.value.errors) == {"title", "severity", "mitre_tactic"}


def test_tactic_spellings_are_normalised(db):
    for spelling in ("defense-evasion", "DefenseEvasion", "TA0005", "Defense Evasion"):
        assert new(db, mitre_tactic=spelling).mitre_tactic == "Defense Evasion"


def test_deprecated_technique_is_accepted_as_given(db):
    incident = new(db, mitre_technique="T1562.001", mitre_tactic="Defense Evasion")
    assert incident.mitre_technique == "T1562.001"


def test_source_reference_is_unique_per_tenant(db):
    new(db, source_system="sentinel", source_ref="42")
    with pytest.raises(ValidationError, match="already has source reference"):
        new(db, source_system="sentinel", source_ref="42")
    assert new(db, tenant=B, source_system="sentinel", source_ref="42")  # another tenant may use it


def walk(engine, incident, path, start=T0):
    """Move an incident along `path`, giving each move what it needs; returns it and the move times."""
    times = []
    for step, target in enumerate(path, start=1):
        at = start + timedelta(hours=step)
        args = {}
        need = requirement(incident.status, target)
        if need.resolution:
            args["resolution"] = "reimaged host"
        if need.classification:
            args["classification"] = need.classifications[0]
        if need.reason:
            args["reason"] = "new evidence"
        incident = svc.transition(engine, tenant=A, actor="bob", incident_id=incident.id, status=target, at=at, **args)
        times.append(at)
    return incident, times


def paths_to(status):
    """A path from new reaching `status` by the lifecycle."""
    return {
        "new": [],
        "resolved": ["investigating", "resolved"],
        "closed": ["investigating", "resolved", "closed"],
    }.get(status, [status])


@pytest.mark.parametrize("current", STATUSES)
def test_every_move_from_every_status_in_the_database(db, current):
    for target in STATUSES:
        incident, _ = walk(db, new(db), paths_to(current))
        before = counts(db)
        if target in TRANSITIONS[current]:
            moved, _ = walk(db, incident, [target], start=T0 + timedelta(days=1))
            assert moved.status == target and moved.version == incident.version + 1
        else:
            with pytest.raises(ValidationError) as info:
                svc.transition(
                    db,
                    tenant=A,
                    actor="bob",
                    incident_id=incident.id,
                    status=target,
                    resolution="x",
                    classification="duplicate",
                    reason="x",
                )
            assert counts(db) == before
            if target != current:
                assert ", ".join(TRANSITIONS[current]) in str(info.value)
            assert svc.get_incident(db, tenant=A, incident_id=incident.id) == incident


def test_timestamps_follow_the_incident_and_are_not_overwritten(db):
    incident, times = walk(db, new(db), ["investigating", "containment", "investigating", "eradication", "resolved"])
    assert incident.acknowledged_at == times[0]
    assert incident.resolved_at == times[4]
    assert incident.closed_at is None and incident.updated_at == times[4]
    closed, (closed_at,) = walk(db, incident, ["closed"], start=T0 + timedelta(days=2))
    assert closed.resolved_at == times[4]  # kept from the resolution
    assert closed.closed_at == closed_at and closed.classification == "true_positive"


def test_reopen_clears_resolution_times_and_keeps_them_in_the_timeline(db):
    closed, times = walk(db, new(db), ["investigating", "resolved", "closed"])
    reopened = svc.transition(
        db,
        tenant=A,
        actor="bob",
        incident_id=closed.id,
        status="investigating",
        reason="beacon seen again",
        at=T0 + timedelta(days=3),
    )
    assert reopened.resolved_at is None and reopened.closed_at is None and reopened.classification is None
    assert reopened.acknowledged_at == times[0]
    timeline = svc.get_timeline(db, tenant=A, incident_id=closed.id)
    cleared = {e.field: e.old_value for e in timeline if e.kind == "field_changed"}
    assert cleared["resolved_at"].startswith(times[1].date().isoformat())
    assert cleared["closed_at"] and cleared["classification"] == "true_positive"
    assert timeline[0].kind in ("status_changed", "field_changed") and any(
        e.note == "beacon seen again" for e in timeline
    )
    resolved_again, _ = walk(db, reopened, ["resolved"], start=T0 + timedelta(days=4))
    assert resolved_again.resolved_at == T0 + timedelta(days=4, hours=1)  # MTTR counts the final resolution


def test_early_close_requires_a_non_incident_classification(db):
    incident = new(db)
    with pytest.raises(ValidationError, match="false_positive"):
        svc.transition(
            db, tenant=A, actor="bob", incident_id=incident.id, status="closed", classification="true_positive"
        )
    closed = svc.transition(
        db,
        tenant=A,
        actor="bob",
        incident_id=incident.id,
        status="closed",
        classification="false_positive",
        at=T0 + timedelta(minutes=5),
    )
    assert closed.acknowledged_at == closed.resolved_at == closed.closed_at == T0 + timedelta(minutes=5)


def test_update_is_a_patch_and_writes_one_event_per_field(db):
    incident = new(db)
    changed = svc.update_incident(
        db,
        tenant=A,
        actor="bob",
        incident_id=incident.id,
        changes={"severity": "critical", "assigned_to": "alice", "iocs": ["evil.example"], "title": incident.title},
    )
    assert changed.severity == "critical" and changed.assigned_to == "alice" and changed.version == 2
    assert changed.title == incident.title and changed.updated_by == "bob"
    kinds = sorted((e.kind, e.field) for e in svc.get_timeline(db, tenant=A, incident_id=incident.id))
    assert kinds == [
        ("assigned", "assigned_to"),
        ("created", None),
        ("field_changed", "iocs"),
        ("field_changed", "severity"),
    ]
    same = svc.update_incident(db, tenant=A, actor="bob", incident_id=incident.id, changes={"severity": "critical"})
    assert same.version == 2  # nothing differed, nothing written


def test_update_rejects_read_only_fields(db):
    incident = new(db)
    with pytest.raises(ValidationError) as info:
        svc.update_incident(
            db, tenant=A, actor="bob", incident_id=incident.id, changes={"resolved_at": "2020-01-01", "tenant_id": B}
        )
    assert set(info.value.errors) == {"resolved_at", "tenant_id"}


def test_bad_update_writes_nothing(db):
    incident = new(db)
    before = counts(db)
    with pytest.raises(ValidationError):
        svc.update_incident(
            db, tenant=A, actor="bob", incident_id=incident.id, changes={"severity": "critical", "title": ""}
        )
    assert counts(db) == before
    assert svc.get_incident(db, tenant=A, incident_id=incident.id) == incident


def test_stale_version_is_a_conflict_naming_who_and_what(db):
    incident = new(db)
    svc.update_incident(
        db, tenant=A, actor="bob", incident_id=incident.id, changes={"severity": "low"}, expected_version=1
    )
    with pytest.raises(VersionConflictError) as info:
        svc.update_incident(
            db, tenant=A, actor="alice", incident_id=incident.id, changes={"severity": "critical"}, expected_version=1
        )
    assert info.value.changed_by == "bob" and info.value.changes == ["severity"]
    assert info.value.current == 2
    assert svc.get_incident(db, tenant=A, incident_id=incident.id).severity == "low"


def test_concurrent_writers_cannot_both_win(db):
    """Another writer commits between the service's read and its UPDATE: the version check catches it."""
    from sqlalchemy import event, update

    incident = new(db)
    fired = []

    def sneak_in(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE INCIDENTS") and not fired:
            fired.append(True)
            with db.begin() as other:
                other.execute(
                    update(incidents)
                    .where(incidents.c.id == incident.id)
                    .values(version=incidents.c.version + 1, updated_by="eve")
                )

    event.listen(db, "before_cursor_execute", sneak_in)
    try:
        with pytest.raises(VersionConflictError) as info:
            svc.update_incident(
                db, tenant=A, actor="alice", incident_id=incident.id, changes={"severity": "low"}, expected_version=1
            )
        assert fired and info.value.current == 2
        assert svc.get_incident(db, tenant=A, incident_id=incident.id).severity == "high"
        fired.clear()  # without an expected version, the change is planned again on the latest state
        saved = svc.update_incident(db, tenant=A, actor="alice", incident_id=incident.id, changes={"severity": "low"})
        assert fired and saved.severity == "low" and saved.version == 4
    finally:
        event.remove(db, "before_cursor_execute", sneak_in)


def test_comments_are_part_of_the_timeline(db):
    incident = new(db)
    svc.add_comment(
        db, tenant=A, actor="bob", incident_id=incident.id, text="Isolated the host", at=T0 + timedelta(minutes=1)
    )
    with pytest.raises(ValidationError):
        svc.add_comment(db, tenant=A, actor="bob", incident_id=incident.id, text="   ")
    timeline = svc.get_timeline(db, tenant=A, incident_id=incident.id)
    assert (timeline[0].kind, timeline[0].note, timeline[0].actor) == ("comment", "Isolated the host", "bob")
    assert svc.get_incident(db, tenant=A, incident_id=incident.id).version == 1


def test_every_change_names_its_actor(db):
    with pytest.raises(ValidationError, match="who made it"):
        svc.create_incident(db, tenant=A, actor=" ", data={"title": "x", "severity": "low"})


def test_another_tenants_incident_is_indistinguishable_from_a_missing_one(db):
    theirs = new(db, tenant=B)
    missing = "00000000-0000-4000-8000-000000000000"
    for incident_id in (theirs.id, missing, "not-a-uuid"):
        with pytest.raises(NotFoundError) as info:
            svc.get_incident(db, tenant=A, incident_id=incident_id)
        assert str(info.value) == f"incident {incident_id} not found"
        calls = [
            lambda i=incident_id: svc.get_detail(db, tenant=A, incident_id=i),
            lambda i=incident_id: svc.get_timeline(db, tenant=A, incident_id=i),
            lambda i=incident_id: svc.update_incident(
                db, tenant=A, actor="alice", incident_id=i, changes={"severity": "low"}
            ),
            lambda i=incident_id: svc.transition(db, tenant=A, actor="alice", incident_id=i, status="investigating"),
            lambda i=incident_id: svc.add_comment(db, tenant=A, actor="alice", incident_id=i, text="hi"),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                call()
    assert svc.get_incident(db, tenant=B, incident_id=theirs.id).version == 1  # untouched
    assert svc.list_incidents(db, tenant=A).total == 0
    assert svc.list_incidents(db, tenant=A, filters=svc.IncidentFilter(search="ransomware")).total == 0
    assert svc.distinct_values(db, tenant=A, column="source_siem") == []


def test_list_filters_sort_and_page(db):
    made = [
        new(db, title="Phishing wave", severity="medium", source_siem="Sentinel", mitre_technique="T1566.001", at=T0),
        new(
            db,
            title="Beacon to C2",
            severity="critical",
            source_siem="Splunk ES",
            mitre_technique="T1071.001",
            iocs=["203.0.113.9"],
            assigned_to="alice",
            at=T0 + timedelta(days=1),
        ),
        new(
            db,
            title="Old critical",
            severity="critical",
            source_siem="Splunk ES",
            at=T0 - timedelta(days=10),
            affected_assets=["DC-01"],
        ),
        new(db, title="Noise", severity="informational", at=T0 + timedelta(days=2)),
    ]
    walk(db, made[3], ["closed"], start=T0 + timedelta(days=3))

    def ids(**kwargs):
        return [i.title for i in svc.list_incidents(db, tenant=A, filters=svc.IncidentFilter(**kwargs)).items]

    assert ids() == ["Old critical", "Beacon to C2", "Phishing wave", "Noise"]  # most severe, oldest first
    assert ids(severity=("critical",)) == ["Old critical", "Beacon to C2"]
    assert ids(status=("closed",)) == ["Noise"]
    assert ids(tactic="Command and Control") == ["Beacon to C2"]
    assert ids(technique="T1566") == ["Phishing wave"]  # a parent id finds its sub-techniques
    assert ids(source_siem="Splunk ES") == ["Old critical", "Beacon to C2"]
    assert ids(assignee="alice") == ["Beacon to C2"]
    assert ids(unassigned=True) == ["Old critical", "Phishing wave", "Noise"]
    assert ids(search="203.0.113") == ["Beacon to C2"]  # IOC values
    assert ids(search="dc-01") == ["Old critical"]  # asset names
    assert ids(search="BEACON c2") == ["Beacon to C2"]
    assert ids(search="100%_") == []  # LIKE wildcards are literal
    assert ids(created_from=date(2026, 3, 1), created_to=date(2026, 3, 2)) == ["Beacon to C2", "Phishing wave"]
    page = svc.list_incidents(db, tenant=A, sort="newest", limit=2, offset=2)
    assert page.total == 4 and [i.title for i in page.items] == ["Phishing wave", "Old critical"]
    with pytest.raises(ValidationError):
        svc.list_incidents(db, tenant=A, limit=0)
    assert len(list(svc.iter_incidents(db, tenant=A, batch=3))) == 4
    assert svc.distinct_values(db, tenant=A, column="source_siem") == ["Sentinel", "Splunk ES"]


def test_every_page_of_every_sort_is_the_slice_of_the_whole_list(db):
    """Pages in the second half are read backwards from the end: they must still be exactly the slice."""
    severities = ("critical", "low", "low", "medium", "critical", "low", "informational")
    for n, severity in enumerate(severities):  # ties: several share a time and a severity
        new(db, title=f"incident {n}", severity=severity, at=T0 + timedelta(hours=n // 3))
    for sort in svc.SORTS:
        whole = [i.id for i in svc.list_incidents(db, tenant=A, sort=sort, limit=100).items]
        assert len(whole) == len(severities)
        for limit in (1, 2, 3, 5):
            for offset in range(len(whole) + 2):
                page = svc.list_incidents(db, tenant=A, sort=sort, limit=limit, offset=offset)
                assert [i.id for i in page.items] == whole[offset : offset + limit], (sort, limit, offset)
                assert (page.total, page.limit, page.offset) == (len(whole), limit, offset)


def test_backdated_changes_must_fit_the_incidents_history(db):
    incident = new(db)
    with pytest.raises(ValidationError, match="before the incident's last change"):
        svc.transition(
            db, tenant=A, actor="bob", incident_id=incident.id, status="investigating", at=T0 - timedelta(hours=1)
        )
    with pytest.raises(ValidationError, match="in the future"):
        svc.create_incident(
            db, tenant=A, actor="bob", data={"title": "x", "severity": "low"}, at=datetime.now(UTC) + timedelta(days=1)
        )
    with pytest.raises(ValidationError, match="before the incident's creation"):
        svc.add_comment(db, tenant=A, actor="bob", incident_id=incident.id, text="x", at=T0 - timedelta(days=1))
    assert svc.get_incident(db, tenant=A, incident_id=incident.id).version == 1


def test_resolution_is_recorded_once_and_a_reopen_clears_it(db):
    resolved, _ = walk(db, new(db), ["investigating", "resolved"])
    timeline = svc.get_timeline(db, tenant=A, incident_id=resolved.id)
    assert [e.field for e in timeline if e.version == resolved.version] == ["status"]
    assert timeline[0].note == "reimaged host"
    reopened = svc.transition(
        db,
        tenant=A,
        actor="bob",
        incident_id=resolved.id,
        status="investigating",
        reason="still beaconing",
        at=T0 + timedelta(days=1),
    )
    assert reopened.resolution is None
    with pytest.raises(ValidationError, match="resolution"):
        svc.transition(db, tenant=A, actor="bob", incident_id=resolved.id, status="resolved")


# ------------------------------------------------------------------------------ found by trying to break it


def test_a_classification_changes_only_by_closing_again(db):
    closed = svc.transition(
        db,
        tenant=A,
        actor="bob",
        incident_id=new(db).id,
        status="closed",
        classification="false_positive",
        at=T0 + timedelta(hours=1),
    )
    with pytest.raises(ValidationError, match="reopen the incident and close it again"):
        svc.update_incident(
            db, tenant=A, actor="bob", incident_id=closed.id, changes={"classification": "true_positive"}
        )
    assert svc.get_incident(db, tenant=A, incident_id=closed.id).classification == "false_positive"


def test_resolution_belongs_to_resolved_and_closed_incidents(db):
    incident = new(db)
    for changes in ({"resolution": "x"}, {"status": "investigating", "resolution": "bogus"}):
        with pytest.raises(ValidationError, match="a resolution is given when resolving"):
            svc.update_incident(db, tenant=A, actor="bob", incident_id=incident.id, changes=changes)
    resolved, _ = walk(db, incident, ["investigating", "resolved"])
    with pytest.raises(ValidationError, match="keeps its resolution"):
        svc.update_incident(db, tenant=A, actor="bob", incident_id=resolved.id, changes={"resolution": None})
    changed = svc.update_incident(
        db, tenant=A, actor="bob", incident_id=resolved.id, changes={"resolution": "reimaged and rotated keys"}
    )
    assert changed.resolution == "reimaged and rotated keys"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (
            lambda db, i: svc.add_comment(db, tenant=A, actor="bob", incident_id=i, text="\x1b[2J\x1b]0;owned\x07"),
            "comment",
        ),
        (lambda db, i: svc.add_comment(db, tenant=A, actor="bob", incident_id=i, text="nul\x00byte"), "comment"),
        (lambda db, i: svc.add_comment(db, tenant=A, actor="bob\x1b[31m", incident_id=i, text="hi"), "actor"),
        (lambda db, i: svc.add_comment(db, tenant=A, actor=7, incident_id=i, text="hi"), "actor"),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"title": "two\nlines"}
            ),
            "title",
        ),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"title": "bad \ud800 surrogate"}
            ),
            "title",
        ),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"title": "gpj.exe\u202e"}
            ),
            "title",
        ),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"iocs": {"value": "1.2.3.4"}}
            ),
            "iocs",
        ),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"affected_assets": {"h": 1}}
            ),
            "affected_assets",
        ),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"mitre_tactic": ["Execution"]}
            ),
            "mitre_tactic",
        ),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"severity": "low"}, expected_version=99
            ),
            "expected_version",
        ),
        (
            lambda db, i: svc.update_incident(
                db, tenant=A, actor="bob", incident_id=i, changes={"severity": "low"}, expected_version="1"
            ),
            "expected_version",
        ),
        (
            lambda db, i: svc.create_incident(db, tenant="x" * 65, actor="bob", data={"title": "t", "severity": "low"}),
            "tenant",
        ),
        (
            lambda db, i: svc.create_incident(
                db,
                tenant=A,
                actor="bob",
                data={"title": "t", "severity": "low"},
                at=datetime.now(UTC) + timedelta(minutes=2),
            ),
            "at",
        ),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(db, call, field):
    incident = new(db)
    before = counts(db)
    with pytest.raises(ValidationError) as info:
        call(db, incident.id)
    assert field in info.value.errors
    assert counts(db) == before


def test_updates_without_an_expected_version_do_not_conflict_with_each_other(db):
    import threading

    incident = new(db)
    failures = []

    def bump(n):
        try:
            svc.update_incident(
                db, tenant=A, actor=f"user{n}", incident_id=incident.id, changes={"affected_assets": [f"host-{n}"]}
            )
        except Exception as exc:  # collected and reported below
            failures.append(exc)

    threads = [threading.Thread(target=bump, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert svc.get_incident(db, tenant=A, incident_id=incident.id).version == 7


def test_filters_read_tactic_spellings_and_technique_ids_literally(db):
    new(db, mitre_technique="T1059.001")
    new(db, mitre_technique="T1566.001")
    for spelling in ("execution", "TA0002", "Execution"):
        assert svc.list_incidents(db, tenant=A, filters=svc.IncidentFilter(tactic=spelling)).total == 1
    for pattern in ("%", "T____", "T1%"):
        assert svc.list_incidents(db, tenant=A, filters=svc.IncidentFilter(technique=pattern)).total == 0
    with pytest.raises(ValidationError, match="at most 12 words"):
        svc.list_incidents(db, tenant=A, filters=svc.IncidentFilter(search="a " * 13))
