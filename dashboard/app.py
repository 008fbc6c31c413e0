"""ThreatOps Incidents: the dashboard's entry point (`streamlit run dashboard/app.py`)."""

from __future__ import annotations

import logging

import streamlit as st

from core.errors import DatabaseUnavailableError, IncidentError
from dashboard import session
from dashboard.components.text import md_escape
from dashboard.views import sign_in

log = logging.getLogger("threatops.dashboard")

st.set_page_config(page_title="ThreatOps Incidents", page_icon="🛡️", layout="wide")


def _demo_marker() -> None:
    st.warning(
        "**Demo data** — this is the embedded demo database with invented incidents. "
        "Set `INCIDENTS_DATABASE_URL` (or `[database] url` in `.streamlit/secrets.toml`) to use your own.",
        icon=":material/science:",
    )


def _sidebar(viewer) -> None:
    with st.sidebar:
        st.markdown("## :material/shield: ThreatOps Incidents")
        st.caption(f"Signed in as **{md_escape(viewer.display_name)}** · {viewer.role} · tenant `{viewer.tenant}`")
        if session.target().is_embedded_demo:
            st.toggle(
                "Act as demo manager",
                key="demo_manager",
                help="Demo mode only: switch between the demo analyst and the demo manager.",
            )
        else:
            st.button("Sign out", key="sign_out", icon=":material/logout:", on_click=_sign_out)
            st.caption(f"Database: `{session.target().masked}`")


def _sign_out() -> None:
    session.sign_out()
    if session.sso_configured() and st.user.is_logged_in:
        st.logout()


def _pages(viewer) -> list:
    """The pages this user's role may use (core enforces the same rules on every action)."""
    pages = [st.Page("views/incidents.py", title="Incidents", icon=":material/list_alt:", default=True)]
    if viewer.may("create"):
        pages.append(
            st.Page("views/new_incident.py", title="New incident", icon=":material/add_circle:", url_path="new")
        )
    pages.append(
        st.Page("views/statistics.py", title="Statistics", icon=":material/monitoring:", url_path="statistics")
    )
    pages.append(
        st.Page(
            "views/incident.py",
            title="Incident",
            icon=":material/crisis_alert:",
            url_path="incident",
            visibility="hidden",
        )
    )
    if viewer.may("import"):
        pages.append(
            st.Page("views/import_incidents.py", title="Import", icon=":material/upload_file:", url_path="import")
        )
    return pages


def main() -> None:
    try:
        session.database()
    except DatabaseUnavailableError as exc:
        st.error(f"**The incident database is not available.** {exc}", icon=":material/database_off:")
        st.info("Check the database URL in `INCIDENTS_DATABASE_URL` or `.streamlit/secrets.toml`, then reload.")
        st.stop()

    viewer = session.signed_in()
    if viewer is None:  # the sign-in form at every page's address, so deep links survive signing in
        addresses = ["", "new", "statistics", "incident", "import"]
        st.navigation(
            [
                st.Page(sign_in.render, title="Sign in", url_path=path or "sign-in", default=not path)
                for path in addresses
            ],
            position="hidden",
        ).run()
        return
    page = st.navigation(_pages(viewer))
    _sidebar(viewer)
    if session.target().is_embedded_demo:
        _demo_marker()
    session.show_flash()
    try:
        page.run()
    except IncidentError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception:  # never a traceback on the page; the log keeps it
        log.exception("page %s failed", page.title)
        st.error(
            "Something went wrong on this page. Reload it; if it keeps happening, tell your administrator "
            "(the details are in the server log).",
            icon=":material/error:",
        )


main()
