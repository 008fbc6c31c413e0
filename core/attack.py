"""MITRE ATT&CK Enterprise catalog (v18.1 and v19) and the one place tactic spellings are normalised.

The catalog is ``data/attack_catalog.json``, built by ``scripts/build_attack_catalog.py`` (see
``data/ATTACK_CATALOG.md`` for sources, terms and rules). It is read once, lazily, with the standard library.

A technique id from either version is valid. Deprecated and revoked techniques are returned and flagged
(with their replacement where the data has one); they are never rejected or rewritten.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOG_PATH = Path(__file__).resolve().parent.parent / "data" / "attack_catalog.json"

TECHNIQUE_ID_RE = re.compile(r"^T\d{4}(?:\.\d{3})?$")

# (shortname, display name, TA id) in kill-chain order, covering v18.1 and v19. ATT&CK v19 split Defense
# Evasion (TA0005) into Stealth and Defense Impairment; neither source gives those two a TA id, so None.
# tests/core/test_attack.py checks this table against the catalog.
_TACTIC_TABLE: tuple[tuple[str, str, str | None], ...] = (
    ("reconnaissance", "Reconnaissance", "TA0043"),
    ("resource-development", "Resource Development", "TA0042"),
    ("initial-access", "Initial Access", "TA0001"),
    ("execution", "Execution", "TA0002"),
    ("persistence", "Persistence", "TA0003"),
    ("privilege-escalation", "Privilege Escalation", "TA0004"),
    ("defense-evasion", "Defense Evasion", "TA0005"),
    ("stealth", "Stealth", None),
    ("defense-impairment", "Defense Impairment", None),
    ("credential-access", "Credential Access", "TA0006"),
    ("discovery", "Discovery", "TA0007"),
    ("lateral-movement", "Lateral Movement", "TA0008"),
    ("collection", "Collection", "TA0009"),
    ("command-and-control", "Command and Control", "TA0011"),
    ("exfiltration", "Exfiltration", "TA0010"),
    ("impact", "Impact", "TA0040"),
)

TACTICS: tuple[str, ...] = tuple(name for _, name, _ in _TACTIC_TABLE)

_DISPLAY_BY_SHORTNAME = {short: name for short, name, _ in _TACTIC_TABLE}
_ID_BY_DISPLAY = {name: ta for _, name, ta in _TACTIC_TABLE}
_DISPLAY_BY_ID = {ta: name for _, name, ta in _TACTIC_TABLE if ta}
_TACTIC_RANK = {name: i for i, name in enumerate(TACTICS)}


def _squash(text: str) -> str:
    """`Command & Control`, `command-and-control`, `CommandAndControl` -> `commandandcontrol`."""
    return re.sub(r"[^a-z0-9]", "", text.casefold().replace("&", "and"))


_DISPLAY_BY_KEY: dict[str, str] = {}
for _short, _name, _ in _TACTIC_TABLE:
    _DISPLAY_BY_KEY[_squash(_short)] = _name
    _DISPLAY_BY_KEY[_squash(_name)] = _name
    _DISPLAY_BY_KEY[_squash(_name.replace("Defense", "Defence"))] = _name  # British spelling
_DISPLAY_BY_KEY["commandcontrol"] = "Command and Control"  # "Command-Control", "Command/Control"
_DISPLAY_BY_KEY["c2"] = "Command and Control"

# A TA id standing alone (not inside CrowdStrike's `CSTA0001`), e.g. `TA0010`, `TA0010 - Exfiltration`.
_TACTIC_ID_RE = re.compile(r"(?<![a-z0-9])ta\d{4}(?![a-z0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class Technique:
    """One ATT&CK technique or sub-technique, as known to v18.1 and/or v19."""

    id: str
    name: str
    tactics: tuple[str, ...]  # display names, union over versions, kill-chain order
    deprecated: bool
    revoked: bool
    replaced_by: str | None
    versions: tuple[str, ...]  # ATT&CK versions that list it, e.g. ("18.1", "19")
    deprecated_in: str | None = None  # "18.1" (flagged in the v18.1 STIX) or "19" (dropped by v19)

    @property
    def url(self) -> str:
        return "https://attack.mitre.org/techniques/" + self.id.replace(".", "/")

    @property
    def status_note(self) -> str | None:
        """A short note for deprecated or revoked techniques, None for current ones."""
        if self.revoked:
            return f"revoked; replaced by {self.replaced_by}" if self.replaced_by else "revoked"
        if self.deprecated:
            if self.deprecated_in == "19":
                return "deprecated in ATT&CK v19"
            return "deprecated in ATT&CK (as of v18.1)"
        return None


class _Catalog:
    def __init__(self, raw: dict[str, Any]):
        self.header: dict[str, Any] = raw["header"]
        self.tactics: list[dict[str, Any]] = raw["tactics"]
        self.by_id: dict[str, Technique] = {}
        self.search_names: dict[str, tuple[str, ...]] = {}
        for tid, entry in sorted(raw["techniques"].items()):
            shortnames = {s for per_version in entry["tactics"].values() for s in per_version}
            displays = {_DISPLAY_BY_SHORTNAME.get(s, s) for s in shortnames}
            self.by_id[tid] = Technique(
                id=tid,
                name=entry["name"],
                tactics=tuple(sorted(displays, key=lambda d: (_TACTIC_RANK.get(d, len(TACTICS)), d))),
                deprecated=bool(entry["deprecated"]),
                revoked=bool(entry["revoked"]),
                replaced_by=entry.get("replaced_by"),
                versions=tuple(entry["versions"]),
                deprecated_in=entry.get("deprecated_in"),
            )
            names = {entry["name"], *entry.get("names", {}).values()}
            self.search_names[tid] = tuple(n.casefold() for n in sorted(names))
        self.ordered: tuple[Technique, ...] = tuple(self.by_id.values())


_catalog_cache: _Catalog | None = None
_catalog_lock = threading.Lock()


def _catalog() -> _Catalog:
    global _catalog_cache
    if _catalog_cache is None:
        with _catalog_lock:
            if _catalog_cache is None:
                try:
                    raw = json.loads(CATALOG_PATH.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    raise FileNotFoundError(
                        f"ATT&CK catalog not found at {CATALOG_PATH}; rebuild it with scripts/build_attack_catalog.py"
                    ) from None
                _catalog_cache = _Catalog(raw)
    return _catalog_cache


def catalog_header() -> dict[str, Any]:
    """The catalog's header: sources, versions, terms, counts (a copy)."""
    return json.loads(json.dumps(_catalog().header))


def normalise_technique_id(raw: str) -> str:
    """`" t1562.001 "` -> `"T1562.001"`; raises ValueError unless the shape is T1234 or T1234.001."""
    if not isinstance(raw, str):
        raise ValueError(f"ATT&CK technique id must be a string like T1234 or T1234.001, not {raw!r}")
    tid = raw.strip().upper()
    if not TECHNIQUE_ID_RE.match(tid):
        raise ValueError(f"not an ATT&CK technique id: {raw!r} (expected T1234 or T1234.001)")
    return tid


def technique(id: str) -> Technique | None:
    """The technique with this id (any case, surrounding spaces allowed); None if malformed or unknown."""
    try:
        tid = normalise_technique_id(id)
    except ValueError:
        return None
    return _catalog().by_id.get(tid)


def all_techniques() -> list[Technique]:
    """Every technique and sub-technique of v18.1 and v19 (deprecated and revoked included), by id."""
    return list(_catalog().ordered)


_ID_QUERY_RE = re.compile(r"^T?\d[\d.]*$", re.IGNORECASE)


def search_techniques(query: str, limit: int = 20) -> list[Technique]:
    """Techniques whose id starts with `query` (`t1562`, `1562.0`), then those whose name (in any version)
    contains it, case-insensitively; names starting with it come first. Nothing is hidden: deprecated and
    revoked techniques are returned, flagged. An empty query returns nothing."""
    if not isinstance(query, str) or limit <= 0:
        return []
    q = query.strip()
    if not q:
        return []
    cat = _catalog()
    results: list[Technique] = []
    seen: set[str] = set()
    if _ID_QUERY_RE.match(q):
        prefix = q.upper() if q[0] in "Tt" else "T" + q
        for t in cat.ordered:
            if t.id.startswith(prefix):
                results.append(t)
                seen.add(t.id)
                if len(results) >= limit:
                    return results
    needle = q.casefold()
    starts: list[Technique] = []
    contains: list[Technique] = []
    for t in cat.ordered:
        if t.id in seen:
            continue
        names = cat.search_names[t.id]
        if any(n.startswith(needle) for n in names):
            starts.append(t)
        elif any(needle in n for n in names):
            contains.append(t)
    results.extend(starts)
    results.extend(contains)
    return results[:limit]


def normalise_tactic(raw: str) -> str | None:
    """A vendor's tactic spelling -> the ATT&CK display name (one of TACTICS), or None if it cannot be mapped.

    Accepts display names and shortnames in any case or separator style (`Defense Evasion`,
    `defense-evasion`, `DefenseEvasion`, `defense_evasion`, `Command & Control`), TA ids (`TA0005`) and
    `TA0010 - Exfiltration` (Cortex XDR). Non-ATT&CK codes such as CrowdStrike's `CSTA0001` give None, so the
    caller can keep the original text visible. v18.1 names are kept as they are: Defense Evasion is not
    rewritten to Stealth or Defense Impairment. Never raises.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    if not text:
        return None
    match = _TACTIC_ID_RE.search(text)
    if match:
        by_id = _DISPLAY_BY_ID.get(match.group(0).upper())
        if by_id:
            return by_id
        text = text[: match.start()] + " " + text[match.end() :]  # unknown TA id: try the rest
    return _DISPLAY_BY_KEY.get(_squash(text))


def tactic_id(display_name: str) -> str | None:
    """The TA id of a tactic (any spelling normalise_tactic accepts); None for Stealth and Defense
    Impairment (no TA id in the sources) and for unknown tactics."""
    name = normalise_tactic(display_name)
    return _ID_BY_DISPLAY.get(name) if name else None


def tactic_shortname(display_name: str) -> str | None:
    """The ATT&CK shortname (`defense-evasion`) of a tactic in any spelling normalise_tactic accepts."""
    name = normalise_tactic(display_name)
    if name is None:
        return None
    return next(short for short, display, _ in _TACTIC_TABLE if display == name)


def tactics_for(technique_id: str) -> tuple[str, ...]:
    """Display names of the technique's tactics (union over versions, kill-chain order); () if unknown."""
    t = technique(technique_id)
    return t.tactics if t else ()
