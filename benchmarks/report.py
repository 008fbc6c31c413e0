"""The results table of docs/benchmarks.md from benchmark JSON files, one column per database.

python -m benchmarks.report duckdb.json postgresql.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: name -> (what it is, target p95 in ms per database, or None)
OPERATIONS = {
    "list_default": ("open incidents, most severe and oldest first, first page and total", 100, 100),
    "list_severity": ("critical and high", 100, 100),
    "list_status_severity": ("investigating and high", 100, 100),
    "list_tactic": ("one ATT&CK tactic", 100, 100),
    "list_search": ("free text (an IOC value)", 100, 100),
    "list_assignee": ("one analyst", 100, 100),
    "list_last_page": ("the last page of the open incidents", 100, 100),
    "detail": ("an incident with its timeline", 100, 100),
    "transition": ("one status change", 100, 100),
    "stats": ("everything the statistics page needs, all time", 300, 500),
    "raw_sql_list": ("list_default written by hand in SQL (the floor)", None, None),
    "naive_list": ("the tenant read into pandas, filtered and paged there", None, None),
    "page_list": ("AppTest run of the incidents page, caches emptied", 1000, 1000),
    "page_stats": ("AppTest run of the statistics page (90 days), caches emptied", 1500, 1500),
}


def _cell(figures: dict | None, target: int | None) -> str:
    if not figures:
        return "–"
    mark = "" if target is None else (" ✓" if figures["p95_ms"] <= target else " ✗")
    return f"{figures['p50_ms']:,.1f} / {figures['p95_ms']:,.1f}{mark}"


def table(reports: list[dict]) -> str:
    databases = [report["db"] for report in reports]
    lines = [
        "| operation | | " + " | ".join(f"{db} p50 / p95 ms" for db in databases) + " |",
        "|---|---|" + "---|" * len(reports),
    ]
    for name, (what, *targets) in OPERATIONS.items():
        cells = []
        for report in reports:
            target = targets[0] if report["db"] == "duckdb" else targets[1]
            cells.append(_cell(report["results"].get(name), target))
        lines.append(f"| `{name}` | {what} | " + " | ".join(cells) + " |")
    rows = {
        "incidents / timeline events": lambda r: f"{r['rows']:,} / {r['results']['load']['events']:,}",
        "load (target ≤ 60 s)": lambda r: f"{_load(r)['seconds']} s ({_load(r)['rows_per_s']:,}/s)",
        "load phases (seconds)": lambda r: ", ".join(
            f"{name.removesuffix('_s')} {value}"
            for name, value in _load(r).items()
            if name.endswith("_s") and name != "rows_per_s"
        ),
        "ServiceNow import (target ≤ 20 s)": lambda r: (
            f"{r['results'].get('import_servicenow', {}).get('seconds', '–')} s"
        ),
        "list_default vs raw SQL (≤ 1.5×)": lambda r: _ratio(r, "list_default", "raw_sql_list"),
        "naive vs list_default (≥ 20×)": lambda r: _ratio(r, "naive_list", "list_default"),
        "peak RSS (target ≤ 600 MB)": lambda r: f"{r['peak_rss_mb']} MB",
        "peak RSS of the loader / naive list": lambda r: (
            f"{r['results']['load'].get('loader_peak_rss_mb', '–')} / {r.get('naive_peak_rss_mb', '–')} MB"
        ),
    }
    lines += ["", "| | " + " | ".join(databases) + " |", "|---|" + "---|" * len(reports)]
    for label, value in rows.items():
        lines.append(f"| {label} | " + " | ".join(value(report) for report in reports) + " |")
    return "\n".join(lines) + "\n"


def _load(report: dict) -> dict:
    return report["results"]["load"]


def _ratio(report: dict, top: str, bottom: str) -> str:
    results = report["results"]
    return f"{results[top]['p50_ms'] / results[bottom]['p50_ms']:.2f}×"


if __name__ == "__main__":
    sys.stdout.write(table([json.loads(Path(path).read_text()) for path in sys.argv[1:]]))
