"""Field validation for incidents: the one place that decides what a valid value is.

`clean_fields` returns normalised values and collects every field's error at once, so a form can show
each message next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from core import attack
from core.iocs import IocError, parse_iocs
from core.lifecycle import SEVERITIES

MAX_TITLE = 500
MAX_TEXT = 50_000
MAX_SHORT = 100
MAX_ASSET = 255
MAX_ITEMS = 1_000

#: fields a caller may set when creating or updating an incident (status goes through the lifecycle).
EDITABLE_FIELDS = (
    "title",
    "description",
    "severity",
    "mitre_tactic",
    "mitre_technique",
    "source_siem",
    "assigned_to",
    "resolution",
    "affected_assets",
    "iocs",
)


#: characters that drive terminals or reorder text (C0/C1 controls, DEL, bidirectional overrides)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("[\r\n\t\x85\u2028\u2029]")


def text(value, *, limit: int, required: bool = False, single_line: bool = False) -> str | None:
    """Stripped text, or None when empty and not required; ValueError saying what is wrong.

    Rejects non-text, invalid Unicode (lone surrogates), control characters and bidirectional overrides
    (they can drive an analyst's terminal or disguise text), and line breaks in single-line fields."""
    if value is None:
        if required:
            raise ValueError("is required")
        return None
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    if not value:
        if required:
            raise ValueError("must not be blank")
        return None
    if len(value) > limit:
        raise ValueError(f"must be at most {limit} characters (got {len(value)})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text") from None
    if _CONTROL.search(value) or (single_line and _LINE_BREAK.search(value)):
        raise ValueError("must not contain control characters" + (" or line breaks" if single_line else ""))
    return value


_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_tenant(tenant) -> str:
    """A tenant id: 1 to 64 letters, digits, dots, dashes or underscores."""
    from core.errors import ValidationError

    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise ValidationError({"tenant": "a tenant id is 1 to 64 letters, digits, '.', '-' or '_'"})
    return tenant


def _severity(value) -> str:
    text = str(value or "").strip().lower()
    if text not in SEVERITIES:
        raise ValueError(f"must be one of: {', '.join(SEVERITIES)}")
    return text


def _assets(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValueError("must be a list of asset names")
    seen: dict[str, None] = {}
    for position, item in enumerate(value, start=1):
        try:
            name = text(item, limit=MAX_ASSET, required=True, single_line=True)
        except ValueError as exc:
            raise ValueError(f"item {position} {exc}") from None
        seen.setdefault(name, None)
    if len(seen) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} assets")
    return list(seen)


def _iocs(value) -> list[dict]:
    if value is None:
        return []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise ValueError("must be a list of indicators")
    try:
        parsed = parse_iocs(value)
    except IocError as exc:
        raise ValueError(str(exc)) from None
    if len(parsed) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} indicators")
    return [ioc.to_dict() for ioc in parsed]


def _tactic(value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("must be text")
    tactic = attack.normalise_tactic(str(value))
    if tactic is None:
        raise ValueError(f"unknown ATT&CK tactic '{value}'; use one of: {', '.join(attack.TACTICS)}")
    return tactic


def _technique(value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("must be text")
    technique_id = attack.normalise_technique_id(str(value))
    if attack.technique(technique_id) is None:
        raise ValueError(f"{technique_id} is not an ATT&CK enterprise technique (v18.1 or v19)")
    return technique_id


_CLEANERS = {
    "title": lambda v: text(v, limit=MAX_TITLE, required=True, single_line=True),
    "description": lambda v: text(v, limit=MAX_TEXT) or "",
    "severity": _severity,
    "mitre_tactic": _tactic,
    "mitre_technique": _technique,
    "source_siem": lambda v: text(v, limit=MAX_SHORT, single_line=True),
    "assigned_to": lambda v: text(v, limit=MAX_SHORT, single_line=True),
    "resolution": lambda v: text(v, limit=MAX_TEXT),
    "affected_assets": _assets,
    "iocs": _iocs,
    "source_system": lambda v: text(v, limit=MAX_SHORT, single_line=True),
    "source_ref": lambda v: text(v, limit=200, single_line=True),
}


def clean_fields(data: Mapping, *, fields: Iterable[str]) -> dict:
    """Normalised values of `fields` present in `data`; raises ValidationError listing every bad field."""
    from core.errors import ValidationError

    cleaned, errors = {}, {}
    for field in fields:
        if field not in data:
            continue
        try:
            cleaned[field] = _CLEANERS[field](data[field])
        except ValueError as exc:
            errors[field] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def check_attack_pair(state: Mapping) -> dict:
    """Tactic/technique consistency on the merged state; fills the tactic of a single-tactic technique.

    Returns the fields to add (possibly empty); raises ValidationError on a mismatch.
    """
    from core.errors import ValidationError

    technique_id, tactic = state.get("mitre_technique"), state.get("mitre_tactic")
    if not technique_id:
        return {}
    tactics = attack.tactics_for(technique_id)
    if tactic is None:
        return {"mitre_tactic": tactics[0]} if len(tactics) == 1 else {}
    if tactic not in tactics:
        raise ValidationError({"mitre_tactic": f"{technique_id} belongs to {', '.join(tactics)}, not {tactic}"})
    return {}
