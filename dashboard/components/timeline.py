"""Timeline events in words: what happened, in one headline and an optional body."""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.incidents import Event
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
    return [v["value"] if isinstance(v, dict) else str(v) for v in values] if isinstance(values, list) else [text]


def describe(event: Event, names: dict[str, str] | None = None) -> Described:
    names = names or {}
    icon = ICONS.get(event.kind, ":material/info:")
    if event.kind == "created":
        return Described(icon, "created the incident")
    if event.kind == "comment":
        return Described(icon, "commented", event.note)
    if event.kind == "status_changed":
        return Described(icon, f"moved {label(event.old_value)} → {label(event.new_value)}", event.note)
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
        return Described(icon, f"cleared the {field} (was {event.old_value})")
    if event.field in ("description", "resolution"):
        if not event.new_value:
            return Described(icon, f"cleared the {field}", f"Was: {event.old_value}" if event.old_value else None)
        return Described(icon, f"changed the {field}", event.new_value)
    return Described(icon, f"changed {field}: {event.old_value or '—'} → {event.new_value or '—'}")
