"""The New incident page in AppTest: core's messages next to the fields, input kept, success opens it."""

from core import incidents as svc
from tests.dashboard.conftest import TENANT, texts


def new_page(app):
    return app.run().switch_page("views/new_incident.py").run()  # run first: the page has a custom url_path


def test_validation_errors_are_shown_and_the_input_kept(seeded, app, engine):
    new_page(app)
    app.text_input(key="ni_title").input("   ")
    app.text_area(key="ni_description").input("Suspicious logins from 198.51.100.4")
    app.text_area(key="ni_iocs").input("198.51.100.4\n1.2.3.999")
    app.button(key="create_incident").click().run()
    shown = texts(app)
    assert "The incident was not created" in shown
    assert "must not be blank" in shown  # the title's message
    assert "IOC #2" in shown
    assert app.text_area(key="ni_description").value == "Suspicious logins from 198.51.100.4"
    assert app.text_area(key="ni_iocs").value == "198.51.100.4\n1.2.3.999"
    assert svc.list_incidents(engine, tenant=TENANT, filters=svc.IncidentFilter(search="198.51.100.4")).total == 0


def test_technique_picker_fills_the_tactic_and_success_opens_the_incident(seeded, app, engine):
    new_page(app)
    app.text_input(key="ni_title").input("Credential dumping on DC-01")
    app.selectbox(key="ni_severity").select("high")
    app.selectbox(key="ni_technique").select("T1003.001").run()
    assert app.selectbox(key="ni_tactic").value == "Credential Access"
    app.text_area(key="ni_assets").input("DC-01\nsvc_backup")
    app.text_area(key="ni_iocs").input("hxxp://198[.]51[.]100[.]4/mimi.zip")
    app.button(key="create_incident").click().run()
    assert not app.exception
    created = svc.list_incidents(engine, tenant=TENANT, filters=svc.IncidentFilter(search="dc-01 dumping")).items
    assert len(created) == 1
    incident = created[0]
    assert (incident.severity, incident.mitre_tactic, incident.created_by) == (
        "high",
        "Credential Access",
        "demo.analyst",
    )
    assert incident.iocs == [{"type": "url", "value": "http://198.51.100.4/mimi.zip"}]
    assert "Credential dumping on DC-01" in texts(app)  # now on its detail page
