"""New incident: a form whose messages come from core's validation, shown next to each field."""

from __future__ import annotations

import streamlit as st

from core import attack
from core import incidents as service
from core.errors import ValidationError
from core.lifecycle import SEVERITIES, label
from dashboard import session

ERRORS = "new_incident_errors"
OPEN_CREATED = "new_incident_created"
FIELDS = (
    "title",
    "description",
    "severity",
    "mitre_technique",
    "mitre_tactic",
    "source_siem",
    "assigned_to",
    "affected_assets",
    "iocs",
)


def _technique_label(technique_id: str) -> str:
    """'T1566.002 — Phishing: Spearphishing Link' (sub-techniques carry their parent's name), flagged when
    deprecated."""
    technique = attack.technique(technique_id)
    if technique is None:
        return technique_id
    parent = attack.technique(technique.id.split(".")[0]) if "." in technique.id else None
    name = f"{parent.name}: {technique.name}" if parent else technique.name
    note = f" ({technique.status_note})" if technique.status_note else ""
    return f"{technique.id} — {name}{note}"


def _pickable() -> list[str]:
    """Every technique but revoked ones (they were replaced; deprecated ones stay, flagged)."""
    return [t.id for t in attack.all_techniques() if not t.revoked]


def _clear_error(field: str):
    def clear() -> None:
        st.session_state.get(ERRORS, {}).pop(field, None)

    return clear


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _submit() -> None:
    state = st.session_state
    data = {
        "title": state.ni_title,
        "description": state.ni_description,
        "severity": state.ni_severity,
        "mitre_technique": state.ni_technique,
        "mitre_tactic": state.ni_tactic,
        "source_siem": state.ni_siem,
        "assigned_to": state.ni_assignee or None,
        "affected_assets": _lines(state.ni_assets),
        "iocs": _lines(state.ni_iocs),
    }
    try:
        incident = session.write(service.create_incident, data=data)
    except ValidationError as exc:
        state[ERRORS] = exc.errors
        return
    state[ERRORS] = {}
    for key in [k for k in state if str(k).startswith("ni_")]:
        del state[key]
    state[OPEN_CREATED] = incident.id


def _error(field: str) -> None:
    message = st.session_state.get(ERRORS, {}).get(field)
    if message:
        st.error(message, icon=":material/error:")


def render() -> None:
    created = st.session_state.pop(OPEN_CREATED, None)
    if created:
        session.flash("Incident created")
        st.switch_page("views/incident.py", query_params={"id": created})

    st.title("New incident")
    st.caption("Escalate an alert into an incident. Fields marked * are required.")
    if any(st.session_state.get(ERRORS, {}).values()):
        st.error(
            "The incident was not created: fix the fields marked below. Nothing you typed was lost.",
            icon=":material/error:",
        )

    st.text_input(
        "Title *", key="ni_title", placeholder="e.g. Ransomware note found on FS-01", on_change=_clear_error("title")
    )
    _error("title")
    left, right = st.columns(2)
    with left:
        st.selectbox(
            "Severity *", SEVERITIES, key="ni_severity", on_change=_clear_error("severity"), index=2, format_func=label
        )
        _error("severity")
        siems = session.filter_choices("source_siem")
        st.selectbox(
            "Source SIEM",
            siems,
            key="ni_siem",
            on_change=_clear_error("source_siem"),
            index=None,
            accept_new_options=True,
            placeholder="Choose or type a source",
        )
        _error("source_siem")
    with right:
        analysts = {u.username: u.display_name for u in session.analysts()}
        st.selectbox(
            "Assignee",
            ["", *analysts],
            key="ni_assignee",
            on_change=_clear_error("assigned_to"),
            format_func=lambda u: analysts.get(u, "Unassigned"),
        )
        _error("assigned_to")
    st.text_area(
        "Description",
        key="ni_description",
        on_change=_clear_error("description"),
        height=120,
        placeholder="What was detected, where, and what has been done so far.",
    )
    _error("description")

    st.markdown("##### MITRE ATT&CK")
    left, right = st.columns(2)
    with left:
        techniques = _pickable()
        st.selectbox(
            "Technique",
            techniques,
            key="ni_technique",
            on_change=_clear_error("mitre_technique"),
            index=None,
            format_func=_technique_label,
            placeholder="Search by id or name, e.g. T1486 or phishing",
        )
        _error("mitre_technique")
    with right:
        technique = st.session_state.get("ni_technique")
        tactics = list(attack.tactics_for(technique)) if technique else list(attack.TACTICS)
        if st.session_state.get("ni_tactic") not in tactics:
            st.session_state["ni_tactic"] = tactics[0] if technique and len(tactics) == 1 else None
        st.selectbox(
            "Tactic",
            tactics,
            key="ni_tactic",
            on_change=_clear_error("mitre_tactic"),
            placeholder="Choose a tactic",
            help="Filled from the technique; a technique with several tactics lets you pick one.",
        )
        _error("mitre_tactic")

    left, right = st.columns(2)
    with left:
        st.text_area(
            "Affected assets",
            key="ni_assets",
            on_change=_clear_error("affected_assets"),
            height=110,
            placeholder="One per line: hosts, users, apps",
        )
        _error("affected_assets")
    with right:
        st.text_area(
            "IOCs",
            key="ni_iocs",
            on_change=_clear_error("iocs"),
            height=110,
            placeholder="One per line; defanged input is fine: 1.2.3[.]4, hxxps://evil[.]example, hashes…",
        )
        _error("iocs")

    st.button("Create incident", type="primary", icon=":material/add_circle:", on_click=_submit, key="create_incident")


render()
