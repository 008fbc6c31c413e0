"""Statistics: the SOC manager's view of a period, KPI tiles and charts, all from one `core.stats.Stats`.

The period is kept in the URL (`?range=30d`, or `?from=YYYY-MM-DD&to=YYYY-MM-DD` for a custom range) so a view
can be bookmarked and shared. Periods are whole UTC days, as core counts them.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import streamlit as st

from core.stats import Stats
from core.timeutil import utcnow
from dashboard import charts, session
from dashboard.formatting import duration

PRESETS = {
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "6m": "Last 6 months",
    "all": "All time",
    "custom": "Custom range",
}
DEFAULT = "90d"
CUSTOM = "custom"
SAVED = "statistics_query"  # the last period, restored when the user comes back to the page
LIST_PAGE = "views/incidents.py"
EARLIEST = date(2000, 1, 1)
CHART_CONFIG = {"displayModeBar": False}


# ------------------------------------------------------------------------------------------ the period


def _today() -> date:
    return utcnow().date()


def _months_ago(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def preset_period(preset: str, today: date) -> tuple[date | None, date | None]:
    """(first day, last day) of a preset; None means open-ended (the last day of a preset is always now)."""
    if preset.endswith("d") and preset[:-1].isdigit():
        return today - timedelta(days=int(preset[:-1]) - 1), None
    if preset == "6m":
        return _months_ago(today, 6), None
    return None, None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _within(day: date | None, today: date) -> date | None:
    """A date from the URL, kept inside what the date inputs accept."""
    return None if day is None else min(max(day, EARLIEST), today)


def _from_params(params: dict[str, str], today: date) -> dict:
    start, end = _within(_date(params.get("from")), today), _within(_date(params.get("to")), today)
    preset = params.get("range")
    if start or end or preset == CUSTOM:
        return {"stats_range": CUSTOM, "stats_from": start, "stats_to": end}
    return {"stats_range": preset if preset in PRESETS else DEFAULT, "stats_from": None, "stats_to": None}


def _to_params() -> dict[str, str]:
    state = st.session_state
    if state.stats_range != CUSTOM:
        return {"range": state.stats_range} if state.stats_range != DEFAULT else {}
    params = {"from": state.stats_from, "to": state.stats_to}
    params = {k: v.isoformat() for k, v in params.items() if v}
    return params or {"range": CUSTOM}


def _on_preset_change() -> None:
    """Opening the custom range starts from the period shown so far."""
    state = st.session_state
    if state.stats_range == CUSTOM and not (state.get("stats_from") or state.get("stats_to")):
        start, end = preset_period(state.get("stats_previous", DEFAULT), _today())
        state.stats_from, state.stats_to = start, end or _today()


def period_control() -> tuple[date | None, date | None]:
    """The period picker; returns (created_from, created_to), None for open-ended, and keeps the URL in step."""
    params = {k: st.query_params[k] for k in ("range", "from", "to") if k in st.query_params}
    if not params and SAVED in st.session_state:
        params = st.session_state[SAVED]
    today = _today()
    for key, value in _from_params(params, today).items():
        st.session_state.setdefault(key, value)

    st.segmented_control(
        "Period",
        list(PRESETS),
        key="stats_range",
        format_func=PRESETS.get,
        required=True,
        on_change=_on_preset_change,
        help="Incidents created in this period. Days are UTC days.",
    )
    preset = st.session_state.stats_range
    if preset == CUSTOM:
        start_box, end_box, _ = st.columns([1, 1, 3])
        start_box.date_input("From", key="stats_from", min_value=EARLIEST, max_value=today, format="YYYY-MM-DD")
        end_box.date_input("To", key="stats_to", min_value=EARLIEST, max_value=today, format="YYYY-MM-DD")
        start, end = st.session_state.stats_from, st.session_state.stats_to
        if start and end and start > end:
            start, end = end, start
    else:
        st.session_state.stats_previous = preset
        start, end = preset_period(preset, today)

    query = _to_params()
    st.session_state[SAVED] = query
    for key in ("range", "from", "to"):
        if key in query and st.query_params.get(key) != query[key]:
            st.query_params[key] = query[key]
        elif key not in query and key in st.query_params:
            del st.query_params[key]
    return start, end


def describe(start: date | None, end: date | None) -> str:
    """'created between 01 Sep 2026 and 30 Sep 2026' and the like."""
    if start and end:
        return (
            f"created on {start:%d %b %Y}" if start == end else f"created between {start:%d %b %Y} and {end:%d %b %Y}"
        )
    if start:
        return f"created since {start:%d %b %Y}"
    if end:
        return f"created up to {end:%d %b %Y}"
    return "created at any time"


# ------------------------------------------------------------------------------------------ the page


def _kpis(stats: Stats, start: date | None, end: date | None) -> None:
    tiles = st.columns(6)
    tiles[0].metric(
        "Incidents",
        f"{stats.total:,}",
        help=f"Incidents {describe(start, end)}, of which {stats.critical:,} critical.",
        border=True,
    )
    tiles[1].metric(
        "Open",
        f"{stats.open:,}",
        help="Incidents not yet resolved or closed, right now (whenever they were created).",
        border=True,
    )
    tiles[2].metric(
        "Critical open",
        f"{stats.critical_open:,}",
        help=f"Open critical incidents right now ({stats.critical:,} critical incidents were created in the period).",
        border=True,
    )
    tiles[3].metric(
        "Unassigned",
        f"{stats.unassigned_open:,}",
        help="Open incidents nobody is assigned to, right now.",
        border=True,
    )
    tiles[4].metric(
        "MTTA · median",
        duration(stats.mtta.median_s),
        help=(
            "Median time from creation to acknowledgement, over "
            f"{stats.mtta.count:,} acknowledged incidents. 90th percentile: {duration(stats.mtta.p90_s)}."
        ),
        border=True,
    )
    tiles[5].metric(
        "MTTR · median",
        duration(stats.mttr.median_s),
        help=(
            "Median time from creation to resolution, over "
            f"{stats.mttr.count:,} resolved incidents. 90th percentile: {duration(stats.mttr.p90_s)}."
        ),
        border=True,
    )
    st.caption(
        f"90th percentile: MTTA **{duration(stats.mtta.p90_s)}** · MTTR **{duration(stats.mttr.p90_s)}** — "
        f"measured on {stats.mtta.count:,} acknowledged and {stats.mttr.count:,} resolved incidents."
    )


def _chart(title: str, caption: str, figure) -> None:
    with st.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(caption)
        st.plotly_chart(figure, width="stretch", theme=None, config=CHART_CONFIG)


def _list_link(start: date | None, end: date | None) -> None:
    query = {k: v.isoformat() for k, v in (("from", start), ("to", end)) if v}
    st.page_link(
        LIST_PAGE,
        label="Open incidents of this period",
        icon=":material/list_alt:",
        query_params=query,
        help="The incident list, filtered to open incidents created in this period.",
    )


def render() -> None:
    title, link = st.columns([3, 1], vertical_alignment="bottom")
    title.title("Statistics")
    start, end = period_control()
    with link:
        _list_link(start, end)

    stats = session.incident_stats(start, end)
    if not stats.total and not stats.resolved_per_day and not stats.open:
        message = f"No incidents were {describe(start, end)}." if start or end else "There are no incidents yet."
        st.info(message, icon=":material/search_off:")
        return
    _kpis(stats, start, end)

    flow, funnel = st.columns([2, 1])
    with flow:
        _chart(
            "Created vs resolved",
            "Incidents created and resolved per UTC day in the period.",
            charts.created_vs_resolved(stats, start=start, end=end or _today()),
        )
    with funnel:
        _chart(
            "Lifecycle funnel",
            "Incidents at or past each stage (stages can be skipped); hover for how many are in it now.",
            charts.status_funnel(stats),
        )

    severity, backlog = st.columns(2)
    with severity:
        _chart("By severity", "Every incident of the period.", charts.severity_chart(stats))
    with backlog:
        _chart(
            "Open backlog by age",
            "Open incidents right now, by time since they were created.",
            charts.backlog_by_age(stats),
        )

    _chart(
        "Response times by severity",
        "Median (solid) and 90th percentile (hatched); hover a bar for how many incidents it measures.",
        charts.mtta_mttr_by_severity(stats),
    )

    tactics, people = st.columns(2)
    with tactics:
        _chart("ATT&CK tactics", "Incidents per MITRE ATT&CK tactic, most frequent first.", charts.tactic_chart(stats))
    with people:
        names = {user.username: user.display_name for user in session.analysts()}
        _chart(
            "Open per analyst",
            "Open incidents right now, per analyst, and those nobody is assigned to.",
            charts.open_per_analyst(stats, names),
        )
        _chart("Sources", "Incidents per source SIEM, most frequent first.", charts.siem_chart(stats))


render()
