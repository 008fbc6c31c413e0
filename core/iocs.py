"""Indicators of compromise (IOCs): typing, validation, normalisation, refanging and defanging.

An incident carries a typed list of IOCs. Every IOC is stored in one canonical, *refanged* form so that
the same indicator typed twice (or pasted once defanged and once not) is the same value:

* ``ipv4``      -- dotted quad as :mod:`ipaddress` prints it; leading zeros are rejected (ambiguous: octal?).
* ``ipv6``      -- compressed, lower-case (``2001:DB8:0:0::1`` -> ``2001:db8::1``); ``[...]`` brackets are
  accepted and dropped; zone ids (``%eth0``) are rejected; IPv4-mapped addresses are written
  ``::ffff:1.2.3.4`` whatever the Python version.
* ``domain``    -- lower-case IDNA A-label (UTS46 mapping, non-transitional): ``bücher.example`` and
  ``XN--BCHER-KVA.example.`` are both stored as ``xn--bcher-kva.example``; one trailing dot is dropped.
* ``url``       -- scheme http/https/ftp (``hxxp``/``hxxps``/``fxp`` refanged) and host lower-cased, host
  as an IDNA A-label or IP address; user info, port, path, query and fragment are kept as given (case
  matters there), except that an empty port (``host:``) is dropped and a port's leading zeros removed.
* ``email``     -- ``local@domain``: the domain is canonicalised like ``domain``; the local part is kept as
  given, because it is case-sensitive in principle (RFC 5321) and an analyst may need the exact
  spelling. So ``User@EXAMPLE.COM`` -> ``User@example.com``.
* ``md5``/``sha1``/``sha256`` -- 32/40/64 hexadecimal characters, lower-cased.
* ``filename``  -- a base name (no ``/`` or ``\\``), kept as given (case-sensitive on most systems).
* ``other``     -- any non-blank text without control characters, stripped.

Every value is stripped, refanged (see :func:`refang`) and at most ``MAX_IOC_LENGTH`` characters long.
Use :func:`defang` (or :attr:`Ioc.defanged`) to display an IOC safely.

This module uses the standard library and the ``idna`` package only.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import idna

__all__ = [
    "IOC_TYPES",
    "IOC_TYPE_LABELS",
    "MAX_IOC_LENGTH",
    "Ioc",
    "IocError",
    "defang",
    "detect_type",
    "parse_ioc",
    "parse_iocs",
    "refang",
]

IOC_TYPES: tuple[str, ...] = (
    "ipv4",
    "ipv6",
    "domain",
    "url",
    "email",
    "md5",
    "sha1",
    "sha256",
    "filename",
    "other",
)

IOC_TYPE_LABELS: dict[str, str] = {
    "ipv4": "IPv4",
    "ipv6": "IPv6",
    "domain": "Domain",
    "url": "URL",
    "email": "Email",
    "md5": "MD5",
    "sha1": "SHA-1",
    "sha256": "SHA-256",
    "filename": "File name",
    "other": "Other",
}

MAX_IOC_LENGTH = 2048
MAX_FILENAME_LENGTH = 255
MAX_DOMAIN_LENGTH = 253
MAX_EMAIL_LENGTH = 254
MAX_EMAIL_LOCAL_LENGTH = 64

# What an error message calls a value of each type ("Invalid IPv4 address '...': ...").
_NOUNS: dict[str, str] = {
    "ipv4": "IPv4 address",
    "ipv6": "IPv6 address",
    "domain": "domain name",
    "url": "URL",
    "email": "email address",
    "md5": "MD5 hash",
    "sha1": "SHA-1 hash",
    "sha256": "SHA-256 hash",
    "filename": "file name",
    "other": "value of type Other",
}

_HASH_LENGTHS: dict[str, int] = {"md5": 32, "sha1": 40, "sha256": 64}
_HASH_BY_LENGTH: dict[int, str] = {length: name for name, length in _HASH_LENGTHS.items()}

# File extensions that make AUTO typing choose "filename" over "domain" for a bare "name.ext": common
# executable, script, document, archive/disk-image and media extensions. Some are real TLDs (.zip, .mov,
# .sh, .py, .cab, .one); for those a domain must be typed explicitly as "domain". Deliberately left out
# because they are ccTLDs/gTLDs with many everyday domains: .app .ai .cc .com .dot .md .pl .ps .pub .rs
# .run .so.
_FILE_EXTENSION_LIST = """
    exe dll sys drv ocx cpl scr pif msi msp msix msixbundle appx appxbundle appref-ms application
    bat cmd ps1 psm1 psd1 ps1xml vbs vbe js jse mjs wsf wsh wsc hta lnk url scf inf reg msc gadget
    jar jnlp class apk ipa dmg pkg mpkg deb rpm elf bin dylib
    sh bash zsh ksh csh py pyc pyw pyz rb php php5 phtml asp aspx ashx jsp jspx cgi lua vba
    doc docx docm dotx dotm xls xlsx xlsm xlsb xlt xltx xltm xla xlam xll iqy slk csv
    ppt pptx pptm pps ppsx ppsm pot potx potm sldx sldm odt ods odp odg rtf pdf txt log xps oxps
    one onepkg vsd vsdx vsdm chm hlp eml msg ics htm html xhtml mht mhtml svg xml json
    zip zipx rar 7z tar gz tgz bz2 tbz2 xz txz lz lzh lzma zst cab arj ace uue iso img vhd vhdx vmdk
    wim ova
    jpg jpeg png gif bmp tif tiff ico webp mp3 mp4 m4a mov avi mkv wmv wav flac
    tmp dat bak ini cfg conf
"""
_FILE_EXTENSIONS: frozenset[str] = frozenset(_FILE_EXTENSION_LIST.split())

_SCHEMES: dict[str, str] = {
    "http": "http",
    "https": "https",
    "ftp": "ftp",
    "hxxp": "http",
    "hxxps": "https",
    "fxp": "ftp",
}
_DEFANGED_SCHEMES: dict[str, str] = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}

_HEX_RE = re.compile(r"[0-9a-fA-F]+")
_DOTTED_NUMERIC_RE = re.compile(r"[0-9]+(?:\.[0-9]+)+\.?")
# 12:30, 9:05, 12:30:45, 23:59:59.123 -- never an IPv6 address, whatever a lenient parser thinks.
_BROKEN_IPV4_RE = re.compile(r"[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}")
_CLOCK_RE = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_PORT_RE = re.compile(r"[0-9]{1,5}")
# Non-TLD labels may contain underscores: they are common in real DNS (_dmarc, _sip._tcp, SRV/TXT names)
# and in malware/C2 infrastructure (dynamic-DNS hosts, Windows host names with "_"), and resolvers pass
# them. The TLD must be letters/digits/hyphens only and not all-numeric.
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_TLD_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# RFC 5322 dot-atom local part; non-ASCII (SMTPUTF8) characters are accepted too.
_EMAIL_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_EMAIL_LOCAL_RE = re.compile(rf"{_EMAIL_ATOM}(?:\.{_EMAIL_ATOM})*")

# Refanging. Brackets may be [], () or {}; "dot"/"at" are case-insensitive; blanks around the marker go.
_REFANG_TOKEN_RE = re.compile(
    r"""
      (?P<scheme_sep>\[://\])
    | (?P<colon>\[:\])
    | (?P<slash>\[/\])
    | (?P<dot>[ \t]*[\[({][ \t]*(?:\.|dot)[ \t]*[\])}][ \t]*)
    | (?P<at>[ \t]*[\[({][ \t]*(?:@|at)[ \t]*[\])}][ \t]*)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_REFANG_REPLACEMENTS = {"scheme_sep": "://", "colon": ":", "slash": "/", "dot": ".", "at": "@"}
# A defanged scheme only at "scheme position": the start of the text or after a blank, quote or opening
# bracket, and directly followed by "://". So "myhxxp://" or "?u=hxxp://" are left alone.
_DEFANGED_SCHEME_RE = re.compile(r"(?:^|(?<=[\s\"'<(\[]))(h(?:xx|xt|tx)p(s?)|fxx?p)(?=://)", re.IGNORECASE)
_URL_PARTS_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#\\]*)(.*)", re.DOTALL)


class IocError(ValueError):
    """An IOC value or type is not acceptable. The message says what is wrong, names the value (truncated)
    and the expected type. ``value``, ``expected`` (an IOC type or None) and ``position`` (1-based, set by
    :func:`parse_iocs`) are available as attributes."""

    def __init__(
        self,
        message: str,
        *,
        value: object = None,
        expected: str | None = None,
        position: int | None = None,
    ) -> None:
        super().__init__(message)
        self.value = value
        self.expected = expected
        self.position = position


class _Invalid(Exception):
    """Internal: a validator's reason for rejecting a value (wrapped into an IocError by parse_ioc)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Ioc:
    """One indicator: ``type`` is one of IOC_TYPES, ``value`` its canonical, refanged form.

    Build instances with :func:`parse_ioc`; the constructor checks the type but not the value."""

    type: str
    value: str

    def __post_init__(self) -> None:
        if self.type not in IOC_TYPES:
            raise IocError(
                f"Unknown IOC type {_show(self.type)}; expected one of: {', '.join(IOC_TYPES)}",
                value=self.value,
            )
        if not isinstance(self.value, str):
            raise IocError(f"IOC value must be text, not {self.value.__class__.__name__}", expected=self.type)

    @property
    def label(self) -> str:
        """Human label of the type, e.g. "SHA-256"."""
        return IOC_TYPE_LABELS[self.type]

    @property
    def defanged(self) -> str:
        """The value made safe to display (not clickable, not resolvable); see :func:`defang`."""
        return defang(self.type, self.value)

    def to_dict(self) -> dict:
        return {"type": self.type, "value": self.value}


# --------------------------------------------------------------------------------------------- helpers


def _show(value: object, limit: int = 80) -> str:
    """The value for an error message: repr()-quoted (control characters visible), truncated."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


def _bad_char(text: str) -> str | None:
    """The first control character (or lone surrogate) in text, if any."""
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs"):
            return char
    return None


def _describe_char(char: str) -> str:
    return f"U+{ord(char):04X}"


def _ok(validator: Callable[[str], str], text: str) -> bool:
    try:
        validator(text)
    except _Invalid:
        return False
    return True


def _resolve_type(ioc_type: object) -> str | None:
    """An IOC type key from a key or label, any case ("SHA-256", "File name", "e-mail"); None for auto."""
    if ioc_type is None:
        return None
    if not isinstance(ioc_type, str):
        raise IocError(f"IOC type must be text, not {ioc_type.__class__.__name__}")
    key = ioc_type.strip().lower()
    if key in ("", "auto"):
        return None
    key = key.replace("-", "").replace("_", "").replace(" ", "")
    if key in IOC_TYPES:
        return key
    raise IocError(f"Unknown IOC type {_show(ioc_type)}; expected auto or one of: {', '.join(IOC_TYPES)}")


# ------------------------------------------------------------------------------------------ validators
# Each takes stripped, refanged text and returns the canonical value or raises _Invalid(reason).


def _normalise_ipv4(text: str) -> str:
    parts = text.split(".")
    if len(parts) != 4 or not all(part.isascii() and part.isdigit() for part in parts):
        raise _Invalid("expected four dot-separated decimal numbers, e.g. 192.0.2.1")
    for part in parts:
        if len(part) > 1 and part.startswith("0"):
            raise _Invalid(f"leading zeros ({part}) are not allowed: some tools read them as octal")
        if len(part) > 3 or int(part) > 255:
            raise _Invalid(f"{part} is out of range; each number must be 0-255")
    return str(ipaddress.IPv4Address(text))


def _normalise_ipv6(text: str) -> str:
    address = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if "%" in address:
        raise _Invalid("zone identifiers (%...) are not supported")
    if _CLOCK_RE.fullmatch(address):
        raise _Invalid("this is a clock time, not an address")
    if ":" not in address:
        raise _Invalid("expected hexadecimal groups separated by colons, e.g. 2001:db8::1")
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        raise _Invalid(
            "expected eight groups of up to four hexadecimal digits, '::' for zero groups, e.g. 2001:db8::1"
        ) from None
    if parsed.ipv4_mapped is not None:  # str() of these differs between Python versions; pin RFC 5952 form
        return f"::ffff:{parsed.ipv4_mapped}"
    return parsed.compressed


def _check_ascii_label(label: str, *, is_tld: bool) -> None:
    if len(label) > 63:
        raise _Invalid(f"label {_show(label, 30)} is longer than 63 characters")
    if is_tld:
        if not _TLD_RE.fullmatch(label):
            raise _Invalid(f"top-level label {_show(label, 30)} may hold only letters, digits and inner hyphens")
        if label.isdigit():
            raise _Invalid(f"top-level label {_show(label, 30)} must not be all-numeric")
        if len(label) < 2:
            raise _Invalid(f"top-level label {_show(label, 30)} must be at least two characters")
    elif not _LABEL_RE.fullmatch(label):
        if label.startswith("-") or label.endswith("-"):
            raise _Invalid(f"label {_show(label, 30)} must not start or end with a hyphen")
        raise _Invalid(f"label {_show(label, 30)} may hold only letters, digits, hyphens and underscores")
    if label.startswith("xn--"):
        try:
            canonical = idna.alabel(idna.ulabel(label)).decode("ascii")
        except ValueError as exc:
            raise _Invalid(f"label {_show(label, 30)} is not a valid IDNA A-label ({exc})") from None
        if canonical != label:
            raise _Invalid(f"label {_show(label, 30)} is not a canonical IDNA A-label")


def _normalise_domain(text: str) -> str:
    if text.isascii():
        name = text.lower()
    else:
        try:  # UTS46: case folding, width mapping, "。" -> "." ... (std3 checked per label below)
            name = idna.uts46_remap(text, std3_rules=False, transitional=False)
        except ValueError as exc:
            raise _Invalid(f"not a valid internationalised name ({exc})") from None
    if name.endswith("."):  # fully-qualified form: one trailing dot is dropped
        name = name[:-1]
    if not name:
        raise _Invalid("the name is empty")
    labels = name.split(".")
    if any(not label for label in labels):
        raise _Invalid("empty label (leading or doubled dot)")
    if len(labels) < 2:
        raise _Invalid("expected at least two labels, e.g. example.com")
    ascii_labels = []
    for index, label in enumerate(labels):
        if not label.isascii():
            try:
                label = idna.alabel(label).decode("ascii")
            except ValueError as exc:
                raise _Invalid(f"label {_show(label, 30)} is not a valid internationalised label ({exc})") from None
        _check_ascii_label(label, is_tld=index == len(labels) - 1)
        ascii_labels.append(label)
    domain = ".".join(ascii_labels)
    if len(domain) > MAX_DOMAIN_LENGTH:
        raise _Invalid(f"longer than {MAX_DOMAIN_LENGTH} characters ({len(domain)})")
    return domain


def _normalise_host(host: str) -> str:
    if host.startswith("["):
        if not host.endswith("]"):
            raise _Invalid("unclosed '[' around an IPv6 host")
        try:
            return f"[{_normalise_ipv6(host)}]"
        except _Invalid as exc:
            raise _Invalid(f"host is not a valid IPv6 address: {exc.reason}") from None
    if _DOTTED_NUMERIC_RE.fullmatch(host):
        try:
            return _normalise_ipv4(host)
        except _Invalid as exc:
            raise _Invalid(f"host is not a valid IPv4 address: {exc.reason}") from None
    try:
        return _normalise_domain(host)
    except _Invalid as exc:
        raise _Invalid(f"host is not a valid domain or IP address: {exc.reason}") from None


def _normalise_url(text: str) -> str:
    if any(char.isspace() for char in text):
        raise _Invalid("URLs must not contain spaces (percent-encode them as %20)")
    bad = _bad_char(text)
    if bad is not None:
        raise _Invalid(f"contains the control character {_describe_char(bad)}")
    match = _URL_PARTS_RE.fullmatch(text)
    if match is None:
        raise _Invalid("expected scheme://host..., e.g. https://example.com/path")
    scheme, authority, rest = match.groups()
    canonical_scheme = _SCHEMES.get(scheme.lower())
    if canonical_scheme is None:
        raise _Invalid(f"scheme {scheme!r} is not supported; expected http, https or ftp")
    userinfo, at, hostport = authority.rpartition("@")
    if not hostport:
        raise _Invalid("the host is missing")
    port = ""
    if hostport.startswith("["):
        host, bracket, after = hostport.partition("]")
        host += bracket
        if after and not after.startswith(":"):
            raise _Invalid("unexpected text after the IPv6 host")
        port = after[1:]
        has_port = bool(after)
    else:
        if hostport.count(":") > 1:
            raise _Invalid("an IPv6 host must be written in brackets, e.g. http://[2001:db8::1]/")
        host, colon, port = hostport.partition(":")
        has_port = bool(colon)
    if not host:
        raise _Invalid("the host is missing")
    if has_port and port:
        if not _PORT_RE.fullmatch(port) or not 0 < int(port) <= 65535:
            raise _Invalid(f"port {port!r} is not a number from 1 to 65535")
        port = str(int(port))
    canonical_host = _normalise_host(host)
    netloc = f"{userinfo}{at}{canonical_host}" + (f":{port}" if port else "")
    return f"{canonical_scheme}://{netloc}{rest}"


def _normalise_email(text: str) -> str:
    local, at, domain = text.rpartition("@")
    if not at:
        raise _Invalid("expected local-part@domain")
    if not local:
        raise _Invalid("the part before '@' is empty")
    if not domain:
        raise _Invalid("the domain after '@' is missing")
    if any(char.isspace() for char in text):
        raise _Invalid("email addresses must not contain spaces")
    bad = _bad_char(text)
    if bad is not None:
        raise _Invalid(f"contains the control character {_describe_char(bad)}")
    if "@" in local:
        raise _Invalid("more than one '@'")
    if len(local) > MAX_EMAIL_LOCAL_LENGTH:
        raise _Invalid(f"the part before '@' is longer than {MAX_EMAIL_LOCAL_LENGTH} characters")
    if not _EMAIL_LOCAL_RE.fullmatch(local):
        raise _Invalid("the part before '@' may hold letters, digits, !#$%&'*+/=?^_`{|}~- and single inner dots")
    try:
        canonical_domain = _normalise_domain(domain)
    except _Invalid as exc:
        raise _Invalid(f"the domain is not valid: {exc.reason}") from None
    address = f"{local}@{canonical_domain}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise _Invalid(f"longer than {MAX_EMAIL_LENGTH} characters")
    return address


def _hash_validator(ioc_type: str) -> Callable[[str], str]:
    length = _HASH_LENGTHS[ioc_type]

    def normalise(text: str) -> str:
        if not _HEX_RE.fullmatch(text):
            bad = next(char for char in text if char not in "0123456789abcdefABCDEF")
            raise _Invalid(f"expected {length} hexadecimal characters (0-9, a-f); {bad!r} is not hexadecimal")
        if len(text) != length:
            raise _Invalid(f"expected {length} hexadecimal characters, got {len(text)}")
        return text.lower()

    return normalise


def _normalise_filename(text: str) -> str:
    if "/" in text or "\\" in text:
        raise _Invalid("expected a bare file name without a directory ('/' or '\\'); use Other for a path")
    if text in (".", ".."):
        raise _Invalid(f"{text!r} is not a file name")
    bad = _bad_char(text)
    if bad is not None:
        raise _Invalid(f"contains the control character {_describe_char(bad)}")
    if len(text) > MAX_FILENAME_LENGTH:
        raise _Invalid(f"longer than {MAX_FILENAME_LENGTH} characters ({len(text)})")
    return text


def _normalise_other(text: str) -> str:
    bad = _bad_char(text)
    if bad is not None:
        raise _Invalid(f"contains the control character {_describe_char(bad)}")
    return text


_VALIDATORS: dict[str, Callable[[str], str]] = {
    "ipv4": _normalise_ipv4,
    "ipv6": _normalise_ipv6,
    "domain": _normalise_domain,
    "url": _normalise_url,
    "email": _normalise_email,
    "md5": _hash_validator("md5"),
    "sha1": _hash_validator("sha1"),
    "sha256": _hash_validator("sha256"),
    "filename": _normalise_filename,
    "other": _normalise_other,
}


# ------------------------------------------------------------------------------------------ detection


def _looks_like_filename(text: str) -> bool:
    """A bare "name.ext" whose extension is a common file extension (see _FILE_EXTENSIONS)."""
    if any(char in text for char in "/\\:"):
        return False
    stem, dot, extension = text.rpartition(".")
    if not dot or not stem.strip(" .") or extension.lower() not in _FILE_EXTENSIONS:
        return False
    return _ok(_normalise_filename, text)


def _detect(text: str) -> str:
    """The type of stripped, refanged text. Every type but "other" returned here validates."""
    if not text or len(text) > MAX_IOC_LENGTH:
        return "other"
    if _SCHEME_RE.match(text):
        return "url" if _ok(_normalise_url, text) else "other"
    hash_type = _HASH_BY_LENGTH.get(len(text))
    if hash_type is not None and _HEX_RE.fullmatch(text):
        return hash_type
    if _ok(_normalise_ipv4, text):
        return "ipv4"
    if _DOTTED_NUMERIC_RE.fullmatch(text):  # 1.2.3.256, 010.1.1.1, 1.2.3: a broken address, not a domain
        return "other"
    if ":" in text:
        if _CLOCK_RE.fullmatch(text):
            return "other"
        if _ok(_normalise_ipv6, text):
            return "ipv6"
    if _looks_like_filename(text):  # before email and domain: invoice.pdf, icon@2x.png, archive.zip
        return "filename"
    if "@" in text:
        return "email" if _ok(_normalise_email, text) else "other"
    if _ok(_normalise_domain, text):
        return "domain"
    return "other"


# -------------------------------------------------------------------------------------------- public


def refang(text: str) -> str:
    """Undo common defanging: ``hxxp://``/``hxxps://``/``fxp://`` (scheme position only), ``[:]//``,
    ``[://]``, ``[:]``, ``[/]``, ``[.]``/``(.)``/``{.}``/``[dot]``/``(dot)``, ``[@]``/``(@)``/``[at]``/
    ``(at)`` (any case, blanks around the bracketed marker removed). Nothing else is touched: bare
    dots, brackets such as ``[2001:db8::1]`` and ``hxxp`` inside a word or path stay as they are.
    Idempotent: the rules are applied until nothing changes."""
    while True:  # to a fixed point, so that refang(refang(x)) == refang(x) even for "[[.]]"
        refanged = _DEFANGED_SCHEME_RE.sub(_refang_scheme, _REFANG_TOKEN_RE.sub(_refang_token, text))
        if refanged == text:
            return text
        text = refanged


def _refang_token(match: re.Match[str]) -> str:
    return _REFANG_REPLACEMENTS[match.lastgroup or ""]


def _refang_scheme(match: re.Match[str]) -> str:
    if match.group(1)[0] in "fF":
        return "ftp"
    return "https" if match.group(2) else "http"


def detect_type(value: str) -> str:
    """The IOC type :func:`parse_ioc` would choose for value (refanged and stripped first).

    Rules, first match wins: blank or too long -> other; ``scheme://...`` -> url if valid, else other;
    32/40/64 hex characters -> md5/sha1/sha256; valid dotted quad -> ipv4; any other digits-and-dots
    (``1.2.3.256``, ``010.1.1.1``) -> other; a clock time (``12:30``, ``23:59:59.123``) -> other; valid
    IPv6 (brackets allowed) -> ipv6; a bare ``name.ext`` (no ``/``, ``\\``, ``:``) whose extension is a
    common executable/script/document/archive/media one -> filename (so ``archive.zip``, ``icon@2x.png``,
    ``user@evil.zip`` are file names); valid ``local@domain`` -> email; valid domain -> domain; else other.
    Never raises; anything unrecognised (including non-text input) is "other"."""
    if not isinstance(value, str):
        return "other"
    text = value.strip()
    if len(text) > MAX_IOC_LENGTH:
        return "other"
    return _detect(refang(text).strip())


def parse_ioc(value: str, type: str | None = None) -> Ioc:
    """Validate and normalise one IOC.

    ``type`` None, "" or "auto" detects the type (see :func:`detect_type`); otherwise value must be a
    valid value of that type (a key of IOC_TYPES or its label, any case). Raises IocError."""
    ioc_type = _resolve_type(type)
    expected = f" (expected {_NOUNS[ioc_type]})" if ioc_type else ""
    if not isinstance(value, str):
        raise IocError(
            f"IOC value must be text, not {value.__class__.__name__}{expected}", value=value, expected=ioc_type
        )
    text = value.strip()
    if not text:
        raise IocError(f"IOC value is empty{expected}", value=value, expected=ioc_type)
    if len(text) > MAX_IOC_LENGTH:
        raise IocError(
            f"IOC value {_show(text)} is too long: {len(text)} characters, at most {MAX_IOC_LENGTH}{expected}",
            value=value,
            expected=ioc_type,
        )
    clean = refang(text).strip()
    actual = ioc_type or _detect(clean)
    if ioc_type is None and actual == "other":
        # A broken address or URL is a typo to report, not free text to keep: 1.2.3.999, http://
        if _BROKEN_IPV4_RE.fullmatch(clean):
            actual = "ipv4"
        elif _SCHEME_RE.match(clean) and clean.split("://", 1)[0].lower() in ("http", "https", "ftp"):
            actual = "url"
    try:
        canonical = _VALIDATORS[actual](clean)
    except _Invalid as exc:
        hint = ""
        if ioc_type is not None:
            detected = _detect(clean)
            if detected not in (ioc_type, "other"):
                hint = f" (it looks like: {IOC_TYPE_LABELS[detected]})"
        raise IocError(
            f"Invalid {_NOUNS[actual]} {_show(text)}: {exc.reason}{hint}", value=value, expected=actual
        ) from None
    if len(canonical) > MAX_IOC_LENGTH:
        raise IocError(
            f"Invalid {_NOUNS[actual]} {_show(text)}: its canonical form is longer than {MAX_IOC_LENGTH} characters",
            value=value,
            expected=actual,
        )
    return Ioc(actual, canonical)


def parse_iocs(items: Iterable[Any] | None) -> list[Ioc]:
    """Parse a list of IOCs, each given as text (type detected), a mapping with "value" and optional
    "type" (None/"auto" = detect; other keys ignored) or an Ioc (re-validated). Duplicates (same type and
    canonical value) are dropped, the first occurrence's position kept. None gives [].

    Raises IocError for the first bad item, its message starting "IOC #<1-based position>: " and its
    ``position`` attribute set; TypeError if items is a single string, mapping or Ioc instead of a list."""
    if items is None:
        return []
    if isinstance(items, str | bytes | Mapping | Ioc):
        raise TypeError(f"parse_iocs expects an iterable of IOCs, not a single {items.__class__.__name__}")
    result: list[Ioc] = []
    seen: set[tuple[str, str]] = set()
    for position, item in enumerate(items, start=1):
        try:
            if isinstance(item, Ioc):
                ioc = parse_ioc(item.value, item.type)
            elif isinstance(item, str):
                ioc = parse_ioc(item)
            elif isinstance(item, Mapping):
                if "value" not in item:
                    raise IocError("the mapping has no 'value'")
                ioc = parse_ioc(item["value"], item.get("type"))
            else:
                raise IocError(
                    f"expected text, a mapping with 'type' and 'value', or an Ioc, not {item.__class__.__name__}",
                    value=item,
                )
        except IocError as exc:
            raise IocError(
                f"IOC #{position}: {exc}", value=exc.value, expected=exc.expected, position=position
            ) from exc
        key = (ioc.type, ioc.value)
        if key not in seen:
            seen.add(key)
            result.append(ioc)
    return result


def _defang_host(host: str) -> str:
    """Last dot of a domain or IPv4 address -> "[.]"; bracketed IPv6 hosts are left alone."""
    if host.startswith("["):
        return host
    head, dot, tail = host.rpartition(".")
    return f"{head}[.]{tail}" if dot else host


def defang(ioc_type: str, value: str) -> str:
    """A safe display form of a canonical value: not clickable, not resolvable, and turned back into
    the value by :func:`refang`.

    ipv4/domain: last dot -> "[.]" (``1.2.3[.]4``, ``evil[.]example``); ipv6: first colon -> "[:]"
    (``2001[:]db8::1``); url: scheme -> hxxp/hxxps/fxp and the host's last dot -> "[.]"
    (``hxxps://evil[.]example/x``); email: ``user[@]evil[.]example``; hashes, file names and other:
    unchanged. A value that already contains defanging is returned as it is. ``ioc_type`` None/"auto"
    detects the type."""
    resolved = _resolve_type(ioc_type) or detect_type(value)
    if refang(value) != value:  # already defanged (or holds defang markers): do not defang twice
        return value
    if resolved in ("ipv4", "domain"):
        return _defang_host(value)
    if resolved == "ipv6":
        return value.replace(":", "[:]", 1)
    if resolved == "email":
        local, at, domain = value.rpartition("@")
        return f"{local}[@]{_defang_host(domain)}" if at else _defang_host(value)
    if resolved == "url":
        match = _URL_PARTS_RE.fullmatch(value)
        if match is None:
            return value.replace("://", "[://]")
        scheme, authority, rest = match.groups()
        scheme = _DEFANGED_SCHEMES.get(scheme.lower(), scheme)
        userinfo, at, hostport = authority.rpartition("@")
        if not hostport.startswith("["):
            host, colon, port = hostport.partition(":")
            hostport = f"{_defang_host(host)}{colon}{port}"
        return f"{scheme}://{userinfo}{at}{hostport}{rest}"
    return value
