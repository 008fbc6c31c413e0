"""The VERIS (VCDB) parser: the SourceRecords read from the project's fixtures and the real VCDB files, the
incident date's precision, the primary ATT&CK technique rule, errors and format detection."""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from core import attack
from core.importers import veris
from core.importers.base import SourceRecord, UnreadableInput
from tests.conftest import skip_or_fail

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
YEAR_ONLY = FIXTURES / "veris_year_only.json"
MONTH = FIXTURES / "veris_month.json"
REALDATA = Path(__file__).resolve().parents[3].parent / "shared" / "realdata"
VCDB = REALDATA / "vcdb"
SHARED_MAPPING = REALDATA / "veris_attack_mapping" / "veris1_3_7-mappings-enterprise.csv"


def head(path: Path) -> str:
    with path.open("rb") as handle:
        return handle.read(65536).decode("utf-8", errors="replace")


def only(path: Path) -> SourceRecord:
    items = list(veris.parse(path))
    assert len(items) == 1 and isinstance(items[0], SourceRecord), items
    return items[0]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, record) -> Path:
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return path


# --- the shipped fixtures -------------------------------------------------------------------------------


def test_year_only_record():
    record = only(YEAR_ONLY)
    assert record.location == "veris_year_only.json (5f0c3a9e-1b2d-4c6e-9f10-2a3b4c5d6e7f)"
    assert (record.source_system, record.source_ref) == ("veris", "5f0c3a9e-1b2d-4c6e-9f10-2a3b4c5d6e7f")
    assert record.source_siem == "VERIS Community Database"
    assert (record.severity, record.status) == (None, "closed")  # written after the fact: over
    assert record.classification == "Suspected"
    assert record.created == "2021-01-01"
    assert "incident date known to the year only" in record.notes
    assert (record.acknowledged, record.resolved, record.closed, record.updated) == (None, None, None, None)
    assert record.iocs == [] and record.history == [] and record.assignee is None
    # victim "Unknown" is left out of the title; `Unknown` varieties are dropped
    assert (
        record.title == "Hacking (Use of stolen creds) + Social (Phishing) — Possible confidentiality breach, Integrity"
    )
    assert record.assets == ["S - Web application", "P - End-user"]  # "S - Unknown" dropped
    assert record.raw == load(YEAR_ONLY)


def test_description_keeps_the_summary_in_any_script_and_a_few_facts():
    record = only(YEAR_ONLY)
    summary = load(YEAR_ONLY)["summary"]
    assert record.description.startswith(summary)
    assert "日本語の要約" in record.description and "<img src=x onerror=alert(1)>" in record.description
    facts = record.description[len(summary) :].strip().splitlines()
    assert facts == [
        "Actor: External (Organized crime; motive Financial)",
        "Hacking vector: Web application",
        "Social vector: Email",
        "Data: Credentials; disclosed: Potentially",
        "Reference: https://news.example.org/2021/credential-phishing-at-a-regional-council",
    ]  # no "Victim:" line: country Unknown, industry 000, employee count Unknown


def test_month_record():
    record = only(MONTH)
    assert record.source_ref == "a7e4d2c0-6b1f-11ee-8c99-0242ac120002"
    assert record.created == "2023-02-01"
    assert "incident date known to the month only" in record.notes
    assert record.title == (
        "Malware (Ransomware) at Example Regional Clinic — Confidentiality, Integrity (Software installation), "
        "Availability (Obscuration)"
    )
    assert record.classification == "Confirmed"
    assert record.assets == ["S - File", "U - Desktop"]
    lines = record.description.splitlines()
    assert "Discovered by: Internal (Reported by employee)" in lines
    assert "Data: Medical (2,400 records)" in lines
    assert "Victim: US; OR; industry NAICS 621111; 101 to 1000 employees" in lines
    assert "VERIS confidence: Medium" in lines


def test_a_file_name_other_than_the_incident_id_is_noted():
    record = only(MONTH)
    notes = [n for n in record.notes if n.startswith("file name")]
    assert notes == [
        "file name veris_month.json differs from the incident_id a7e4d2c0-6b1f-11ee-8c99-0242ac120002 (the source_ref)"
    ]


def test_file_named_after_master_id_and_upper_case_extension(tmp_path):
    data = load(MONTH)
    named_after_master = save(tmp_path / f"{data['plus']['master_id'].upper()}.JSON", data)
    record = only(named_after_master)
    assert record.source_ref == data["incident_id"]
    assert any(n.endswith("the file is named after plus.master_id") for n in record.notes)
    named_after_id = save(tmp_path / f"{data['incident_id']}.JSON", data)
    assert not any(n.startswith("file name") for n in only(named_after_id).notes)


# --- dates ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("incident", "created", "note"),
    [
        ({"year": 2010, "month": 4, "day": 9}, "2010-04-09", None),
        ({"year": 2010, "month": 4}, "2010-04-01", "incident date known to the month only"),
        ({"year": "2014"}, "2014-01-01", "incident date known to the year only"),
        ({"year": 2019, "month": 2, "day": 30}, "2019-02-01", "incident date known to the month only (day 30"),
        ({"year": 2019, "month": 13}, "2019-01-01", "incident date known to the year only (month 13"),
        ({"year": "Unknown"}, None, "no incident year in timeline.incident"),
        ({}, None, "no incident year in timeline.incident"),
    ],
)
def test_incident_date_precision(tmp_path, incident, created, note):
    data = load(MONTH)
    data["timeline"]["incident"] = incident
    record = only(save(tmp_path / f"{data['incident_id']}.json", data))
    assert record.created == created
    date_notes = [n for n in record.notes if n.startswith(("incident date", "no incident"))]
    if note is None:
        assert date_notes == []
    else:
        assert len(date_notes) == 1 and date_notes[0].startswith(note)


# --- the primary ATT&CK technique -----------------------------------------------------------------------


def with_actions(action: dict) -> dict:
    data = copy.deepcopy(load(MONTH))
    data["action"] = action
    return data


def test_most_specific_variety_wins():
    choice = veris.primary_technique(with_actions({"malware": {"variety": ["Ransomware"], "vector": ["Email"]}}))
    assert (choice.technique_id, choice.veris_path) == ("T1486", "action.malware.variety.Ransomware")
    record = only(MONTH)
    assert (record.techniques, record.tactics) == (["T1486"], ["Impact"])
    assert any("ATT&CK T1486 chosen from VERIS action.malware.variety.Ransomware" in n for n in record.notes)


def test_a_variety_wins_over_a_more_specific_vector():
    # hacking.vector.Web application maps to one technique, Brute force to five: the variety still wins
    action = {"hacking": {"variety": ["Brute force"], "vector": ["Web application"]}}
    choice = veris.primary_technique(with_actions(action))
    assert choice.technique_id == "T1110"  # the parent, before T1110.001-.004
    assert choice.candidates == 6


def test_techniques_several_values_agree_on_and_parents_come_first():
    # Phishing (14 techniques) and the vector Email (8) share T1566 and its sub-techniques, and T1204's
    choice = veris.primary_technique(with_actions({"social": {"variety": ["Phishing"], "vector": ["Email"]}}))
    assert choice.technique_id == "T1566"
    record = only(YEAR_ONLY)
    assert (record.techniques, record.tactics) == (["T1566"], ["Initial Access"])


def test_a_vector_alone_is_used_and_tactics_only_when_unambiguous(tmp_path):
    data = with_actions({"hacking": {"variety": ["Unknown"], "vector": ["Web application"]}})
    record = only(save(tmp_path / f"{data['incident_id']}.json", data))
    assert record.techniques == ["T1056.003"]
    assert len(attack.tactics_for("T1056.003")) > 1
    assert record.tactics == []


@pytest.mark.parametrize(
    "action",
    [
        {"error": {"variety": ["Misconfiguration"], "vector": ["Carelessness"]}},
        {"misuse": {"variety": ["Privilege abuse"], "vector": ["LAN access"]}},
        {"physical": {"variety": ["Theft"], "vector": ["Unknown"]}},
        {"hacking": {"variety": ["Unknown"], "vector": ["Unknown"]}},  # Unknown means empty
        {},
    ],
)
def test_no_technique_when_nothing_maps(tmp_path, action):
    data = with_actions(action)
    assert veris.primary_technique(data) is None
    record = only(save(tmp_path / f"{data['incident_id']}.json", data))
    assert (record.techniques, record.tactics) == ([], [])
    assert not any(n.startswith("ATT&CK") for n in record.notes)


def test_a_current_technique_is_preferred_to_a_deprecated_one():
    # Disable controls maps to T1562 and sub-techniques deprecated in ATT&CK v19, and to current ones
    choice = veris.primary_technique(with_actions({"hacking": {"variety": ["Disable controls"]}}))
    known = attack.technique(choice.technique_id)
    assert not (known.deprecated or known.revoked)


def test_the_rule_is_deterministic_whatever_the_order_of_values():
    one = {"hacking": {"variety": ["Use of stolen creds", "Brute force"]}, "malware": {"variety": ["C2"]}}
    two = {"malware": {"variety": ["C2"]}, "hacking": {"variety": ["Brute force", "Use of stolen creds"]}}
    assert veris.primary_technique(with_actions(one)) == veris.primary_technique(with_actions(two))


def test_the_shipped_mapping_is_known_to_the_catalog_and_matches_the_source():
    with veris.MAPPING_PATH.open(encoding="utf-8", newline="") as handle:
        rows = [(r["veris_path"], r["technique_id"]) for r in csv.DictReader(handle)]
    assert len(rows) == 1092
    assert all(attack.technique(tid) is not None for _, tid in rows)
    if not SHARED_MAPPING.is_file():
        skip_or_fail(f"the shared VERIS mapping is absent ({SHARED_MAPPING})")
    with SHARED_MAPPING.open(encoding="utf-8-sig", newline="") as handle:
        source = [(r["VERIS PATH"].strip(), r["TECHNIQUE ID"].strip()) for r in csv.DictReader(handle)]
    assert rows == source


# --- errors, arrays and detection -----------------------------------------------------------------------


def test_an_array_of_records_yields_one_item_each(tmp_path):
    good = load(MONTH)
    no_id = {k: v for k, v in load(YEAR_ONLY).items() if k != "incident_id"}
    items = list(veris.parse(save(tmp_path / "bulk.json", [good, "not a record", no_id])))
    assert isinstance(items[0], SourceRecord) and items[0].location == f"bulk.json[0] ({good['incident_id']})"
    assert not any(n.startswith("file name") for n in items[0].notes)  # a bulk file is named for no record
    assert [(e.location, e.reason) for e in items[1:]] == [
        ("bulk.json[1]", "not a VERIS record (JSON str)"),
        ("bulk.json[2]", "the record has no incident_id"),
    ]


def test_values_of_an_unexpected_shape_are_left_out(tmp_path):
    data = load(MONTH)
    data["action"] = {"malware": {"variety": [{"nested": "object"}]}}
    data["asset"] = {"assets": "S - File"}
    record = only(save(tmp_path / "odd.json", data))  # values of another shape are left out, not stringified
    assert record.title.startswith("Malware at Example Regional Clinic")
    assert (record.assets, record.techniques) == ([], [])
    data["victim"] = {"victim_id": ["A", "B"]}
    data["timeline"] = "2020"
    record = only(save(tmp_path / "odder.json", data))
    assert record.title.startswith("Malware — ")
    assert record.created is None and "no incident year in timeline.incident" in record.notes


def test_a_long_title_is_cut_to_200_characters(tmp_path):
    data = load(MONTH)
    data["victim"]["victim_id"] = "Very Long Organisation Name " * 12
    record = only(save(tmp_path / "long.json", data))
    assert len(record.title) == 200 and record.title.endswith("…")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"id": 1, "name": "x"}', "without VERIS keys"),
        (b"[1, 2]", "without VERIS records"),
        (b'"text"', "not a VERIS record"),
        (b'{"incident_id": "\xff"}', "not UTF-8"),
    ],
)
def test_unreadable_inputs(tmp_path, content, message):
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(UnreadableInput, match=message):
        list(veris.parse(path))


def test_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(UnreadableInput, match="no such file"):
        list(veris.parse(tmp_path / "absent.json"))


def test_looks_like():
    assert veris.looks_like(YEAR_ONLY, head(YEAR_ONLY))
    assert veris.looks_like(MONTH, head(MONTH))
    assert not veris.looks_like(Path("x.json"), '{"incidents": [{"id": 1}]}')
    assert not veris.looks_like(Path("x.csv"), "number,incident_state,action,timeline,incident_id\n")
    assert not veris.looks_like(Path("x.ndjson"), '{"reply": {"incidents": []}}\n')


# --- the real VCDB files --------------------------------------------------------------------------------


def real_files() -> list[Path]:
    if not VCDB.is_dir():
        skip_or_fail(f"the real VCDB files are absent ({VCDB})")
    return sorted(VCDB.iterdir())


def test_real_vcdb_files():
    files = real_files()
    assert len(files) == 16
    records = []
    for path in files:
        assert veris.looks_like(path, head(path)), path.name
        items = list(veris.parse(path))
        assert len(items) == 1 and isinstance(items[0], SourceRecord), (path.name, items)
        records.append((path, items[0]))
    for path, record in records:
        data = load(path)
        assert record.source_ref == data["incident_id"]
        assert record.title and len(record.title) <= 200
        assert record.created is not None and record.created[:4] == str(data["timeline"]["incident"]["year"])
        assert record.raw == data
        assert (record.severity, record.status) == (None, "closed")
        differs = path.stem.lower() != data["incident_id"].lower()
        assert differs == any(n.startswith("file name") for n in record.notes), path.name
    by_ref = {r.source_ref: r for _, r in records}
    assert sum(1 for p, r in records if p.stem.lower() != r.source_ref.lower()) == 11
    va = by_ref["0001AA7F-C601-424A-B2B8-BE6C9F5164E7"]
    assert va.title.startswith("Misuse (Privilege abuse) at United States Department of Veterans Affairs — ")
    assert (va.created, va.techniques) == ("2010-04-09", [])
    mc2 = by_ref["adb23ac0-a063-11ef-859f-c58fde63a385"]  # the file is 01034482-....JSON
    assert mc2.created == "2024-08-01" and "incident date known to the month only" in mc2.notes
    ransomware = by_ref["20cfe670-0c8d-11eb-ac0d-91a70ee1d655"]
    assert (ransomware.techniques, ransomware.tactics) == (["T1486"], ["Impact"])
    chosen = {r.source_ref: r.techniques for _, r in records if r.techniques}
    print("\nVCDB primary techniques:", chosen)
    assert len(chosen) == 7  # errors, misuse and physical theft map to nothing
