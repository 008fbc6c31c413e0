"""The one normaliser: every source's vocabulary, ids and times turned into ours.

How values are read (documented for operators):

* Severity: critical/high/medium/low/informational in any case and spelling (``High``, ``1 - Critical``,
  ``3 - Moderate`` -> medium, ``info`` -> informational). A source without a severity gets *medium*, with a
  note saying so; a value we do not know rejects the record.
* Status: ``new``/``open``; ``active``, ``in progress``, ``under_investigation``, ``pending`` and every
  ``Awaiting ...`` -> investigating; ``resolved`` -> resolved; ``closed``/``redirected`` -> closed. A
  resolved status that carries a classification (Cortex XDR ``resolved_false_positive``, Defender
  ``resolved`` + ``truePositive``) is closed with it, since a classification belongs to a closed incident.
  A source without a status: *closed* when it gives a close time, *resolved* when a resolution time, else
  *new* (noted). An unknown value rejects the record.
* Classification: true/false/benign positive (``TruePositive``, ``falsePositive``,
  ``informationalExpectedActivity`` -> benign_positive), undetermined (also ``unknown``), duplicate.
  A closed incident without one is closed as *undetermined* (noted).
* ATT&CK: technique ids are found anywhere in the strings (``T1048 - Exfiltration ...``); the first one known
  to the catalog (v18.1 or v19) is kept, unknown ones are noted. Tactics in any spelling (``TA0005``,
  ``DefenseEvasion``, ``defense-evasion``); the first that fits the technique is kept; ones we cannot map
  (e.g. CrowdStrike ``CSTA...``) are noted, never dropped.
* Times: epoch seconds, milliseconds, microseconds or nanoseconds (told apart by magnitude: below 1e11 is
  seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds), ISO 8601 with any number of
  fraction digits (``2021-08-13T08:43:35.5533333Z``), and, for sources that write them (ServiceNow),
  day-first ``D/M/YYYY HH:MM[:SS]``. A time without a zone is read as UTC. An impossible date rejects the
  record; a time in the future too.
* Assignee: matched to a user of the tenant by user name or e-mail (case-insensitive); otherwise the
  incident stays unassigned and a note names the source's assignee.

Everything a field cannot hold goes into a "Imported from ..." section of the description, so nothing is
silently dropped; the original record is kept with the incident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core import attack
from core.importers.base import RecordError, SourceRecord, first
from core.iocs import IocError, parse_ioc
from core.lifecycle import OPEN_STATUSES, SEVERITIES
from core.timeutil import as_utc, utcnow

DEFAULT_SEVERITY = "medium"
SEVERITY_WORDS = {
    "critical": "critical",
    "crit": "critical",
    "urgent": "critical",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "med": "medium",
    "low": "low",
    "informational": "informational",
    "info": "informational",
    "information": "informational",
}
STATUS_WORDS = {
    "new": "new",
    "open": "new",
    "unassigned": "new",
    "active": "investigating",
    "inprogress": "investigating",
    "underinvestigation": "investigating",
    "investigating": "investigating",
    "pending": "investigating",
    "triage": "investigating",
    "containment": "containment",
    "contained": "containment",
    "eradication": "eradication",
    "resolved": "resolved",
    "closed": "closed",
    "redirected": "closed",  # Defender: merged into another incident
}
CLASSIFICATION_WORDS = {
    "truepositive": "true_positive",
    "tp": "true_positive",
    "threathandled": "true_positive",
    "falsepositive": "false_positive",
    "fp": "false_positive",
    "benignpositive": "benign_positive",
    "informationalexpectedactivity": "benign_positive",
    "knownissue": "benign_positive",
    "securitytesting": "benign_positive",
    "undetermined": "undetermined",
    "unknown": "undetermined",
    "other": "undetermined",
    "auto": "undetermined",
    "duplicate": "duplicate",
    "redirected": "duplicate",
    # VERIS security_incident
    "confirmed": "true_positive",
    "nearmiss": "true_positive",
    "suspected": "undetermined",
}
_TECHNIQUE = re.compile(r"\bT\d{4}(?:\.\d{3})?\b", re.IGNORECASE)
_DAYFIRST = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")


def _squash(value: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value).lower())


# ------------------------------------------------------------------------------------------ vocabulary


def severity(value: Any) -> str | None:
    """Our severity for a source's, or None when unknown. ServiceNow's '1 - Critical' reads as critical."""
    text = re.sub(r"^\s*\d+\s*-\s*", "", str(value)) if isinstance(value, str) else str(value)
    return SEVERITY_WORDS.get(_squash(text))


def status(value: Any) -> tuple[str, str | None] | None:
    """(our status, classification carried by the status) for a source's status, or None when unknown."""
    word = _squash(value)
    if word.startswith("awaiting"):
        return "investigating", None
    if word.startswith("resolved") and word != "resolved":  # Cortex XDR: resolved_<classification>
        return "closed", CLASSIFICATION_WORDS.get(word.removeprefix("resolved"), "undetermined")
    if word in STATUS_WORDS:
        return STATUS_WORDS[word], ("duplicate" if word == "redirected" else None)
    return None


def classification(value: Any) -> str | None:
    """Ours for a source's classification; Splunk ES labels such as 'True Positive - Suspicious Activity' are
    read by their first part."""
    return CLASSIFICATION_WORDS.get(_squash(value)) or CLASSIFICATION_WORDS.get(_squash(str(value).split(" - ")[0]))


def parse_time(value: Any, *, dayfirst: bool = False) -> datetime | None:
    """A UTC datetime from any of the time forms the module docstring lists; None for empty.

    Raises ValueError naming the value when it is not a possible time."""
    value = first(value)
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, int | float) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip())):
        number = float(value)
        scale = 1 if number < 1e11 else 1e3 if number < 1e14 else 1e6 if number < 1e17 else 1e9
        return datetime.fromtimestamp(number / scale, UTC)
    text = str(value).strip()
    if dayfirst and (match := _DAYFIRST.fullmatch(text)):
        day, month, year, hour, minute, second = (int(part or 0) for part in match.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            raise ValueError(f"impossible date '{text}' (read day-first)") from None
    try:
        return as_utc(datetime.fromisoformat(text.replace(" UTC", "+00:00")))
    except ValueError:
        raise ValueError(f"impossible or unreadable time '{text[:60]}'") from None


# ------------------------------------------------------------------------------------------ the result


@dataclass(frozen=True)
class Move:
    """One status change to replay, at the source's time."""

    at: datetime
    status: str
    actor: str | None = None
    note: str | None = None


@dataclass
class Normalised:
    """A record in our terms: the create data, the lifecycle to replay, comments, and the original."""

    location: str
    data: dict  # for plan_create (title, description, severity, ATT&CK, source, assignee, assets, iocs, source ref)
    created_at: datetime
    final_status: str
    classification: str | None
    resolution: str | None
    moves: list[Move] = field(default_factory=list)
    comments: list[tuple[datetime, str | None, str]] = field(default_factory=list)
    raw: dict | None = None
    incident_id: str | None = None


def _attack(record: SourceRecord, notes: list[str]) -> tuple[str | None, str | None]:
    technique_id = None
    for text in record.techniques:
        for found in _TECHNIQUE.findall(str(text)):
            known = attack.technique(found)
            if known and technique_id is None:
                technique_id = known.id
            elif not known:
                notes.append(f"ATT&CK technique {found.upper()} is not in the catalog")
    tactics = []
    for raw in record.tactics:
        name = attack.normalise_tactic(str(raw))
        if name is None:
            notes.append(f"ATT&CK tactic '{raw}' could not be mapped")
        elif name not in tactics:
            tactics.append(name)
    if technique_id:
        fitting = [t for t in tactics if t in attack.tactics_for(technique_id)]
        for other in [t for t in tactics if t not in fitting]:
            notes.append(f"also ATT&CK tactic {other}")
        return (fitting[0] if fitting else None), technique_id
    for other in tactics[1:]:
        notes.append(f"also ATT&CK tactic {other}")
    return (tactics[0] if tactics else None), None


def _assignee(record: SourceRecord, people: Mapping[str, str], notes: list[str]) -> str | None:
    raw = first(record.assignee)
    if raw is None:
        return None
    username = people.get(str(raw).strip().lower())
    if username is None:
        notes.append(f"assigned in the source to {raw} (not a user of this tenant)")
    return username


def _iocs(record: SourceRecord, notes: list[str]) -> list[dict]:
    result = []
    for item in record.iocs:
        value, kind = (item.get("value"), item.get("type")) if isinstance(item, Mapping) else (item, None)
        try:
            ioc = parse_ioc(str(value), kind).to_dict()
        except IocError as exc:
            notes.append(f"IOC not kept: {exc}")
            continue
        if ioc not in result:
            result.append(ioc)
    return result


def _time(value: Any, record: SourceRecord, what: str, now: datetime) -> datetime | None:
    try:
        moment = parse_time(value, dayfirst=record.dayfirst)
    except ValueError as exc:
        raise RecordError(record.location, f"{what}: {exc}") from None
    if moment is not None and moment > now:
        raise RecordError(record.location, f"{what} {moment.isoformat()} is in the future")
    return moment


def normalise(record: SourceRecord, *, people: Mapping[str, str] = {}, now: datetime | None = None) -> Normalised:
    """Our incident for a source record; raises RecordError with the reason when it cannot be imported.

    `people` maps lower-cased user names and e-mails of the tenant's assignable users to user names."""
    now = now or utcnow()
    notes = list(record.notes)
    title = first(record.title)
    if title is None:
        raise RecordError(record.location, "the record has no title")
    if first(record.source_ref) is None:
        raise RecordError(record.location, "the record has no id")

    if first(record.severity) is None:
        ours_severity = DEFAULT_SEVERITY
        notes.append(f"no severity in the source: set to {DEFAULT_SEVERITY}")
    else:
        ours_severity = severity(record.severity)
        if ours_severity is None:
            raise RecordError(record.location, f"unknown severity '{record.severity}' (ours: {', '.join(SEVERITIES)})")

    created = _time(record.created, record, "created time", now)
    if created is None:
        raise RecordError(record.location, "the record has no creation time")
    times = {
        name: _time(getattr(record, name), record, f"{name} time", now)
        for name in ("acknowledged", "resolved", "closed", "updated")
    }
    for name, moment in times.items():
        if moment is not None and moment < created:
            notes.append(f"{name} time {moment.isoformat()} is before the creation time; read as the creation time")
            times[name] = created

    carried = None
    if first(record.status) is None:
        final = "closed" if times["closed"] else "resolved" if times["resolved"] else "new"
        notes.append(f"no status in the source: set to {final}")
    else:
        mapped = status(record.status)
        if mapped is None:
            raise RecordError(record.location, f"unknown status '{record.status}'")
        final, carried = mapped
    chosen = classification(record.classification) if first(record.classification) is not None else None
    if first(record.classification) is not None and chosen is None:
        notes.append(f"classification '{record.classification}' could not be mapped")
    if final == "resolved" and chosen:
        final = "closed"  # a classification belongs to a closed incident
    label = chosen or carried
    if final == "closed" and label is None:
        label = "undetermined"
        notes.append("closed in the source without a classification: closed as undetermined")

    tactic, technique_id = _attack(record, notes)
    data = {
        "title": str(title).strip()[:500],
        "severity": ours_severity,
        "mitre_tactic": tactic,
        "mitre_technique": technique_id,
        "source_siem": first(record.source_siem),
        "assigned_to": _assignee(record, people, notes),
        "affected_assets": list(dict.fromkeys(str(a).strip()[:255] for a in record.assets if first(a))),
        "iocs": _iocs(record, notes),
        "source_system": record.source_system,
        "source_ref": str(record.source_ref),
    }
    description = (record.description or "").strip()
    if notes:
        source = first(record.source_siem) or record.source_system
        description += (
            ("\n\n" if description else "")
            + f"Imported from {source}:\n"
            + "\n".join(f"- {note}" for note in dict.fromkeys(notes))
        )
    data["description"] = description[:50_000]

    moves = _moves(record, final, created, times, now)
    comments = []
    for at, author, text in record.comments:
        when = _time(at, record, "comment time", now) or created
        if first(text) is not None:
            comments.append((max(when, created), first(author), str(text)))
    resolution = first(record.resolution)
    return Normalised(
        location=record.location,
        data=data,
        created_at=created,
        final_status=final,
        classification=label,
        resolution=str(resolution) if resolution is not None else None,
        moves=moves,
        comments=sorted(comments, key=lambda c: c[0]),
        raw=record.raw,
        incident_id=record.incident_id,
    )


def _moves(record: SourceRecord, final: str, created: datetime, times: dict, now: datetime) -> list[Move]:
    """The status changes to replay: the source's own history when it has one, else from its timestamps."""
    if record.history:
        moves = []
        for at, raw_status, actor in record.history:
            mapped = status(raw_status)
            when = _time(at, record, "history time", now) or created
            if mapped is None:
                continue  # a junk state in the middle of a history (the final one was checked above)
            moves.append(Move(max(when, created), mapped[0], first(actor)))
        if not moves or moves[-1].status != final:
            moves.append(Move(max(times["updated"] or created, moves[-1].at if moves else created), final))
        return [m for m in moves if not (m is moves[0] and m.status == "new")]
    moves = []
    if final != "new":
        acknowledged = times["acknowledged"] or times["resolved"] or times["closed"] or times["updated"] or created
        moves.append(Move(acknowledged, "investigating"))
    closed_at_once = final == "closed" and times["resolved"] == times["closed"]  # e.g. closed as false positive
    if final == "resolved" or (final == "closed" and times["resolved"] and not closed_at_once):
        moves.append(Move(times["resolved"] or times["updated"] or moves[-1].at, "resolved"))
    if final == "closed":
        moves.append(Move(times["closed"] or times["resolved"] or times["updated"] or moves[-1].at, "closed"))
    if final in OPEN_STATUSES and final not in ("new", "investigating"):
        moves.append(Move(times["updated"] or moves[-1].at, final))
    return moves
