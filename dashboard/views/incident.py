"""Incident detail (`?id=...`): the incident, its timeline, and the response actions."""

from __future__ import annotations

import streamlit as st

from core import attack
from core import incidents as service
from core.errors import NotFoundError, ValidationError, VersionConflictError
from core.iocs import IOC_TYPE_LABELS, IOC_TYPES, defang
from core.lifecycle import SEVERITIES, allowed_next, label, requirement
from dashboard import session
from dashboard.components.badges import severity_badge, status_badge
from dashboard.components.text import md_escape
from dashboard.components.timefmt import local
from dashboard.components.timeline import describe
from dashboard.formatting import duration


def status_form_key(incident) -> str:
    return f"{incident.id}:{incident.status}"


def _seen_key(incident_id: str) -> str:
    return f"seen_version:{incident_id}"


def _save(incident, action, message: str, clear: tuple[str, ...] = (), **kwargs) -> None:
    """Write through core against the version the user saw; on success rerun with a message.

    On a conflict or a validation error, say so here and keep every input as the user typed it."""
    seen = st.session_state[_seen_key(incident.id)]
    try:
        if action is service.add_comment:
            session.write(action, incident_id=incident.id, **kwargs)
            result_version = seen
        else:
            result_version = session.write(action, incident_id=incident.id, expected_version=seen, **kwargs).version
    except VersionConflictError as exc:
        st.error(f"Not saved: {exc}. Your input is kept below.", icon=":material/sync_problem:")
        return
    except ValidationError as exc:
        for field, text in exc.errors.items():
            st.error(f"{label(field) if field != 'iocs' else 'IOCs'}: {text}", icon=":material/error:")
        return
    st.session_state[_seen_key(incident.id)] = result_version
    for key in clear:
        st.session_state.pop(key, None)
    session.flash(message)
    st.rerun()


def _conflict_banner(incident, timeline) -> None:
    seen = st.session_state[_seen_key(incident.id)]
    if incident.version == seen:
        return
    newer = [e for e in timeline if e.version and e.version > seen]
    who = ", ".join(dict.fromkeys(e.actor for e in newer)) or incident.updated_by
    what = ", ".join(dict.fromkeys(e.field for e in newer if e.field)) or "the incident"
    with st.container(border=True):
        st.warning(
            f"{md_escape(who)} changed {md_escape(what)} since you opened this incident. "
            "Saving now would overwrite their change, so it is refused until you load the latest version.",
            icon=":material/sync_problem:",
        )
        if st.button("Load the latest version", key=f"reload:{incident.id}", icon=":material/refresh:"):
            st.session_state[_seen_key(incident.id)] = incident.version
            st.rerun()


def _header(incident) -> None:
    st.page_link("views/incidents.py", label="Back to incidents", icon=":material/arrow_back:")
    st.markdown(f"## {md_escape(incident.title)}")
    badges = st.container(horizontal=True)
    with badges:
        severity_badge(incident.severity)
        status_badge(incident.status)
        if incident.classification:
            st.badge(label(incident.classification), color="gray", icon=":material/label:")
        if incident.mitre_technique:
            st.badge(incident.mitre_technique, color="violet", icon=":material/target:")
    st.caption(
        f"Incident `{incident.id}` · version {incident.version} · updated {local(incident.updated_at)} "
        f"by {md_escape(incident.updated_by)}"
    )


def _timeline(incident, timeline, names) -> None:
    st.markdown("#### Description")
    if incident.description:
        st.markdown(md_escape(incident.description))
    else:
        st.caption("No description.")
    if incident.resolution:
        st.markdown("#### Resolution")
        st.markdown(md_escape(incident.resolution))

    st.markdown("#### Timeline")
    with st.form(f"comment_form:{incident.id}", clear_on_submit=False, border=False):
        st.text_area(
            "Add a comment",
            key=f"comment:{incident.id}",
            height=80,
            placeholder="What did you find or do? Comments are part of the timeline.",
        )
        if st.form_submit_button("Comment", icon=":material/send:"):
            _save(
                incident,
                service.add_comment,
                "Comment added",
                clear=(f"comment:{incident.id}",),
                text=st.session_state[f"comment:{incident.id}"],
            )
    for event in timeline:
        described = describe(event, names)
        with st.container(border=True):
            st.markdown(
                f"{described.icon} **{md_escape(names.get(event.actor, event.actor))}** "
                f"{md_escape(described.headline)}  \n:gray[{md_escape(local(event.at))}]"
            )
            if described.body:
                st.markdown(md_escape(described.body))


def _status_actions(incident, me, names) -> None:
    key = incident.id
    quick = st.container(horizontal=True)
    if incident.status == "new" and quick.button(
        "Acknowledge", key=f"ack:{key}", type="primary", icon=":material/visibility:"
    ):
        _save(incident, service.transition, "Acknowledged: now investigating", status="investigating")
    if incident.assigned_to != me.username and quick.button(
        "Assign to me", key=f"mine:{key}", icon=":material/person_add:"
    ):
        _save(incident, service.update_incident, "Assigned to you", changes={"assigned_to": me.username})

    with st.container(border=True):
        st.markdown("**Status**")
        skey = status_form_key(incident)  # a new status offers new moves: a new form
        moves = allowed_next(incident.status)
        target = st.selectbox("Move to", moves, key=f"target:{skey}", format_func=label)
        need = requirement(incident.status, target)
        args = {}
        if need.resolution:
            args["resolution"] = st.text_area(
                "Resolution",
                key=f"resolution:{skey}",
                value=incident.resolution or "",
                help="What was done to resolve it (required).",
            )
        if need.classification:
            args["classification"] = st.selectbox(
                "Classification",
                need.classifications,
                key=f"class:{skey}",
                format_func=label,
                index=None,
                placeholder="Choose…",
            )
        if need.reason:
            args["reason"] = st.text_input("Reason for reopening", key=f"reason:{skey}")
        if st.button(f"Move to {label(target)}", key=f"move:{skey}", icon=":material/sync_alt:", width="stretch"):
            _save(
                incident,
                service.transition,
                f"Moved to {label(target)}",
                clear=(f"resolution:{skey}", f"class:{skey}", f"reason:{skey}"),
                status=target,
                **{k: v for k, v in args.items() if v},
            )

    with st.container(border=True):
        st.markdown("**Assignment and severity**")
        options = ["", *names]
        current = incident.assigned_to if incident.assigned_to in names else ""
        assignee = st.selectbox(
            "Assignee",
            options,
            index=options.index(current),
            key=f"assignee:{key}",
            format_func=lambda u: names.get(u, "Unassigned"),
        )
        severity = st.selectbox(
            "Severity", SEVERITIES, index=SEVERITIES.index(incident.severity), key=f"severity:{key}", format_func=label
        )
        if st.button("Save", key=f"save_fields:{key}", icon=":material/save:", width="stretch"):
            _save(
                incident,
                service.update_incident,
                "Saved",
                changes={"assigned_to": assignee or None, "severity": severity},
            )


def _facts(incident, names) -> None:
    with st.container(border=True):
        st.markdown("**Facts**")
        tta = incident.acknowledged_at - incident.created_at if incident.acknowledged_at else None
        ttr = incident.resolved_at - incident.created_at if incident.resolved_at else None
        rows = [
            ("Assignee", names.get(incident.assigned_to, incident.assigned_to) if incident.assigned_to else "—"),
            ("Source", incident.source_siem or "—"),
            ("Source reference", f"{incident.source_system}: {incident.source_ref}" if incident.source_ref else "—"),
            ("Created", f"{local(incident.created_at)} by {incident.created_by}"),
            ("Acknowledged", local(incident.acknowledged_at)),
            ("Resolved", local(incident.resolved_at)),
            ("Closed", local(incident.closed_at)),
            ("Time to acknowledge", duration(tta)),
            ("Time to resolve", duration(ttr)),
        ]
        st.markdown("  \n".join(f":gray[{name}] · {md_escape(value)}" for name, value in rows))


def _attack_box(incident) -> None:
    with st.container(border=True):
        st.markdown("**MITRE ATT&CK**")
        if not (incident.mitre_tactic or incident.mitre_technique):
            st.caption("No tactic or technique recorded.")
            return
        if incident.mitre_tactic:
            tactic_id = attack.tactic_id(incident.mitre_tactic)
            st.markdown(
                f":gray[Tactic] · {md_escape(incident.mitre_tactic)}" + (f" ({tactic_id})" if tactic_id else "")
            )
        technique = attack.technique(incident.mitre_technique) if incident.mitre_technique else None
        if technique:
            st.markdown(f":gray[Technique] · [{technique.id}]({technique.url}) {md_escape(technique.name)}")
            if technique.status_note:
                st.caption(f":orange[:material/history:] {technique.status_note}")
        elif incident.mitre_technique:
            st.markdown(f":gray[Technique] · {md_escape(incident.mitre_technique)}")


def _indicators(incident) -> None:
    key = incident.id
    with st.container(border=True):
        st.markdown("**Indicators of compromise**")
        if not incident.iocs:
            st.caption("None recorded.")
        for ioc_type in IOC_TYPES:
            values = [defang(i["type"], i["value"]) for i in incident.iocs if i["type"] == ioc_type]
            if values:
                st.caption(IOC_TYPE_LABELS[ioc_type])
                st.code("\n".join(values), language=None, wrap_lines=True)
        with st.expander("Add or remove IOCs"):
            value = st.text_input("Indicator", key=f"ioc_value:{key}", placeholder="1.2.3[.]4, hxxps://…, hash…")
            kind = st.selectbox(
                "Type",
                ["auto", *IOC_TYPES],
                key=f"ioc_type:{key}",
                format_func=lambda t: "Detect automatically" if t == "auto" else IOC_TYPE_LABELS[t],
            )
            if st.button("Add IOC", key=f"ioc_add:{key}", icon=":material/add:"):
                item = value if kind == "auto" else {"type": kind, "value": value}
                _save(
                    incident,
                    service.update_incident,
                    "IOC added",
                    clear=(f"ioc_value:{key}",),
                    changes={"iocs": [*incident.iocs, item]},
                )
            labels = {f"{IOC_TYPE_LABELS[i['type']]}: {defang(i['type'], i['value'])}": i for i in incident.iocs}
            remove = st.multiselect("Remove", list(labels), key=f"ioc_remove:{key}")
            if remove and st.button("Remove selected IOCs", key=f"ioc_del:{key}", icon=":material/delete:"):
                gone = [labels[name] for name in remove]
                _save(
                    incident,
                    service.update_incident,
                    "IOCs removed",
                    clear=(f"ioc_remove:{key}",),
                    changes={"iocs": [i for i in incident.iocs if i not in gone]},
                )


def _assets(incident) -> None:
    key = incident.id
    with st.container(border=True):
        st.markdown("**Affected assets**")
        if incident.affected_assets:
            st.code("\n".join(incident.affected_assets), language=None)
        else:
            st.caption("None recorded.")
        with st.expander("Add or remove assets"):
            name = st.text_input("Asset", key=f"asset_value:{key}", placeholder="host, user or application")
            if st.button("Add asset", key=f"asset_add:{key}", icon=":material/add:"):
                _save(
                    incident,
                    service.update_incident,
                    "Asset added",
                    clear=(f"asset_value:{key}",),
                    changes={"affected_assets": [*incident.affected_assets, name]},
                )
            remove = st.multiselect("Remove", incident.affected_assets, key=f"asset_remove:{key}")
            if remove and st.button("Remove selected assets", key=f"asset_del:{key}", icon=":material/delete:"):
                _save(
                    incident,
                    service.update_incident,
                    "Assets removed",
                    clear=(f"asset_remove:{key}",),
                    changes={"affected_assets": [a for a in incident.affected_assets if a not in remove]},
                )


def render() -> None:
    incident_id = st.query_params.get("id", "")
    try:
        detail = session.detail(incident_id)
    except NotFoundError:
        st.page_link("views/incidents.py", label="Back to incidents", icon=":material/arrow_back:")
        st.error(
            "Incident not found. It may have been mistyped, or it is not in your tenant.", icon=":material/search_off:"
        )
        return
    incident, timeline = detail.incident, detail.timeline
    st.session_state.setdefault(_seen_key(incident.id), incident.version)
    names = {u.username: u.display_name for u in session.analysts()}
    me = session.viewer()

    _header(incident)
    _conflict_banner(incident, timeline)
    main, side = st.columns([2, 1], gap="large")
    with main:
        _timeline(incident, timeline, names)
    with side:
        _status_actions(incident, me, names)
        _facts(incident, names)
        _attack_box(incident)
        _indicators(incident)
        _assets(incident)


render()
