"""Incidents: the filtered, paged list (the default page)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core.export import write_csv, write_json
from core.incidents import SORTS
from core.lifecycle import label
from dashboard import session
from dashboard.components.badges import coloured_table
from dashboard.components.filters import filter_bar, reset_filters
from dashboard.formatting import age

PAGE_SIZE = 25
DETAIL_PAGE = "views/incident.py"


def _requested_page() -> int:
    try:
        return max(int(st.query_params.get("page", 1)), 1)
    except ValueError:
        return 1


def _table(items) -> pd.DataFrame:
    analysts = {u.username: u.display_name for u in session.analysts()}
    rows = [
        {
            "id": i.id,
            "Severity": label(i.severity),
            "Title": i.title,
            "Status": label(i.status),
            "Age": age(i.created_at),
            "Assignee": analysts.get(i.assigned_to, i.assigned_to) if i.assigned_to else "Unassigned",
            "Tactic": i.mitre_tactic or "",
            "Source": i.source_siem or "",
        }
        for i in items
    ]
    return pd.DataFrame(rows).set_index("id")


def _export_buttons(filters, sort: str) -> None:
    """Every matching incident, not just this page; built only when the user clicks."""
    left, right = st.columns(2)
    left.download_button(
        "CSV",
        session.exporter(write_csv, filters, sort),
        "incidents.csv",
        "text/csv",
        icon=":material/download:",
        width="stretch",
        on_click="ignore",
        help="Every matching incident; cells a spreadsheet would run as formulas are neutralised",
    )
    right.download_button(
        "JSON",
        session.exporter(write_json, filters, sort),
        "incidents.json",
        "application/json",
        icon=":material/download:",
        width="stretch",
        on_click="ignore",
        help="Every matching incident",
    )


def render() -> None:
    filters, sort = filter_bar()
    header, sort_box = st.columns([3, 1], vertical_alignment="bottom")
    header.title("Incidents")
    sort_box.selectbox("Sort", list(SORTS), key="f_sort", format_func=SORTS.get, label_visibility="collapsed")

    number = _requested_page()
    page = session.list_incidents(filters, sort=sort, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    if not page.items and page.total:  # a bookmarked page past the end: show the last one
        number = math.ceil(page.total / PAGE_SIZE)
        page = session.list_incidents(filters, sort=sort, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    if page.total == 0:
        st.info("No incidents match these filters.", icon=":material/search_off:")
        st.button("Reset filters", on_click=reset_filters, key="reset_empty")
        return

    first = page.offset + 1
    noun = "incident" if page.total == 1 else "incidents"
    st.caption(
        f"Showing {first}–{page.offset + len(page.items)} of **{page.total}** {noun} · "
        f"sorted by {SORTS[sort].lower()} · click an incident to open it"
    )
    event = st.dataframe(
        coloured_table(_table(page.items)),
        key="incident_table",
        on_select="rerun",
        selection_mode=["single-row", "single-cell"],  # a click on any cell opens its incident, as a link would
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(page.items), 38 + 35 * PAGE_SIZE),
        column_config={  # widths that fit a 1440-pixel screen; a long title shows whole on hover
            "Severity": st.column_config.TextColumn(width=85),
            "Title": st.column_config.TextColumn(width=330),
            "Status": st.column_config.TextColumn(width=105),
            "Age": st.column_config.TextColumn(width=65, help="Time since the incident was created"),
            "Assignee": st.column_config.TextColumn(width=125),
            "Tactic": st.column_config.TextColumn(width=125),
            "Source": st.column_config.TextColumn(width=105),
        },
    )
    selection = event.selection if event else None
    rows = [*selection.rows, *(cell[0] for cell in selection.cells)] if selection else []
    if rows:
        incident_id = page.items[rows[0]].id
        st.session_state.pop("incident_table", None)
        st.switch_page(DETAIL_PAGE, query_params={"id": incident_id})

    pages = max(1, math.ceil(page.total / PAGE_SIZE))
    prev_col, info_col, next_col, export_col = st.columns([1, 2, 1, 2], vertical_alignment="center")
    if prev_col.button("Previous", icon=":material/chevron_left:", disabled=number <= 1, width="stretch"):
        st.query_params["page"] = str(number - 1)
        st.rerun()
    info_col.markdown(f"<div style='text-align:center'>Page {number} of {pages}</div>", unsafe_allow_html=True)
    if next_col.button("Next", icon=":material/chevron_right:", disabled=number >= pages, width="stretch"):
        st.query_params["page"] = str(number + 1)
        st.rerun()
    if session.viewer().may("export"):
        with export_col:
            _export_buttons(filters, sort)


render()
