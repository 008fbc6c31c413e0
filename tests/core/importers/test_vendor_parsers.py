"""The vendor parsers (Cortex XDR, Sentinel, Defender, Splunk ES): the SourceRecords they read from the project's
fixtures and from the real files in ../shared/realdata, and format detection with `looks_like`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.importers import cortex_xdr, defender, sentinel, splunk_es
from core.importers.base import RecordError, SourceRecord, UnreadableInput
from tests.conftest import skip_or_fail

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
REALDATA = Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
VENDOR = REALDATA / "vendor"

PARSERS = {"cortex_xdr": cortex_xdr, "sentinel": sentinel, "defender": defender, "splunk_es": splunk_es}
FIXTURE_FILES = {
    "cortex_xdr": FIXTURES / "cortex_xdr.ndjson",
    "sentinel": FIXTURES / "sentinel.ndjson",
    "defender": FIXTURES / "defender.ndjson",
    "splunk_es": FIXTURES / "splunk_es_notable.json",
}
REAL_FILES = {
    "cortex_xdr": VENDOR / "cortex_xdr" / "incidents.ndjson",
    "sentinel": VENDOR / "microsoft_sentinel" / "incidents.ndjson",
    "defender": VENDOR / "m365_defender" / "incidents.ndjson",
    "splunk_es": VENDOR / "splunk_es" / "notable.json",
}


def head(path: Path) -> str:
    """What format detection sees: the first 64 KiB as text."""
    with path.open("rb") as handle:
        return handle.read(65536).decode("utf-8", errors="replace")


def read(module, path: Path) -> tuple[list[SourceRecord], list[RecordError]]:
    items = list(module.parse(path))
    assert all(isinstance(i, SourceRecord | RecordError) for i in items)
    return [i for i in items if isinstance(i, SourceRecord)], [i for i in items if isinstance(i, RecordError)]


@pytest.fixture
def realdata() -> Path:
    if not VENDOR.is_dir():
        skip_or_fail(f"real data not found at {REALDATA}")
    return VENDOR


def by_ref(records: list[SourceRecord]) -> dict[str, SourceRecord]:
    return {r.source_ref: r for r in records}


def ioc_values(record: SourceRecord) -> list[str]:
    return [i["value"] if isinstance(i, dict) else i for i in record.iocs]


# ------------------------------------------------------------------------------------------ Cortex XDR


def test_cortex_fixture():
    records, errors = read(cortex_xdr, FIXTURE_FILES["cortex_xdr"])
    assert [r.source_ref for r in records] == ["1201", "1202", "1203"]  # the empty envelope yields nothing
    assert len(errors) == 1 and errors[0].location == "cortex_xdr.ndjson:3" and "not valid JSON" in errors[0].reason
    scan, fp, exfil = records

    assert scan.source_system == "cortex_xdr" and scan.source_siem == "Palo Alto Cortex XDR"
    assert scan.title == "Port Scan"  # the first alert name of the generated description
    assert scan.severity == "high"  # manual_severity wins over severity "low"
    assert any("computed: low" in n for n in scan.notes)
    assert scan.status == "new" and scan.classification is None
    assert scan.tactics == ["TA0007 - Discovery", "TA0043 - Reconnaissance"]
    assert scan.techniques == ["T1046 - Network Service Discovery"]
    assert scan.assets == ["web01", "corp\\svc_web"]  # the agent id is dropped
    assert scan.created == 1767261600000 and scan.updated == 1767265200000 and scan.resolved is None
    assert "Incident sources: XDR Analytics" in scan.notes
    assert "Alerts: 3 (1 medium, 2 low)" in scan.notes
    assert "Cortex XDR: https://tenant.xdr.example.com/incident-view?caseId=1201" in scan.notes
    assert "Tags: DS:PANW/XDR Agent" in scan.notes
    assert scan.raw["incident_id"] == "1201"

    assert fp.status == "resolved_false_positive" and fp.classification is None  # the normaliser derives it
    assert fp.resolution == "Signed internal build tool, allow-listed"
    assert fp.resolved == 1767351600000
    assert fp.tactics == [] and fp.techniques == []  # null MITRE lists
    assert fp.assignee == "ana.lyst@example.com"  # the mail before the pretty name
    assert fp.assets == ["build01", "build02", "corp\\builder"]  # without duplicates

    assert exfil.location == "cortex_xdr.ndjson:5 reply.incidents[0]"  # from a non-empty envelope
    assert exfil.title == "Exfiltration from finance share"  # incident_name
    assert exfil.description.startswith("Large uploads to an unknown cloud storage")  # manual_description
    assert exfil.description.endswith("Notes: Ticket FIN-42 opened with the data owner")
    assert any(n.startswith("Cortex XDR description: 2 'Large Upload") for n in exfil.notes)
    assert exfil.assignee == "Ana Lyst"
    assert len(exfil.techniques) == 2


def test_cortex_real(realdata):
    records, errors = read(cortex_xdr, REAL_FILES["cortex_xdr"])
    assert errors == []
    assert [r.source_ref for r in records] == ["891", "890", "883"]  # line 1 is an empty envelope
    large, powershell, wildfire = records
    assert large.title == "Large Upload (Generic)"
    assert large.severity == "low" and large.status == "new"
    assert large.tactics == ["TA0010 - Exfiltration"]
    assert large.techniques == ["T1048 - Exfiltration Over Alternative Protocol"]
    assert large.assets == ["computer1", "nt authority\\system"]
    assert large.created == 1691884712575 and large.updated == 1691971288775
    assert "Cortex XDR: https://test.xdr.eu.paloaltonetworks.com/incident-view?caseId=891" in large.notes
    assert powershell.title == "Suspicious unsigned process loads a known PowerShell module"
    assert powershell.techniques == ["T1059.001 - Command and Scripting Interpreter: PowerShell"]
    assert wildfire.title == "WildFire Malware"
    assert wildfire.tactics == [] and wildfire.techniques == []  # null in the source
    assert wildfire.assets == ["computer2", "computer3", "domain1\\user2", "domain1\\user3"]
    assert all(r.assignee is None and r.resolved is None for r in records)


def test_cortex_envelope_as_a_document(tmp_path):
    incident = json.loads(FIXTURE_FILES["cortex_xdr"].read_text().splitlines()[1])
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"reply": {"incidents": [incident, incident | {"incident_id": "7"}]}}, indent=2))
    records, errors = read(cortex_xdr, path)
    assert errors == [] and [r.source_ref for r in records] == ["1201", "7"]
    assert records[1].location == "page.json reply.incidents[1]"


def test_cortex_host_names():
    assert cortex_xdr.host_name("computer1:7a7370f8934c4e60b1e7dc5d0c8b0477") == "computer1"
    assert cortex_xdr.host_name("web01") == "web01"
    assert cortex_xdr.host_name("fe80::1") == "fe80::1"
    assert cortex_xdr.host_name(None) is None


def test_cortex_record_errors(tmp_path):
    path = tmp_path / "x.ndjson"
    path.write_text('{"incident_id": "1", "status": "new"}\n[1, 2]\n"text"\n{"foo": 1}\n\n{"reply": {"other": 1}}\n')
    records, errors = read(cortex_xdr, path)
    assert [r.source_ref for r in records] == ["1"]
    assert records[0].title == "Cortex XDR incident 1"
    assert [e.location for e in errors] == ["x.ndjson:2[0]", "x.ndjson:2[1]", "x.ndjson:3", "x.ndjson:4", "x.ndjson:6"]


# ------------------------------------------------------------------------------------------ Sentinel


def test_sentinel_fixture():
    records, errors = read(sentinel, FIXTURE_FILES["sentinel"])
    assert errors == []
    closed, active, new = records
    assert closed.source_system == "sentinel" and closed.source_siem == "Microsoft Sentinel"
    assert closed.source_ref == "501"  # incidentNumber, as a string
    assert closed.title == "Suspicious sign-in and mailbox rule"
    assert closed.severity == "High" and closed.status == "Closed" and closed.classification == "TruePositive"
    assert closed.resolution == "Confirmed with the user: password reset"
    assert "Classification reason: SuspiciousActivity" in closed.notes
    assert "Labels: BEC, VIP" in closed.notes
    assert any(n.startswith("Sentinel: https://portal.azure.com/") for n in closed.notes)
    assert closed.tactics == ["InitialAccess", "Persistence"] and closed.techniques == ["T1078", "T1137"]
    assert closed.assignee == "ana.lyst@example.com"
    assert closed.created == "2026-01-05T08:00:00Z"
    assert closed.updated == closed.closed == closed.resolved == "2026-01-05T10:30:00Z"

    assert active.status == "Active" and active.closed is None and active.resolved is None
    assert active.assignee == "bo@example.onmicrosoft.com"  # no e-mail: the user principal name
    assert active.classification is None and active.description == ""

    assert new.source_ref == "abcdefab-cdef-abcd-efab-cdefabcdefab"  # no incidentNumber: the name
    assert new.assignee is None and new.tactics == []


def test_sentinel_real(realdata):
    records, errors = read(sentinel, REAL_FILES["sentinel"])
    assert errors == [] and len(records) == 1
    (incident,) = records
    assert incident.source_ref == "3177"
    assert incident.title == "Myincident" and incident.description == "Thisisademoincident"
    assert (incident.severity, incident.status, incident.classification) == ("High", "Closed", "FalsePositive")
    assert incident.resolution == "Notamaliciousactivity"
    assert "Classification reason: InaccurateData" in incident.notes
    assert incident.tactics == ["InitialAccess", "Persistence"]
    assert incident.assignee == "john.doe@example.com"
    assert incident.created == incident.updated == incident.closed == "2019-01-01T13:15:30Z"


def test_sentinel_api_page_and_list(tmp_path):
    incidents = [json.loads(line) for line in FIXTURE_FILES["sentinel"].read_text().splitlines()]
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"value": incidents, "nextLink": None}, indent=2))
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(incidents))
    for path in (page, listed):
        records, errors = read(sentinel, path)
        assert errors == [] and [r.source_ref for r in records] == [
            "501",
            "502",
            "abcdefab-cdef-abcd-efab-cdefabcdefab",
        ]
    assert read(sentinel, page)[0][0].location == "page.json value[0]"


# ------------------------------------------------------------------------------------------ Defender


def test_defender_fixture():
    records, errors = read(defender, FIXTURE_FILES["defender"])
    assert errors == []
    phishing, hidden = records
    assert phishing.source_system == "defender" and phishing.source_siem == "Microsoft Defender XDR"
    assert phishing.source_ref == "7001"
    assert phishing.title == "Mehrstufiger Vorfall: Phishing & Ausführung auf einem Endpunkt (München)"
    assert (phishing.severity, phishing.status, phishing.classification) == ("high", "resolved", "truePositive")
    assert "Determination: malware" in phishing.notes
    assert "Tags: Phishing, München" in phishing.notes
    assert phishing.assignee == "ana.lyst@example.com"
    assert phishing.created == "2026-01-08T09:15:35.5533333Z"  # 7-digit fraction, raw
    assert phishing.updated == phishing.resolved == "2026-01-08T11:05:45.1133333Z"
    assert phishing.tactics == ["Execution", "InitialAccess"]
    assert phishing.techniques == ["T1204.002", "T1036.007", "T1566.002"]  # the union, without duplicates
    assert {
        "type": "sha256",
        "value": "89abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567",
    } in phishing.iocs
    assert {"type": "sha1", "value": "0123456789abcdef0123456789abcdef01234567"} in phishing.iocs
    assert {"type": "md5", "value": "0123456789ABCDEF0123456789ABCDEF"} in phishing.iocs
    assert {"type": "filename", "value": "Rechnung_März.pdf.exe"} in phishing.iocs
    assert {"type": "email", "value": "jürgen.müller@example.com"} in phishing.iocs  # mailbox and user: once
    assert {"type": "email", "value": "billing@invoice-update.example.net"} in phishing.iocs
    assert {"type": "domain", "value": "invoice-update.example.net"} in phishing.iocs
    values = ioc_values(phishing)
    assert "http://invoice-update.example.net/download?id=42" in values
    assert "203.0.113.77" in values and "198.51.100.23" in values
    assert "explorer.exe" not in values  # verdict noThreatsFound
    assert len(values) == len(set(values))
    assert phishing.assets == ["pc-jürgen.corp.example.com", "jürgen.müller@example.com"]
    assert phishing.comments[0] == (
        "2026-01-08T11:04:00.1234567Z",
        "ana.lyst@example.com",
        "Nutzer informiert – Passwort zurückgesetzt ✓",
    )
    assert phishing.comments[1][2] == "[Schadsoftware „Emotet“ erkannt] Quarantäne bestätigt"  # an alert's comment
    assert phishing.description.startswith("Schadsoftware „Emotet“ erkannt: Eine Datei")
    assert phishing.raw["id"] == "7001"

    # alerts as a single object, not a list
    assert hidden.tactics == ["DefenseEvasion"] and hidden.techniques == ["T1564.001"]
    assert hidden.assets == ["ws-0042"] and hidden.iocs == []
    assert hidden.resolved is None and hidden.assignee is None and hidden.classification is None


def test_defender_real(realdata):
    records, errors = read(defender, REAL_FILES["defender"])
    assert errors == [] and len(records) == 1
    (incident,) = records
    assert incident.source_ref == "2972395"
    assert incident.title.startswith("Multi-stage incident involving Initial access & Command and control")
    assert (incident.severity, incident.status, incident.classification) == ("medium", "active", "truePositive")
    assert "Determination: multiStagedAttack" in incident.notes
    assert incident.assignee == "KaiC@contoso.onmicrosoft.com"
    assert incident.created == "2021-08-13T08:43:35.5533333Z"
    assert incident.updated == "2021-09-30T09:35:45.1133333Z"
    assert incident.resolved is None
    assert incident.tactics == ["DefenseEvasion"] and incident.techniques == ["T1564.001"]
    assert incident.assets == ["tempDns"]
    assert incident.iocs == [
        {"type": "sha256", "value": "8963a19fb992ad9a76576c5638fd68292cffb9aaac29eb8285f9abf6196a7dec"},
        {"type": "sha1", "value": "5f1e8acedc065031aad553b710838eb366cfee9a"},
        {"type": "filename", "value": "MsSense.exe"},
    ]
    assert incident.comments == [("2021-09-30T12:07:37.2756993Z", "DavidS@contoso.onmicrosoft.com", "Demo incident")]
    # the real file's non-ASCII characters (U+FFFD where the source lost its bullets) survive in the raw record
    assert "\ufffd" in incident.raw["alerts"]["recommendedActions"]


def test_defender_graph_page(tmp_path):
    incidents = [json.loads(line) for line in FIXTURE_FILES["defender"].read_text(encoding="utf-8").splitlines()]
    path = tmp_path / "graph.json"
    path.write_text(json.dumps({"@odata.context": "x", "value": incidents}, ensure_ascii=False), encoding="utf-8")
    records, errors = read(defender, path)
    assert errors == [] and [r.source_ref for r in records] == ["7001", "7002"]


# ------------------------------------------------------------------------------------------ Splunk ES


def test_splunk_fixture():
    records, errors = read(splunk_es, FIXTURE_FILES["splunk_es"])
    assert errors == []
    c2, brute = records
    assert c2.source_system == "splunk_es" and c2.source_siem == "Splunk ES"
    assert c2.location == "splunk_es_notable.json[0]"
    assert c2.source_ref.endswith("@@notable@@11112222333344445555666677778888")  # event_id
    assert c2.title == "Outbound traffic from 203.0.113.50 to a known C2 server"  # $dest$ filled in
    assert c2.severity == "critical"  # urgency before severity
    assert "event severity: high" in c2.notes
    assert c2.status == "Closed" and c2.raw["status"] == "5"  # the label; the number stays in raw
    assert c2.classification == "True Positive - Suspicious Activity"
    assert c2.assignee == "ana"
    assert c2.created == "2026-01-10T14:20:05.000+00:00"
    assert c2.updated == c2.resolved == c2.closed == "1768060000"  # the review that ended it
    assert c2.assets == ["ws-17.corp.example.com", "corp\\kim"]  # masked "xxx" values left out
    assert ioc_values(c2) == [
        "203.0.113.50",
        "10.1.2.17",
        "d41d8cd98f00b204e9800998ecf8427e",
        "http://c2.example.org/gate.php",
    ]
    assert c2.tactics == ["TA0011"] and c2.techniques == ["T1071.001", "T1573"]
    assert c2.comments == [("1768060000", "ana", "Host isolated and re-imaged")]
    assert "Security domain: threat" in c2.notes

    assert brute.source_ref.endswith("99990000aaaabbbbccccddddeeeeffff")
    assert brute.title == "Brute Force Access Behavior Detected"  # rule_name when no rule_title
    assert brute.severity == "medium" and brute.status == "New"
    assert brute.classification is None  # "Undetermined" by default: not set yet
    assert brute.assignee is None  # "unassigned"
    assert brute.assets == ["root"] and brute.iocs == ["198.51.100.8"]
    assert brute.resolved is None and brute.closed is None


def test_splunk_real(realdata):
    records, errors = read(splunk_es, REAL_FILES["splunk_es"])
    assert errors == [] and len(records) == 1
    (notable,) = records
    assert notable.source_ref == "5E6DE97D-B137-47AB-8905-8C4F42998937@@notable@@e4f07602f507975e9f7ba47c4ae0c417"
    assert notable.title == "Root user use"
    assert notable.severity == "informational" and notable.status == "New" and notable.raw["status"] == "1"
    assert notable.classification is None and notable.assignee is None
    assert notable.created == "2024-06-05T09:15:24.000+00:00"
    assert notable.assets == ["root"]  # dest, dest_ip, src_user, dvc... are masked
    assert notable.iocs == [] and notable.tactics == [] and notable.techniques == []
    assert "Event: User successfully changed UID." in notable.notes


@pytest.mark.parametrize("shape", ["object", "ndjson", "list"])
def test_splunk_shapes(tmp_path, shape):
    notables = json.loads(FIXTURE_FILES["splunk_es"].read_text())
    path = tmp_path / "notables.json"
    if shape == "object":
        path.write_text(json.dumps(notables[1], indent=4))
    elif shape == "ndjson":
        path.write_text("\n".join(json.dumps(n) for n in notables) + "\n")
    else:
        path.write_text(json.dumps(notables))
    records, errors = read(splunk_es, path)
    assert errors == []
    assert [r.title for r in records][-1] == "Brute Force Access Behavior Detected"
    assert len(records) == (1 if shape == "object" else 2)


def test_splunk_search_api_wrappers(tmp_path):
    notables = json.loads(FIXTURE_FILES["splunk_es"].read_text())
    export = tmp_path / "export.json"
    export.write_text("\n".join(json.dumps({"preview": False, "result": n}) for n in notables))
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"results": notables}, indent=1))
    for path in (export, results):
        records, errors = read(splunk_es, path)
        assert errors == [] and len(records) == 2


def test_splunk_masking():
    for masked in ("xxx", "xx", "xxx.xxx.x.x", "XXXXXXXX-XXXX-XXXX", "(xxx) xxx.xxx.x.x->xxx", "root:xxx", "???"):
        assert splunk_es.is_masked(masked), masked
    for real in ("root", "acmescout3", "10.1.2.17", "x.example.com", "box-1"):
        assert not splunk_es.is_masked(real), real


# ------------------------------------------------------------------------------------------ all parsers


@pytest.mark.parametrize("name", PARSERS)
def test_looks_like_fixtures(name):
    for other, module in PARSERS.items():
        path = FIXTURE_FILES[name]
        assert module.looks_like(path, head(path)) is (other == name), f"{other}.looks_like({path.name})"


@pytest.mark.parametrize("name", PARSERS)
def test_looks_like_real_files(realdata, name):
    for other, module in PARSERS.items():
        path = REAL_FILES[name]
        assert module.looks_like(path, head(path)) is (other == name), f"{other}.looks_like({path.name})"


def test_looks_like_rejects_other_real_data(realdata):
    others = [REALDATA / "servicenow" / "incident_event_log.csv"]
    others += sorted((REALDATA / "vcdb").glob("*"))[:5]
    others += sorted((REALDATA / "attack_v19").glob("*.csv"))
    others = [p for p in others if p.is_file()]
    assert others
    for path in others:
        for name, module in PARSERS.items():
            assert not module.looks_like(path, head(path)), f"{name}.looks_like({path.name})"


def test_looks_like_rejects_the_other_fixtures():
    """The project's other import fixtures (ServiceNow, VERIS, our own exports...) are none of these formats."""
    mine = set(FIXTURE_FILES.values())
    for path in sorted(p for p in FIXTURES.iterdir() if p.is_file() and p not in mine):
        for name, module in PARSERS.items():
            assert not module.looks_like(path, head(path)), f"{name}.looks_like({path.name})"


def test_first_line_broken(tmp_path):
    """A broken first NDJSON line is one RecordError, not an unreadable file."""
    lines = FIXTURE_FILES["cortex_xdr"].read_text().splitlines()
    path = tmp_path / "x.ndjson"
    path.write_text("\n".join(['{"incident_id": "89', lines[1], lines[3]]) + "\n")
    records, errors = read(cortex_xdr, path)
    assert [e.location for e in errors] == ["x.ndjson:1"]
    assert [(r.location, r.source_ref) for r in records] == [("x.ndjson:2", "1201"), ("x.ndjson:3", "1202")]


@pytest.mark.parametrize("name", PARSERS)
def test_unreadable_input(tmp_path, name):
    module = PARSERS[name]
    with pytest.raises(UnreadableInput):
        list(module.parse(tmp_path / "missing.json"))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage\n")
    with pytest.raises(UnreadableInput):
        list(module.parse(binary))
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "id": "1",\n  "title": \n')
    with pytest.raises(UnreadableInput):
        list(module.parse(broken))
    empty = tmp_path / "empty.json"
    empty.write_text("\n\n")
    assert list(module.parse(empty)) == []


@pytest.mark.parametrize("name", PARSERS)
def test_bad_lines_do_not_stop_the_rest(tmp_path, name):
    lines = FIXTURE_FILES[name].read_text(encoding="utf-8").splitlines()
    if name == "splunk_es":
        lines = [json.dumps(n) for n in json.loads("\n".join(lines))]
    good = [line for line in lines if line.startswith("{") and line.endswith("}")]
    path = tmp_path / "mixed.ndjson"
    path.write_bytes(
        good[0].encode() + b"\n{not json\n\xff\xfe broken bytes\n" + "\n".join(good[1:]).encode("utf-8") + b"\n"
    )
    items = list(PARSERS[name].parse(path))
    errors = [i for i in items if isinstance(i, RecordError)]
    assert [e.location for e in errors] == ["mixed.ndjson:2", "mixed.ndjson:3"]
    expected = [r.source_ref for r in read(PARSERS[name], FIXTURE_FILES[name])[0]]
    assert [i.source_ref for i in items if isinstance(i, SourceRecord)] == expected


@pytest.mark.parametrize("name", PARSERS)
def test_parse_streams(name):
    """parse is a generator: nothing is read before the first record is asked for."""
    items = PARSERS[name].parse(FIXTURE_FILES[name])
    assert iter(items) is items
    assert isinstance(next(items), SourceRecord | RecordError)
