"""Showing user-supplied text as text: never as markdown, HTML, LaTeX or a live link."""

from __future__ import annotations

import re
import string

_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


_LINKABLE = re.compile(r"\b(?:(h)(tt)(ps?://)|(f)(t)(p://)|(w)(ww)(\.))", re.IGNORECASE)


def defang_links(text: str) -> str:
    """hxxps://, fxp://, www[.]: what SOC tools show so a URL in an incident is never one click away.
    (Markdown renderers turn bare URLs into links even when every character is escaped.)"""

    def defang(match: re.Match) -> str:
        if match.group(1):
            return match.group(1) + "xx" + match.group(3)
        if match.group(4):
            return match.group(4) + "x" + match.group(6)
        return match.group(7) + match.group(8) + "[.]"

    return _LINKABLE.sub(defang, text)


def md_escape(text: str | None) -> str:
    """User text for st.markdown, shown literally: every ASCII punctuation character backslash-escaped
    (CommonMark allows it for all), so `**x**`, `[a](javascript:..)`, `<img ...>`, `$x$` and `:emoji:` do
    nothing; URLs defanged so they are not links; line breaks kept."""
    if not text:
        return ""
    escaped = _PUNCTUATION.sub(r"\\\1", defang_links(text))
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")
