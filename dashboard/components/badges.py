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
SEVERITY_DOT = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "🔵", "informational": "⚪"}
STATUS_BADGE = {
    "new": "violet",
    "investigating": "blue",
    "containment": "orange",
    "eradication": "orange",
    "resolved": "green",
    "closed": "gray",
}
STATUS_ICON = {
    "new": "🆕",
    "investigating": "🔎",
    "containment": "🧱",
    "eradication": "🧹",
    "resolved": "✅",
    "closed": "🔒",
}


def severity_text(severity: str) -> str:
    """For table cells, where colour comes from the leading dot."""
    return f"{SEVERITY_DOT.get(severity, '')} {label(severity)}"


def status_text(status: str) -> str:
    return f"{STATUS_ICON.get(status, '')} {label(status)}"


def severity_badge(severity: str) -> None:
    st.badge(label(severity), color=SEVERITY_BADGE.get(severity, "gray"), icon=":material/warning:")


def status_badge(status: str) -> None:
    st.badge(label(status), color=STATUS_BADGE.get(status, "gray"))
