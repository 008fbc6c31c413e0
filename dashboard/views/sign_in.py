"""Sign in: single sign-on (OIDC through st.login) when an [auth] section is configured, else a user name and
password form. Every failure says the same; repeated failures slow down (and core locks the account)."""

from __future__ import annotations

import time

import streamlit as st

from core.auth import AuthenticationError
from dashboard import session

FAILURES = "sign_in_failures"


def _form() -> None:
    with st.form("sign_in", border=True):
        username = st.text_input("User name", key="sign_in_user", autocomplete="username")
        password = st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        failures = st.session_state.get(FAILURES, 0)
        if failures:
            time.sleep(min(2 ** (failures - 1), 8))  # a growing delay for this browser session
        try:
            session.sign_in(username, password)
        except AuthenticationError as exc:
            st.session_state[FAILURES] = failures + 1
            st.error(str(exc), icon=":material/lock:")
            return
        st.session_state.pop(FAILURES, None)
        st.rerun()


def _single_sign_on() -> None:
    if not st.user.is_logged_in:
        st.button(
            "Sign in with your organisation's account", type="primary", on_click=st.login, icon=":material/login:"
        )
        return
    if session.sign_in_by_email(st.user.get("email") or "") is not None:
        st.rerun()
    st.error(
        "No access: your account is not a user of ThreatOps Incidents. Ask your SOC manager or administrator "
        "to add you (with this e-mail address).",
        icon=":material/block:",
    )
    st.button("Sign out", on_click=st.logout)


def render() -> None:
    """The sign-in page; the app serves it at every page's address while nobody is signed in, so a deep link
    (/incident?id=...) opens its page once the user has signed in."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title(":material/shield: ThreatOps Incidents")
        st.caption("Sign in to work on your organisation's incidents.")
        if session.sso_configured():
            _single_sign_on()
        else:
            _form()
