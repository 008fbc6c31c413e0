"""Every real file in ../shared/realdata imported into a fresh database, twice, on both databases."""

from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import incidents as svc
from core.importers import import_paths
from core.models import incidents
from core.stats import incident_stats
from core.users import add_user
from tests.conftest import skip_or_fail

REALDATA = Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
EXPECTED = {"servicenow": 20_769, "veris": 16, "cortex_xdr": 3, "sentinel": 1, "defender": 1, "splunk_es": 1}


@pytest.fixture
def realdata():
    if not REALDATA.is_dir():
        skip_or_fail(f"{REALDATA} is not present")
    return [
        REALDATA / "servicenow" / "incident_event_log.csv",
        REALDATA / "vcdb",
        *sorted((REALDATA / "vendor").glob("*/*")),
    ]


def test_all_real_files_import_once(engine, realdata):
    add_user(engine, tenant="acme", username="importer", role="manager")
    first = import_paths(engine, tenant="acme", actor="importer", paths=realdata)
    assert (first.rejected, first.unreadable) == ([], [])
    assert first.created == sum(EXPECTED.values())
    with engine.connect() as conn:
        per_source = dict(
            conn.execute(select(incidents.c.source_system, func.count()).group_by(incidents.c.source_system)).all()
        )
    assert per_source == EXPECTED
    again = import_paths(engine, tenant="acme", actor="importer", paths=realdata)
    assert (again.created, again.updated, again.unchanged) == (0, 0, sum(EXPECTED.values()))

    stats = incident_stats(engine, tenant="acme")
    assert stats.total == sum(EXPECTED.values())
    assert stats.mttr.count > 20_000 and 10 * 3600 < stats.mttr.median_s < 30 * 3600  # ServiceNow: ~19 h

    # a ServiceNow incident reopened from Closed keeps its history as timeline events
    reopened = svc.find_by_source(engine, tenant="acme", source_system="servicenow", source_ref="INC0001894")
    moves = [
        (e.old_value, e.new_value)
        for e in svc.get_timeline(engine, tenant="acme", incident_id=reopened)
        if e.kind == "status_changed"
    ]
    assert ("closed", "investigating") in moves
