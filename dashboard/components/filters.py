"""The incident list's filters, kept in the URL query string so a view can be bookmarked and shared."""

from __future__ import annotations

from datetime import date

import streamlit as st

from core.incidents import SORTS, IncidentFilter
from core.lifecycle import OPEN_STATUSES, SEVERITIES, STATUSES, label
from dashboard import session

ANYONE, ME, UNASSIGNED = "", "me", "unassigned"
PARAMS = ("severity", "status", "tactic", "siem", "assignee", "q", "from", "to", "sort")
SAVED = "incident_list_query"  # the last query, restored when the user comes back to the list


def _split(value: str | None, allowed: tuple[str, ...]) -> list[str]:
    return [v for v in (value or "").split(",") if v in allowed]


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _initial_state(params: dict[str, str]) -> dict:
    status = params.get("status")
    return {
        "f_severity": _split(params.get("severity"), SEVERITIES),
        "f_status": list(OPEN_STATUSES) if status is None else _split(status, STATUSES),
        "f_tactic": params.get("tactic") or "",
        "f_siem": params.get("siem") or "",
        "f_assignee": params.get("assignee") or ANYONE,
        "f_search": params.get("q") or "",
        "f_from": _date(params.get("from")),
        "f_to": _date(params.get("to")),
        "f_sort": params.get("sort") if params.get("sort") in SORTS else "priority",
    }


def _to_params() -> dict[str, str]:
    state = st.session_state
    params = {
        "severity": ",".join(state.f_severity),
        # no status parameter means the default (open); an explicit empty choice means every status
        "status": ",".join(state.f_status) if state.f_status != list(OPEN_STATUSES) else None,
        "tactic": state.f_tactic,
        "siem": state.f_siem,
        "assignee": state.f_assignee,
        "q": state.f_search.strip(),
        "from": state.f_from.isoformat() if state.f_from else "",
        "to": state.f_to.isoformat() if state.f_to else "",
        "sort": state.f_sort if state.f_sort != "priority" else "",
    }
    if state.f_status == []:
        params["status"] = "any"
    return {k: v for k, v in params.items() if v}


def reset_filters() -> None:
    for key, value in _initial_state({}).items():
        st.session_state[key] = value


def _with_blank(options: list[str]) -> list[str]:
    return ["", *options]


def filter_bar() -> tuple[IncidentFilter, str]:
    """Render the filters in the sidebar; returns the filter and the sort order."""
    params = {k: st.query_params[k] for k in PARAMS if k in st.query_params}
    if not params and SAVED in st.session_state:
        params = st.session_state[SAVED]
    if params.get("status") == "any":
        params["status"] = ""
    for key, value in _initial_state(params).items():
        st.session_state.setdefault(key, value)

    me = session.viewer()
    analysts = {u.username: u.display_name for u in session.analysts()}
    assignee_options = [ANYONE, ME, UNASSIGNED, *[u for u in analysts if u != me.username]]
    if st.session_state.f_assignee not in assignee_options:
        assignee_options.append(st.session_state.f_assignee)
    tactics = session.filter_choices("mitre_tactic")
    siems = session.filter_choices("source_siem")
    for key, options in (("f_tactic", tactics), ("f_siem", siems)):
        if st.session_state[key] not in ("", *options):
            options.append(st.session_state[key])

    with st.sidebar:
        st.markdown("### Filters")
        st.text_input(
            "Search",
            key="f_search",
            placeholder="title, description, IOC, asset…",
            help="Every word must appear in the title, description, an IOC value or an asset name.",
        )
        st.multiselect("Severity", SEVERITIES, key="f_severity", format_func=label, placeholder="Any severity")
        st.multiselect("Status", STATUSES, key="f_status", format_func=label, placeholder="Any status")
        st.selectbox(
            "Assignee",
            assignee_options,
            key="f_assignee",
            format_func=lambda u: {ANYONE: "Anyone", ME: f"Me ({me.display_name})", UNASSIGNED: "Unassigned"}.get(
                u, analysts.get(u, u)
            ),
        )
        st.selectbox("ATT&CK tactic", _with_blank(tactics), key="f_tactic", format_func=lambda t: t or "Any tactic")
        st.selectbox("Source SIEM", _with_blank(siems), key="f_siem", format_func=lambda s: s or "Any source")
        st.date_input("Created from", key="f_from", format="YYYY-MM-DD")
        st.date_input("Created to", key="f_to", format="YYYY-MM-DD")
        st.button("Reset filters", on_click=reset_filters, icon=":material/filter_alt_off:", width="stretch")

    query = _to_params()
    previous = st.session_state.get(SAVED)
    keep_page = "page" in st.query_params and previous in (None, query)  # changed filters start at page 1
    st.session_state[SAVED] = query
    st.query_params.from_dict({**query, **({"page": st.query_params["page"]} if keep_page else {})})
    state = st.session_state
    assignee = state.f_assignee
    return (
        IncidentFilter(
            severity=tuple(state.f_severity),
            status=tuple(state.f_status),
            tactic=state.f_tactic or None,
            source_siem=state.f_siem or None,
            assignee=me.username if assignee == ME else (assignee if assignee not in (ANYONE, UNASSIGNED) else None),
            unassigned=assignee == UNASSIGNED,
            search=state.f_search.strip() or None,
            created_from=state.f_from,
            created_to=state.f_to,
        ),
        state.f_sort,
    )
