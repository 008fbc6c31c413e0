"""The Incidents page in AppTest: default view, filters in the URL, paging, selection, empty state."""

from tests.dashboard.conftest import texts


def titles(app) -> list[str]:
    return list(app.dataframe[0].value["Title"])


def test_default_view_is_open_incidents_most_severe_first(seeded, app):
    app.run()
    assert not app.exception
    assert titles(app) == [
        "LockBit ransomware on FS-01",
        "Beacon to rare domain",
        "<img src=x onerror=alert(1)> [click](javascript:alert(1))",
        "Port scan from guest Wi-Fi",
    ]
    assert "of **4** incidents" in texts(app)
    assert "Globex secret incident" not in titles(app)  # another tenant's
    assert "Old phishing" not in titles(app)  # closed


def test_filters_narrow_the_list_live_in_the_url_and_survive_a_rerun(seeded, app):
    app.run()
    app.multiselect(key="f_severity").select("critical").run()
    assert titles(app) == ["LockBit ransomware on FS-01"]
    assert app.query_params["severity"] == ["critical"] or app.query_params["severity"] == "critical"
    app.run()
    assert titles(app) == ["LockBit ransomware on FS-01"]
    app.multiselect(key="f_severity").unselect("critical").run()
    app.text_input(key="f_search").input("203.0.113").run()  # an IOC value
    assert titles(app) == ["LockBit ransomware on FS-01"]
    app.text_input(key="f_search").input("").run()
    app.selectbox(key="f_assignee").select("unassigned").run()
    assert "Beacon to rare domain" not in titles(app)
    app.selectbox(key="f_assignee").select("").run()
    app.selectbox(key="f_siem").select("Microsoft Sentinel").run()
    assert titles(app) == ["Beacon to rare domain"]


def test_a_bookmarked_query_opens_with_its_filters(seeded, app):
    app.query_params["status"] = "closed"
    app.query_params["siem"] = ""
    app.run()
    assert titles(app) == ["Old phishing"]
    assert app.multiselect(key="f_status").value == ["closed"]


def test_every_status_when_the_status_filter_is_cleared(seeded, app):
    app.run()
    app.multiselect(key="f_status").set_value([]).run()
    assert "Old phishing" in titles(app) and len(titles(app)) == 5


def test_selecting_a_row_opens_that_incident(seeded, app):
    app.run()
    row = titles(app).index("Beacon to rare domain")
    app.session_state["incident_table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    app.run()
    assert not app.exception
    assert "Beacon to rare domain" in texts(app)
    assert app.query_params["id"] in (seeded["high"].id, [seeded["high"].id])


def test_clicking_a_cell_of_a_row_opens_that_incident(seeded, app):
    app.run()
    row = titles(app).index("Beacon to rare domain")
    app.session_state["incident_table"] = {"selection": {"rows": [], "columns": [], "cells": [[row, "Title"]]}}
    app.run()
    assert not app.exception
    assert app.query_params["id"] in (seeded["high"].id, [seeded["high"].id])


def test_helpful_empty_state(seeded, app):
    app.run()
    app.text_input(key="f_search").input("no such thing anywhere").run()
    assert not app.dataframe
    assert "No incidents match these filters." in texts(app)
    app.button(key="reset_empty").click().run()
    assert len(titles(app)) == 4
