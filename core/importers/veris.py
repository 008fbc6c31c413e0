"""VERIS incident records (VERIS Community Database, VCDB): one JSON file, one SourceRecord per incident.

A VCDB file holds one VERIS record (a JSON object with ``incident_id``, ``action``, ``actor``, ``asset``,
``attribute``, ``timeline``, ``victim``, ``summary``, ``reference``...); a JSON array of such objects (the
form of VCDB's bulk export) is read too, one record per element (loaded whole, not streamed). The extension
may be ``.json`` or ``.JSON``; the file name need not be the ``incident_id`` (VCDB names files after
``plus.master_id``): ``source_ref`` is always the ``incident_id`` inside, and a differing file name is noted
on the record.

VERIS has no severity, status, IOCs or lifecycle times: those stay None and the normaliser applies (and
states) its defaults. ``Unknown`` and ``NA`` mean empty. ``created`` is the incident date from
``timeline.incident`` as an ISO date for the earliest day it can be (``{"year": 2010}`` -> ``2010-01-01``),
with a note when only the year or the month is known. ``classification`` is the raw ``security_incident``
(``Confirmed``, ``Suspected``, ``Near miss``, ``False positive``).

Primary ATT&CK technique (``techniques`` holds at most one id):

1. Candidates come only from the record's *actions*: every ``action.<category>.variety`` and
   ``action.<category>.vector`` value except ``Unknown``/``NA`` (VERIS path ``action.<category>.<kind>.<value>``,
   matched case-insensitively) is looked up in the CTID VERIS 1.3.7 -> ATT&CK Enterprise mapping
   (``data/veris_attack_mapping.csv``, see ``data/VERIS_MAPPING.md``). Attributes and value-chain entries
   are not used: they describe effects, not what the actor did. Ids unknown to ``core.attack`` are dropped.
2. Each candidate technique is ranked by the best VERIS value that maps to it, then by itself; the
   smallest rank wins:

   a. a ``variety`` value before a ``vector`` value (what was done before how it got there);
   b. the VERIS value that maps to fewer techniques (a more specific value: ``Ransomware`` maps to 2,
      ``Abuse of functionality`` to 84);
   c. a current technique before a deprecated or revoked one;
   d. the technique more of the record's values map to (``Phishing`` and the vector ``Email`` both
      give T1566);
   e. a technique before a sub-technique (the mapping lists a parent with all its sub-techniques when it
      cannot tell which; the parent claims no more than the record says);
   f. the technique fewer VERIS paths in the whole mapping map to (a more specific technique);
   g. the technique id (string order).
3. No candidate (e.g. actions ``error``, ``misuse``, ``physical``, which the mapping does not cover, or only
   ``Unknown`` values): no technique. ``tactics`` gets the technique's tactic only when ``core.attack``
   gives it exactly one; a note records the VERIS value the technique came from.
"""

from __future__ import annotations

import csv
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from core import attack
from core.importers.base import RecordError, SourceRecord, UnreadableInput, as_list, first

SOURCE_SYSTEM = "veris"
SOURCE_SIEM = "VERIS Community Database"
MAPPING_PATH = Path(__file__).resolve().parents[2] / "data" / "veris_attack_mapping.csv"
MAX_TITLE = 200

_ACTION_ORDER = ("hacking", "malware", "social", "misuse", "physical", "error", "environmental", "unknown")
_ATTRIBUTE_ORDER = ("confidentiality", "integrity", "availability")
_KIND_RANK = {"variety": 0, "vector": 1}


def looks_like(path: Path, head: str) -> bool:
    """True for a JSON object (or array of objects) with VERIS's top-level keys."""
    text = head.lstrip("\ufeff \t\r\n")
    if not text.startswith(("{", "[")):
        return False
    if '"incident_id"' not in text and not ('"schema_version"' in text and '"timeline"' in text):
        return False
    return '"action"' in text and any(k in text for k in ('"timeline"', '"victim"', '"attribute"'))


def parse(path: Path) -> Iterator[SourceRecord | RecordError]:
    """Yield one SourceRecord per VERIS record in the JSON file (a RecordError per record it cannot read)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableInput(f"{path}: no such file") from None
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableInput(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableInput(f"{path.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    del data, text

    if isinstance(document, dict):
        if not _is_veris(document):
            raise UnreadableInput(f"{path.name}: a JSON object without VERIS keys (incident_id, action, timeline)")
        yield _one(path, None, document)
    elif isinstance(document, list):
        if document and not any(isinstance(r, dict) and _is_veris(r) for r in document):
            raise UnreadableInput(f"{path.name}: a JSON array without VERIS records")
        for index, record in enumerate(document):
            yield _one(path, index, record)
    else:
        raise UnreadableInput(f"{path.name}: not a VERIS record (JSON {type(document).__name__})")


def _is_veris(record: dict) -> bool:
    return "incident_id" in record or ("action" in record and ("timeline" in record or "schema_version" in record))


def _one(path: Path, index: int | None, record: Any) -> SourceRecord | RecordError:
    where = path.name if index is None else f"{path.name}[{index}]"
    if not isinstance(record, dict):
        return RecordError(where, f"not a VERIS record (JSON {type(record).__name__})")
    incident_id = first(record.get("incident_id"))
    if incident_id is None or not isinstance(incident_id, str | int):
        return RecordError(where, "the record has no incident_id")
    incident_id = str(incident_id).strip()
    try:
        return _record(path, index, f"{where} ({incident_id})", incident_id, record)
    except (AttributeError, TypeError, ValueError) as exc:  # a value of an unexpected shape
        return RecordError(f"{where} ({incident_id})", f"unexpected VERIS structure: {exc}")


# --- reading VERIS values -------------------------------------------------------------------------------


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    """A VERIS scalar as clean text; None for placeholders and for values of another shape (dict, list)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    value = first(value)
    if value is None:
        return None
    return " ".join(str(value).split()) or None


def _values(value: Any) -> list[str]:
    """A VERIS enumeration (one value or a list) as strings, without `Unknown`/`NA` or duplicates."""
    out: list[str] = []
    for v in as_list(value):
        text = _text(v)
        if text and text not in out:
            out.append(text)
    return out


def _label(category: str) -> str:
    return category.replace("_", " ").capitalize()


def _action_label(category: str) -> str:
    return "Unknown action" if category == "unknown" else _label(category)


def _actions(record: dict) -> list[tuple[str, dict]]:
    action = _dict(record.get("action"))
    known = [c for c in _ACTION_ORDER if c in action]
    return [(c, _dict(action[c])) for c in known + sorted(c for c in action if c not in _ACTION_ORDER)]


def _without_other(values: list[str]) -> list[str]:
    """`Other` says little next to a named value: keep it only when it is alone."""
    named = [v for v in values if v.lower() != "other"]
    return named or values


def _naics(value: Any) -> bool:
    """A NAICS code other than VERIS's "unknown" zeros (`000`, `000000`)."""
    text = _text(value)
    return bool(text) and text.strip("0") != ""


def _victim(record: dict) -> dict:
    victim = record.get("victim")
    if isinstance(victim, list):  # VERIS before 1.3 allowed several victims
        victim = next((v for v in victim if isinstance(v, dict)), {})
    return _dict(victim)


# --- the record -----------------------------------------------------------------------------------------


def _title(record: dict) -> str:
    actions = []
    for category, body in _actions(record):
        varieties = _without_other(_values(body.get("variety")))
        actions.append(f"{_action_label(category)} ({', '.join(varieties)})" if varieties else _action_label(category))
    title = " + ".join(actions) or "Security incident"
    victim = _text(_victim(record).get("victim_id"))
    if victim:
        title += f" at {victim}"
    effects = []
    attribute = _dict(record.get("attribute"))
    for name in _ATTRIBUTE_ORDER:
        if name not in attribute:
            continue
        body = _dict(attribute[name])
        if name == "confidentiality":
            disclosure = (_text(body.get("data_disclosure")) or "").lower()
            label = {"yes": "Confidentiality breach", "potentially": "Possible confidentiality breach"}
            effects.append(label.get(disclosure, "Confidentiality"))
        else:
            varieties = _without_other(_values(body.get("variety")))
            effects.append(f"{_label(name)} ({', '.join(varieties)})" if varieties else _label(name))
    if effects:
        title += " — " + ", ".join(effects)
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    return title


def _description(record: dict) -> str:
    lines = []
    summary = record.get("summary")
    if isinstance(summary, str) and summary.strip():
        lines += [summary.strip(), ""]
    facts = []

    actors = []
    for kind, body in sorted(_dict(record.get("actor")).items()):
        body = _dict(body)
        details = _without_other(_values(body.get("variety")))
        motives = _values(body.get("motive"))
        if motives:
            details.append("motive " + ", ".join(motives))
        actors.append(f"{_label(kind)} ({'; '.join(details)})" if details else _label(kind))
    if actors:
        facts.append("Actor: " + "; ".join(actors))

    for category, body in _actions(record):
        varieties, vectors = _values(body.get("variety")), _values(body.get("vector"))
        if vectors:
            facts.append(f"{_action_label(category)} vector: {', '.join(vectors)}")
        elif not varieties and category != "unknown":
            facts.append(f"Action: {_action_label(category)} (details unknown)")

    discoveries = []
    for kind, body in sorted(_dict(record.get("discovery_method")).items()):
        if kind == "unknown" or body is False:
            continue
        varieties = _values(_dict(body).get("variety"))
        discoveries.append(f"{_label(kind)} ({', '.join(varieties)})" if varieties else _label(kind))
    if discoveries:
        facts.append("Discovered by: " + "; ".join(discoveries))

    confidentiality = _dict(_dict(record.get("attribute")).get("confidentiality"))
    data = _values([_dict(d).get("variety") for d in as_list(confidentiality.get("data"))])
    total = confidentiality.get("data_total")
    if data or isinstance(total, int):
        text = "Data: " + (", ".join(data) if data else "kind unknown")
        if isinstance(total, int) and not isinstance(total, bool):
            text += f" ({total:,} record{'' if total == 1 else 's'})"
        disclosure = _text(confidentiality.get("data_disclosure"))
        if disclosure:
            text += f"; disclosed: {disclosure}"
        facts.append(text)

    victim = _victim(record)
    where = [
        part
        for part in (
            ", ".join(_values(victim.get("country"))),
            _text(victim.get("state")),
            f"industry NAICS {_text(victim.get('industry'))}" if _naics(victim.get("industry")) else "",
            f"{_text(victim.get('employee_count'))} employees" if _text(victim.get("employee_count")) else "",
        )
        if part
    ]
    if where:
        facts.append("Victim: " + "; ".join(where))

    reference = _text(record.get("reference"))
    if reference:
        facts.append(f"Reference: {reference}")
    confidence = _text(record.get("confidence"))
    if confidence:
        facts.append(f"VERIS confidence: {confidence}")
    return "\n".join(lines + facts).strip()


def _incident_date(record: dict) -> tuple[str | None, str | None]:
    """(ISO date of the earliest day the incident can be, note about its precision or absence)."""
    incident = _dict(_dict(record.get("timeline")).get("incident"))

    def number(key: str) -> int | None:
        value = incident.get(key)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return None

    year, month, day = number("year"), number("month"), number("day")
    if year is None or not 1 <= year <= 9999:
        return None, "no incident year in timeline.incident"
    if month is None or not 1 <= month <= 12:
        note = "incident date known to the year only"
        if incident.get("month") is not None:
            note += f" (month {incident.get('month')!r} is not valid)"
        return f"{year:04d}-01-01", note
    if day is not None:
        try:
            return date(year, month, day).isoformat(), None
        except ValueError:
            return f"{year:04d}-{month:02d}-01", f"incident date known to the month only (day {day} is not valid)"
    return f"{year:04d}-{month:02d}-01", "incident date known to the month only"


def _assets(record: dict) -> list[str]:
    out: list[str] = []
    for asset in as_list(_dict(record.get("asset")).get("assets")):
        variety = _text(_dict(asset).get("variety"))
        if not variety:
            continue
        _, _, name = variety.partition(" - ")
        if name and first(name) is None:  # "S - Unknown": a server of unknown kind says nothing useful
            continue
        if variety not in out:
            out.append(variety)
    return out


def _record(path: Path, index: int | None, location: str, incident_id: str, record: dict) -> SourceRecord:
    notes = []
    created, date_note = _incident_date(record)
    if date_note:
        notes.append(date_note)
    if index is None and path.stem.casefold() != incident_id.casefold():
        note = f"file name {path.name} differs from the incident_id {incident_id} (the source_ref)"
        master_id = _text(_dict(record.get("plus")).get("master_id"))
        if master_id and master_id.casefold() == path.stem.casefold():
            note += "; the file is named after plus.master_id"
        notes.append(note)

    notes.append("VERIS records are written after the incident: imported as closed, on the incident date")
    techniques: list[str] = []
    tactics: list[str] = []
    choice = primary_technique(record)
    if choice is not None:
        techniques = [choice.technique_id]
        found = attack.tactics_for(choice.technique_id)
        if len(found) == 1:
            tactics = [found[0]]
        notes.append(
            f"ATT&CK {choice.technique_id} chosen from VERIS {choice.veris_path} through the CTID VERIS→ATT&CK "
            f"mapping ({choice.candidates} candidate technique{'s' if choice.candidates != 1 else ''})"
        )

    return SourceRecord(
        location=location,
        source_system=SOURCE_SYSTEM,
        source_ref=incident_id,
        title=_title(record),
        description=_description(record),
        severity=None,
        status="closed",  # a VERIS record is written after the fact: the incident is over (noted below)
        classification=_text(record.get("security_incident")),
        tactics=tactics,
        techniques=techniques,
        source_siem=SOURCE_SIEM,
        assets=_assets(record),
        created=created,
        notes=notes,
        raw=record,
    )


# --- primary ATT&CK technique ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TechniqueChoice:
    technique_id: str
    veris_path: str  # the VERIS value it came from, e.g. "action.malware.variety.Ransomware"
    candidates: int  # how many distinct techniques the record's actions mapped to


class _Mapping:
    def __init__(self, path: Path):
        self.by_path: dict[str, tuple[str, ...]] = {}
        self.fan_in: Counter[str] = Counter()
        grouped: dict[str, list[str]] = {}
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                key, tid = row["veris_path"].strip().casefold(), row["technique_id"].strip().upper()
                ids = grouped.setdefault(key, [])
                if tid not in ids:
                    ids.append(tid)
        for key, ids in grouped.items():
            self.by_path[key] = tuple(ids)
            self.fan_in.update(ids)


_mapping_cache: _Mapping | None = None
_mapping_lock = threading.Lock()


def _mapping() -> _Mapping:
    global _mapping_cache
    if _mapping_cache is None:
        with _mapping_lock:
            if _mapping_cache is None:
                _mapping_cache = _Mapping(MAPPING_PATH)
    return _mapping_cache


def primary_technique(record: dict) -> TechniqueChoice | None:
    """The record's primary ATT&CK technique by the rule in the module docstring, or None."""
    mapping = _mapping()
    best: dict[str, tuple[int, int, str]] = {}  # technique id -> (kind rank, value fan-out, VERIS path)
    support: Counter[str] = Counter()  # technique id -> how many of the record's values map to it
    for category, body in _actions(record):
        for kind in ("variety", "vector"):
            for value in _values(body.get(kind)):
                veris_path = f"action.{category}.{kind}.{value}"
                ids = mapping.by_path.get(veris_path.casefold(), ())
                for tid in ids:
                    if attack.technique(tid) is None:
                        continue
                    support[tid] += 1
                    key = (_KIND_RANK[kind], len(ids), veris_path)
                    if tid not in best or key < best[tid]:
                        best[tid] = key
    if not best:
        return None

    def rank(tid: str) -> tuple:
        kind, fan_out, _ = best[tid]
        known = attack.technique(tid)
        retired = 1 if known.deprecated or known.revoked else 0
        return (kind, fan_out, retired, -support[tid], "." in tid, mapping.fan_in[tid], tid)

    chosen = min(best, key=rank)
    return TechniqueChoice(technique_id=chosen, veris_path=best[chosen][2], candidates=len(best))
