"""The dashboard's link to core: one engine per database, the signed-in user, cached reads, writes.

Pages call these functions; they never touch SQL, engines or connections themselves.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core import incidents as service
from core import stats as stats_service
from core import users as users_service
from core.config import DEMO_TENANT, DatabaseTarget, resolve_database
from core.db import open_database

CACHE_TTL_S = 30


@dataclass(frozen=True)
class Viewer:
    tenant: str
    username: str
    display_name: str
    role: str


def _dispose(resource) -> None:
    resource[0].dispose()  # also frees DuckDB's file lock


@st.cache_resource(
    on_release=_dispose, show_spinner="Opening the incident database (the first start of the demo prepares its data)…"
)
def _open(resolved: DatabaseTarget):
    return open_database(resolved)


def database():
    """(engine, target) of the configured database, opened once per process and database."""
    return _open(resolve_database())


def engine():
    return database()[0]


def target() -> DatabaseTarget:
    return database()[1]


def viewer() -> Viewer:
    """Who is using the dashboard. Until sign-in lands, the demo analyst (or the manager switch) in demo mode,
    else the tenant, user and role named by INCIDENTS_DASHBOARD_TENANT / _USER / _ROLE."""
    if "viewer" in st.session_state:
        return Viewer(**st.session_state["viewer"])
    if target().is_embedded_demo:
        if st.session_state.get("demo_manager"):
            return Viewer(DEMO_TENANT, "demo.manager", "Demo Manager", "manager")
        return Viewer(DEMO_TENANT, "demo.analyst", "Demo Analyst", "analyst")
    tenant = os.environ.get("INCIDENTS_DASHBOARD_TENANT", DEMO_TENANT)
    username = os.environ.get("INCIDENTS_DASHBOARD_USER", "demo.analyst")
    return Viewer(tenant, username, username, os.environ.get("INCIDENTS_DASHBOARD_ROLE", "analyst"))


# ------------------------------------------------------------------------------------------ cached reads
# Keyed by database URL and tenant (and the query), cleared after every write.


@st.cache_data(ttl=CACHE_TTL_S, max_entries=256, show_spinner=False)
def _list(url: str, tenant: str, filters: service.IncidentFilter, sort: str, limit: int, offset: int):
    return service.list_incidents(engine(), tenant=tenant, filters=filters, sort=sort, limit=limit, offset=offset)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def _stats(url: str, tenant: str, created_from, created_to):
    return stats_service.incident_stats(engine(), tenant=tenant, created_from=created_from, created_to=created_to)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def _choices(url: str, tenant: str, column: str) -> list[str]:
    return service.distinct_values(engine(), tenant=tenant, column=column)


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def _analysts(url: str, tenant: str) -> list[users_service.User]:
    return [u for u in users_service.list_users(engine(), tenant=tenant) if u.role != "viewer"]


@st.cache_data(ttl=CACHE_TTL_S, max_entries=64, show_spinner=False)
def _display_names(url: str, tenant: str) -> dict[str, str]:
    return {u.username: u.display_name for u in users_service.list_users(engine(), tenant=tenant, active_only=False)}


def display_names() -> dict[str, str]:
    """User name -> display name for everyone of the tenant (timeline actors may be former users too)."""
    return _display_names(target().url, viewer().tenant)


def display_name(username: str | None) -> str:
    return display_names().get(username, username) if username else ""


def list_incidents(filters: service.IncidentFilter, *, sort: str, limit: int, offset: int) -> service.IncidentPage:
    return _list(target().url, viewer().tenant, filters, sort, limit, offset)


def incident_stats(created_from=None, created_to=None) -> stats_service.Stats:
    return _stats(target().url, viewer().tenant, created_from, created_to)


def filter_choices(column: str) -> list[str]:
    return _choices(target().url, viewer().tenant, column)


def analysts() -> list[users_service.User]:
    return _analysts(target().url, viewer().tenant)


def detail(incident_id: str) -> service.IncidentDetail:
    """Never cached: the detail page must show the latest version to detect conflicts."""
    return service.get_detail(engine(), tenant=viewer().tenant, incident_id=incident_id)


def exporter(writer: Callable, filters: service.IncidentFilter, sort: str) -> Callable[[], str]:
    """A callable that renders every matching incident with `writer` when the user clicks download.

    It captures the engine and tenant now: it runs outside the script run, where st.* is unavailable."""
    bound_engine, tenant = engine(), viewer().tenant

    def render() -> str:
        buffer = io.StringIO()
        writer(service.iter_incidents(bound_engine, tenant=tenant, filters=filters, sort=sort), buffer)
        return buffer.getvalue()

    return render


# ------------------------------------------------------------------------------------------ writes


def write(action: Callable, /, **kwargs):
    """Run a core write as the signed-in user in their tenant, then drop cached reads."""
    who = viewer()
    result = action(engine(), tenant=who.tenant, actor=who.username, **kwargs)
    st.cache_data.clear()
    return result


def import_file(path, *, format: str, progress=None):
    """Import a file into the signed-in user's tenant as that user, then drop cached reads."""
    from core.importers import import_paths

    who = viewer()
    report = import_paths(
        engine(), tenant=who.tenant, actor=who.username, paths=[path], format=format, progress=progress
    )
    st.cache_data.clear()
    return report


def preview_import(path, *, format: str):
    from core.importers import preview

    return preview(engine(), tenant=viewer().tenant, path=path, format=format)


def flash(message: str) -> None:
    """A message shown once after the next rerun (e.g. after a successful save)."""
    st.session_state["flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("flash", None)
    if message:
        st.toast(message, icon=":material/check_circle:")
