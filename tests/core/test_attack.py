"""core.attack: the shipped ATT&CK v18.1 + v19 catalog and tactic normalisation (no database)."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest

from core import attack
from core.attack import (
    TACTICS,
    TECHNIQUE_ID_RE,
    Technique,
    all_techniques,
    normalise_tactic,
    normalise_technique_id,
    search_techniques,
    tactic_id,
    tactics_for,
    technique,
)

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
V19_CSV = REALDATA / "attack_v19" / "techniques_v19.csv"


# ---- catalog file --------------------------------------------------------------------------------------


def test_catalog_is_compact_and_has_terms():
    raw = attack.CATALOG_PATH.read_text(encoding="utf-8")
    assert len(raw.encode("utf-8")) < 1_000_000
    assert "\n " not in raw  # not indented
    header = json.loads(raw)["header"]
    assert header["versions"] == ["18.1", "19"]
    assert "terms-of-use" in header["terms"]
    assert "CC BY-SA 4.0" in header["terms"]


def test_tactic_table_matches_catalog():
    tactics = json.loads(attack.CATALOG_PATH.read_text(encoding="utf-8"))["tactics"]
    assert tuple(t["name"] for t in tactics) == TACTICS
    assert {t["name"]: t["id"] for t in tactics} == {name: tactic_id(name) for name in TACTICS}
    versions = {t["name"]: t["versions"] for t in tactics}
    assert versions["Defense Evasion"] == ["18.1"]
    assert versions["Stealth"] == versions["Defense Impairment"] == ["19"]
    assert versions["Execution"] == ["18.1", "19"]


@pytest.mark.skipif(not V19_CSV.is_file(), reason="../shared/realdata not present")
def test_catalog_v19_ids_match_source_table():
    with V19_CSV.open(encoding="utf-8", newline="") as f:
        ids = {row["attack_id"] for row in csv.DictReader(f)}
    assert {t.id for t in all_techniques() if "19" in t.versions} == ids


# ---- technique ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("T1059", "T1059"), ("t1059.001", "T1059.001"), ("  T1562.001\n", "T1562.001")],
)
def test_normalise_technique_id(raw, expected):
    assert normalise_technique_id(raw) == expected
    assert TECHNIQUE_ID_RE.match(expected)


@pytest.mark.parametrize(
    "raw",
    ["", "T123", "T12345", "T1059.1", "T1059.0001", "1059", "TA0005", "T1059/001", "T1059 - Command", "X1059"],
)
def test_malformed_ids_rejected(raw):
    with pytest.raises(ValueError, match=r"T1234 or T1234\.001"):
        normalise_technique_id(raw)
    assert technique(raw) is None
    assert tactics_for(raw) == ()


def test_unknown_but_well_formed_id():
    assert technique("T9999") is None
    assert tactics_for("T9999.999") == ()


def test_both_versions():
    t = technique("t1059.001")
    assert t == Technique(
        id="T1059.001",
        name="PowerShell",
        tactics=("Execution",),
        deprecated=False,
        revoked=False,
        replaced_by=None,
        versions=("18.1", "19"),
    )
    assert t.status_note is None
    assert t.url == "https://attack.mitre.org/techniques/T1059/001"
    assert technique("T1059").url == "https://attack.mitre.org/techniques/T1059"


def test_defense_evasion_technique_carries_both_vocabularies():
    # v18.1: Defense Evasion; v19: Stealth. Union in kill-chain order; latest name wins.
    t = technique("T1211")
    assert t.tactics == ("Defense Evasion", "Stealth")
    assert t.name == "Exploitation for Stealth"
    assert tactics_for("T1027") == ("Defense Evasion", "Stealth")


@pytest.mark.parametrize("tid", ["T1682", "T1685", "T1685.005", "T1687"])
def test_v19_only(tid):
    t = technique(tid)
    assert t is not None
    assert t.versions == ("19",)
    assert not t.deprecated and not t.revoked
    assert "Defense Evasion" not in t.tactics


def test_v19_only_tactics():
    assert tactics_for("T1685") == ("Defense Impairment",)
    assert tactics_for("T1682") == ("Reconnaissance",)
    assert technique("T1685").name == "Disable or Modify Tools"


@pytest.mark.parametrize("tid", ["T1562", "T1562.001", "T1070.001", "T1070.002"])
def test_deprecated_in_v19_flagged_and_returned(tid):
    t = technique(tid)
    assert t is not None
    assert t.versions == ("18.1",)
    assert t.deprecated and not t.revoked
    assert t.deprecated_in == "19"
    assert t.replaced_by is None  # no replacement is invented
    assert t.status_note == "deprecated in ATT&CK v19"
    assert t.tactics == ("Defense Evasion",)
    assert t in all_techniques()


def test_deprecated_in_v18():
    t = technique("T1064")  # Scripting, deprecated in the v18.1 STIX
    assert t.deprecated and not t.revoked
    assert t.deprecated_in == "18.1"
    assert t.versions == ("18.1",)
    assert "deprecated" in t.status_note


def test_revoked_with_replacement():
    t = technique("T1089")  # Disabling Security Tools, revoked by T1562.001
    assert t.revoked
    assert t.replaced_by == "T1562.001"
    assert t.status_note == "revoked; replaced by T1562.001"
    assert t.versions == ("18.1",)


def test_revoked_chain_followed_to_live_technique():
    # T1150 was revoked by T1547.011, itself revoked by T1647.
    assert technique("T1547.011").revoked
    t = technique("T1150")
    assert t.revoked and t.replaced_by == "T1647"
    assert not technique("T1647").revoked


def test_all_techniques_counts_and_order():
    techs = all_techniques()
    ids = [t.id for t in techs]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert sum("18.1" in t.versions for t in techs) == 835
    assert sum("19" in t.versions for t in techs) == 697
    assert all(t.replaced_by for t in techs if t.revoked)
    assert all(set(t.tactics) <= set(TACTICS) for t in techs)
    techs.clear()  # a copy: the catalog is unharmed
    assert all_techniques()


def test_technique_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        technique("T1059").name = "x"


# ---- search ----------------------------------------------------------------------------------------------


def test_search_by_id_prefix():
    ids = [t.id for t in search_techniques("t1562")]
    assert ids[0] == "T1562"
    assert "T1562.001" in ids
    assert all(i.startswith("T1562") for i in ids)
    assert [t.id for t in search_techniques("1059.00", limit=3)] == ["T1059.001", "T1059.002", "T1059.003"]


def test_search_by_name_case_insensitive_and_keeps_deprecated():
    results = search_techniques("disable or modify tools")
    ids = [t.id for t in results]
    assert ids == ["T1562.001", "T1685"]
    assert results[0].deprecated and not results[1].deprecated


def test_search_matches_earlier_names():
    assert "T1211" in [t.id for t in search_techniques("Exploitation for Defense Evasion")]


def test_search_id_matches_first_then_names():
    results = search_techniques("powershell", limit=50)
    assert results[0].id == "T1059.001"  # name starts with the query
    assert len(search_techniques("a", limit=5)) == 5
    assert search_techniques("") == []
    assert search_techniques("   ") == []
    assert search_techniques("T1059", limit=0) == []
    assert search_techniques("no such technique xyz") == []


# ---- tactics ---------------------------------------------------------------------------------------------


def test_tactics_tuple():
    assert TACTICS == (
        "Reconnaissance",
        "Resource Development",
        "Initial Access",
        "Execution",
        "Persistence",
        "Privilege Escalation",
        "Defense Evasion",
        "Stealth",
        "Defense Impairment",
        "Credential Access",
        "Discovery",
        "Lateral Movement",
        "Collection",
        "Command and Control",
        "Exfiltration",
        "Impact",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Defense Evasion", "Defense Evasion"),
        ("defense-evasion", "Defense Evasion"),
        ("DefenseEvasion", "Defense Evasion"),
        ("defense_evasion", "Defense Evasion"),
        ("DEFENSE EVASION", "Defense Evasion"),
        ("Defence Evasion", "Defense Evasion"),
        ("TA0005", "Defense Evasion"),
        ("ta0005", "Defense Evasion"),
        ("TA0005 - Defense Evasion", "Defense Evasion"),
        ("TA0010 - Exfiltration", "Exfiltration"),
        ("  TA0011 - Command and Control ", "Command and Control"),
        ("Stealth", "Stealth"),
        ("stealth", "Stealth"),
        ("defense-impairment", "Defense Impairment"),
        ("DefenseImpairment", "Defense Impairment"),
        ("CommandAndControl", "Command and Control"),
        ("Command & Control", "Command and Control"),
        ("command-and-control", "Command and Control"),
        ("Command and Control", "Command and Control"),
        ("InitialAccess", "Initial Access"),
        ("initial_access", "Initial Access"),
        ("PrivilegeEscalation", "Privilege Escalation"),
        ("CredentialAccess", "Credential Access"),
        ("LateralMovement", "Lateral Movement"),
        ("ResourceDevelopment", "Resource Development"),
        ("TA0043", "Reconnaissance"),
        ("TA0042 - Resource Development", "Resource Development"),
        ("Impact", "Impact"),
        ("TA0040", "Impact"),
        ("discovery", "Discovery"),
        ("COLLECTION", "Collection"),
        ("Execution", "Execution"),
        ("Persistence", "Persistence"),
    ],
)
def test_normalise_tactic(raw, expected):
    assert normalise_tactic(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["CSTA0001", "CSTA0005", "", "   ", "garbage", "PreAttack", "TA9999", "TA0005X", "Evasion", "T1059", "Malware"],
)
def test_normalise_tactic_unmappable(raw):
    assert normalise_tactic(raw) is None


def test_normalise_tactic_never_raises_on_odd_input():
    assert normalise_tactic(None) is None  # type: ignore[arg-type]
    assert normalise_tactic("\x00défense évasion") is None


def _walk(node, keys):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in keys:
                yield from (v if isinstance(v, list) else [v])
            else:
                yield from _walk(v, keys)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, keys)


@pytest.mark.skipif(not (REALDATA / "vendor").is_dir(), reason="../shared/realdata not present")
def test_real_vendor_tactic_spellings_all_map():
    keys = {"mitre_tactics_ids_and_names", "tactics", "category"}
    seen = []
    for name in ("cortex_xdr", "microsoft_sentinel", "m365_defender"):
        for line in (REALDATA / "vendor" / name / "incidents.ndjson").read_text(encoding="utf-8").splitlines():
            if line.strip():
                seen.extend(v for v in _walk(json.loads(line), keys) if isinstance(v, str))
    assert {"TA0010 - Exfiltration", "InitialAccess", "DefenseEvasion"} <= set(seen)
    assert {v: normalise_tactic(v) for v in seen if normalise_tactic(v) is None} == {}


def test_tactic_id():
    assert tactic_id("Defense Evasion") == "TA0005"
    assert tactic_id("Command and Control") == "TA0011"
    assert tactic_id("Exfiltration") == "TA0010"
    assert tactic_id("Stealth") is None  # no TA id in the sources
    assert tactic_id("Defense Impairment") is None
    assert tactic_id("nonsense") is None
