"""Importing incidents from SIEM/XDR exports, ServiceNow event logs, VERIS and our own CSV/JSON.

`import_paths` reads files with one parser per format (each in its own module), hands every record to the
one normaliser and the writer, and reports what was read, created, updated, unchanged and rejected.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.db import Bind
from core.importers.base import RecordError, SourceRecord, UnreadableInput
from core.importers.writer import ImportReport, import_records


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    module: str
    parse: str = "parse"
    looks_like: str = "looks_like"

    def _function(self, name: str) -> Callable:
        return getattr(importlib.import_module(f"core.importers.{self.module}"), name)

    def read(self, path: Path) -> Iterator[SourceRecord | RecordError]:
        return self._function(self.parse)(path)

    def recognises(self, path: Path, head: str) -> bool:
        return bool(self._function(self.looks_like)(path, head))


#: in the order auto-detection asks them (the specific vendor shapes before our generic CSV/JSON)
FORMATS = {
    f.name: f
    for f in (
        Format("xdr", "Palo Alto Cortex XDR (incidents API, NDJSON)", "cortex_xdr"),
        Format("sentinel", "Microsoft Sentinel (incidents REST API)", "sentinel"),
        Format("defender", "Microsoft 365 Defender (Graph security incidents)", "defender"),
        Format("splunk-es", "Splunk Enterprise Security notable events", "splunk_es"),
        Format("servicenow", "ServiceNow incident event log (CSV)", "servicenow"),
        Format("veris", "VERIS / VCDB incident (JSON)", "veris"),
        Format("csv", "ThreatOps CSV export", "native", "parse_csv", "looks_like_csv"),
        Format("json", "ThreatOps JSON export", "native", "parse_json", "looks_like_json"),
    )
}
SUFFIXES = (".json", ".ndjson", ".csv", ".tsv", ".txt")


def _head(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(65536).decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror or exc}") from None


def detect_format(path: Path) -> Format:
    """The format of a file, by its content; UnreadableInput when none recognises it."""
    head = _head(path)
    for fmt in FORMATS.values():
        if fmt.recognises(path, head):
            return fmt
    raise UnreadableInput(f"{path.name}: not a format we know ({', '.join(FORMATS)}); name it with --format")


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files, with directories expanded to the importable files in them (sorted)."""
    files = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            files.append(path)
    return files


def preview(engine: Bind, *, tenant: str, path: Path, format: str = "auto", limit: int = 10):
    """How the first `limit` records of a file would be imported (normalised or rejected); writes nothing.

    Returns (the format, [Normalised | RecordError]); raises UnreadableInput."""
    from itertools import islice

    from core.importers.normalise import normalise
    from core.importers.writer import people_of

    fmt = detect_format(path) if format == "auto" else FORMATS[format]
    people, result = people_of(engine, tenant), []
    for record in islice(fmt.read(path), limit):
        if isinstance(record, RecordError):
            result.append(record)
            continue
        try:
            result.append(normalise(record, people=people))
        except RecordError as exc:
            result.append(exc)
    return fmt, result


@dataclass
class PathsReport(ImportReport):
    unreadable: list[str] | None = None

    @property
    def nothing_read(self) -> bool:
        return bool(self.unreadable) and self.read == 0


def import_paths(
    engine: Bind,
    *,
    tenant: str,
    actor: str,
    paths: Iterable[Path],
    format: str = "auto",
    progress: Callable[[ImportReport], None] | None = None,
) -> PathsReport:
    """Import every file; a file that cannot be read is reported and the others still imported."""
    report = PathsReport(unreadable=[])
    for path in expand(paths):
        try:
            fmt = detect_format(path) if format == "auto" else FORMATS[format]
            if not path.is_file():
                raise UnreadableInput(f"{path}: no such file")
            part = import_records(engine, tenant=tenant, actor=actor, records=fmt.read(path), progress=progress)
        except UnreadableInput as exc:
            report.unreadable.append(str(exc))
            continue
        if part.stopped:
            report.unreadable.append(f"{part.stopped} (the records before it were imported)")
        report.read += part.read
        report.created += part.created
        report.updated += part.updated
        report.unchanged += part.unchanged
        report.rejected += part.rejected
    return report
