"""Showing user-supplied text as text: never as markdown, HTML, LaTeX or a live link."""

from __future__ import annotations

import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def md_escape(text: str | None) -> str:
    """Backslash-escape every ASCII punctuation character (CommonMark allows it for all of them), so
    `**x**`, `[a](javascript:..)`, `<img ...>`, `$x$` and `:emoji:` show literally; keeps line breaks."""
    if not text:
        return ""
    escaped = _PUNCTUATION.sub(r"\\\1", text)
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")
