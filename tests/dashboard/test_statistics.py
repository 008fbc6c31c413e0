"""The Statistics page in AppTest: KPIs agree with core, the period lives in the URL, no errors."""

from core.stats import incident_stats
from dashboard.formatting import duration
from tests.dashboard.conftest import TENANT, texts


def stats_page(app):
    return app.run().switch_page("views/statistics.py").run()  # run first: the page has a custom url_path


def metrics(app) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_kpis_agree_with_core(seeded, app, engine):
    stats_page(app)
    assert not app.exception
    everything = incident_stats(engine, tenant=TENANT)
    shown = metrics(app)
    assert shown["Open"] == str(everything.open) == "4"  # the backlog now: the seeded open incidents
    assert shown["Critical open"] == "1"
    assert shown["Unassigned"] == str(everything.unassigned_open)
    assert shown["MTTA · median"] == duration(everything.mtta.median_s)
    assert len(app.get("plotly_chart")) == 8
    assert "Globex" not in texts(app)


def test_period_is_kept_in_the_url(seeded, app):
    stats_page(app)
    app.segmented_control(key="stats_range").set_value("7d").run()
    assert app.query_params.get("range") in ("7d", ["7d"])
    assert metrics(app)["Incidents"] == "5"  # the closed one was created 50 h ago: still inside 7 days


def test_a_bookmarked_custom_range(seeded, app):
    app.query_params["from"] = "2020-01-01"
    app.query_params["to"] = "2020-01-31"
    stats_page(app)
    assert not app.exception
    assert app.segmented_control(key="stats_range").value == "custom"
    assert metrics(app)["Incidents"] == "0" and metrics(app)["Open"] == "4"
