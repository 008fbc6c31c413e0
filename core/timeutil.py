"""UTC time helpers: the database stores UTC, every face shows times in the viewer's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A timezone-aware UTC datetime; a naive value is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def day_start(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return as_utc(value)
    return datetime.combine(value, time.min, tzinfo=UTC)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z suffix, whole seconds unless the value has a fraction."""
    if value is None:
        return None
    return as_utc(value).isoformat().replace("+00:00", "Z")
