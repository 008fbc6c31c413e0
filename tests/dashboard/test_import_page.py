"""The Import page in AppTest: managers only, preview, import with a result and the rejected records."""

import json

from core import incidents as svc
from tests.dashboard.conftest import TENANT, signed_in_as

RECORDS = [
    {
        "source_system": "soc",
        "source_ref": "1",
        "title": "Imported beacon",
        "severity": "High",
        "status": "Active",
        "created_at": "2026-05-01T08:00:00Z",
        "mitre_tactic": "CommandAndControl",
    },
    {
        "source_system": "soc",
        "source_ref": "2",
        "title": "Bad one",
        "severity": "catastrophic",
        "created_at": "2026-05-01T08:00:00Z",
    },
]


def import_page(app, role="manager"):
    if role == "manager":
        signed_in_as(app, "boss", "Morgan Boss", "manager")
    app.run()
    return app


def test_only_managers_see_the_import_page(seeded, app):
    import_page(app, role="analyst")
    assert "Import" not in [link.label for link in app.get("page_link")] and not app.exception


def test_preview_then_import(seeded, app, engine):
    import_page(app).switch_page("views/import_incidents.py").run()
    upload = json.dumps(RECORDS).encode()
    app.file_uploader(key="import_upload").set_value(("feed.json", upload, "application/json")).run()
    assert not app.exception
    preview = app.dataframe[0].value
    assert list(preview["Result"]) == [
        "Will import",
        "Rejected: unknown severity 'catastrophic' (ours: critical, high, medium, low, informational)",
    ]
    assert preview["Status"].iloc[0] == "Investigating" and preview["Tactic"].iloc[0] == "Command and Control"
    app.button(key="import_go").click().run()
    shown = {m.label: m.value for m in app.metric}
    assert (shown["Read"], shown["Created"], shown["Rejected"]) == ("2", "1", "1")
    assert app.dataframe[-1].value["Record"].tolist() == ["feed.json:1[1]"]
    found = svc.list_incidents(engine, tenant=TENANT, filters=svc.IncidentFilter(search="imported beacon"))
    assert found.total == 1 and found.items[0].created_by == "boss"
