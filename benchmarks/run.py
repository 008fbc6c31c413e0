"""Benchmark: load N incidents in bulk, then time what the pages, the CLI and the API ask of the database.

    python -m benchmarks.run --rows 1000000 [--db URL] [--json results.json] [--repeat 20]

Without --db it uses a fresh DuckDB file in a temporary folder; with --db the database must be empty. The data
is the demo's at scale (see benchmarks/generate.py). Every timed operation runs once to warm up, then
--repeat times; p50 and p95 are reported in milliseconds. The bulk loader and `naive_list` (the whole tenant
read into pandas) run in child processes, so that their memory (`load.loader_peak_rss_mb`,
`naive_peak_rss_mb`) is told apart from the `peak_rss_mb` of the process that runs the operations, the
pages and the import. When the real ServiceNow log is present (../shared/realdata), its import
(120k events, 20,769 incidents, into another tenant of the same database) is timed once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlalchemy import select, text

from benchmarks import generate
from core import incidents as svc
from core.config import DatabaseTarget
from core.db import create_engine_for, ensure_schema, is_empty
from core.lifecycle import OPEN_STATUSES, SEVERITIES
from core.models import incidents
from core.stats import incident_stats
from core.users import add_user

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
SERVICENOW = ROOT.parent / "shared" / "realdata" / "servicenow" / "incident_event_log.csv"
TENANT = "acme"
LEAD = "demo.manager"  # the demo's acme manager
PAGE = 25  # what the list page shows


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _timed(run: Callable[[], object], repeat: int) -> dict:
    run()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2)}


def _operations(engine, url: str) -> dict[str, Callable[[], object]]:
    open_filter = svc.IncidentFilter(status=OPEN_STATUSES)
    first = svc.list_incidents(engine, tenant=TENANT, filters=open_filter, limit=1)
    incident_id = first.items[0].id
    analyst = svc.list_incidents(engine, tenant=TENANT, filters=open_filter, sort="newest", limit=1).items[0]
    last_page = (first.total - 1) // PAGE * PAGE
    ioc = first.items[0].iocs[0]["value"] if first.items[0].iocs else "198.51.100.17"

    def listing(**filters) -> Callable[[], object]:
        return lambda: svc.list_incidents(engine, tenant=TENANT, filters=svc.IncidentFilter(**filters), limit=PAGE)

    return {
        "list_default": listing(status=OPEN_STATUSES),
        "list_severity": listing(severity=("critical", "high")),
        "list_status_severity": listing(status=("investigating",), severity=("high",)),
        "list_tactic": listing(tactic="Credential Access"),
        "list_search": listing(search=ioc),
        "list_assignee": listing(assignee=analyst.assigned_to or LEAD),
        "list_last_page": lambda: svc.list_incidents(
            engine, tenant=TENANT, filters=open_filter, limit=PAGE, offset=last_page
        ),
        "detail": lambda: svc.get_detail(engine, tenant=TENANT, incident_id=incident_id),
        "transition": lambda: _transition(engine, incident_id),
        "stats": lambda: incident_stats(engine, tenant=TENANT),
        "raw_sql_list": lambda: _raw_sql_list(engine),
        "page_list": lambda: _page(url, "views/incidents.py"),
        "page_stats": lambda: _page(url, "views/statistics.py"),
    }


def _transition(engine, incident_id: str) -> None:
    """One status change (and back, so every run moves the same incident the same way)."""
    current = svc.get_incident(engine, tenant=TENANT, incident_id=incident_id)
    target = "containment" if current.status != "containment" else "investigating"
    svc.transition(engine, tenant=TENANT, actor=LEAD, incident_id=incident_id, status=target)


def _raw_sql_list(engine) -> list:
    """list_default written by hand on the same connection pool: the same columns, filter, order and page."""
    columns = ", ".join(svc.INCIDENT_FIELDS)
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    rank = " ".join(f"WHEN severity = '{s}' THEN {i}" for i, s in enumerate(SEVERITIES))
    where = f"tenant_id = :t AND status IN ({statuses})"
    with engine.connect() as conn:
        total = conn.execute(text(f"SELECT count(*) FROM incidents WHERE {where}"), {"t": TENANT}).scalar()
        rows = conn.execute(
            text(
                f"SELECT {columns} FROM incidents WHERE {where} "
                f"ORDER BY CASE {rank} ELSE 5 END, created_at, id LIMIT {PAGE}"
            ),
            {"t": TENANT},
        ).all()
    return [total, rows]


def _page(url: str, page: str) -> None:
    """A full AppTest run of a dashboard page on this database, signed in as the tenant's lead, with the
    query caches emptied first (the engine stays open, as in a running server)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    os.environ["INCIDENTS_DATABASE_URL"] = url
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.session_state["principal"] = {"tenant": TENANT, "username": LEAD, "display_name": "Lead", "role": "manager"}
    app.run()
    if page != "views/incidents.py":
        app.switch_page(page).run()
    if app.exception:
        raise RuntimeError(f"{page} failed: {app.exception[0].message}")


def naive_list(url: str) -> pd.DataFrame:
    """What a typical Streamlit app does: read the tenant's incidents into pandas, then filter, sort, page."""
    engine = create_engine_for(DatabaseTarget(url, "argument"))
    with engine.connect() as conn:
        frame = pd.read_sql(select(incidents).where(incidents.c.tenant_id == TENANT), conn)
    engine.dispose()
    open_rows = frame[frame["status"].isin(OPEN_STATUSES)]
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return open_rows.assign(rank=open_rows["severity"].map(order)).sort_values(["rank", "created_at", "id"]).head(PAGE)


def _child_load(url: str, rows: int, seed: int) -> dict:
    engine = create_engine_for(DatabaseTarget(url, "argument"))
    try:
        return generate.load(engine, rows, seed=seed)
    finally:
        engine.dispose()


def _child_naive(url: str, repeat: int) -> dict:
    return _timed(lambda: naive_list(url), repeat)


def _in_child(job: str, *args) -> dict:
    """Run `load` or `naive` in a child process, so that its memory is told apart from the benchmark's;
    returns its result with the child's peak RSS as `peak_rss_mb`."""
    code = (
        "import json, resource, sys; from benchmarks import run; "
        f"result = run._child_{job}(*json.loads(sys.argv[1])); "
        "result['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024; "
        "print(json.dumps(result))"
    )
    done = subprocess.run([sys.executable, "-c", code, json.dumps(args)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the {job} child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _import_servicenow(engine) -> dict | None:
    from core.importers import import_paths

    if not SERVICENOW.is_file():
        return None
    add_user(engine, tenant="bench-import", username="bench.importer", role="manager")
    start = time.perf_counter()
    report = import_paths(engine, tenant="bench-import", actor="bench.importer", paths=[SERVICENOW])
    seconds = time.perf_counter() - start
    if report.rejected or report.created != 20_769:
        raise RuntimeError(f"ServiceNow import: {report.summary()}")
    return {"seconds": round(seconds, 2), "incidents": report.created}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--db", help="URL of an empty database (default: a fresh DuckDB file)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    url = args.db or f"duckdb:///{Path(tempfile.mkdtemp(prefix='bench-')) / 'bench.duckdb'}"
    engine = create_engine_for(DatabaseTarget(url, "argument"))
    ensure_schema(engine)
    if not is_empty(engine):
        parser.error(f"{DatabaseTarget(url, 'argument').masked} is not empty: the benchmark loads its own data")
    engine.dispose()  # the loader runs in a child process (DuckDB lets one process open the file)
    start = time.perf_counter()
    loaded = _in_child("load", url, args.rows, args.seed)
    load_s = time.perf_counter() - start
    engine = create_engine_for(DatabaseTarget(url, "argument"))
    phases = ", ".join(f"{name.removesuffix('_s')} {seconds} s" for name, seconds in loaded["phases"].items())
    print(f"loaded {loaded['incidents']:,} incidents and {loaded['events']:,} events in {load_s:.1f} s ({phases})")
    peaks = {}

    timed = {}
    for name, run in _operations(engine, url).items():
        timed[name] = _timed(run, args.repeat)
        print(f"  {name:<22} p50 {timed[name]['p50_ms']:>9.2f} ms   p95 {timed[name]['p95_ms']:>9.2f} ms", flush=True)
    peaks["after_operations"] = _peak_mb()
    timed["load"] = {
        "rows_per_s": round(args.rows / load_s),
        "seconds": round(load_s, 1),
        "events": loaded["events"],
        **loaded["phases"],
        "loader_peak_rss_mb": loaded["peak_rss_mb"],
    }
    imported = _import_servicenow(engine)
    if imported:
        timed["import_servicenow"] = imported
        print(f"  import_servicenow      {imported['seconds']:.1f} s ({imported['incidents']:,} incidents)")
    peaks["after_import"] = peak_mb = _peak_mb()
    dialect = engine.dialect.name
    engine.dispose()
    import streamlit as st

    st.cache_resource.clear()  # the pages' engine too: DuckDB lets one process open the file

    timed["naive_list"] = _in_child("naive", url, max(3, args.repeat // 4))
    naive_peak = timed["naive_list"].pop("peak_rss_mb")
    naive = timed["naive_list"]
    print(f"  {'naive_list':<22} p50 {naive['p50_ms']:>9.2f} ms   p95 {naive['p95_ms']:>9.2f} ms")
    report = {
        "rows": args.rows,
        "db": dialect,
        "results": timed,
        "peak_rss_mb": peak_mb,
        "peak_rss_mb_by_phase": peaks,
        "naive_peak_rss_mb": naive_peak,
    }
    floor = timed["raw_sql_list"]["p50_ms"]
    print(
        f"{args.rows:,} incidents on {dialect}: load {timed['load']['rows_per_s']:,} rows/s; peak RSS {peak_mb} MB "
        f"(naive list {naive_peak} MB); list_default is {timed['list_default']['p50_ms'] / floor:.2f}× the raw SQL "
        f"and {naive['p50_ms'] / timed['list_default']['p50_ms']:.0f}× faster than the naive list"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
