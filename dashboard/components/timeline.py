"""Timeline events in words: what happened, in one headline and an optional body."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from core.incidents import Event
from core.iocs import defang
from core.lifecycle import label

FIELD_NAMES = {
    "title": "title",
    "description": "description",
    "severity": "severity",
    "mitre_tactic": "ATT&CK tactic",
    "mitre_technique": "ATT&CK technique",
    "source_siem": "source SIEM",
    "resolution": "resolution",
    "classification": "classification",
    "affected_assets": "affected assets",
    "iocs": "IOCs",
    "resolved_at": "resolved time",
    "closed_at": "closed time",
}
ICONS = {
    "created": ":material/add_circle:",
    "status_changed": ":material/sync_alt:",
    "assigned": ":material/person:",
    "field_changed": ":material/edit:",
    "comment": ":material/chat:",
    "alert_linked": ":material/notifications_active:",
}


@dataclass(frozen=True)
class Described:
    icon: str
    headline: str  # plain text: the page escapes it
    body: str | None = None


def _items(text: str | None) -> list[str]:
    if not text:
        return []
    try:
        values = json.loads(text)
    except ValueError:
        return [text]
    if not isinstance(values, list):
        return [text]
    return [defang(v["type"], v["value"]) if isinstance(v, dict) else str(v) for v in values]  # IOCs defanged


def _time_text(value: str | None, when: Callable[[datetime], str] | None) -> str | None:
    if value is None or when is None:
        return value
    try:
        return when(datetime.fromisoformat(value))
    except ValueError:
        return value


def describe(
    event: Event, names: dict[str, str] | None = None, when: Callable[[datetime], str] | None = None
) -> Described:
    """What one event says; `when` formats times (the viewer's zone), `names` maps user names to display names."""
    names = names or {}
    icon = ICONS.get(event.kind, ":material/info:")
    if event.kind == "created":
        return Described(icon, "created the incident")
    if event.kind == "comment":
        return Described(icon, "commented", event.note)
    if event.kind == "alert_linked":
        return Described(icon, f"linked the alert {event.new_value}", event.note)
    if event.kind == "status_changed":
        verb = (
            "reopened it"
            if event.old_value in ("resolved", "closed") and event.new_value not in ("resolved", "closed")
            else "moved it"
        )
        return Described(icon, f"{verb}: {label(event.old_value)} → {label(event.new_value)}", event.note)
    if event.kind == "assigned":
        if event.new_value:
            return Described(icon, f"assigned it to {names.get(event.new_value, event.new_value)}")
        return Described(icon, f"unassigned it (was {names.get(event.old_value, event.old_value)})")
    field = FIELD_NAMES.get(event.field or "", event.field or "a field")
    if event.field in ("iocs", "affected_assets"):
        old, new = _items(event.old_value), _items(event.new_value)
        added = [v for v in new if v not in old]
        removed = [v for v in old if v not in new]
        parts = [f"added {', '.join(added)}" if added else "", f"removed {', '.join(removed)}" if removed else ""]
        return Described(icon, f"changed {field}", "; ".join(p for p in parts if p) or None)
    if event.field in ("severity", "classification"):
        return Described(icon, f"changed {field}: {label(event.old_value) or '—'} → {label(event.new_value) or '—'}")
    if event.field in ("resolved_at", "closed_at") and not event.new_value:
        return Described(icon, f"cleared the {field} (was {_time_text(event.old_value, when)})")
    if event.field in ("description", "resolution"):
        if not event.new_value:
            return Described(icon, f"cleared the {field}", f"Was: {event.old_value}" if event.old_value else None)
        return Described(icon, f"changed the {field}", event.new_value)
    return Described(icon, f"changed {field}: {event.old_value or '—'} → {event.new_value or '—'}")


@dataclass(frozen=True)
class Change:
    """One card of the timeline: a comment, or everything one save changed (one version, one actor)."""

    icon: str
    actor: str
    at: datetime
    headline: str
    details: list[str]


def group_by_change(
    events: list[Event], *, names: dict[str, str], when: Callable[[datetime], str] | None = None
) -> list[Change]:
    """Events (newest first) folded into one card per save: a reopen is one card, not five."""
    groups: list[list[Event]] = []
    for event in events:
        last = groups[-1][0] if groups else None
        same_save = (
            last is not None
            and event.version is not None
            and event.version == last.version
            and event.actor == last.actor
        )
        if same_save:
            groups[-1].append(event)
        else:
            groups.append([event])
    changes = []
    for group in groups:
        # the headline: the creation, else the status change, else the newest event of the save
        primary = next((e for kind in ("created", "status_changed") for e in group if e.kind == kind), group[0])
        main = describe(primary, names, when)
        details = [main.body] if main.body else []
        for event in group:
            if event is not primary:
                other = describe(event, names, when)
                details.append(other.headline + (f": {other.body}" if other.body else ""))
        changes.append(Change(main.icon, names.get(primary.actor, primary.actor), primary.at, main.headline, details))
    return changes
