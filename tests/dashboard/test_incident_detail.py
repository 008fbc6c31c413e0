"""The incident detail page in AppTest: deep links, lifecycle form, timeline, conflicts, safe text."""

from core import incidents as svc
from core.lifecycle import allowed_next
from tests.dashboard.conftest import TENANT, open_incident, raw_texts, texts


def test_deep_link_opens_the_incident(seeded, app):
    open_incident(app, seeded["crit"].id)
    assert not app.exception
    shown = texts(app)
    assert "LockBit ransomware on FS-01" in shown
    assert "T1486" in shown and "Data Encrypted for Impact" in shown and "attack.mitre.org/techniques/T1486" in shown
    assert "203.0.113[.]7" in "\n".join(c.value for c in app.code)  # IOCs defanged


def test_unknown_or_other_tenants_id_shows_not_found(seeded, app):
    for incident_id in (seeded["other"].id, "00000000-0000-4000-8000-000000000000", "garbage"):
        open_incident(app, incident_id)
        assert "Incident not found" in texts(app)
        assert "Globex secret incident" not in texts(app)


def test_status_form_offers_exactly_the_allowed_moves_and_saves(seeded, app, engine):
    incident, v = seeded["crit"], 1
    open_incident(app, incident.id)
    target = app.selectbox(key=f"target:{incident.id}:{v}")
    assert target.options == [m.capitalize() for m in allowed_next("new")]
    target.select("containment").run()
    app.button(key=f"move:{incident.id}:{v}").click().run()
    assert not app.exception
    saved = svc.get_incident(engine, tenant=TENANT, incident_id=incident.id)
    assert saved.status == "containment" and saved.updated_by == "demo.analyst"
    assert "moved it: New → Containment" in texts(app)  # on the timeline
    v = 2
    assert app.selectbox(key=f"target:{incident.id}:{v}").options == [
        "Eradication",
        "Resolved",
        "Closed",
        "Back to Investigating",  # progress first
    ]


def test_resolving_asks_for_a_resolution_and_keeps_the_form_on_error(seeded, app, engine):
    incident, v = seeded["crit"], 1
    open_incident(app, incident.id)
    app.selectbox(key=f"target:{incident.id}:{v}").select("resolved").run()
    assert app.text_area(key=f"resolution:{incident.id}:{v}")
    app.button(key=f"move:{incident.id}:{v}").click().run()
    assert "resolving needs a resolution text" in texts(app)
    assert svc.get_incident(engine, tenant=TENANT, incident_id=incident.id).status == "new"
    assert app.selectbox(key=f"target:{incident.id}:{v}").value == "resolved"  # the choice is kept
    app.text_area(key=f"resolution:{incident.id}:{v}").input("Restored from backup").run()
    app.button(key=f"move:{incident.id}:{v}").click().run()
    saved = svc.get_incident(engine, tenant=TENANT, incident_id=incident.id)
    assert saved.status == "resolved" and saved.resolution == "Restored from backup"


def test_closing_offers_only_the_classifications_the_lifecycle_allows(seeded, app):
    incident, v = seeded["low"], 1
    open_incident(app, incident.id)
    app.selectbox(key=f"target:{incident.id}:{v}").select("closed").run()
    assert app.selectbox(key=f"class:{incident.id}:{v}").options == [
        "False positive",
        "Benign positive",
        "Duplicate",
    ]


def test_acknowledge_assign_and_comment(seeded, app, engine):
    incident = seeded["crit"]
    open_incident(app, incident.id)
    app.button(key=f"ack:{incident.id}").click().run()
    app.button(key=f"mine:{incident.id}").click().run()
    app.text_area(key=f"comment:{incident.id}:0").input("Isolated FS-01 from the network")
    app.form_submit_button[0].click().run()
    saved = svc.get_incident(engine, tenant=TENANT, incident_id=incident.id)
    assert saved.status == "investigating" and saved.acknowledged_at and saved.assigned_to == "demo.analyst"
    assert app.text_area(key=f"comment:{incident.id}:1").value == ""  # posted: an empty box for the next one
    shown = texts(app)
    assert "Isolated FS-01 from the network" in shown and "assigned it to Demo Analyst" in shown


def test_a_conflicting_edit_is_reported_and_the_input_kept(seeded, app, engine):
    incident, v = seeded["crit"], 1
    open_incident(app, incident.id)
    svc.update_incident(
        engine, tenant=TENANT, actor="j.chen", incident_id=incident.id, changes={"severity": "high"}
    )  # someone else, meanwhile
    app.selectbox(key=f"target:{incident.id}:{v}").select("resolved").run()
    assert "Jia Chen changed severity since you opened this incident" in texts(app)
    app.text_area(key=f"resolution:{incident.id}:{v}").input("Restored from backup").run()
    app.button(key=f"move:{incident.id}:{v}").click().run()
    assert "Not saved: Jia Chen changed severity since you opened this incident" in texts(app)
    assert svc.get_incident(engine, tenant=TENANT, incident_id=incident.id).status == "new"
    assert app.text_area(key=f"resolution:{incident.id}:{v}").value == "Restored from backup"  # kept
    app.button(key=f"reload:{incident.id}").click().run()
    v = 2  # working from the latest version now: a fresh form
    app.selectbox(key=f"target:{incident.id}:{v}").select("resolved").run()
    app.text_area(key=f"resolution:{incident.id}:{v}").input("Restored from backup").run()
    app.button(key=f"move:{incident.id}:{v}").click().run()
    assert svc.get_incident(engine, tenant=TENANT, incident_id=incident.id).status == "resolved"


def test_iocs_and_assets_can_be_added_and_removed(seeded, app, engine):
    incident, v = seeded["crit"], 1
    open_incident(app, incident.id)
    app.text_input(key=f"ioc_value:{incident.id}:{v}").input("hxxps://evil[.]example/payload").run()
    app.button(key=f"ioc_add:{incident.id}:{v}").click().run()
    v = 2  # saved: fresh, empty inputs
    assert app.text_input(key=f"ioc_value:{incident.id}:{v}").value == ""
    assert "https://evil.example" not in texts(app) and "hxxps://evil[.]example/payload" in texts(app)
    app.text_input(key=f"ioc_value:{incident.id}:{v}").input("not a hash")
    app.selectbox(key=f"ioc_type:{incident.id}:{v}").select("md5").run()
    app.button(key=f"ioc_add:{incident.id}:{v}").click().run()
    assert "Invalid MD5" in texts(app) and "IOC #" not in texts(app)
    app.text_input(key=f"asset_value:{incident.id}:{v}").input("WS-0042").run()
    app.button(key=f"asset_add:{incident.id}:{v}").click().run()
    v = 3
    saved = svc.get_incident(engine, tenant=TENANT, incident_id=incident.id)
    assert {"type": "url", "value": "https://evil.example/payload"} in saved.iocs and len(saved.iocs) == 2
    assert saved.affected_assets == ["FS-01", "WS-0042"]
    app.multiselect(key=f"asset_remove:{incident.id}:{v}").select("FS-01").run()
    app.button(key=f"asset_del:{incident.id}:{v}").click().run()
    assert svc.get_incident(engine, tenant=TENANT, incident_id=incident.id).affected_assets == ["WS-0042"]


def test_user_text_is_shown_as_text(seeded, app):
    open_incident(app, seeded["xss"].id)
    shown = raw_texts(app)
    assert "\\<img src\\=x onerror\\=alert\\(1\\)\\>" in shown
    assert "\\[click\\]\\(javascript\\:alert\\(1\\)\\)" in shown
    assert "\\*\\*bold\\*\\* \\<script\\>" in shown
    assert not any(getattr(m, "allow_html", False) and "onerror" in m.value for m in app.markdown)
