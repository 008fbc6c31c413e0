"""Reading JSON and NDJSON exports, shared by the vendor parsers and our own JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from core.importers.base import RecordError, SourceRecord, UnreadableInput, first

TITLE_MAX = 120
RECORD_FAULTS = (AttributeError, KeyError, TypeError, ValueError)  # a record of an unexpected shape


def _looks_like_document_start(line: str) -> bool:
    """The first line of a pretty-printed JSON document ("{", "[", '{"a": {', ...), not an NDJSON record."""
    text = line.strip()
    return text in ("{", "[", "[{") or text.endswith(("{", "[", ",", ":"))


def _load(line: str) -> tuple[Any, str | None]:
    """(value, None) for a line of JSON, (None, the reason) for one that is not."""
    try:
        return json.loads(line), None
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON (column {exc.colno}): {exc.msg}"
    except RecursionError:
        return None, "JSON nested too deeply"


def iter_json_values(path: Path) -> Iterator[tuple[str, Any] | RecordError]:
    """The JSON values of an NDJSON file, or the elements of a JSON document, as (location, value).

    * NDJSON (one value a line, blank lines skipped): streamed line by line; a line that is not JSON (or not
      UTF-8) is a RecordError and the rest go on; a line holding a list gives each element.
    * A JSON document (an object, or a list of them; pretty-printed or not): read whole; a list gives its
      elements, an object itself.

    Raises UnreadableInput when the file cannot be opened, does not start as UTF-8 text, or is a pretty-printed
    JSON document that does not parse. Locations are "name:line" (NDJSON), "name:line[i]" (a list on a line),
    "name" or "name[i]" (a document).
    """
    name = path.name
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UnreadableInput(f"{path}: cannot open: {exc.strerror or exc}") from exc
    with handle:
        number, line = 0, ""
        while not line.strip():
            raw = handle.readline()
            if not raw:
                return  # an empty file: nothing to import
            number += 1
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise UnreadableInput(f"{path}: not UTF-8 text (line {number}): {exc.reason}") from exc
        value, error = _load(line)
        if error and line.lstrip().startswith(("{", "[")):
            # not one value on its first line: a JSON document spread over lines (or a broken first record)
            after_first = handle.tell()
            try:
                document = json.loads(line + handle.read().decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise UnreadableInput(f"{path}: not UTF-8 text: {exc.reason}") from exc
            except RecursionError:
                raise UnreadableInput(f"{path}: JSON nested too deeply") from None
            except json.JSONDecodeError as exc:
                if _looks_like_document_start(line):
                    where = f"line {exc.lineno + number - 1}, column {exc.colno}"
                    raise UnreadableInput(f"{path}: not valid JSON ({where}): {exc.msg}") from exc
                handle.seek(after_first)  # NDJSON whose first record is broken: go on after it
            else:
                if isinstance(document, list):
                    for index, element in enumerate(document):
                        yield f"{name}[{index}]", element
                else:
                    yield name, document
                return
        while True:
            location = f"{name}:{number}"
            if error:
                yield RecordError(location, error)
            elif isinstance(value, list):
                for index, element in enumerate(value):
                    yield f"{location}[{index}]", element
            else:
                yield location, value
            raw = handle.readline()
            if not raw:
                return
            number += 1
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                value, error = None, f"not UTF-8 text: {exc.reason}"
                continue
            if not line.strip():
                value, error = [], None  # a blank line: nothing
                continue
            value, error = _load(line)


def text_or_none(value: Any) -> str | None:
    """A stripped string for a present value (see `first`), else None."""
    value = first(value)
    return None if value is None else str(value).strip()


def unique(values: list) -> list:
    """The values without duplicates, in their first order."""
    seen: list = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen


def short_title(text: str, limit: int = TITLE_MAX) -> str:
    """Whitespace collapsed and cut at a word boundary to at most `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def json_records(
    path: Path,
    *,
    unwrap: Callable[[str, Any], Iterator[tuple[str, Any]]],
    build: Callable[[str, Any], SourceRecord],
    what: str,
) -> Iterator[SourceRecord | RecordError]:
    """The records of a JSON/NDJSON export: `unwrap(location, value)` yields (location, incident or
    RecordError) for each incident a JSON value holds (API pages, envelopes), `build` makes its SourceRecord;
    one of an unexpected shape becomes a RecordError naming `what`, and the others go on."""
    for item in iter_json_values(path):
        if isinstance(item, RecordError):
            yield item
            continue
        location, value = item
        for where, incident in unwrap(location, value):
            if isinstance(incident, RecordError):
                yield incident
                continue
            try:
                yield build(where, incident)
            except RECORD_FAULTS as exc:
                yield RecordError(where, f"unexpected shape of {what}: {exc}")
