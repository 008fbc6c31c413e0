"""The app shell: the demo marker on every page, and a clear page when the database is unavailable."""

import pytest

from tests.dashboard.conftest import texts

PAGES = ("views/incidents.py", "views/new_incident.py", "views/statistics.py", "views/incident.py")


@pytest.fixture
def demo(monkeypatch, tmp_path_factory):
    """No database configured: the embedded demo file (one per test session, loaded on first use)."""
    monkeypatch.delenv("INCIDENTS_DATABASE_URL", raising=False)
    monkeypatch.setenv("INCIDENTS_DATA_DIR", str(tmp_path_factory.getbasetemp() / "demo-data"))
    monkeypatch.setattr("core.config.SECRETS_FILES", ())


def test_demo_data_is_marked_on_every_page(demo, app):
    app.run()
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, page
        assert "Demo data" in texts(app), page
    assert "Demo Analyst" in texts(app)


def test_demo_manager_switch(demo, app):
    app.run()
    app.toggle(key="demo_manager").set_value(True).run()
    assert "Demo Manager" in texts(app) and "manager" in texts(app)


def test_unavailable_database_gives_a_clear_page_without_secrets(monkeypatch, app):
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", "postgresql://soc:hunter2@127.0.0.1:1/incidents")
    app.run()
    assert not app.exception
    shown = texts(app)
    assert "The incident database is not available" in shown and "127.0.0.1:1/incidents" in shown
    assert "hunter2" not in shown
