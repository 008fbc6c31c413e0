"""The statistics page's figure builders, checked on hand-made Stats without Streamlit."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import pytest

from core.lifecycle import SEVERITIES, STATUSES
from core.stats import DurationStats, Stats
from dashboard import charts, palette

ROOT = Path(__file__).resolve().parents[2]
D = DurationStats

EMPTY = Stats(
    total=0,
    open=0,
    critical=0,
    critical_open=0,
    unassigned_open=0,
    by_severity={"critical": 0, "high": 0, "medium": 0, "low": 0, "informational": 0},
    by_status={"new": 0, "investigating": 0, "containment": 0, "eradication": 0, "resolved": 0, "closed": 0},
    by_tactic={},
    by_siem={},
    by_assignee={},
    created_per_day={},
    resolved_per_day={},
    backlog_by_age={"< 1 day": 0, "1–3 days": 0, "3–7 days": 0, "7–30 days": 0, "> 30 days": 0},
    mtta=D(0, None, None),
    mttr=D(0, None, None),
    mtta_by_severity={},
    mttr_by_severity={},
)

STATS = replace(
    EMPTY,
    total=30,
    open=12,
    critical=3,
    critical_open=2,
    unassigned_open=4,
    by_severity={"critical": 3, "high": 7, "medium": 10, "low": 6, "informational": 4},
    by_status={"new": 5, "investigating": 4, "containment": 2, "eradication": 1, "resolved": 8, "closed": 10},
    by_tactic={"Impact": 2, "Initial Access": 9, "Execution": 5, "Discovery": 5},
    by_siem={"Microsoft Sentinel": 11, "Splunk ES": 19},
    by_assignee={"j.chen": 3, "s.patel": 5},
    created_per_day={"2026-06-01": 4, "2026-06-04": 2},
    resolved_per_day={"2026-06-02": 1, "2026-06-04": 3},
    backlog_by_age={"< 1 day": 3, "1–3 days": 0, "3–7 days": 4, "7–30 days": 1, "> 30 days": 4},
    mtta=D(25, 1800.0, 9000.0),
    mttr=D(18, 36000.0, 180000.0),
    mtta_by_severity={"critical": D(3, 600.0, 1200.0), "low": D(5, 7200.0, 14400.0)},
    mttr_by_severity={"critical": D(2, 18000.0, 36000.0), "medium": D(9, 172800.0, 345600.0)},
)

BUILDERS = [
    charts.severity_chart,
    charts.status_funnel,
    charts.tactic_chart,
    charts.siem_chart,
    charts.created_vs_resolved,
    charts.mtta_mttr_by_severity,
    charts.open_per_analyst,
    charts.backlog_by_age,
]


def annotations(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_charts_module_imports_no_streamlit():
    code = "import sys, dashboard.charts, dashboard.palette; print('streamlit' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_every_builder_styles_for_the_dark_theme(build):
    fig = build(STATS)
    assert isinstance(fig, go.Figure)
    assert fig.data, "a figure with data has traces"
    assert charts.NO_DATA not in annotations(fig)
    assert fig.layout.paper_bgcolor == palette.TRANSPARENT and fig.layout.plot_bgcolor == palette.TRANSPARENT
    assert fig.layout.font.color == palette.TEXT
    assert fig.layout.height and fig.layout.height >= 160


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_empty_stats_give_a_no_data_figure(build):
    fig = build(EMPTY)
    assert isinstance(fig, go.Figure)
    assert annotations(fig) == [charts.NO_DATA]
    assert not fig.data
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False


def test_severity_chart_orders_labels_and_colours():
    (bar,) = charts.severity_chart(STATS).data
    assert bar.x == ("Critical", "High", "Medium", "Low", "Informational")
    assert bar.y == (3, 7, 10, 6, 4)
    assert list(bar.marker.color) == [palette.SEVERITY_COLOURS[s] for s in SEVERITIES]
    assert bar.marker.color[0] == "#dc2626"  # critical is red
    fig = charts.severity_chart(STATS)
    assert fig.layout.xaxis.title.text == "Severity" and fig.layout.yaxis.title.text == "Incidents"


def test_severity_chart_keeps_order_whatever_the_dict_order():
    stats = replace(STATS, by_severity={"informational": 1, "low": 2, "critical": 5})
    (bar,) = charts.severity_chart(stats).data
    assert bar.x == ("Critical", "High", "Medium", "Low", "Informational")
    assert bar.y == (5, 0, 0, 2, 1)


def test_status_funnel_follows_the_lifecycle_at_or_past_each_stage():
    (funnel,) = charts.status_funnel(STATS).data
    assert funnel.type == "funnel"
    assert funnel.y == ("New", "Investigating", "Containment", "Eradication", "Resolved", "Closed")
    assert funnel.x == (30, 25, 21, 19, 18, 10)  # 5+4+2+1+8+10, then each later stage
    assert funnel.customdata == (5, 4, 2, 1, 8, 10)  # how many are in each stage now, for the hover
    assert list(funnel.marker.color) == [palette.STATUS_COLOURS[s] for s in STATUSES]


def test_status_funnel_can_show_current_counts():
    (funnel,) = charts.status_funnel(STATS, cumulative=False).data
    assert funnel.x == (5, 4, 2, 1, 8, 10)


def test_tactic_chart_is_sorted_largest_on_top():
    fig = charts.tactic_chart(STATS)
    (bar,) = fig.data
    assert bar.orientation == "h"
    assert bar.y == ("Initial Access", "Discovery", "Execution", "Impact")  # ties by name
    assert bar.x == (9, 5, 5, 2)
    assert fig.layout.yaxis.autorange == "reversed"  # the first row is drawn at the top
    assert fig.layout.xaxis.title.text == "Incidents"


def test_siem_chart_is_sorted_and_escapes_names():
    stats = replace(STATS, by_siem={"Splunk ES": 19, "<b>Evil</b> & co": 20, "Microsoft Sentinel": 11})
    (bar,) = charts.siem_chart(stats).data
    assert bar.y == ("&lt;b&gt;Evil&lt;/b&gt; &amp; co", "Splunk ES", "Microsoft Sentinel")
    assert bar.x == (20, 19, 11)


def test_created_vs_resolved_fills_missing_days_with_zero():
    fig = charts.created_vs_resolved(STATS)
    created, resolved = fig.data
    assert (created.name, resolved.name) == ("Created", "Resolved")
    assert created.x == ("2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04")
    assert created.y == (4, 0, 0, 2)
    assert resolved.x == created.x
    assert resolved.y == (0, 1, 0, 3)
    assert fig.layout.xaxis.type == "date"


def test_created_vs_resolved_covers_the_whole_requested_period():
    fig = charts.created_vs_resolved(STATS, start=date(2026, 5, 30), end=date(2026, 6, 6))
    created, resolved = fig.data
    assert created.x[0] == "2026-05-30" and created.x[-1] == "2026-06-06" and len(created.x) == 8
    assert created.y == (0, 0, 4, 0, 0, 2, 0, 0)
    assert resolved.y == (0, 0, 0, 1, 0, 3, 0, 0)


def test_mtta_mttr_in_hours_per_severity_in_two_panels():
    fig = charts.mtta_mttr_by_severity(STATS)
    mtta_median, mtta_p90, mttr_median, mttr_p90, *legend = fig.data
    severities = ("Critical", "Medium", "Low")  # only those measured, in severity order
    for trace in (mtta_median, mtta_p90, mttr_median, mttr_p90):
        assert trace.y == severities and trace.orientation == "h"
    assert mtta_median.x == (600 / 3600, None, 2.0)
    assert mtta_p90.x == (1200 / 3600, None, 4.0)
    assert mttr_median.x == (5.0, 48.0, None)
    assert mttr_p90.x == (10.0, 96.0, None)
    assert (mtta_median.xaxis, mttr_median.xaxis) == ("x", "x2")  # one panel each
    assert mtta_median.text == ("10 min", "", "2.0 h")
    assert mttr_p90.text == ("10.0 h", "4.0 d", "")
    assert [tuple(row) for row in mtta_median.customdata] == [("10 min", 3), ("", 0), ("2.0 h", 5)]
    assert list(mtta_median.marker.color) == [palette.SEVERITY_COLOURS[s] for s in ("critical", "medium", "low")]
    assert mtta_p90.marker.pattern.shape == "/"
    assert [t.name for t in legend] == ["Median", "90th percentile"]
    assert annotations(fig) == ["Time to acknowledge (MTTA)", "Time to resolve (MTTR)"]
    assert fig.layout.xaxis.title.text == "Hours" and fig.layout.xaxis2.title.text == "Hours"


def test_open_per_analyst_uses_display_names_and_shows_unassigned_first():
    fig = charts.open_per_analyst(STATS, {"j.chen": "Jia Chen", "s.patel": "Sana Patel"})
    (bar,) = fig.data
    assert bar.y == ("Unassigned", "Sana Patel", "Jia Chen")
    assert bar.x == (4, 5, 3)
    assert list(bar.marker.color) == [palette.UNASSIGNED, palette.ACCENT, palette.ACCENT]


def test_open_per_analyst_falls_back_to_usernames_and_separates_equal_names():
    stats = replace(STATS, by_assignee={"a.smith": 2, "b.smith": 2, "gone.user": 1})
    (bar,) = charts.open_per_analyst(stats, {"a.smith": "Sam Smith", "b.smith": "Sam Smith"}).data
    assert bar.y == ("Unassigned", "Sam Smith (a.smith)", "Sam Smith (b.smith)", "gone.user")
    (bar,) = charts.open_per_analyst(stats, include_unassigned=False).data
    assert bar.y == ("a.smith", "b.smith", "gone.user")


def test_open_per_analyst_with_only_unassigned_incidents():
    (bar,) = charts.open_per_analyst(replace(EMPTY, unassigned_open=3)).data
    assert bar.y == ("Unassigned",) and bar.x == (3,)


def test_backlog_by_age_keeps_bucket_order():
    stats = replace(STATS, backlog_by_age={"> 30 days": 4, "< 1 day": 3, "3–7 days": 4})
    fig = charts.backlog_by_age(stats)
    (bar,) = fig.data
    assert bar.x == ("&lt; 1 day", "1–3 days", "3–7 days", "7–30 days", "&gt; 30 days")  # shown as "< 1 day"
    assert bar.y == (3, 0, 4, 0, 4)
    assert list(bar.marker.color) == list(palette.AGE_COLOURS)
    assert fig.layout.yaxis.title.text == "Open incidents"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (-5, "0 min"), (600, "10 min"), (3600, "1.0 h"), (9000, "2.5 h"), (48 * 3600, "2.0 d")],
)
def test_duration(seconds, text):
    assert charts.duration(seconds) == text
