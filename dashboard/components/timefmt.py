"""Times in the viewer's zone (st.context.timezone)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st


def viewer_zone() -> ZoneInfo:
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(viewer_zone()).strftime("%Y-%m-%d %H:%M %Z")
