"""The statistics page's figures: pure Plotly builders over `core.stats.Stats`, no Streamlit.

Every builder returns a `plotly.graph_objects.Figure` styled for the dark theme (transparent backgrounds, so the
app's theme shows through), with human labels and axis titles. With nothing to show it returns a figure that
says so ("No data for this period"); it never raises on empty data.

Labels that come from data (tactics, SIEM names, analysts' display names) are escaped: Plotly would otherwise
read `<b>`, `<a href=...>` and the like in them as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.lifecycle import SEVERITIES, STATUSES, label
from core.stats import AGE_BUCKETS, NONE, DurationStats, Stats
from dashboard import palette
from dashboard.formatting import duration

NO_DATA = "No data for this period"
FONT = '"Source Sans", "Source Sans 3", "Source Sans Pro", -apple-system, "Segoe UI", sans-serif'  # as Streamlit
BAR_PX = 30  # height of one bar of a horizontal bar chart
MARKERS_UP_TO_DAYS = 45  # daily series this short get a marker per day


# ------------------------------------------------------------------------------------------ helpers


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600


def _text(value: str) -> str:
    """A data label shown literally by Plotly (which renders a subset of HTML in text)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ordered(counts: Mapping[str, int], order: Iterable[str]) -> dict[str, int]:
    """`counts` in the given order (missing keys as 0), then any unexpected keys after them."""
    order = tuple(order)
    result = {key: counts.get(key, 0) for key in order}
    result.update({key: value for key, value in counts.items() if key not in result})
    return result


def _ranked(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Largest first, ties by name; zero counts dropped."""
    return sorted(((k, v) for k, v in counts.items() if v), key=lambda item: (-item[1], item[0]))


def _ink(colour: str) -> str:
    """Dark or light text, whichever reads better on a "#rrggbb" fill."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#0f172a" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.5 else "#f8fafc"


def _share(values: list[int]) -> list[float]:
    total = sum(values)
    return [v / total if total else 0.0 for v in values]


def _style(fig: go.Figure, *, height: int, legend: bool = False) -> go.Figure:
    """The one look of every chart: dark-theme text and grid, transparent backgrounds, no drag-zoom."""
    fig.update_layout(
        template="plotly_dark",
        height=height,
        margin={"l": 8, "r": 16, "t": 36 if legend else 16, "b": 8},
        paper_bgcolor=palette.TRANSPARENT,
        plot_bgcolor=palette.TRANSPARENT,
        font={"family": FONT, "size": 13, "color": palette.TEXT},
        hoverlabel={
            "bgcolor": palette.HOVER_BACKGROUND,
            "bordercolor": palette.HOVER_BORDER,
            "font": {"family": FONT, "size": 13, "color": palette.TEXT},
        },
        showlegend=legend,
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.02,
            "xanchor": "left",
            "x": 0,
            "bgcolor": palette.TRANSPARENT,
            "title": {"text": ""},
            "font": {"color": palette.TEXT},
        },
        dragmode=False,
        bargap=0.3,
    )
    axis = {
        "gridcolor": palette.GRID,
        "linecolor": palette.AXIS_LINE,
        "zerolinecolor": palette.AXIS_LINE,
        "tickfont": {"color": palette.MUTED_TEXT},
        "title": {"font": {"color": palette.MUTED_TEXT, "size": 12}},
        "automargin": True,
        "fixedrange": True,
    }
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    return fig


def empty_figure(message: str = NO_DATA, *, height: int = 260) -> go.Figure:
    """A blank chart that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(
        text=message,
        x=0.5,
        y=0.5,
        xref="paper",
        yref="paper",
        showarrow=False,
        font={"size": 15, "color": palette.MUTED_TEXT},
    )
    _style(fig, height=height)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _vertical_bars(fig: go.Figure, *, x_title: str, y_title: str) -> go.Figure:
    fig.update_xaxes(title={"text": x_title}, showgrid=False, showline=True)
    fig.update_yaxes(title={"text": y_title}, rangemode="tozero", zeroline=False)
    return fig


def _horizontal_bars(
    rows: list[tuple[str, int]],
    *,
    colours: list[str] | str,
    x_title: str,
    y_title: str,
    noun: str = "incidents",
) -> go.Figure:
    """Bars from the top down in the order of `rows` (label, count); labels must already be escaped."""
    values = [count for _, count in rows]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=[name for name, _ in rows],
            orientation="h",
            marker={"color": colours},
            text=values,
            textposition="outside",
            cliponaxis=False,
            customdata=_share(values),
            hovertemplate=f"<b>%{{y}}</b><br>%{{x:,}} {noun} (%{{customdata:.0%}})<extra></extra>",
        )
    )
    _style(fig, height=max(160, 56 + BAR_PX * len(rows)))
    fig.update_xaxes(title={"text": x_title}, rangemode="tozero", zeroline=False)
    fig.update_yaxes(title={"text": y_title}, autorange="reversed", showgrid=False, ticksuffix="  ")
    return fig


# ------------------------------------------------------------------------------------------ builders


def severity_chart(stats: Stats) -> go.Figure:
    """Incidents per severity, Critical to Informational, each bar in its severity colour."""
    counts = _ordered(stats.by_severity, SEVERITIES)
    values = list(counts.values())
    if not sum(values):
        return empty_figure(height=300)
    fig = go.Figure(
        go.Bar(
            x=[label(key) for key in counts],
            y=values,
            marker={"color": [palette.SEVERITY_COLOURS.get(key, palette.FALLBACK) for key in counts]},
            text=values,
            textposition="outside",
            cliponaxis=False,
            customdata=_share(values),
            hovertemplate="<b>%{x}</b><br>%{y:,} incidents (%{customdata:.0%})<extra></extra>",
        )
    )
    _style(fig, height=300)
    return _vertical_bars(fig, x_title="Severity", y_title="Incidents")


def status_funnel(stats: Stats, *, cumulative: bool = True) -> go.Figure:
    """The lifecycle New → … → Closed as a funnel.

    By default each stage counts the incidents in it or any later stage (stages may be skipped, so this is
    "at or past", not "went through"; hover shows how many are in the stage now); with `cumulative=False`,
    only those in the stage now."""
    counts = _ordered(stats.by_status, STATUSES)
    current = list(counts.values())
    if not sum(current):
        return empty_figure(height=320)
    values = [sum(current[i:]) for i in range(len(current))] if cumulative else current
    measure = "at or past this stage" if cumulative else "in this stage now"
    colours = [palette.STATUS_COLOURS.get(key, palette.FALLBACK) for key in counts]
    fig = go.Figure(
        go.Funnel(
            y=[label(key) for key in counts],
            x=values,
            marker={"color": colours},
            texttemplate="%{value:,}<br>%{percentInitial:.0%}" if cumulative else "%{value:,}<br>%{percentTotal:.0%}",
            textposition="auto",
            insidetextfont={"color": [_ink(c) for c in colours]},
            outsidetextfont={"color": palette.TEXT},
            constraintext="none",
            connector={"line": {"color": palette.AXIS_LINE, "width": 1}, "fillcolor": "rgba(148, 163, 184, 0.08)"},
            customdata=current,
            hovertemplate=(
                f"<b>%{{y}}</b><br>%{{x:,}} incidents {measure}"
                + ("<br>%{customdata:,} currently here" if cumulative else "")
                + "<extra></extra>"
            ),
        )
    )
    _style(fig, height=320)
    fig.update_yaxes(showgrid=False, ticksuffix="  ")
    fig.update_xaxes(visible=False)
    return fig


def tactic_chart(stats: Stats) -> go.Figure:
    """Incidents per MITRE ATT&CK tactic, most frequent on top."""
    rows = [(_text(name) if name != NONE else "No tactic", count) for name, count in _ranked(stats.by_tactic)]
    if not rows:
        return empty_figure()
    return _horizontal_bars(rows, colours=palette.ACCENT, x_title="Incidents", y_title="ATT&amp;CK tactic")


def siem_chart(stats: Stats) -> go.Figure:
    """Incidents per source SIEM, most frequent on top."""
    rows = [(_text(name) if name != NONE else "No source", count) for name, count in _ranked(stats.by_siem)]
    if not rows:
        return empty_figure()
    return _horizontal_bars(rows, colours="#a78bfa", x_title="Incidents", y_title="Source")


def created_vs_resolved(stats: Stats, *, start: date | None = None, end: date | None = None) -> go.Figure:
    """Incidents created and resolved per UTC day, every day from `start` to `end` (or the first and last day
    with data) present, days without incidents as 0."""
    created, resolved = stats.created_per_day, stats.resolved_per_day
    if not sum(created.values()) + sum(resolved.values()):
        return empty_figure(height=320)
    days = [date.fromisoformat(day) for day in (*created, *resolved)]
    first = min([*days, *([start] if start else [])])
    last = max([*days, *([end] if end else [])])
    keys = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    mode = "lines+markers" if len(keys) <= MARKERS_UP_TO_DAYS else "lines"
    fig = go.Figure()
    for name, series, colour in (("Created", created, palette.CREATED), ("Resolved", resolved, palette.RESOLVED)):
        fig.add_trace(
            go.Scatter(
                x=keys,
                y=[series.get(day, 0) for day in keys],
                name=name,
                mode=mode,
                line={"color": colour, "width": 2},
                marker={"size": 5},
                cliponaxis=False,
                hovertemplate=f"{name}: %{{y:,}}<extra></extra>",
            )
        )
    _style(fig, height=320, legend=True)
    fig.update_layout(hovermode="x unified")
    fig.update_xaxes(
        type="date",
        title={"text": "Day (UTC)"},
        showgrid=False,
        showline=True,
        hoverformat="%a %d %b %Y",
        showspikes=False,  # the unified hover box marks the day; plotly's spike line is a harsh white dash here
    )
    fig.update_yaxes(title={"text": "Incidents per day"}, rangemode="tozero", zeroline=False)
    return fig


def _duration_rows(by_severity: Mapping[str, DurationStats], severities: list[str], attribute: str):
    stats = [by_severity.get(severity) for severity in severities]
    seconds = [getattr(s, attribute) if s else None for s in stats]
    return seconds, [s.count if s else 0 for s in stats]


def mtta_mttr_by_severity(stats: Stats) -> go.Figure:
    """Median and 90th percentile of time to acknowledge and time to resolve per severity, in hours.

    Two panels side by side (MTTA left, MTTR right, each with its own scale), severities top to bottom; solid
    bars are medians, hatched bars the 90th percentile; bar labels and hover give the durations in words
    ("45 min", "3.5 h", "2.1 d")."""
    present = set(stats.mtta_by_severity) | set(stats.mttr_by_severity)
    severities = [s for s in _ordered(dict.fromkeys(present, 0), SEVERITIES) if s in present]
    every = (*stats.mtta_by_severity.values(), *stats.mttr_by_severity.values())
    if not any(d.median_s is not None for d in every):
        return empty_figure(height=360)
    panels = (
        ("Time to acknowledge (MTTA)", "acknowledged", stats.mtta_by_severity),
        ("Time to resolve (MTTR)", "resolved", stats.mttr_by_severity),
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=[title for title, _, _ in panels],
        shared_yaxes=True,
        horizontal_spacing=0.08,
    )
    labels = [label(s) for s in severities]
    colours = [palette.SEVERITY_COLOURS.get(s, palette.FALLBACK) for s in severities]
    hatch = {"shape": "/", "fgcolor": palette.HOVER_BACKGROUND, "solidity": 0.3}
    looks = (
        ("Median", "median_s", {"color": colours}),
        ("90th percentile", "p90_s", {"color": colours, "opacity": 0.6, "pattern": hatch}),
    )
    for col, (title, verb, by_severity) in enumerate(panels, start=1):
        longest = 0.0
        for name, attribute, marker in looks:
            seconds, counts = _duration_rows(by_severity, severities, attribute)
            texts = [duration(s) if s is not None else "" for s in seconds]
            values = [hours(s) for s in seconds]
            longest = max([longest, *(v for v in values if v is not None)])
            fig.add_trace(
                go.Bar(
                    x=values,
                    y=labels,
                    orientation="h",
                    name=name,
                    legendgroup=name,
                    showlegend=False,
                    marker=marker,
                    text=texts,
                    textposition="outside",
                    constraintext="none",
                    textfont={"size": 12, "color": palette.MUTED_TEXT},
                    cliponaxis=False,
                    customdata=list(zip(texts, counts, strict=True)),
                    hovertemplate=(
                        f"<b>%{{y}}</b> · {title}<br>{name}: %{{customdata[0]}}"
                        f"<br>%{{customdata[1]:,}} incidents {verb}<extra></extra>"
                    ),
                ),
                row=1,
                col=col,
            )
        # room for the labels at the ends of the longest bars
        fig.update_xaxes(range=[0, (longest or 1) * 1.22], row=1, col=col)
    # legend entries in a neutral colour: the bar colours already say the severity
    for name, _, marker in looks:
        fig.add_trace(
            go.Bar(x=[None], y=[None], name=name, legendgroup=name, marker={**marker, "color": palette.FALLBACK})
        )
    _style(fig, height=max(300, 120 + 56 * len(severities)), legend=True)
    fig.update_layout(barmode="group", bargap=0.28, bargroupgap=0.08, margin={"t": 72}, legend={"y": 1.14})
    fig.update_annotations(font={"size": 14, "color": palette.TEXT}, yshift=6)
    fig.update_xaxes(title={"text": "Hours"}, rangemode="tozero", zeroline=False)
    fig.update_yaxes(autorange="reversed", showgrid=False, ticksuffix="  ")
    return fig


def open_per_analyst(
    stats: Stats, names: Mapping[str, str] | None = None, *, include_unassigned: bool = True
) -> go.Figure:
    """Open incidents per analyst (display names from `names`, username otherwise), busiest on top, with the
    unassigned open incidents as a first bar of their own colour."""
    names = names or {}
    assigned = {username: count for username, count in stats.by_assignee.items() if username != NONE}
    shown = {username: names.get(username) or username for username in assigned}
    clashes = {n for n in shown.values() if list(shown.values()).count(n) > 1}
    shown = {u: f"{n} ({u})" if n in clashes else n for u, n in shown.items()}
    rows = sorted(
        ((_text(shown[u]), count) for u, count in assigned.items() if count),
        key=lambda item: (-item[1], item[0]),
    )
    colours = [palette.ACCENT] * len(rows)
    if include_unassigned and stats.unassigned_open:
        rows.insert(0, ("Unassigned", stats.unassigned_open))
        colours.insert(0, palette.UNASSIGNED)
    if not rows:
        return empty_figure()
    return _horizontal_bars(rows, colours=colours, x_title="Open incidents", y_title="", noun="open incidents")


def backlog_by_age(stats: Stats) -> go.Figure:
    """Open incidents by age, youngest to oldest bucket, coloured from calm to alarming."""
    counts = _ordered(stats.backlog_by_age, [name for name, _, _ in AGE_BUCKETS])
    values = list(counts.values())
    if not sum(values):
        return empty_figure(height=300)
    colours = [palette.AGE_COLOURS[i] if i < len(palette.AGE_COLOURS) else palette.FALLBACK for i in range(len(counts))]
    fig = go.Figure(
        go.Bar(
            x=[_text(name) for name in counts],
            y=values,
            marker={"color": colours},
            text=values,
            textposition="outside",
            cliponaxis=False,
            customdata=_share(values),
            hovertemplate="<b>%{x}</b><br>%{y:,} open incidents (%{customdata:.0%})<extra></extra>",
        )
    )
    _style(fig, height=300)
    return _vertical_bars(fig, x_title="Age since created", y_title="Open incidents")
