"""Durations and ages in words an analyst reads at a glance (no Streamlit: the charts use them too)."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.timeutil import utcnow


def duration(value: timedelta | float | None) -> str:
    """'45 min', '3.5 h', '2.1 d', '1.4 y' for a timedelta or a number of seconds; '—' for none."""
    if value is None:
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds < 365 * 86400:
        return f"{seconds / 86400:.1f} d"
    return f"{seconds / (365.25 * 86400):.1f} y"


def age(since: datetime, now: datetime | None = None) -> str:
    return duration((now or utcnow()) - since)
