"""Times in the viewer's zone, durations and ages in words an analyst reads at a glance."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from core.timeutil import utcnow


def viewer_zone() -> ZoneInfo:
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(viewer_zone()).strftime("%Y-%m-%d %H:%M %Z")


def duration(delta: timedelta | float | None) -> str:
    """'45 min', '3.5 h', '2.1 d'; accepts seconds or a timedelta."""
    if delta is None:
        return "—"
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    if seconds < 3600:
        return f"{max(seconds, 0) / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def age(since: datetime, now: datetime | None = None) -> str:
    return duration((now or utcnow()) - since)
