"""Incident detail (`?id=...`): the incident, its timeline, and the response actions."""

from __future__ import annotations

import re

import streamlit as st

from core import attack
from core import incidents as service
from core.errors import NotFoundError, ValidationError, VersionConflictError
from core.iocs import IOC_TYPE_LABELS, IOC_TYPES, defang
from core.lifecycle import ACTIVE_STATUSES, SEVERITIES, STATUSES, allowed_next, is_reopen, label, requirement
from dashboard import session
from dashboard.components.badges import severity_badge, status_badge
from dashboard.components.text import md_escape
from dashboard.components.timefmt import local
from dashboard.components.timeline import FIELD_NAMES, group_by_change
from dashboard.formatting import duration

LONG_TITLE = 120


def _seen_key(incident_id: str) -> str:
    return f"seen_version:{incident_id}"


def form_key(incident, name: str) -> str:
    """A widget key tied to the version the user works from: a successful save (or loading the latest
    version) gives fresh, empty inputs; a refused one keeps what the user typed."""
    return f"{name}:{incident.id}:{st.session_state[_seen_key(incident.id)]}"


def _comment_key(incident) -> str:
    """Comments do not depend on the version: keyed by how many this user has posted here."""
    return f"comment:{incident.id}:{st.session_state.get(f'comments_posted:{incident.id}', 0)}"


def _field_name(field: str) -> str:
    return FIELD_NAMES.get(field, field.replace("_", " "))


def _save(incident, action, message: str, *, keep_open: str | None = None, **kwargs) -> None:
    """Write through core against the version the user saw; on success rerun with a message.

    On a conflict or a validation error, say so here and keep every input as the user typed it."""
    seen = st.session_state[_seen_key(incident.id)]
    try:
        if action is service.add_comment:
            session.write(action, incident_id=incident.id, **kwargs)
            posted = f"comments_posted:{incident.id}"
            st.session_state[posted] = st.session_state.get(posted, 0) + 1
            result_version = seen
        else:
            result_version = session.write(action, incident_id=incident.id, expected_version=seen, **kwargs).version
    except VersionConflictError as exc:
        who = ", ".join(session.display_name(name) for name in (exc.changed_by or "someone else").split(", "))
        what = ", ".join(_field_name(field) for field in exc.changes) or "the incident"
        st.error(
            f"Not saved: {md_escape(who)} changed {md_escape(what)} since you opened this incident. "
            "Load the latest version and apply your change again; your input is kept until then.",
            icon=":material/sync_problem:",
        )
        return
    except ValidationError as exc:
        for field, text in exc.errors.items():
            text = re.sub(r"^IOC #\d+: ", "", text) if field == "iocs" else text
            st.error(f"{_field_name(field).capitalize()}: {md_escape(text)}", icon=":material/error:")
        return
    if keep_open:
        st.session_state[f"open:{incident.id}"] = keep_open
    if action is not service.add_comment and result_version == seen:
        session.flash("Nothing changed: it was already like that")
    else:
        st.session_state[_seen_key(incident.id)] = result_version
        session.flash(message)
    st.rerun()


def _conflict_banner(incident, timeline) -> None:
    seen = st.session_state[_seen_key(incident.id)]
    if incident.version == seen:
        return
    newer = [e for e in timeline if e.version and e.version > seen]
    who = ", ".join(dict.fromkeys(session.display_name(e.actor) for e in newer)) or incident.updated_by
    what = ", ".join(dict.fromkeys(_field_name(e.field) for e in newer if e.field)) or "the incident"
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
    heading = "###" if len(incident.title) > LONG_TITLE else "##"
    st.markdown(f"{heading} {md_escape(incident.title)}")
    with st.container(horizontal=True):
        severity_badge(incident.severity)
        status_badge(incident.status)
        if incident.classification:
            st.badge(label(incident.classification), color="gray", icon=":material/label:")
        if incident.mitre_technique:
            st.badge(incident.mitre_technique, color="violet", icon=":material/target:")
    st.caption(
        f"Incident `{incident.id}` · version {incident.version} · updated {local(incident.updated_at)} "
        f"by {md_escape(session.display_name(incident.updated_by))}"
    )


def _timeline(incident, timeline) -> None:
    st.markdown("#### Description")
    if incident.description:
        st.markdown(md_escape(incident.description))
    else:
        st.caption("No description.")
    if incident.resolution:
        st.markdown("#### Resolution")
        st.markdown(md_escape(incident.resolution))
    _alerts(incident)

    st.markdown("#### Timeline")
    if session.viewer().may("comment"):
        _comment_form(incident)
    for change in group_by_change(timeline, names=session.display_names(), when=local):
        with st.container(border=True):
            st.markdown(
                f"{change.icon} **{md_escape(change.actor)}** {md_escape(change.headline)}  \n"
                f":gray[{md_escape(local(change.at))}]"
            )
            if change.details:
                st.markdown("  \n".join(md_escape(line) for line in change.details))


def _alerts(incident) -> None:
    """The alerts escalated into the incident, when a SIEM or a playbook linked any (shown as plain text)."""
    linked = session.alerts(incident)
    if not linked:
        return
    st.markdown(f"#### Alerts ({len(linked)})")
    rows = [
        {
            "Raised": local(alert.raised_at) if alert.raised_at else "—",
            "Source": alert.source,
            "Title": alert.title or "",
            "Alert id": alert.alert_id,
        }
        for alert in linked
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 250),
        column_config={
            "Raised": st.column_config.TextColumn(width=150),
            "Source": st.column_config.TextColumn(width=120),
            "Title": st.column_config.TextColumn(width=240),
        },
    )
    last = linked[-1]
    st.caption(f"Last linked {local(last.linked_at)} by {md_escape(session.display_name(last.linked_by))}")


def _comment_form(incident) -> None:
    with st.form(f"comment_form:{incident.id}", border=False):
        st.text_area(
            "Add a comment",
            key=_comment_key(incident),
            height=80,
            placeholder="What did you find or do? Comments are part of the timeline.",
        )
        if st.form_submit_button("Comment", icon=":material/send:"):
            _save(incident, service.add_comment, "Comment added", text=st.session_state[_comment_key(incident)])


def _move_label(current: str, target: str) -> str:
    if is_reopen(current, target):
        return f"Reopen ({label(target)})"
    if current in ACTIVE_STATUSES and STATUSES.index(target) < STATUSES.index(current):
        return f"Back to {label(target)}"
    return label(target)


def _status_actions(incident, me) -> None:
    if not me.may("update"):
        st.info("Read only: your role (viewer) does not change incidents.", icon=":material/visibility:")
        return
    quick = st.container(horizontal=True)
    if incident.status == "new" and quick.button(
        "Acknowledge", key=f"ack:{incident.id}", type="primary", icon=":material/visibility:"
    ):
        _save(incident, service.transition, "Acknowledged: now investigating", status="investigating")
    if (
        incident.assigned_to != me.username
        and service.may_assign(me, incident.assigned_to, me.username)  # a colleague's is a manager's call
        and quick.button("Assign to me", key=f"mine:{incident.id}", icon=":material/person_add:")
    ):
        _save(incident, service.update_incident, "Assigned to you", changes={"assigned_to": me.username})

    with st.container(border=True):
        st.markdown("**Status**")
        # forward moves first, so the default is progress; stepping back and reopening are named as such
        moves = sorted(allowed_next(incident.status), key=lambda s: (_move_label(incident.status, s) != label(s),))
        if incident.status == "closed" and not me.may("reopen_closed"):
            st.caption("Reopening a closed incident is a manager's call.")
            return
        target = st.selectbox(
            "Move to", moves, key=form_key(incident, "target"), format_func=lambda s: _move_label(incident.status, s)
        )
        need = requirement(incident.status, target)
        args = {}
        if need.resolution:
            args["resolution"] = st.text_area(
                "Resolution",
                key=form_key(incident, "resolution"),
                value=incident.resolution or "",
                help="What was done to resolve it (required).",
            )
        if need.classification:
            args["classification"] = st.selectbox(
                "Classification",
                need.classifications,
                key=form_key(incident, "class"),
                format_func=label,
                index=None,
                placeholder="Choose…",
            )
        if need.reason:
            args["reason"] = st.text_input("Reason for reopening", key=form_key(incident, "reason"))
        action = _move_label(incident.status, target)
        if st.button(
            action if action.startswith(("Reopen", "Back")) else f"Move to {action}",
            key=form_key(incident, "move"),
            icon=":material/sync_alt:",
            width="stretch",
        ):
            _save(
                incident,
                service.transition,
                f"Moved to {label(target)}",
                status=target,
                **{k: v for k, v in args.items() if v},
            )

    with st.container(border=True):
        st.markdown("**Assignment and severity**")
        names = session.display_names()
        options = [
            u
            for u in ["", *[u.username for u in session.analysts()]]
            if u == (incident.assigned_to or "") or service.may_assign(me, incident.assigned_to, u or None)
        ]
        if not service.may_assign(me, incident.assigned_to, None):
            owner = names.get(incident.assigned_to, incident.assigned_to)
            st.caption(f"Assigned to {md_escape(owner)}: a manager reassigns it.")
        current = incident.assigned_to if incident.assigned_to in options else ""
        assignee = st.selectbox(
            "Assignee",
            options,
            index=options.index(current),
            key=form_key(incident, "assignee"),
            format_func=lambda u: names.get(u, u) if u else "Unassigned",
        )
        severity = st.selectbox(
            "Severity",
            SEVERITIES,
            index=SEVERITIES.index(incident.severity),
            key=form_key(incident, "severity"),
            format_func=label,
        )
        if st.button("Save", key=form_key(incident, "save_fields"), icon=":material/save:", width="stretch"):
            _save(
                incident,
                service.update_incident,
                "Saved",
                changes={"assigned_to": assignee or None, "severity": severity},
            )


def _facts(incident) -> None:
    with st.container(border=True):
        st.markdown("**Facts**")
        tta = incident.acknowledged_at - incident.created_at if incident.acknowledged_at else None
        ttr = incident.resolved_at - incident.created_at if incident.resolved_at else None
        rows = [
            ("Assignee", session.display_name(incident.assigned_to) if incident.assigned_to else "—"),
            ("Source", incident.source_siem or "—"),
            ("Source reference", f"{incident.source_system}: {incident.source_ref}" if incident.source_ref else "—"),
            ("Created", f"{local(incident.created_at)} by {session.display_name(incident.created_by)}"),
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
    with st.container(border=True):
        st.markdown("**Indicators of compromise**")
        if not incident.iocs:
            st.caption("None recorded.")
        for ioc_type in IOC_TYPES:
            values = [defang(i["type"], i["value"]) for i in incident.iocs if i["type"] == ioc_type]
            if values:
                st.caption(IOC_TYPE_LABELS[ioc_type])
                st.code("\n".join(values), language=None, wrap_lines=True)
        if not session.viewer().may("update"):
            return
        opened = st.session_state.get(f"open:{incident.id}") == "iocs"
        with st.expander("Add or remove IOCs", expanded=opened):
            value = st.text_input(
                "Indicator", key=form_key(incident, "ioc_value"), placeholder="1.2.3[.]4, hxxps://…, hash…"
            )
            kind = st.selectbox(
                "Type",
                ["auto", *IOC_TYPES],
                key=form_key(incident, "ioc_type"),
                format_func=lambda t: "Detect automatically" if t == "auto" else IOC_TYPE_LABELS[t],
            )
            if st.button("Add IOC", key=form_key(incident, "ioc_add"), icon=":material/add:"):
                item = value if kind == "auto" else {"type": kind, "value": value}
                _save(
                    incident,
                    service.update_incident,
                    "IOC added",
                    keep_open="iocs",
                    changes={"iocs": [*incident.iocs, item]},
                )
            labels = {f"{IOC_TYPE_LABELS[i['type']]}: {defang(i['type'], i['value'])}": i for i in incident.iocs}
            remove = st.multiselect("Remove", list(labels), key=form_key(incident, "ioc_remove"))
            if remove and st.button(
                "Remove selected IOCs", key=form_key(incident, "ioc_del"), icon=":material/delete:"
            ):
                gone = [labels[name] for name in remove]
                _save(
                    incident,
                    service.update_incident,
                    "IOCs removed",
                    keep_open="iocs",
                    changes={"iocs": [i for i in incident.iocs if i not in gone]},
                )


def _assets(incident) -> None:
    with st.container(border=True):
        st.markdown("**Affected assets**")
        if incident.affected_assets:
            st.code("\n".join(incident.affected_assets), language=None)
        else:
            st.caption("None recorded.")
        if not session.viewer().may("update"):
            return
        opened = st.session_state.get(f"open:{incident.id}") == "assets"
        with st.expander("Add or remove assets", expanded=opened):
            name = st.text_input(
                "Asset", key=form_key(incident, "asset_value"), placeholder="host, user or application"
            )
            if st.button("Add asset", key=form_key(incident, "asset_add"), icon=":material/add:"):
                _save(
                    incident,
                    service.update_incident,
                    "Asset added",
                    keep_open="assets",
                    changes={"affected_assets": [*incident.affected_assets, name]},
                )
            remove = st.multiselect("Remove", incident.affected_assets, key=form_key(incident, "asset_remove"))
            if remove and st.button(
                "Remove selected assets", key=form_key(incident, "asset_del"), icon=":material/delete:"
            ):
                _save(
                    incident,
                    service.update_incident,
                    "Assets removed",
                    keep_open="assets",
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

    _header(incident)
    _conflict_banner(incident, timeline)
    main, side = st.columns([2, 1], gap="large")
    with main:
        _timeline(incident, timeline)
    with side:
        _status_actions(incident, session.viewer())
        _facts(incident)
        _attack_box(incident)
        _indicators(incident)
        _assets(incident)


render()
