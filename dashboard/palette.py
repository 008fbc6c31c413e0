"""The dashboard's colours, in one place that imports nothing (no Streamlit), so charts and badges share them.

Tuned for the dark theme in .streamlit/config.toml (background #0f172a, secondary #1e293b, text #e2e8f0).
"""

from __future__ import annotations

#: one colour per severity, used by the badges and every chart that shows severity
SEVERITY_COLOURS = {
    "critical": "#dc2626",
    "high": "#ea580c",
    "medium": "#ca8a04",
    "low": "#2563eb",
    "informational": "#64748b",
}

#: one colour per lifecycle status (the hues of the status badges: violet, blue, orange, green, gray)
STATUS_COLOURS = {
    "new": "#8b5cf6",
    "investigating": "#3b82f6",
    "containment": "#f97316",
    "eradication": "#f59e0b",
    "resolved": "#22c55e",
    "closed": "#64748b",
}

#: lighter variants for text on the dark background (table cells)
SEVERITY_TEXT = {
    "critical": "#f87171",
    "high": "#fb923c",
    "medium": "#facc15",
    "low": "#60a5fa",
    "informational": "#94a3b8",
}
STATUS_TEXT = {
    "new": "#a78bfa",
    "investigating": "#60a5fa",
    "containment": "#fb923c",
    "eradication": "#fbbf24",
    "resolved": "#4ade80",
    "closed": "#94a3b8",
}

#: open-incident age, youngest to oldest (the buckets of core.stats.AGE_BUCKETS): calm to alarming
AGE_COLOURS = ("#38bdf8", "#60a5fa", "#facc15", "#f97316", "#ef4444")

#: for anything else: a value without a colour of its own, and the accents of the charts
FALLBACK = "#94a3b8"
ACCENT = "#3b82f6"  # the theme's primaryColor
CREATED = "#60a5fa"
RESOLVED = "#34d399"
UNASSIGNED = "#f59e0b"

#: chart chrome on the dark theme
TEXT = "#e2e8f0"
MUTED_TEXT = "#94a3b8"
GRID = "rgba(148, 163, 184, 0.16)"
AXIS_LINE = "rgba(148, 163, 184, 0.35)"
HOVER_BACKGROUND = "#1e293b"
HOVER_BORDER = "#334155"
TRANSPARENT = "rgba(0, 0, 0, 0)"
