"""Microsoft Defender XDR (Microsoft 365 Defender) incidents in the Graph security API shape.

``#microsoft.graph.security.incident`` records, one a line (NDJSON), or a JSON document holding a list of them or
a Graph page ``{"value": [...]}``. An incident carries its ``alerts`` (a list, or a single alert object in some
exports), and each alert its ``evidence``: files, IPs, URLs, mailboxes, users, devices...

Values stay Defender's own: ``low``/``medium``/``high``/``informational``, ``active``/``inProgress``/``resolved``/
``redirected``, ``truePositive``/``falsePositive``/``informationalExpectedActivity``, CamelCase alert
categories (``DefenseEvasion``) passed as tactics, and ISO 8601 times with 7-digit fractions passed as strings.

IOCs come from the evidence (hashes, file names, IP addresses, URLs, e-mail addresses, domain names);
evidence whose verdict is ``noThreatsFound`` gives none. Assets come from device and user evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from core.importers.base import RecordError, SourceRecord, as_list, first
from core.importers.jsonfiles import json_records, text_or_none, unique

SOURCE_SYSTEM = "defender"
SOURCE_SIEM = "Microsoft Defender XDR"

_TYPE_MARKER = re.compile(r'"@odata\.type"\s*:\s*"#microsoft\.graph\.security\.incident"', re.IGNORECASE)
_KEYS = ("incidentWebUrl", "displayName", "createdDateTime", "lastUpdateDateTime", "determination")
_HASHES = ("sha256", "sha1", "md5")


def looks_like(path: Path, head: str) -> bool:
    """Defender incidents: the Graph incident type, or the incident's own property names."""
    if _TYPE_MARKER.search(head):
        return True
    return sum(f'"{key}"' in head for key in _KEYS) >= 4


def parse(path: Path) -> Iterator[SourceRecord | RecordError]:
    """One SourceRecord per Defender incident in the file; a RecordError for each one that cannot be read."""
    return json_records(path, unwrap=_incidents, build=_record, what="a Defender incident")


def _incidents(location: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict) and isinstance(value.get("value"), list) and "id" not in value:
        for index, incident in enumerate(value["value"]):  # a Graph page
            yield from _incidents(f"{location} value[{index}]", incident)
        return
    if not isinstance(value, dict):
        yield location, RecordError(location, f"expected a JSON object, found {type(value).__name__}")
        return
    if first(value.get("id")) is None:
        yield location, RecordError(location, "no id: not a Defender incident")
        return
    yield location, value


def _type(item: dict) -> str:
    """'#microsoft.graph.security.fileEvidence' -> 'fileevidence'."""
    return str(item.get("@odata.type") or "").rsplit(".", 1)[-1].lower()


class _Collector:
    """IOCs and assets gathered from evidence, without duplicates."""

    def __init__(self) -> None:
        self.iocs: list[Any] = []
        self.assets: list[str] = []

    def ioc(self, value: Any, kind: str | None = None) -> None:
        text = text_or_none(value)
        if text is None:
            return
        item: Any = {"type": kind, "value": text} if kind else text
        if item not in self.iocs:
            self.iocs.append(item)

    def asset(self, value: Any) -> None:
        text = text_or_none(value)
        if text is not None and text not in self.assets:
            self.assets.append(text)

    def file(self, details: Any) -> None:
        if not isinstance(details, dict):
            return
        for kind in _HASHES:
            self.ioc(details.get(kind), kind)
        self.ioc(details.get("fileName"), "filename")

    def user_account(self, account: Any, *, as_ioc: bool) -> None:
        if not isinstance(account, dict):
            return
        upn = text_or_none(account.get("userPrincipalName"))
        name = text_or_none(account.get("accountName"))
        domain = text_or_none(account.get("domainName"))
        self.asset(upn or (f"{domain}\\{name}" if domain and name else name))
        if as_ioc and upn and "@" in upn:
            self.ioc(upn, "email")

    def evidence(self, item: dict) -> None:
        kind = _type(item)
        benign = str(item.get("verdict") or "").lower() == "nothreatsfound"
        if kind == "deviceevidence":
            self.asset(first(item.get("deviceDnsName"), item.get("hostName")))
        elif kind == "userevidence":
            self.user_account(item.get("userAccount"), as_ioc=not benign)
        elif benign:
            return
        elif kind == "fileevidence":
            self.file(item.get("fileDetails"))
        elif kind == "ipevidence":
            self.ioc(item.get("ipAddress"))
        elif kind == "urlevidence":
            self.ioc(item.get("url"))
        elif kind == "mailboxevidence":
            self.ioc(
                first(item.get("primaryAddress"), (item.get("userAccount") or {}).get("userPrincipalName")), "email"
            )
        elif kind == "analyzedmessageevidence":
            self.ioc(item.get("senderIp"))
            for sender in (item.get("p1Sender"), item.get("p2Sender")):
                if isinstance(sender, dict):
                    self.ioc(sender.get("emailAddress"), "email")
                    self.ioc(sender.get("domainName"), "domain")
        elif kind in ("dnsevidence", "hostlogonsessionevidence"):
            self.ioc(item.get("domainName"), "domain")
        elif kind == "cloudapplicationevidence":
            self.asset(item.get("displayName"))


def _alerts(incident: dict) -> list[dict]:
    return [alert for alert in as_list(incident.get("alerts")) if isinstance(alert, dict)]


def _comments(items: Any, prefix: str = "") -> list[tuple[Any, str | None, str]]:
    comments = []
    for item in as_list(items):
        if not isinstance(item, dict):
            continue
        text = text_or_none(item.get("comment"))
        if text:
            comments.append((first(item.get("createdTime")), text_or_none(item.get("createdBy")), prefix + text))
    return comments


def _record(location: str, incident: dict) -> SourceRecord:
    ref = str(incident["id"]).strip()
    alerts = _alerts(incident)
    found = _Collector()
    techniques: list[str] = []
    tactics: list[str] = []
    comments = _comments(incident.get("comments"))
    for alert in alerts:
        techniques.extend(str(t) for t in as_list(alert.get("mitreTechniques")))
        tactics.extend(str(c) for c in as_list(alert.get("category")))
        for item in as_list(alert.get("evidence")):
            if isinstance(item, dict):
                found.evidence(item)
        title = text_or_none(alert.get("title")) or "alert"
        comments.extend(_comments(alert.get("comments"), prefix=f"[{title}] "))

    description = text_or_none(first(incident.get("description"), incident.get("summary")))
    if not description:
        parts = []
        for alert in alerts:
            title, text = text_or_none(alert.get("title")), text_or_none(alert.get("description"))
            if title or text:
                parts.append(f"{title}: {text}" if title and text else title or text)
        description = "\n\n".join(unique(parts))

    notes: list[str] = []
    determination = text_or_none(incident.get("determination"))
    if determination:
        notes.append(f"Determination: {determination}")
    tags = unique(
        [str(t) for key in ("tags", "customTags", "systemTags") for t in as_list(incident.get(key)) if first(t)]
    )
    if tags:
        notes.append(f"Tags: {', '.join(tags)}")
    if alerts:
        sources = unique(
            [str(s) for a in alerts for s in (first(a.get("serviceSource")), first(a.get("detectionSource"))) if s]
        )
        notes.append(f"Alerts: {len(alerts)}" + (f" (sources: {', '.join(sources)})" if sources else ""))
    redirect = text_or_none(incident.get("redirectIncidentId"))
    if redirect:
        notes.append(f"redirected to Defender incident {redirect}")
    url = text_or_none(incident.get("incidentWebUrl"))
    if url:
        notes.append(f"Defender: {url}")

    return SourceRecord(
        location=location,
        source_system=SOURCE_SYSTEM,
        source_ref=ref,
        title=text_or_none(incident.get("displayName")) or f"Defender incident {ref}",
        description=description or "",
        severity=first(incident.get("severity")),
        status=first(incident.get("status")),
        classification=first(incident.get("classification")),
        resolution=text_or_none(incident.get("resolvingComment")),
        tactics=unique(tactics),
        techniques=unique(techniques),
        source_siem=SOURCE_SIEM,
        assignee=text_or_none(incident.get("assignedTo")),
        assets=found.assets,
        iocs=found.iocs,
        created=first(incident.get("createdDateTime")),
        updated=first(incident.get("lastUpdateDateTime")),
        resolved=first(incident.get("resolvedDateTime")),
        comments=comments,
        notes=notes,
        raw=incident,
    )
