"""Severity and status shown the same way everywhere: one colour per value, human labels."""

from __future__ import annotations

import streamlit as st

from core.lifecycle import label

SEVERITY_COLOURS = {  # shared with the charts
    "critical": "#dc2626",
    "high": "#ea580c",
    "medium": "#ca8a04",
    "low": "#2563eb",
    "informational": "#64748b",
}
SEVERITY_BADGE = {"critical": "red", "high": "orange", "medium": "yellow", "low": "blue", "informational": "gray"}
STATUS_BADGE = {
    "new": "violet",
    "investigating": "blue",
    "containment": "orange",
    "eradication": "orange",
    "resolved": "green",
    "closed": "gray",
}
STATUS_COLOURS = {  # table text colours, readable on the dark theme
    "new": "#a78bfa",
    "investigating": "#60a5fa",
    "containment": "#fb923c",
    "eradication": "#fbbf24",
    "resolved": "#4ade80",
    "closed": "#94a3b8",
}
TABLE_SEVERITY_COLOURS = {
    "critical": "#f87171",
    "high": "#fb923c",
    "medium": "#facc15",
    "low": "#60a5fa",
    "informational": "#94a3b8",
}


def coloured_table(frame, *, severity: str = "Severity", status: str = "Status"):
    """A Styler colouring the severity and status cells (which hold human labels) consistently."""
    by_label = {label(k): v for k, v in (TABLE_SEVERITY_COLOURS | STATUS_COLOURS).items()}
    return frame.style.map(
        lambda value: f"color: {by_label.get(value, 'inherit')}; font-weight: 600", subset=[severity, status]
    )


def severity_badge(severity: str) -> None:
    st.badge(label(severity), color=SEVERITY_BADGE.get(severity, "gray"), icon=":material/warning:")


def status_badge(status: str) -> None:
    st.badge(label(status), color=STATUS_BADGE.get(status, "gray"))
