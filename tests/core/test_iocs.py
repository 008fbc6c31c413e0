"""IOC typing, validation, normalisation, refanging and defanging (core.iocs). No database."""

from __future__ import annotations

import importlib.util

import pytest

from core.iocs import (
    IOC_TYPE_LABELS,
    IOC_TYPES,
    MAX_IOC_LENGTH,
    Ioc,
    IocError,
    defang,
    detect_type,
    parse_ioc,
    parse_iocs,
    refang,
)

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_types_and_labels():
    assert IOC_TYPES == ("ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "filename", "other")
    assert set(IOC_TYPE_LABELS) == set(IOC_TYPES)
    assert IOC_TYPE_LABELS["ipv4"] == "IPv4"
    assert IOC_TYPE_LABELS["sha256"] == "SHA-256"
    assert IOC_TYPE_LABELS["filename"] == "File name"


# ------------------------------------------------------------------------------------ explicit types

VALID = [
    # ipv4
    ("ipv4", "1.2.3.4", "1.2.3.4"),
    ("ipv4", "  192.0.2.1 ", "192.0.2.1"),
    ("ipv4", "0.0.0.0", "0.0.0.0"),
    ("ipv4", "255.255.255.255", "255.255.255.255"),
    ("ipv4", "1[.]2[.]3[.]4", "1.2.3.4"),
    ("ipv4", "1(.)2(.)3(.)4", "1.2.3.4"),
    ("ipv4", "1[dot]2[dot]3[dot]4", "1.2.3.4"),
    # ipv6
    ("ipv6", "2001:DB8:0:0::1", "2001:db8::1"),
    ("ipv6", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("ipv6", "[2001:db8::1]", "2001:db8::1"),
    ("ipv6", "2001:db8[:]:1", "2001:db8::1"),
    ("ipv6", "::1", "::1"),
    ("ipv6", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ("ipv6", "::ffff:1.2.3.4", "::ffff:1.2.3.4"),
    ("ipv6", "::FFFF:102:304", "::ffff:1.2.3.4"),
    # domain
    ("domain", "EVIL.COM", "evil.com"),
    ("domain", "evil.com.", "evil.com"),
    ("domain", "example[.]com", "example.com"),
    ("domain", "example(.)com", "example.com"),
    ("domain", "example[dot]com", "example.com"),
    ("domain", "example [DOT] com", "example.com"),
    ("domain", "bücher.example", "xn--bcher-kva.example"),
    ("domain", "BÜCHER.Example.", "xn--bcher-kva.example"),
    ("domain", "XN--BCHER-KVA.example", "xn--bcher-kva.example"),
    ("domain", "bücher。example", "xn--bcher-kva.example"),  # ideographic full stop (UTS46)
    ("domain", "faß.de", "xn--fa-hia.de"),  # non-transitional: ß kept
    ("domain", "例え.テスト", "xn--r8jz45g.xn--zckzah"),
    ("domain", "example.zip", "example.zip"),  # explicit type: .zip is a real TLD
    ("domain", "example.mov", "example.mov"),
    ("domain", "_dmarc.example.com", "_dmarc.example.com"),
    ("domain", "evil_c2.duckdns.org", "evil_c2.duckdns.org"),
    ("domain", "r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"),
    ("domain", "1.2.3.example", "1.2.3.example"),
    ("domain", "a" * 63 + ".com", "a" * 63 + ".com"),
    ("domain", ".".join(["a" * 61] * 4), ".".join(["a" * 61] * 4)),  # 247 characters
    # url
    ("url", "hxxp://evil.example/x", "http://evil.example/x"),
    ("url", "hxxps://evil[.]example/Path?Q=A#Frag", "https://evil.example/Path?Q=A#Frag"),
    ("url", "hXXps[:]//evil(.)example", "https://evil.example"),
    ("url", "https[:]//evil.example/", "https://evil.example/"),
    ("url", "hxxps[://]evil.example/", "https://evil.example/"),
    ("url", "HTTPS://EVIL.Example/Path", "https://evil.example/Path"),
    ("url", "fxp://files.example/a.zip", "ftp://files.example/a.zip"),
    ("url", "ftp://1.2.3.4/", "ftp://1.2.3.4/"),
    ("url", "http://1.2.3.4:8080/a", "http://1.2.3.4:8080/a"),
    ("url", "http://[2001:DB8::1]:0443/", "http://[2001:db8::1]:443/"),
    ("url", "https://bücher.example/ä?q=Ü", "https://xn--bcher-kva.example/ä?q=Ü"),
    ("url", "http://user:pw@Evil.Example/", "http://user:pw@evil.example/"),
    ("url", "http://google.com@EVIL.example/", "http://google.com@evil.example/"),
    ("url", "https://evil.example.:443/x", "https://evil.example:443/x"),
    ("url", "https://evil.example?q=1", "https://evil.example?q=1"),
    ("url", "http://evil.zip/invoice.exe", "http://evil.zip/invoice.exe"),
    # email
    ("email", "user@example.com", "user@example.com"),
    ("email", "User@EXAMPLE.COM", "User@example.com"),  # domain lower-cased, local part kept
    ("email", "user[@]example.com", "user@example.com"),
    ("email", "user[at]example[dot]com", "user@example.com"),
    ("email", "user(at)example(dot)com", "user@example.com"),
    ("email", "user [at] example [dot] com", "user@example.com"),
    ("email", "first.last+tag@bücher.example", "first.last+tag@xn--bcher-kva.example"),
    ("email", "o'brien@example.zip", "o'brien@example.zip"),
    # hashes
    ("md5", MD5.upper(), MD5),
    ("md5", f"  {MD5}  ", MD5),
    ("sha1", SHA1.upper(), SHA1),
    ("sha256", SHA256.upper(), SHA256),
    # file names
    ("filename", "invoice.pdf", "invoice.pdf"),
    ("filename", "Invoice 2024.PDF", "Invoice 2024.PDF"),  # case kept
    ("filename", "invoice[.]pdf", "invoice.pdf"),
    ("filename", "evil.com", "evil.com"),  # explicit: a DOS .com file
    ("filename", "README", "README"),
    ("filename", "icon@2x.png", "icon@2x.png"),
    ("filename", ".bashrc", ".bashrc"),
    ("filename", "x" * 255, "x" * 255),
    # other
    ("other", "12:30", "12:30"),
    ("other", r"C:\Users\x\evil.exe", r"C:\Users\x\evil.exe"),
    (
        "other",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run",
        r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run",
    ),
    ("other", "  Mutex: Global\\abc  ", "Mutex: Global\\abc"),
    ("other", "x" * MAX_IOC_LENGTH, "x" * MAX_IOC_LENGTH),
]


@pytest.mark.parametrize(("ioc_type", "raw", "expected"), VALID)
def test_valid_values_are_normalised(ioc_type, raw, expected):
    ioc = parse_ioc(raw, ioc_type)
    assert ioc == Ioc(ioc_type, expected)
    # the canonical form is a fixed point
    assert parse_ioc(ioc.value, ioc_type) == ioc


INVALID = [
    # ipv4
    ("ipv4", "1.2.3.256", "0-255"),
    ("ipv4", "010.1.1.1", "leading zeros"),
    ("ipv4", "1.2.3.04", "leading zeros"),
    ("ipv4", "1.2.3", "four"),
    ("ipv4", "1.2.3.4.5", "four"),
    ("ipv4", "1.2.3.4/24", "four"),
    ("ipv4", "1.2.3.4:80", "four"),
    ("ipv4", "evil.com", "four"),
    ("ipv4", "::1", "four"),
    ("ipv4", "１.２.３.４", "four"),  # full-width digits
    # ipv6
    ("ipv6", "12:30", "clock time"),
    ("ipv6", "12:30:45", "clock time"),
    ("ipv6", "23:59:59.123", "clock time"),
    ("ipv6", "2001:db8::g", "hexadecimal"),
    ("ipv6", "1:2:3:4:5:6:7:8:9", "hexadecimal"),
    ("ipv6", "2001:db8::1::2", "hexadecimal"),
    ("ipv6", "fe80::1%eth0", "zone"),
    ("ipv6", "1.2.3.4", "colons"),
    ("ipv6", "[2001:db8::1]:443", "hexadecimal"),
    # domain
    ("domain", "localhost", "two labels"),
    ("domain", "-evil.com", "hyphen"),
    ("domain", "evil-.com", "hyphen"),
    ("domain", "evil..com", "empty label"),
    ("domain", ".evil.com", "empty label"),
    ("domain", "evil.com..", "empty label"),
    ("domain", "evil.123", "all-numeric"),
    ("domain", "1.2.3.4", "all-numeric"),
    ("domain", "evil.c", "two characters"),
    ("domain", "evil.c_m", "top-level"),
    ("domain", "evil.-com", "top-level"),
    ("domain", "ev il.com", "letters, digits"),
    ("domain", "*.evil.com", "letters, digits"),
    ("domain", "evil.com/path", "top-level"),
    ("domain", "evil.com:443", "top-level"),
    ("domain", "http://evil.com", "letters, digits"),
    ("domain", "user@evil.com", "letters, digits"),
    ("domain", "a" * 64 + ".com", "longer than 63"),
    ("domain", ".".join(["a" * 63] * 4) + ".com", "longer than 253"),
    ("domain", "xn--zz.com", "A-label"),
    ("domain", "bü_cher.example", "internationalised"),
    ("domain", "evil.com\x00", "top-level"),
    # url
    ("url", "http://", "host is missing"),
    ("url", "http:///path", "host is missing"),
    ("url", "http://user@/x", "host is missing"),
    ("url", "http://evil .com/", "spaces"),
    ("url", "https://evil.example/a b", "spaces"),
    ("url", "https://evil.example/a\tb", "spaces"),
    ("url", "https://evil.example/\x00", "control character"),
    ("url", "javascript://alert(1)", "scheme"),
    ("url", "file:///etc/passwd", "scheme"),
    ("url", "mailto:user@example.com", "scheme://host"),
    ("url", "evil.example/path", "scheme://host"),
    ("url", "//evil.example/path", "scheme://host"),
    ("url", "http://localhost/", "two labels"),
    ("url", "http://1.2.3.256/", "IPv4"),
    ("url", "http://evil.example:99999/", "port"),
    ("url", "http://evil.example:0/", "port"),
    ("url", "http://evil.example:8o/", "port"),
    ("url", "http://2001:db8::1/", "brackets"),
    ("url", "http://[2001:db8::g]/", "IPv6"),
    ("url", "http://[2001:db8::1/", "unclosed"),
    ("url", "http://evil.c_m/", "top-level"),
    # email
    ("email", "user@", "missing"),
    ("email", "@example.com", "empty"),
    ("email", "userexample.com", "local-part@domain"),
    ("email", "user@@example.com", "more than one"),
    ("email", "a@b@example.com", "more than one"),
    ("email", "us er@example.com", "spaces"),
    ("email", "user@localhost", "two labels"),
    ("email", "user@1.2.3.4", "all-numeric"),
    ("email", "user@[1.2.3.4]", "domain"),
    ("email", ".user@example.com", "dots"),
    ("email", "user.@example.com", "dots"),
    ("email", "us..er@example.com", "dots"),
    ("email", '"quoted"@example.com', "dots"),
    ("email", "user@example..com", "empty label"),
    ("email", "x" * 65 + "@example.com", "longer than 64"),
    # hashes
    ("md5", "abc", "expected 32 hexadecimal characters, got 3"),
    ("md5", MD5[:-1], "got 31"),
    ("md5", MD5[:-1] + "g", "'g' is not hexadecimal"),
    ("md5", SHA1, "got 40"),
    ("sha1", MD5, "expected 40"),
    ("sha256", SHA256[:-1], "got 63"),
    ("sha256", SHA256 + "0", "got 65"),
    ("sha256", "0x" + SHA256[2:], "not hexadecimal"),
    ("md5", MD5[:16] + " " + MD5[16:], "not hexadecimal"),
    # file names
    ("filename", r"C:\Users\x\evil.exe", "directory"),
    ("filename", "/tmp/x.sh", "directory"),
    ("filename", "dir/file.txt", "directory"),
    ("filename", ".", "not a file name"),
    ("filename", "..", "not a file name"),
    ("filename", "a\x00b", "U+0000"),
    ("filename", "a\tb", "U+0009"),
    ("filename", "a\x7fb", "U+007F"),
    ("filename", "x" * 256, "longer than 255"),
    # other
    ("other", "a\x00b", "U+0000"),
    ("other", "line1\nline2", "U+000A"),
    ("other", "a\ud800b", "U+D800"),
]


@pytest.mark.parametrize(("ioc_type", "raw", "fragment"), INVALID)
def test_invalid_values_are_rejected(ioc_type, raw, fragment):
    with pytest.raises(IocError) as caught:
        parse_ioc(raw, ioc_type)
    message = str(caught.value)
    assert fragment in message
    assert caught.value.expected == ioc_type
    assert caught.value.value == raw


@pytest.mark.parametrize(
    ("ioc_type", "raw", "noun"),
    [
        ("ipv4", "1.2.3.256", "IPv4 address"),
        ("ipv6", "12:30", "IPv6 address"),
        ("domain", "localhost", "domain name"),
        ("url", "http://", "URL"),
        ("email", "user@", "email address"),
        ("md5", "abc", "MD5 hash"),
        ("sha1", "abc", "SHA-1 hash"),
        ("sha256", "abc", "SHA-256 hash"),
        ("filename", "a/b", "file name"),
        ("other", "a\x00", "Other"),
    ],
)
def test_error_message_names_value_and_expected_type(ioc_type, raw, noun):
    with pytest.raises(IocError) as caught:
        parse_ioc(raw, ioc_type)
    message = str(caught.value)
    assert noun in message
    assert repr(raw.strip()) in message


def test_error_message_hints_at_the_detected_type():
    with pytest.raises(IocError, match=r"looks like: Domain"):
        parse_ioc("evil.com", "ipv4")
    with pytest.raises(IocError, match=r"looks like: SHA-1"):
        parse_ioc(SHA1, "md5")


def test_error_message_truncates_long_values():
    raw = "http://evil.example/" + "a" * 500 + " b"
    with pytest.raises(IocError) as caught:
        parse_ioc(raw, "url")
    message = str(caught.value)
    assert "…" in message
    assert len(message) < 250
    assert "http://evil.example/aaa" in message


@pytest.mark.parametrize("ioc_type", [None, "auto", *IOC_TYPES])
@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_blank_values_are_rejected(ioc_type, raw):
    with pytest.raises(IocError, match="empty"):
        parse_ioc(raw, ioc_type)


@pytest.mark.parametrize("ioc_type", [None, "other", "url", "filename"])
def test_values_over_2048_characters_are_rejected(ioc_type):
    raw = "http://evil.example/" + "a" * MAX_IOC_LENGTH
    with pytest.raises(IocError, match="too long"):
        parse_ioc(raw, ioc_type)


def test_canonical_form_over_2048_characters_is_rejected():
    # 2,000 characters of Unicode host become a longer A-label form
    raw = "http://" + ".".join(["ü" * 20] * 10) + ".example/" + "a" * 1780
    assert len(raw) <= MAX_IOC_LENGTH
    with pytest.raises(IocError):
        parse_ioc(raw, "url")


@pytest.mark.parametrize("value", [None, 42, b"1.2.3.4", ["1.2.3.4"]])
def test_non_text_values_are_rejected(value):
    with pytest.raises(IocError, match="must be text"):
        parse_ioc(value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ipv4", "ipv4"),
        ("IPv4", "ipv4"),
        (" SHA256 ", "sha256"),
        ("SHA-256", "sha256"),
        ("sha-1", "sha1"),
        ("File name", "filename"),
        ("e-mail", "email"),
    ],
)
def test_type_names_and_labels_are_accepted(given, expected):
    value = {"ipv4": "1.2.3.4", "sha256": SHA256, "sha1": SHA1, "filename": "a.txt", "email": "a@b.example"}
    assert parse_ioc(value[expected], given).type == expected


@pytest.mark.parametrize("ioc_type", ["hash", "ip", "sha512", 3])
def test_unknown_types_are_rejected(ioc_type):
    with pytest.raises(IocError, match="IOC type"):
        parse_ioc("1.2.3.4", ioc_type)


@pytest.mark.parametrize("ioc_type", [None, "", "auto", "AUTO"])
def test_auto_type_spellings(ioc_type):
    assert parse_ioc("1.2.3.4", ioc_type) == Ioc("ipv4", "1.2.3.4")


# --------------------------------------------------------------------------------------- auto-typing

AUTO = [
    # ip addresses; broken dotted numbers never become domains
    ("1.2.3.4", "ipv4"),
    ("1[.]2[.]3[.]4", "ipv4"),
    (" 192.0.2.1\n", "ipv4"),
    ("1.2.3.256", "other"),
    ("010.1.1.1", "other"),
    ("1.2.3", "other"),
    ("1.2.3.4.5", "other"),
    ("1.5", "other"),
    ("2001:db8::1", "ipv6"),
    ("2001:DB8:0:0::1", "ipv6"),
    ("[2001:db8::1]", "ipv6"),
    ("2001:db8[:]:1", "ipv6"),
    ("::1", "ipv6"),
    ("fe80::1%eth0", "other"),
    # clock times are not IPv6
    ("12:30", "other"),
    ("9:05", "other"),
    ("12:30:45", "other"),
    ("23:59:59.123", "other"),
    ("1.2.3.4:80", "other"),
    # domains
    ("EVIL.COM", "domain"),
    ("evil.example.", "domain"),
    ("example[.]com", "domain"),
    ("example(.)com", "domain"),
    ("example[dot]com", "domain"),
    ("bücher.example", "domain"),
    ("xn--bcher-kva.example", "domain"),
    ("notion.so", "domain"),
    ("allegro.pl", "domain"),
    ("project.web.app", "domain"),
    ("anthropic.ai", "domain"),
    ("_dmarc.example.com", "domain"),
    ("evil.com:443", "other"),
    ("localhost", "other"),
    ("*.evil.com", "other"),
    # file names: never a domain, whatever the TLD list says
    ("evil.exe", "filename"),
    ("invoice.pdf", "filename"),
    ("payload.exe", "filename"),
    ("run.ps1", "filename"),
    ("report.docx", "filename"),
    ("a.js", "filename"),
    ("archive.zip", "filename"),
    ("setup.msi", "filename"),
    ("lib.dll", "filename"),
    ("x.sh", "filename"),
    ("clip.mov", "filename"),
    ("script.py", "filename"),
    ("notes.one", "filename"),
    ("data.tar.gz", "filename"),
    ("EVIL.EXE", "filename"),
    ("invoice.pdf.exe", "filename"),
    ("evil.com.exe", "filename"),
    ("Invoice 2024.PDF", "filename"),
    ("icon@2x.png", "filename"),
    ("invoice[.]pdf", "filename"),
    (".exe", "other"),
    ("README", "other"),
    (r"C:\Users\x\evil.exe", "other"),
    ("/tmp/x.sh", "other"),
    ("dir/evil.exe", "other"),
    ("C:evil.exe", "other"),
    # urls
    ("https://evil.example/x", "url"),
    ("hxxps://evil[.]example/x", "url"),
    ("hXXp://1.2.3.4/", "url"),
    ("fxp://files.example/", "url"),
    ("http://", "other"),
    ("http://evil .example/", "other"),
    ("javascript://x", "other"),
    ("evil.example/path", "other"),
    # email
    ("user@example.com", "email"),
    ("user[@]example.com", "email"),
    ("user[at]example[dot]com", "email"),
    ("user@localhost", "other"),
    ("@handle", "other"),
    ("user@evil.zip", "filename"),  # the file-extension rule wins over email too
    # hashes
    (MD5, "md5"),
    (MD5.upper(), "md5"),
    (SHA1, "sha1"),
    (SHA256.upper(), "sha256"),
    (MD5[:-1], "other"),
    (SHA256 + "a", "other"),
    ("0" * 32, "md5"),
    ("deadbeef", "other"),
    # other
    ("", "other"),
    ("   ", "other"),
    ("hello world", "other"),
    ("abc123", "other"),
    ("x" * 3000, "other"),
    ("a\x00b", "other"),
    ("HKLM\\Software\\Run", "other"),
]


@pytest.mark.parametrize(("raw", "expected"), AUTO)
def test_detect_type(raw, expected):
    assert detect_type(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [(raw, t) for raw, t in AUTO if raw.strip() and len(raw) < 2048])
def test_auto_parse_agrees_with_detect_type(raw, expected):
    if expected == "other" and "\x00" in raw:
        with pytest.raises(IocError, match="U\\+0000"):
            parse_ioc(raw)
        return
    if raw in BROKEN_BUT_RECOGNISABLE:
        return  # detected as other, but parsing reports the typo (test_auto_parse_reports_broken_addresses)
    assert parse_ioc(raw).type == expected


BROKEN_BUT_RECOGNISABLE = ("1.2.3.256", "010.1.1.1", "http://", "http://evil .example/")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1.2.3.256", "IPv4 address.*0-255"),
        ("010.1.1.1", "IPv4 address.*leading zeros"),
        ("http://", "URL.*host is missing"),
        ("http://evil .example/", "URL"),
    ],
)
def test_auto_parse_reports_broken_addresses(raw, reason):
    with pytest.raises(IocError, match=reason):
        parse_ioc(raw)


@pytest.mark.parametrize("value", [None, 42, b"abc"])
def test_detect_type_never_raises_on_non_text(value):
    assert detect_type(value) == "other"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("EVIL.COM", Ioc("domain", "evil.com")),
        ("1.2.3", Ioc("other", "1.2.3")),
        ("12:30", Ioc("other", "12:30")),
        ("evil.exe", Ioc("filename", "evil.exe")),
        (MD5.upper(), Ioc("md5", MD5)),
        ("hxxps://EVIL[.]example/Path", Ioc("url", "https://evil.example/Path")),
    ],
)
def test_auto_parse(raw, expected):
    assert parse_ioc(raw) == expected


def test_idn_has_one_canonical_form():
    spellings = [
        "bücher.example",
        "BÜCHER.EXAMPLE",
        "xn--bcher-kva.example",
        "XN--BCHER-KVA.EXAMPLE.",
        "bücher[.]example",
        "bücher。example",
    ]
    assert {parse_ioc(spelling) for spelling in spellings} == {Ioc("domain", "xn--bcher-kva.example")}
    assert {parse_ioc(spelling, "domain") for spelling in spellings} == {Ioc("domain", "xn--bcher-kva.example")}
    assert parse_ioc("https://bücher.example/x").value == parse_ioc("https://xn--bcher-kva.example/x").value
    assert parse_ioc("a@BÜCHER.example").value == parse_ioc("a@xn--bcher-kva.example").value


def test_hash_case_is_normalised():
    assert parse_ioc(SHA256.upper()) == parse_ioc(SHA256) == Ioc("sha256", SHA256)
    assert len(parse_iocs([MD5, MD5.upper(), {"type": "md5", "value": MD5.title()}])) == 1


# ---------------------------------------------------------------------------------------- refanging


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hxxp://evil.example", "http://evil.example"),
        ("hxxps://evil.example", "https://evil.example"),
        ("hXXps://evil.example", "https://evil.example"),
        ("HXXP://evil.example", "http://evil.example"),
        ("hxtp://evil.example", "http://evil.example"),
        ("fxp://files.example", "ftp://files.example"),
        ("hxxps[:]//evil.example", "https://evil.example"),
        ("https[:]//evil.example", "https://evil.example"),
        ("http[://]evil.example", "http://evil.example"),
        ("https://evil.example[/]x", "https://evil.example/x"),
        ("1[.]2[.]3[.]4", "1.2.3.4"),
        ("1[.]2.3[.]4", "1.2.3.4"),
        ("example[.]com", "example.com"),
        ("example(.)com", "example.com"),
        ("example{.}com", "example.com"),
        ("example[dot]com", "example.com"),
        ("example(dot)com", "example.com"),
        ("example[DOT]com", "example.com"),
        ("example [dot] com", "example.com"),
        ("example[ . ]com", "example.com"),
        ("user[@]example.com", "user@example.com"),
        ("user(@)example.com", "user@example.com"),
        ("user[at]example.com", "user@example.com"),
        ("user [AT] example [dot] com", "user@example.com"),
        ("2001:db8[:]:1", "2001:db8::1"),
        ("see hxxp://evil[.]example now", "see http://evil.example now"),
        ('"hxxps://evil.example"', '"https://evil.example"'),
    ],
)
def test_refang(raw, expected):
    assert refang(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "http://example.com/path",
        "example.com",
        "1.2.3.4",
        "[2001:db8::1]",
        "http://[::1]/",
        "[::]",
        "myhxxp://example.com",
        "http://example.com/?u=hxxp://evil.example",
        "http://example.com/hxxp://x",
        "hxxp",
        "hxxp:/example",
        r"C:\Users\x\.ssh\id_rsa",
        "file[1].txt",
        "array[0]",
        "a.dot.at.com",
        "dot at",
        "invoice.pdf",
        MD5,
    ],
)
def test_refang_leaves_legitimate_text_alone(text):
    assert refang(text) == text


# ---------------------------------------------------------------------------------------- defanging

DEFANG = [
    ("ipv4", "1.2.3.4", "1.2.3[.]4"),
    ("ipv6", "2001:db8::1", "2001[:]db8::1"),
    ("ipv6", "::1", "[:]:1"),
    ("domain", "evil.example", "evil[.]example"),
    ("domain", "www.evil.example", "www.evil[.]example"),
    ("url", "https://evil.example/x", "hxxps://evil[.]example/x"),
    ("url", "http://evil.example", "hxxp://evil[.]example"),
    ("url", "ftp://files.example/a.zip", "fxp://files[.]example/a.zip"),
    ("url", "http://1.2.3.4:8080/a.b", "hxxp://1.2.3[.]4:8080/a.b"),
    ("url", "http://[2001:db8::1]/", "hxxp://[2001:db8::1]/"),
    ("url", "http://user@evil.example/", "hxxp://user@evil[.]example/"),
    ("email", "user@evil.example", "user[@]evil[.]example"),
    ("md5", MD5, MD5),
    ("sha1", SHA1, SHA1),
    ("sha256", SHA256, SHA256),
    ("filename", "invoice.pdf", "invoice.pdf"),
    ("filename", "evil.com", "evil.com"),
    ("other", "some.thing", "some.thing"),
]


@pytest.mark.parametrize(("ioc_type", "value", "expected"), DEFANG)
def test_defang(ioc_type, value, expected):
    assert defang(ioc_type, value) == expected
    ioc = Ioc(ioc_type, value)
    assert ioc.defanged == expected
    # defanged text goes back to the same IOC
    assert refang(expected) == value
    assert parse_ioc(expected, ioc_type) == ioc


def test_defang_does_not_defang_twice():
    assert defang("ipv4", "1.2.3[.]4") == "1.2.3[.]4"
    assert defang("url", "hxxps://evil[.]example/x") == "hxxps://evil[.]example/x"


def test_defang_auto_type():
    assert defang("auto", "evil.example") == "evil[.]example"


# ------------------------------------------------------------------------------------------ Ioc class


def test_ioc_to_dict_and_label():
    ioc = parse_ioc(SHA256.upper())
    assert ioc.to_dict() == {"type": "sha256", "value": SHA256}
    assert ioc.label == "SHA-256"
    assert parse_ioc(ioc.to_dict()["value"], ioc.to_dict()["type"]) == ioc


def test_ioc_is_frozen_and_hashable():
    ioc = Ioc("domain", "evil.example")
    with pytest.raises(AttributeError):
        ioc.value = "x"  # type: ignore[misc]
    assert {ioc, Ioc("domain", "evil.example")} == {ioc}


def test_ioc_rejects_unknown_type():
    with pytest.raises(IocError):
        Ioc("hash", "abc")


# ----------------------------------------------------------------------------------------- parse_iocs


def test_parse_iocs_accepts_mixed_items_and_deduplicates_in_order():
    items = [
        "EVIL.example",
        {"type": "ipv4", "value": "1[.]2[.]3[.]4"},
        {"type": "domain", "value": "evil[.]example"},
        Ioc("domain", "EVIL.EXAMPLE"),
        {"value": "evil.example."},
        {"type": None, "value": MD5.upper()},
        {"type": "auto", "value": MD5},
        "1.2.3.4",
        {"type": "filename", "value": "evil.example"},  # same value, other type: kept
    ]
    assert parse_iocs(items) == [
        Ioc("domain", "evil.example"),
        Ioc("ipv4", "1.2.3.4"),
        Ioc("md5", MD5),
        Ioc("filename", "evil.example"),
    ]


def test_parse_iocs_takes_any_iterable():
    assert parse_iocs(value for value in ["1.2.3.4", "1.2.3.4"]) == [Ioc("ipv4", "1.2.3.4")]
    assert parse_iocs([]) == []
    assert parse_iocs(None) == []


def test_parse_iocs_round_trips_to_dict():
    iocs = parse_iocs(["evil.example", "hxxp://evil[.]example/x", "a@b.example", "invoice.pdf"])
    assert parse_iocs([ioc.to_dict() for ioc in iocs]) == iocs


@pytest.mark.parametrize(
    ("items", "position", "fragment"),
    [
        (["1.2.3.4", ""], 2, "empty"),
        (["1.2.3.4", "evil.example", {"type": "ipv4", "value": "1.2.3.256"}], 3, "0-255"),
        ([{"type": "md5", "value": "abc"}, ""], 1, "MD5"),
        (["a.example", {"type": "ipv4"}], 2, "'value'"),
        (["a.example", {"type": "bogus", "value": "x"}], 2, "IOC type"),
        (["a.example", 42], 2, "not int"),
        (["a.example", None], 2, "not NoneType"),
        (["a.example", {"type": "url", "value": None}], 2, "must be text"),
        ([Ioc("ipv4", "999.1.1.1")], 1, "IPv4"),
    ],
)
def test_parse_iocs_names_the_first_bad_position(items, position, fragment):
    with pytest.raises(IocError) as caught:
        parse_iocs(items)
    message = str(caught.value)
    assert message.startswith(f"IOC #{position}: ")
    assert fragment in message
    assert caught.value.position == position


@pytest.mark.parametrize("items", ["1.2.3.4", b"1.2.3.4", {"type": "ipv4", "value": "1.2.3.4"}, Ioc("ipv4", "1.2.3.4")])
def test_parse_iocs_rejects_a_single_item(items):
    with pytest.raises(TypeError):
        parse_iocs(items)


# ------------------------------------------------------------------------- property tests (optional)

if importlib.util.find_spec("hypothesis") is not None:
    import ipaddress

    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.provisional import domains

    def _plain_domain(name: str) -> bool:
        # hypothesis may produce labels like "ab--cd"/"xn--..." below the TLD: keep to ordinary ones
        return not any(label[2:4] == "--" for label in name.split(".")[:-1])

    @settings(database=None)
    @given(st.text(max_size=300))
    def test_property_detect_type_never_raises_and_parse_agrees(text):
        detected = detect_type(text)
        assert detected in IOC_TYPES
        try:
            ioc = parse_ioc(text)
        except IocError:
            return
        assert ioc.type == detected
        assert parse_ioc(ioc.value, ioc.type) == ioc

    @settings(database=None)
    @given(st.text(max_size=200), st.sampled_from(IOC_TYPES))
    def test_property_parse_ioc_only_raises_ioc_error(text, ioc_type):
        try:
            ioc = parse_ioc(text, ioc_type)
        except IocError:
            return
        assert ioc.type == ioc_type
        assert parse_ioc(ioc.value, ioc_type) == ioc

    @settings(database=None)
    @given(st.ip_addresses())
    def test_property_ip_addresses(address):
        ioc = parse_ioc(str(address))
        assert ioc.type == f"ipv{address.version}"
        assert ipaddress.ip_address(ioc.value) == address
        assert refang(ioc.defanged) == ioc.value

    @settings(database=None)
    @given(domains().filter(_plain_domain))
    def test_property_domains(name):
        ioc = parse_ioc(name, "domain")
        assert ioc.value == name.lower()
        assert refang(ioc.defanged) == ioc.value
        assert parse_ioc(ioc.defanged, "domain") == ioc

    @settings(database=None)
    @given(domains().filter(_plain_domain), st.text("abcXYZ019/._-~%?=&", max_size=40))
    def test_property_urls(name, path):
        ioc = parse_ioc(f"hxxps://{name}/{path}", "url")
        assert ioc.value == f"https://{name.lower()}/{path}"
        assert parse_ioc(ioc.defanged, "url") == ioc

    @settings(database=None)
    @given(
        st.binary(min_size=16, max_size=16) | st.binary(min_size=20, max_size=20) | st.binary(min_size=32, max_size=32)
    )
    def test_property_hashes(digest):
        ioc = parse_ioc(digest.hex().upper())
        assert ioc.type == {16: "md5", 20: "sha1", 32: "sha256"}[len(digest)]
        assert ioc.value == digest.hex()
