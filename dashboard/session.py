"""The dashboard's link to core: one engine per database, the signed-in user, cached reads, writes.

Pages call these functions; they never touch SQL, engines or connections themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

import streamlit as st

from core import alerts as alert_service
from core import auth
from core import incidents as service
from core import stats as stats_service
from core import users as users_service
from core.config import DEMO_TENANT, DatabaseTarget, resolve_database
from core.db import open_database
from core.export import export
from core.permissions import PermissionDeniedError, Principal

CACHE_TTL_S = 30


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


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def _demo_user(url: str, manager: bool) -> Principal | None:
    return auth.principal(engine(), tenant=DEMO_TENANT, username=DEMO_USERS[manager])


SIGNED_IN = "principal"  # the signed-in user (a plain dict) in this browser session
DEMO_USERS = {False: "demo.analyst", True: "demo.manager"}


def signed_in() -> Principal | None:
    """Who is signed in to this browser session: in demo mode the demo analyst (or, with the switch, the demo
    manager); otherwise whoever signed in with the form or single sign-on."""
    if target().is_embedded_demo:
        return auth.principal(
            engine(), tenant=DEMO_TENANT, username=DEMO_USERS[bool(st.session_state.get("demo_manager"))]
        )
    data = st.session_state.get(SIGNED_IN)
    if not data:
        return None
    # checked again on every run: a user disabled (or whose role changed) meanwhile is not served stale rights
    current = auth.principal(engine(), tenant=data["tenant"], username=data["username"])
    if current is None:
        sign_out()
        return None
    st.session_state[SIGNED_IN] = asdict(current)
    return current


def viewer() -> Principal:
    """The signed-in user (pages run only after sign-in)."""
    who = signed_in()
    if who is None:
        raise PermissionDeniedError("sign in first")
    return who


def sign_in(username: str, password: str) -> Principal:
    """Check the password through core; on success remember the user for this browser session only."""
    who = auth.authenticate(engine(), username=username, password=password)
    st.session_state[SIGNED_IN] = asdict(who)
    return who


def sign_in_by_email(email: str) -> Principal | None:
    who = auth.principal_for_email(engine(), email=email)
    if who is not None:
        st.session_state[SIGNED_IN] = asdict(who)
    return who


def sso_configured() -> bool:
    """Single sign-on (OIDC through st.login) is on when the secrets have an [auth] section."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sign_out() -> None:
    """End the session: nothing of the user stays in it (a reload starts signed out)."""
    for key in list(st.session_state):
        del st.session_state[key]


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


def alerts(incident: service.Incident) -> list[alert_service.Alert]:
    """The alerts escalated into an incident read with `detail` (never cached, like the detail)."""
    return alert_service.alerts_of(engine(), incident)


def exporter(writer: Callable, filters: service.IncidentFilter, sort: str) -> Callable[[], str]:
    """A callable that renders every matching incident with `writer` when the user clicks download.

    It captures the engine and user now: it runs outside the script run, where st.* is unavailable."""
    bound_engine, who = engine(), viewer()

    def render() -> str:
        return export(bound_engine, tenant=who.tenant, actor=who.username, writer=writer, filters=filters, sort=sort)

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
