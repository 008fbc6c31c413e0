"""core.demo: the demo dataset loads through the service, obeys every lifecycle rule and is deterministic."""

from __future__ import annotations

import ipaddress
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from core import attack, demo
from core.config import DEMO_ACTOR, DEMO_TENANT, DatabaseTarget
from core.db import create_engine_for, ensure_schema, is_empty
from core.incidents import create_incident, get_timeline, list_incidents
from core.iocs import parse_iocs
from core.lifecycle import CLASSIFICATIONS, OPEN_STATUSES, SEVERITIES, STATUSES
from core.users import add_user, list_users

NOW = datetime(2026, 11, 30, 14, 25, 17, tzinfo=UTC)
DOC_NETWORKS = [
    ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
]
DOC_SUFFIXES = (".example.com", ".example.net", ".example.org", ".test", ".invalid", ".example")


def _engine(path):
    engine = create_engine_for(DatabaseTarget(f"duckdb:///{path}", "argument"))
    ensure_schema(engine)
    return engine


def _all_incidents(engine) -> list:
    """Every incident of both demo tenants, oldest first."""
    result = []
    for tenant in demo.DEMO_TENANTS:
        page = list_incidents(engine, tenant=tenant, sort="oldest", limit=1000)
        assert page.total == len(page.items)
        result += page.items
    return result


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    engine = _engine(tmp_path_factory.mktemp("demo") / "t.duckdb")
    counts = demo.load_demo(engine, now=NOW)
    yield engine, counts
    engine.dispose()


@pytest.fixture(scope="module")
def incidents(loaded):
    return _all_incidents(loaded[0])


# ---------------------------------------------------------------------------------------------- the data file


def test_scenario_file_matches_the_tenants_and_is_valid():
    spec = json.loads(demo.SCENARIOS_PATH.read_text(encoding="utf-8"))
    assert {tenant: info["name"] for tenant, info in spec["tenants"].items()} == demo.DEMO_TENANTS
    assert DEMO_TENANT in demo.DEMO_TENANTS
    assert DEMO_ACTOR in {user["username"] for user in spec["tenants"][DEMO_TENANT]["users"]}
    all_names = [user["username"] for info in spec["tenants"].values() for user in info["users"]]
    assert len(all_names) == len(set(all_names))  # user names sign in: unique across tenants
    keys = [scenario["key"] for scenario in spec["scenarios"]]
    assert len(keys) == 8 and len(set(keys)) == 8
    for scenario in spec["scenarios"]:
        assert scenario["mitre_tactic"] in attack.tactics_for(scenario["mitre_technique"]), scenario["key"]
        assert scenario["severity"] in SEVERITIES
        assert len(parse_iocs(scenario["iocs"])) == len(scenario["iocs"])
        assert scenario["affected_assets"] and scenario["description"].count(".") >= 2


def test_relative_times_parse_and_bad_ones_are_rejected():
    assert demo._ago("2d4h30m") == timedelta(days=2, hours=4, minutes=30)
    assert demo._ago("38m") == timedelta(minutes=38)
    for bad in ("", "4x", "-3h", "3h2d"):
        with pytest.raises(ValueError):
            demo._ago(bad)


# ---------------------------------------------------------------------------------------------- loading


def test_load_reports_counts(loaded, incidents):
    engine, counts = loaded
    assert counts["tenants"] == 2
    assert counts["scenarios"] == 8
    assert counts["history"] == 300
    assert counts["incidents"] == 308 == len(incidents)
    assert counts["users"] == sum(len(list_users(engine, tenant=t, active_only=False)) for t in demo.DEMO_TENANTS)
    assert counts["reopens"] >= 1
    assert not is_empty(engine)


def test_every_incident_obeys_the_lifecycle_rules(incidents):
    for inc in incidents:
        what = f"{inc.title} ({inc.status})"
        assert inc.status in STATUSES, what
        stamps = [inc.created_at, inc.acknowledged_at, inc.resolved_at, inc.closed_at, inc.updated_at]
        assert all(t is None or t <= NOW for t in stamps), what
        assert all(t is None or inc.created_at <= t <= inc.updated_at for t in stamps), what
        if inc.status == "new":
            assert inc.acknowledged_at is None, what
        else:
            assert inc.acknowledged_at is not None, what
        if inc.status in OPEN_STATUSES:
            assert inc.resolved_at is None and inc.closed_at is None and inc.classification is None, what
        if inc.status in ("resolved", "closed"):
            assert inc.resolved_at is not None, what
            assert inc.acknowledged_at <= inc.resolved_at, what
        if inc.status == "resolved":
            assert inc.resolution, what
            assert inc.closed_at is None and inc.classification is None, what
        if inc.status == "closed":
            assert inc.classification in CLASSIFICATIONS, what
            assert inc.closed_at is not None and inc.resolved_at <= inc.closed_at, what
        if inc.mitre_technique:
            assert inc.mitre_tactic in attack.tactics_for(inc.mitre_technique), what
        if inc.assigned_to is None:
            assert inc.status == "new", what


def test_timelines_are_ordered_and_never_in_the_future(loaded, incidents):
    engine, _ = loaded
    kinds = Counter()
    reopened = 0
    for inc in incidents:
        timeline = get_timeline(engine, tenant=inc.tenant_id, incident_id=inc.id)  # newest first
        assert timeline[-1].kind == "created"
        assert all(inc.created_at <= event.at <= NOW for event in timeline)
        assert [e.at for e in timeline] == sorted((e.at for e in timeline), reverse=True)
        kinds.update(event.kind for event in timeline)
        reopened += any(e.kind == "status_changed" and e.old_value == "closed" and e.note for e in timeline)
    assert kinds["created"] == len(incidents)
    assert kinds["comment"] > len(incidents) // 2
    assert kinds["status_changed"] > len(incidents)
    assert kinds["assigned"] > len(incidents) // 2
    assert reopened >= 1


def test_times_are_spread_over_six_months_before_now(incidents):
    created = sorted(inc.created_at for inc in incidents)
    assert created[0] >= NOW - timedelta(days=demo.HISTORY_DAYS + 1)
    assert created[0] <= NOW - timedelta(days=150)
    assert created[-1] >= NOW - timedelta(hours=6)
    months = Counter((NOW - t).days // 30 for t in created)
    assert all(months[m] >= 10 for m in range(6))


def test_both_tenants_sources_and_analysts(loaded, incidents):
    per_tenant = Counter(inc.tenant_id for inc in incidents)
    assert set(per_tenant) == set(demo.DEMO_TENANTS)
    assert per_tenant["acme"] > per_tenant["globex"] >= 50
    assert len({inc.source_siem for inc in incidents if inc.source_siem}) >= 5
    assignees = {(inc.tenant_id, inc.assigned_to) for inc in incidents if inc.assigned_to}
    assert len({name for _, name in assignees}) >= 6
    for tenant in demo.DEMO_TENANTS:
        assert len({name for t, name in assignees if t == tenant}) >= 3
    acme_users = {user.username: user for user in list_users(loaded[0], tenant="acme")}
    assert acme_users[DEMO_ACTOR].display_name == "Demo Analyst"
    assert acme_users["demo.manager"].role == "manager"


def test_all_scenarios_are_present_where_they_belong(incidents):
    by_title = {(inc.tenant_id, inc.title): inc for inc in incidents}
    scenario_statuses = set()
    for scenario in demo.scenarios():
        inc = by_title.get((scenario["tenant"], scenario["title"]))
        assert inc is not None, scenario["key"]
        assert inc.mitre_technique == scenario["mitre_technique"]
        assert inc.source_siem == scenario["source_siem"]
        scenario_statuses.add(inc.status)
    assert scenario_statuses == set(STATUSES)  # the scenarios alone show every stage
    assert sum(s["tenant"] == "globex" for s in demo.scenarios()) >= 2


def test_realistic_mix(incidents):
    statuses = Counter(inc.status for inc in incidents)
    assert set(statuses) == set(STATUSES)
    open_count = sum(statuses[s] for s in OPEN_STATUSES) + statuses["resolved"]
    assert 20 <= open_count <= 90  # a backlog, not a flood
    assert statuses["closed"] > len(incidents) / 2
    severities = Counter(inc.severity for inc in incidents)
    assert set(severities) == set(SEVERITIES)
    assert severities["critical"] < severities["high"] < severities["medium"]
    assert severities["critical"] <= 0.08 * len(incidents)
    assert severities["medium"] + severities["low"] > len(incidents) / 2
    classifications = Counter(inc.classification for inc in incidents if inc.status == "closed")
    assert set(classifications) == set(CLASSIFICATIONS)
    assert any(inc.status == "new" and inc.assigned_to is None for inc in incidents)
    old = [inc for inc in incidents if inc.created_at < NOW - timedelta(days=60)]
    assert sum(inc.status == "closed" for inc in old) >= 0.9 * len(old)
    assert any(inc.mitre_technique is None for inc in incidents)  # not every alert maps to ATT&CK
    assert len({inc.title for inc in incidents}) > 0.8 * len(incidents)


def test_lifecycle_speed_depends_on_severity(incidents):
    def median_hours(severity, start, end):
        spans = sorted(
            (getattr(i, end) - getattr(i, start)).total_seconds() / 3600
            for i in incidents
            if i.severity == severity and getattr(i, end) and i.created_at < NOW - timedelta(days=14)
        )
        return spans[len(spans) // 2]

    assert median_hours("critical", "created_at", "acknowledged_at") < 0.5
    assert median_hours("low", "created_at", "acknowledged_at") > 2
    assert median_hours("critical", "created_at", "resolved_at") < median_hours("low", "created_at", "resolved_at")


def test_iocs_use_documentation_values_only(incidents):
    seen = Counter()
    for inc in incidents:
        for ioc in inc.iocs:
            seen[ioc["type"]] += 1
            value = ioc["value"]
            if ioc["type"] in ("ipv4", "ipv6"):
                assert any(ipaddress.ip_address(value) in net for net in DOC_NETWORKS), value
            elif ioc["type"] in ("domain", "email", "url"):
                host = {"domain": value, "email": value.rpartition("@")[2], "url": urlsplit(value).hostname}
                host = host[ioc["type"]]
                if ioc["type"] == "url" and host and host[0].isdigit():
                    assert any(ipaddress.ip_address(host) in net for net in DOC_NETWORKS), value
                else:
                    assert ("." + host).endswith(DOC_SUFFIXES), value
    assert {"ipv4", "ipv6", "domain", "url", "email", "sha256", "filename"} <= set(seen)


# ---------------------------------------------------------------------------------------------- determinism


def test_history_generation_is_deterministic():
    people = {tenant: info["users"] for tenant, info in demo._scenario_file()["tenants"].items()}

    def run(seed):
        plans = demo._history_plans(random.Random(seed), NOW, 300, people)
        return [(p.tenant, p.created_at, p.data["title"], p.data["severity"], p.steps) for p in plans]

    first = run(7)
    assert first == run(7)
    assert first != run(8)


@pytest.mark.parametrize("seed", range(12))
def test_generated_steps_run_forward_from_creation_to_before_now(seed):
    """Cheap (no database): many seeds and moments, every plan's times increase and stay before now."""
    people = {tenant: info["users"] for tenant, info in demo._scenario_file()["tenants"].items()}
    now = NOW + timedelta(days=37 * seed, hours=5 * seed, minutes=11 * seed)
    for plan in demo._history_plans(random.Random(seed), now, 300, people):
        times = [plan.created_at] + [step["at"] for step in plan.steps]
        assert times == sorted(times) and len(set(times)) == len(times), plan.data["title"]
        assert now - timedelta(days=demo.HISTORY_DAYS + 1) <= plan.created_at and times[-1] < now


def test_loading_twice_gives_the_same_incidents(tmp_path):
    def load(name):
        engine = _engine(tmp_path / name)
        try:
            demo.load_demo(engine, now=NOW, history=40)
            return [
                (i.tenant_id, i.title, i.severity, i.status, i.created_at, i.resolved_at, i.assigned_to)
                for i in sorted(_all_incidents(engine), key=lambda i: (i.created_at, i.tenant_id, i.title))
            ]
        finally:
            engine.dispose()

    first = load("a.duckdb")
    assert len(first) == 48
    assert first == load("b.duckdb")


def test_default_now_is_current(tmp_path):
    engine = _engine(tmp_path / "t.duckdb")
    try:
        before = datetime.now(UTC)
        demo.load_demo(engine, history=5)
        newest = max(inc.created_at for inc in _all_incidents(engine))
        assert before - timedelta(hours=1) <= newest <= datetime.now(UTC)
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------- reset


def test_reset_replaces_everything_but_keeps_the_schema_version(tmp_path):
    engine = _engine(tmp_path / "t.duckdb")
    try:
        demo.load_demo(engine, now=NOW, history=10)
        add_user(engine, tenant="other", username="x")
        create_incident(engine, tenant="other", actor="x", data={"title": "not demo data", "severity": "low"})
        counts = demo.reset_demo(engine, now=NOW, history=10)
        assert counts["incidents"] == 18
        assert len(_all_incidents(engine)) == 18
        assert list_incidents(engine, tenant="other").total == 0
        with engine.connect() as conn:  # the schema's revision survives the reset
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head_revision()
    finally:
        engine.dispose()


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from core.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    (head,) = ScriptDirectory.from_config(config).get_heads()
    return head


def test_load_keeps_existing_users(tmp_path):
    from core.users import add_user

    engine = _engine(tmp_path / "t.duckdb")
    try:
        add_user(engine, tenant="acme", username="j.chen", display_name="Already Here")
        counts = demo.load_demo(engine, now=NOW, history=0)
        assert counts["incidents"] == 8
        names = {u.username: u.display_name for u in list_users(engine, tenant="acme")}
        assert names["j.chen"] == "Already Here"
    finally:
        engine.dispose()
