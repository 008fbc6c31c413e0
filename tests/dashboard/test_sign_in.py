"""Sign-in through the dashboard's form, and what each role and tenant sees and may do (AppTest)."""

import pytest
from streamlit.testing.v1 import AppTest

from core import incidents as svc
from core.auth import SIGN_IN_FAILED
from tests.dashboard.conftest import APP, OTHER, PASSWORD, TENANT, open_incident, texts


@pytest.fixture
def fresh():
    """The app with nobody signed in."""
    return AppTest.from_file(APP, default_timeout=30)


def sign_in(app: AppTest, username: str, password: str = PASSWORD) -> AppTest:
    app.run()
    app.text_input(key="sign_in_user").input(username)
    app.text_input(key="sign_in_password").input(password)
    app.get("form_submit_button")[0].click().run()
    return app


def test_nothing_is_shown_before_sign_in(seeded, fresh):
    fresh.run()
    assert "Sign in to work on your organisation's incidents" in texts(fresh)
    assert not fresh.dataframe and "LockBit" not in texts(fresh)


def test_unknown_user_and_wrong_password_get_the_same_message(seeded, fresh):
    sign_in(fresh, "nobody", "whatever it is")
    unknown = [e.value for e in fresh.error]
    sign_in(fresh, "boss", "not the password")
    assert unknown == [e.value for e in fresh.error] == [SIGN_IN_FAILED]


def test_repeated_failures_lock_the_account(seeded, fresh, engine, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # the growing delay, not waited for here
    for _ in range(5):
        sign_in(fresh, "boss", "wrong password!!")
    sign_in(fresh, "boss")  # the right password, but locked now
    assert [e.value for e in fresh.error] == [SIGN_IN_FAILED] and not fresh.dataframe


def test_sign_out_really_ends_the_session(seeded, fresh):
    sign_in(fresh, "boss")
    assert fresh.dataframe
    fresh.button(key="sign_out").click().run()
    assert not fresh.dataframe and "Sign in to work" in texts(fresh)
    assert "principal" not in fresh.session_state


def test_viewer_reads_but_changes_nothing(seeded, fresh):
    sign_in(fresh, "vic")
    assert "Vic Viewer" in texts(fresh) and len(fresh.dataframe[0].value) == 4
    assert not [b for b in fresh.button if b.label in ("CSV", "JSON")]  # exports are for managers
    open_incident(fresh, seeded["crit"].id)
    assert "Read only" in texts(fresh) and "LockBit ransomware on FS-01" in texts(fresh)
    assert not fresh.get("form_submit_button")  # no comment form


def test_analyst_works_incidents_but_does_not_reopen_closed_ones(seeded, fresh, engine):
    sign_in(fresh, "demo.analyst")
    open_incident(fresh, seeded["crit"].id)
    fresh.button(key=f"ack:{seeded['crit'].id}").click().run()
    assert svc.get_incident(engine, tenant=TENANT, incident_id=seeded["crit"].id).status == "investigating"
    assignees = fresh.selectbox(key=f"assignee:{seeded['crit'].id}:2").options
    assert assignees == ["Unassigned", "Demo Analyst"]  # taking it, not assigning someone else
    open_incident(fresh, seeded["closed"].id)
    assert "Reopening a closed incident is a manager's call" in texts(fresh)


def test_manager_reopens_and_imports(seeded, fresh, engine):
    sign_in(fresh, "boss")
    assert any(b.label == "CSV" for b in fresh.get("download_button"))
    open_incident(fresh, seeded["closed"].id)
    incident = seeded["closed"]
    fresh.text_input(key=f"reason:{incident.id}:{incident.version}").input("New beacon from the same host").run()
    fresh.button(key=f"move:{incident.id}:{incident.version}").click().run()
    assert svc.get_incident(engine, tenant=TENANT, incident_id=incident.id).status == "investigating"
    fresh.switch_page("views/import_incidents.py").run()
    assert "Import incidents" in texts(fresh)


def test_an_analyst_of_another_tenant_sees_only_theirs(seeded, fresh):
    sign_in(fresh, "r.kowalski")
    assert list(fresh.dataframe[0].value["Title"]) == ["Globex secret incident"]
    assert f"tenant `{OTHER}`" in texts(fresh)
    open_incident(fresh, seeded["crit"].id)  # acme's incident, by a guessed link
    assert "Incident not found" in texts(fresh) and "LockBit" not in texts(fresh)
