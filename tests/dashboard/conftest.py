"""AppTest fixtures: the real app on a real database (DuckDB file and PostgreSQL), seeded through core."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core import incidents as svc
from core.auth import set_password
from core.timeutil import utcnow
from core.users import add_user

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
TENANT, OTHER = "acme", "globex"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_caches():
    """AppTest shares Streamlit's caches across tests in one process."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def seeded(engine, db_url, monkeypatch):
    """A small tenant 'acme' (and a 'globex' incident); the app is pointed at this database."""
    add_user(engine, tenant=TENANT, username="demo.analyst", display_name="Demo Analyst")
    add_user(engine, tenant=TENANT, username="j.chen", display_name="Jia Chen")
    add_user(engine, tenant=TENANT, username="boss", display_name="Morgan Boss", role="manager")
    add_user(engine, tenant=TENANT, username="vic", display_name="Vic Viewer", role="viewer")
    add_user(engine, tenant=OTHER, username="r.kowalski", display_name="Rafał Kowalski")
    for username in ("demo.analyst", "boss", "vic", "r.kowalski"):
        set_password(engine, username=username, password=PASSWORD)
    now = utcnow()

    def make(title, severity, tenant=TENANT, hours_ago=1, **data):
        return svc.create_incident(
            engine,
            tenant=tenant,
            actor="j.chen" if tenant == TENANT else "r.kowalski",
            at=now - timedelta(hours=hours_ago),
            data={"title": title, "severity": severity, **data},
        )

    incidents = {
        "crit": make(
            "LockBit ransomware on FS-01",
            "critical",
            hours_ago=5,
            mitre_technique="T1486",
            source_siem="Splunk ES",
            iocs=["203.0.113.7"],
            affected_assets=["FS-01"],
        ),
        "high": make(
            "Beacon to rare domain",
            "high",
            hours_ago=3,
            mitre_technique="T1071.001",
            source_siem="Microsoft Sentinel",
            assigned_to="j.chen",
        ),
        "low": make("Port scan from guest Wi-Fi", "low", hours_ago=2, source_siem="Splunk ES"),
        "xss": make(
            "<img src=x onerror=alert(1)> [click](javascript:alert(1))",
            "medium",
            hours_ago=1,
            description="**bold** <script>alert(1)</script>",
        ),
        "other": make("Globex secret incident", "critical", tenant=OTHER),
    }
    done = make("Old phishing", "medium", hours_ago=50)
    done = svc.transition(
        engine,
        tenant=TENANT,
        actor="j.chen",
        incident_id=done.id,
        status="closed",
        classification="false_positive",
        at=now - timedelta(hours=49),
    )
    incidents["closed"] = done
    monkeypatch.setenv("INCIDENTS_DATABASE_URL", db_url)
    return incidents


@pytest.fixture
def app():
    """A fresh AppTest of the real entry point (not yet run), signed in as the analyst demo.analyst."""
    return signed_in_as(AppTest.from_file(APP, default_timeout=30), "demo.analyst", "Demo Analyst", "analyst")


def signed_in_as(app: AppTest, username: str, display_name: str, role: str, tenant: str = TENANT) -> AppTest:
    """Start the session signed in (the sign-in form itself is tested in test_sign_in.py)."""
    app.session_state["principal"] = {
        "tenant": tenant,
        "username": username,
        "display_name": display_name,
        "role": role,
    }
    return app


def open_incident(app: AppTest, incident_id: str) -> AppTest:
    """A deep link: /incident?id=..."""
    app.query_params["id"] = incident_id
    return app.switch_page("views/incident.py").run()


def raw_texts(app: AppTest) -> str:
    """Everything the page shows as markdown, captions, errors, warnings and titles, as sent (escaped)."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "error", "warning", "info", "title", "success")
        for e in getattr(app, kind)
    ]
    return "\n".join(str(p) for p in parts)


def texts(app: AppTest) -> str:
    """The same with markdown's backslash escapes removed: what a reader sees."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", raw_texts(app))
