"""Severity and status shown the same way everywhere: one colour per value, human labels."""

from __future__ import annotations

import streamlit as st

from core.lifecycle import label
from dashboard import palette

SEVERITY_BADGE = {"critical": "red", "high": "orange", "medium": "yellow", "low": "blue", "informational": "gray"}
STATUS_BADGE = {
    "new": "violet",
    "investigating": "blue",
    "containment": "orange",
    "eradication": "orange",
    "resolved": "green",
    "closed": "gray",
}


def coloured_table(frame, *, severity: str = "Severity", status: str = "Status"):
    """A Styler colouring the severity and status cells (which hold human labels) consistently."""
    by_label = {label(k): v for k, v in (palette.SEVERITY_TEXT | palette.STATUS_TEXT).items()}
    return frame.style.map(
        lambda value: f"color: {by_label.get(value, 'inherit')}; font-weight: 600", subset=[severity, status]
    )


def severity_badge(severity: str) -> None:
    st.badge(label(severity), color=SEVERITY_BADGE.get(severity, "gray"), icon=":material/warning:")


def status_badge(status: str) -> None:
    st.badge(label(status), color=STATUS_BADGE.get(status, "gray"))
